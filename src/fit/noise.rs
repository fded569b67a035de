//! The chip's noise likelihood (docs/physics.md §3.5, docs/uncertainties.md): per read (binomial counts
//! of the averaged response) or per call (the reads of one call share one noise draw), and per call the
//! noise law (two-point ±η or Gaussian), chosen by the maximised likelihood summed over up to
//! [`NOISE_SAMPLE`] evenly spread qubits. Both likelihoods are in count form on the same per-call counts,
//! so they compare. In two stages: per read against the per-call two-point law; only when the per-call
//! likelihood is ahead, the two-point law against the Gaussian one (warm-started from the two-point
//! maximum), so a chip without call-to-call noise pays nothing for the Gaussian law.
//!
//! **Per qubit.** A few qubits whose per-call noise is not two-point (a neighbour's spin through crosstalk,
//! say) can put the Gaussian law ahead in the sample's sum while most qubits are two-point, or be missed by
//! the sum while the law matters much for them. So when the Gaussian law is ahead in the sum, or ahead on
//! one sampled qubit by more than [`GAUSSIAN_EVIDENCE_NATS`], every qubit keeps the more likely of the
//! two laws ([`ModelChoice::NoiseLaws`]; the record's `per_qubit_law`): the two-point law is fitted, and
//! the Gaussian law too where, at the two-point maximum, it comes within
//! [`super::qubit::LAW_SCREEN_NATS`] of it. On a chip where every sampled qubit is two-point, only the
//! two-point law is fitted.

use super::chip::{block_cells, qubit_counts};
use super::config::{FitConfig, ModelChoice, NoiseLikelihood};
use super::qubit::{max_log_likelihoods, QubitData, LAW_SCREEN_NATS};
use super::result::{NoiseCandidate, NoiseChoice};
use crate::model::calls::GaussGrid;
use crate::model::{Model, Param};
use crate::sweep::Sweep;
use rayon::prelude::*;

/// Qubits on which the chip's noise likelihood is chosen.
pub const NOISE_SAMPLE: usize = 64;

/// A sampled qubit whose Gaussian-law likelihood beats its two-point one by more than this (a likelihood
/// ratio above e¹⁰ between two models with the same parameters) shows that the chip has qubits whose
/// per-call noise is not two-point. On the demo-like chip of docs/uncertainties.md the largest Gaussian
/// advantage among the 5,225 qubits not coupled by crosstalk was 7.7 nats; the 402 coupled ones had 61
/// nats or more.
pub const GAUSSIAN_EVIDENCE_NATS: f64 = 10.0;

/// Whether the per-call likelihood can describe this sweep: per-call blocks of one call per cell and a
/// model with field noise; otherwise why not.
pub fn per_call_possible(sweep: &Sweep, model: ModelChoice) -> Result<(), String> {
    if sweep.blocks.is_empty() {
        return Err("the sweep has no per-call blocks: η cannot be separated from call-to-call noise, and η and its errors describe the pooled counts only".into());
    }
    match sweep.meta.calls_per_block {
        Some(1) => {}
        Some(k) => return Err(format!("each block cell holds {k} calls, whose noise draws the per-call likelihood cannot separate")),
        None => return Err("the sweep does not record how many calls each block cell holds (meta.calls_per_block); the per-call likelihood needs one call per cell".into()),
    }
    if let ModelChoice::Fixed(m) = model {
        if !m.fits(Param::Eta) {
            return Err(format!("model {m} has no field noise"));
        }
    }
    Ok(())
}

/// A choice made without comparing likelihoods.
fn given(likelihood: NoiseLikelihood, reason: String) -> NoiseChoice {
    NoiseChoice {
        likelihood,
        reason,
        candidates: Vec::new(),
        qubits_compared: 0,
        per_qubit_law: false,
    }
}

