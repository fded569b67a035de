//! D-Wave hardware graphs: Chimera C(m,n,t), Pegasus P(m) (fabric nodes only) and Zephyr Z(m,t).
//!
//! Implements `docs/topology.md` (which follows dwave-networkx 0.8.19 bit for bit): linear index ↔
//! coordinates, node sets, edges with their class (§0: internal / external / odd), the dnx default 2D
//! layouts, per-qubit analysis coordinates, and the working graph of a real solver from its SAPI record.
//!
//! * [`chimera`], [`pegasus`], [`zephyr`]: one family each (coordinates, edges, raw layout, analysis cell);
//! * [`spec`]: the command-line SPEC (`chimera:16`, `advantage`, ...) and its canonical `Display`;
//! * [`layout`]: the dnx renormalisation of Pegasus and Zephyr layouts (§2, §3);
//! * [`working`]: [`WorkingGraph`] from a SAPI solver record (§0 "Working graph");
//! * [`summary`]: counts per class and missing qubits / couplers, for `qasa topology info`.
//!
//! Analysis coordinates ([`QubitCoords`]): orientation `u` (0 vertical, 1 horizontal) plus a cell
//! `(cell_row, cell_col)` and an index that is unique within that cell. Rows grow down the page and
//! columns to the right, as in the dnx layouts.
//! * Chimera: cell (i, j), index `u·t + k` (0 ≤ index < 2t).
//! * Pegasus: the nice coordinates' cell (y, x), index `8·t + 4·u + k` (0..24) where t is the K4,4 tile.
//!   The fabric qubits without nice coordinates (boundary lines, 16(m−1) of them) get the nearest valid
//!   cell (their would-be nice y or x clamped into [0, m−2]) and index `24 + 8·t + 4·u + k`, so that
//!   (cell, index) stays unique.
//! * Zephyr: the tile picture of §3. A qubit spans two tiles; its cell is the upper (vertical qubits) or
//!   left (horizontal qubits) one: cell (row, col) = ((y−1)/2, x/2) for a vertical qubit at Cartesian (x, y)
//!   and (y/2, (x−1)/2) for a horizontal one; index `u·t + k`. The grid is (2m+1)×(2m+1) cells, each with
//!   at most t vertical and t horizontal qubits that all cross (K_{t,t}).

pub mod chimera;
pub mod layout;
pub mod pegasus;
pub mod spec;
pub mod summary;
pub mod working;
pub mod zephyr;

use serde::{Deserialize, Serialize};

pub use chimera::{ChimeraCoord, ChimeraShape};
pub use pegasus::{NiceCoord, PegasusCoord, PegasusShape};
pub use summary::{ClassCounts, GraphSummary};
pub use zephyr::{CartesianCoord, ZephyrCoord, ZephyrShape};

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

impl Family {
    /// Lower-case name as SAPI writes it in `properties.topology.type`.
    pub fn name(self) -> &'static str {
        match self {
            Family::Chimera => "chimera",
            Family::Pegasus => "pegasus",
            Family::Zephyr => "zephyr",
        }
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A perfect (fully fabricated) graph of one family and shape.
///
/// Build it through [`std::str::FromStr`] (SPEC) or [`Topology::from_type_shape`], which validate the
/// shape (m ≥ 1, Pegasus m ≥ 2, t ≥ 1, index space < 2^24; [`Topology::check`]). A value built directly
/// with an invalid shape behaves as an empty graph.
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

impl EdgeClass {
    /// `internal`, `external` or `odd`.
    pub fn name(self) -> &'static str {
        match self {
            EdgeClass::Internal => "internal",
            EdgeClass::External => "external",
            EdgeClass::Odd => "odd",
        }
    }
}

impl std::fmt::Display for EdgeClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One coupler, `u < v`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Edge {
    pub u: QubitId,
    pub v: QubitId,
    pub class: EdgeClass,
}

impl Edge {
    /// The edge between `a` and `b` in canonical order (`u < v`).
    pub fn new(a: QubitId, b: QubitId, class: EdgeClass) -> Self {
        Edge {
            u: a.min(b),
            v: a.max(b),
            class,
        }
    }
}

/// Per-qubit coordinates that analysis needs (see the module docs for each family's cell).
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
    /// A problem in a solver record file: the file, and what is wrong in it.
    #[error("{}: {source}", path.display())]
    SolverFile {
        path: std::path::PathBuf,
        #[source]
        source: Box<TopologyError>,
    },
    /// The graph of a solver record is not valid for its topology (the message names the entry).
    #[error("{reason}")]
    InvalidRecord { reason: String },
    /// The solver file or record could not be read (unreadable, truncated gzip, not JSON, a field of the
    /// wrong type, no name).
    #[error(transparent)]
    Record(#[from] crate::sapi::solver::SolverError),
}

impl Topology {
    pub fn family(&self) -> Family {
        match self {
            Topology::Chimera { .. } => Family::Chimera,
            Topology::Pegasus { .. } => Family::Pegasus,
            Topology::Zephyr { .. } => Family::Zephyr,
        }
    }

    /// SAPI `topology.shape`: `[m, n, t]`, `[m]` or `[m, t]`.
    pub fn shape(&self) -> Vec<u32> {
        match *self {
            Topology::Chimera { m, n, t } => vec![m, n, t],
            Topology::Pegasus { m } => vec![m],
            Topology::Zephyr { m, t } => vec![m, t],
        }
    }

