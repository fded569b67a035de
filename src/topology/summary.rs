//! Summary of a (working) graph for `qasa topology info`: family, shape, counts, couplers per class
//! (docs/topology.md §0 classes, §4 counts), and the missing qubits and couplers against the perfect graph.

use serde::{Deserialize, Serialize};

use super::{EdgeClass, Family, QubitId, Topology, WorkingGraph};

/// Couplers per class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassCounts {
    pub internal: usize,
    pub external: usize,
    pub odd: usize,
}

impl ClassCounts {
    pub fn add(&mut self, class: EdgeClass) {
        match class {
            EdgeClass::Internal => self.internal += 1,
            EdgeClass::External => self.external += 1,
            EdgeClass::Odd => self.odd += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.internal + self.external + self.odd
    }
}

/// What `qasa topology info --json` prints. For a solver, `num_qubits`, `num_couplers` and
/// `couplers_by_class` count the WORKING graph; for a perfect graph the missing lists are empty.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GraphSummary {
    pub family: Family,
    /// SAPI `topology.shape`.
    pub shape: Vec<u32>,
    /// Canonical SPEC of the perfect graph, e.g. `pegasus:16`.
    pub spec: String,
    /// Solver name (`id` of the record), `null` for a SPEC.
    pub solver_name: Option<String>,
    /// Size of the linear index space (SAPI `num_qubits`).
    pub num_index_space: u32,
    /// Working qubits.
    pub num_qubits: usize,
    /// Working couplers.
    pub num_couplers: usize,
    /// Working couplers per class.
    pub couplers_by_class: ClassCounts,
    /// Qubits of the perfect graph.
    pub perfect_num_qubits: usize,
    /// Couplers of the perfect graph.
    pub perfect_num_couplers: usize,
    /// Sorted.
    pub missing_qubits: Vec<QubitId>,
    /// Sorted `[u, v]`, `u < v`.
    pub missing_couplers: Vec<(QubitId, QubitId)>,
}

impl GraphSummary {
    /// Summary of the perfect graph of `topology`.
    pub fn of_topology(topology: &Topology) -> Self {
        Self::of_working(&WorkingGraph::perfect(*topology))
    }

    /// Summary of a working graph.
    pub fn of_working(graph: &WorkingGraph) -> Self {
        let topology = graph.topology;
        let mut by_class = ClassCounts::default();
        for &(u, v) in &graph.couplers {
            if let Some(class) = topology.edge_class(u, v) {
                by_class.add(class);
            }
        }
        GraphSummary {
            family: topology.family(),
            shape: topology.shape(),
            spec: topology.to_string(),
            solver_name: graph.solver_name.clone(),
            num_index_space: topology.num_index_space(),
            num_qubits: graph.qubits.len(),
            num_couplers: graph.couplers.len(),
            couplers_by_class: by_class,
            perfect_num_qubits: topology.num_nodes(),
            perfect_num_couplers: topology.edges().len(),
            missing_qubits: graph.missing_qubits(),
            missing_couplers: graph.missing_couplers(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c16_summary() {
        let s = GraphSummary::of_topology(&"2000q".parse().unwrap());
        assert_eq!((s.num_qubits, s.num_couplers), (2048, 6016));
        assert_eq!(
            s.couplers_by_class,
            ClassCounts {
                internal: 4096,
                external: 1920,
                odd: 0
            }
        );
        assert_eq!(s.spec, "chimera:16,16,4");
        assert!(s.missing_qubits.is_empty() && s.missing_couplers.is_empty());
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["family"], "chimera");
        assert_eq!(json["shape"], serde_json::json!([16, 16, 4]));
    }
}
