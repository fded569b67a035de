//! Pegasus P(m), fabric nodes only (docs/topology.md §2; dnx `pegasus_graph`, `pegasus_coordinates`,
//! `pegasus_layout`, default `offsets_index=0`, `fabric_only=True`).
//!
//! Coordinate (u, w, k, z): orientation u, major offset w < m, minor offset k < 12, parallel offset z < m−1.
//! Linear index `q = ((u·m + w)·12 + k)·(m − 1) + z`; index space 24m(m−1).
//! Fabric: drop w = 0 with k ∈ {0,1} and w = m−1 with k ∈ {10,11}; 8(m−1)(3m−1) nodes.
//!
//! Edges (both ends in the fabric):
//! * external (u,w,k,z) ~ (u,w,k,z+1);
//! * odd (u,w,2a,z) ~ (u,w,2a+1,z);
//! * internal (0,w0,k0,z0) ~ (1,w1,k1,z1) iff `w1 = z0 + [k1 < S0[k0]]`, `z1 = w0 − [k0 < S1[k1]]`, 0 ≤ z1 ≤ m−2,
//!   with S0 = [`VERTICAL_OFFSETS`], S1 = [`HORIZONTAL_OFFSETS`].
//!
//! Raw layout (s = 1/(12m), p = +0.1 for even k, −0.1 for odd k): u=0 at (12w + k + p, `−12z − S0[k] − 5.5`)·s,
//! u=1 at (`12z + S1[k] + 5.5`, −12w − k − p)·s, then renormalised ([`super::layout`]).
//!
//! Nice coordinates (t, y, x, u, k) per the table of §2 (dnx `pegasus_to_nice`).
//!
//! ```
//! use qasa::topology::{PegasusCoord, PegasusShape};
//! let p2 = PegasusShape { m: 2 };
//! assert_eq!(p2.to_linear(PegasusCoord { u: 0, w: 0, k: 4, z: 0 }), Some(4));
//! ```

use super::{Edge, EdgeClass, QubitCoords, QubitId};

/// S0: vertical qubit offsets, `offsets_index=0`.
pub const VERTICAL_OFFSETS: [u32; 12] = [2, 2, 2, 2, 10, 10, 10, 10, 6, 6, 6, 6];
/// S1: horizontal qubit offsets, `offsets_index=0`.
pub const HORIZONTAL_OFFSETS: [u32; 12] = [6, 6, 6, 6, 2, 2, 2, 2, 10, 10, 10, 10];

/// Shape of a Pegasus graph, m ≥ 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PegasusShape {
    pub m: u32,
}

/// Pegasus coordinate (u, w, k, z).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PegasusCoord {
    pub u: u32,
    pub w: u32,
    pub k: u32,
    pub z: u32,
}

/// Nice coordinate (t, y, x, u, k): tile t < 3, cell (y, x) with y, x ≤ m−2, orientation u, k < 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NiceCoord {
    pub t: u32,
    pub y: u32,
    pub x: u32,
    pub u: u32,
    pub k: u32,
}

fn offset(u: u32, k: u32) -> u32 {
    let table = if u == 0 {
        &VERTICAL_OFFSETS
    } else {
        &HORIZONTAL_OFFSETS
    };
    table.get(k as usize).copied().unwrap_or(0)
}

impl PegasusShape {
    /// 24m(m−1), SAPI `num_qubits`.
    pub fn index_space(&self) -> u32 {
        24 * self.m * (self.m - 1)
    }

    /// Coordinate of any index in the index space (fabric or not); `None` outside it.
    pub fn from_linear(&self, q: QubitId) -> Option<PegasusCoord> {
        if q >= self.index_space() {
            return None;
        }
        let m1 = self.m - 1;
        let z = q % m1;
        let q = q / m1;
        let k = q % 12;
        let q = q / 12;
        Some(PegasusCoord {
            u: q / self.m,
            w: q % self.m,
            k,
            z,
        })
    }

    /// Linear index of `c`; `None` if a field is out of range (fabric or not).
    pub fn to_linear(&self, c: PegasusCoord) -> Option<QubitId> {
        (c.u < 2 && c.w < self.m && c.k < 12 && c.z + 1 < self.m).then(|| self.lin(c))
    }

    fn lin(&self, c: PegasusCoord) -> QubitId {
        ((c.u * self.m + c.w) * 12 + c.k) * (self.m - 1) + c.z
    }

