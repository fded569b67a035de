//! Why a plan cannot be built, read or run. Messages name the setting in words and say what fits; the
//! command line adds its flag name (see [`PlanError::setting`]).

use std::path::PathBuf;

/// A plan setting, for callers that map errors back to their own names (command-line flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    HMax,
    HStep,
    HValues,
    Reads,
    ReadsPerCall,
    AnnealTime,
    Blocks,
}

/// Errors of the plan module.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("the {what} must be a positive number, got {value}")]
    NotPositive { what: &'static str, value: f64 },
    #[error("the {what} must be a non-negative number, got {value}")]
    Negative { what: &'static str, value: f64 },
    #[error("every {what} must be a finite number, got {value}")]
    NotFinite { what: &'static str, value: f64 },
    #[error("the h step {step} has more than 15 decimals; give a step with fewer decimals")]
    StepPrecision { step: f64 },
    #[error("the h grid would hold {values} values; at most {max} are allowed")]
    GridTooLarge { values: f64, max: u64 },
    #[error("the list of h values is empty")]
    EmptyGrid,
    #[error("h = {h} appears twice in the list of h values")]
    DuplicateH { h: f64 },
    #[error("the h values are not symmetric: {h} is listed but {neg} is not; a gauge flips the field a qubit sees, so every h needs its -h (or turn gauges off)", neg = -h)]
    AsymmetricGrid { h: f64 },
    #[error("{reads} reads per h value must be even: calls come in pairs, a gauge and its complement with the same reads")]
    OddReads { reads: u32 },
    #[error("{blocks} blocks asked for, but each h value has only {calls_per_h} calls ({reads} reads in calls of at most {reads_per_call}); use {calls_per_h} blocks or fewer, or smaller calls")]
    TooManyBlocks {
        blocks: usize,
        calls_per_h: usize,
        reads: u32,
        reads_per_call: u32,
    },
    #[error("the plan would have {calls} calls; at most {max} are allowed")]
    TooManyCalls { calls: u64, max: u64 },
    #[error("the working graph has no qubits")]
    NoQubits,
    #[error("the plan has no calls")]
    NoCalls,
    #[error("h = {h} is outside the h_range [{lo}, {hi}] of {solver} (auto_scale is off, so h is sent as is); the largest |h| that fits is {largest}")]
    HOutOfRange {
        h: f64,
        lo: f64,
        hi: f64,
        solver: String,
        largest: f64,
    },
    #[error("{reads} reads per call is outside the num_reads_range [{lo}, {hi}] of {solver}; the largest value that fits is {hi}")]
    ReadsOutOfRange {
        reads: u32,
        lo: u64,
        hi: u64,
        solver: String,
    },
    #[error("an anneal time of {t} µs is outside the annealing_time_range [{lo}, {hi}] µs of {solver}; the {side} value that fits is {fits}")]
    AnnealOutOfRange {
        t: f64,
        lo: f64,
        hi: f64,
        solver: String,
        side: &'static str,
        fits: f64,
    },
    #[error("{reads} reads per call at {anneal_us} µs per anneal run for {duration_us} µs, over the problem_run_duration_range limit of {limit_us} µs of {solver}; the largest number of reads per call that fits is {largest}")]
    RunDuration {
        reads: u32,
        anneal_us: f64,
        duration_us: f64,
        limit_us: f64,
        solver: String,
        largest: u64,
    },
    #[error("{solver} does not accept the parameter {param} (it is not in the record's parameters), which a QASA campaign must send")]
    Parameter { param: String, solver: String },
    #[error("qubit {qubit} of the plan is not a working qubit of the device")]
    NotInDevice { qubit: u32 },
    #[error("the plan's topology is not valid: {0}")]
    Topology(#[from] crate::topology::TopologyError),
    #[error("the counts of a call do not fit the plan: {0}")]
    Counts(#[from] super::accumulate::CountsError),
    #[error("cannot read the plan: {0}")]
    Read(#[from] crate::gzip::ReadError),
    #[error("{path}: not a plan file: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: not a valid plan: at {json_path}: {reason}")]
    Schema {
        path: PathBuf,
        json_path: String,
        reason: String,
    },
    #[error("{path}: the plan is inconsistent: {reason}; make it again with `qasa plan`")]
    Inconsistent { path: PathBuf, reason: String },
}

impl PlanError {
    /// The setting the error is about, if one.
    pub fn setting(&self) -> Option<Setting> {
        Some(match self {
            PlanError::NotPositive { what, .. }
            | PlanError::Negative { what, .. }
            | PlanError::NotFinite { what, .. } => match *what {
                "h step" => Setting::HStep,
                "h max" => Setting::HMax,
                "h value" => Setting::HValues,
                "reads per h value" => Setting::Reads,
                "reads per call" => Setting::ReadsPerCall,
                "anneal time" => Setting::AnnealTime,
                _ => return None,
            },
            PlanError::StepPrecision { .. } => Setting::HStep,
            PlanError::GridTooLarge { .. } => Setting::HStep,
            PlanError::EmptyGrid
            | PlanError::DuplicateH { .. }
            | PlanError::AsymmetricGrid { .. } => Setting::HValues,
            PlanError::HOutOfRange { .. } => Setting::HMax,
            PlanError::OddReads { .. } => Setting::Reads,
            PlanError::TooManyBlocks { .. } => Setting::Blocks,
            PlanError::TooManyCalls { .. } => Setting::Reads,
            PlanError::ReadsOutOfRange { .. } | PlanError::RunDuration { .. } => {
                Setting::ReadsPerCall
            }
            PlanError::AnnealOutOfRange { .. } => Setting::AnnealTime,
            _ => return None,
        })
    }
}
