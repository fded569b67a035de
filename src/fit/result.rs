//! Result types of a fit: plain serde structs, units in the docs (schema: `schemas/fit.schema.json`).

use super::config::{FitConfig, NoiseLikelihood};
pub use super::estimate::{ByParam, Estimate, Stat, BOOTSTRAP_LAYOUT, FIT_LAYOUT};
use super::robust::ErrorMethod;
use super::warnings::FitWarning;
use crate::model::{Model, Param};
use crate::sweep::SweepMeta;
use serde::{Deserialize, Serialize};

/// Why a fit failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailReason {
    /// The qubit has no reads at any h.
    NoReads,
    /// Counts or fields are not finite / inconsistent (down > reads).
    NonFiniteData,
    /// Fewer distinct h values with reads than the model needs.
    TooFewFieldValues,
    /// Every read in one state at every h: the MLE is at infinity.
    AllOneState,
    /// The solver hit its iteration limit.
    IterationLimit,
    /// No step improved ℓ although not at a maximum.
    Stalled,
    /// ℓ not finite at every starting point.
    NonFiniteLikelihood,
}

impl FailReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FailReason::NoReads => "no_reads",
            FailReason::NonFiniteData => "non_finite_data",
            FailReason::TooFewFieldValues => "too_few_field_values",
            FailReason::AllOneState => "all_one_state",
            FailReason::IterationLimit => "iteration_limit",
            FailReason::Stalled => "stalled",
            FailReason::NonFiniteLikelihood => "non_finite_likelihood",
        }
    }
}

/// How a qubit's fit ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FitStatus {
    /// Strict interior local (multi-start global) maximum.
    Converged,
    /// Maximum with γ and/or η at 0 (|θ| < 1e-7); their SEs are not meaningful, use the profile interval.
    OnBound { at: Vec<Param> },
    /// No estimate (or an unconverged one); `detail` says what to do.
    Failed { reason: FailReason, detail: String },
}

impl FitStatus {
    /// `converged`, `on_bound:gamma+eta`, `failed:no_reads`.
    pub fn label(&self) -> String {
        match self {
            FitStatus::Converged => "converged".into(),
            FitStatus::OnBound { at } => {
                format!(
                    "on_bound:{}",
                    at.iter().map(|p| p.name()).collect::<Vec<_>>().join("+")
                )
            }
            FitStatus::Failed { reason, .. } => format!("failed:{}", reason.as_str()),
        }
    }
    pub fn is_failed(&self) -> bool {
        matches!(self, FitStatus::Failed { .. })
    }
}

/// One model's fit inside a model comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelScore {
    pub model: Model,
    /// Number of fitted parameters.
    pub n_params: usize,
    /// Maximised log-likelihood, nats.
    pub ll: f64,
    /// AIC = 2k - 2ℓ.
    pub aic: f64,
    /// BIC = k ln(total reads) - 2ℓ.
    pub bic: f64,
    /// Likelihood-ratio statistic 2(ℓ - ℓ_parent) against the next smaller nested model (none for
    /// gibbs and gaussian).
    pub lr_vs: Option<Model>,
    pub lr_stat: Option<f64>,
    /// χ² p-value of `lr_stat` (conservative for η and γ, which sit on a boundary under the null).
    pub lr_p_value: Option<f64>,
}

/// Block-bootstrap summary of one qubit (reported |γ|, |η|): per parameter the standard deviation of
/// the replicates × sqrt(B/(B-1)) (`*_se`) and the 95 % interval `θ̂ ± t_{B-1} se` (`*_lo`, `*_hi`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BootstrapFit {
    /// Replicates requested.
    pub reps: usize,
    /// Replicates whose fit failed (excluded).
    pub failed: usize,
    /// Blocks resampled in each replicate (B).
    #[serde(default)]
    pub blocks: usize,
    #[serde(flatten)]
    pub params: ByParam<BOOTSTRAP_LAYOUT>,
}

/// The fit of one qubit. `beta` in 1/h units; `b`, `eta` in h units; `gamma` dimensionless. For the
/// gaussian model `eta` holds σ. Parameters a model does not fit are 0 with no errors.
///
/// Per parameter (see [`Estimate`]), written flat in fit.json as `beta`, `beta_se`, `beta_se_scaled`,
/// `beta_lo`, `beta_hi`, … ([`FIT_LAYOUT`]); read them with [`QubitFit::value`], [`QubitFit::se`],
/// [`QubitFit::interval`] or [`QubitFit::estimate`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QubitFit {
    pub qubit: u32,
    pub model: Model,
    pub status: FitStatus,
    #[serde(flatten)]
    pub params: ByParam<FIT_LAYOUT>,
    /// Wrong-state floor `(1 - 1/sqrt(1+γ²))/2`, equivalent symmetric readout error (physics.md §3.1).
    pub wrong_state_floor: Option<f64>,
    /// Maximised log-likelihood (count form, no binomial coefficient), nats.
    pub ll: Option<f64>,
    /// Deviance against the saturated model.
    pub deviance: Option<f64>,
    /// Pearson χ².
    pub pearson_chi2: Option<f64>,
    /// Degrees of freedom: h values with reads - fitted parameters.
    pub dof: i64,
    /// Dispersion φ = Pearson χ²/dof.
    pub dispersion: Option<f64>,
    /// h values with reads.
    pub n_points: usize,
    /// Total reads.
    pub total_reads: f64,
    /// Solver iterations over all starts.
    pub iterations: usize,
    /// Starts tried, and how many reached the best ℓ (within 1e-6 nats).
    pub starts: usize,
    pub starts_agreeing: usize,
    pub bootstrap: Option<BootstrapFit>,
    /// Model comparison (empty unless `--model auto`).
    pub comparison: Vec<ModelScore>,
    /// Models of the comparison that the data do not distinguish from the chosen one (BIC within 2;
    /// the simplest was chosen). Empty when the choice is clear or there was no comparison.
    #[serde(default)]
    pub indistinguishable: Vec<Model>,
    /// Where `*_se`, `*_lo`, `*_hi` come from (none for failed qubits).
    #[serde(default)]
    pub error_method: Option<ErrorMethod>,
    /// Clusters of the robust errors (block cells, or h values).
    #[serde(default)]
    pub clusters: usize,
    /// Critical value `t_{C-1}(0.975)` of the robust 95 % intervals.
    #[serde(default)]
    pub critical_value: Option<f64>,
    pub warnings: Vec<FitWarning>,
}

