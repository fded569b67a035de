//! The virtual QPU: a simulated D-Wave device on any working graph with known true parameters, so that
//! every statistic qasa computes can be checked against truth (design.md, "device").
//!
//! - [`truth`]: true (β, b, γ, η) per qubit with spatial structure, outliers, readout error, crosstalk;
//! - [`qpu`]: one programming cycle at a time, per-read spins or counts, in the physical frame;
//!
//! Whole sweeps are plans ([`crate::collect::Plan`]) run on the device by [`crate::collect::run_virtual`];
//! the names below keep the short way (settings → sweep) where callers have always found it.

pub mod qpu;
pub mod truth;

pub use crate::collect::{simulate, PlanError, PlanSpec as SimulationPlan};
pub use qpu::{RawSamples, VirtualQpu};
pub use truth::{DeviceConfig, NoiseModel, QubitTruth, Truth, TruthError};

/// Writes a truth file (pretty JSON) atomically (temporary file + rename).
pub fn write_truth(truth: &Truth, path: &std::path::Path) -> std::io::Result<()> {
    crate::atomic_file::write_atomic(path, |e| e, |w| write_truth_to(truth, w))
}

/// Writes a truth file's JSON into `w`.
pub fn write_truth_to(truth: &Truth, mut w: impl std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut w, truth).map_err(std::io::Error::other)?;
    w.write_all(b"\n")
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
