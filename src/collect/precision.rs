//! The standard errors a plan can expect, before any QPU time is spent (docs/physics.md §6).
//!
//! At parameters θ = (β, b, γ, η) the expected information of the counts is
//!
//! ```text
//! I(θ) = Σ_h N_h ∂p_h ∂p_hᵀ / (p_h q_h φ_h)        SE(θ_i) = sqrt((I⁻¹)_ii)
//! ```
//!
//! with `N_h` the reads at physical field h and `p_h` the model's `p_down`. With `φ_h = 1` this is the
//! binomial Fisher information (`model::fisher_information`), which assumes every read independent. It is
//! optimistic: flux noise is quasi-static, so the reads of one call share one noise draw (physics.md §3
//! item 5). Under the two-point noise model each call sits on the `+η` or the `-η` branch, with down
//! probabilities `p±` at fields `h + b ± η`; a call of r reads then has variance `r p q + r (r − 1) δ²`,
//! `δ = (p₊ − p₋) / 2`, so the counts at h are over-dispersed by
//!
//! ```text
//! φ_h = 1 + (Σ r_c² / Σ r_c − 1) · δ² / (p q)
//! ```
//!
//! over the calls c at h. Dividing by φ_h (the quasi-likelihood information) gives the second set of
//! errors. Both are computed at the chip family's typical values (docs/physics.md §4, the virtual QPU's
//! defaults): β at the plan's anneal time, b = 0.01, γ and η of the family.

// Small fixed-size numeric kernels read best with index loops.
#![allow(clippy::needless_range_loop)]

use super::plan::{ParamValues, Plan, Precision};
use crate::device::truth::{family_defaults, REFERENCE_ANNEAL_TIME_US};
use crate::model::{fisher_information, p_down, response, NoiseKind, Order, Params, P_MIN};
use crate::topology::Family;

/// Typical static bias, h units (docs/physics.md §4).
pub const TYPICAL_BIAS: f64 = 0.01;
/// Exponent κ of β(t) = β(5 µs)·(t / 5 µs)^κ assumed for typical values (the virtual QPU's default).
pub const BETA_TIME_EXPONENT: f64 = 0.1;

/// Typical parameters of a chip family at an anneal time.
pub fn typical_params(family: Family, anneal_time_us: f64) -> Params {
    let (beta5, gamma, eta) = family_defaults(family);
    let beta = beta5 * (anneal_time_us / REFERENCE_ANNEAL_TIME_US).powf(BETA_TIME_EXPONENT);
    Params::new(beta, TYPICAL_BIAS, gamma, eta)
}

/// Inverse of a symmetric positive-definite 4×4 matrix (Gauss–Jordan with partial pivoting); `None` when
/// singular to working precision.
fn invert(a: &[[f64; 4]; 4]) -> Option<[[f64; 4]; 4]> {
    let mut m = *a;
    let mut inv = [[0.0; 4]; 4];
    for (i, row) in inv.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    let scale = a.iter().flatten().fold(0.0f64, |s, x| s.max(x.abs()));
    for col in 0..4 {
        let pivot = (col..4).max_by(|&r, &s| m[r][col].abs().total_cmp(&m[s][col].abs()))?;
        if m[pivot][col].abs() <= scale * 1e-14 {
            return None;
        }
        m.swap(col, pivot);
        inv.swap(col, pivot);
        let d = m[col][col];
        for k in 0..4 {
            m[col][k] /= d;
            inv[col][k] /= d;
        }
        for r in (0..4).filter(|&r| r != col) {
            let f = m[r][col];
            for k in 0..4 {
                m[r][k] -= f * m[col][k];
                inv[r][k] -= f * inv[col][k];
            }
        }
    }
    Some(inv)
}

fn standard_errors(info: &[[f64; 4]; 4]) -> ParamValues {
    let se = |i: usize, inv: &[[f64; 4]; 4]| {
        let v = inv[i][i];
        (v.is_finite() && v > 0.0).then(|| v.sqrt())
    };
    match invert(info) {
        Some(inv) => ParamValues {
            beta: se(0, &inv),
            b: se(1, &inv),
            gamma: se(2, &inv),
            eta: se(3, &inv),
        },
        None => ParamValues {
            beta: None,
            b: None,
            gamma: None,
            eta: None,
        },
    }
}

