//! The per-call likelihood (docs/physics.md §3.5): flux noise is quasi-static, so the reads of one call
//! (programming cycle) share one noise draw δ, and a call's count is a mixture of binomials over the noise
//! law rather than one binomial of the averaged response:
//!
//! ```text
//! two-point:  L_c = ½ Bin(k_c; n_c, p(h + b + η)) + ½ Bin(k_c; n_c, p(h + b - η))
//! gaussian:   L_c = Σ_i w_i Bin(k_c; n_c, p(h + b + σ z_i))     (trapezoid rule over z ~ N(0, 1))
//! ```
//!
//! where `p(·)` is the noiseless branch of the response (§2) with saturation γ. In count form (binomial
//! coefficients dropped, as in [`super::likelihood`]) with `a_i = k ln p_i + (n - k) ln q_i`:
//! `ℓ_c = ln Σ_i w_i e^{a_i}`; with the posterior weights `π_i = w_i e^{a_i - ℓ_c}`,
//! `∇ℓ_c = Σ π_i ∇a_i` and `∇²ℓ_c = Σ π_i (∇²a_i + ∇a_i ∇a_iᵀ) - ∇ℓ_c ∇ℓ_cᵀ`, exactly.
//!
//! Cells are the per-call counts `(h, k, n)` of one qubit, given as a [`QubitCounts`] with one entry per
//! call, grouped by h (cells of equal h adjacent): the branch responses are computed once per h. With one
//! call the two-point mixture of the pooled model is exact only when every cell is ONE call: a cell
//! holding several calls mixes several draws, which this likelihood does not describe.
//!
//! The Gaussian law is integrated on a uniform grid in z over ±[`GAUSS_Z_MAX`] with weights `φ(z_i) Δz`
//! (normalised): the trapezoid rule is exponentially accurate for the smooth, possibly sharply peaked
//! integrand (a call of 10⁴ reads pins its own draw to a fraction of σ), where a fixed Gauss–Hermite rule
//! is not. The grid step is chosen per qubit by the caller ([`GaussGrid`]).

use super::likelihood::{LogLik, QubitCounts, P_MIN};
use super::params::{NoiseKind, Params};
use super::response::{branch_response, Order, Response};

/// Half-width of the z grid of the Gaussian per-call law.
pub const GAUSS_Z_MAX: f64 = 6.0;

/// The z grid of the Gaussian per-call law: nodes and normalised weights.
#[derive(Clone, Debug, PartialEq)]
pub struct GaussGrid {
    pub nodes: Vec<(f64, f64)>,
}

impl GaussGrid {
    /// A uniform grid with about `step` spacing (at least 9 nodes).
    pub fn with_step(step: f64) -> Self {
        let n = ((2.0 * GAUSS_Z_MAX / step.max(1e-3)).ceil() as usize).clamp(8, 2000) + 1;
        let dz = 2.0 * GAUSS_Z_MAX / (n - 1) as f64;
        let mut nodes: Vec<(f64, f64)> = (0..n)
            .map(|i| {
                let z = -GAUSS_Z_MAX + dz * i as f64;
                (z, (-0.5 * z * z).exp())
            })
            .collect();
        let total: f64 = nodes.iter().map(|x| x.1).sum();
        nodes.iter_mut().for_each(|x| x.1 /= total);
        GaussGrid { nodes }
    }
}

#[inline]
fn ln_prob(p: f64, complement: f64) -> f64 {
    if p > 0.5 {
        (-complement).ln_1p()
    } else {
        p.ln()
    }
}

/// One branch at one h: `ln p`, `ln q`, and what the derivatives need.
struct Branch {
    w: f64,
    lp: f64,
    lq: f64,
    r: Response,
}

fn branch(params: &Params, h: f64, e: f64, de: f64, w: f64, order: Order) -> Branch {
    let mut r = branch_response(params, h, e, de, order);
    if r.p < P_MIN || r.q < P_MIN {
        r.p = r.p.max(P_MIN);
        r.q = r.q.max(P_MIN);
        r.dp = [0.0; 4];
        r.d2p = [[0.0; 4]; 4];
    }
    Branch {
        w,
        lp: ln_prob(r.p, r.q),
        lq: ln_prob(r.q, r.p),
        r,
    }
}

