//! The whole chip: validate the sweep, then fit every qubit in parallel (rayon), reporting progress to the
//! caller (the binary draws it). No qubit is dropped.

use super::bootstrap::{draw_weights, CallCounts};
use super::config::FitConfig;
use super::qubit::fit_qubit;
use super::result::{FitMeta, FitResult, FitSummary, QubitFit};
use super::warnings::FitWarning;
use super::FitError;
use crate::model::QubitCounts;
use crate::sweep::{CountMatrix, Sweep};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

fn check_shape(m: &CountMatrix, n_h: usize, n_q: usize, what: &str) -> Result<(), FitError> {
    if m.n_h != n_h || m.n_qubits != n_q || m.down.len() != n_h * n_q || m.reads.len() != n_h * n_q
    {
        return Err(FitError::Shape {
            what: what.to_string(),
            detail: format!(
                "{} × {} with {} / {} cells, expected {n_h} × {n_q}",
                m.n_h,
                m.n_qubits,
                m.down.len(),
                m.reads.len()
            ),
        });
    }
    Ok(())
}

/// Checks that a sweep can be fitted at all (per-qubit problems are reported per qubit instead).
pub fn validate(sweep: &Sweep, cfg: &FitConfig) -> Result<(), FitError> {
    let (n_h, n_q) = (sweep.h.len(), sweep.qubits.len());
    if n_h == 0 || n_q == 0 {
        return Err(FitError::Empty { n_h, n_qubits: n_q });
    }
    if let Some((i, &h)) = sweep.h.iter().enumerate().find(|(_, h)| !h.is_finite()) {
        return Err(FitError::NonFiniteField { index: i, value: h });
    }
    check_shape(&sweep.counts, n_h, n_q, "counts")?;
    for (c, b) in sweep.blocks.iter().enumerate() {
        check_shape(b, n_h, n_q, &format!("block {c}"))?;
    }
    if cfg.bootstrap > 0 && sweep.blocks.len() < 2 {
        return Err(FitError::NoBlocks {
            calls: sweep.blocks.len(),
        });
    }
    Ok(())
}

/// One qubit's counts from the sweep.
pub fn qubit_counts(sweep: &Sweep, iq: usize) -> QubitCounts {
    QubitCounts::from_triples(
        sweep
            .h
            .iter()
            .zip(sweep.counts.qubit_column(iq))
            .map(|(&h, (k, n))| (h, k, n)),
    )
}

fn call_counts(sweep: &Sweep, iq: usize) -> CallCounts {
    CallCounts {
        h: sweep.h.clone(),
        down: sweep
            .blocks
            .iter()
            .map(|b| b.qubit_column(iq).map(|c| c.0).collect())
            .collect(),
        reads: sweep
            .blocks
            .iter()
            .map(|b| b.qubit_column(iq).map(|c| c.1).collect())
            .collect(),
    }
}

/// Fits every qubit of `sweep`.
pub fn fit_sweep(sweep: &Sweep, cfg: &FitConfig) -> Result<FitResult, FitError> {
    fit_sweep_with_progress(sweep, cfg, &|_| {})
}

/// Fits every qubit of `sweep`; `progress` receives the number of qubits done so far (from any thread).
pub fn fit_sweep_with_progress(
    sweep: &Sweep,
    cfg: &FitConfig,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<FitResult, FitError> {
    validate(sweep, cfg)?;
    let n_q = sweep.qubits.len();
    let weights = if cfg.bootstrap > 0 {
        draw_weights(sweep.blocks.len(), cfg.bootstrap, cfg.seed)
    } else {
        Vec::new()
    };
    let frame_known = sweep.meta.gauges.is_some();
    let done = AtomicU64::new(0);
    let qubits: Vec<QubitFit> = (0..n_q)
        .into_par_iter()
        .map(|iq| {
            let data = qubit_counts(sweep, iq);
            let calls = (!weights.is_empty()).then(|| call_counts(sweep, iq));
            let mut f = fit_qubit(sweep.qubits[iq], &data, calls.as_ref(), &weights, cfg);
            if frame_known {
                // counts recorded in the physical frame: odd symmetry is physics, not gauge averaging
                f.warnings.retain(|w| *w != FitWarning::GaugeAveraged);
            }
            progress(done.fetch_add(1, Ordering::Relaxed) + 1);
            f
        })
        .collect();
    let (h_min, h_max) = sweep
        .h
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &h| {
            (a.min(h), b.max(h))
        });
    let meta = FitMeta {
        tool_version: crate::TOOL_VERSION.to_string(),
        sweep: sweep.meta.clone(),
        n_h: sweep.h.len(),
        h_min,
        h_max,
        n_qubits: n_q,
        n_calls: sweep.blocks.len(),
    };
    let summary = summarize(&qubits);
    Ok(FitResult {
        meta,
        config: cfg.clone(),
        qubits,
        summary,
    })
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    })
}

/// Chip-level counts and medians.
pub fn summarize(q: &[QubitFit]) -> FitSummary {
    use super::result::FitStatus;
    let ok: Vec<&QubitFit> = q.iter().filter(|f| !f.status.is_failed()).collect();
    let med =
        |get: fn(&QubitFit) -> Option<f64>| median(ok.iter().filter_map(|f| get(f)).collect());
    let mut models = BTreeMap::new();
    let mut warnings = BTreeMap::new();
    let mut failures = BTreeMap::new();
    for f in q {
        models.entry(f.model.name()).or_insert((f.model, 0usize)).1 += 1;
        for w in &f.warnings {
            *warnings.entry(*w).or_insert(0usize) += 1;
        }
        if let FitStatus::Failed { reason, .. } = &f.status {
            failures
                .entry(reason.as_str())
                .or_insert((*reason, 0usize))
                .1 += 1;
        }
    }
    FitSummary {
        n_qubits: q.len(),
        converged: q
            .iter()
            .filter(|f| matches!(f.status, FitStatus::Converged))
            .count(),
        on_bound: q
            .iter()
            .filter(|f| matches!(f.status, FitStatus::OnBound { .. }))
            .count(),
        failed: q.len() - ok.len(),
        median_beta: med(|f| f.beta),
        median_b: med(|f| f.b),
        median_gamma: med(|f| f.gamma),
        median_eta: med(|f| f.eta),
        median_dispersion: med(|f| f.dispersion),
        models: models.into_values().collect(),
        warnings: warnings.into_iter().collect(),
        failures: failures.into_values().collect(),
    }
}
