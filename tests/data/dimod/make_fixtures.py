#!/usr/bin/env python3
"""Writes the dimod fixtures of qasa's dimod-reader tests with the real dimod package.

Usage: python make_fixtures.py [OUT_DIR]   (default: this script's directory)

Every file is `json.dump` of `dimod.SampleSet.to_serializable(...)` output, made from seeded NumPy draws
of single-qubit Gibbs samples (p_down = (1 + tanh(beta h)) / 2, a positive h favours s = -1) on the
8 qubits of a Chimera C(1,1,4) cell (qubits 0..7, couplers between 0-3 and 4-7), so that the expected
counts are known exactly from the same draws (written beside them as `*.expected.json`):

* `single_packed.json`: one sample set, packed (the default), energies E = h sum(s), num_occurrences
  from aggregation (dimod `SampleSet.aggregate()`), integer labels;
* `list_unpacked_strings.json`: a list of {"h": H, "sampleset": ...} over 5 fields, unpacked SPIN samples
  (`pack_samples=False`), string labels ("0" ... "7"), two calls per h (so two per-call blocks);
* `list_binary.json`: the same fields as BINARY samples (x = (1 + s)/2), packed;
* `pair_correlated.json`: qubits 0 and 4 (a coupler) always agree, the others independent, h = 0.

CI writes them afresh into a temporary folder with the installed dimod and runs the reader tests on them
(`QASA_DIMOD_FIXTURES=DIR cargo test --test it analysis::dimod`).
"""

import json
import os
import sys

import dimod
import numpy as np

QUBITS = list(range(8))
BETA = 6.0


def draws(rng, h, reads):
    p_down = 0.5 * (1.0 + np.tanh(BETA * h))
    return np.where(rng.random((reads, len(QUBITS))) < p_down, -1, 1).astype(np.int8)


def spin_set(spins, h, labels=QUBITS, aggregate=False):
    energy = h * spins.sum(axis=1)
    ss = dimod.SampleSet.from_samples((spins, labels), dimod.SPIN, energy=energy)
    return ss.aggregate() if aggregate else ss


def expected(entries):
    """Down counts per (h, qubit) and agree counts on the coupler (0, 4)."""
    out = {}
    for h, spins in entries:
        key = repr(float(h))
        e = out.setdefault(key, {"reads": 0, "down": [0] * len(QUBITS), "agree_0_4": 0})
        e["reads"] += int(spins.shape[0])
        e["down"] = [a + int(b) for a, b in zip(e["down"], (spins < 0).sum(axis=0))]
        e["agree_0_4"] += int((spins[:, 0] == spins[:, 4]).sum())
    return out


def write(out_dir, name, doc, exp):
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump(doc, f)
        f.write("\n")
    with open(os.path.join(out_dir, name + ".expected.json"), "w") as f:
        json.dump(exp, f, indent=1, sort_keys=True)
        f.write("\n")


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(2026)

    spins = draws(rng, 0.05, 400)
    write(out_dir, "single_packed", spin_set(spins, 0.05, aggregate=True).to_serializable(),
          expected([(0.05, spins)]))

    fields = [-0.2, -0.05, 0.0, 0.05, 0.2]
    entries, doc = [], []
    for h in fields:
        for _ in range(2):
            s = draws(rng, h, 300)
            entries.append((h, s))
            ss = spin_set(s, h, labels=[str(q) for q in QUBITS])
            doc.append({"h": h, "sampleset": ss.to_serializable(pack_samples=False)})
    write(out_dir, "list_unpacked_strings", doc, expected(entries))

    entries, doc = [], []
    for h in fields:
        s = draws(rng, h, 250)
        entries.append((h, s))
        binary = dimod.SampleSet.from_samples(((s + 1) // 2, QUBITS), dimod.BINARY, energy=np.zeros(len(s)))
        doc.append({"h": h, "sampleset": binary.to_serializable()})
    write(out_dir, "list_binary", doc, expected(entries))

    s = draws(rng, 0.0, 1000)
    s[:, 4] = s[:, 0]
    doc = [{"h": 0.0, "sampleset": spin_set(s, 0.0).to_serializable()}]
    write(out_dir, "pair_correlated", doc, expected([(0.0, s)]))


if __name__ == "__main__":
    main()
