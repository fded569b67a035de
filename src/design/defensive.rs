//! The defensive share of a design: [`SHARE`] of its QPU time spread evenly over |h| = 0, 0.1, 0.2, … up
//! to the largest candidate, whatever the optimiser wants.
//!
//! A Fisher-optimal design is optimal *at the prior*: it puts nearly everything on two or three |h|
//! values, where the information about β and b is largest for the assumed parameters. Away from the prior
//! such a design can leave the model poorly identified: with no reads near the transition, a steep
//! response blurred by strong noise (β ≈ 50, η ≈ 0.2) can fit the shoulders as well as the true one
//! (β ≈ 6, η ≈ 0.01), and fits land there. The defensive calls pin the whole curve for every qubit at a
//! small, bounded cost, and give every plan a grid on which the model itself can be checked. They are
//! counted as information the optimiser builds on, so the optimised part shrinks accordingly.

use super::candidates::CandidateSet;
use crate::collect::information::{add_scaled, Mat4};

/// Share of a design's QPU time on the defensive grid.
pub const SHARE: f64 = 0.1;
/// Spacing of the defensive |h| values, h units.
pub const STEP: f64 = 0.1;

/// Units per candidate of a defensive grid costing at most `spend_us`: the largest call size of which one
/// unit at every point fits, as many units per point as fit. Empty when not even that fits.
pub fn units(set: &CandidateSet, spend_us: f64) -> Vec<u32> {
    let mut out = vec![0u32; set.cands.len()];
    // The candidate |h| nearest to each multiple of STEP.
    let mut mags: Vec<f64> = set.cands.iter().map(|c| c.h).collect();
    mags.dedup();
    let mut points: Vec<f64> = (0..)
        .map(|k| f64::from(k) * STEP)
        .take_while(|&x| x <= set.h_max + 1e-9)
        .filter_map(|x| {
            mags.iter()
                .copied()
                .min_by(|a, b| (a - x).abs().total_cmp(&(b - x).abs()))
        })
        .collect();
    points.dedup();
    let unit_cost = |r: u32| -> f64 {
        points
            .iter()
            .filter_map(|&h| set.cands.iter().find(|c| c.h == h && c.reads == r))
            .map(|c| c.cost_us)
            .sum()
    };
    let Some(&reads) = set.sizes.iter().rev().find(|&&r| unit_cost(r) <= spend_us) else {
        return out;
    };
    let per_point = (spend_us / unit_cost(reads)).floor().max(1.0) as u32;
    for (i, c) in set.cands.iter().enumerate() {
        if c.reads == reads && points.contains(&c.h) {
            out[i] = per_point;
        }
    }
    out
}

/// Information of `units` per prior qubit (added to `base`).
pub fn information(set: &CandidateSet, units: &[u32], base: &mut [Mat4]) {
    for (c, &n) in units.iter().enumerate() {
        if n > 0 {
            for (b, i) in base.iter_mut().zip(&set.info[c]) {
                add_scaled(b, i, f64::from(n));
            }
        }
    }
}
