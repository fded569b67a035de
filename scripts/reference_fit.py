#!/usr/bin/env python3
"""Independent SciPy reference fit of the QASA single-qubit model (docs/physics.md sections 2-3).

Reads a QASA spin_table.csv (header `h,samples,spin_<id>,...`; per row the field h, the reads per qubit
`samples`, and per qubit the number of reads with s = -1), divides counts row by row, and maximises per
qubit the count-form binomial log-likelihood

    l(theta) = sum_h [ k_h ln p_h + (N_h - k_h) ln(1 - p_h) ]   (no binomial coefficient)

with p_down = (1 + m)/2, m = 1/2 sum_{+-} (a/r) tanh(beta r), a = h + b +- eta, r = sqrt(a^2 + (gamma h)^2).
Parameters are (ln beta, b, gamma, eta) with gamma and eta free in sign (|gamma|, |eta| reported), so the
optimiser never stops on the gamma = 0 / eta = 0 saddle. L-BFGS-B (unbounded) with an analytic gradient
from several starting points; the best likelihood is kept.

Usage:
    reference_fit.py spin_table.csv -o reference.csv
    reference_fit.py spin_table.csv -o reference.csv --compare qasa_params.csv [--rtol 1e-6]

With --compare (the `--csv` table written by `qasa fit`), checks on every qubit that qasa's
log-likelihood is at least the reference's minus rtol*|l_ref|, prints a summary and exits 1 otherwise.
"""
import argparse
import csv
import sys
import time

import numpy as np
from scipy.optimize import minimize

P_MIN = 1e-100


