//! Per-qubit values with layout coordinates, ready for maps: one row per analysed qubit with its dnx layout
//! position (perfect-graph extents, so maps of two working graphs line up; docs/topology.md §2–3), its
//! analysis coordinates, the fitted parameters and the scores. A renderer draws these as they are.

use super::input::QubitInput;
use super::scores::QubitScores;
use super::spatial::SpatialGraph;
use serde::{Deserialize, Serialize};

/// One qubit on the map.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MapPoint {
    pub spin: u32,
    /// dnx layout position: x in [0, 1] to the right, y in [−1, 0] upwards (y = 0 is the top row).
    pub x: Option<f64>,
    pub y: Option<f64>,
    /// 0 vertical, 1 horizontal.
    pub orientation: Option<u8>,
    pub cell_row: Option<u32>,
    pub cell_col: Option<u32>,
    pub index_in_cell: Option<u32>,
    /// β in 1/h units.
    pub beta: Option<f64>,
    /// b in h units.
    pub b: Option<f64>,
    /// |γ|, dimensionless.
    pub gamma: Option<f64>,
    /// |η| in h units.
    pub eta: Option<f64>,
    /// Pearson χ²/dof.
    pub dispersion: Option<f64>,
    /// Scores, same units as in `scores`.
    pub fidelity: Option<f64>,
    pub bias_widths: Option<f64>,
    pub noise_widths: Option<f64>,
    pub wrong_state_floor: Option<f64>,
    pub beta_deviation: Option<f64>,
    pub grade: String,
}

/// Map rows for every analysed qubit (same order as `inputs`).
pub fn map_points(
    graph: Option<&SpatialGraph>,
    inputs: &[QubitInput],
    scores: &[QubitScores],
) -> Vec<MapPoint> {
    inputs
        .iter()
        .zip(scores)
        .enumerate()
        .map(|(i, (q, s))| {
            let coords = graph.and_then(|g| g.coords.get(i).copied().flatten());
            let pos = graph.and_then(|g| g.position.get(i).copied().flatten());
            let v = |k: usize| q.estimates[k].map(|e| e.value);
            MapPoint {
                spin: q.qubit,
                x: pos.map(|p| p.0),
                y: pos.map(|p| p.1),
                orientation: coords.map(|c| c.orientation),
                cell_row: coords.map(|c| c.cell_row),
                cell_col: coords.map(|c| c.cell_col),
                index_in_cell: coords.map(|c| c.index_in_cell),
                beta: v(0),
                b: v(1),
                gamma: v(2),
                eta: v(3),
                dispersion: q.dispersion,
                fidelity: s.fidelity,
                bias_widths: s.bias_widths,
                noise_widths: s.noise_widths,
                wrong_state_floor: s.wrong_state_floor,
                beta_deviation: s.beta_deviation,
                grade: s.grade.clone(),
            }
        })
        .collect()
}
