//! Working graph of a solver from its SAPI record (docs/topology.md §0 "Working graph", §8).
//!
//! A record ([`SolverRecord`], v2 `id` or v3 `identity.name`) holds `properties.qubits` (working qubit ids),
//! `properties.couplers` (`[u, v]` pairs) and `properties.topology` (`{"type": "pegasus", "shape": [16]}`);
//! Ocean builds the same graph with `pegasus_graph(16, node_list=qubits, edge_list=couplers)`. A file may be
//! plain JSON or gzip ([`crate::gzip`]), and may hold a bare record or a list of records (the first one, or
//! the one whose name is the requested one). Every qubit must be a node of the perfect graph and every
//! coupler an edge between two working qubits; anything else is an error naming the offending entry.

use std::collections::HashSet;
use std::path::Path;

use serde_json::Value;

use super::{EdgeClass, QubitId, Topology, TopologyError, WorkingGraph};
use crate::sapi::solver::{SolverRecord, SolverTopology};

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

    /// As [`WorkingGraph::from_solver_file`]; from a list, take the record named `name` (v3
    /// `identity.name` or v2 `id`).
    pub fn from_solver_file_named(path: &Path, name: Option<&str>) -> Result<Self, TopologyError> {
        let in_file = |e: TopologyError| TopologyError::SolverFile {
            path: path.to_path_buf(),
            source: Box::new(e),
        };
        let value = crate::sapi::solver::read_json(path)?;
        let record = select_record(value, name).map_err(in_file)?;
        let record = SolverRecord::from_value(record).map_err(|e| in_file(e.into()))?;
        Self::from_solver_record(&record).map_err(in_file)
    }

    /// From one solver record: checks its graph against its topology.
    pub fn from_solver_record(record: &SolverRecord) -> Result<Self, TopologyError> {
        let props = &record.properties;
        let missing = |field: &str| {
            invalid(format!(
                "solver record has no properties.{field}; is this a SAPI solver record?"
            ))
        };
        let qubits = props.qubits.as_deref().ok_or_else(|| missing("qubits"))?;
        let couplers = props
            .couplers
            .as_deref()
            .ok_or_else(|| missing("couplers"))?;
        let topology = parse_topology(props.topology.as_ref())?;
        let qubits = check_qubits(qubits, &topology)?;
        let working: HashSet<QubitId> = qubits.iter().copied().collect();
        let couplers = check_couplers(couplers, &topology, &working)?;
        Ok(WorkingGraph {
            topology,
            qubits,
            couplers,
            solver_name: Some(record.name.clone()),
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
fn select_record(value: Value, name: Option<&str>) -> Result<Value, TopologyError> {
    match (value, name) {
        (Value::Array(list), None) => list.into_iter().next().ok_or_else(|| {
            invalid("the solver list is empty; expected at least one solver record")
        }),
        (Value::Array(list), Some(want)) => {
            let names: Vec<String> = list
                .iter()
                .filter_map(|r| SolverRecord::name_of(r).map(str::to_string))
                .collect();
            match list
                .into_iter()
                .find(|r| SolverRecord::name_of(r) == Some(want))
            {
                Some(r) => Ok(r),
                None if names.is_empty() => Err(invalid(format!(
                    "no solver named {want:?} in the list; none of its records has an identity.name or id"
                ))),
                None => Err(invalid(format!(
                    "no solver named {want:?} in the list; it holds {}",
                    names.join(", ")
                ))),
            }
        }
        (record, Some(want)) => match SolverRecord::name_of(&record) {
            Some(id) if id != want => Err(invalid(format!(
                "the record is solver {id:?}, not {want:?}"
            ))),
            _ => Ok(record),
        },
        (record, None) => Ok(record),
    }
}

fn parse_topology(value: Option<&SolverTopology>) -> Result<Topology, TopologyError> {
    let t = value.ok_or_else(|| {
        invalid("solver record has no properties.topology (e.g. {\"type\": \"pegasus\", \"shape\": [16]})")
    })?;
    Topology::from_type_shape(&t.kind, &t.shape)
        .map_err(|e| invalid(format!("properties.topology is not usable: {e}")))
}

fn check_qubits(list: &[QubitId], topology: &Topology) -> Result<Vec<QubitId>, TopologyError> {
    let mut seen = HashSet::with_capacity(list.len());
    for (i, &q) in list.iter().enumerate() {
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
    }
    Ok(list.to_vec())
}

fn check_couplers(
    list: &[(QubitId, QubitId)],
    topology: &Topology,
    working: &HashSet<QubitId>,
) -> Result<Vec<(QubitId, QubitId)>, TopologyError> {
    let mut seen = HashSet::with_capacity(list.len());
    let mut couplers = Vec::with_capacity(list.len());
    for (i, &(a, b)) in list.iter().enumerate() {
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

    fn graph(v: Value) -> Result<WorkingGraph, TopologyError> {
        WorkingGraph::from_solver_record(&SolverRecord::from_value(v)?)
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
        let g = graph(r).unwrap();
        assert_eq!(g.solver_name.as_deref(), Some("Mock"));
        assert_eq!(g.couplers, vec![(0, 4), (1, 4), (2, 5)]);
        assert_eq!(g.missing_qubits(), vec![3]);
        assert_eq!(g.missing_couplers().len(), 16 - 3);
        assert_eq!(g.coupler_class(5, 2), Some(EdgeClass::Internal));
        assert_eq!(g.coupler_class(0, 1), None);
        assert_eq!(g.layout().len(), 7);
    }

    #[test]
    fn v3_record_is_named_by_its_identity() {
        let mut r = record(json!([0, 4]), json!([[0, 4]]));
        r["identity"] = json!({"name": "Advantage2_system1.5", "version": {"graph_id": "abc"}});
        r.as_object_mut().unwrap().remove("id");
        assert_eq!(
            graph(r.clone()).unwrap().solver_name.as_deref(),
            Some("Advantage2_system1.5")
        );
        let other = json!({"identity": {"name": "Other"}, "properties": {}});
        let picked = select_record(json!([other, r]), Some("Advantage2_system1.5")).unwrap();
        assert_eq!(picked["identity"]["name"], "Advantage2_system1.5");
    }

    #[test]
    fn bad_records_give_clear_errors() {
        let cases = [
            (
                json!({"id": "X", "properties": {"couplers": []}}),
                "solver record has no properties.qubits",
            ),
            (json!([1, 2]), "must be a JSON object"),
            (
                record(json!([0, 9]), json!([])),
                "qubit 9 (properties.qubits[1]) is outside the index space 0..8",
            ),
            (record(json!([0, 0]), json!([])), "qubit 0 appears twice"),
            (
                record(json!([0, -1]), json!([])),
                "properties.qubits[1]: invalid value: integer `-1`, expected u32",
            ),
            (
                record(json!([0, 4]), json!([[0, 5]])),
                "uses qubit 5, which is not in properties.qubits",
            ),
            (
                record(json!([0, 1]), json!([[0, 1]])),
                "coupler [0, 1] (properties.couplers[0]) is not an edge",
            ),
            (
                record(json!([0, 4]), json!([[0]])),
                "properties.couplers[0]: invalid length 1",
            ),
            (
                record(json!([0, 4]), json!([[0, 4], [4, 0]])),
                "appears twice in properties.couplers",
            ),
            (
                json!({"id": "T", "properties": {"qubits": [], "couplers": [], "topology": {"type": "torus", "shape": [2]}}}),
                "unknown topology type \"torus\"",
            ),
            (
                json!({"id": "T", "properties": {"qubits": [], "couplers": []}}),
                "no properties.topology",
            ),
            (
                json!({"id": "T", "properties": {"qubits": [], "couplers": [], "topology": {"type": "pegasus", "shape": [1]}}}),
                "M must be at least 2",
            ),
            (
                json!({"properties": {"qubits": [], "couplers": []}}),
                "no identity.name or id",
            ),
        ];
        for (value, want) in cases {
            let msg = graph(value.clone()).unwrap_err().to_string();
            assert!(msg.contains(want), "{value}: {msg}");
        }
    }

    #[test]
    fn pegasus_hole_is_rejected() {
        let r = json!({"id": "P", "properties": {"qubits": [5], "couplers": [],
            "topology": {"type": "pegasus", "shape": [16]}}});
        let msg = graph(r).unwrap_err().to_string();
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
        assert_eq!(select_record(list.clone(), None).unwrap()["id"], "Mock");
        assert_eq!(
            select_record(list.clone(), Some("Other")).unwrap()["id"],
            "Other"
        );
        let msg = select_record(list, Some("Nope")).unwrap_err().to_string();
        assert!(
            msg.contains("no solver named \"Nope\"") && msg.contains("Mock, Other"),
            "{msg}"
        );
        assert!(select_record(json!([]), None).is_err());
        assert!(select_record(a, Some("Other")).is_err());
    }
}
