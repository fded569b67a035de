#!/usr/bin/env python3
"""Compare a qasa fit (fit.json) with the virtual QPU's truth (truth.json). Python standard library only.

`qasa fit --truth truth.json` makes this comparison itself; this script is an independent computation of
the same numbers from the two files (the test suite checks that they agree).

For each parameter over the qubits whose fit did not fail: the bias (mean of fit - truth), the RMS error,
and the coverage of the fit's 95 % intervals (the fraction of qubits whose interval holds the true value;
about 0.95 when the errors are honest): the default robust intervals (`*_lo`, `*_hi`), and the
block-bootstrap ones when the fit ran with --bootstrap. Truth β is at the sweep's anneal time:
beta_ref x beta_time_factor.
Where the device had a readout flip ε > 0, the fitted γ also absorbs it (docs/model.md, identifiability), so
γ is compared with the γ that gives the same wrong-state floor: sqrt(1/(1-2ε_tot)^2 - 1).

    python3 scripts/compare_truth.py fit.json truth.json
"""

import json
import math
import sys


def truth_values(truth):
    """Per qubit id: (beta, b, gamma, eta) as the fit should see them."""
    factor = truth["beta_time_factor"]
    out = {}
    for q in truth["qubits"]:
        gamma = q["gamma"]
        eps = q.get("readout_flip", 0.0)
        if eps > 0:
            # floor (1 - 1/sqrt(1+g^2))/2 combined with a symmetric flip eps, mapped back to a gamma
            floor = (1 - 1 / math.sqrt(1 + gamma * gamma)) / 2
            total = floor + eps - 2 * floor * eps
            gamma = math.sqrt(max(1 / (1 - 2 * total) ** 2 - 1, 0.0))
        out[q["qubit"]] = (q["beta_ref"] * factor, q["b"], gamma, q["eta"])
    return out


def main(fit_path, truth_path):
    with open(fit_path) as f:
        fit = json.load(f)
    with open(truth_path) as f:
        truth = truth_values(json.load(f))
    names = ["beta", "b", "gamma", "eta"]
    rows = {n: [] for n in names}
    failed = missing = 0
    for q in fit["qubits"]:
        if q["status"]["kind"] == "failed":
            failed += 1
            continue
        if q["qubit"] not in truth:
            missing += 1
            continue
        true = truth[q["qubit"]]
        for n, t in zip(names, true):
            if q[n] is not None:
                boot = q.get("bootstrap") or {}
                rows[n].append(
                    (q[n], t, (q[n + "_lo"], q[n + "_hi"]), (boot.get(n + "_lo"), boot.get(n + "_hi")))
                )
    print(f"{fit_path} vs {truth_path}: {len(fit['qubits'])} qubits, {failed} failed, {missing} not in the truth")
    print(
        f"{'parameter':<10}{'qubits':>8}{'median true':>14}{'bias':>12}{'RMS error':>12}"
        f"{'coverage':>10}{'bootstrap':>11}"
    )
    for n in names:
        r = rows[n]
        if not r:
            continue
        err = [v - t for v, t, _, _ in r]
        bias = sum(err) / len(err)
        rms = math.sqrt(sum(e * e for e in err) / len(err))
        med = sorted(t for _, t, _, _ in r)[len(r) // 2]
        robust = coverage([(t, i) for _, t, i, _ in r])
        boot = coverage([(t, i) for _, t, _, i in r])
        print(f"{n:<10}{len(r):>8}{med:>14.5g}{bias:>12.3g}{rms:>12.3g}{robust:>10}{boot:>11}")


def coverage(pairs):
    """Fraction of (true value, (lo, hi)) pairs whose interval holds the value, or '-' without intervals."""
    held = [lo <= t <= hi for t, (lo, hi) in pairs if lo is not None and hi is not None]
    return f"{sum(held) / len(held):.3f}" if held else "-"

if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: compare_truth.py FIT_JSON TRUTH_JSON")
    main(sys.argv[1], sys.argv[2])
