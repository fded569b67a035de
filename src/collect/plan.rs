//! A plan: the list of calls of a campaign (design.md "collect"; issue 11 §1). Both executors run it
//! unchanged: the virtual QPU ([`super::virtual_qpu`], `qasa simulate --plan`) and SAPI
//! ([`super::runner`], `qasa collect --plan`).
//!
//! Every call programs every working qubit `q` with the field `h · g_q` (no couplings), where `h` is the
//! call's uniform field and `g_q = ±1` its gauge: bit `q` of the gauge's mask (1 = reversed), complemented
//! when the call's `flip` is set. The gauge is applied client-side; SAPI's spin-reversal parameter is never
//! sent, `auto_scale` is false (a uniform h would otherwise be rescaled to the edge of `h_range`) and
//! `flux_drift_compensation` is what the plan says. The spins a call returns are the physical spins of
//! fields `h · g_q`, so counts are recorded in the physical frame at the field each qubit saw
//! (docs/physics.md §3 item 4): no spin is mapped back, only the field.
//!
//! Plans built by [`Plan::build`] are balanced: a call at `+h` and its partner at `-h` share gauge, flip,
//! reads and block, so each block holds, at every physical field and for every qubit, one call of each
//! partner pair; and a gauge is used once plain and once flipped, so each qubit sees `+h` and `-h` equally
//! often whatever its bias.
//!
//! The plan's `sha256` covers what defines the calls (solver, graph, grid, parameters, gauges, calls); the
//! journal of a collection records it, so a resumed run can only continue the plan it began.

use super::error::PlanError;
use crate::sweep::TopologyRef;
use crate::topology::{Topology, WorkingGraph};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::path::Path;

/// `format` of every plan file.
pub const FORMAT: &str = "qasa-plan";
/// Version of the plan format.
pub const VERSION: u32 = 1;

/// Where the plan's solver record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SolverSource {
    /// Fetched from SAPI.
    Sapi,
    /// A saved solver record file.
    SolverFile,
    /// A perfect graph (`--topology`), limited like `qasa serve --topology` serves it.
    Topology,
}

/// The solver a plan is made for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanSolver {
    pub name: String,
    /// `identity.version.graph_id`, when the record has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph_id: Option<String>,
    pub source: SolverSource,
    pub topology: TopologyRef,
}

/// One call (one problem, one programming cycle).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Call {
    /// Uniform field before the gauge, h units.
    pub h: f64,
    /// Reads (`num_reads`).
    pub reads: u32,
    /// Gauge index into `gauges.masks`; null without a gauge (h = 0, or gauges off).
    pub gauge: Option<u32>,
    /// Use the complement of the gauge.
    #[serde(default)]
    pub flip: bool,
    /// Per-call block of the sweep this call's counts go to; null when blocks are not recorded.
    pub block: Option<u32>,
    /// Estimated QPU access time, µs.
    pub estimated_qpu_us: f64,
}

/// Gauges (spin-reversal transforms) as bit masks over the plan's qubits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gauges {
    /// Seed the masks were drawn with.
    pub seed: u64,
    /// Base64 of `ceil(n/8)` bytes per gauge: bit `i` (byte `i / 8`, most significant bit first) set means
    /// qubit `qubits[i]` is reversed (programmed with `-h`).
    pub masks: Vec<String>,
}

/// The QPU-time estimate of a plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// `problem_timing_data` (the record's own model) or `fallback_dw_2000q_6` (see `collect::cost`).
    pub timing_model: String,
    /// Number of qubits each call uses (m of the timing model).
    pub qubits_per_call: usize,
    /// Estimated wall time, s, for `in_flight` calls in flight (no queue waits).
    pub estimated_wall_s: f64,
    pub in_flight: usize,
}

/// Expected standard errors of one qubit at typical values (see `collect::precision`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Precision {
    /// The parameter values the errors are computed at.
    pub at: crate::model::Params,
    /// Binomial (per-read independent) standard errors.
    pub se_binomial: ParamValues,
    /// Standard errors of the default fit when each call's reads share one two-point (±η) noise draw
    /// (the qasa model, the virtual QPU's default).
    pub se_per_call_noise: ParamValues,
    /// The same when the shared draw is Gaussian (η holding σ).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub se_per_call_gaussian: Option<ParamValues>,
    /// The likelihood the default fit uses for this plan's counts: `per_call` when every block cell
    /// holds one call, else `per_read` (with robust errors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_likelihood: Option<super::information::FitLikelihood>,
    /// How the numbers were computed.
    pub note: String,
}

