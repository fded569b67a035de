//! Working graph of a solver from its SAPI record (docs/topology.md §0 "Working graph", §8).
//!
//! A record holds `properties.qubits` (working qubit ids), `properties.couplers` (`[u, v]` pairs) and
//! `properties.topology` (`{"type": "pegasus", "shape": [16]}`); Ocean builds the same graph with
//! `pegasus_graph(16, node_list=qubits, edge_list=couplers)`. A file may be plain JSON or gzip (detected by
//! the magic bytes 1f 8b), and may hold a bare record or a list of records (the first one, or the one whose
//! `id` is the requested name). Every qubit must be a node of the perfect graph and every coupler an edge
//! between two working qubits; anything else is an error naming the offending entry.

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use serde_json::Value;

use super::{EdgeClass, QubitId, Topology, TopologyError, WorkingGraph};

fn invalid(reason: impl Into<String>) -> TopologyError {
    TopologyError::InvalidRecord {
        reason: reason.into(),
    }
}

impl WorkingGraph {
    /// The perfect graph.
    pub fn perfect(topology: Topology) -> Self {
        WorkingGraph {
            topology,
            qubits: topology.nodes(),
            couplers: topology.edges().iter().map(|e| (e.u, e.v)).collect(),
            solver_name: None,
        }
    }

    /// From a solver record file (`.json` or `.json.gz`; a bare record or the first element of a list).
    pub fn from_solver_file(path: &Path) -> Result<Self, TopologyError> {
        Self::from_solver_file_named(path, None)
    }

    /// As [`WorkingGraph::from_solver_file`]; from a list, take the record whose `id` (or `name`) is `name`.
    pub fn from_solver_file_named(path: &Path, name: Option<&str>) -> Result<Self, TopologyError> {
        let shown = path.display().to_string();
        let with_path = |e: TopologyError| match e {
            TopologyError::InvalidRecord { reason } => TopologyError::BadSolverRecord {
                path: shown.clone(),
                reason,
            },
            other => other,
        };
        let bytes = std::fs::read(path).map_err(|source| TopologyError::Io {
            path: shown.clone(),
            source,
        })?;
        let text = if bytes.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(bytes.as_slice())
                .read_to_end(&mut out)
                .map_err(|e| with_path(invalid(format!("cannot decompress gzip data: {e}"))))?;
            out
        } else {
            bytes
        };
        let value: Value = serde_json::from_slice(&text).map_err(|e| {
            with_path(invalid(format!(
                "not valid JSON ({e}); expected a SAPI solver record"
            )))
        })?;
        let record = select_record(&value, name).map_err(with_path)?;
        Self::from_solver_record(record).map_err(with_path)
    }

    /// From one solver record (a JSON object with `properties`).
    pub fn from_solver_record(record: &Value) -> Result<Self, TopologyError> {
        let Some(obj) = record.as_object() else {
            return Err(invalid(
                "solver record is not a JSON object; is this a SAPI solver record?",
            ));
        };
        let solver_name = obj
            .get("id")
            .or_else(|| obj.get("name"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let props = obj
            .get("properties")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                invalid("solver record has no properties object; is this a SAPI solver record?")
            })?;
        let qubits_value = props.get("qubits").ok_or_else(|| {
            invalid("solver record has no properties.qubits; is this a SAPI solver record?")
        })?;
        let couplers_value = props.get("couplers").ok_or_else(|| {
            invalid("solver record has no properties.couplers; is this a SAPI solver record?")
        })?;
        let topology = parse_topology(props.get("topology"))?;

        let qubits = parse_qubits(qubits_value, &topology)?;
        let working: HashSet<QubitId> = qubits.iter().copied().collect();
        let couplers = parse_couplers(couplers_value, &topology, &working)?;
        Ok(WorkingGraph {
            topology,
            qubits,
            couplers,
            solver_name,
        })
    }

    /// Class of a coupler of this graph's topology (either order); `None` if `(u, v)` is not an edge of the
    /// perfect graph. It does not check that the coupler works (see [`WorkingGraph::couplers`]).
    pub fn coupler_class(&self, u: QubitId, v: QubitId) -> Option<EdgeClass> {
        self.topology.edge_class(u, v)
    }

    /// Nodes of the perfect graph that are not working, sorted.
    pub fn missing_qubits(&self) -> Vec<QubitId> {
        let working: HashSet<QubitId> = self.qubits.iter().copied().collect();
        self.topology
            .nodes()
            .into_iter()
            .filter(|q| !working.contains(q))
            .collect()
    }

    /// Edges of the perfect graph that are not working couplers (including those of missing qubits),
    /// canonical `(u, v)` with `u < v`, sorted.
    pub fn missing_couplers(&self) -> Vec<(QubitId, QubitId)> {
        let working: HashSet<(QubitId, QubitId)> = self.couplers.iter().copied().collect();
        self.topology
            .edges()
            .into_iter()
            .map(|e| (e.u, e.v))
            .filter(|p| !working.contains(p))
            .collect()
    }

    /// Layout positions of the working qubits, sorted by index, normalised with the perfect graph's
    /// extents (a stable map; docs/topology.md §8).
    pub fn layout(&self) -> Vec<(QubitId, f64, f64)> {
        let working: HashSet<QubitId> = self.qubits.iter().copied().collect();
        self.topology
            .layout()
            .into_iter()
            .filter(|p| working.contains(&p.0))
            .collect()
    }
}

