//! The whole chip: validate the sweep, then fit every qubit in parallel (rayon), reporting progress to a
//! callback (the binary draws it). No qubit is dropped.

use super::bootstrap::{draw_weights, CallCounts};
use super::config::{FitConfig, NoiseLikelihood};
use super::noise::{choose_noise, per_call_possible};
use super::qubit::{fit_qubit, QubitData};
use super::result::{ErrorSummary, FitMeta, FitResult, FitSummary, QubitFit};
use super::robust::{ErrorMethod, CONFIDENCE};
use super::warnings::FitWarning;
use super::FitError;
use crate::model::calls::GaussGrid;
use crate::model::{Param, QubitCounts};
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
    if cfg.bootstrap > 0 {
        // weights (one Vec per replicate) + per thread the replicate estimates of the qubit in work
        let threads = rayon::current_num_threads() as u128;
        let per_rep = 64 + 4 * sweep.blocks.len() as u128 + 128 * threads;
        let bytes = cfg.bootstrap as u128 * per_rep;
        let available = available_memory();
        if bytes > u128::from(available) / 2 {
            return Err(FitError::BootstrapTooLarge {
                reps: cfg.bootstrap,
                bytes,
                available,
                max_reps: (u128::from(available) / 2 / per_rep) as usize,
            });
        }
    }
    if cfg.noise == NoiseLikelihood::PerCall {
        if let Err(reason) = per_call_possible(sweep, cfg.model) {
            return Err(FitError::PerCallUnavailable { reason });
        }
    }
    Ok(())
}

/// Memory the fit may use, bytes: `MemAvailable` of /proc/meminfo where there is one, else 4 GiB.
fn available_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("MemAvailable:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(4 << 30, |kb| kb.saturating_mul(1024))
}

/// One qubit's per-call block cells `(h, down, reads)`, grouped by h (empty cells dropped).
pub fn block_cells(sweep: &Sweep, iq: usize) -> QubitCounts {
    QubitCounts::from_triples(sweep.h.iter().enumerate().flat_map(|(ih, &h)| {
        sweep.blocks.iter().map(move |b| {
            let (k, n) = b.get(ih, iq);
            (h, k, n)
        })
    }))
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

/// [`fit_sweep`], reporting the number of qubits fitted so far to `progress` (from any thread).
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
    let grid = GaussGrid::default();
    let (noise, per_call, model) = choose_noise(sweep, cfg, &grid);
    let used = FitConfig {
        model,
        ..cfg.clone()
    };
    let done = AtomicU64::new(0);
    let mut qubits: Vec<QubitFit> = (0..n_q)
        .into_par_iter()
        .map(|iq| {
            let f = fit_column(sweep, iq, &used, per_call, &grid, &weights);
            progress(done.fetch_add(1, Ordering::Relaxed) + 1);
            f
        })
        .collect();
    gauge_warnings(&mut qubits, sweep.meta.gauges.is_some());
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
    let method = if sweep.blocks.is_empty() {
        ErrorMethod::RobustH
    } else {
        ErrorMethod::ClusterRobustCalls
    };
    let summary = summarize(&qubits);
    Ok(FitResult {
        meta,
        config: cfg.clone(),
        noise,
        errors: ErrorSummary {
            method,
            confidence_level: CONFIDENCE,
            description: method.describe().to_string(),
        },
        qubits,
        summary,
        truth_check: None,
    })
}

/// Fits column `iq`.
fn fit_column(
    sweep: &Sweep,
    iq: usize,
    cfg: &FitConfig,
    per_call: bool,
    grid: &GaussGrid,
    weights: &[Vec<u32>],
) -> QubitFit {
    let data = qubit_counts(sweep, iq);
    let cells = (!sweep.blocks.is_empty()).then(|| block_cells(sweep, iq));
    let qd = QubitData {
        pooled: &data,
        cells: cells.as_ref(),
        per_call,
        grid: Some(grid),
    };
    let calls = (!weights.is_empty()).then(|| call_counts(sweep, iq));
    fit_qubit(sweep.qubits[iq], &qd, calls.as_ref(), weights, cfg)
}

/// Chip-level rule for the gauge-averaging warning (docs/physics.md §3.4): gauge averaging acts on every
/// qubit, so the warning stands only when at least half of the fitted qubits look gauge-averaged (a
/// physical-frame qubit with b ≈ 0 and a large η looks the same on its own). Never for sweeps whose
/// frame is known.
fn gauge_warnings(qubits: &mut [QubitFit], frame_known: bool) {
    let ok = qubits.iter().filter(|q| !q.status.is_failed()).count();
    let flagged = qubits
        .iter()
        .filter(|q| q.warnings.contains(&FitWarning::GaugeAveraged))
        .count();
    if frame_known || flagged * 2 < ok {
        for q in qubits.iter_mut() {
            q.warnings.retain(|w| *w != FitWarning::GaugeAveraged);
        }
    }
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
        median_beta: med(|f| f.value(Param::Beta)),
        median_b: med(|f| f.value(Param::B)),
        median_gamma: med(|f| f.value(Param::Gamma)),
        median_eta: med(|f| f.value(Param::Eta)),
        median_dispersion: med(|f| f.dispersion),
        models: models.into_values().collect(),
        warnings: warnings.into_iter().collect(),
        failures: failures.into_values().collect(),
    }
}
