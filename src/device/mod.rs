//! The virtual QPU: a simulated D-Wave device on any working graph with known true parameters, so that
//! every statistic qasa computes can be checked against truth (design.md, "device").
//!
//! - [`truth`]: true (β, b, γ, η) per qubit with spatial structure, outliers, readout error, crosstalk;
//! - [`qpu`]: one programming cycle at a time, per-read spins or counts, in the physical frame;
//! - [`simulate`]: a whole sweep with complementary gauge pairs and per-call blocks.

pub mod qpu;
pub mod simulate;
pub mod truth;

pub use qpu::{RawSamples, VirtualQpu};
pub use simulate::{simulate, PlanError, SimulationPlan};
pub use truth::{DeviceConfig, NoiseModel, QubitTruth, Truth, TruthError};

/// Writes a truth file (pretty JSON).
pub fn write_truth(truth: &Truth, path: &std::path::Path) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(truth).map_err(std::io::Error::other)?;
    std::fs::write(path, text + "\n")
}

/// Reads a truth file, validated against `schemas/truth.schema.json`.
pub fn read_truth(path: &std::path::Path) -> Result<Truth, TruthError> {
    let at = |e| TruthError {
        path: path.to_path_buf(),
        source: e,
    };
    let text = std::fs::read_to_string(path).map_err(|e| at(truth::TruthFileError::Io(e)))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| at(truth::TruthFileError::Json(e)))?;
    crate::schema::validate(crate::schema::TRUTH, &v)
        .map_err(|e| at(truth::TruthFileError::Schema(e)))?;
    serde_json::from_value(v).map_err(|e| at(truth::TruthFileError::Decode(e)))
}
