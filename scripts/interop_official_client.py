#!/usr/bin/env python3
"""Interop check: D-Wave's official Python client (dwave-cloud-client) against `qasa serve`.

Usage:
    python3 -m venv /tmp/qasa-venv && /tmp/qasa-venv/bin/pip install dwave-cloud-client numpy
    /tmp/qasa-venv/bin/python scripts/interop_official_client.py target/debug/qasa \
        [--solver-file PATH_TO/Advantage_system4_1.solver.json.gz]

Starts `qasa serve --port 0` as a subprocess three times (answering problems inline; slow, with long
polling, a 429 on every problem's first poll and a ledger; slow, with every problem failing), reads the
base URL from the first stdout line, and drives it with `dwave.cloud.Client`: solver fetch, sample_ising /
sample_qubo with J = 0 (raw and histogram answers, a few qubits and the whole chip), energies = sum h s,
occurrences summing to num_reads, long polling, a 429 + Retry-After retried by the client, a bad token, a
rejected coupling, region discovery through the Metadata API, the low-level dwave.cloud.api resources, the
ledger, a problem that ends FAILED and a cancelled PENDING problem. Exits 0 when every check passes, 1 with
a message otherwise.
"""

import argparse
import base64
import hashlib
import json
import os
import random
import struct
import subprocess
import sys
import tempfile
import threading
import time

TOKEN = "interop-token"


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def default_solver_file():
    candidates = []
    if os.environ.get("QASA_SHARED_DATA"):
        candidates.append(os.environ["QASA_SHARED_DATA"])
    here = os.path.dirname(os.path.abspath(__file__))
    candidates += [os.path.join(here, "..", "..", "shared", "data"), "/work/shared/data"]
    for c in candidates:
        p = os.path.join(c, "solvers", "Advantage_system4_1.solver.json.gz")
        if os.path.isfile(p):
            return p
    fail(f"Advantage_system4_1.solver.json.gz not found under {candidates}; pass --solver-file")


class Served:
    """A `qasa serve` subprocess; `url` is the SAPI base URL from its first stdout line."""

    def __init__(self, binary, args):
        cmd = [binary, "serve", "--port", "0", "--token", TOKEN] + args
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = [None]

        def read():
            line[0] = self.proc.stdout.readline()

        t = threading.Thread(target=read, daemon=True)
        t.start()
        t.join(120)
        first = (line[0] or "").strip()
        if not first.startswith("listening on "):
            self.proc.kill()
            err = self.proc.stderr.read() if self.proc.stderr else ""
            fail(f"`{' '.join(cmd)}` did not print 'listening on URL' (got {first!r}); stderr: {err.strip()}")
        self.url = first[len("listening on "):]
        self.metadata = self.url.replace("/sapi/v2/", "/metadata/v1/")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def client(url, **kw):
    from dwave.cloud import Client

    kw.setdefault("token", TOKEN)
    return Client(endpoint=url, cache_enabled=False, request_timeout=60, **kw)


