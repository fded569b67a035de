//! The one-command demo (`qasa demo`): a virtual chip with known truth and planted crosstalk → a sweep at
//! a realistic protocol → fit → analysis → report, timed per stage. By default the chip is the real working graph of
//! Advantage_system4.1 (the solver record shipped in `data/`, embedded here), so the maps show its
//! missing qubits; any perfect graph can be asked for instead.
//!
//! The protocol follows the reference experiment (docs/physics.md §1) at a tenth of its reads: 81 h values
//! in [−1, 1], 20,000 reads per h in calls of 2,000, complementary spin-reversal gauge pairs, counts in
//! the physical frame, per-call blocks for the bootstrap and pair counts on every coupler (crosstalk).

use super::{build, Report, ReportError, ReportInput};
use crate::analysis::{self, Analysis, AnalysisConfig};
use crate::device::{self, DeviceConfig, SimulationPlan, Truth, VirtualQpu};
use crate::fit::{self, FitConfig, FitResult};
use crate::sapi::solver::SolverRecord;
use crate::sweep::Sweep;
use crate::topology::{Topology, WorkingGraph};
use std::time::Instant;

/// The Advantage_system4.1 solver record (gzip JSON), `data/Advantage_system4_1.solver.json.gz`.
pub const ADVANTAGE_RECORD: &[u8] = include_bytes!("../../data/Advantage_system4_1.solver.json.gz");

/// Fraction of couplers with planted crosstalk: 0.5 % of Advantage's couplers (about 200, on a matching)
/// touch about 7 % of the qubits, enough for the crosstalk map to show something without making a
/// quarter of the chip look noisy (a planted coupling acts on each of its qubits as a per-read field of
/// ±J, which the single-qubit fit can only read as field noise η).
pub const CROSSTALK_FRACTION: f64 = 0.005;

/// What to run.
#[derive(Clone, Debug)]
pub struct DemoConfig {
    /// The chip: `None` for the embedded Advantage_system4.1 working graph.
    pub graph: Option<WorkingGraph>,
    pub seed: u64,
    pub plan: SimulationPlan,
    pub crosstalk_fraction: f64,
    /// RFC 3339 time the report is made (`None`: a reproducible report).
    pub generated_at: Option<String>,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            graph: None,
            seed: 1,
            plan: SimulationPlan {
                reads: 20_000,
                reads_per_call: 2_000,
                pairs: true,
                ..SimulationPlan::default()
            },
            crosstalk_fraction: CROSSTALK_FRACTION,
            generated_at: None,
        }
    }
}

/// The stages of the demo, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Chip,
    Sweep,
    Fit,
    Analysis,
    Report,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Chip => "chip",
            Stage::Sweep => "sweep",
            Stage::Fit => "fit",
            Stage::Analysis => "analysis",
            Stage::Report => "report",
        }
    }
}

/// Progress of the demo: a stage starting with its total work (calls, qubits; 0 when not counted), and
/// work done within the current stage.
pub trait DemoProgress: Sync {
    fn start(&self, stage: Stage, total: u64, what: &str);
    fn advance(&self, done: u64);
    fn finish(&self, stage: Stage, seconds: f64);
}

/// Everything the demo made.
pub struct Demo {
    pub truth: Truth,
    pub sweep: Sweep,
    pub fit: FitResult,
    pub analysis: Analysis,
    pub report: Report,
    /// The report folder's files (name, bytes).
    pub files: Vec<(String, Vec<u8>)>,
    /// Wall time per stage, seconds.
    pub seconds: Vec<(Stage, f64)>,
}

