//! The information a call carries about one qubit's parameters θ = (β, b, γ, η), for the fit that will
//! analyse it (docs/physics.md §3 item 5, §6; docs/design.md).
//!
//! Flux noise is quasi-static: the reads of one call share one noise draw δ. How much a call of `r` reads
//! at physical field h tells about θ then depends on the noise law and on the likelihood the fit uses.
//!
//! **Per-call likelihood** (the sweep records one call per block cell; the default fit then compares
//! per-read and per-call likelihoods and takes the better). A call's count is a mixture of binomials over
//! the law of δ, and its expected information is `I_call = E_k[s(k) s(k)ᵀ]`, `s = ∇ ln P(k)`:
//!
//! - two-point law (δ = ±η, the qasa model and the virtual QPU's default): exact, summing over the counts
//!   k within ±[`WINDOW_SD`] binomial standard deviations of either branch mean, with
//!   `P(k) = ½ Bin(k; r, p₊) + ½ Bin(k; r, p₋)`, `p± = p(h + b ± η)` and
//!   `s = π₊ u₊ ∇p₊ + π₋ u₋ ∇p₋`, `u = (k − r p)/(p q)`, `π±` the branch posteriors. The information of a
//!   call does **not** saturate under this law: once `r` is large enough for the two branches to separate
//!   (`|p₊ − p₋| ≫ 1/√r`) each call reveals its branch and its reads count fully again; it dips in
//!   between (a few hundred to a few thousand reads near the transition);
//! - Gaussian law (δ ~ N(0, η²), η holding σ): the count is approximated as normal with mean `r μ` and
//!   variance `r² V_δ + r E[p q]`, where `μ = E_δ p(h + b + δ)` and `V_δ = Var_δ p(h + b + δ)` (Gauss–
//!   Hermite, 32 nodes). Its information, with the binomial part of the variance taken as carrying no
//!   information of its own, is `∇μ ∇μᵀ / V + ½ ∇V_δ ∇V_δᵀ / V²`, `V = V_δ + E[p q]/r`. This saturates: a
//!   call near the transition is worth at most `≈ p q / V_δ` reads however long it is. Checked against the
//!   exact mixture (quadrature over δ, sum over k) to a few per cent in the tests;
//! - per-read law (a fresh draw for every read): binomial, `r ∇p̄ ∇p̄ᵀ / (p̄ q̄)` with the model's `p̄`.
//!
//! **Per-read likelihood** (pooled counts, or cells holding several calls): the fit maximises the
//! binomial likelihood of the averaged response `p̄` and takes robust (sandwich) errors, which follow the
//! actual scatter. Its covariance is `B⁻¹ M B⁻¹` with `B = Σ_h N_h ∇p̄ ∇p̄ᵀ/(p̄ q̄)` and
//! `M = Σ_h Σ_c Var(k_c) ∇p̄ ∇p̄ᵀ/(p̄ q̄)²`, `Var(k_c) = r_c p̄ q̄ + r_c (r_c − 1) V_δ`.
//!
//! Matrices are 4×4 over (β, b, γ, η). η and γ enter only through η² and γ²: at η = 0 (or γ = 0) their
//! information vanishes and the matrix is singular, so prior values are kept away from 0 by the caller.

// Small fixed-size numeric kernels read best with index loops.
#![allow(clippy::needless_range_loop)]

use crate::model::response::gauss_hermite_normal;
use crate::model::{response, NoiseKind, Order, Params, P_MIN};
use serde::{Deserialize, Serialize};

/// A symmetric 4×4 matrix over (β, b, γ, η).
pub type Mat4 = [[f64; 4]; 4];

/// Binomial standard deviations around each branch mean that the two-point sum covers.
pub const WINDOW_SD: f64 = 9.0;

/// How the field noise of a device enters its reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseLaw {
    /// One ±η draw per qubit and call (the qasa model; the virtual QPU's default).
    TwoPoint,
    /// One N(0, η²) draw per qubit and call.
    Gaussian,
    /// A fresh draw for every read: plain binomial counts.
    PerRead,
}

