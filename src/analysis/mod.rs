//! Analysis of per-qubit fits (docs/physics.md §5–6): which qubits are bad and why, whether quality has
//! structure on the chip, whether qubits that should be independent are not, and what changed since last
//! time. Library only: it reads a fit, optionally its sweep and a hardware graph, and never does I/O.
//!
//! - [`input`]: the one adapter over `fit::QubitFit` (value, SE, interval per parameter; covariance);
//! - [`scores`]: per-qubit scores with definitions and propagated uncertainties, the combined grade;
//! - [`summary`]: chip distributions (median, IQR, MAD), robust outliers, flagged qubits with reasons;
//! - [`pooled`]: the single pooled temperature of dwave-system's `fast_effective_temperature`;
//! - [`correlations`]: Pearson and Spearman matrices with p-values and BH q-values;
//! - [`spatial`]: Moran's I, Geary's C (seeded parallel permutations), neighbour correlation per coupler
//!   class, dependence on coordinates;
//! - [`maps`]: per-qubit values with layout coordinates;
//! - [`crosstalk`]: connected correlations on couplers, J_eff, BH detection;
//! - [`drift`]: differences between two fits;
//! - [`stats`]: the statistics kernels (statrs for distribution functions).
//!
//! [`analyze`] runs everything a fit (plus sweep and graph) allows and returns one plain serde value,
//! [`Analysis`], complete enough that a renderer never computes statistics.

pub mod correlations;
pub mod crosstalk;
pub mod drift;
pub mod input;
pub mod maps;
pub mod pooled;
pub mod scores;
pub mod spatial;
pub mod stats;
pub mod summary;

pub use correlations::{CorrelationMatrix, Correlations};
pub use crosstalk::{CallNoise, CouplerCrosstalk, CrosstalkConfig, CrosstalkSummary};
pub use drift::{compare, Drift, ParamDrift, QubitDrift};
pub use input::{Estimate, QubitInput};
pub use maps::MapPoint;
pub use pooled::{pooled_temperature, PooledTemperature, DWAVE_H_MAX};
pub use scores::{QubitScores, ScoreDefinition};
pub use spatial::{SpatialGraph, SpatialStats};
pub use summary::{Distribution, FlaggedQubit};

use crate::fit::FitResult;
use crate::model::Param;
use crate::sweep::{Sweep, SweepMeta};
use crate::topology::{Topology, WorkingGraph};
use input::Design;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Quantities with spatial statistics: the parameters and the fidelity.
pub const SPATIAL_QUANTITIES: [&str; 5] = ["beta", "b", "gamma", "eta", "fidelity"];

/// `format` of the analysis file.
pub const FORMAT: &str = "qasa-analysis";
/// Version of the analysis file.
pub const VERSION: u64 = 1;

/// Errors that stop an analysis.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("the fit and the sweep do not belong together: {reason}; pass the sweep this fit was made from, or leave the sweep out")]
    Mismatch { reason: String },
    #[error("the fit has no qubits: nothing to analyse")]
    Empty,
    #[error("the sweep is inconsistent: {source}")]
    InvalidSweep {
        #[source]
        source: crate::sweep::CheckError,
    },
    #[error("qubit {qubit} of the fit is not a qubit of the hardware graph {graph}; give the graph the data came from")]
    NotInGraph { qubit: u32, graph: String },
    #[error("the fit's topology {kind:?} {shape:?} is not a known hardware graph ({reason}); give the graph the data came from")]
    Topology {
        kind: String,
        shape: Vec<u32>,
        reason: String,
    },
}

/// Settings of an analysis.
#[derive(Clone, Debug)]
pub struct AnalysisConfig {
    /// Permutations of the spatial tests (0 = no p-values).
    pub permutations: usize,
    /// Seed of the permutations.
    pub seed: u64,
    /// |h| range of the pooled temperature (h units).
    pub pooled_h_max: f64,
    pub crosstalk: CrosstalkConfig,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        AnalysisConfig {
            permutations: spatial::DEFAULT_PERMUTATIONS,
            seed: 0,
            pooled_h_max: DWAVE_H_MAX,
            crosstalk: CrosstalkConfig::default(),
        }
    }
}

