//! Robust (sandwich) standard errors and 95 % intervals: the default errors of a fit (docs/physics.md
//! §3.5, docs/uncertainties.md).
//!
//! Quasi-static noise makes counts over-dispersed by a factor that depends strongly on h (≈ 36 at the
//! centre, ≈ 1 on the plateaus under per-call noise), which no single scale factor corrects. The
//! sandwich `V = B⁻¹ M B⁻¹ · C/(C-1)` estimates the variance from the data's own scatter:
//! - clusters: the cells of the sweep's per-call blocks (one h, one block: calls of one h are
//!   independent of all other cells), or, without blocks, the h values (then it is the
//!   heteroskedasticity-robust sandwich over h values);
//! - meat `M = Σ_c s_c s_cᵀ` with `s_c` the score of cluster c: `(k_c - n_c p)/(p q) ∂p` for the
//!   per-read (binomial) likelihood, the gradient of the cell's mixture log-likelihood for the per-call
//!   likelihood;
//! - bread `B`: the expected information `Σ N ∂p ∂pᵀ/(p q)` (per read), the observed information
//!   (per call), or `M` itself (per call with γ or η on the bound, where the observed information needs
//!   fourth derivatives);
//! - critical value `t_{C-1}(0.975)`.
//!
//! γ and η enter only through γ², η²: their covariance is computed in `ζ = θ²` (where the likelihood is
//! regular, also on the bound θ = 0; `∂p/∂ζ = ∂p/∂θ / (2θ)`, and `½ ∂²p/∂θ²` at θ = 0), and their
//! interval is the Wald interval in ζ mapped back, `[sqrt(max(0, ζ̂ - t se_ζ)), sqrt(ζ̂ + t se_ζ)]`. On
//! the bound that is the one-sided interval `[0, sqrt(t se_ζ)]`, and the other parameters' errors keep
//! the uncertainty of ζ (in θ coordinates it would be conditioned away); their intervals are centred on
//! the unconstrained maximum of the quadratic approximation (one scoring step `B⁻¹ Σ s_c` from the
//! fit), since the constrained estimate is biased when the true θ > 0.

use super::linalg::spd_inverse;
use super::objective::Likelihood;
use crate::model::{for_each_call, response, Model, Order, Param, Params, QubitCounts, P_MIN};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The confidence level of every interval qasa writes.
pub const CONFIDENCE: f64 = 0.95;

/// |θ| below which γ or η counts as on its bound for the ζ transform.
const TINY: f64 = 1e-12;

/// Which robust covariance a qubit's `*_se`, `*_lo`, `*_hi` come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorMethod {
    /// Cluster-robust sandwich with the per-call block cells as clusters, `C/(C-1)`, `t_{C-1}`.
    ClusterRobustCalls,
    /// Heteroskedasticity-robust sandwich over the h values (no per-call blocks), `C/(C-1)`, `t_{C-1}`.
    RobustH,
}

impl ErrorMethod {
    pub fn name(self) -> &'static str {
        match self {
            ErrorMethod::ClusterRobustCalls => "cluster_robust_calls",
            ErrorMethod::RobustH => "robust_h",
        }
    }
    /// One line for summaries.
    pub fn describe(self) -> &'static str {
        match self {
            ErrorMethod::ClusterRobustCalls => {
                "cluster-robust sandwich over calls (C/(C-1), t with C-1 dof)"
            }
            ErrorMethod::RobustH => "robust sandwich over h values (no per-call blocks)",
        }
    }
}

/// Robust errors of one qubit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Robust {
    /// Standard error per parameter (natural units; `None` when not fitted or on the bound).
    pub se: [Option<f64>; 4],
    /// 95 % interval per parameter (|γ|, |η| for the even ones).
    pub interval: [(Option<f64>, Option<f64>); 4],
    /// Number of clusters C.
    pub clusters: usize,
    /// `t_{C-1}(0.975)`.
    pub critical: f64,
}

/// `t_{dof}` quantile at `CONFIDENCE` (two-sided).
pub fn critical_value(dof: usize) -> Option<f64> {
    let t = StudentsT::new(0.0, 1.0, dof as f64).ok()?;
    Some(t.inverse_cdf(0.5 + CONFIDENCE / 2.0)).filter(|v| v.is_finite())
}

/// ∂/∂ψ from ∂/∂θ (ψ = ζ for the even parameters): the gradient `g`, with `h_diag[j] = ∂²/∂θ_j²` used
/// on the bound.
fn to_psi(g: &[f64; 4], h_diag: [f64; 4], p: &Params, model: Model) -> [f64; 4] {
    std::array::from_fn(|j| {
        let prm = Param::ALL[j];
        if !model.fits(prm) {
            0.0
        } else if !prm.is_even() {
            g[j]
        } else {
            let t = p.get(prm);
            if t.abs() > TINY {
                g[j] / (2.0 * t)
            } else {
                0.5 * h_diag[j]
            }
        }
    })
}

fn on_bound(p: &Params, model: Model) -> bool {
    Param::EVEN
        .into_iter()
        .any(|e| model.fits(e) && p.get(e).abs() <= TINY)
}

fn add_outer(m: &mut [[f64; 4]; 4], a: &[f64; 4], b: &[f64; 4], w: f64) {
    for i in 0..4 {
        for j in 0..4 {
            m[i][j] += w * a[i] * b[j];
        }
    }
}

/// Bread and meat of the per-read (binomial) likelihood over the clusters `cells` (grouped by h).
/// Bread, meat and the summed score (all in ψ coordinates).
type Parts = ([[f64; 4]; 4], [[f64; 4]; 4], [f64; 4]);

