#!/usr/bin/env python3
"""qasa's QPU-access-time estimate against the official client's.

For every solver record given, and a grid of reads per call and anneal times, compares the per-call estimate
of `qasa plan --json` with dwave-cloud-client's `StructuredSolver.estimate_qpu_access_time(num_qubits,
num_reads=..., annealing_time=...)` for a call that programs every working qubit (as a QASA call does).
They must agree to 1e-9 relative. Records without `problem_timing_data` cannot be costed by the official
client (it raises KeyError); qasa's documented fallback is printed for them instead.

Combinations over the run-duration limit must be refused by qasa (exit 1) and are checked to be.

Usage: python scripts/estimate_official.py QASA_BINARY SOLVER_FILE [SOLVER_FILE ...]
"""

import gzip
import json
import subprocess
import sys

from dwave.cloud.solver import StructuredSolver

READS = [1, 10, 100, 1000, 10000]
ANNEAL_US = [0.5, 1.0, 5.0, 12.34, 20.0, 100.0, 1000.0, 2000.0]
TOLERANCE = 1e-9


def load(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        record = json.load(f)
    if isinstance(record, list):
        record = next(r for r in record if "qubits" in r.get("properties", {}))
    record.setdefault("identity", {"name": record.get("id")})
    return record


def qasa_estimate(binary, path, reads, anneal):
    cmd = [binary, "plan", "--solver-file", path, "--h-max", "0", "--h-step", "0.1",
           "--reads", str(2 * reads), "--reads-per-call", str(reads),
           "--anneal-time-us", repr(anneal), "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        return None, out.stderr.strip()
    summary = json.loads(out.stdout)
    (call,) = summary["call_estimates"]
    assert call["reads"] == reads, call
    return call["estimated_qpu_us"], summary["timing_model"]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary, files = sys.argv[1], sys.argv[2:]
    worst, compared, failures = 0.0, 0, []
    print(f"{'solver':<26} {'reads':>6} {'anneal µs':>9} {'official µs':>16} {'qasa µs':>16} {'rel. diff':>9}")
    for path in files:
        record = load(path)
        props = record["properties"]
        solver = StructuredSolver(client=None, data=record)
        m = len(props["qubits"])
        lo, hi = props.get("annealing_time_range", [0, float("inf")])
        limit = props.get("problem_run_duration_range", [0, float("inf")])[1]
        prog = props.get("default_programming_thermalization", 1000.0)
        ro_th = props.get("default_readout_thermalization", 0.0)
        for reads in READS:
            for anneal in ANNEAL_US:
                if not lo <= anneal <= hi:
                    continue
                ours, model = qasa_estimate(binary, path, reads, anneal)
                over = (anneal + ro_th) * reads + prog > limit
                if over:
                    if ours is not None or "problem_run_duration_range" not in model:
                        failures.append(f"{solver.name} {reads} reads at {anneal} µs: not refused ({model})")
                    continue
                if ours is None:
                    failures.append(f"{solver.name} {reads} reads at {anneal} µs: qasa failed: {model}")
                    continue
                try:
                    official = float(solver.estimate_qpu_access_time(m, num_reads=reads, annealing_time=anneal))
                except KeyError:
                    print(f"{solver.name:<26} {reads:>6} {anneal:>9g} {'(no timing data)':>16} {ours:>16.6f} {'fallback':>9}")
                    if model != "fallback_dw_2000q_6":
                        failures.append(f"{solver.name}: no problem_timing_data but qasa used {model}")
                    continue
                rel = abs(ours - official) / official
                worst = max(worst, rel)
                compared += 1
                print(f"{solver.name:<26} {reads:>6} {anneal:>9g} {official:>16.6f} {ours:>16.6f} {rel:>9.1e}")
                if rel > TOLERANCE:
                    failures.append(f"{solver.name} {reads} reads at {anneal} µs: {ours} vs {official}")
    print(f"compared {compared} estimates; largest relative difference {worst:.2e} (tolerance {TOLERANCE:g})")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