impl NoiseLaw {
    pub fn name(self) -> &'static str {
        match self {
            NoiseLaw::TwoPoint => "two_point",
            NoiseLaw::Gaussian => "gaussian",
            NoiseLaw::PerRead => "per_read",
        }
    }

    /// The model whose averaged response the per-read fit uses.
    fn kind(self) -> NoiseKind {
        match self {
            NoiseLaw::Gaussian => NoiseKind::Gaussian,
            _ => NoiseKind::TwoPoint,
        }
    }
}

/// Which likelihood the fit uses for a plan's counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FitLikelihood {
    /// One call per block cell: the per-call (mixture) likelihood.
    PerCall,
    /// Pooled counts (or several calls per cell): the per-read likelihood with robust errors.
    PerRead,
}

/// `a += w · x xᵀ`.
#[inline]
pub fn add_outer(a: &mut Mat4, x: &[f64; 4], w: f64) {
    for i in 0..4 {
        let wi = w * x[i];
        for j in 0..4 {
            a[i][j] += wi * x[j];
        }
    }
}

/// `a += w · b`.
#[inline]
pub fn add_scaled(a: &mut Mat4, b: &Mat4, w: f64) {
    for i in 0..4 {
        for j in 0..4 {
            a[i][j] += w * b[i][j];
        }
    }
}

/// `a · b`.
pub fn mul(a: &Mat4, b: &Mat4) -> Mat4 {
    let mut c = [[0.0; 4]; 4];
    for i in 0..4 {
        for k in 0..4 {
            for j in 0..4 {
                c[i][j] += a[i][k] * b[k][j];
            }
        }
    }
    c
}

/// Inverse of a symmetric positive-definite 4×4 matrix (Gauss–Jordan with partial pivoting); `None` when
/// singular to working precision.
pub fn invert(a: &Mat4) -> Option<Mat4> {
    let mut m = *a;
    let mut inv = [[0.0; 4]; 4];
    for (i, row) in inv.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    // Scale rows and columns by the diagonal so that parameters of very different units pivot fairly.
    let d: Vec<f64> = (0..4)
        .map(|i| {
            let v = a[i][i];
            if v > 0.0 && v.is_finite() {
                1.0 / v.sqrt()
            } else {
                1.0
            }
        })
        .collect();
    for i in 0..4 {
        for j in 0..4 {
            m[i][j] *= d[i] * d[j];
        }
    }
    for col in 0..4 {
        let pivot = (col..4).max_by(|&r, &s| m[r][col].abs().total_cmp(&m[s][col].abs()))?;
        if m[pivot][col].is_nan() || m[pivot][col].abs() <= 1e-12 {
            return None;
        }
        m.swap(col, pivot);
        inv.swap(col, pivot);
        let p = m[col][col];
        for k in 0..4 {
            m[col][k] /= p;
            inv[col][k] /= p;
        }
        for r in (0..4).filter(|&r| r != col) {
            let f = m[r][col];
            for k in 0..4 {
                m[r][k] -= f * m[col][k];
                inv[r][k] -= f * inv[col][k];
            }
        }
    }
    for i in 0..4 {
        for j in 0..4 {
            inv[i][j] *= d[i] * d[j];
        }
    }
    Some(inv)
}

/// The noiseless branch at field `h` with the bias shifted by `shift`: p, q and ∇p over (β, b, γ), with
/// the η slot holding `dshift · ∂p/∂b` (the shift is `dshift · η`).
fn branch(at: &Params, h: f64, shift: f64, dshift: f64) -> (f64, f64, [f64; 4]) {
    let p = Params::new(at.beta, at.b + shift, at.gamma, 0.0);
    let r = response(NoiseKind::TwoPoint, &p, h, Order::Gradient);
    let (pp, qq) = (r.p.max(P_MIN), r.q.max(P_MIN));
    if r.p < P_MIN || r.q < P_MIN {
        return (pp, qq, [0.0; 4]);
    }
    (pp, qq, [r.dp[0], r.dp[1], r.dp[2], dshift * r.dp[1]])
}