/// What was analysed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnalysisMeta {
    /// Metadata of the sweep the fit was made from.
    pub sweep: SweepMeta,
    /// Qubits in the fit, with an estimate, and failed.
    pub n_qubits: usize,
    pub n_fitted: usize,
    pub n_failed: usize,
    /// h range of the fit (h units).
    pub h_min: f64,
    pub h_max: f64,
    /// Chip median of β over fitted qubits (1/h), the reference of `fidelity` and `beta_deviation`.
    pub beta_median: Option<f64>,
    /// Hardware graph used for spatial statistics and maps (`pegasus:16`, a solver name), if any.
    pub graph: Option<String>,
    /// Whether the sweep was given (pooled temperature, exact covariances, crosstalk need it).
    pub sweep_given: bool,
    /// Permutations and seed of the spatial tests.
    pub permutations: usize,
    pub seed: u64,
}

/// Share of fitted qubits on which each parameter is unresolved (fraction).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unresolved {
    pub beta: f64,
    pub b: f64,
    pub gamma: f64,
    pub eta: f64,
}

/// Everything the analysis of one fit found (`analysis.json`, `schemas/analysis.schema.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub format: String,
    pub version: u64,
    pub tool_version: String,
    pub meta: AnalysisMeta,
    pub score_definitions: Vec<ScoreDefinition>,
    /// One entry per qubit of the fit, in fit order.
    pub scores: Vec<QubitScores>,
    /// Chip distributions of parameters, scores and dispersion.
    pub summary: Vec<Distribution>,
    pub unresolved: Unresolved,
    pub flagged: Vec<FlaggedQubit>,
    /// `fast_effective_temperature`-style pooled estimate (needs the sweep).
    pub pooled_temperature: Option<PooledTemperature>,
    pub correlations: Correlations,
    /// Keyed by quantity (`beta`, `b`, `gamma`, `eta`, `fidelity`); empty without a graph.
    pub spatial: BTreeMap<String, SpatialStats>,
    /// Per-qubit values with coordinates, fit order.
    pub maps: Vec<MapPoint>,
    /// Per-coupler crosstalk when the sweep has pair counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crosstalk: Option<Vec<CouplerCrosstalk>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crosstalk_summary: Option<CrosstalkSummary>,
    /// What was skipped and why.
    pub notes: Vec<String>,
}

/// Checks that a sweep is the one a fit was made from: same qubits, same h grid, same reads per qubit,
/// same solver and seed when both say.
pub fn check_belongs(fit: &FitResult, sweep: &Sweep) -> Result<(), AnalysisError> {
    let bad = |reason: String| Err(AnalysisError::Mismatch { reason });
    let fm = &fit.meta;
    let (h_lo, h_hi) = (
        sweep.h.first().copied().unwrap_or(f64::NAN),
        sweep.h.last().copied().unwrap_or(f64::NAN),
    );
    if fm.n_h != sweep.h.len() || (fm.h_min - h_lo).abs() > 1e-9 || (fm.h_max - h_hi).abs() > 1e-9 {
        return bad(format!(
            "the fit has {} h values in [{}, {}], the sweep {} in [{h_lo}, {h_hi}]",
            fm.n_h,
            fm.h_min,
            fm.h_max,
            sweep.h.len()
        ));
    }
    if fit.qubits.len() != sweep.qubits.len() {
        return bad(format!(
            "the fit has {} qubits, the sweep {}",
            fit.qubits.len(),
            sweep.qubits.len()
        ));
    }
    for (name, a, b) in [
        ("solver", &fm.sweep.solver, &sweep.meta.solver),
        ("started_at", &fm.sweep.started_at, &sweep.meta.started_at),
    ] {
        if let (Some(a), Some(b)) = (a, b) {
            if a != b {
                return bad(format!("the fit's {name} is {a:?}, the sweep's {b:?}"));
            }
        }
    }
    if let (Some(a), Some(b)) = (fm.sweep.seed, sweep.meta.seed) {
        if a != b {
            return bad(format!(
                "the fit was made from seed {a}, the sweep has seed {b}"
            ));
        }
    }
    for q in &fit.qubits {
        let Some(iq) = sweep.column_of(q.qubit) else {
            return bad(format!("qubit {} of the fit is not in the sweep", q.qubit));
        };
        let reads: f64 = sweep.counts.qubit_column(iq).map(|c| f64::from(c.1)).sum();
        if q.n_points > 0 && reads != q.total_reads {
            return bad(format!(
                "qubit {} has {} reads in the fit but {reads} in the sweep",
                q.qubit, q.total_reads
            ));
        }
    }
    Ok(())
}

