//! Zephyr Z(m, t) (docs/topology.md §3; dnx `zephyr_graph`, `zephyr_coordinates`, `zephyr_layout`; dg
//! `zephyr_to_cartesian`, `_neighbor_ccoords`).
//!
//! Coordinate (u, w, k, j, z): orientation u, w ≤ 2m, k < t, j ∈ {0,1}, z < m.
//! Linear index `q = (((u·(2m+1) + w)·t + k)·2 + j)·m + z`; every index in [0, 4tm(2m+1)) is a node.
//!
//! Cartesian (x, y, k): u=0 at (2w, 4z+2j+1), u=1 at (4z+2j+1, 2w); vertical qubits have even x.
//! Edges in Cartesian terms: internal (x±1, y±1, any k'); odd (x, y±2, k) for vertical, (x±2, y, k) for
//! horizontal; external (x, y±4, k) for vertical, (x±4, y, k) for horizontal.
//!
//! Raw layout: s = 1/(m·t), W = ((2t·w + 2k) + 0.625j) + 0.125, Z = 2t(2z+j+1) − 0.5; u=0 at (W, −Z)·s,
//! u=1 at (Z, −W)·s, then renormalised ([`super::layout`]).
//!
//! ```
//! use qasa::topology::{ZephyrCoord, ZephyrShape};
//! let z2 = ZephyrShape { m: 2, t: 4 };
//! assert_eq!(z2.to_linear(ZephyrCoord { u: 0, w: 1, k: 2, j: 1, z: 0 }), Some(26));
//! assert_eq!(z2.from_linear(137), Some(ZephyrCoord { u: 1, w: 3, k: 2, j: 0, z: 1 }));
//! ```

use super::{Edge, EdgeClass, QubitCoords, QubitId};

/// Shape of a Zephyr graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ZephyrShape {
    pub m: u32,
    pub t: u32,
}

/// Zephyr coordinate (u, w, k, j, z).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ZephyrCoord {
    pub u: u32,
    pub w: u32,
    pub k: u32,
    pub j: u32,
    pub z: u32,
}

/// Cartesian coordinate (x, y, k), 0 ≤ x, y ≤ 4m with opposite parity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CartesianCoord {
    pub x: u32,
    pub y: u32,
    pub k: u32,
}

impl ZephyrShape {
    /// 4tm(2m+1): SAPI `num_qubits`, also the node count.
    pub fn index_space(&self) -> u32 {
        4 * self.t * self.m * (2 * self.m + 1)
    }

    pub fn contains(&self, q: QubitId) -> bool {
        q < self.index_space()
    }

    /// Coordinate of `q`; `None` outside the index space.
    pub fn from_linear(&self, q: QubitId) -> Option<ZephyrCoord> {
        if !self.contains(q) {
            return None;
        }
        let z = q % self.m;
        let q = q / self.m;
        let j = q % 2;
        let q = q / 2;
        let k = q % self.t;
        let q = q / self.t;
        let w = q % (2 * self.m + 1);
        Some(ZephyrCoord {
            u: q / (2 * self.m + 1),
            w,
            k,
            j,
            z,
        })
    }

    /// Linear index of `c`; `None` if a field is out of range.
    pub fn to_linear(&self, c: ZephyrCoord) -> Option<QubitId> {
        let ok = c.u < 2 && c.w <= 2 * self.m && c.k < self.t && c.j < 2 && c.z < self.m;
        ok.then(|| (((c.u * (2 * self.m + 1) + c.w) * self.t + c.k) * 2 + c.j) * self.m + c.z)
    }

    /// Cartesian coordinate of `c` (no range check).
    pub fn to_cartesian(&self, c: ZephyrCoord) -> CartesianCoord {
        let along = 4 * c.z + 2 * c.j + 1;
        if c.u == 0 {
            CartesianCoord {
                x: 2 * c.w,
                y: along,
                k: c.k,
            }
        } else {
            CartesianCoord {
                x: along,
                y: 2 * c.w,
                k: c.k,
            }
        }
    }

    /// Zephyr coordinate of a Cartesian one; `None` if it is not a node of this shape.
    pub fn from_cartesian(&self, c: CartesianCoord) -> Option<ZephyrCoord> {
        if c.x > 4 * self.m || c.y > 4 * self.m || c.k >= self.t || c.x % 2 == c.y % 2 {
            return None;
        }
        let (u, w, along) = if c.x % 2 == 0 {
            (0, c.x / 2, c.y)
        } else {
            (1, c.y / 2, c.x)
        };
        Some(ZephyrCoord {
            u,
            w,
            k: c.k,
            j: ((along - 1) % 4) / 2,
            z: along / 4,
        })
    }

    fn cart_to_linear(&self, x: i64, y: i64, k: u32) -> Option<QubitId> {
        let x = u32::try_from(x).ok()?;
        let y = u32::try_from(y).ok()?;
        let c = self.from_cartesian(CartesianCoord { x, y, k })?;
        self.to_linear(c)
    }