/// Visits every cell with its ℓ_c and, up to `order`, its gradient and Hessian with respect to
/// `[β, b, γ, η]` (η holds σ for the Gaussian law). `pearson_chi2` is left at 0.
pub fn for_each_call(
    kind: NoiseKind,
    params: &Params,
    cells: &QubitCounts,
    grid: Option<&GaussGrid>,
    order: Order,
    mut visit: impl FnMut(usize, &LogLik),
) {
    let two_point = [(1.0, 0.5), (-1.0, 0.5)];
    let mut branches: Vec<Branch> = Vec::new();
    let mut a: Vec<f64> = Vec::new();
    let mut i = 0;
    while i < cells.len() {
        let h = cells.h[i];
        let end = (i..cells.len())
            .find(|&j| cells.h[j] != h)
            .unwrap_or(cells.len());
        branches.clear();
        match (kind, grid) {
            (NoiseKind::Gaussian, Some(g)) => {
                for &(z, w) in &g.nodes {
                    branches.push(branch(params, h, params.eta * z, z, w, order));
                }
            }
            (NoiseKind::Gaussian, None) => {
                let g = GaussGrid::with_step(0.25);
                for &(z, w) in &g.nodes {
                    branches.push(branch(params, h, params.eta * z, z, w, order));
                }
            }
            (NoiseKind::TwoPoint, _) if params.eta == 0.0 => {
                branches.push(branch(params, h, 0.0, 1.0, 0.5, order));
                branches.push(branch(params, h, 0.0, -1.0, 0.5, order));
            }
            (NoiseKind::TwoPoint, _) => {
                for (de, w) in two_point {
                    branches.push(branch(params, h, de * params.eta, de, w, order));
                }
            }
        }
        for c in i..end {
            let (k, n) = (cells.k[c], cells.n[c]);
            let nk = n - k;
            a.clear();
            a.extend(branches.iter().map(|b| {
                let mut t = 0.0;
                if k > 0.0 {
                    t += k * b.lp;
                }
                if nk > 0.0 {
                    t += nk * b.lq;
                }
                t
            }));
            let amax = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mut sum = 0.0;
            for (ai, b) in a.iter_mut().zip(&branches) {
                *ai = b.w * (*ai - amax).exp();
                sum += *ai;
            }
            let mut out = LogLik {
                ll: amax + sum.ln(),
                ..Default::default()
            };
            if order != Order::Value {
                cell_derivatives(&branches, &a, sum, k, nk, order, &mut out);
            }
            visit(c, &out);
        }
        i = end;
    }
}

/// ∇ℓ_c and ∇²ℓ_c from the unnormalised posterior weights `wt` (sum `sum`) of the branches.
fn cell_derivatives(
    branches: &[Branch],
    wt: &[f64],
    sum: f64,
    k: f64,
    nk: f64,
    order: Order,
    out: &mut LogLik,
) {
    let mut g = [0.0; 4];
    let mut hs = [[0.0; 4]; 4];
    for (b, &w) in branches.iter().zip(wt) {
        let pi = w / sum;
        if pi < 1e-300 {
            continue;
        }
        let (ip, iq) = (1.0 / b.r.p, 1.0 / b.r.q);
        let aa = k * ip - nk * iq;
        let ga: [f64; 4] = std::array::from_fn(|j| aa * b.r.dp[j]);
        for j in 0..4 {
            g[j] += pi * ga[j];
        }
        if order == Order::Hessian {
            let bb = -k * ip * ip - nk * iq * iq;
            for x in 0..4 {
                for y in x..4 {
                    hs[x][y] +=
                        pi * (bb * b.r.dp[x] * b.r.dp[y] + aa * b.r.d2p[x][y] + ga[x] * ga[y]);
                }
            }
        }
    }
    out.grad = g;
    if order == Order::Hessian {
        for x in 0..4 {
            for y in x..4 {
                let v = hs[x][y] - g[x] * g[y];
                out.hess[x][y] = v;
                out.hess[y][x] = v;
            }
        }
    }
}