/// The hardware graph for a fit: the one given, else the perfect graph of the topology the fit's sweep
/// names, else none.
pub fn graph_for(
    fit: &FitResult,
    given: Option<&WorkingGraph>,
) -> Result<Option<WorkingGraph>, AnalysisError> {
    if let Some(g) = given {
        return Ok(Some(g.clone()));
    }
    let Some(t) = &fit.meta.sweep.topology else {
        return Ok(None);
    };
    let topo =
        Topology::from_type_shape(&t.kind, &t.shape).map_err(|e| AnalysisError::Topology {
            kind: t.kind.clone(),
            shape: t.shape.clone(),
            reason: e.to_string(),
        })?;
    Ok(Some(WorkingGraph::perfect(topo)))
}

fn graph_name(g: &WorkingGraph) -> String {
    g.solver_name
        .clone()
        .unwrap_or_else(|| g.topology.to_string())
}

/// Design (h grid and reads) of one qubit for its covariance.
fn design_of(fit: &FitResult, sweep: Option<&Sweep>, q: &QubitInput) -> Design {
    if let Some(iq) = sweep.and_then(|s| s.column_of(q.qubit)) {
        if let Some(s) = sweep {
            let (h, reads): (Vec<f64>, Vec<f64>) =
                s.h.iter()
                    .zip(s.counts.qubit_column(iq))
                    .filter(|(_, c)| c.1 > 0)
                    .map(|(&h, c)| (h, f64::from(c.1)))
                    .unzip();
            return Design { h, reads };
        }
    }
    Design::even(fit.meta.h_min, fit.meta.h_max, q.n_points, q.total_reads)
}

