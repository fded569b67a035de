//! True per-qubit parameters of the virtual QPU, with the spatial structure a real chip has.
//!
//! Defaults per family follow docs/physics.md §4 (plausible magnitudes):
//!
//! | family | β at 5 µs (1/h) | b (h) | γ | η (h) |
//! |---|---|---|---|---|
//! | chimera (2000Q) | 11 | ≈ 0.01 | ≈ 0.05 | ≈ 0.01 |
//! | pegasus (Advantage) | 6 | ≈ 0.01 | ≈ 0.05 | ≈ 0.01 |
//! | zephyr (Advantage2) | 8 (assumption: no public number) | ≈ 0.01 | ≈ 0.04 | ≈ 0.008 |
//!
//! **Anneal-time model** (an assumption, documented here): slower anneals freeze out later and colder, so
//! β grows weakly with the anneal time `t`: `β(t) = β(5 µs) · (t / 5 µs)^κ` with κ = 0.1 by default.
//!
//! **Spatial structure** (physics.md §4, last point): per qubit, with (x, y) its cell column and row scaled
//! to [0, 1] and `u` its orientation,
//!
//! ```text
//! β_i = β(t) · (1 + 0.04 F_β(x, y) + 0.01 σ_u + 0.01 ε)
//! b_i = 0.008 F_b(x, y) + 0.003 σ_u + 0.004 ε          σ_u = +1 horizontal, -1 vertical
//! γ_i = |γ_0 + 0.25 γ_0 ε|,   η_i = η_0 · exp(0.3 ε)     ε ~ N(0, 1), fresh each time
//! ```
//!
//! where `F` is a smooth unit-amplitude field (three random low-frequency plane waves). A fraction of
//! qubits (0.5 % by default) are outliers of one of four kinds: a large bias, a low β, a large γ or a
//! large η; the truth file says which.
//!
//! **Crosstalk** (optional): a coupling J on a fraction of the working couplers, planted on a matching of
//! the graph (no qubit in two) so that each coupled pair can be sampled exactly from its four states.

use crate::topology::{EdgeClass, Family, QubitId, WorkingGraph};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rand_pcg::Pcg64Mcg;
use serde::{Deserialize, Serialize};

/// Why a truth file could not be read: the file, and what is wrong in it.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct TruthError {
    pub path: std::path::PathBuf,
    #[source]
    pub source: TruthFileError,
}

