//! D-Wave hardware graphs: Chimera C(m,n,t), Pegasus P(m) (fabric nodes only) and Zephyr Z(m,t).
//!
//! Implements `docs/topology.md` (shared with dwave-networkx 0.8.19): linear index ↔ coordinates, node sets,
//! edges with their class, dnx default 2D layouts, per-qubit analysis coordinates, and the working graph of a
//! real solver from its SAPI record.
//!
//! CONTRACT (skeleton): the signatures below are the API other modules rely on; bodies are implemented on the
//! topology branch.

use serde::{Deserialize, Serialize};

/// A qubit's linear (SAPI / dnx "int") index.
pub type QubitId = u32;

/// Topology family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Chimera,
    Pegasus,
    Zephyr,
}

/// A perfect (fully fabricated) graph of one family and shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Topology {
    Chimera { m: u32, n: u32, t: u32 },
    Pegasus { m: u32 },
    Zephyr { m: u32, t: u32 },
}

/// Coupler class (docs/topology.md §0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeClass {
    Internal,
    External,
    Odd,
}

/// One coupler, `u < v`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Edge {
    pub u: QubitId,
    pub v: QubitId,
    pub class: EdgeClass,
}

/// Per-qubit coordinates that analysis needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QubitCoords {
    /// 0 = vertical, 1 = horizontal.
    pub orientation: u8,
    pub cell_row: u32,
    pub cell_col: u32,
    pub index_in_cell: u32,
}

/// A solver's working graph: the perfect graph minus missing qubits and couplers.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkingGraph {
    pub topology: Topology,
    /// Working qubits, in the order of the solver record (`properties.qubits`); sorted for a perfect graph.
    pub qubits: Vec<QubitId>,
    /// Working couplers `(u, v)` with `u < v`, in the order of the record.
    pub couplers: Vec<(QubitId, QubitId)>,
    /// Solver name when built from a record.
    pub solver_name: Option<String>,
}

/// Errors of the topology module.
#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    #[error("bad topology spec {spec:?}: {reason}")]
    BadSpec { spec: String, reason: String },
    #[error("{path}: {reason}")]
    BadSolverRecord { path: String, reason: String },
}

impl std::str::FromStr for Topology {
    type Err = TopologyError;
    /// SPEC: `chimera:M[,N[,T]]`, `pegasus:M`, `zephyr:M[,T]`, or `2000q`, `advantage`, `advantage2`.
    fn from_str(_s: &str) -> Result<Self, Self::Err> {
        todo!("topology branch")
    }
}

impl Topology {
    pub fn family(&self) -> Family {
        todo!("topology branch")
    }
    /// SAPI `topology.shape`.
    pub fn shape(&self) -> Vec<u32> {
        todo!("topology branch")
    }
    /// Sorted node list of the perfect graph.
    pub fn nodes(&self) -> Vec<QubitId> {
        todo!("topology branch")
    }
    /// Sorted canonical edge list of the perfect graph.
    pub fn edges(&self) -> Vec<Edge> {
        todo!("topology branch")
    }
    /// Analysis coordinates of a node; `None` if `q` is not a node.
    pub fn coords(&self, _q: QubitId) -> Option<QubitCoords> {
        todo!("topology branch")
    }
}

impl WorkingGraph {
    /// The perfect graph.
    pub fn perfect(_topology: Topology) -> Self {
        todo!("topology branch")
    }
    /// From a solver record file (`.json` or `.json.gz`; a bare record or one element of a list).
    pub fn from_solver_file(_path: &std::path::Path) -> Result<Self, TopologyError> {
        todo!("topology branch")
    }
    /// Class of a coupler of this graph's topology.
    pub fn coupler_class(&self, _u: QubitId, _v: QubitId) -> Option<EdgeClass> {
        todo!("topology branch")
    }
}

impl std::fmt::Display for Topology {
    fn fmt(&self, _f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        todo!("topology branch")
    }
}
