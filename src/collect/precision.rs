//! The standard errors a plan can expect, before any QPU time is spent (docs/physics.md §6; the
//! information of each kind of call is in [`super::information`]).
//!
//! The errors are those of the fit the plan's counts will get by default:
//!
//! - when every block cell of the sweep holds one call (`blocks` ≥ the calls any qubit sees at one field,
//!   what `qasa plan` records by default), the per-call likelihood: `I(θ) = Σ_calls I_call(h, r)` and
//!   `SE(θ_i) = sqrt((I⁻¹)_ii)`;
//! - otherwise the per-read likelihood with robust errors: the sandwich `B⁻¹ M B⁻¹`.
//!
//! Three sets are given: binomial (reads independent, the textbook number), and the default fit's under
//! per-call noise with a two-point law (the qasa model and the virtual QPU's default) and with a Gaussian
//! law. They differ a lot, and in both directions: with the two-point law, long calls resolve each call's
//! noise branch, so their per-call errors can be *smaller* than the binomial ones (η especially); with the
//! Gaussian law the information of a call near the transition saturates and errors are larger; pooled
//! counts of long calls lose the most (≈ 3× for β, 5× for b on the reference protocol).
//!
//! All are computed at the chip family's typical values (docs/physics.md §4, the virtual QPU's defaults):
//! β at the plan's anneal time, b = 0.01, γ and η of the family. `qasa plan --optimize` predicts over a
//! prior sample of qubits instead (see `crate::design`).

use super::information::{
    add_scaled, call_information, invert, per_read_fit_covariance, standard_errors, FitLikelihood,
    Mat4, NoiseLaw,
};
use super::plan::{ParamValues, Plan, Precision};
use crate::device::truth::{family_defaults, REFERENCE_ANNEAL_TIME_US};
use crate::model::{fisher_information, NoiseKind, Params};
use crate::topology::Family;
use std::collections::BTreeMap;

/// Typical static bias, h units (docs/physics.md §4).
pub const TYPICAL_BIAS: f64 = 0.01;
/// Exponent κ of β(t) = β(5 µs)·(t / 5 µs)^κ assumed for typical values (the virtual QPU's default).
pub const BETA_TIME_EXPONENT: f64 = 0.1;
/// Columns inspected to decide whether block cells hold one call.
const COLUMNS_CHECKED: usize = 16;

/// Typical parameters of a chip family at an anneal time.
pub fn typical_params(family: Family, anneal_time_us: f64) -> Params {
    let (beta5, gamma, eta) = family_defaults(family);
    let beta = beta5 * (anneal_time_us / REFERENCE_ANNEAL_TIME_US).powf(BETA_TIME_EXPONENT);
    Params::new(beta, TYPICAL_BIAS, gamma, eta)
}

impl ParamValues {
    /// From `[β, b, γ, η]`.
    pub fn from_array(v: [Option<f64>; 4]) -> Self {
        ParamValues {
            beta: v[0],
            b: v[1],
            gamma: v[2],
            eta: v[3],
        }
    }

    /// As `[β, b, γ, η]`.
    pub fn to_array(self) -> [Option<f64>; 4] {
        [self.beta, self.b, self.gamma, self.eta]
    }
}

/// Whether block cells hold one call for the qubit in column `col`.
fn single_calls(plan: &Plan, col: usize) -> bool {
    plan.calls_and_blocks_by_row(col).iter().all(|row| {
        let mut blocks: Vec<Option<u32>> = row.iter().map(|&(_, b)| b).collect();
        blocks.sort_unstable();
        blocks.iter().all(Option::is_some) && blocks.windows(2).all(|w| w[0] != w[1])
    })
}

/// The likelihood the default fit uses for a plan's counts: per call when every block cell of the
/// sweep holds one call (checked on up to 16 columns spread over the plan's qubits).
pub fn fit_likelihood(plan: &Plan) -> FitLikelihood {
    let n = plan.qubits.len();
    if plan.blocks == 0 || n == 0 {
        return FitLikelihood::PerRead;
    }
    let step = n.div_ceil(COLUMNS_CHECKED).max(1);
    let cols = (0..n).step_by(step).chain([n - 1]);
    let mut all = true;
    for col in cols {
        all &= single_calls(plan, col);
    }
    if all {
        FitLikelihood::PerCall
    } else {
        FitLikelihood::PerRead
    }
}