/// What is wrong in a truth file.
#[derive(Debug, thiserror::Error)]
pub enum TruthFileError {
    #[error("cannot read it ({0}); check the path")]
    Io(#[source] std::io::Error),
    #[error("not valid JSON ({0}); is it a qasa truth.json?")]
    Json(#[source] serde_json::Error),
    #[error("{0}")]
    Schema(#[source] crate::schema::Violation),
    #[error("{0}")]
    Decode(#[source] serde_json::Error),
}

/// Reference anneal time of the family defaults, microseconds.
pub const REFERENCE_ANNEAL_TIME_US: f64 = 5.0;

/// How the field noise η enters the samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NoiseModel {
    /// One ±η offset per qubit per programming cycle (call), sign drawn at random: the QASA model in
    /// expectation, and over-dispersed counts, as quasi-static flux noise gives (physics.md §3.5).
    #[default]
    CallTwoPoint,
    /// One N(0, η²) offset per qubit per call (the `gaussian` model in expectation).
    CallGaussian,
    /// A fresh ±η offset per read: plain binomial counts (no over-dispersion).
    Read,
}

/// Settings of a virtual device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceConfig {
    /// Anneal time the device is programmed with by default, microseconds.
    pub anneal_time_us: f64,
    /// Seed of the truth (parameters and crosstalk); sampling takes its own RNG.
    pub seed: u64,
    /// Probability that a read returns the wrong spin, independent of everything else.
    pub readout_flip: f64,
    /// Fraction of working couplers with a planted crosstalk coupling (capped by a maximal matching).
    pub crosstalk_fraction: f64,
    /// Exponent κ of β(t) = β(5 µs) (t / 5 µs)^κ.
    pub beta_time_exponent: f64,
    /// Fraction of outlier qubits.
    pub outlier_fraction: f64,
    /// How η enters the samples.
    pub noise: NoiseModel,
    /// Overrides the family's β at 5 µs (1/h).
    pub beta_ref: Option<f64>,
}

impl Default for DeviceConfig {
    fn default() -> Self {
        DeviceConfig {
            anneal_time_us: REFERENCE_ANNEAL_TIME_US,
            seed: 1,
            readout_flip: 0.0,
            crosstalk_fraction: 0.0,
            beta_time_exponent: 0.1,
            outlier_fraction: 0.005,
            noise: NoiseModel::CallTwoPoint,
            beta_ref: None,
        }
    }
}

/// Family defaults: (β at 5 µs, γ_0, η_0).
pub fn family_defaults(family: Family) -> (f64, f64, f64) {
    match family {
        Family::Chimera => (11.0, 0.05, 0.01),
        Family::Pegasus => (6.0, 0.05, 0.01),
        Family::Zephyr => (8.0, 0.04, 0.008),
    }
}

/// True parameters of one qubit (the QASA model, physics.md §2) at the reference anneal time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QubitTruth {
    pub qubit: QubitId,
    /// Effective inverse temperature at 5 µs, 1/h units (scale with [`Truth::beta_at`]).
    pub beta_ref: f64,
    /// Static field bias, h units.
    pub b: f64,
    /// Saturation (dimensionless).
    pub gamma: f64,
    /// Field noise, h units.
    pub eta: f64,
    /// Readout flip probability.
    pub readout_flip: f64,
    /// Outlier kind, if this qubit is one (`bias`, `beta`, `gamma`, `eta`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlier: Option<String>,
}

/// A planted crosstalk coupling (same sign convention as J: E includes J s_u s_v).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Crosstalk {
    pub u: QubitId,
    pub v: QubitId,
    /// Coupling, h units.
    pub j: f64,
    /// Coupler class.
    pub class: Option<EdgeClass>,
}

/// Everything true about a virtual device; written to the truth file (`schemas/truth.schema.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    pub format: String,
    pub tool_version: String,
    /// Topology as SAPI writes it.
    pub topology: crate::sweep::TopologyRef,
    pub solver: Option<String>,
    pub config: DeviceConfig,
    /// β at the configured anneal time for a qubit with β_ref = 1 (the factor (t / 5 µs)^κ).
    pub beta_time_factor: f64,
    /// One entry per working qubit, in graph order.
    pub qubits: Vec<QubitTruth>,
    pub crosstalk: Vec<Crosstalk>,
}

impl Truth {
    /// β of a qubit at an anneal time (µs).
    pub fn beta_at(&self, q: &QubitTruth, anneal_time_us: f64) -> f64 {
        q.beta_ref * beta_time_factor(anneal_time_us, self.config.beta_time_exponent)
    }
}

/// `(t / 5 µs)^κ`.
pub fn beta_time_factor(anneal_time_us: f64, kappa: f64) -> f64 {
    (anneal_time_us / REFERENCE_ANNEAL_TIME_US).powf(kappa)
}

/// A smooth random field over [0,1]²: three plane waves of random direction and phase, unit amplitude.
struct SmoothField([(f64, f64, f64); 3]);

impl SmoothField {
    fn new(rng: &mut Pcg64Mcg) -> Self {
        let mut w = [(0.0, 0.0, 0.0); 3];
        for (i, m) in w.iter_mut().enumerate() {
            let freq = 0.5 + 0.5 * i as f64;
            let angle = rng.random::<f64>() * std::f64::consts::TAU;
            *m = (
                freq * angle.cos(),
                freq * angle.sin(),
                rng.random::<f64>() * std::f64::consts::TAU,
            );
        }
        SmoothField(w)
    }
    fn at(&self, x: f64, y: f64) -> f64 {
        let s: f64 = self
            .0
            .iter()
            .map(|(kx, ky, ph)| (std::f64::consts::TAU * (kx * x + ky * y) + ph).cos())
            .sum();
        s / 3f64.sqrt()
    }
}