/// The per-call log-likelihood `Σ_c ℓ_c` with derivatives up to `order`.
pub fn call_log_likelihood(
    kind: NoiseKind,
    params: &Params,
    cells: &QubitCounts,
    grid: Option<&GaussGrid>,
    order: Order,
) -> LogLik {
    let mut total = LogLik::default();
    for_each_call(kind, params, cells, grid, order, |_, e| {
        total.ll += e.ll;
        for i in 0..4 {
            total.grad[i] += e.grad[i];
            for j in 0..4 {
                total.hess[i][j] += e.hess[i][j];
            }
        }
    });
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{log_likelihood, p_down};

    fn cells() -> QubitCounts {
        QubitCounts::from_triples([
            (-0.2, 40, 1000),
            (-0.2, 90, 1000),
            (0.0, 420, 1000),
            (0.0, 610, 1000),
            (0.0, 480, 1000),
            (0.1, 800, 1000),
            (0.5, 990, 1000),
        ])
    }

    #[test]
    fn derivatives_match_finite_differences() {
        let d = cells();
        let grid = GaussGrid::with_step(0.1);
        for kind in [NoiseKind::TwoPoint, NoiseKind::Gaussian] {
            let p = [6.0, 0.01, 0.07, 0.03];
            let e = call_log_likelihood(
                kind,
                &Params::from_array(p),
                &d,
                Some(&grid),
                Order::Hessian,
            );
            for i in 0..4 {
                let step = 1e-6 * p[i].abs().max(1e-2);
                let (mut lo, mut hi) = (p, p);
                lo[i] -= step;
                hi[i] += step;
                let f = |x: [f64; 4]| {
                    call_log_likelihood(
                        kind,
                        &Params::from_array(x),
                        &d,
                        Some(&grid),
                        Order::Gradient,
                    )
                };
                let (el, eh) = (f(lo), f(hi));
                let num = (eh.ll - el.ll) / (2.0 * step);
                assert!(
                    (num - e.grad[i]).abs() < 1e-5 * (1.0 + num.abs()),
                    "{kind:?} grad {i}: {num} vs {}",
                    e.grad[i]
                );
                for j in 0..4 {
                    let num = (eh.grad[j] - el.grad[j]) / (2.0 * step);
                    assert!(
                        (num - e.hess[i][j]).abs() < 1e-4 * (1.0 + num.abs()),
                        "{kind:?} hess {i}{j}: {num} vs {}",
                        e.hess[i][j]
                    );
                }
            }
        }
    }

    #[test]
    fn one_read_per_call_is_the_pooled_binomial() {
        // n = 1: a mixture of Bernoullis is a Bernoulli of the mean response.
        let d = QubitCounts::from_triples([
            (-0.1, 0, 1),
            (-0.1, 1, 1),
            (0.05, 1, 1),
            (0.3, 1, 1),
            (0.3, 0, 1),
        ]);
        let p = Params::new(7.0, 0.02, 0.1, 0.04);
        let per_call = call_log_likelihood(NoiseKind::TwoPoint, &p, &d, None, Order::Value).ll;
        let pooled = log_likelihood(NoiseKind::TwoPoint, &p, &d, Order::Value).ll;
        assert!((per_call - pooled).abs() < 1e-12, "{per_call} vs {pooled}");
        // and the Gaussian grid reproduces the Gaussian response
        let g = GaussGrid::with_step(0.05);
        let per_call = call_log_likelihood(NoiseKind::Gaussian, &p, &d, Some(&g), Order::Value).ll;
        let pooled = log_likelihood(NoiseKind::Gaussian, &p, &d, Order::Value).ll;
        assert!((per_call - pooled).abs() < 1e-7, "{per_call} vs {pooled}");
        assert!(p_down(NoiseKind::TwoPoint, &p, 0.0) > 0.0);
    }
}
