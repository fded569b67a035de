//! Fitting (docs/physics.md §3): per-qubit maximum likelihood of the model in [`crate::model`], with
//! uncertainties and model comparison; every result says why it stopped (design.md, style.md §5).
//!
//! Model, solver and loop are kept apart:
//! - [`objective`]: ℓ in working coordinates `(ln β, b, γ, η)`, γ and η free in sign (the optimizer trap).
//! - [`solver`]: damped Newton / Levenberg–Marquardt with exact Hessian; a [`StopReason`] on every run.
//! - [`start`] + [`multistart`]: deterministic data-driven and fixed starting points; [`sparse`]: the
//!   extra starts where few h values cover the transition.
//! - [`qubit`]: the per-qubit loop (validation, errors, profile intervals, bootstrap, warnings);
//!   [`chip`]: the whole sweep in parallel.
//! - [`profile`] (95 % profile-likelihood intervals), [`bootstrap`] (block bootstrap over calls),
//!   [`select`] (LR, AIC, BIC), [`export`] (CSV writers), [`result`] (serde result types).

// Small fixed-size numeric kernels read best with index loops.
#![allow(clippy::needless_range_loop)]

pub mod bootstrap;
pub mod check;
pub mod chip;
pub mod config;
pub mod estimate;
pub mod export;
mod linalg;
pub mod multistart;
pub mod noise;
pub mod objective;
pub mod profile;
pub mod qubit;
pub mod result;
pub mod robust;
pub mod select;
pub mod solver;
pub mod sparse;
pub mod start;
pub mod warnings;

pub use check::{check_against_truth, TruthCheck};
pub use chip::{fit_sweep, fit_sweep_with_progress, qubit_counts, validate};
pub use config::{FitConfig, ModelChoice, NoiseLikelihood, ProfileMode};
pub use export::{write_params_csv, write_qasa_csv, PARAMS_CSV_HEADER, QASA_CSV_HEADER};
pub use qubit::{fit_qubit, QubitData};
pub use result::{
    BootstrapFit, ByParam, ErrorSummary, Estimate, FailReason, FitMeta, FitResult, FitStatus,
    FitSummary, ModelScore, NoiseCandidate, NoiseChoice, QubitFit, Stat,
};
pub use robust::{ErrorMethod, CONFIDENCE};
pub use solver::{SolverOptions, StopReason};
pub use warnings::FitWarning;

/// Errors that stop a whole fit (per-qubit problems are statuses instead).
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error("the sweep is empty ({n_h} h values, {n_qubits} qubits): nothing to fit; check the input file")]
    Empty { n_h: usize, n_qubits: usize },
    #[error("h value #{index} is {value}: every h must be finite; fix the input file")]
    NonFiniteField { index: usize, value: f64 },
    #[error("{what} has the wrong shape: {detail}; the sweep file is inconsistent")]
    Shape { what: String, detail: String },
    #[error("bootstrap needs per-call blocks but the sweep has {calls}; drop the bootstrap or record calls separately")]
    NoBlocks { calls: usize },
    #[error("{reps} bootstrap replicates need about {} MB of memory, more than half of the {} MB available; use at most {max_reps} (a few hundred are plenty: the robust errors are the default)", bytes / 1_000_000, available / 1_000_000)]
    BootstrapTooLarge {
        reps: usize,
        bytes: u128,
        available: u64,
        max_reps: usize,
    },
    #[error("the per-call noise likelihood cannot be used: {reason}")]
    PerCallUnavailable { reason: String },
}