    /// Whether an in-range coordinate is a fabric qubit.
    pub fn in_fabric(&self, c: PegasusCoord) -> bool {
        !((c.w == 0 && c.k < 2) || (c.w == self.m - 1 && c.k >= 10))
    }

    /// Whether `q` is a fabric qubit.
    pub fn contains(&self, q: QubitId) -> bool {
        self.from_linear(q).is_some_and(|c| self.in_fabric(c))
    }

    /// The would-be nice coordinate (t, y, x, u, k) with y and x possibly −1 or m−1.
    fn nice_raw(&self, c: PegasusCoord) -> (u32, i64, i64, u32, u32) {
        let (w, z) = (i64::from(c.w), i64::from(c.z));
        match (c.u, c.k / 4) {
            (0, 1) => (0, z, w, 0, c.k - 4),
            (0, 2) => (1, z, w, 0, c.k - 8),
            (0, _) => (2, z, w - 1, 0, c.k),
            (_, 1) => (0, w - 1, z, 1, c.k - 4),
            (_, 0) => (1, w - 1, z, 1, c.k),
            (_, _) => (2, w, z, 1, c.k - 8),
        }
    }

    /// Nice coordinate of an in-range coordinate; `None` if it has none (boundary lines, non-fabric).
    pub fn to_nice(&self, c: PegasusCoord) -> Option<NiceCoord> {
        let (t, y, x, u, k) = self.nice_raw(c);
        let hi = i64::from(self.m) - 2;
        let ok = (0..=hi).contains(&y) && (0..=hi).contains(&x);
        ok.then_some(NiceCoord {
            t,
            y: y as u32,
            x: x as u32,
            u,
            k,
        })
    }

    /// Pegasus coordinate of a nice coordinate; `None` if a field is out of range.
    pub fn from_nice(&self, n: NiceCoord) -> Option<PegasusCoord> {
        if n.t > 2 || n.u > 1 || n.k > 3 || n.y + 2 > self.m || n.x + 2 > self.m {
            return None;
        }
        let (w, k, z) = match (n.u, n.t) {
            (0, 0) => (n.x, n.k + 4, n.y),
            (0, 1) => (n.x, n.k + 8, n.y),
            (0, _) => (n.x + 1, n.k, n.y),
            (_, 0) => (n.y + 1, n.k + 4, n.x),
            (_, 1) => (n.y + 1, n.k, n.x),
            (_, _) => (n.y, n.k + 8, n.x),
        };
        Some(PegasusCoord { u: n.u, w, k, z })
    }