/// The record itself, or from a list the first one / the one named `name`.
fn select_record<'a>(value: &'a Value, name: Option<&str>) -> Result<&'a Value, TopologyError> {
    let id_of = |r: &Value| {
        r.get("id")
            .or_else(|| r.get("name"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    match (value, name) {
        (Value::Array(list), None) => list.first().ok_or_else(|| {
            invalid("the solver list is empty; expected at least one solver record")
        }),
        (Value::Array(list), Some(want)) => list
            .iter()
            .find(|r| id_of(r).as_deref() == Some(want))
            .ok_or_else(|| {
                let ids: Vec<String> = list.iter().filter_map(id_of).collect();
                invalid(format!(
                    "no solver named {want:?} in the list; it holds {}",
                    ids.join(", ")
                ))
            }),
        (record, Some(want)) => match id_of(record) {
            Some(id) if id != want => {
                invalid_result(format!("the record is solver {id:?}, not {want:?}"))
            }
            _ => Ok(record),
        },
        (record, None) => Ok(record),
    }
}

fn invalid_result<T>(reason: String) -> Result<T, TopologyError> {
    Err(invalid(reason))
}

fn parse_topology(value: Option<&Value>) -> Result<Topology, TopologyError> {
    let value = value.ok_or_else(|| {
        invalid("solver record has no properties.topology (e.g. {\"type\": \"pegasus\", \"shape\": [16]})")
    })?;
    let kind = value.get("type").and_then(Value::as_str).ok_or_else(|| {
        invalid(format!(
            "properties.topology has no string \"type\": {value}"
        ))
    })?;
    let shape = value
        .get("shape")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            invalid(format!(
                "properties.topology has no \"shape\" array: {value}"
            ))
        })?
        .iter()
        .map(|x| x.as_u64().and_then(|x| u32::try_from(x).ok()))
        .collect::<Option<Vec<u32>>>()
        .ok_or_else(|| {
            invalid(format!(
                "properties.topology.shape must hold non-negative integers: {value}"
            ))
        })?;
    Topology::from_type_shape(kind, &shape)
        .map_err(|e| invalid(format!("properties.topology is not usable: {e}")))
}

fn as_qubit(value: &Value) -> Option<QubitId> {
    value.as_u64().and_then(|x| u32::try_from(x).ok())
}

fn parse_qubits(value: &Value, topology: &Topology) -> Result<Vec<QubitId>, TopologyError> {
    let list = value
        .as_array()
        .ok_or_else(|| invalid("properties.qubits is not an array"))?;
    let mut seen = HashSet::with_capacity(list.len());
    let mut qubits = Vec::with_capacity(list.len());
    for (i, entry) in list.iter().enumerate() {
        let q = as_qubit(entry).ok_or_else(|| {
            invalid(format!(
                "properties.qubits[{i}] = {entry} is not a non-negative integer"
            ))
        })?;
        if q >= topology.num_index_space() {
            return Err(invalid(format!(
                "qubit {q} (properties.qubits[{i}]) is outside the index space 0..{} of {topology}",
                topology.num_index_space()
            )));
        }
        if !topology.contains(q) {
            return Err(invalid(format!(
                "qubit {q} (properties.qubits[{i}]) is not a fabricated qubit of {topology}"
            )));
        }
        if !seen.insert(q) {
            return Err(invalid(format!(
                "qubit {q} appears twice in properties.qubits (again at index {i})"
            )));
        }
        qubits.push(q);
    }
    Ok(qubits)
}

