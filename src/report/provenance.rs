//! Provenance, protocol and model sections of the report, read from the sweep's and the fit's metadata.

use super::model::{Caveat, FitCounts, ModelInfo, Protocol, Provenance};
use super::stats::median;
use crate::fit::{FitResult, FitWarning};
use crate::sweep::Sweep;

/// Where the data came from.
pub fn provenance(sweep: &Sweep, fit: &FitResult, inputs: &[String]) -> Provenance {
    let m = &sweep.meta;
    Provenance {
        source: serde_json::to_value(&m.source)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        solver: m.solver.clone(),
        graph_id: m.graph_id.clone(),
        topology: m
            .topology
            .as_ref()
            .map(|t| format!("{} {:?}", t.kind, t.shape)),
        started_at: m.started_at.clone(),
        finished_at: m.finished_at.clone(),
        sweep_tool_version: m.tool_version.clone(),
        fit_tool_version: fit.meta.tool_version.clone(),
        parameters: m.parameters.clone(),
        gauges: m.gauges,
        seed: m.seed,
        inputs: inputs.to_vec(),
    }
}

/// How the data were taken.
pub fn protocol(sweep: &Sweep) -> Protocol {
    let h = &sweep.h;
    let steps = median(h.windows(2).map(|w| w[1] - w[0]));
    let reads: Vec<f64> = sweep.counts.reads.iter().map(|&r| f64::from(r)).collect();
    let total_reads: f64 = reads.iter().sum();
    let num = |key: &str| {
        sweep
            .meta
            .parameters
            .get(key)
            .and_then(serde_json::Value::as_f64)
    };
    // The service's charge when the sweep was collected, else the plan's estimate (simulations).
    let qpu = sweep
        .meta
        .campaign
        .as_ref()
        .and_then(|c| match c.charged_qpu_s {
            Some(s) => Some((s, "charged")),
            None => (c.estimated_qpu_s > 0.0).then_some((c.estimated_qpu_s, "estimated")),
        });
    Protocol {
        n_qubits: sweep.qubits.len(),
        n_h: h.len(),
        h_min: h.first().copied().unwrap_or(f64::NAN),
        h_max: h.last().copied().unwrap_or(f64::NAN),
        h_step: steps,
        reads_per_h: median(reads.iter().copied().filter(|&r| r > 0.0)),
        reads_per_call: num("num_reads"),
        anneal_time_us: sweep.meta.anneal_time_us.or_else(|| num("annealing_time")),
        n_blocks: sweep.blocks.len(),
        n_pair_couplers: sweep.pairs.as_ref().map_or(0, |p| p.couplers.len()),
        total_reads,
        qpu_time_s: qpu.map(|q| q.0),
        qpu_time_kind: qpu.map(|q| q.1.to_string()),
    }
}

/// Fit outcome counts.
pub fn fit_counts(fit: &FitResult) -> FitCounts {
    let s = &fit.summary;
    FitCounts {
        n_qubits: s.n_qubits,
        converged: s.converged,
        on_bound: s.on_bound,
        failed: s.failed,
        failures: s
            .failures
            .iter()
            .map(|(r, n)| (r.as_str().to_string(), *n))
            .collect(),
        median_dispersion: s.median_dispersion,
    }
}

/// The model formula (docs/physics.md §2).
pub fn formula() -> Vec<String> {
    vec![
        "p_down(h) = (1 + m(h)) / 2,   m(h) = ½ Σ± (a± / r±) · tanh(β r±)".into(),
        "a± = h + b ± η,   c = γ h,   r± = sqrt(a±² + c²)".into(),
        "ideal Gibbs qubit (b = γ = η = 0): p_down = (1 + tanh(β h)) / 2".into(),
    ]
}

/// The caveat a fit warning raises for this data.
fn warning_caveat(w: FitWarning) -> &'static str {
    match w {
        FitWarning::GaugeAveraged => {
            "Counts look gauge-averaged (p(h) + p(−h) ≈ 1 with b ≈ 0 and η large): a spin-reversal gauge turns a \
             static bias b into ±b, which the model reads as field noise η. Here η may be a disguised |b|; \
             record counts in the physical frame."
        }
        FitWarning::NoPlateau => {
            "The h range does not reach the plateau (β|h + b| > 4) of these qubits: γ is not identifiable; \
             extend the h range."
        }
        FitWarning::EtaNotResolved => {
            "η is below its resolution on these qubits (it enters the response as η², so its information \
             vanishes at 0): read its interval's upper end, not the point value."
        }
        FitWarning::NoTransition => {
            "p_down never crosses 1/2 in the h range (stuck or strongly biased qubits): β and b are not \
             identified."
        }
        FitWarning::FewReads => "Fewer than 100 reads per h: errors are large and asymptotic intervals doubtful.",
        FitWarning::StartsDisagree => {
            "Starting points reached different maxima; the best is reported, but the likelihood is multimodal."
        }
        FitWarning::RefitFromProfile => {
            "The profile-likelihood search found a better maximum and the fit was redone from there."
        }
        FitWarning::OverDispersed => {
            "Counts vary more than binomially (dispersion φ > 1.5, quasi-static flux noise shared by the reads \
             of one programming cycle): binomial standard errors are too small; use scaled or bootstrap errors."
        }
        FitWarning::BootstrapFailures => "More than 10 % of bootstrap replicates failed on these qubits.",
    }
}

/// The model section: models used, formula, the identifiability caveats that apply to this data.
pub fn model_info(sweep: &Sweep, fit: &FitResult) -> ModelInfo {
    let s = &fit.summary;
    let mut caveats = vec![Caveat {
        code: "gamma_is_readout".into(),
        n_qubits: 0,
        text: "γ cannot be told apart (to second order) from a symmetric readout error ε with \
               1 − 2ε = 1/sqrt(1 + γ²): the wrong-state floor is reported beside γ and holds either way."
            .into(),
    }];
    if sweep.meta.gauges.is_none() {
        caveats.push(Caveat {
            code: "gauges_unknown".into(),
            n_qubits: 0,
            text: "The gauge handling of these counts is unknown (e.g. a QASA spin table): if gauges were \
                   averaged, a static bias b appears as field noise η."
                .into(),
        });
    }
    caveats.push(Caveat {
        code: "beta_eta_tradeoff".into(),
        n_qubits: 0,
        text: "β and η trade off near h = 0 (the slope there is β sech²(βη)); the tails of the response \
               separate them."
            .into(),
    });
    for (w, n) in &s.warnings {
        caveats.push(Caveat {
            code: serde_json::to_value(w)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            n_qubits: *n,
            text: warning_caveat(*w).into(),
        });
    }
    let errors = if fit.config.bootstrap > 0 {
        format!(
            "Block bootstrap over calls ({} replicates) beside the observed-information standard errors; \
             95 % profile-likelihood intervals.",
            fit.config.bootstrap
        )
    } else {
        "Standard errors from the observed information of the binomial likelihood (× sqrt(dispersion) in the \
         scaled columns); 95 % profile-likelihood intervals."
            .into()
    };
    ModelInfo {
        models: s
            .models
            .iter()
            .map(|(m, n)| (m.name().to_string(), *n))
            .collect(),
        formula: formula(),
        caveats,
        errors,
    }
}
