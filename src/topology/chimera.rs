//! Chimera C(m, n, t) (docs/topology.md §1; dnx `chimera_graph`, `chimera_coordinates`, `chimera_layout`).
//!
//! Coordinate (i, j, u, k): cell row i < m, cell column j < n, orientation u (0 vertical), shore index k < t.
//! Linear index `q = ((i·n + j)·2 + u)·t + k`.
//!
//! Edges: internal (i,j,0,k) ~ (i,j,1,k') (m·n·t²); external vertical (i,j,0,k) ~ (i+1,j,0,k) and horizontal
//! (i,j,1,k) ~ (i,j+1,1,k) (t(2mn − m − n)); no odd couplers.
//!
//! Layout (`chimera_node_placer_2d`, no renormalisation): tc = ⌊t/2⌋, L = t + 3, s = 1/(max(m,n)·L − 3);
//! slot p = k if k < tc else k + 1; u=1 at (tc, −p), u=0 at (p, −tc), plus (j·L, −i·L); final (X·s, Y·s) + 0.0.
//!
//! ```
//! use qasa::topology::{ChimeraCoord, ChimeraShape};
//! let c16 = ChimeraShape { m: 16, n: 16, t: 4 };
//! assert_eq!(c16.to_linear(ChimeraCoord { i: 0, j: 2, u: 0, k: 1 }), Some(17));
//! assert_eq!(c16.from_linear(272), Some(ChimeraCoord { i: 2, j: 2, u: 0, k: 0 }));
//! ```

use super::{Edge, EdgeClass, QubitCoords, QubitId};

/// Shape of a Chimera graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChimeraShape {
    pub m: u32,
    pub n: u32,
    pub t: u32,
}

/// Chimera coordinate (i, j, u, k).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChimeraCoord {
    pub i: u32,
    pub j: u32,
    pub u: u32,
    pub k: u32,
}

impl ChimeraShape {
    /// 2mnt; every index is a node.
    pub fn index_space(&self) -> u32 {
        2 * self.m * self.n * self.t
    }

    pub fn contains(&self, q: QubitId) -> bool {
        q < self.index_space()
    }

    /// Coordinate of `q`; `None` outside the index space.
    pub fn from_linear(&self, q: QubitId) -> Option<ChimeraCoord> {
        if !self.contains(q) {
            return None;
        }
        let k = q % self.t;
        let q = q / self.t;
        let u = q % 2;
        let q = q / 2;
        Some(ChimeraCoord {
            i: q / self.n,
            j: q % self.n,
            u,
            k,
        })
    }

    /// Linear index of `c`; `None` if a field is out of range.
    pub fn to_linear(&self, c: ChimeraCoord) -> Option<QubitId> {
        (c.i < self.m && c.j < self.n && c.u < 2 && c.k < self.t)
            .then(|| ((c.i * self.n + c.j) * 2 + c.u) * self.t + c.k)
    }

    fn lin(&self, i: u32, j: u32, u: u32, k: u32) -> QubitId {
        ((i * self.n + j) * 2 + u) * self.t + k
    }

    /// All edges (unsorted, `u < v`).
    pub fn edges(&self) -> Vec<Edge> {
        let (m, n, t) = (self.m, self.n, self.t);
        let mut out = Vec::new();
        for i in 0..m {
            for j in 0..n {
                for k in 0..t {
                    let vert = self.lin(i, j, 0, k);
                    for k2 in 0..t {
                        out.push(Edge::new(vert, self.lin(i, j, 1, k2), EdgeClass::Internal));
                    }
                    if i + 1 < m {
                        out.push(Edge::new(
                            vert,
                            self.lin(i + 1, j, 0, k),
                            EdgeClass::External,
                        ));
                    }
                    if j + 1 < n {
                        let hor = self.lin(i, j, 1, k);
                        out.push(Edge::new(
                            hor,
                            self.lin(i, j + 1, 1, k),
                            EdgeClass::External,
                        ));
                    }
                }
            }
        }
        out
    }

    /// Class of the coupler between `a` and `b`; `None` if not an edge.
    pub fn edge_class(&self, a: QubitId, b: QubitId) -> Option<EdgeClass> {
        let (p, q) = (self.from_linear(a)?, self.from_linear(b)?);
        if p.i == q.i && p.j == q.j && p.u != q.u {
            return Some(EdgeClass::Internal);
        }
        if p.u != q.u || p.k != q.k {
            return None;
        }
        let vertical_step = p.u == 0 && p.j == q.j && p.i.abs_diff(q.i) == 1;
        let horizontal_step = p.u == 1 && p.i == q.i && p.j.abs_diff(q.j) == 1;
        (vertical_step || horizontal_step).then_some(EdgeClass::External)
    }

    /// Analysis coordinates: cell (i, j), index `u·t + k`.
    pub fn coords(&self, q: QubitId) -> Option<QubitCoords> {
        let c = self.from_linear(q)?;
        Some(QubitCoords {
            orientation: c.u as u8,
            cell_row: c.i,
            cell_col: c.j,
            index_in_cell: c.u * self.t + c.k,
        })
    }

    /// dnx `chimera_layout` position of `c` (final; Chimera has no renormalisation).
    pub fn position(&self, c: ChimeraCoord) -> (f64, f64) {
        let tc = self.t / 2;
        let len = self.t + 3;
        let s = 1.0 / f64::from(self.m.max(self.n) * len - 3);
        let p = if c.k < tc { c.k } else { c.k + 1 };
        let (lx, ly) = if c.u == 1 {
            (i64::from(tc), -i64::from(p))
        } else {
            (i64::from(p), -i64::from(tc))
        };
        let x = lx + i64::from(c.j * len);
        let y = ly - i64::from(c.i * len);
        (x as f64 * s + 0.0, y as f64 * s + 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_all_indices() {
        let g = ChimeraShape { m: 3, n: 5, t: 3 };
        for q in 0..g.index_space() {
            let c = g.from_linear(q).unwrap();
            assert_eq!(g.to_linear(c), Some(q));
        }
        assert_eq!(g.from_linear(g.index_space()), None);
        assert_eq!(
            g.to_linear(ChimeraCoord {
                i: 3,
                j: 0,
                u: 0,
                k: 0
            }),
            None
        );
    }

    #[test]
    fn dnx_doctest_examples() {
        let g = ChimeraShape { m: 16, n: 16, t: 4 };
        assert_eq!(
            g.to_linear(ChimeraCoord {
                i: 0,
                j: 2,
                u: 0,
                k: 1
            }),
            Some(17)
        );
        assert_eq!(
            g.from_linear(272),
            Some(ChimeraCoord {
                i: 2,
                j: 2,
                u: 0,
                k: 0
            })
        );
    }

    #[test]
    fn c16_layout_fills_unit_square() {
        let g = ChimeraShape { m: 16, n: 16, t: 4 };
        let (x0, y0) = g.position(ChimeraCoord {
            i: 0,
            j: 0,
            u: 0,
            k: 0,
        });
        assert_eq!((x0, y0), (0.0, -2.0 / 109.0));
        let (x1, y1) = g.position(ChimeraCoord {
            i: 15,
            j: 15,
            u: 1,
            k: 3,
        });
        assert!(
            (x1 - 107.0 / 109.0).abs() < 1e-15 && (y1 + 1.0).abs() < 1e-15,
            "{x1} {y1}"
        );
    }
}