    /// All edges (unsorted, `u < v`).
    pub fn edges(&self) -> Vec<Edge> {
        let m = self.m;
        let mut out = Vec::new();
        for u in 0..2 {
            for w in 0..m {
                for k in 0..12 {
                    for z in 0..m - 1 {
                        let c = PegasusCoord { u, w, k, z };
                        if !self.in_fabric(c) {
                            continue;
                        }
                        let q = self.lin(c);
                        if z + 2 < m {
                            out.push(Edge::new(
                                q,
                                self.lin(PegasusCoord { z: z + 1, ..c }),
                                EdgeClass::External,
                            ));
                        }
                        if k % 2 == 0 {
                            out.push(Edge::new(
                                q,
                                self.lin(PegasusCoord { k: k + 1, ..c }),
                                EdgeClass::Odd,
                            ));
                        }
                        if u == 0 {
                            for k1 in 0..12 {
                                if let Some(h) = self.internal_partner(c, k1) {
                                    out.push(Edge::new(q, self.lin(h), EdgeClass::Internal));
                                }
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// The horizontal qubit on line k1 that vertical fabric qubit `c` couples to internally, if any.
    fn internal_partner(&self, c: PegasusCoord, k1: u32) -> Option<PegasusCoord> {
        let w1 = c.z + u32::from(k1 < VERTICAL_OFFSETS[c.k as usize]);
        let z1 = i64::from(c.w) - i64::from(c.k < HORIZONTAL_OFFSETS[k1 as usize]);
        if z1 < 0 || z1 > i64::from(self.m) - 2 || w1 >= self.m {
            return None;
        }
        let h = PegasusCoord {
            u: 1,
            w: w1,
            k: k1,
            z: z1 as u32,
        };
        self.in_fabric(h).then_some(h)
    }

    /// Class of the coupler between `a` and `b`; `None` if not an edge.
    pub fn edge_class(&self, a: QubitId, b: QubitId) -> Option<EdgeClass> {
        let (p, q) = (self.from_linear(a)?, self.from_linear(b)?);
        if !self.in_fabric(p) || !self.in_fabric(q) {
            return None;
        }
        if p.u != q.u {
            let (v, h) = if p.u == 0 { (p, q) } else { (q, p) };
            return (self.internal_partner(v, h.k) == Some(h)).then_some(EdgeClass::Internal);
        }
        if p.w != q.w {
            return None;
        }
        if p.k == q.k && p.z.abs_diff(q.z) == 1 {
            return Some(EdgeClass::External);
        }
        (p.z == q.z && p.k != q.k && p.k / 2 == q.k / 2).then_some(EdgeClass::Odd)
    }

    /// Analysis coordinates: nice cell (y, x) and index `8t + 4u + k`; boundary qubits without nice
    /// coordinates get the clamped cell and index `24 + 8t + 4u + k` (module docs of [`super`]).
    pub fn coords(&self, q: QubitId) -> Option<QubitCoords> {
        let c = self.from_linear(q)?;
        if !self.in_fabric(c) {
            return None;
        }
        let (t, y, x, u, k) = self.nice_raw(c);
        let hi = i64::from(self.m) - 2;
        let inside = (0..=hi).contains(&y) && (0..=hi).contains(&x);
        Some(QubitCoords {
            orientation: c.u as u8,
            cell_row: y.clamp(0, hi) as u32,
            cell_col: x.clamp(0, hi) as u32,
            index_in_cell: if inside { 0 } else { 24 } + 8 * t + 4 * u + k,
        })
    }

    /// Raw (not yet renormalised) dnx `pegasus_node_placer_2d` position, crosses=False.
    pub fn raw_position(&self, c: PegasusCoord) -> (f64, f64) {
        let s = 1.0 / f64::from(self.m * 12);
        let p = if c.k % 2 == 1 { -0.1 } else { 0.1 };
        let (x, y) = if c.u == 1 {
            let x = f64::from(c.z * 12 + offset(1, c.k)) + 5.5;
            let y = (-f64::from(12 * c.w) - f64::from(c.k) - p) + 0.0;
            (x, y)
        } else {
            let x = (f64::from(12 * c.w + c.k) + p) + 0.0;
            let y = -f64::from(c.z * 12) - f64::from(offset(0, c.k)) - 5.5;
            (x, y)
        };
        (x * s + 0.0, y * s + 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_all_indices() {
        let g = PegasusShape { m: 4 };
        for q in 0..g.index_space() {
            let c = g.from_linear(q).unwrap();
            assert_eq!(g.to_linear(c), Some(q));
            if let Some(n) = g.to_nice(c) {
                assert_eq!(g.from_nice(n), Some(c), "{c:?} {n:?}");
            }
        }
        assert_eq!(g.from_linear(g.index_space()), None);
    }

    #[test]
    fn dnx_doctest_example() {
        let g = PegasusShape { m: 2 };
        assert_eq!(
            g.to_linear(PegasusCoord {
                u: 0,
                w: 0,
                k: 4,
                z: 0
            }),
            Some(4)
        );
    }

    #[test]
    fn p16_holes_are_the_documented_indices() {
        let g = PegasusShape { m: 16 };
        let holes: Vec<u32> = (0..g.index_space()).filter(|&q| !g.contains(q)).collect();
        let expected: Vec<u32> = (0..30).chain(2850..2910).chain(5730..5760).collect();
        assert_eq!(holes, expected);
    }

    #[test]
    fn p16_nice_count_and_unique_cells() {
        let g = PegasusShape { m: 16 };
        let fabric: Vec<PegasusCoord> = (0..g.index_space())
            .filter_map(|q| g.from_linear(q))
            .filter(|&c| g.in_fabric(c))
            .collect();
        let without_nice = fabric.iter().filter(|&&c| g.to_nice(c).is_none()).count();
        assert_eq!(without_nice, 240);
        let mut seen = std::collections::HashSet::new();
        for &c in &fabric {
            let a = g.coords(g.lin(c)).unwrap();
            assert!(
                seen.insert((a.cell_row, a.cell_col, a.index_in_cell)),
                "{c:?}"
            );
            assert!(a.cell_row <= 14 && a.cell_col <= 14 && a.index_in_cell < 48);
        }
    }
}