impl QubitFit {
    /// An empty (failed) record.
    pub fn failed(qubit: u32, model: Model, reason: FailReason, detail: String) -> Self {
        QubitFit {
            qubit,
            model,
            status: FitStatus::Failed { reason, detail },
            params: ByParam::default(),
            wrong_state_floor: None,
            ll: None,
            deviance: None,
            pearson_chi2: None,
            dof: 0,
            dispersion: None,
            n_points: 0,
            total_reads: 0.0,
            iterations: 0,
            starts: 0,
            starts_agreeing: 0,
            bootstrap: None,
            comparison: Vec::new(),
            indistinguishable: Vec::new(),
            error_method: None,
            clusters: 0,
            critical_value: None,
            warnings: Vec::new(),
        }
    }
    /// All statistics of one parameter.
    pub fn estimate(&self, p: Param) -> &Estimate {
        &self.params[p]
    }
    /// The estimate of `p` (β, b, |γ|, |η|), when present.
    pub fn value(&self, p: Param) -> Option<f64> {
        self.params[p].value
    }
    /// The robust standard error of `p` (the `*_se` columns).
    pub fn se(&self, p: Param) -> Option<f64> {
        self.params[p].se
    }
    /// The robust 95 % interval `(lo, hi)` of `p` (the `*_lo`, `*_hi` columns).
    pub fn interval(&self, p: Param) -> (Option<f64>, Option<f64>) {
        (self.params[p].lo, self.params[p].hi)
    }
    /// `[β, b, |γ|, |η|]` when present.
    pub fn values(&self) -> [Option<f64>; 4] {
        Param::ALL.map(|p| self.value(p))
    }
    /// [`QubitFit::se`] of every parameter.
    pub fn ses(&self) -> [Option<f64>; 4] {
        Param::ALL.map(|p| self.se(p))
    }
    /// [`QubitFit::interval`] of every parameter.
    pub fn intervals(&self) -> [(Option<f64>, Option<f64>); 4] {
        Param::ALL.map(|p| self.interval(p))
    }
}

/// What was fitted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitMeta {
    /// qasa version.
    pub tool_version: String,
    /// Metadata of the input sweep.
    pub sweep: SweepMeta,
    pub n_h: usize,
    /// h range, h units.
    pub h_min: f64,
    pub h_max: f64,
    pub n_qubits: usize,
    /// Per-call blocks available for the bootstrap.
    pub n_calls: usize,
}

/// Chip-level summary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct FitSummary {
    pub n_qubits: usize,
    pub converged: usize,
    pub on_bound: usize,
    pub failed: usize,
    /// Medians over non-failed qubits.
    pub median_beta: Option<f64>,
    pub median_b: Option<f64>,
    pub median_gamma: Option<f64>,
    pub median_eta: Option<f64>,
    pub median_dispersion: Option<f64>,
    /// Qubits per chosen model, `[(model, count)]`.
    pub models: Vec<(Model, usize)>,
    /// Qubits per warning.
    pub warnings: Vec<(FitWarning, usize)>,
    /// Failure reasons with counts.
    pub failures: Vec<(FailReason, usize)>,
}

/// One candidate of the chip's noise-likelihood choice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoiseCandidate {
    pub likelihood: NoiseLikelihood,
    pub model: Model,
    /// ℓ summed over the compared qubits (count form; per read and per call on the same per-call
    /// counts, so they compare), nats.
    pub ll: f64,
}

/// Which noise likelihood the chip was fitted with, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoiseChoice {
    /// `per_read` or `per_call`.
    pub likelihood: NoiseLikelihood,
    pub reason: String,
    /// The candidates compared (empty when there was no choice).
    pub candidates: Vec<NoiseCandidate>,
    /// Qubits the comparison used.
    pub qubits_compared: usize,
    /// True when each qubit kept the more likely of the two per-call laws, two-point (`qasa`) or Gaussian
    /// (`gaussian`, fitted where it is not far behind at the two-point maximum): its `model`; `qasa`
    /// within 1 nat.
    #[serde(default)]
    pub per_qubit_law: bool,
}

/// What the `*_se`, `*_lo`, `*_hi` of every qubit are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorSummary {
    pub method: ErrorMethod,
    /// Confidence level of every interval (two-sided).
    pub confidence_level: f64,
    pub description: String,
}

/// The fit of a whole sweep (`fit.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitResult {
    pub meta: FitMeta,
    pub config: FitConfig,
    /// The noise likelihood used.
    pub noise: NoiseChoice,
    /// The default error method and confidence level.
    pub errors: ErrorSummary,
    pub qubits: Vec<QubitFit>,
    pub summary: FitSummary,
    /// The fit against a truth file (`qasa fit --truth`), when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truth_check: Option<super::check::TruthCheck>,
}