fn parse_couplers(
    value: &Value,
    topology: &Topology,
    working: &HashSet<QubitId>,
) -> Result<Vec<(QubitId, QubitId)>, TopologyError> {
    let list = value
        .as_array()
        .ok_or_else(|| invalid("properties.couplers is not an array"))?;
    let mut seen = HashSet::with_capacity(list.len());
    let mut couplers = Vec::with_capacity(list.len());
    for (i, entry) in list.iter().enumerate() {
        let pair = match entry.as_array().map(Vec::as_slice) {
            Some([a, b]) => as_qubit(a).zip(as_qubit(b)),
            _ => None,
        };
        let (a, b) = pair.ok_or_else(|| {
            invalid(format!(
                "properties.couplers[{i}] = {entry} is not a pair of non-negative integers"
            ))
        })?;
        for q in [a, b] {
            if !working.contains(&q) {
                return Err(invalid(format!(
                    "coupler [{a}, {b}] (properties.couplers[{i}]) uses qubit {q}, which is not in properties.qubits"
                )));
            }
        }
        if topology.edge_class(a, b).is_none() {
            return Err(invalid(format!(
                "coupler [{a}, {b}] (properties.couplers[{i}]) is not an edge of {topology}"
            )));
        }
        let canonical = (a.min(b), a.max(b));
        if !seen.insert(canonical) {
            return Err(invalid(format!(
                "coupler [{a}, {b}] appears twice in properties.couplers (again at index {i})"
            )));
        }
        couplers.push(canonical);
    }
    Ok(couplers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(qubits: Value, couplers: Value) -> Value {
        json!({"id": "Mock", "properties": {
            "qubits": qubits, "couplers": couplers,
            "topology": {"type": "chimera", "shape": [1, 1, 4]}}})
    }

    #[test]
    fn perfect_graph_has_nothing_missing() {
        let g = WorkingGraph::perfect("zephyr:1,1".parse().unwrap());
        assert_eq!((g.qubits.len(), g.couplers.len()), (12, 22));
        assert!(g.missing_qubits().is_empty() && g.missing_couplers().is_empty());
    }

    #[test]
    fn small_record_with_missing_parts() {
        let r = record(
            json!([0, 1, 2, 4, 5, 6, 7]),
            json!([[4, 0], [1, 4], [2, 5]]),
        );
        let g = WorkingGraph::from_solver_record(&r).unwrap();
        assert_eq!(g.solver_name.as_deref(), Some("Mock"));
        assert_eq!(g.couplers, vec![(0, 4), (1, 4), (2, 5)]);
        assert_eq!(g.missing_qubits(), vec![3]);
        assert_eq!(g.missing_couplers().len(), 16 - 3);
        assert_eq!(g.coupler_class(5, 2), Some(EdgeClass::Internal));
        assert_eq!(g.coupler_class(0, 1), None);
        assert_eq!(g.layout().len(), 7);
    }

    #[test]
    fn bad_records_give_clear_errors() {
        let cases = [
            (
                json!({"id": "X", "properties": {"couplers": []}}),
                "solver record has no properties.qubits",
            ),
            (json!([1, 2]), "not a JSON object"),
            (
                record(json!([0, 9]), json!([])),
                "qubit 9 (properties.qubits[1]) is outside the index space 0..8",
            ),
            (record(json!([0, 0]), json!([])), "qubit 0 appears twice"),
            (
                record(json!([0, -1]), json!([])),
                "properties.qubits[1] = -1 is not a non-negative integer",
            ),
            (
                record(json!([0, 4]), json!([[0, 5]])),
                "uses qubit 5, which is not in properties.qubits",
            ),
            (
                record(json!([0, 1]), json!([[0, 1]])),
                "coupler [0, 1] (properties.couplers[0]) is not an edge",
            ),
            (record(json!([0, 4]), json!([[0]])), "is not a pair"),
            (
                record(json!([0, 4]), json!([[0, 4], [4, 0]])),
                "appears twice in properties.couplers",
            ),
            (
                json!({"properties": {"qubits": [], "couplers": [], "topology": {"type": "torus", "shape": [2]}}}),
                "unknown topology type \"torus\"",
            ),
            (
                json!({"properties": {"qubits": [], "couplers": []}}),
                "no properties.topology",
            ),
            (
                json!({"properties": {"qubits": [], "couplers": [], "topology": {"type": "pegasus", "shape": [1]}}}),
                "M must be at least 2",
            ),
        ];
        for (value, want) in cases {
            let msg = WorkingGraph::from_solver_record(&value)
                .unwrap_err()
                .to_string();
            assert!(msg.contains(want), "{value}: {msg}");
        }
    }

    #[test]
    fn pegasus_hole_is_rejected() {
        let r = json!({"properties": {"qubits": [5], "couplers": [],
            "topology": {"type": "pegasus", "shape": [16]}}});
        let msg = WorkingGraph::from_solver_record(&r)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("qubit 5 (properties.qubits[0]) is not a fabricated qubit of pegasus:16"),
            "{msg}"
        );
    }

    #[test]
    fn list_selection_by_name() {
        let a = record(json!([0]), json!([]));
        let mut b = record(json!([0, 4]), json!([[0, 4]]));
        b["id"] = json!("Other");
        let list = json!([a, b]);
        assert_eq!(select_record(&list, None).unwrap()["id"], "Mock");
        assert_eq!(select_record(&list, Some("Other")).unwrap()["id"], "Other");
        let msg = select_record(&list, Some("Nope")).unwrap_err().to_string();
        assert!(
            msg.contains("no solver named \"Nope\"") && msg.contains("Mock, Other"),
            "{msg}"
        );
        assert!(select_record(&json!([]), None).is_err());
        assert!(select_record(&a, Some("Other")).is_err());
    }
}