/// Information of the calls `rows[i]` at fields `h[i]` under the per-call likelihood.
pub fn per_call_information(law: NoiseLaw, at: &Params, h: &[f64], rows: &[Vec<u32>]) -> Mat4 {
    let mut info = [[0.0; 4]; 4];
    for (&x, calls) in h.iter().zip(rows) {
        let mut sizes: BTreeMap<u32, f64> = BTreeMap::new();
        for &r in calls {
            *sizes.entry(r).or_default() += 1.0;
        }
        for (r, n) in sizes {
            add_scaled(&mut info, &call_information(law, at, x, r), n);
        }
    }
    info
}

/// Covariance of the default fit of a qubit seeing calls `rows[i]` at fields `h[i]`.
pub fn fit_covariance(
    likelihood: FitLikelihood,
    law: NoiseLaw,
    at: &Params,
    h: &[f64],
    rows: &[Vec<u32>],
) -> Option<Mat4> {
    match likelihood {
        FitLikelihood::PerCall => invert(&per_call_information(law, at, h, rows)),
        FitLikelihood::PerRead => per_read_fit_covariance(law, at, h, rows),
    }
}

fn se_values(cov: Option<Mat4>) -> ParamValues {
    ParamValues::from_array(cov.map_or([None; 4], |c| standard_errors(&c)))
}

/// Expected standard errors of a plan at `at` (the qubit in column 0).
pub fn expected(plan: &Plan, at: Params) -> Precision {
    let rows = plan.calls_by_row(0);
    let n: Vec<f64> = rows
        .iter()
        .map(|r| r.iter().map(|&x| f64::from(x)).sum())
        .collect();
    let binomial = fisher_information(NoiseKind::TwoPoint, &at, &plan.h, &n);
    let likelihood = fit_likelihood(plan);
    let se = |law| se_values(fit_covariance(likelihood, law, &at, &plan.h, &rows));
    let how = match likelihood {
        FitLikelihood::PerCall => "each call is its own block cell, so the default fit uses the per-call likelihood (its expected information, call by call)",
        FitLikelihood::PerRead => "block cells hold several calls (or none are recorded), so the default fit uses the per-read likelihood with robust errors (sandwich covariance with the over-dispersion of the shared noise)",
    };
    Precision {
        at,
        se_binomial: se_values(invert(&binomial)),
        se_per_call_noise: se(NoiseLaw::TwoPoint),
        se_per_call_gaussian: Some(se(NoiseLaw::Gaussian)),
        fit_likelihood: Some(likelihood),
        note: format!(
            "standard errors of one qubit at the family's typical values; {how}. se_binomial treats reads as independent; se_per_call_noise assumes the reads of a call share one ±η draw (the qasa model), se_per_call_gaussian one Gaussian draw"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_protocol_binomial_errors_match_physics_md() {
        // docs/physics.md §3: 81 h in [-1, 1], 10^6 reads each, at (11, 0.01, 0.05, 0.02):
        // SE(β) 0.016, SE(b) 3.4e-5, SE(γ) 1.4e-4, SE(η) 4.7e-4.
        let h: Vec<f64> = (-40..=40).map(|k| f64::from(k) * 0.025).collect();
        let n = vec![1e6; h.len()];
        let at = Params::new(11.0, 0.01, 0.05, 0.02);
        let se = standard_errors(
            &invert(&fisher_information(NoiseKind::TwoPoint, &at, &h, &n)).unwrap(),
        );
        let rel = |a: Option<f64>, b: f64| (a.unwrap() / b - 1.0).abs();
        assert!(rel(se[0], 0.016) < 0.05, "{se:?}");
        assert!(rel(se[1], 3.4e-5) < 0.05, "{se:?}");
        assert!(rel(se[2], 1.4e-4) < 0.05, "{se:?}");
        assert!(rel(se[3], 4.7e-4) < 0.05, "{se:?}");
    }
}