/// The chip's noise likelihood. Returns the record, whether to fit per call, and the model choice to
/// fit with (per call, `--noise auto` and model qasa or gaussian: the law that won).
pub fn choose_noise(
    sweep: &Sweep,
    cfg: &FitConfig,
    grid: &GaussGrid,
) -> (NoiseChoice, bool, ModelChoice) {
    if cfg.noise == NoiseLikelihood::PerRead {
        let reason = "asked for (per-read noise likelihood)".to_string();
        return (given(NoiseLikelihood::PerRead, reason), false, cfg.model);
    }
    if let Err(reason) = per_call_possible(sweep, cfg.model) {
        return (given(NoiseLikelihood::PerRead, reason), false, cfg.model);
    }
    if cfg.noise == NoiseLikelihood::PerCall {
        let reason = "asked for (per-call noise likelihood)".to_string();
        return (given(NoiseLikelihood::PerCall, reason), true, cfg.model);
    }
    let base = match cfg.model {
        ModelChoice::Fixed(m) => m,
        ModelChoice::Auto | ModelChoice::NoiseLaws => Model::Qasa,
    };
    let two_laws = matches!(base, Model::Qasa | Model::Gaussian);
    let first = if two_laws { Model::Qasa } else { base };
    let n_q = sweep.qubits.len();
    let m = n_q.min(NOISE_SAMPLE);
    let picks: Vec<usize> = (0..m).map(|i| i * n_q / m).collect();
    let mut cands = vec![
        (NoiseLikelihood::PerRead, base),
        (NoiseLikelihood::PerCall, first),
    ];
    let mut lls: Vec<Vec<Option<f64>>> = picks
        .par_iter()
        .map(|&iq| {
            let mut v = sample(sweep, iq, false, &[base], cfg, grid);
            v.extend(sample(sweep, iq, true, &[first], cfg, grid));
            v
        })
        .collect();
    if two_laws && total(&lls, 1) > total(&lls, 0) {
        cands.push((NoiseLikelihood::PerCall, Model::Gaussian));
        let gauss: Vec<Option<f64>> = picks
            .par_iter()
            .map(|&iq| sample(sweep, iq, true, &[Model::Qasa, Model::Gaussian], cfg, grid)[1])
            .collect();
        for (v, g) in lls.iter_mut().zip(gauss) {
            v.push(g);
        }
    }
    let mut out = decide(&cands, &lls, cfg.model);
    if let (ModelChoice::Fixed(_), true) = (cfg.model, out.1) {
        let strong = lls
            .iter()
            .filter(|v| matches!(v[..], [_, Some(t), Some(g)] if g - t > GAUSSIAN_EVIDENCE_NATS))
            .count();
        if out.2 == ModelChoice::Fixed(Model::Gaussian) || strong > 0 {
            out.2 = ModelChoice::NoiseLaws;
            out.0.per_qubit_law = true;
            out.0.reason = format!(
                "{}; the Gaussian law fits {strong} of the sampled qubits better by more than {GAUSSIAN_EVIDENCE_NATS} nats, so each qubit keeps the more likely per-call law (the Gaussian law fitted where it comes within {LAW_SCREEN_NATS} nats of the two-point one at the latter's maximum)",
                out.0.reason
            );
        }
    }
    out
}

/// The maximised ℓ of `models` (in order, warm-started) on sampled column `iq`.
fn sample(
    sweep: &Sweep,
    iq: usize,
    per_call: bool,
    models: &[Model],
    cfg: &FitConfig,
    grid: &GaussGrid,
) -> Vec<Option<f64>> {
    let data = qubit_counts(sweep, iq);
    let cells = block_cells(sweep, iq);
    let qd = QubitData {
        pooled: &data,
        cells: Some(&cells),
        per_call,
        grid: Some(grid),
    };
    max_log_likelihoods(&qd, models, cfg)
}

/// ℓ of candidate `c` summed over the qubits where every candidate so far was fitted.
fn total(lls: &[Vec<Option<f64>>], c: usize) -> f64 {
    lls.iter()
        .filter(|v| v.iter().all(Option::is_some))
        .filter_map(|v| v[c])
        .sum()
}

/// The candidate with the highest ℓ summed over the qubits where every candidate was fitted.
fn decide(
    cands: &[(NoiseLikelihood, Model)],
    lls: &[Vec<Option<f64>>],
    model: ModelChoice,
) -> (NoiseChoice, bool, ModelChoice) {
    let compared = lls.iter().filter(|v| v.iter().all(Option::is_some)).count();
    let candidates: Vec<NoiseCandidate> = cands
        .iter()
        .enumerate()
        .map(|(c, &(likelihood, model))| NoiseCandidate {
            likelihood,
            model,
            ll: total(lls, c),
        })
        .collect();
    if compared == 0 {
        let reason = "no sampled qubit could be fitted with every candidate; per-read kept";
        let mut choice = given(NoiseLikelihood::PerRead, reason.to_string());
        choice.candidates = candidates;
        return (choice, false, model);
    }
    let best = candidates
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.ll.total_cmp(&b.1.ll))
        .map_or(0, |x| x.0);
    let label =
        |c: &NoiseCandidate| format!("{} {}", c.likelihood.name().replace('_', "-"), c.model);
    let runner_up = candidates
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != best)
        .max_by(|a, b| a.1.ll.total_cmp(&b.1.ll));
    let reason = match runner_up {
        Some((_, r)) => format!(
            "the highest likelihood on {compared} sampled qubits, {:.1} nats above {}",
            candidates[best].ll - r.ll,
            label(r)
        ),
        None => "the only candidate".to_string(),
    };
    let (lik, chosen) = cands[best];
    let choice = match model {
        ModelChoice::Fixed(_) => ModelChoice::Fixed(chosen),
        other => other,
    };
    (
        NoiseChoice {
            likelihood: lik,
            reason,
            candidates,
            qubits_compared: compared,
            per_qubit_law: false,
        },
        lik == NoiseLikelihood::PerCall,
        choice,
    )
}