/// Runs the whole analysis. `sweep`, when given, must be the one the fit was made from
/// ([`check_belongs`]); `graph` overrides the topology named in the fit.
pub fn analyze(
    fit: &FitResult,
    sweep: Option<&Sweep>,
    graph: Option<&WorkingGraph>,
    config: &AnalysisConfig,
) -> Result<Analysis, AnalysisError> {
    if fit.qubits.is_empty() {
        return Err(AnalysisError::Empty);
    }
    if let Some(s) = sweep {
        crate::sweep::check(s).map_err(|source| AnalysisError::InvalidSweep { source })?;
        check_belongs(fit, s)?;
    }
    let graph = graph_for(fit, graph)?;
    if let Some(g) = &graph {
        check_in_graph(fit, g)?;
    }
    let mut notes = Vec::new();
    let inputs: Vec<QubitInput> = fit.qubits.iter().map(input::qubit_input).collect();
    let beta_median = stats::median(inputs.iter().filter_map(|q| q.params.map(|p| p.beta)));
    let h_max = fit.meta.h_min.abs().max(fit.meta.h_max.abs());
    let mut scores: Vec<QubitScores> = inputs
        .par_iter()
        .map(|q| {
            let design = design_of(fit, sweep, q);
            scores::qubit_scores(q, beta_median.unwrap_or(f64::NAN), h_max, &design)
        })
        .collect();
    let dists = summary::distributions(&inputs, &scores);
    let per_call = fit.noise.likelihood == crate::fit::NoiseLikelihood::PerCall;
    let flagged = summary::flag(&inputs, &mut scores, &dists, per_call);
    let fr = summary::unresolved_fractions(&inputs);
    notes.extend(unresolved_notes(&fr));
    let columns = quantity_columns(&inputs, &scores);
    let correlations = correlations::correlations(
        &columns
            .iter()
            .map(|(n, v)| (n.clone(), v.iter().map(|x| x.unwrap_or(f64::NAN)).collect()))
            .collect::<Vec<_>>(),
    );
    let qubit_ids: Vec<u32> = inputs.iter().map(|q| q.qubit).collect();
    let sgraph = graph.as_ref().map(|g| SpatialGraph::new(g, &qubit_ids));
    let spatial = match &sgraph {
        Some(g) => spatial_section(g, &columns, config),
        None => {
            notes.push(
                "no hardware graph (the fit names no topology and none was given): no spatial \
                 statistics and no map coordinates"
                    .into(),
            );
            BTreeMap::new()
        }
    };
    let maps = maps::map_points(sgraph.as_ref(), &inputs, &scores);
    let pooled = sweep.and_then(|s| {
        let beta: Vec<Option<f64>> = inputs.iter().map(|q| q.params.map(|p| p.beta)).collect();
        pooled::pooled_temperature(s, config.pooled_h_max, &beta)
    });
    if sweep.is_none() {
        notes.push("no sweep given: no pooled temperature, no crosstalk; covariances use the fit's even-grid design".into());
    }
    let (crosstalk, crosstalk_summary) = match sweep {
        Some(s) => crosstalk_section(s, &inputs, graph.as_ref(), config, &mut notes),
        None => (None, None),
    };
    Ok(Analysis {
        format: FORMAT.into(),
        version: VERSION,
        tool_version: crate::TOOL_VERSION.into(),
        meta: AnalysisMeta {
            sweep: fit.meta.sweep.clone(),
            n_qubits: inputs.len(),
            n_fitted: inputs.iter().filter(|q| q.failed.is_none()).count(),
            n_failed: inputs.iter().filter(|q| q.failed.is_some()).count(),
            h_min: fit.meta.h_min,
            h_max: fit.meta.h_max,
            beta_median,
            graph: graph.as_ref().map(graph_name),
            sweep_given: sweep.is_some(),
            permutations: config.permutations,
            seed: config.seed,
        },
        score_definitions: scores::definitions(),
        scores,
        summary: dists,
        unresolved: Unresolved {
            beta: fr[0],
            b: fr[1],
            gamma: fr[2],
            eta: fr[3],
        },
        flagged,
        pooled_temperature: pooled,
        correlations,
        spatial,
        maps,
        crosstalk,
        crosstalk_summary,
        notes,
    })
}

/// Every fitted qubit must be a node of the graph the analysis maps it on.
fn check_in_graph(fit: &FitResult, g: &WorkingGraph) -> Result<(), AnalysisError> {
    let nodes: std::collections::HashSet<u32> = g.qubits.iter().copied().collect();
    match fit.qubits.iter().find(|q| !nodes.contains(&q.qubit)) {
        Some(q) => Err(AnalysisError::NotInGraph {
            qubit: q.qubit,
            graph: graph_name(g),
        }),
        None => Ok(()),
    }
}

/// One note per parameter that most fitted qubits leave unresolved (`fr`: fractions per `[β, b, γ, η]`).
fn unresolved_notes(fr: &[f64; 4]) -> Vec<String> {
    Param::ALL
        .iter()
        .zip(fr)
        .filter(|(_, &f)| f >= 0.5)
        .map(|(p, f)| {
            format!(
                "{} is unresolved on {:.0} % of the fitted qubits (on its bound or below its resolution); \
                 read its upper bound only",
                p.name(),
                100.0 * f
            )
        })
        .collect()
}

