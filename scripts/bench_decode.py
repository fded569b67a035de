#!/usr/bin/env python3
"""Time the official dwave-cloud-client qp decoder (NumPy path) + NumPy counting on a 5,640-qubit x 10,000-read
answer, for comparison with `cargo bench --bench sapi`.

    /tmp/qasa-venv/bin/python scripts/bench_decode.py [--out /tmp/qasa-bench-answer.json] [--reps 5]
    QASA_BENCH_PAYLOAD=/tmp/qasa-bench-answer.json cargo bench --bench sapi

The payload (seeded random bits, one row per read, num_occurrences all 1) is written to --out so the Rust
benchmark decodes exactly the same bytes. Throughput is over the base64 `solutions` text, like the Rust bench.
"""
import argparse
import base64
import copy
import json
import struct
import time

import numpy as np
from dwave.cloud.coders import decode_qp_numpy

N_ACTIVE, N_READS, N_QUBITS = 5640, 10_000, 5760


def make_payload(seed=2026):
    rng = np.random.default_rng(seed)
    packed = rng.integers(0, 256, size=(N_READS, (N_ACTIVE + 7) // 8), dtype=np.uint8)
    active = list(range(N_ACTIVE))
    return {
        "format": "qp",
        "num_variables": N_QUBITS,
        "active_variables": base64.b64encode(struct.pack("<%di" % N_ACTIVE, *active)).decode(),
        "energies": base64.b64encode(struct.pack("<%dd" % N_READS, *[-float(i) for i in range(N_READS)])).decode(),
        "num_occurrences": base64.b64encode(struct.pack("<%di" % N_READS, *([1] * N_READS))).decode(),
        "solutions": base64.b64encode(packed.tobytes()).decode(),
        "timing": {},
    }


def decode_and_count(answer):
    """Official decoder, then weighted counts of s = -1 per qubit: one float32 GEMV (exact below 2^24 reads),
    the fastest NumPy formulation we found (int64 matmul and column selection first were 5-10x slower)."""
    r = decode_qp_numpy({"type": "ising", "answer": copy.copy(answer)}, return_matrix=True)
    sol = r["solutions"]
    occ = r.get("num_occurrences")
    occ = np.ones(sol.shape[0], np.float32) if occ is None else occ.astype(np.float32)
    down_all = occ @ (sol == -1).astype(np.float32)
    down = down_all[r["active_variables"]].astype(np.int64)
    return down, int(occ.sum())


def best_of(fn, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), sorted(times)[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="/tmp/qasa-bench-answer.json")
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    answer = make_payload()
    text = json.dumps(answer)
    with open(a.out, "w") as f:
        f.write(text)
    mb = len(answer["solutions"]) / 1e6
    down, reads = decode_and_count(answer)
    assert reads == N_READS and down.shape == (N_ACTIVE,)
    best, med = best_of(lambda: decode_and_count(answer), a.reps)
    print(f"payload: {a.out} ({mb:.2f} MB base64 solutions)")
    print(f"official decode_qp_numpy + numpy counts: best {best*1e3:.1f} ms, median {med*1e3:.1f} ms, "
          f"{mb/best:.1f} MB/s")
    best2, med2 = best_of(lambda: decode_and_count(json.loads(text)), a.reps)
    print(f"json.loads + decode + counts:            best {best2*1e3:.1f} ms, median {med2*1e3:.1f} ms, "
          f"{mb/best2:.1f} MB/s")


if __name__ == "__main__":
    main()