def check_answer(fut, h, num_reads, qubo=False, raw=False, what=""):
    """Shapes, energies = sum h s (or sum Q_ii x_i), occurrences summing to num_reads."""
    variables = list(fut.variables)
    check(sorted(variables) == sorted(h), f"{what}: active variables {variables[:5]}... != problem qubits")
    samples, energies, occ = fut.samples, list(fut.energies), list(fut.num_occurrences)
    check(len(samples) == len(energies) == len(occ), f"{what}: {len(samples)} samples, {len(energies)} energies, {len(occ)} occurrences")
    check(sum(occ) == num_reads, f"{what}: occurrences sum to {sum(occ)}, expected {num_reads}")
    if raw:
        check(len(samples) == num_reads and all(o == 1 for o in occ), f"{what}: raw answer needs one row per read")
    else:
        check(all(energies[i] <= energies[i + 1] for i in range(len(energies) - 1)), f"{what}: histogram not sorted by energy")
        check(len({tuple(int(s[q]) for q in h) for s in samples}) == len(samples), f"{what}: histogram rows not unique")
    values = (0, 1) if qubo else (-1, 1)
    for r, s in enumerate(samples):
        e = 0.0
        for q, hq in h.items():
            v = int(s[q])
            check(v in values, f"{what}: row {r} qubit {q} has value {v}, expected one of {values}")
            e += hq * v
        check(abs(e - energies[r]) < 1e-9 * max(1.0, abs(e)), f"{what}: row {r} energy {energies[r]} != sum h s = {e}")
    print(f"ok: {what}: {len(samples)} rows over {len(variables)} qubits, {num_reads} reads")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("qasa", help="path to the qasa binary")
    ap.add_argument("--solver-file", default=None)
    args = ap.parse_args()
    solver_file = args.solver_file or default_solver_file()
    try:
        from dwave.cloud import Client  # noqa: F401
        from dwave.cloud.exceptions import CanceledFutureError, SolverAuthenticationError, SolverFailureError
    except ImportError as e:
        fail(f"dwave-cloud-client is not installed in this Python ({sys.executable}): {e}")

    rng = random.Random(7)
    fast = Served(args.qasa, ["--solver-file", solver_file, "--seed", "3"])
    ledger = tempfile.NamedTemporaryFile(prefix="qasa-ledger-", suffix=".jsonl", delete=False).name
    slow = Served(args.qasa, ["--solver-file", solver_file, "--seed", "4", "--solve-time-ms", "300",
                              "--submit-wait-ms", "0", "--fail-first-poll", "--ledger", ledger])
    failing = Served(args.qasa, ["--solver-file", solver_file, "--seed", "5", "--solve-time-ms", "1500",
                                 "--submit-wait-ms", "0", "--problem-fail-rate", "1"])
    try:
        # 1. Solver definition.
        with client(fast.url) as c:
            solver = c.get_solver(name="Advantage_system4.1")
            check(solver.num_qubits == 5760, f"num_qubits {solver.num_qubits} != 5760")
            check(solver.num_active_qubits == 5627, f"num_active_qubits {solver.num_active_qubits} != 5627")
            check(solver.online, "solver is not online")
            print(f"ok: solver {solver.name} graph_id {solver.graph_id}, {solver.num_active_qubits} working qubits")
            qubits = sorted(solver.nodes)

            # 2. A few qubits, histogram (default), auto_scale off.
            h = {q: rng.uniform(-1, 1) for q in rng.sample(qubits, 40)}
            f = solver.sample_ising(h, {}, num_reads=200, auto_scale=False, label="interop-histogram")
            check_answer(f, h, 200, what="sample_ising histogram")
            t = f.timing
            check(t.get("qpu_access_time", 0) > t.get("qpu_sampling_time", 0) > 0, f"timing fields missing or inconsistent: {t}")
            print(f"ok: timing qpu_access_time={t['qpu_access_time']} us")

            # 3. Raw answer mode.
            f = solver.sample_ising(h, {}, num_reads=50, answer_mode="raw", auto_scale=False)
            check_answer(f, h, 50, raw=True, what="sample_ising raw")

            # 4. QUBO with a diagonal only.
            Q = {(q, q): rng.uniform(-1, 1) for q in rng.sample(qubits, 10)}
            f = solver.sample_qubo(Q, num_reads=100)
            check_answer(f, {q: v for (q, _), v in Q.items()}, 100, qubo=True, what="sample_qubo")

            # 5. Every working qubit at once (the QASA experiment), J = 0 on all couplers.
            hall = {q: 0.1 for q in qubits}
            f = solver.sample_ising(hall, {}, num_reads=100, auto_scale=False)
            check_answer(f, hall, 100, what="sample_ising all 5627 qubits")

            # 6. A non-zero coupling is refused with a clear message.
            u, v = next(iter(solver.edges))
            try:
                solver.sample_ising({u: 0.1, v: 0.1}, {(u, v): -1.0}, num_reads=10).result()
                fail("a non-zero coupling was accepted")
            except SolverFailureError as e:
                check("coupling" in str(e), f"coupling rejection message unclear: {e}")
                print(f"ok: coupling rejected: {e}")

        # 7a. The low-level resources (dwave.cloud.api): single-object compressed POST, status, answer, info,
        # messages, listing, and cancel of a finished problem (409).
        from dwave.cloud.api import Problems, models
        from dwave.cloud.api.exceptions import ResourceConflictError
        from dwave.cloud.config.models import ClientConfig

        cfg = ClientConfig(endpoint=fast.url, token=TOKEN, compress_qpu_problem_data=True)
        problems = Problems.from_config(cfg)
        lin_vals = [float("nan")] * len(qubits)
        lin_vals[0] = -1.0
        lin = base64.b64encode(struct.pack(f"<{len(lin_vals)}d", *lin_vals)).decode()
        st = problems.submit_problem(
            data=models.StructuredProblemData(format="qp", lin=lin, quad="", offset=0.0),
            params=dict(num_reads=3),
            solver=models.SolverIdentity(name=solver.name, version=dict(graph_id=solver.graph_id)),
            type="ising",
            label="interop-low-level",
        )
        check(str(st.status.value) == "COMPLETED", f"low-level submit status {st.status}")
        check(str(problems.get_problem(st.id).status.value) == "COMPLETED", "low-level get_problem")
        problems.get_problem_answer(st.id)
        problems.get_problem_info(st.id)
        check(problems.get_problem_messages(st.id) == [], "low-level messages not []")
        check(len(problems.list_problems(max_results=2)) == 2, "low-level list_problems(max_results=2)")
        try:
            problems.cancel_problem(st.id)
            fail("cancelling a finished problem succeeded")
        except ResourceConflictError:
            print("ok: low-level api: submit, get, answer, info, messages, list, cancel finished -> 409")

        # 7. Bad token.
        with client(fast.url, token="wrong") as c:
            try:
                c.get_solver(name="Advantage_system4.1")
                fail("a wrong token was accepted")
            except SolverAuthenticationError:
                print("ok: wrong token -> SolverAuthenticationError")

        # 8. Region discovery through the Metadata API.
        from dwave.cloud import Client

        with Client(region="eu-central-1", metadata_api_endpoint=fast.metadata, token=TOKEN, cache_enabled=False) as c:
            check(c.config.endpoint == fast.url, f"region endpoint {c.config.endpoint} != {fast.url}")
            check(c.get_solver(name="Advantage_system4.1").num_qubits == 5760, "solver via region endpoint")
            print(f"ok: region eu-central-1 -> {c.config.endpoint}")

        # 9. Long polling through IN_PROGRESS, with a 429 + Retry-After on every problem's first poll.
        with client(slow.url) as c:
            solver = c.get_solver(name="Advantage_system4.1")
            started = time.monotonic()
            futs = []
            hs = []
            for k in range(3):
                h = {q: rng.uniform(-1, 1) for q in rng.sample(qubits, 20)}
                hs.append(h)
                futs.append(solver.sample_ising(h, {}, num_reads=30, auto_scale=False, label=f"interop-poll-{k}"))
            for k, (f, h) in enumerate(zip(futs, hs)):
                check_answer(f, h, 30, what=f"long-polled problem {k} (after a 429 on its first poll)")
            elapsed = time.monotonic() - started
            # Retry-After is 1 s: a run faster than that never saw the injected 429.
            check(elapsed >= 1.0, f"long polling took {elapsed:.2f} s < Retry-After 1 s: the 429 was not exercised")
            print(f"ok: long polling with 429 + Retry-After retries finished in {elapsed:.1f} s")
            ids = {f.id for f in futs}

        # 10. Ledger: exactly the accepted problems of the slow server.
        with open(ledger) as fh:
            lines = [json.loads(l) for l in fh if l.strip()]
        check({l["id"] for l in lines} == ids, f"ledger ids {[l['id'] for l in lines]} != submitted {sorted(ids)}")
        check(all(l["num_reads"] == 30 and len(l["lin_sha256"]) == 64 for l in lines), f"ledger lines malformed: {lines}")
        # lin_sha256 is the SHA-256 of the lin bytes the client sent (float64 LE over properties.qubits, NaN unused).
        by_id = {l["id"]: l for l in lines}
        for f, h in zip(futs, hs):
            vals = [h.get(q, float("nan")) for q in qubits]
            want = hashlib.sha256(struct.pack(f"<{len(vals)}d", *vals)).hexdigest()
            check(by_id[f.id]["lin_sha256"] == want, f"ledger lin_sha256 of {f.id} does not match the lin sent")
        print(f"ok: ledger has exactly the {len(lines)} billed problems")
        # 11. A problem that ends FAILED, and a cancelled PENDING problem queued behind it.
        with client(failing.url) as c:
            solver = c.get_solver(name="Advantage_system4.1")
            h = {qubits[0]: 0.1}
            first = solver.sample_ising(h, {}, num_reads=10)
            first.wait_id(30)
            second = solver.sample_ising(h, {}, num_reads=10)
            second.wait_id(30)
            second.cancel()
            try:
                second.result()
                fail("a cancelled problem returned a result")
            except CanceledFutureError:
                print("ok: cancelled PENDING problem -> CanceledFutureError")
            try:
                first.result()
                fail("a problem injected to fail returned a result")
            except SolverFailureError as e:
                check("problem_fail_rate" in str(e), f"failure message does not say why: {e}")
                print(f"ok: FAILED problem -> SolverFailureError: {e}")
    finally:
        fast.stop()
        slow.stop()
        failing.stop()
        try:
            os.unlink(ledger)
        except OSError:
            pass
    print("interop with dwave-cloud-client: all checks passed")


if __name__ == "__main__":
    main()