    /// All edges (unsorted, `u < v`), from the Cartesian neighbour rules.
    pub fn edges(&self) -> Vec<Edge> {
        let mut out = Vec::new();
        for q in 0..self.index_space() {
            let Some(zc) = self.from_linear(q) else {
                continue;
            };
            let c = self.to_cartesian(zc);
            let (x, y) = (i64::from(c.x), i64::from(c.y));
            for (dx, dy) in [(1, 1), (1, -1), (-1, 1), (-1, -1)] {
                for k in 0..self.t {
                    if let Some(p) = self.cart_to_linear(x + dx, y + dy, k) {
                        if p > q {
                            out.push(Edge::new(q, p, EdgeClass::Internal));
                        }
                    }
                }
            }
            let (ax, ay) = if zc.u == 0 { (0, 1) } else { (1, 0) };
            for (step, class) in [(2, EdgeClass::Odd), (4, EdgeClass::External)] {
                if let Some(p) = self.cart_to_linear(x + ax * step, y + ay * step, c.k) {
                    out.push(Edge::new(q, p, class));
                }
            }
        }
        out
    }

    /// Class of the coupler between `a` and `b`; `None` if not an edge.
    pub fn edge_class(&self, a: QubitId, b: QubitId) -> Option<EdgeClass> {
        let p = self.to_cartesian(self.from_linear(a)?);
        let q = self.to_cartesian(self.from_linear(b)?);
        let (dx, dy) = (p.x.abs_diff(q.x), p.y.abs_diff(q.y));
        if dx == 1 && dy == 1 {
            return Some(EdgeClass::Internal);
        }
        if p.k != q.k {
            return None;
        }
        let vertical = p.x % 2 == 0;
        let along = match (vertical, dx, dy) {
            (true, 0, d) if q.x % 2 == 0 => d,
            (false, d, 0) if q.x % 2 == 1 => d,
            _ => return None,
        };
        match along {
            2 => Some(EdgeClass::Odd),
            4 => Some(EdgeClass::External),
            _ => None,
        }
    }

    /// Analysis coordinates: the upper (vertical) or left (horizontal) tile of the two a qubit spans,
    /// index `u·t + k` (module docs of [`super`]).
    pub fn coords(&self, q: QubitId) -> Option<QubitCoords> {
        let zc = self.from_linear(q)?;
        let c = self.to_cartesian(zc);
        let (row, col) = if zc.u == 0 {
            ((c.y - 1) / 2, c.x / 2)
        } else {
            (c.y / 2, (c.x - 1) / 2)
        };
        Some(QubitCoords {
            orientation: zc.u as u8,
            cell_row: row,
            cell_col: col,
            index_in_cell: zc.u * self.t + zc.k,
        })
    }

    /// Raw (not yet renormalised) dnx `zephyr_node_placer_2d` position.
    pub fn raw_position(&self, c: ZephyrCoord) -> (f64, f64) {
        let s = 1.0 / f64::from(self.m * self.t);
        let w = (f64::from(2 * self.t * c.w + 2 * c.k) + 0.625 * f64::from(c.j)) + 0.125;
        let z = f64::from(2 * self.t * (2 * c.z + c.j + 1)) - 0.5;
        let (x, y) = if c.u == 1 { (z, -w) } else { (w, -z) };
        (x * s + 0.0, y * s + 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_linear_and_cartesian() {
        let g = ZephyrShape { m: 3, t: 2 };
        for q in 0..g.index_space() {
            let c = g.from_linear(q).unwrap();
            assert_eq!(g.to_linear(c), Some(q));
            assert_eq!(g.from_cartesian(g.to_cartesian(c)), Some(c));
        }
        assert_eq!(g.from_linear(g.index_space()), None);
    }

    #[test]
    fn dnx_doctest_examples() {
        let g = ZephyrShape { m: 2, t: 4 };
        assert_eq!(
            g.to_linear(ZephyrCoord {
                u: 0,
                w: 1,
                k: 2,
                j: 1,
                z: 0
            }),
            Some(26)
        );
        assert_eq!(
            g.from_linear(137),
            Some(ZephyrCoord {
                u: 1,
                w: 3,
                k: 2,
                j: 0,
                z: 1
            })
        );
    }

    #[test]
    fn cells_are_unique_and_cross() {
        let g = ZephyrShape { m: 3, t: 4 };
        let mut by_cell = std::collections::HashMap::new();
        for q in 0..g.index_space() {
            let a = g.coords(q).unwrap();
            assert!(a.cell_row <= 6 && a.cell_col <= 6 && a.index_in_cell < 8);
            let prev = by_cell.insert((a.cell_row, a.cell_col, a.index_in_cell), q);
            assert_eq!(prev, None, "qubit {q} shares a cell slot");
        }
        // Every vertical and horizontal qubit of one cell are internally coupled.
        for (&(r, c, i), &q) in &by_cell {
            for (&(r2, c2, i2), &p) in &by_cell {
                if (r, c) == (r2, c2) && i < 4 && i2 >= 4 {
                    assert_eq!(g.edge_class(q, p), Some(EdgeClass::Internal), "{q} {p}");
                }
            }
        }
    }
}
