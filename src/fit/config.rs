//! Fit settings, validated before any work starts.

use super::solver::SolverOptions;
use crate::model::Model;
use serde::{Deserialize, Serialize};

/// Which model to fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelChoice {
    /// One model for every qubit.
    Fixed(Model),
    /// Fit gibbs, bias, noise, qasa and gaussian; keep the one with the smallest BIC per qubit.
    Auto,
}

impl std::str::FromStr for ModelChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "auto" {
            Ok(ModelChoice::Auto)
        } else {
            s.parse().map(ModelChoice::Fixed)
        }
    }
}

/// Which profile-likelihood intervals to compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ProfileMode {
    /// None (Wald intervals are not reported either).
    None,
    /// Only for γ and η when at or near their bound (|θ| < 2 SE).
    Bounds,
    /// For every fitted parameter.
    #[default]
    All,
}

/// Everything that controls a fit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitConfig {
    pub model: ModelChoice,
    /// Block-bootstrap replicates over calls (0 = off; needs per-call blocks in the sweep).
    pub bootstrap: usize,
    /// Seed of the bootstrap resampling.
    pub seed: u64,
    pub profile: ProfileMode,
    /// Run every starting point on every qubit (default: alternatives only where the first start does
    /// not converge or ends near γ = 0 / η = 0).
    #[serde(default)]
    pub all_starts: bool,
    pub solver: SolverOptions,
}

impl Default for FitConfig {
    fn default() -> Self {
        FitConfig {
            model: ModelChoice::Fixed(Model::Qasa),
            bootstrap: 0,
            seed: 0,
            profile: ProfileMode::All,
            all_starts: false,
            solver: SolverOptions::default(),
        }
    }
}