/// `ln C(r, k)` for all k of `lo..=hi`, by the recurrence from `ln C(r, lo)`.
fn ln_choose_range(r: u32, lo: u32, hi: u32) -> Vec<f64> {
    let ln_fact = |n: u32| statrs::function::gamma::ln_gamma(f64::from(n) + 1.0);
    let mut v = Vec::with_capacity((hi - lo + 1) as usize);
    let mut c = ln_fact(r) - ln_fact(lo) - ln_fact(r - lo);
    v.push(c);
    for k in lo..hi {
        c += f64::from(r - k).ln() - f64::from(k + 1).ln();
        v.push(c);
    }
    v
}

/// The k-ranges (merged) within `WINDOW_SD` standard deviations of the branch means.
fn windows(r: u32, branches: &[(f64, f64)]) -> Vec<(u32, u32)> {
    let rf = f64::from(r);
    let mut w: Vec<(u32, u32)> = branches
        .iter()
        .map(|&(p, q)| {
            let mean = rf * p;
            let half = WINDOW_SD * (rf * p * q).sqrt() + 3.0;
            (
                (mean - half).floor().clamp(0.0, rf) as u32,
                (mean + half).ceil().clamp(0.0, rf) as u32,
            )
        })
        .collect();
    w.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::new();
    for (lo, hi) in w {
        match out.last_mut() {
            Some(last) if lo <= last.1 + 1 => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// Expected information of one call of `r` reads at physical field `h` under the two-point per-call
/// likelihood (exact).
pub fn two_point_call(at: &Params, h: f64, r: u32) -> Mat4 {
    let (pp, qp, gp) = branch(at, h, at.eta, 1.0);
    let (pm, qm, gm) = branch(at, h, -at.eta, -1.0);
    let mut info = [[0.0; 4]; 4];
    if r == 0 {
        return info;
    }
    let (lpp, lqp, lpm, lqm) = (pp.ln(), qp.ln(), pm.ln(), qm.ln());
    let rf = f64::from(r);
    for (lo, hi) in windows(r, &[(pp, qp), (pm, qm)]) {
        let lc = ln_choose_range(r, lo, hi);
        for (k, c) in (lo..=hi).zip(lc) {
            let kf = f64::from(k);
            let ap = c + kf * lpp + (rf - kf) * lqp;
            let am = c + kf * lpm + (rf - kf) * lqm;
            let amax = ap.max(am);
            let (ep, em) = ((ap - amax).exp(), (am - amax).exp());
            let prob = 0.5 * (ep + em) * amax.exp();
            if prob.is_nan() || prob <= 1e-300 {
                continue;
            }
            let (pip, pim) = (ep / (ep + em), em / (ep + em));
            let up = pip * (kf - rf * pp) / (pp * qp);
            let um = pim * (kf - rf * pm) / (pm * qm);
            let s: [f64; 4] = std::array::from_fn(|i| up * gp[i] + um * gm[i]);
            add_outer(&mut info, &s, prob);
        }
    }
    info
}

/// Mean, variance over the Gaussian law and their gradients at field `h`: `(μ, ∇μ, V_δ, ∇V_δ, E[pq])`.
fn gaussian_moments(at: &Params, h: f64) -> (f64, [f64; 4], f64, [f64; 4], f64) {
    let (mut mu, mut m2, mut epq) = (0.0, 0.0, 0.0);
    let (mut dmu, mut dm2) = ([0.0; 4], [0.0; 4]);
    for &(z, w) in gauss_hermite_normal() {
        let (p, q, g) = branch(at, h, at.eta * z, z);
        mu += w * p;
        m2 += w * p * p;
        epq += w * p * q;
        for i in 0..4 {
            dmu[i] += w * g[i];
            dm2[i] += 2.0 * w * p * g[i];
        }
    }
    let var = (m2 - mu * mu).max(0.0);
    let dvar: [f64; 4] = std::array::from_fn(|i| dm2[i] - 2.0 * mu * dmu[i]);
    (mu, dmu, var, dvar, epq)
}

/// Information of one call of `r` reads at `h` under the Gaussian per-call likelihood (normal
/// approximation of the count, see the module docs).
pub fn gaussian_call(at: &Params, h: f64, r: u32) -> Mat4 {
    let mut info = [[0.0; 4]; 4];
    if r == 0 {
        return info;
    }
    let (_, dmu, var, dvar, epq) = gaussian_moments(at, h);
    let v = var + epq.max(P_MIN) / f64::from(r);
    add_outer(&mut info, &dmu, 1.0 / v);
    add_outer(&mut info, &dvar, 0.5 / (v * v));
    info
}

/// Binomial information of `r` independent reads of the averaged response at `h`.
pub fn per_read_call(kind: NoiseKind, at: &Params, h: f64, r: u32) -> Mat4 {
    crate::model::fisher_information(kind, at, &[h], &[f64::from(r)])
}

/// Information of one call of `r` reads at physical field `h` when the fit uses the per-call likelihood
/// (the per-read law: binomial).
pub fn call_information(law: NoiseLaw, at: &Params, h: f64, r: u32) -> Mat4 {
    match law {
        NoiseLaw::TwoPoint => two_point_call(at, h, r),
        NoiseLaw::Gaussian => gaussian_call(at, h, r),
        NoiseLaw::PerRead => per_read_call(NoiseKind::TwoPoint, at, h, r),
    }
}

/// Variance of the per-call response over the noise law at `h` (`V_δ`; 0 for the per-read law).
pub fn between_call_variance(law: NoiseLaw, at: &Params, h: f64) -> f64 {
    match law {
        NoiseLaw::TwoPoint => {
            let (pp, _, _) = branch(at, h, at.eta, 1.0);
            let (pm, _, _) = branch(at, h, -at.eta, -1.0);
            0.25 * (pp - pm) * (pp - pm)
        }
        NoiseLaw::Gaussian => gaussian_moments(at, h).2,
        NoiseLaw::PerRead => 0.0,
    }
}

/// Covariance of the per-read fit (robust errors) of counts from calls `rows[i]` (reads of each call)
/// at physical fields `h[i]`; `None` when the information is singular.
pub fn per_read_fit_covariance(
    law: NoiseLaw,
    at: &Params,
    h: &[f64],
    rows: &[Vec<u32>],
) -> Option<Mat4> {
    let kind = law.kind();
    let mut bread = [[0.0; 4]; 4];
    let mut meat = [[0.0; 4]; 4];
    for (&x, calls) in h.iter().zip(rows) {
        let n: f64 = calls.iter().map(|&r| f64::from(r)).sum();
        if n <= 0.0 {
            continue;
        }
        let resp = response(kind, at, x, Order::Gradient);
        let pq = resp.p.max(P_MIN) * resp.q.max(P_MIN);
        let vd = between_call_variance(law, at, x);
        let var: f64 = calls
            .iter()
            .map(|&r| {
                let r = f64::from(r);
                r * pq + r * (r - 1.0) * vd
            })
            .sum();
        add_outer(&mut bread, &resp.dp, n / pq);
        add_outer(&mut meat, &resp.dp, var / (pq * pq));
    }
    let b_inv = invert(&bread)?;
    Some(mul(&mul(&b_inv, &meat), &b_inv))
}

/// Standard errors `sqrt(diag(C))`, `None` where not positive and finite.
pub fn standard_errors(cov: &Mat4) -> [Option<f64>; 4] {
    std::array::from_fn(|i| {
        let v = cov[i][i];
        (v.is_finite() && v > 0.0).then(|| v.sqrt())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typical() -> Params {
        Params::new(6.0, 0.01, 0.05, 0.01)
    }

    #[test]
    fn inverse_of_spd() {
        let a = [
            [4.0, 1.0, 0.5, 0.0],
            [1.0, 3.0, 0.2, 0.1],
            [0.5, 0.2, 2.0, 0.3],
            [0.0, 0.1, 0.3, 1e-6],
        ];
        let inv = invert(&a).unwrap();
        let id = mul(&a, &inv);
        for i in 0..4 {
            for j in 0..4 {
                assert!((id[i][j] - f64::from(u8::from(i == j))).abs() < 1e-9);
            }
        }
        assert!(invert(&[[0.0; 4]; 4]).is_none());
    }

    #[test]
    fn short_calls_carry_binomial_information() {
        // A call of one read: the mixture of two Bernoullis is the Bernoulli of the averaged response.
        let at = typical();
        for h in [-0.3, 0.0, 0.05, 0.4] {
            let one = two_point_call(&at, h, 1);
            let bin = per_read_call(NoiseKind::TwoPoint, &at, h, 1);
            for i in 0..4 {
                for j in 0..4 {
                    assert!((one[i][j] - bin[i][j]).abs() <= 1e-9 * (1.0 + bin[i][j].abs()));
                }
            }
        }
    }

    #[test]
    fn two_point_dips_then_recovers_and_gaussian_saturates() {
        // At h = 0 on a typical Advantage qubit: per read, b's information falls from binomial (short
        // calls) to a minimum near a few hundred reads, and recovers once the branches separate; under
        // the Gaussian law it keeps falling (a call is worth ≈ p q / V_δ reads).
        let at = typical();
        let bin = per_read_call(NoiseKind::TwoPoint, &at, 0.0, 1)[1][1];
        let tp = |r: u32| two_point_call(&at, 0.0, r)[1][1] / f64::from(r) / bin;
        let ga = |r: u32| gaussian_call(&at, 0.0, r)[1][1] / f64::from(r) / bin;
        assert!(tp(10) > 0.95);
        assert!(tp(300) < 0.6, "{}", tp(300));
        assert!(tp(10_000) > 0.95, "{}", tp(10_000));
        assert!(ga(10) > 0.95);
        assert!(ga(10_000) < 0.05, "{}", ga(10_000));
        let pq = {
            let r = response(NoiseKind::Gaussian, &at, 0.0, Order::Value);
            r.p * r.q
        };
        let sat = pq / between_call_variance(NoiseLaw::Gaussian, &at, 0.0);
        let per_call = gaussian_call(&at, 0.0, 1_000_000)[1][1] / bin;
        assert!((per_call / sat - 1.0).abs() < 0.05, "{per_call} vs {sat}");
    }

    /// Exact expected information of the Gaussian mixture (fine trapezoid in z, every k).
    fn gaussian_exact(at: &Params, h: f64, r: u32) -> Mat4 {
        let nz = 481;
        let zs: Vec<f64> = (0..nz)
            .map(|i| -6.0 + 12.0 * i as f64 / (nz - 1) as f64)
            .collect();
        let w: Vec<f64> = zs.iter().map(|z| (-0.5 * z * z).exp()).collect();
        let wsum: f64 = w.iter().sum();
        let br: Vec<_> = zs.iter().map(|&z| branch(at, h, at.eta * z, z)).collect();
        let lc = ln_choose_range(r, 0, r);
        let mut info = [[0.0; 4]; 4];
        let rf = f64::from(r);
        for k in 0..=r {
            let kf = f64::from(k);
            let a: Vec<f64> = br
                .iter()
                .zip(&w)
                .map(|((p, q, _), wi)| {
                    (wi / wsum).ln() + lc[k as usize] + kf * p.ln() + (rf - kf) * q.ln()
                })
                .collect();
            let amax = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = a.iter().map(|x| (x - amax).exp()).collect();
            let tot: f64 = e.iter().sum();
            let prob = tot * amax.exp();
            let mut s = [0.0; 4];
            for ((p, q, g), ei) in br.iter().zip(&e) {
                let u = ei / tot * (kf - rf * p) / (p * q);
                for i in 0..4 {
                    s[i] += u * g[i];
                }
            }
            add_outer(&mut info, &s, prob);
        }
        info
    }

    #[test]
    fn gaussian_approximation_matches_the_exact_mixture() {
        let at = typical();
        for (h, r) in [
            (0.0, 100),
            (0.0, 2000),
            (0.1, 1000),
            (0.3, 2000),
            (0.6, 500),
        ] {
            let ex = gaussian_exact(&at, h, r);
            let ap = gaussian_call(&at, h, r);
            // Compare the standard errors of β and b from a design of this call plus plateau calls that
            // pin γ (one call alone cannot identify four parameters).
            let mut e = ex;
            let mut a = ap;
            for x in [-1.0, -0.5, 0.5, 1.0] {
                let pin = per_read_call(NoiseKind::TwoPoint, &at, x, 100_000);
                add_scaled(&mut e, &pin, 1.0);
                add_scaled(&mut a, &pin, 1.0);
            }
            for i in [0, 1] {
                let rel = (ex[i][i] / ap[i][i] - 1.0).abs();
                assert!(
                    rel < 0.06,
                    "h {h} r {r} param {i}: exact {} approx {}",
                    ex[i][i],
                    ap[i][i]
                );
            }
        }
    }

    #[test]
    fn two_point_information_matches_a_direct_sum() {
        // The windowed sum equals the sum over every k.
        let at = Params::new(11.0, 0.01, 0.05, 0.02);
        for (h, r) in [(0.0, 500), (0.05, 3000), (0.8, 2000)] {
            let got = two_point_call(&at, h, r);
            let (pp, qp, gp) = branch(&at, h, at.eta, 1.0);
            let (pm, qm, gm) = branch(&at, h, -at.eta, -1.0);
            let lc = ln_choose_range(r, 0, r);
            let rf = f64::from(r);
            let mut want = [[0.0; 4]; 4];
            for k in 0..=r {
                let kf = f64::from(k);
                let bp = (lc[k as usize] + kf * pp.ln() + (rf - kf) * qp.ln()).exp();
                let bm = (lc[k as usize] + kf * pm.ln() + (rf - kf) * qm.ln()).exp();
                let prob = 0.5 * (bp + bm);
                if prob == 0.0 {
                    continue;
                }
                let s: [f64; 4] = std::array::from_fn(|i| {
                    (bp * (kf - rf * pp) / (pp * qp) * gp[i]
                        + bm * (kf - rf * pm) / (pm * qm) * gm[i])
                        / (bp + bm)
                });
                add_outer(&mut want, &s, prob);
            }
            for i in 0..4 {
                for j in 0..4 {
                    assert!(
                        (got[i][j] - want[i][j]).abs() <= 1e-8 * (want[i][i] * want[j][j]).sqrt(),
                        "h {h} r {r} [{i}][{j}]: {} vs {}",
                        got[i][j],
                        want[i][j]
                    );
                }
            }
        }
    }

    #[test]
    fn per_read_fit_of_pooled_calls_loses_what_the_dispersion_says() {
        // The reference protocol's pooled fit: β and b errors ≈ 3× and 5× the binomial ones
        // (docs/physics.md §3 item 5 and the measured dispersions of issue 8).
        let at = typical();
        let h: Vec<f64> = (-40..=40).map(|k| f64::from(k) * 0.025).collect();
        let rows = vec![vec![10_000u32; 100]; h.len()];
        let pooled =
            standard_errors(&per_read_fit_covariance(NoiseLaw::TwoPoint, &at, &h, &rows).unwrap());
        let n = vec![1e6; h.len()];
        let bin = standard_errors(
            &invert(&crate::model::fisher_information(
                NoiseKind::TwoPoint,
                &at,
                &h,
                &n,
            ))
            .unwrap(),
        );
        let ratio = |i: usize| pooled[i].unwrap() / bin[i].unwrap();
        assert!((2.5..3.7).contains(&ratio(0)), "β {}", ratio(0));
        assert!((4.0..6.0).contains(&ratio(1)), "b {}", ratio(1));
        // Per-read noise: the sandwich is the binomial covariance.
        let same =
            standard_errors(&per_read_fit_covariance(NoiseLaw::PerRead, &at, &h, &rows).unwrap());
        for i in 0..4 {
            assert!((same[i].unwrap() / bin[i].unwrap() - 1.0).abs() < 1e-9);
        }
    }
}
