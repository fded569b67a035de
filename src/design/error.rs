//! Why a plan cannot be designed. Messages say what to change.

use crate::collect::PlanError;
use std::path::PathBuf;

/// Errors of the design module.
#[derive(Debug, thiserror::Error)]
pub enum DesignError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("prior {path}: {reason}")]
    Prior { path: PathBuf, reason: String },
    #[error("no prior qubits: {reason}")]
    EmptyPrior { reason: String },
    #[error("{what} must be a positive number, got {value}")]
    NotPositive { what: String, value: f64 },
    #[error("no call size fits the solver's limits: {reason}")]
    NoCallSize { reason: String },
    #[error("no candidate h value fits: {reason}")]
    NoCandidates { reason: String },
    #[error("the information about the prior's qubits stays singular whatever the calls (γ or η at 0 for every candidate?); give a prior with γ and η above 0")]
    Singular,
    #[error("the budget of {budget_s} s cannot buy a plan that measures all four parameters of every prior qubit (the cheapest takes about {needed_s:.3} s); raise the budget")]
    BudgetTooSmall { budget_s: f64, needed_s: f64 },
    #[error("reaching the targets would take more than {max_calls} calls (≈ {needed_s:.0} s of QPU time); loosen the targets")]
    Unreachable { max_calls: u64, needed_s: f64 },
    #[error("the design needs {blocks} per-call blocks ({calls} calls, ≈ {gib:.1} GiB of counts in the sweep, {needed_s:.0} s of QPU time): too large to record; raise --min-reads-per-call (fewer, longer calls), plan fewer qubits, or loosen the goal")]
    TooManyBlocks {
        blocks: u32,
        calls: usize,
        gib: f64,
        needed_s: f64,
    },
    #[error("give at least one target (beta, beta_rel, b, gamma or eta)")]
    NoTargets,
}