/// Per-h reads `Σ r_c` and `Σ r_c²` of the qubit in column 0.
fn reads_by_row(plan: &Plan) -> (Vec<f64>, Vec<f64>) {
    plan.calls_by_row(0)
        .iter()
        .map(|calls| {
            calls.iter().fold((0.0, 0.0), |(n, n2), &r| {
                let r = f64::from(r);
                (n + r, n2 + r * r)
            })
        })
        .unzip()
}

/// Expected standard errors of a plan at `at`.
pub fn expected(plan: &Plan, at: Params) -> Precision {
    let (n, n2) = reads_by_row(plan);
    let binomial = fisher_information(NoiseKind::TwoPoint, &at, &plan.h, &n);
    let branch = |h: f64, sign: f64| {
        let p = Params::new(at.beta, at.b + sign * at.eta, at.gamma, 0.0);
        p_down(NoiseKind::TwoPoint, &p, h)
    };
    let mut dispersed = [[0.0; 4]; 4];
    for (i, &h) in plan.h.iter().enumerate() {
        if n[i] <= 0.0 {
            continue;
        }
        let r = response(NoiseKind::TwoPoint, &at, h, Order::Gradient);
        let pq = r.p.max(P_MIN) * r.q.max(P_MIN);
        let delta = 0.5 * (branch(h, 1.0) - branch(h, -1.0));
        let phi = 1.0 + (n2[i] / n[i] - 1.0).max(0.0) * delta * delta / pq;
        let w = n[i] / (pq * phi);
        for (row, &da) in dispersed.iter_mut().zip(&r.dp) {
            for (cell, &db) in row.iter_mut().zip(&r.dp) {
                *cell += w * da * db;
            }
        }
    }
    Precision {
        at,
        se_binomial: standard_errors(&binomial),
        se_per_call_noise: standard_errors(&dispersed),
        note: "Fisher information of the QASA model at the family's typical values; the binomial errors \
               treat reads as independent and are optimistic, the per-call-noise errors add the \
               over-dispersion of two-point field noise shared by the reads of a call"
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_of_spd() {
        let a = [
            [4.0, 1.0, 0.5, 0.0],
            [1.0, 3.0, 0.2, 0.1],
            [0.5, 0.2, 2.0, 0.3],
            [0.0, 0.1, 0.3, 1.0],
        ];
        let inv = invert(&a).unwrap();
        for i in 0..4 {
            for j in 0..4 {
                let s: f64 = (0..4).map(|k| a[i][k] * inv[k][j]).sum();
                assert!((s - f64::from(u8::from(i == j))).abs() < 1e-12);
            }
        }
        assert!(invert(&[[0.0; 4]; 4]).is_none());
    }

    #[test]
    fn reference_protocol_binomial_errors_match_physics_md() {
        // docs/physics.md §3: 81 h in [-1, 1], 10^6 reads each, at (11, 0.01, 0.05, 0.02):
        // SE(β) 0.016, SE(b) 3.4e-5, SE(γ) 1.4e-4, SE(η) 4.7e-4.
        let h: Vec<f64> = (-40..=40).map(|k| f64::from(k) * 0.025).collect();
        let n = vec![1e6; h.len()];
        let at = Params::new(11.0, 0.01, 0.05, 0.02);
        let se = standard_errors(&fisher_information(NoiseKind::TwoPoint, &at, &h, &n));
        let rel = |a: Option<f64>, b: f64| (a.unwrap() / b - 1.0).abs();
        assert!(rel(se.beta, 0.016) < 0.05, "{se:?}");
        assert!(rel(se.b, 3.4e-5) < 0.05, "{se:?}");
        assert!(rel(se.gamma, 1.4e-4) < 0.05, "{se:?}");
        assert!(rel(se.eta, 4.7e-4) < 0.05, "{se:?}");
    }
}