/// Errors of the demo.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the embedded Advantage solver record is unreadable: {0}")]
    Record(String),
    #[error(transparent)]
    Plan(#[from] device::PlanError),
    #[error(transparent)]
    Fit(#[from] fit::FitError),
    #[error(transparent)]
    Analysis(#[from] analysis::AnalysisError),
    #[error(transparent)]
    Report(#[from] ReportError),
}

/// The embedded Advantage_system4.1 working graph.
pub fn advantage_graph() -> Result<WorkingGraph, DemoError> {
    let name = std::path::Path::new("Advantage_system4_1.solver.json.gz");
    let text = crate::gzip::decompress(ADVANTAGE_RECORD.to_vec(), name)
        .map_err(|e| DemoError::Record(e.to_string()))?;
    let v: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| DemoError::Record(e.to_string()))?;
    let record = SolverRecord::from_value(v).map_err(|e| DemoError::Record(e.to_string()))?;
    WorkingGraph::from_solver_record(&record).map_err(|e| DemoError::Record(e.to_string()))
}

/// A perfect graph for `--topology`.
pub fn perfect(topology: Topology) -> WorkingGraph {
    WorkingGraph::perfect(topology)
}

/// Notes for the reader about the virtual chip's truth.
fn truth_notes(truth: &Truth, fit: &FitResult, anneal_time_us: f64) -> Vec<String> {
    let betas: Vec<f64> = truth
        .qubits
        .iter()
        .map(|q| truth.beta_at(q, anneal_time_us))
        .collect();
    let beta_true = super::stats::median(betas);
    let outliers = truth.qubits.iter().filter(|q| q.outlier.is_some()).count();
    vec![
        format!(
            "This chip is the virtual QPU, so the truth is known: true median β = {} at {anneal_time_us} µs (fitted: {}); \
             {outliers} planted outlier qubits; crosstalk planted on {} couplers (J on a matching).",
            beta_true.map_or("–".into(), |b| format!("{b:.3}")),
            fit.summary.median_beta.map_or("–".into(), |b| format!("{b:.3}")),
            truth.crosstalk.len()
        ),
    ]
}

/// Runs the demo.
pub fn run(config: &DemoConfig, progress: &dyn DemoProgress) -> Result<Demo, DemoError> {
    let mut seconds = Vec::new();
    let mut clock = Instant::now();
    let mut lap = |stage: Stage, seconds: &mut Vec<(Stage, f64)>| {
        let s = clock.elapsed().as_secs_f64();
        progress.finish(stage, s);
        seconds.push((stage, s));
        clock = Instant::now();
    };
    progress.start(Stage::Chip, 0, "");
    let graph = match &config.graph {
        Some(g) => g.clone(),
        None => advantage_graph()?,
    };
    let device = DeviceConfig {
        seed: config.seed,
        crosstalk_fraction: config.crosstalk_fraction,
        anneal_time_us: config.plan.anneal_time_us,
        ..DeviceConfig::default()
    };
    let qpu = VirtualQpu::new(graph, &device);
    lap(Stage::Chip, &mut seconds);

    let plan = SimulationPlan {
        seed: config.seed,
        ..config.plan.clone()
    };
    let calls = plan.calls()?.len() as u64 * plan.grid()?.len() as u64;
    progress.start(Stage::Sweep, calls, "calls");
    let sweep = device::simulate(&qpu, &plan, &|n| progress.advance(n))?;
    lap(Stage::Sweep, &mut seconds);

    progress.start(Stage::Fit, sweep.qubits.len() as u64, "qubits");
    let fit =
        fit::fit_sweep_with_progress(&sweep, &FitConfig::default(), &|n| progress.advance(n))?;
    lap(Stage::Fit, &mut seconds);

    progress.start(Stage::Analysis, 0, "");
    let analysis = analysis::analyze(
        &fit,
        Some(&sweep),
        Some(qpu.graph()),
        &AnalysisConfig::default(),
    )?;
    lap(Stage::Analysis, &mut seconds);

    progress.start(Stage::Report, 0, "");
    let mut report = build(&ReportInput {
        sweep: &sweep,
        fit: &fit,
        analysis: &analysis,
        compare: None,
        topology: None,
        inputs: vec![format!("qasa demo --seed {}", config.seed)],
        generated_at: config.generated_at.clone(),
    })?;
    report
        .notes
        .extend(truth_notes(qpu.truth(), &fit, plan.anneal_time_us));
    let files = super::render::folder(&report).map_err(ReportError::from)?;
    lap(Stage::Report, &mut seconds);
    Ok(Demo {
        truth: qpu.truth().clone(),
        sweep,
        fit,
        analysis,
        report,
        files,
        seconds,
    })
}
