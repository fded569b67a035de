//! 2D layouts of dnx `chimera_layout`, `pegasus_layout` and `zephyr_layout` with default arguments
//! (docs/topology.md §1–§3).
//!
//! Chimera positions are final ([`super::ChimeraShape::position`]). Pegasus and Zephyr raw positions are
//! renormalised over a node set (dnx ≥ 0.8.16), in this float order for bit-exactness:
//! `x' = (x − min_x)·(1/(max_x − min_x))`, `y' = (y − max_y)·(1/(max_y − min_y))`, then `·1.0 + 0.0`.
//! The result spans `[0,1] × [−1,0]`. [`layout`] uses the perfect graph's nodes (full-yield extents), which
//! gives a map that does not move when a working graph loses an extreme qubit; [`renormalise`] with a
//! working graph's own raw positions mimics dnx drawing that working graph.

use super::{ChimeraShape, PegasusShape, QubitId, Topology, ZephyrShape};

/// Raw position of a node (final for Chimera); `None` if `q` is not a node.
pub fn raw_position(topology: &Topology, q: QubitId) -> Option<(f64, f64)> {
    if !topology.contains(q) {
        return None;
    }
    match *topology {
        Topology::Chimera { m, n, t } => {
            let g = ChimeraShape { m, n, t };
            g.from_linear(q).map(|c| g.position(c))
        }
        Topology::Pegasus { m } => {
            let g = PegasusShape { m };
            g.from_linear(q).map(|c| g.raw_position(c))
        }
        Topology::Zephyr { m, t } => {
            let g = ZephyrShape { m, t };
            g.from_linear(q).map(|c| g.raw_position(c))
        }
    }
}

/// Raw positions of the perfect graph's nodes, sorted by index.
pub fn raw_layout(topology: &Topology) -> Vec<(QubitId, f64, f64)> {
    topology
        .nodes()
        .into_iter()
        .filter_map(|q| raw_position(topology, q).map(|(x, y)| (q, x, y)))
        .collect()
}

/// dnx renormalisation over the given positions (their own extents).
pub fn renormalise(raw: &[(QubitId, f64, f64)]) -> Vec<(QubitId, f64, f64)> {
    let mut min_x = f64::INFINITY;
    let mut max_x = f64::NEG_INFINITY;
    let mut min_y = f64::INFINITY;
    let mut max_y = f64::NEG_INFINITY;
    for &(_, x, y) in raw {
        min_x = min_x.min(x);
        max_x = max_x.max(x);
        min_y = min_y.min(y);
        max_y = max_y.max(y);
    }
    // A degenerate extent (a single node or column) maps to 0 instead of dnx's NaN.
    let inv = |range: f64| if range > 0.0 { 1.0 / range } else { 0.0 };
    let (sx, sy) = (inv(max_x - min_x), inv(max_y - min_y));
    raw.iter()
        .map(|&(q, x, y)| {
            (
                q,
                (x - min_x) * sx * 1.0 + 0.0,
                (y - max_y) * sy * 1.0 + 0.0,
            )
        })
        .collect()
}

/// The default layout of the perfect graph, sorted by index.
pub fn layout(topology: &Topology) -> Vec<(QubitId, f64, f64)> {
    let raw = raw_layout(topology);
    match topology {
        Topology::Chimera { .. } => raw,
        _ => renormalise(&raw),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renormalised_layouts_span_the_unit_box() {
        for t in [Topology::Pegasus { m: 3 }, Topology::Zephyr { m: 2, t: 2 }] {
            let pos = layout(&t);
            let xs: Vec<f64> = pos.iter().map(|p| p.1).collect();
            let ys: Vec<f64> = pos.iter().map(|p| p.2).collect();
            assert_eq!(xs.iter().copied().fold(f64::INFINITY, f64::min), 0.0);
            assert_eq!(xs.iter().copied().fold(f64::NEG_INFINITY, f64::max), 1.0);
            assert_eq!(ys.iter().copied().fold(f64::NEG_INFINITY, f64::max), 0.0);
            assert!((ys.iter().copied().fold(f64::INFINITY, f64::min) + 1.0).abs() < 1e-15);
        }
    }

    #[test]
    fn p16_raw_extents_match_the_doc() {
        let raw = raw_layout(&Topology::Pegasus { m: 16 });
        let min_x = raw.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let max_y = raw.iter().map(|p| p.2).fold(f64::NEG_INFINITY, f64::max);
        assert!((min_x - 0.0109375).abs() < 1e-15 && (max_y + 0.0109375).abs() < 1e-15);
    }

    #[test]
    fn non_nodes_have_no_position() {
        assert_eq!(raw_position(&Topology::Pegasus { m: 16 }, 0), None);
        assert_eq!(raw_position(&Topology::Zephyr { m: 1, t: 1 }, 12), None);
    }
}