/// Spatial statistics of the parameters and the fidelity (the other scores are functions of the
/// parameters), each with its own permutation seed.
fn spatial_section(
    g: &SpatialGraph,
    columns: &[(String, Vec<Option<f64>>)],
    config: &AnalysisConfig,
) -> BTreeMap<String, spatial::SpatialStats> {
    let mut spatial = BTreeMap::new();
    let spatial_columns = columns
        .iter()
        .filter(|(name, _)| SPATIAL_QUANTITIES.contains(&name.as_str()));
    for (k, (name, values)) in spatial_columns.enumerate() {
        let seed = config.seed ^ ((k as u64 + 1) << 40);
        spatial.insert(
            name.clone(),
            spatial::spatial_stats(g, values, config.permutations, seed),
        );
    }
    spatial::adjust_coordinate_tests(spatial.values_mut());
    spatial
}

/// The crosstalk analysis of a sweep with pair counts; otherwise (or when it cannot run) a note.
fn crosstalk_section(
    sweep: &Sweep,
    inputs: &[QubitInput],
    graph: Option<&WorkingGraph>,
    config: &AnalysisConfig,
    notes: &mut Vec<String>,
) -> (
    Option<Vec<crosstalk::CouplerCrosstalk>>,
    Option<crosstalk::CrosstalkSummary>,
) {
    if sweep.pairs.is_none() {
        notes.push("the sweep has no pair counts: no crosstalk analysis".into());
        return (None, None);
    }
    let (beta, noise) = crosstalk_inputs(sweep, inputs);
    match crosstalk::crosstalk(
        sweep,
        &beta,
        &noise,
        graph.map(|g| &g.topology),
        &config.crosstalk,
    ) {
        Ok((c, sm)) => (Some(c), Some(sm)),
        Err(e) => {
            notes.push(e.to_string());
            (None, None)
        }
    }
}

/// The quantities of the correlation and spatial analyses: parameters then scores.
fn quantity_columns(
    inputs: &[QubitInput],
    scores: &[QubitScores],
) -> Vec<(String, Vec<Option<f64>>)> {
    let mut cols: Vec<(String, Vec<Option<f64>>)> = Param::ALL
        .iter()
        .map(|p| {
            (
                p.name().to_string(),
                inputs
                    .iter()
                    .map(|q| q.estimates[p.index()].map(|e| e.value))
                    .collect(),
            )
        })
        .collect();
    for name in scores::SCORE_NAMES {
        cols.push((
            name.to_string(),
            scores.iter().map(|s| s.get(name)).collect(),
        ));
    }
    cols
}

/// β and the call-noise model per sweep column, from the fit (aligned with the sweep's columns).
fn crosstalk_inputs(sweep: &Sweep, inputs: &[QubitInput]) -> (Vec<Option<f64>>, CallNoise) {
    let by_id: std::collections::HashMap<u32, &QubitInput> =
        inputs.iter().map(|q| (q.qubit, q)).collect();
    let qubits: Vec<Option<crosstalk::QubitNoise>> = sweep
        .qubits
        .iter()
        .map(|id| {
            let q = by_id.get(id)?;
            Some(crosstalk::QubitNoise {
                kind: q.model.noise(),
                params: q.params?,
                dispersion: q.dispersion.unwrap_or(1.0),
                dof: q.n_points.saturating_sub(q.model.n_params()) as f64,
            })
        })
        .collect();
    let beta = qubits.iter().map(|n| n.map(|n| n.params.beta)).collect();
    let reads_per_call = sweep
        .meta
        .parameters
        .get("num_reads")
        .and_then(serde_json::Value::as_f64)
        .filter(|r| *r >= 1.0);
    (
        beta,
        CallNoise {
            reads_per_call,
            qubits,
        },
    )
}
