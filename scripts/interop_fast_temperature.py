#!/usr/bin/env python3
"""Interop check: dwave-system's own temperature estimator against qasa's pooled estimate.

Usage:
    python3 -m venv /tmp/qasa-venv && /tmp/qasa-venv/bin/pip install dwave-system
    /tmp/qasa-venv/bin/python scripts/interop_fast_temperature.py target/release/qasa [--seed 7] [--runs 6]

Starts `qasa serve --port 0` (a virtual Advantage, perfect P16 graph, device seed SEED) as a subprocess,
reads the base URL from the first stdout line, and runs dwave-system's
`dwave.system.temperatures.fast_effective_temperature` unmodified on a `DWaveSampler` pointed at it, RUNS
times with different seeds (one random h per qubit in ±1/6.1, 1000 reads, the served default anneal time of
20 µs). The spread of those runs is the error of one run.

Then it simulates a sweep of the same virtual chip with `qasa simulate` (same device seed, 20 µs, h in
±1 in steps of 0.02, 2·10^4 reads per h), fits it, analyses it and reads the pooled
`fast_effective_temperature`-style estimate from `analysis.json` (`pooled_temperature`). The two must agree
within errors: |T_qasa − mean T_dwave| ≤ 3 sqrt(se_qasa² + sd_dwave²/RUNS + design²), where `design` is the
spread of T_dwave between runs (each run draws its own h per qubit, and a single pooled T depends on which
qubit got which h: this is part of what one number hides). Prints both, exits 0 when they agree, 1 with a
message otherwise.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_official_client import TOKEN, Served, fail  # noqa: E402  (the same `qasa serve` harness)


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"`{' '.join(cmd)}` exited {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def dwave_temperatures(url, runs):
    from dwave.system import DWaveSampler
    from dwave.system.temperatures import fast_effective_temperature

    sampler = DWaveSampler(endpoint=url, token=TOKEN)
    print(f"ok: DWaveSampler on {sampler.solver.name}, {len(sampler.nodelist)} qubits")
    temps = []
    for seed in range(runs):
        t, _ = fast_effective_temperature(sampler, seed=seed)
        temps.append(float(t))
        print(f"  fast_effective_temperature(seed={seed}) = {t:.5f}")
    sampler.client.close()
    return temps


def qasa_pooled(qasa, seed, work):
    sweep = os.path.join(work, "run.sweep.json")
    fit = os.path.join(work, "fit.json")
    out = os.path.join(work, "analysis.json")
    run([qasa, "simulate", "--topology", "advantage", "--seed", str(seed), "--anneal-time-us", "20",
         "--h-max", "1.0", "--h-step", "0.02", "--reads", "20000", "--quiet", "--out", sweep])
    run([qasa, "fit", sweep, "-o", fit, "--quiet", "--profile", "none"])
    run([qasa, "analyze", fit, "--sweep", sweep, "-o", out, "--permutations", "0"])
    with open(out) as f:
        a = json.load(f)
    return a["pooled_temperature"], a["meta"]["beta_median"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("qasa", help="path to the qasa binary")
    ap.add_argument("--seed", type=int, default=7, help="device seed of the virtual chip")
    ap.add_argument("--runs", type=int, default=6, help="fast_effective_temperature runs")
    args = ap.parse_args()

    served = Served(args.qasa, ["--seed", str(args.seed)])
    try:
        temps = dwave_temperatures(served.url, args.runs)
    finally:
        served.stop()
    mean = statistics.fmean(temps)
    sd = statistics.stdev(temps) if len(temps) > 1 else 0.0
    with tempfile.TemporaryDirectory() as work:
        pooled, beta_median = qasa_pooled(args.qasa, args.seed, work)
    if pooled is None:
        fail("qasa's analysis has no pooled_temperature")
    tq, seq = pooled["temperature"], pooled["temperature_se"]
    tol = 3.0 * math.sqrt(seq ** 2 + sd ** 2 / len(temps) + sd ** 2)
    print(f"dwave-system fast_effective_temperature: T = {mean:.5f} (sd of one run {sd:.5f}, {len(temps)} runs)")
    print(f"qasa pooled estimate (|h| <= {pooled['h_max']:.4f}, {pooled['n_qubits']} qubits, {pooled['n_h']} h): "
          f"T = {tq:.5f} ± {seq:.5f} (β = {pooled['beta']:.4f}); per-qubit median β {beta_median:.4f} "
          f"→ 1/β = {1 / beta_median:.5f}")
    diff = tq - mean
    print(f"difference {diff:+.5f}, tolerance {tol:.5f}")
    if abs(diff) > tol:
        fail(f"qasa's pooled T {tq:.5f} and dwave-system's {mean:.5f} differ by more than {tol:.5f}")
    print("ok: pooled temperatures agree")


if __name__ == "__main__":
    main()