/// One number per model parameter.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamValues {
    /// β, 1/h units.
    pub beta: Option<f64>,
    /// b, h units.
    pub b: Option<f64>,
    /// γ, dimensionless.
    pub gamma: Option<f64>,
    /// η, h units.
    pub eta: Option<f64>,
}

/// A plan (`plan.json`, `schemas/plan.schema.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format: String,
    pub version: u32,
    pub tool_version: String,
    /// SHA-256 (hex) of the call-defining content, see [`Plan::content_sha256`].
    pub sha256: String,
    pub solver: PlanSolver,
    /// Programmed qubits, strictly increasing (the columns of the sweep; gauge bit order).
    pub qubits: Vec<u32>,
    /// Working couplers `[u, v]`, `u < v`, sorted (pair statistics; the virtual QPU's graph).
    pub couplers: Vec<[u32; 2]>,
    /// SHA-256 (hex) of the working graph `[qubits, couplers]`.
    pub graph_sha256: String,
    /// The physical h grid, strictly increasing, h units (the rows of the sweep).
    pub h: Vec<f64>,
    /// Anneal time, µs.
    pub anneal_time_us: f64,
    /// Solver parameters sent with every call besides `num_reads` (`auto_scale`, `annealing_time`, …).
    pub parameters: Map<String, Value>,
    /// Number of per-call blocks of the sweep (0 = none).
    pub blocks: u32,
    /// Gauges; absent when gauges are off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gauges: Option<Gauges>,
    /// Seed of the plan (gauges).
    pub seed: u64,
    /// The calls, in submission order.
    pub calls: Vec<Call>,
    /// Estimated QPU access time of all calls, s.
    pub estimated_qpu_s: f64,
    pub estimate: Estimate,
    /// Expected standard errors at the chip family's typical values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<Precision>,
    /// How an optimised plan was designed and the errors it predicts (`qasa plan --optimize`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub design: Option<super::design_record::PlanDesign>,
}