def read_spin_table(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    header = [c.strip() for c in rows[0]]
    if header[:2] != ["h", "samples"]:
        raise SystemExit(f"{path}: header must start with h,samples")
    spins = [int(c[len("spin_"):]) for c in header[2:]]
    data = np.array([[float(x) for x in r] for r in rows[1:] if r], dtype=float)
    h = data[:, 0]
    samples = data[:, 1]
    counts = data[:, 2:]
    return h, samples, spins, counts


def branch(beta, a, c, want_grad):
    """(1+m), (1-m) of one branch, and d m / d(x, u) pieces; vectorised over h."""
    r = np.sqrt(a * a + c * c)
    R = beta * r
    e = np.exp(-2.0 * R)
    th = (1.0 - e) / (1.0 + e)
    omt = 2.0 * e / (1.0 + e)
    sech2 = 4.0 * e / (1.0 + e) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        ar = np.where(r > 0, a / r, 0.0)
        tail = np.where(r > 0, c * c / (r * (r + np.abs(a))), 0.0)
    small = tail + np.abs(ar) * omt  # 1 - |m_branch|
    op = np.where(a >= 0, 2.0 - small, small)
    om = np.where(a >= 0, small, 2.0 - small)
    op = np.where(r > 0, op, 1.0)
    om = np.where(r > 0, om, 1.0)
    if not want_grad:
        return op, om, None, None
    x = beta * a
    u = beta * c
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(R > 1e-5, th / R, 1.0 - R * R / 3.0)
        g_direct = (sech2 - th / R) / (R * R)
    R2 = R * R
    g_series = -2.0 / 3.0 + R2 * (8.0 / 15.0 + R2 * (-34.0 / 105.0 + R2 * (496.0 / 2835.0)))
    g = np.where(R < 0.05, g_series, g_direct)
    fx = t + x * x * g
    fu = x * u * g
    return op, om, fx, fu


def model(theta, h, want_grad=False):
    """p, q = 1 - p and dp/dtheta (theta = ln beta, b, gamma, eta)."""
    lb, b, gamma, eta = theta
    beta = np.exp(lb)
    c = gamma * h
    p = np.zeros_like(h)
    q = np.zeros_like(h)
    dp = np.zeros((4, h.size))
    for s in (1.0, -1.0):
        a = h + b + s * eta
        op, om, fx, fu = branch(beta, a, c, want_grad)
        p += 0.25 * op
        q += 0.25 * om
        if want_grad:
            # dx = (a, beta, 0, s beta) per (beta, b, gamma, eta); du = (c, 0, beta h, 0)
            dp[0] += 0.25 * beta * (fx * a + fu * c)  # d/d ln beta
            dp[1] += 0.25 * fx * beta
            dp[2] += 0.25 * fu * beta * h
            dp[3] += 0.25 * fx * beta * s
    return p, q, dp


def log_lik(p, q, k, n):
    p = np.maximum(p, P_MIN)
    q = np.maximum(q, P_MIN)
    lp = np.where(p > 0.5, np.log1p(-q), np.log(p))
    lq = np.where(q > 0.5, np.log1p(-p), np.log(q))
    return float(np.sum(np.where(k > 0, k * lp, 0.0) + np.where(n - k > 0, (n - k) * lq, 0.0)))


def negll_and_grad(theta, h, k, n):
    p, q, dp = model(theta, h, True)
    ll = log_lik(p, q, k, n)
    pc = np.maximum(p, P_MIN)
    qc = np.maximum(q, P_MIN)
    A = k / pc - (n - k) / qc
    A = np.where((p < P_MIN) | (q < P_MIN), 0.0, A)
    grad = dp @ A
    if not np.isfinite(ll):
        return 1e300, np.zeros(4)
    return -ll, -grad


def start_point(h, k, n):
    p = k / n
    b0 = 0.0
    best = None
    for i in range(1, len(h)):
        a0, a1 = p[i - 1] - 0.5, p[i] - 0.5
        if a0 == 0 or a0 * a1 < 0:
            hc = h[i - 1] if a0 == a1 else h[i - 1] + (h[i] - h[i - 1]) * a0 / (a0 - a1)
            if best is None or abs(hc) < abs(best):
                best = hc
    if best is not None:
        b0 = -best
    m = 2 * p - 1
    sel = np.abs(m) < 0.9
    beta0 = 5.0
    if sel.sum() >= 2:
        w = n[sel] * (1 - m[sel] ** 2)
        x, y = h[sel], np.arctanh(m[sel])
        sw, sx, sy = w.sum(), (w * x).sum(), (w * y).sum()
        den = sw * (w * x * x).sum() - sx * sx
        if den > 0:
            sl = (sw * (w * x * y).sum() - sx * sy) / den
            if np.isfinite(sl) and sl > 0:
                beta0 = sl
    beta0 = float(np.clip(beta0, 1e-3, 1e4))
    plateau = beta0 * np.abs(h + b0) > 4
    gamma0 = 0.05
    if plateau.any():
        wrong = np.where(h[plateau] + b0 > 0, n[plateau] - k[plateau], k[plateau]).sum() / n[plateau].sum()
        eps = min(max(wrong, 1e-6), 0.4)
        gamma0 = float(np.sqrt((1 - 2 * eps) ** -2 - 1))
    return beta0, b0, max(gamma0, 1e-3)


def fit_qubit(h, k, n):
    keep = n > 0
    h, k, n = h[keep], k[keep], n[keep]
    if h.size < 4 or np.all(k == 0) or np.all(k == n):
        return None
    beta0, b0, gamma0 = start_point(h, k, n)
    starts = [
        (beta0, b0, gamma0, 0.2 / beta0),
        (beta0, b0, gamma0, 0.02),
        (beta0 * 1.5, b0, 0.1, 0.8 / beta0),
        (beta0 / 1.5, b0, 0.01, 0.002),
    ]
    best = None
    for bt, bb, gg, ee in starts:
        x0 = np.array([np.log(bt), bb, gg, ee])
        res = minimize(negll_and_grad, x0, args=(h, k, n), jac=True, method="L-BFGS-B",
                       options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-9})
        if best is None or res.fun < best.fun:
            best = res
    th = best.x
    return dict(beta=float(np.exp(th[0])), b=float(th[1]), gamma=float(abs(th[2])), eta=float(abs(th[3])),
                ll=float(-best.fun), success=bool(best.success))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("spin_table")
    ap.add_argument("-o", "--out", default="reference_params.csv")
    ap.add_argument("--compare", help="qasa fit --csv table to check against")
    ap.add_argument("--rtol", type=float, default=1e-6)
    ap.add_argument("--limit", type=int, default=None, help="fit only the first N qubits (timing runs)")
    args = ap.parse_args()
    h, samples, spins, counts = read_spin_table(args.spin_table)
    if args.limit is not None:
        spins, counts = spins[: args.limit], counts[:, : args.limit]
    t0 = time.perf_counter()
    ref = {}
    for j, spin in enumerate(spins):
        ref[spin] = fit_qubit(h, counts[:, j].astype(float), samples.astype(float))
    elapsed = time.perf_counter() - t0
    with open(args.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["spin", "beta", "b", "gamma", "eta", "ll", "success"])
        for spin in spins:
            r = ref[spin]
            if r is None:
                w.writerow([spin, "", "", "", "", "", "false"])
            else:
                w.writerow([spin, r["beta"], r["b"], r["gamma"], r["eta"], repr(r["ll"]), str(r["success"]).lower()])
    print(f"reference: fitted {len(spins)} qubits in {elapsed:.3f} s "
          f"({1e3 * elapsed / max(len(spins), 1):.1f} ms per qubit) -> {args.out}")
    if not args.compare:
        return 0
    with open(args.compare, newline="", encoding="utf-8") as f:
        qasa = {int(r["spin"]): r for r in csv.DictReader(f)}
    worse, checked, deficits = [], 0, []
    for spin in spins:
        r = ref[spin]
        if r is None:
            continue
        q = qasa.get(spin)
        if q is None or q["ll"] == "":
            worse.append((spin, r["ll"], None))
            continue
        llq = float(q["ll"])
        checked += 1
        deficits.append(llq - r["ll"])
        if llq < r["ll"] - args.rtol * abs(r["ll"]):
            worse.append((spin, r["ll"], llq))
    print(f"compared {checked} qubits: qasa ll - reference ll: min {min(deficits):.3e}, "
          f"max {max(deficits):.3e}; {len(worse)} qubits worse than the reference (rtol {args.rtol})")
    for spin, lr, lq in worse[:20]:
        print(f"  spin {spin}: reference ll {lr!r}, qasa ll {lq!r}")
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main())
