//! Parameters and the nested model family (docs/physics.md §2–3).

use serde::{Deserialize, Serialize};

/// The four parameters of one qubit, in natural units.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// Effective inverse temperature β, in 1/h units (β > 0).
    pub beta: f64,
    /// Static input-field bias b, in h units.
    pub b: f64,
    /// Saturation γ (dimensionless); the likelihood depends on γ² only.
    pub gamma: f64,
    /// Field noise, in h units: η of the two-point model or σ of the Gaussian model; even in the model.
    pub eta: f64,
}

impl Params {
    pub const fn new(beta: f64, b: f64, gamma: f64, eta: f64) -> Self {
        Params {
            beta,
            b,
            gamma,
            eta,
        }
    }
    /// As an array `[β, b, γ, η]`.
    pub fn to_array(self) -> [f64; 4] {
        [self.beta, self.b, self.gamma, self.eta]
    }
    /// The value of one parameter.
    pub fn get(&self, p: Param) -> f64 {
        match p {
            Param::Beta => self.beta,
            Param::B => self.b,
            Param::Gamma => self.gamma,
            Param::Eta => self.eta,
        }
    }
    pub fn from_array(a: [f64; 4]) -> Self {
        Params {
            beta: a[0],
            b: a[1],
            gamma: a[2],
            eta: a[3],
        }
    }
}

/// Index of each parameter in `[β, b, γ, η]` arrays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Param {
    Beta = 0,
    B = 1,
    Gamma = 2,
    Eta = 3,
}

impl Param {
    pub const ALL: [Param; 4] = [Param::Beta, Param::B, Param::Gamma, Param::Eta];
    pub fn index(self) -> usize {
        self as usize
    }
    /// γ and η: the likelihood depends on them only through their squares (docs/physics.md §3), so
    /// they are fitted free in sign, reported as |θ| and bounded below by 0.
    pub const EVEN: [Param; 2] = [Param::Gamma, Param::Eta];
    /// True for γ and η (see [`Param::EVEN`]).
    pub fn is_even(self) -> bool {
        matches!(self, Param::Gamma | Param::Eta)
    }
    pub fn name(self) -> &'static str {
        match self {
            Param::Beta => "beta",
            Param::B => "b",
            Param::Gamma => "gamma",
            Param::Eta => "eta",
        }
    }
}

/// How the field noise enters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseKind {
    /// Equal mixture of the fields `h + b ± η` (physics.md §2).
    TwoPoint,
    /// Gaussian field noise of standard deviation σ (stored in `eta`), Gauss–Hermite quadrature.
    Gaussian,
}

/// The nested models. Parameters that a model does not fit are fixed at 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// Ideal classical Gibbs qubit: β only.
    Gibbs,
    /// β, b.
    Bias,
    /// β, b, η (two-point noise).
    Noise,
    /// β, b, γ, η: the full QASA model.
    Qasa,
    /// β, b, γ, σ with Gaussian field noise.
    Gaussian,
}

impl Model {
    pub const ALL: [Model; 5] = [
        Model::Gibbs,
        Model::Bias,
        Model::Noise,
        Model::Qasa,
        Model::Gaussian,
    ];

    /// Which of `[β, b, γ, η]` the model fits.
    pub fn free(self) -> [bool; 4] {
        match self {
            Model::Gibbs => [true, false, false, false],
            Model::Bias => [true, true, false, false],
            Model::Noise => [true, true, false, true],
            Model::Qasa | Model::Gaussian => [true, true, true, true],
        }
    }
    /// True when the model fits `p` (otherwise it is fixed at 0).
    pub fn fits(self, p: Param) -> bool {
        self.free()[p.index()]
    }
    /// Number of fitted parameters.
    pub fn n_params(self) -> usize {
        self.free().iter().filter(|&&f| f).count()
    }
    pub fn noise(self) -> NoiseKind {
        match self {
            Model::Gaussian => NoiseKind::Gaussian,
            _ => NoiseKind::TwoPoint,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Model::Gibbs => "gibbs",
            Model::Bias => "bias",
            Model::Noise => "noise",
            Model::Qasa => "qasa",
            Model::Gaussian => "gaussian",
        }
    }
}

impl std::fmt::Display for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Model {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Model::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| format!("unknown model {s:?}: use gibbs, bias, noise, qasa or gaussian"))
    }
}