/// Draws the truth of a device on a working graph.
pub fn generate(graph: &WorkingGraph, config: &DeviceConfig) -> Truth {
    let family = graph.topology.family();
    let (beta_family, gamma0, eta0) = family_defaults(family);
    let beta0 = config.beta_ref.unwrap_or(beta_family);
    let mut rng = Pcg64Mcg::seed_from_u64(config.seed ^ 0x7175_6269_7473);
    let f_beta = SmoothField::new(&mut rng);
    let f_b = SmoothField::new(&mut rng);
    let coords: Vec<_> = graph
        .qubits
        .iter()
        .map(|&q| graph.topology.coords(q))
        .collect();
    let max_row = coords
        .iter()
        .flatten()
        .map(|c| c.cell_row)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let max_col = coords
        .iter()
        .flatten()
        .map(|c| c.cell_col)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut normal = || -> f64 { StandardNormal.sample(&mut rng) };
    let mut qubits = Vec::with_capacity(graph.qubits.len());
    for (i, &q) in graph.qubits.iter().enumerate() {
        let (x, y, side) = match coords[i] {
            Some(c) => (
                f64::from(c.cell_col) / max_col,
                f64::from(c.cell_row) / max_row,
                if c.orientation == 1 { 1.0 } else { -1.0 },
            ),
            None => (0.5, 0.5, 0.0),
        };
        let beta = beta0 * (1.0 + 0.04 * f_beta.at(x, y) + 0.01 * side + 0.01 * normal());
        let b = 0.008 * f_b.at(x, y) + 0.003 * side + 0.004 * normal();
        let gamma = (gamma0 + 0.25 * gamma0 * normal()).abs();
        let eta = eta0 * (0.3 * normal()).exp();
        qubits.push(QubitTruth {
            qubit: q,
            beta_ref: beta,
            b,
            gamma,
            eta,
            readout_flip: config.readout_flip,
            outlier: None,
        });
    }
    // Outliers.
    let n_out = (config.outlier_fraction * qubits.len() as f64).round() as usize;
    let mut idx: Vec<usize> = (0..qubits.len()).collect();
    idx.shuffle(&mut rng);
    for (k, &i) in idx.iter().take(n_out).enumerate() {
        let t = &mut qubits[i];
        let kind = match k % 4 {
            0 => {
                let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
                t.b += sign * (0.03 + 0.05 * rng.random::<f64>());
                "bias"
            }
            1 => {
                t.beta_ref *= 0.4 + 0.3 * rng.random::<f64>();
                "beta"
            }
            2 => {
                t.gamma = 0.2 + 0.15 * rng.random::<f64>();
                "gamma"
            }
            _ => {
                t.eta = 0.04 + 0.04 * rng.random::<f64>();
                "eta"
            }
        };
        t.outlier = Some(kind.to_string());
    }
    // Crosstalk on a matching.
    let mut crosstalk = Vec::new();
    if config.crosstalk_fraction > 0.0 {
        let target = (config.crosstalk_fraction * graph.couplers.len() as f64).round() as usize;
        let mut order: Vec<usize> = (0..graph.couplers.len()).collect();
        order.shuffle(&mut rng);
        let mut used = std::collections::HashSet::new();
        for ci in order {
            if crosstalk.len() >= target {
                break;
            }
            let (u, v) = graph.couplers[ci];
            if used.contains(&u) || used.contains(&v) {
                continue;
            }
            used.insert(u);
            used.insert(v);
            let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
            let j = sign * (0.02 + 0.06 * rng.random::<f64>());
            crosstalk.push(Crosstalk {
                u: u.min(v),
                v: u.max(v),
                j,
                class: graph.coupler_class(u, v),
            });
        }
        crosstalk.sort_by_key(|c| (c.u, c.v));
    }
    Truth {
        format: "qasa-truth".into(),
        tool_version: crate::TOOL_VERSION.into(),
        topology: graph.topology.into(),
        solver: graph.solver_name.clone(),
        config: config.clone(),
        beta_time_factor: beta_time_factor(config.anneal_time_us, config.beta_time_exponent),
        qubits,
        crosstalk,
    }
}