fn per_read_parts(lik: &Likelihood<'_>, cells: &QubitCounts, p: &Params, model: Model) -> Parts {
    let order = if on_bound(p, model) {
        Order::Hessian
    } else {
        Order::Gradient
    };
    let (mut bread, mut meat, mut score) = ([[0.0; 4]; 4], [[0.0; 4]; 4], [0.0; 4]);
    let mut i = 0;
    while i < cells.len() {
        let h = cells.h[i];
        let end = (i..cells.len())
            .find(|&j| cells.h[j] != h)
            .unwrap_or(cells.len());
        let r = response(lik.kind, p, h, order);
        let (pp, qq) = (r.p.max(P_MIN), r.q.max(P_MIN));
        let dpsi = to_psi(&r.dp, std::array::from_fn(|j| r.d2p[j][j]), p, model);
        let n_h: f64 = cells.n[i..end].iter().sum();
        add_outer(&mut bread, &dpsi, &dpsi, n_h / (pp * qq));
        for c in i..end {
            let w = (cells.k[c] - cells.n[c] * pp) / (pp * qq);
            add_outer(&mut meat, &dpsi, &dpsi, w * w);
            for j in 0..4 {
                score[j] += w * dpsi[j];
            }
        }
        i = end;
    }
    (bread, meat, score)
}

/// Bread and meat of the per-call likelihood over its cells (`hess`: its Hessian at `p`).
fn per_call_parts(
    lik: &Likelihood<'_>,
    cells: &QubitCounts,
    p: &Params,
    model: Model,
    hess: &[[f64; 4]; 4],
) -> Parts {
    let bound = on_bound(p, model);
    let (mut meat, mut score) = ([[0.0; 4]; 4], [0.0; 4]);
    // per-cell Hessians only on the bound (where the score in ζ needs ∂²ℓ_c/∂θ²)
    let order = if bound {
        Order::Hessian
    } else {
        Order::Gradient
    };
    for_each_call(lik.kind, p, cells, lik.grid, order, |_, e| {
        let s = to_psi(&e.grad, std::array::from_fn(|j| e.hess[j][j]), p, model);
        add_outer(&mut meat, &s, &s, 1.0);
        for i in 0..4 {
            score[i] += s[i];
        }
    });
    if bound {
        return (meat, meat, score);
    }
    // -H in ψ coordinates (the gradient vanishes at the interior maximum)
    let scale: [f64; 4] = std::array::from_fn(|j| {
        let prm = Param::ALL[j];
        if prm.is_even() && model.fits(prm) {
            1.0 / (2.0 * p.get(prm))
        } else {
            1.0
        }
    });
    let bread = std::array::from_fn(|i| std::array::from_fn(|j| -hess[i][j] * scale[i] * scale[j]));
    (bread, meat, score)
}

/// The robust errors of the fit `p` of `model` under `lik`; the clusters are `clusters` (per-read
/// likelihood) or the likelihood's own cells (per call). `hess`: the Hessian of `lik` at `p`
/// (natural coordinates; the bread of the per-call sandwich). `None` when the sandwich cannot be
/// formed (fewer than 2 clusters or a singular bread).
pub fn robust_errors(
    lik: &Likelihood<'_>,
    clusters: &QubitCounts,
    p: &Params,
    model: Model,
    hess: &[[f64; 4]; 4],
) -> Option<Robust> {
    let cells = lik.cells.unwrap_or(clusters);
    let c = cells.len();
    if c < 2 {
        return None;
    }
    let (bread, meat, score) = match lik.cells {
        Some(cells) => per_call_parts(lik, cells, p, model, hess),
        None => per_read_parts(lik, clusters, p, model),
    };
    let idx: Vec<usize> = Param::ALL
        .into_iter()
        .filter(|&q| model.fits(q))
        .map(Param::index)
        .collect();
    let binv = spd_inverse(&bread, &idx)?;
    let factor = c as f64 / (c - 1) as f64;
    let mut v = [[0.0; 4]; 4];
    for i in 0..4 {
        for j in 0..4 {
            let mut s = 0.0;
            for k in 0..4 {
                for l in 0..4 {
                    s += binv[i][k] * meat[k][l] * binv[l][j];
                }
            }
            v[i][j] = factor * s;
        }
    }
    let t = critical_value(c - 1)?;
    // On the bound the estimate of the other parameters is conditioned on θ = 0; their intervals are
    // centred on the unconstrained maximum of the quadratic approximation instead (one scoring step
    // from the fit, which moves ζ below 0), whose sampling distribution is normal.
    let shift: [f64; 4] = if on_bound(p, model) {
        std::array::from_fn(|i| (0..4).map(|k| binv[i][k] * score[k]).sum())
    } else {
        [0.0; 4]
    };
    let mut out = Robust {
        se: [None; 4],
        interval: [(None, None); 4],
        clusters: c,
        critical: t,
    };
    for prm in Param::ALL {
        let j = prm.index();
        if !(model.fits(prm) && v[j][j].is_finite() && v[j][j] >= 0.0) {
            continue;
        }
        let s = v[j][j].sqrt();
        let x = p.get(prm);
        if prm.is_even() {
            let (a, z) = (x.abs(), x * x);
            out.interval[j] = (Some((z - t * s).max(0.0).sqrt()), Some((z + t * s).sqrt()));
            out.se[j] = (a > TINY).then(|| s / (2.0 * a));
        } else {
            let centre = x + shift[j];
            out.interval[j] = (Some(centre - t * s), Some(centre + t * s));
            out.se[j] = Some(s);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles() {
        assert!((critical_value(9).unwrap() - 2.262157162740992).abs() < 1e-9);
        assert!((critical_value(809).unwrap() - 1.9628).abs() < 1e-3);
    }
}
