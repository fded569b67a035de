//! The sweep dataset: per (h, qubit) counts of s = -1 reads ("down") out of all reads, **in the physical
//! frame** (the field the qubit saw, the spin it returned; docs/physics.md §3.4), with optional per-call
//! blocks (for the block bootstrap, physics.md §3.5) and optional per (h, coupler) pair counts (§5).
//!
//! Files: the native `*.sweep.json[.gz]` (schema `schemas/sweep.schema.json`) and the reference QASA
//! `spin_table.csv` (`h,samples,spin_<id>,...`).

mod check;
mod counts;
pub mod dimod;
mod error;
pub mod native;
pub mod qasa_csv;

pub use check::{check, CheckError};
pub use counts::CountMatrix;
pub use error::SweepError;

use crate::topology::{QubitId, Topology};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Where a sweep came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SweepSource {
    /// The built-in virtual QPU (`qasa simulate`).
    Simulated,
    /// Collected from a SAPI solver.
    Collected,
    /// Imported from a QASA `spin_table.csv` (gauges unknown).
    QasaCsv,
    /// Imported from dimod `SampleSet.to_serializable()` JSON (gauges unknown).
    Dimod,
}

/// Metadata of a sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepMeta {
    pub source: SweepSource,
    /// Solver name (`properties` record name, or the virtual device's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solver: Option<String>,
    /// Working-graph id (`identity.version.graph_id`) when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph_id: Option<String>,
    /// Hardware topology when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology: Option<TopologyRef>,
    /// Anneal time in microseconds, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anneal_time_us: Option<f64>,
    /// Solver parameters sent with every call (e.g. `auto_scale: false`).
    #[serde(default)]
    pub parameters: serde_json::Map<String, serde_json::Value>,
    /// True when every call used a random spin-reversal gauge and counts were mapped back to the
    /// physical frame; false when gauges were not used; `None` when unknown (QASA csv).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gauges: Option<bool>,
    /// RFC 3339 time stamp of the first call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// RFC 3339 time stamp of the last call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Version of qasa that wrote the file.
    pub tool_version: String,
    /// Seed used by a simulation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Calls (programming cycles) summed in every cell of a per-call block that has reads, when the same
    /// for all of them (cells without reads are allowed);
    /// 1 means each block cell is one call, so its reads share one noise draw (the fit's per-call
    /// likelihood needs that). `None` when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calls_per_block: Option<u32>,
    /// The plan the sweep executed (`qasa simulate`, `qasa collect`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<CampaignMeta>,
}

/// How a sweep was collected from a plan (`collect::Plan`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignMeta {
    /// SHA-256 (hex) of the plan.
    pub plan_sha256: String,
    /// Calls of the plan, each counted once.
    pub calls: u64,
    /// Estimated QPU access time of the plan, seconds.
    pub estimated_qpu_s: f64,
    /// QPU access time charged, seconds: the sum of the answers' `qpu_access_time` (a call's estimate
    /// where its answer has no timing; attempts the service lost are not included); absent for
    /// simulations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charged_qpu_s: Option<f64>,
    /// Calls submitted again because the service failed or lost a problem (each attempt was billed).
    #[serde(default)]
    pub resubmitted_calls: u64,
}

/// Topology as SAPI writes it: `{"type": "pegasus", "shape": [16]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopologyRef {
    #[serde(rename = "type")]
    pub kind: String,
    pub shape: Vec<u32>,
}

impl From<Topology> for TopologyRef {
    fn from(t: Topology) -> Self {
        let kind = match t.family() {
            crate::topology::Family::Chimera => "chimera",
            crate::topology::Family::Pegasus => "pegasus",
            crate::topology::Family::Zephyr => "zephyr",
        };
        TopologyRef {
            kind: kind.to_string(),
            shape: t.shape(),
        }
    }
}

/// Per (h, coupler) pair statistics: reads in which both spins agree, out of reads.
#[derive(Clone, Debug, PartialEq)]
pub struct CouplerAgreement {
    /// Couplers `(u, v)`, `u < v`, both in the sweep's qubit list.
    pub couplers: Vec<(QubitId, QubitId)>,
    /// `agree[ih * couplers.len() + ic]`: reads with s_u = s_v.
    pub agree: Vec<u32>,
    /// `reads[ih * couplers.len() + ic]`.
    pub reads: Vec<u32>,
}

/// A single-qubit sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    pub meta: SweepMeta,
    /// The h grid, in units of the solver's h, strictly increasing.
    pub h: Vec<f64>,
    /// Qubit ids, one column each, strictly increasing.
    pub qubits: Vec<QubitId>,
    /// Total counts over all calls.
    pub counts: CountMatrix,
    /// Per-call blocks (each the same shape as `counts`; they sum to `counts`). Empty when not recorded.
    pub blocks: Vec<CountMatrix>,
    /// Pair counts on couplers, when recorded.
    pub pairs: Option<CouplerAgreement>,
}

