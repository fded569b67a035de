//! What an optimised plan records about its design (`design` in plan.json; written by
//! `qasa plan --optimize`, see `crate::design` and docs/design.md). Plain data: the design module fills it,
//! the plan file carries it, and nothing in it defines the calls (it is not part of the plan's hash).

use super::information::{FitLikelihood, NoiseLaw};
use super::plan::ParamValues;
use crate::model::Params;
use serde::{Deserialize, Serialize};

/// What the optimiser was asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// The reference protocol's predicted errors of β (relative) and b, at least QPU time.
    MatchReference,
    /// Given standard errors, at least QPU time.
    TargetSe,
    /// The best errors (weighted A-optimal criterion) within a QPU-time budget.
    BudgetQpuS,
}

/// Targets on the root-mean-square standard error over the prior's qubits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TargetSe {
    /// SE of β, 1/h units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beta: Option<f64>,
    /// SE of β relative to β.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beta_rel: Option<f64>,
    /// SE of b, h units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b: Option<f64>,
    /// SE of γ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gamma: Option<f64>,
    /// SE of η, h units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eta: Option<f64>,
}

/// Predicted standard errors of a plan over the prior's qubits.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PredictedSe {
    /// Root mean square over the prior's qubits of the SE of β (1/h), b (h), γ, η (h).
    pub rms_se: ParamValues,
    /// Root mean square of SE(β)/β.
    pub rms_rel_se_beta: Option<f64>,
    /// Largest SE over the prior's qubits.
    pub max_se: ParamValues,
    /// The likelihood the default fit will use for the plan's counts.
    pub fit_likelihood: FitLikelihood,
}

/// The targets of one scenario of the prior.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioTargets {
    /// `β×0.75`, … for a family-default prior, `fit` for a fit prior.
    pub scenario: String,
    pub targets: TargetSe,
}

/// The candidate calls the optimiser chose from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidates {
    /// Spacing of the candidate |h| values, h units.
    pub h_step: f64,
    /// Largest candidate |h|.
    pub h_max: f64,
    /// Candidate reads per call.
    pub call_sizes: Vec<u32>,
}

/// The prior the design assumed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriorRecord {
    /// `family_defaults` or `fit`.
    pub source: String,
    /// The fit file of a fit prior.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Qubits of the prior sample.
    pub qubits: usize,
    /// Median β (1/h), b (h), γ, η (h) of the sample.
    pub median: Params,
    pub note: String,
}

/// The reference protocol the design was compared with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReferenceRecord {
    /// What it is, in words.
    pub protocol: String,
    pub estimated_qpu_s: f64,
    pub predicted: PredictedSe,
}

/// The `design` section of an optimised plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanDesign {
    pub method: String,
    pub objective: Objective,
    /// The noise law the information was computed under.
    pub noise_law: NoiseLaw,
    pub prior: PriorRecord,
    /// Targets on the RMS SE over the prior (set for match_reference and target_se).
    pub targets: TargetSe,
    /// The targets each scenario of the prior must meet (for a budget: the scales of the criterion).
    pub scenario_targets: Vec<ScenarioTargets>,
    /// The QPU-time budget, s (budget_qpu_s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_qpu_s: Option<f64>,
    /// QPU time already spent whose counts the fit will add (an adaptive top-up's pilot), s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior_data_qpu_s: Option<f64>,
    /// Predicted errors of this plan (with the data already taken, for a top-up).
    pub predicted: PredictedSe,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<ReferenceRecord>,
    pub candidates: Candidates,
}
