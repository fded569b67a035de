//! Solver definitions the server offers (docs/sapi-protocol.md §3.1, §5).
//!
//! A record is either a real SAPI record read from a file (`.json` or `.json.gz`; a bare object or a list;
//! the v2 form with `id` or the v3 form with `identity` both load), or a synthetic record built for a
//! perfect topology with the `properties` of an Advantage_system4.1-like QPU (values published by D-Wave,
//! docs/sapi-protocol.md §5). Either way it is served in the v3 shape
//! `{"identity": {"name", "version": {"graph_id"}}, "status", "description", "avg_load", "properties"}`,
//! with `filter=` views (`all|none` then `+path`/`-path`, left to right, dot paths).

use super::ServerError;
use crate::sapi::solver::{SolverError, SolverRecord};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Why a record cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum DefinitionError {
    #[error(transparent)]
    Record(#[from] SolverError),
    #[error("solver {name}: properties.{field} is missing; a QPU record needs its working graph")]
    Missing { name: String, field: &'static str },
    #[error("solver {name}: qubit {qubit} is not below properties.num_qubits = {num_qubits}")]
    QubitOutOfRange {
        name: String,
        qubit: u32,
        num_qubits: usize,
    },
}

/// A solver record as served.
#[derive(Debug, Clone)]
pub struct SolverDefinition {
    /// The record in the v3 shape it is served in: `record.raw` is the `filter=all` view, and
    /// `record.graph_id` is always set.
    pub record: SolverRecord,
    /// `identity.version.graph_id`: from the record, else the first 10 hex digits of the SHA-256 of the
    /// JSON `[qubits, couplers]`.
    pub graph_id: String,
    /// `properties.num_qubits`, else one more than the largest working qubit.
    pub num_qubits: usize,
}

impl SolverDefinition {
    /// Load a record file (`.json` or gzip; an object, or a list whose QPU records are served).
    pub fn from_file(path: &Path) -> Result<Vec<SolverDefinition>, ServerError> {
        let items = match crate::sapi::solver::read_json(path)? {
            // A list (e.g. a saved `GET solvers/remote/`) may mix in hybrid solvers: serve its QPUs.
            Value::Array(a) => a
                .into_iter()
                .filter(|r| r.pointer("/properties/qubits").is_some())
                .collect(),
            other => vec![other],
        };
        if items.is_empty() {
            return Err(ServerError::NoQpuRecord {
                path: path.to_path_buf(),
            });
        }
        items
            .into_iter()
            .map(|item| {
                Self::from_value(item).map_err(|source| ServerError::SolverFile {
                    path: path.to_path_buf(),
                    source,
                })
            })
            .collect()
    }

    /// Build from one record object (v2 `id` or v3 `identity`).
    pub fn from_value(v: Value) -> Result<SolverDefinition, DefinitionError> {
        Self::from_record(SolverRecord::from_value(v)?)
    }

    /// Serve a record: it needs `properties.qubits` and `couplers`; it is rewritten to the v3 shape.
    pub fn from_record(mut record: SolverRecord) -> Result<SolverDefinition, DefinitionError> {
        let missing = |field| DefinitionError::Missing {
            name: record.name.clone(),
            field,
        };
        let qubits = record
            .properties
            .qubits
            .as_ref()
            .ok_or_else(|| missing("qubits"))?;
        let couplers = record
            .properties
            .couplers
            .as_ref()
            .ok_or_else(|| missing("couplers"))?;
        let num_qubits = record.properties.num_qubits.map_or_else(
            || qubits.iter().map(|&q| q as usize + 1).max().unwrap_or(0),
            |n| n as usize,
        );
        if let Some(&qubit) = qubits.iter().find(|&&q| q as usize >= num_qubits) {
            return Err(DefinitionError::QubitOutOfRange {
                name: record.name.clone(),
                qubit,
                num_qubits,
            });
        }
        let graph_id = record
            .graph_id
            .clone()
            .unwrap_or_else(|| graph_id_of(qubits, couplers));
        let properties = record
            .raw
            .get_mut("properties")
            .map(Value::take)
            .unwrap_or_else(|| json!({}));
        record.raw = json!({
            "identity": {"name": record.name, "version": {"graph_id": graph_id}},
            "status": "ONLINE",
            "description": record.description.as_deref().unwrap_or(""),
            "avg_load": record.avg_load.unwrap_or(0.0),
            "properties": properties,
        });
        record.graph_id = Some(graph_id.clone());
        record.status = Some("ONLINE".into());
        Ok(SolverDefinition {
            record,
            graph_id,
            num_qubits,
        })
    }

    /// The solver name.
    pub fn name(&self) -> &str {
        &self.record.name
    }

    /// `properties.qubits`, the order of `lin`.
    pub fn qubits(&self) -> &[u32] {
        self.record.qubits()
    }

    /// `properties.couplers`, the order of `quad`.
    pub fn couplers(&self) -> &[(u32, u32)] {
        self.record.couplers()
    }

    /// The full v3 object served for `filter=all`.
    pub fn full(&self) -> &Value {
        &self.record.raw
    }

    /// A synthetic QPU record for a perfect graph: `nodes` (sorted), `edges` (`u < v`), `num_qubits` (all
    /// indices of the family, fabricated or not), SAPI `topology` {type, shape}.
    pub fn synthetic(
        name: &str,
        topology_type: &str,
        shape: &[u32],
        num_qubits: usize,
        nodes: &[u32],
        edges: &[(u32, u32)],
    ) -> Result<SolverDefinition, DefinitionError> {
        let in_graph: std::collections::HashSet<u32> = nodes.iter().copied().collect();
        let offsets: Vec<Value> = (0..num_qubits as u32)
            .map(|q| {
                if in_graph.contains(&q) {
                    json!([-0.5, 0.5])
                } else {
                    json!([0.0, 0.0])
                }
            })
            .collect();
        let mut props = template_properties();
        props.insert("num_qubits".into(), json!(num_qubits));
        props.insert("qubits".into(), json!(nodes));
        props.insert(
            "couplers".into(),
            Value::Array(edges.iter().map(|&(u, v)| json!([u, v])).collect()),
        );
        props.insert(
            "topology".into(),
            json!({"type": topology_type, "shape": shape}),
        );
        props.insert("chip_id".into(), json!(name));
        props.insert("anneal_offset_ranges".into(), Value::Array(offsets));
        if topology_type == "zephyr" {
            props.remove("per_qubit_coupling_range");
            props.insert("per_group_coupling_range".into(), json!([-13.0, 10.0]));
        }
        let record = json!({
            "id": name,
            "description": format!("qasa virtual QPU on a perfect {topology_type} {shape:?} graph"),
            "avg_load": 0.0,
            "properties": Value::Object(props),
        });
        SolverDefinition::from_value(record)
    }

    /// `properties` as served.
    pub fn properties(&self) -> &Map<String, Value> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        self.full()
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
    }

    /// `identity` object.
    pub fn identity(&self) -> Value {
        json!({"name": self.name(), "version": {"graph_id": self.graph_id}})
    }

    /// The object for a `filter=` query (None → everything).
    pub fn view(&self, filter: Option<&str>) -> Value {
        apply_filter(self.full(), filter)
    }
}

/// First 10 hex digits of SHA-256 over the compact JSON `[qubits, couplers]`.
pub fn graph_id_of(qubits: &[u32], couplers: &[(u32, u32)]) -> String {
    let c: Vec<[u32; 2]> = couplers.iter().map(|&(u, v)| [u, v]).collect();
    let text = json!([qubits, c]).to_string();
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(5).map(|b| format!("{b:02x}")).collect()
}

/// Apply a SAPI `filter` (`all|none[,{+|-}dot.path]...`) to a full record.
pub fn apply_filter(full: &Value, filter: Option<&str>) -> Value {
    let Some(filter) = filter.map(str::trim).filter(|f| !f.is_empty()) else {
        return full.clone();
    };
    let mut out = Value::Object(Map::new());
    for (i, raw) in filter.split(',').enumerate() {
        let item = raw.trim_end();
        // A raw '+' in a query string decodes to a space: treat a leading space as '+'.
        let item = if let Some(rest) = item.strip_prefix(' ') {
            format!("+{}", rest.trim_start())
        } else {
            item.to_string()
        };
        if i == 0 && (item == "all" || item == "none") {
            if item == "all" {
                out = full.clone();
            }
            continue;
        }
        if let Some(path) = item.strip_prefix('+') {
            if let Some(v) = get_path(full, path) {
                set_path(&mut out, path, v.clone());
            }
        } else if let Some(path) = item.strip_prefix('-') {
            remove_path(&mut out, path);
        } else if let Some(v) = get_path(full, &item) {
            set_path(&mut out, &item, v.clone());
        }
    }
    out
}

fn get_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |cur, key| cur.get(key))
}

