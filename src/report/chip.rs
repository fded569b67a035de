//! Chip layout and maps: every node of the perfect graph at its dnx layout position (docs/topology.md
//! §1–3, full-yield extents so that maps of two working graphs line up), marked present when the sweep
//! measured it; a map is one value per site.

use super::model::{ChipLayout, ChipMap, Site};
use super::stats::colour_scale;
use crate::topology::Topology;
use std::collections::{HashMap, HashSet};

/// The layout of `topology` with the measured qubits marked present.
pub fn layout(topology: &Topology, measured: &[u32]) -> ChipLayout {
    let present: HashSet<u32> = measured.iter().copied().collect();
    let sites: Vec<Site> = topology
        .layout()
        .into_iter()
        .map(|(q, x, y)| Site {
            spin: q,
            x,
            y,
            orientation: topology.coords(q).map_or(0, |c| c.orientation),
            present: present.contains(&q),
        })
        .collect();
    ChipLayout {
        topology: topology.to_string(),
        family: topology.family().name().into(),
        pitch: pitch(&sites),
        sites,
    }
}

/// Smallest distance between two sites (layout units), by a grid search.
fn pitch(sites: &[Site]) -> f64 {
    let n = sites.len();
    if n < 2 {
        return 0.05;
    }
    let cell = 1.0 / (n as f64).sqrt();
    let key = |x: f64, y: f64| ((x / cell).floor() as i64, (y / cell).floor() as i64);
    let mut grid: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    for (i, s) in sites.iter().enumerate() {
        grid.entry(key(s.x, s.y)).or_default().push(i);
    }
    let mut best = f64::INFINITY;
    for (i, s) in sites.iter().enumerate() {
        let (kx, ky) = key(s.x, s.y);
        for dx in -1..=1 {
            for dy in -1..=1 {
                for &j in grid.get(&(kx + dx, ky + dy)).map_or(&[][..], Vec::as_slice) {
                    if j != i {
                        let d = (s.x - sites[j].x).hypot(s.y - sites[j].y);
                        if d > 0.0 {
                            best = best.min(d);
                        }
                    }
                }
            }
        }
    }
    if best.is_finite() {
        best
    } else {
        cell
    }
}

/// A map of one quantity: `value(spin)` per site (absent sites have none).
pub fn map(
    layout: &ChipLayout,
    name: &str,
    label: &str,
    unit: &str,
    diverging: bool,
    value: &dyn Fn(u32) -> Option<f64>,
) -> ChipMap {
    let values: Vec<Option<f64>> = layout
        .sites
        .iter()
        .map(|s| {
            if s.present {
                value(s.spin).filter(|v| v.is_finite())
            } else {
                None
            }
        })
        .collect();
    ChipMap {
        name: name.into(),
        label: label.into(),
        unit: unit.into(),
        scale: colour_scale(&values, diverging),
        values,
        marked: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chimera_pitch_is_one_layout_unit() {
        // C(2,2,4): s = 1/(2·7 − 3) = 1/11, neighbouring slots one unit apart.
        let t = Topology::Chimera { m: 2, n: 2, t: 4 };
        let l = layout(&t, &[0, 1, 2]);
        assert!((l.pitch - 1.0 / 11.0).abs() < 1e-12, "{}", l.pitch);
        assert_eq!(l.sites.len(), 32);
        assert_eq!(l.sites.iter().filter(|s| s.present).count(), 3);
        let m = map(&l, "x", "x", "1", false, &|q| {
            (q < 2).then_some(f64::from(q))
        });
        assert_eq!(m.values.iter().flatten().count(), 2);
    }
}