/// File formats a sweep can be read from or written to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SweepFormat {
    /// `*.sweep.json` / `*.json.gz`.
    Native,
    /// QASA `spin_table.csv`.
    QasaCsv,
    /// dimod `SampleSet.to_serializable()` JSON (read only).
    Dimod,
}

impl SweepFormat {
    /// The format a file name asks for when writing: `.csv` → QASA, `.json` / `.json.gz` → native.
    pub fn from_file_name(path: &Path) -> Result<Self, SweepError> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if name.ends_with(".csv") {
            Ok(SweepFormat::QasaCsv)
        } else if name.ends_with(".json") || name.ends_with(".json.gz") {
            Ok(SweepFormat::Native)
        } else {
            Err(SweepError::Format {
                path: path.to_path_buf(),
                reason: "the file name must end in .csv, .json or .json.gz".into(),
            })
        }
    }
}

/// Reads a sweep from a native file (plain or gzip), a QASA `spin_table.csv` or a dimod sample set file,
/// recognised by content. dimod files get no pair counts here (see [`read_sweep_with_graph`]).
pub fn read_sweep(path: &Path) -> Result<Sweep, SweepError> {
    read_sweep_with_graph(path, None)
}

/// As [`read_sweep`]; a dimod file gets pair counts on the couplers of `graph` between sampled qubits.
pub fn read_sweep_with_graph(
    path: &Path,
    graph: Option<&crate::topology::WorkingGraph>,
) -> Result<Sweep, SweepError> {
    let bytes = crate::gzip::read(path)?;
    match sniff(&bytes) {
        Some(SweepFormat::Native) => native::from_slice(&bytes, path),
        Some(SweepFormat::QasaCsv) => qasa_csv::from_slice(&bytes, path),
        Some(SweepFormat::Dimod) => dimod::from_slice(&bytes, path, graph),
        None => Err(SweepError::Format {
            path: path.to_path_buf(),
            reason:
                "it starts neither with a JSON object or array nor with a `h,samples,...` header"
                    .into(),
        }),
    }
}

/// Recognises a sweep format from the first bytes of a (decompressed) file: a JSON array, or a JSON
/// object whose top-level `"type"` is `"SampleSet"`, is dimod; another JSON object is native.
pub fn sniff(bytes: &[u8]) -> Option<SweepFormat> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = &bytes[start..];
    if rest.starts_with(b"{") {
        if dimod::top_level_type(rest).as_deref() == Some("SampleSet") {
            Some(SweepFormat::Dimod)
        } else {
            Some(SweepFormat::Native)
        }
    } else if rest.starts_with(b"[") {
        Some(SweepFormat::Dimod)
    } else if rest.starts_with(b"h,") || rest.starts_with(b"\"h\",") {
        Some(SweepFormat::QasaCsv)
    } else {
        None
    }
}

/// Writes a sweep atomically (temporary file + rename) in the format its file name asks for (see
/// [`SweepFormat::from_file_name`]).
pub fn write_sweep(sweep: &Sweep, path: &Path) -> Result<(), SweepError> {
    match SweepFormat::from_file_name(path)? {
        SweepFormat::Native => native::write(sweep, path),
        SweepFormat::QasaCsv => qasa_csv::write(sweep, path),
        SweepFormat::Dimod => Err(dimod_not_written(path)),
    }
}

fn dimod_not_written(path: &Path) -> SweepError {
    SweepError::Format {
        path: path.to_path_buf(),
        reason: "dimod sample set files are read, not written".into(),
    }
}

/// Writes a sweep into `w` in the format the destination's name `path` asks for (for callers that do
/// their own atomic replace, e.g. several files committed together).
pub fn write_sweep_to(
    sweep: &Sweep,
    path: &Path,
    w: impl std::io::Write,
) -> Result<(), SweepError> {
    match SweepFormat::from_file_name(path)? {
        SweepFormat::Native => native::write_to(sweep, path, w),
        SweepFormat::QasaCsv => qasa_csv::write_to(sweep, path, w),
        SweepFormat::Dimod => Err(dimod_not_written(path)),
    }
}

impl SweepMeta {
    /// Metadata with only the source and this tool's version set.
    pub fn new(source: SweepSource) -> Self {
        SweepMeta {
            source,
            solver: None,
            graph_id: None,
            topology: None,
            anneal_time_us: None,
            parameters: Default::default(),
            gauges: None,
            started_at: None,
            finished_at: None,
            tool_version: crate::TOOL_VERSION.to_string(),
            seed: None,
            calls_per_block: None,
            campaign: None,
        }
    }
}

impl Sweep {
    /// Index of a qubit's column.
    pub fn column_of(&self, qubit: QubitId) -> Option<usize> {
        self.qubits.binary_search(&qubit).ok()
    }
}
