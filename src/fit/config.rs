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
    /// Fit qasa (two-point noise), and gaussian where it is not far behind at the qasa maximum
    /// ([`super::qubit::LAW_SCREEN_NATS`]); keep the one with the higher likelihood per qubit (qasa when
    /// they are within 1 nat). Not asked for by name: the default fit uses it when the chip's per-call
    /// noise comparison shows Gaussian-law qubits ([`super::noise`]).
    NoiseLaws,
}

impl std::str::FromStr for ModelChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "auto" {
            Ok(ModelChoice::Auto)
        } else {
            s.parse().map(ModelChoice::Fixed).map_err(|_| {
                format!("unknown model {s:?}: use qasa, gaussian, gibbs, bias, noise or auto")
            })
        }
    }
}

/// How the field noise enters the likelihood (docs/physics.md §3.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NoiseLikelihood {
    /// Per call when the sweep's blocks are single calls and the per-call likelihood is the better one
    /// on the chip; per read otherwise.
    #[default]
    Auto,
    /// Binomial counts of the averaged response (the noise drawn afresh for every read).
    PerRead,
    /// The reads of one call share one noise draw (needs per-call blocks of one call each).
    PerCall,
}

impl NoiseLikelihood {
    pub fn name(self) -> &'static str {
        match self {
            NoiseLikelihood::Auto => "auto",
            NoiseLikelihood::PerRead => "per_read",
            NoiseLikelihood::PerCall => "per_call",
        }
    }
}

/// Which profile-likelihood intervals (`*_profile_lo`, `*_profile_hi`; model-based, 95 %) to compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ProfileMode {
    /// None (the default: the robust intervals need no profile).
    #[default]
    None,
    /// Only for γ and η when at or near their bound (|θ| < 2 SE).
    Bounds,
    /// For every fitted parameter.
    All,
}

/// Everything that controls a fit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitConfig {
    pub model: ModelChoice,
    /// Per-read or per-call noise likelihood.
    #[serde(default)]
    pub noise: NoiseLikelihood,
    /// Block-bootstrap replicates over calls (0 = off; needs per-call blocks in the sweep).
    pub bootstrap: usize,
    /// Seed of the bootstrap resampling.
    pub seed: u64,
    pub profile: ProfileMode,
    /// Run every starting point on every qubit (default: alternatives only where the first start does
    /// not converge or ends near γ = 0 / η = 0, and every start on a sparse transition, [`super::sparse`]).
    #[serde(default)]
    pub all_starts: bool,
    pub solver: SolverOptions,
}

impl Default for FitConfig {
    fn default() -> Self {
        FitConfig {
            model: ModelChoice::Fixed(Model::Qasa),
            noise: NoiseLikelihood::Auto,
            bootstrap: 0,
            seed: 0,
            profile: ProfileMode::None,
            all_starts: false,
            solver: SolverOptions::default(),
        }
    }
}