    /// Size of the linear index space, SAPI `num_qubits`: 2mnt, 24m(m−1), 4tm(2m+1)
    /// (2048 for C16, 5760 for P16, 4800 for Z(12,4)).
    pub fn num_index_space(&self) -> u32 {
        if !self.is_valid() {
            return 0;
        }
        match *self {
            Topology::Chimera { m, n, t } => ChimeraShape { m, n, t }.index_space(),
            Topology::Pegasus { m } => PegasusShape { m }.index_space(),
            Topology::Zephyr { m, t } => ZephyrShape { m, t }.index_space(),
        }
    }

    /// Whether `q` is a node of the perfect graph (for Pegasus: a fabric qubit).
    pub fn contains(&self, q: QubitId) -> bool {
        if !self.is_valid() {
            return false;
        }
        match *self {
            Topology::Chimera { m, n, t } => ChimeraShape { m, n, t }.contains(q),
            Topology::Pegasus { m } => PegasusShape { m }.contains(q),
            Topology::Zephyr { m, t } => ZephyrShape { m, t }.contains(q),
        }
    }

    /// Sorted node list of the perfect graph.
    pub fn nodes(&self) -> Vec<QubitId> {
        (0..self.num_index_space())
            .filter(|&q| self.contains(q))
            .collect()
    }

    /// Number of nodes of the perfect graph (closed forms of docs/topology.md §4).
    pub fn num_nodes(&self) -> usize {
        match *self {
            Topology::Pegasus { m } if self.is_valid() => {
                8 * (m as usize - 1) * (3 * m as usize - 1)
            }
            Topology::Pegasus { .. } => 0,
            _ => self.num_index_space() as usize,
        }
    }

    /// Sorted canonical edge list of the perfect graph: `u < v`, sorted by `(u, v)`.
    pub fn edges(&self) -> Vec<Edge> {
        if !self.is_valid() {
            return Vec::new();
        }
        let mut edges = match *self {
            Topology::Chimera { m, n, t } => ChimeraShape { m, n, t }.edges(),
            Topology::Pegasus { m } => PegasusShape { m }.edges(),
            Topology::Zephyr { m, t } => ZephyrShape { m, t }.edges(),
        };
        edges.sort_unstable_by_key(|e| (e.u, e.v));
        edges
    }

    /// Class of the coupler between `a` and `b` (either order); `None` if it is not an edge.
    pub fn edge_class(&self, a: QubitId, b: QubitId) -> Option<EdgeClass> {
        if !self.is_valid() {
            return None;
        }
        match *self {
            Topology::Chimera { m, n, t } => ChimeraShape { m, n, t }.edge_class(a, b),
            Topology::Pegasus { m } => PegasusShape { m }.edge_class(a, b),
            Topology::Zephyr { m, t } => ZephyrShape { m, t }.edge_class(a, b),
        }
    }

    /// Analysis coordinates of a node; `None` if `q` is not a node.
    pub fn coords(&self, q: QubitId) -> Option<QubitCoords> {
        if !self.is_valid() {
            return None;
        }
        match *self {
            Topology::Chimera { m, n, t } => ChimeraShape { m, n, t }.coords(q),
            Topology::Pegasus { m } => PegasusShape { m }.coords(q),
            Topology::Zephyr { m, t } => ZephyrShape { m, t }.coords(q),
        }
    }

    /// The dnx default-argument 2D layout of the perfect graph, `(index, x, y)` sorted by index.
    /// See [`layout`] for the formulas; Pegasus and Zephyr are renormalised over the perfect graph's nodes.
    pub fn layout(&self) -> Vec<(QubitId, f64, f64)> {
        layout::layout(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_new_orders_endpoints() {
        let e = Edge::new(9, 3, EdgeClass::Odd);
        assert_eq!((e.u, e.v), (3, 9));
    }

    #[test]
    fn num_nodes_matches_node_list() {
        for t in [
            Topology::Chimera { m: 2, n: 3, t: 2 },
            Topology::Pegasus { m: 3 },
            Topology::Zephyr { m: 2, t: 2 },
        ] {
            assert_eq!(t.num_nodes(), t.nodes().len(), "{t}");
        }
    }

    #[test]
    fn invalid_shapes_built_directly_are_empty_not_panics() {
        for t in [
            Topology::Pegasus { m: 0 },
            Topology::Pegasus { m: 1 },
            Topology::Chimera { m: 0, n: 5, t: 4 },
            Topology::Chimera {
                m: 100_000,
                n: 100_000,
                t: 4,
            },
            Topology::Zephyr { m: 3, t: 0 },
        ] {
            assert!(t.check().is_err(), "{t}");
            assert_eq!((t.num_index_space(), t.num_nodes()), (0, 0));
            assert!(t.nodes().is_empty() && t.edges().is_empty() && t.layout().is_empty());
            assert_eq!(
                (t.coords(0), t.edge_class(0, 1), t.contains(0)),
                (None, None, false)
            );
        }
    }

    #[test]
    fn index_space_sizes_match_sapi_num_qubits() {
        assert_eq!(
            Topology::Chimera { m: 16, n: 16, t: 4 }.num_index_space(),
            2048
        );
        assert_eq!(Topology::Pegasus { m: 16 }.num_index_space(), 5760);
        assert_eq!(Topology::Zephyr { m: 12, t: 4 }.num_index_space(), 4800);
        assert_eq!(Topology::Zephyr { m: 6, t: 4 }.num_index_space(), 1248);
    }
}