fn set_path(v: &mut Value, path: &str, value: Value) {
    let keys: Vec<&str> = path.split('.').collect();
    let mut cur = v;
    for (i, key) in keys.iter().enumerate() {
        let Value::Object(map) = cur else { return };
        if i + 1 == keys.len() {
            map.insert((*key).to_string(), value);
            return;
        }
        cur = map
            .entry((*key).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

fn remove_path(v: &mut Value, path: &str) {
    let keys: Vec<&str> = path.split('.').collect();
    let mut cur = v;
    for (i, key) in keys.iter().enumerate() {
        let Value::Object(map) = cur else { return };
        if i + 1 == keys.len() {
            map.remove(*key);
            return;
        }
        match map.get_mut(*key) {
            Some(next) => cur = next,
            None => return,
        }
    }
}

/// `properties` of an Advantage_system4.1-like QPU without the graph-dependent fields (values: the real
/// Advantage_system4.1 record and D-Wave's published examples, docs/sapi-protocol.md §5).
fn template_properties() -> Map<String, Value> {
    let v = json!({
        "supported_problem_types": ["ising", "qubo"],
        "category": "qpu",
        "tags": [],
        "quota_conversion_rate": 1,
        "vfyc": false,
        "h_range": [-4.0, 4.0],
        "j_range": [-1.0, 1.0],
        "extended_j_range": [-2.0, 1.0],
        "per_qubit_coupling_range": [-18.0, 15.0],
        "num_reads_range": [1, 10000],
        "annealing_time_range": [0.5, 2000.0],
        "fast_anneal_time_range": [0.005, 2000.0],
        "default_annealing_time": 20.0,
        "default_programming_thermalization": 1000.0,
        "default_readout_thermalization": 0.0,
        "programming_thermalization_range": [0.0, 10000.0],
        "readout_thermalization_range": [0.0, 10000.0],
        "problem_run_duration_range": [0.0, 1000000.0],
        "h_gain_schedule_range": [-3.0, 3.0],
        "max_anneal_schedule_points": 12,
        "max_h_gain_schedule_points": 20,
        "anneal_offset_step": -0.0001500217998314891,
        "anneal_offset_step_phi0": 1.4303846404537006e-05,
        "problem_timing_data": super::timing::advantage_timing_json(),
        "parameters": {
            "anneal_offsets": "Anneal offsets for each working qubit, formatted as a list, with NaN specified for unused qubits.",
            "anneal_schedule": "Annealing schedule formatted as a piecewise linear list of floating-point pairs of 't' and 's'.",
            "annealing_time": "Quantum annealing duration, in microseconds, as a positive floating point number.",
            "answer_mode": "Format of returned answers, as 'histogram' or 'raw' samples.",
            "auto_scale": "Automatic rescaling of h and J values to their available range, as a boolean flag.",
            "fast_anneal": "Activation of the fast-anneal protocol, as a boolean flag.",
            "flux_biases": "Flux biases for each working qubit, in normalized offset units, formatted as a list for all qubits.",
            "flux_drift_compensation": "Activation of flux drift compensation, as a boolean flag.",
            "h_gain_schedule": "h-gain schedule formatted as a piecewise linear list of floating-point pairs of 't' and 'g'.",
            "initial_state": "Initial states to use for a reverse-anneal request, as a list of qubit index and state.",
            "num_reads": "Number of states to read (answers to return), as a positive integer.",
            "programming_thermalization": "Time in microseconds to wait after programming the processor in order for it to cool back to base temperature, as a positive floating point number.",
            "readout_thermalization": "Time in microseconds to wait after each state is read from the processor in order for it to cool back to base temperature, as a positive floating point number.",
            "reduce_intersample_correlation": "Addition of pauses between samples, as a boolean flag.",
            "reinitialize_state": "Reapplication of the initial_state for every read in reverse annealing, as a boolean flag."
        }
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> SolverDefinition {
        SolverDefinition::from_value(json!({
            "id": "Tiny_system1.1", "status": "ONLINE", "description": "d", "avg_load": 0.5,
            "properties": {"num_qubits": 4, "qubits": [0, 1, 3], "couplers": [[0, 1], [1, 3]],
                           "topology": {"type": "chimera", "shape": [1, 1, 2]}}
        }))
        .unwrap()
    }

    #[test]
    fn v2_record_becomes_v3_identity() {
        let r = tiny();
        assert_eq!(r.name(), "Tiny_system1.1");
        assert_eq!(r.graph_id.len(), 10);
        assert_eq!(r.graph_id, graph_id_of(&[0, 1, 3], &[(0, 1), (1, 3)]));
        assert_eq!(
            r.full()["identity"]["version"]["graph_id"],
            json!(r.graph_id)
        );
        assert_eq!(r.full()["status"], "ONLINE");
        assert_eq!(r.full().get("id"), None);
        assert_eq!(r.couplers(), [(0, 1), (1, 3)]);
        assert_eq!(r.record.graph_id.as_deref(), Some(r.graph_id.as_str()));
    }

    #[test]
    fn filters_follow_sapi() {
        let r = tiny();
        let dynamic = r.view(Some("none,+identity,+status,+avg_load"));
        assert_eq!(
            dynamic,
            json!({"identity": r.identity(), "status": "ONLINE", "avg_load": 0.5})
        );
        let stat = r.view(Some("all,-status,-avg_load"));
        assert!(stat.get("status").is_none() && stat.get("properties").is_some());
        let deep = r.view(Some(
            "none, identity,+properties.topology.type,+missing.field",
        ));
        assert_eq!(
            deep,
            json!({"identity": r.identity(), "properties": {"topology": {"type": "chimera"}}})
        );
        assert_eq!(&r.view(None), r.full());
    }

    #[test]
    fn bad_records_are_errors() {
        let err = |v: Value| SolverDefinition::from_value(v).unwrap_err();
        assert!(matches!(
            err(json!([1])),
            DefinitionError::Record(SolverError::NotAnObject { .. })
        ));
        assert!(matches!(
            err(json!({"id": "x"})),
            DefinitionError::Missing {
                field: "qubits",
                ..
            }
        ));
        let e = err(json!({"id": "x", "properties": {"qubits": [0, "a"], "couplers": []}}));
        assert!(e.to_string().contains("properties.qubits[1]"), "{e}");
        assert!(matches!(
            err(json!({"id": "x", "properties": {"num_qubits": 1, "qubits": [5], "couplers": []}})),
            DefinitionError::QubitOutOfRange {
                qubit: 5,
                num_qubits: 1,
                ..
            }
        ));
    }

    #[test]
    fn lists_keep_only_qpu_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.json");
        let qpu = json!({"id": "Q", "properties": {"qubits": [0], "couplers": []}});
        let hybrid = json!({"id": "hybrid_binary_quadratic_model_version2", "properties": {"category": "hybrid"}});
        std::fs::write(&path, json!([hybrid, qpu]).to_string()).unwrap();
        let recs = SolverDefinition::from_file(&path).unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].name(), "Q");
        std::fs::write(&path, json!([hybrid]).to_string()).unwrap();
        assert!(SolverDefinition::from_file(&path)
            .unwrap_err()
            .to_string()
            .contains("no QPU solver record"));
        std::fs::write(&path, "{not json").unwrap();
        assert!(SolverDefinition::from_file(&path)
            .unwrap_err()
            .to_string()
            .contains("line 1"));
    }

    #[test]
    fn synthetic_record_has_qpu_properties() {
        let r = SolverDefinition::synthetic(
            "V",
            "chimera",
            &[1, 1, 2],
            4,
            &[0, 1, 2, 3],
            &[(0, 2), (0, 3)],
        )
        .unwrap();
        let p = r.properties();
        assert_eq!(p["category"], "qpu");
        assert_eq!(p["num_qubits"], 4);
        assert_eq!(p["anneal_offset_ranges"].as_array().map(Vec::len), Some(4));
        assert!(p["problem_timing_data"]["typical_programming_time"].is_number());
        assert!(p["parameters"].get("num_reads").is_some());
    }
}
