#!/usr/bin/env python3
"""Open a qasa report.html in headless Chromium and check it as a reader would get it.

Usage: check_report_browser.py REPORT.html [--screenshot OUT.png] [--pdf OUT.pdf] [--chromium PATH]

Drives Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe; Python standard library only),
with a fresh profile, no sandbox, no GPU and no network. Fails (exit 1, one line per problem) when:
- the page logs a console error or throws an exception;
- the page requests anything that is not the file itself or inline data (it must be self-contained);
- a figure has zero width or height, or the page has no figure at all.
Writes a screenshot of the first screen (1366 x 900, a laptop) and, beside it, one of the whole page
(`*-full.png`) and one per section (`*-NN-<id>.png`), and with --pdf the printed page (checks that printing
works).
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import select
import tempfile
import time

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--disable-default-apps", "--no-default-browser-check",
    "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>", "--hide-scrollbars",
    "--remote-debugging-pipe",
]


class Browser:
    def __init__(self, chromium, profile):
        read_cmd, self.write_fd = os.pipe()   # we write commands, chromium reads fd 3
        self.read_fd, write_res = os.pipe()   # chromium writes fd 4, we read
        def setup():
            # Move both ends out of the way first: a pipe end may already be fd 3 or 4.
            a, b = os.dup(read_cmd), os.dup(write_res)
            os.dup2(a, 3)  # dup2 makes the copies inheritable across exec
            os.dup2(b, 4)
        self.proc = subprocess.Popen(
            [chromium, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=setup)
        os.close(read_cmd)
        os.close(write_res)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None, timeout=60):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.write_fd, json.dumps(msg).encode() + b"\0")
        while True:
            m = self.receive(timeout)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def receive(self, timeout):
        deadline = time.time() + timeout
        while b"\0" not in self.buf:
            if time.time() > deadline:
                raise TimeoutError("no answer from chromium")
            ready, _, _ = select.select([self.read_fd], [], [], 1.0)
            if ready:
                chunk = os.read(self.read_fd, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the pipe")
                self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        return json.loads(raw)

    def wait_event(self, method, timeout=60):
        deadline = time.time() + timeout
        while True:
            for e in self.events:
                if e.get("method") == method:
                    return e
            self.events.append(self.receive(max(0.1, deadline - time.time())))

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


FIGURES_JS = """JSON.stringify({
  figures: Array.from(document.querySelectorAll('figure')).map(f => {
    const s = f.querySelector('svg'); const r = (s || f).getBoundingClientRect();
    return {id: f.id, svg: !!s, width: r.width, height: r.height};
  }),
  height: document.documentElement.scrollHeight,
  width: document.documentElement.scrollWidth,
  title: document.title
})"""


SECTIONS_JS = """JSON.stringify((() => {
  const hs = Array.from(document.querySelectorAll('h2[id]'));
  const end = document.documentElement.scrollHeight;
  return hs.map((h, i) => {
    const top = h.getBoundingClientRect().top + window.scrollY;
    const next = i + 1 < hs.length ? hs[i + 1].getBoundingClientRect().top + window.scrollY : end;
    return {id: h.id, top: Math.max(0, top - 8), height: Math.max(1, next - top)};
  });
})())"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("html")
    ap.add_argument("--screenshot", default="target/report-screenshot.png")
    ap.add_argument("--pdf")
    ap.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser")
                    or "chromium")
    args = ap.parse_args()
    url = "file://" + os.path.abspath(args.html)
    problems = []
    with tempfile.TemporaryDirectory(prefix="qasa-chromium-") as profile:
        b = Browser(args.chromium, profile)
        try:
            target = b.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = b.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                b.send(f"{domain}.enable", session=session)
            b.send("Emulation.setDeviceMetricsOverride",
                   {"width": 1366, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=session)
            b.events.clear()
            b.send("Page.navigate", {"url": url}, session=session)
            b.wait_event("Page.loadEventFired")
            time.sleep(0.5)
            info = json.loads(b.send("Runtime.evaluate", {"expression": FIGURES_JS, "returnByValue": True},
                                     session=session)["result"]["value"])
            for e in b.events:
                m, p = e.get("method"), e.get("params", {})
                if m == "Runtime.exceptionThrown":
                    problems.append(f"exception: {p.get('exceptionDetails', {}).get('text')}")
                elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                    problems.append(f"console error: {p.get('args')}")
                elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                    problems.append(f"log error: {p['entry'].get('text')} {p['entry'].get('url', '')}")
                elif m == "Network.requestWillBeSent":
                    req = p.get("request", {}).get("url", "")
                    if not (req == url or req.startswith("data:") or req.startswith("about:")):
                        problems.append(f"external request: {req}")
            figs = info["figures"]
            if not figs:
                problems.append("the page has no figure")
            for f in figs:
                if not f["svg"]:
                    problems.append(f"figure {f['id']} has no inline SVG")
                if not (f["width"] > 0 and f["height"] > 0):
                    problems.append(f"figure {f['id']} has size {f['width']} x {f['height']}")
            shot = b.send("Page.captureScreenshot", {"format": "png"}, session=session)
            os.makedirs(os.path.dirname(os.path.abspath(args.screenshot)), exist_ok=True)
            with open(args.screenshot, "wb") as fh:
                fh.write(base64.b64decode(shot["data"]))
            full = b.send("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": 1366, "height": min(info["height"], 16000), "scale": 1}},
                session=session)
            root, ext = os.path.splitext(args.screenshot)
            with open(root + "-full" + ext, "wb") as fh:
                fh.write(base64.b64decode(full["data"]))
            sections = json.loads(b.send("Runtime.evaluate", {"expression": SECTIONS_JS, "returnByValue": True},
                                         session=session)["result"]["value"])
            for i, sec in enumerate(sections):
                part = b.send("Page.captureScreenshot", {
                    "format": "png", "captureBeyondViewport": True,
                    "clip": {"x": 0, "y": sec["top"], "width": 1366, "height": min(sec["height"], 4000), "scale": 1}},
                    session=session)
                with open(f"{root}-{i:02d}-{sec['id']}{ext}", "wb") as fh:
                    fh.write(base64.b64decode(part["data"]))
            if args.pdf:
                pdf = b.send("Page.printToPDF", {"printBackground": True}, session=session, timeout=120)
                data = base64.b64decode(pdf["data"])
                if not data.startswith(b"%PDF"):
                    problems.append("printing gave no PDF")
                with open(args.pdf, "wb") as fh:
                    fh.write(data)
        finally:
            b.close()
    sizes = ", ".join(f"{f['id']} {f['width']:.0f}x{f['height']:.0f}" for f in figs)
    print(f"{args.html}: {len(figs)} figures ({sizes}); page {info['width']} x {info['height']} px; "
          f"screenshot {args.screenshot}")
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
