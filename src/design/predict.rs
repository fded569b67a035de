//! The standard errors a plan predicts over a prior's qubits: for each qubit of the sample, the covariance
//! of the fit the plan's counts will get ([`crate::collect::precision::fit_covariance`]), plus the
//! information of data already taken (an adaptive top-up's pilot); summarised as the root mean square
//! over the qubits (what the design constrains and what the simulation checks) and the largest value.

use super::prior::Prior;
use crate::collect::design_record::PredictedSe;
use crate::collect::information::{add_scaled, invert, standard_errors, FitLikelihood, Mat4};
use crate::collect::plan::{ParamValues, Plan};
use crate::collect::precision::{fit_covariance, fit_likelihood, per_call_information};

/// Per prior qubit, the information of `plan`'s calls under the per-call likelihood.
pub fn plan_information(plan: &Plan, prior: &Prior) -> Vec<Mat4> {
    use rayon::prelude::*;
    prior
        .qubits
        .par_iter()
        .map(|q| per_call_information(prior.law, &q.params, &plan.h, &plan.calls_by_row(q.col)))
        .collect()
}

/// Per prior qubit, the covariance of the default fit of `plan` (with `base` information added, which
/// assumes the per-call likelihood); `None` where singular.
pub fn covariances(plan: &Plan, prior: &Prior, base: Option<&[Mat4]>) -> Vec<Option<Mat4>> {
    use rayon::prelude::*;
    let likelihood = fit_likelihood(plan);
    prior
        .qubits
        .par_iter()
        .enumerate()
        .map(|(j, q)| {
            let rows = plan.calls_by_row(q.col);
            match (likelihood, base.and_then(|b| b.get(j))) {
                (FitLikelihood::PerCall, Some(b)) => {
                    let mut info = per_call_information(prior.law, &q.params, &plan.h, &rows);
                    add_scaled(&mut info, b, 1.0);
                    invert(&info)
                }
                _ => fit_covariance(likelihood, prior.law, &q.params, &plan.h, &rows),
            }
        })
        .collect()
}

/// Summary of per-qubit covariances: RMS and largest SE, RMS of SE(β)/β.
pub fn summarise(prior: &Prior, covs: &[Option<Mat4>], likelihood: FitLikelihood) -> PredictedSe {
    summarise_scenario(prior, covs, likelihood, None)
}

/// [`summarise`] over the prior qubits of one scenario (all with `None`).
pub fn summarise_scenario(
    prior: &Prior,
    covs: &[Option<Mat4>],
    likelihood: FitLikelihood,
    scenario: Option<usize>,
) -> PredictedSe {
    let keep = |s: usize| scenario.is_none_or(|x| x == s);
    let k = prior
        .qubits
        .iter()
        .filter(|q| keep(q.scenario))
        .count()
        .max(1) as f64;
    let mut sum2 = [0.0; 4];
    let mut max = [0.0f64; 4];
    let mut rel2 = 0.0;
    let mut ok = [true; 4];
    for (q, c) in prior
        .qubits
        .iter()
        .zip(covs)
        .filter(|(q, _)| keep(q.scenario))
    {
        let se = c.map_or([None; 4], |c| standard_errors(&c));
        for i in 0..4 {
            match se[i] {
                Some(s) => {
                    sum2[i] += s * s;
                    max[i] = max[i].max(s);
                }
                None => ok[i] = false,
            }
        }
        if let Some(s) = se[0] {
            rel2 += (s / q.params.beta).powi(2);
        }
    }
    let rms: [Option<f64>; 4] = std::array::from_fn(|i| ok[i].then(|| (sum2[i] / k).sqrt()));
    let mx: [Option<f64>; 4] = std::array::from_fn(|i| ok[i].then_some(max[i]));
    PredictedSe {
        rms_se: ParamValues::from_array(rms),
        rms_rel_se_beta: ok[0].then(|| (rel2 / k).sqrt()),
        max_se: ParamValues::from_array(mx),
        fit_likelihood: likelihood,
    }
}

/// Predicted errors of `plan` over `prior`.
pub fn predict(plan: &Plan, prior: &Prior, base: Option<&[Mat4]>) -> PredictedSe {
    summarise(prior, &covariances(plan, prior, base), fit_likelihood(plan))
}