/// SHA-256 of a JSON value's compact serialisation, hex.
pub(crate) fn sha256_hex(v: &Value) -> String {
    let digest = Sha256::digest(v.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a text, hex.
pub fn sha256_hex_of(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a working graph: `[qubits sorted, couplers (u < v) sorted]`.
pub fn graph_sha256(qubits: &[u32], couplers: &[[u32; 2]]) -> String {
    sha256_hex(&json!([qubits, couplers]))
}

/// A gauge mask over `n` qubits from a bit per qubit.
pub fn encode_mask(reversed: &[bool]) -> String {
    let mut bytes = vec![0u8; reversed.len().div_ceil(8)];
    for (i, &r) in reversed.iter().enumerate() {
        if r {
            bytes[i / 8] |= 0x80 >> (i % 8);
        }
    }
    B64.encode(bytes)
}

/// A gauge mask from its bytes (bit i of byte i / 8, most significant bit first).
pub fn mask_of_bytes(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// The bytes of a gauge mask over `n` qubits.
fn mask_bytes(mask: &str, n: usize) -> Option<Vec<u8>> {
    B64.decode(mask).ok().filter(|b| b.len() == n.div_ceil(8))
}

/// Decodes a gauge mask over `n` qubits.
pub fn decode_mask(mask: &str, n: usize) -> Option<Vec<bool>> {
    let bytes = mask_bytes(mask, n)?;
    Some(
        (0..n)
            .map(|i| bytes[i / 8] & (0x80 >> (i % 8)) != 0)
            .collect(),
    )
}

impl Plan {
    /// The SHA-256 of what defines the calls: solver name, graph, grid, parameters, blocks, gauges and calls
    /// (without their estimates), as compact JSON in this field order.
    pub fn content_sha256(&self) -> String {
        /// h, reads, gauge, flip, block of a call.
        type CallKey = (f64, u32, Option<u32>, bool, Option<u32>);
        #[derive(Serialize)]
        struct Content<'a> {
            format: &'a str,
            version: u32,
            solver: &'a str,
            graph_sha256: &'a str,
            h: &'a [f64],
            anneal_time_us: f64,
            parameters: &'a Map<String, Value>,
            blocks: u32,
            gauges: Option<&'a [String]>,
            calls: Vec<CallKey>,
        }
        let content = Content {
            format: FORMAT,
            version: VERSION,
            solver: &self.solver.name,
            graph_sha256: &self.graph_sha256,
            h: &self.h,
            anneal_time_us: self.anneal_time_us,
            parameters: &self.parameters,
            blocks: self.blocks,
            gauges: self.gauges.as_ref().map(|g| g.masks.as_slice()),
            calls: self
                .calls
                .iter()
                .map(|c| (c.h, c.reads, c.gauge, c.flip, c.block))
                .collect(),
        };
        let mut hasher = Sha256::new();
        // Serialising plain data into a hasher cannot fail.
        let _ = serde_json::to_writer(&mut hasher, &content);
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The gauge signs of a call, one per plan qubit (`None`: every qubit +1).
    pub fn gauge_signs(&self, call: &Call) -> Option<Vec<bool>> {
        let masks = &self.gauges.as_ref()?.masks;
        let mask = masks.get(call.gauge? as usize)?;
        let bits = decode_mask(mask, self.qubits.len())?;
        Some(bits.into_iter().map(|r| r != call.flip).collect())
    }

    /// The field programmed on each plan qubit by a call, h units.
    pub fn call_fields(&self, call: &Call) -> Vec<f64> {
        match self.gauge_signs(call) {
            Some(rev) if call.h != 0.0 => rev
                .into_iter()
                .map(|r| if r { -call.h } else { call.h })
                .collect(),
            _ => vec![if call.h == 0.0 { 0.0 } else { call.h }; self.qubits.len()],
        }
    }

    /// Total reads of all calls.
    pub fn total_reads(&self) -> u64 {
        self.calls.iter().map(|c| u64::from(c.reads)).sum()
    }

    /// The reads of the calls the qubit in column `col` sees at each physical h (the grid's rows), in
    /// plan order. In a balanced plan every qubit sees the same.
    pub fn calls_by_row(&self, col: usize) -> Vec<Vec<u32>> {
        self.calls_and_blocks_by_row(col)
            .into_iter()
            .map(|row| row.into_iter().map(|(r, _)| r).collect())
            .collect()
    }

    /// Like [`Plan::calls_by_row`], with each call's block.
    pub fn calls_and_blocks_by_row(&self, col: usize) -> Vec<Vec<(u32, Option<u32>)>> {
        let n = self.qubits.len();
        // One bit of each mask: is the qubit reversed by it?
        let masks: Vec<Option<bool>> = self
            .gauges
            .as_ref()
            .map(|g| {
                g.masks
                    .iter()
                    .map(|m| {
                        let b = mask_bytes(m, n)?;
                        Some(b.get(col / 8)? & (0x80 >> (col % 8)) != 0)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut out = vec![Vec::new(); self.h.len()];
        for c in &self.calls {
            let bit = c
                .gauge
                .and_then(|g| masks.get(g as usize).copied().flatten());
            let x = match bit {
                Some(b) if b != c.flip => -c.h,
                _ => c.h,
            };
            if let Some(i) = self.row_of(x) {
                out[i].push((c.reads, c.block));
            }
        }
        out
    }

    /// Reads the qubit in column `col` gets at each physical h (the grid's rows).
    pub fn reads_per_h(&self, col: usize) -> Vec<u64> {
        self.calls_by_row(col)
            .iter()
            .map(|r| r.iter().map(|&x| u64::from(x)).sum())
            .collect()
    }

    /// The row of a physical field in the grid.
    pub fn row_of(&self, h: f64) -> Option<usize> {
        let h = if h == 0.0 { 0.0 } else { h };
        self.h.binary_search_by(|x| x.total_cmp(&h)).ok()
    }

    /// The working graph of the plan (for the virtual QPU).
    pub fn working_graph(&self) -> Result<WorkingGraph, PlanError> {
        let topology =
            Topology::from_type_shape(&self.solver.topology.kind, &self.solver.topology.shape)?;
        Ok(WorkingGraph {
            topology,
            qubits: self.qubits.clone(),
            couplers: self.couplers.iter().map(|&[u, v]| (u, v)).collect(),
            solver_name: Some(self.solver.name.clone()),
        })
    }

    /// The plan as pretty JSON (with a final newline).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self).map(|s| s + "\n")
    }

    /// Reads and checks a plan file (plain or gzip).
    pub fn read(path: &Path) -> Result<Plan, PlanError> {
        let bytes = crate::gzip::read(path)?;
        Plan::from_slice(&bytes, path)
    }

    /// Parses, validates against `schemas/plan.schema.json` and checks a plan; `path` is for messages.
    pub fn from_slice(bytes: &[u8], path: &Path) -> Result<Plan, PlanError> {
        let v: Value = serde_json::from_slice(bytes).map_err(|source| PlanError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        crate::schema::validate(crate::schema::PLAN, &v).map_err(|e| PlanError::Schema {
            path: path.to_path_buf(),
            json_path: e.json_path,
            reason: e.reason,
        })?;
        let plan: Plan = serde_json::from_value(v).map_err(|source| PlanError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        plan.check().map_err(|reason| PlanError::Inconsistent {
            path: path.to_path_buf(),
            reason,
        })?;
        Ok(plan)
    }

    /// Internal consistency: grid, qubits, gauges, calls, hashes.
    pub fn check(&self) -> Result<(), String> {
        let increasing = |v: &[f64]| v.windows(2).all(|w| w[0] < w[1]);
        if self.qubits.is_empty() || !self.qubits.windows(2).all(|w| w[0] < w[1]) {
            return Err("qubits must be a non-empty, strictly increasing list".into());
        }
        if self.h.is_empty() || !increasing(&self.h) || self.h.iter().any(|h| !h.is_finite()) {
            return Err("h must be a non-empty, strictly increasing list of numbers".into());
        }
        if self.graph_sha256 != graph_sha256(&self.qubits, &self.couplers) {
            return Err("graph_sha256 does not match qubits and couplers".into());
        }
        if self.parameters.get("auto_scale") != Some(&Value::Bool(false)) {
            return Err("parameters.auto_scale must be false".into());
        }
        let n_masks = self.gauges.as_ref().map_or(0, |g| g.masks.len());
        if let Some(g) = &self.gauges {
            if g.masks
                .iter()
                .any(|m| decode_mask(m, self.qubits.len()).is_none())
            {
                return Err(format!(
                    "a gauge mask is not base64 of {} bytes",
                    self.qubits.len().div_ceil(8)
                ));
            }
        }
        for (i, c) in self.calls.iter().enumerate() {
            let bad = |what: &str| Err(format!("call {i}: {what}"));
            if self.row_of(c.h).is_none() {
                return bad("its h is not in the grid");
            }
            if c.gauge.is_some() && c.h != 0.0 && self.row_of(-c.h).is_none() {
                return bad("its gauge sends some qubits to -h, which is not in the grid");
            }
            if c.reads == 0 {
                return bad("it has no reads");
            }
            if c.gauge.is_some_and(|g| g as usize >= n_masks) {
                return bad("its gauge index is out of range");
            }
            if c.block.is_some_and(|b| b >= self.blocks) || (self.blocks > 0) != c.block.is_some() {
                return bad("its block does not match the plan's blocks");
            }
        }
        if self.calls.is_empty() {
            return Err("the plan has no calls".into());
        }
        if self.sha256 != self.content_sha256() {
            return Err("its sha256 does not match its contents (was it edited?)".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_round_trip_msb_first() {
        let bits = [true, false, false, false, false, false, false, true, true];
        let m = encode_mask(&bits);
        assert_eq!(B64.decode(&m).unwrap(), vec![0x81, 0x80]);
        assert_eq!(decode_mask(&m, 9).unwrap(), bits);
        assert!(decode_mask(&m, 17).is_none());
    }
}
