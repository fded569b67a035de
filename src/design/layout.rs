//! From units to calls: the plan of a design (docs/design.md).
//!
//! - Grid: ±|h| of every |h| with units (and 0 when used), ascending.
//! - Units at |h| > 0, numbered p = 0, 1, … over the call sizes of that |h| (largest first): each is a gauge
//!   pair as `qasa plan` lays them out, a call at +|h| and one at −|h| with the same fresh random mask
//!   (stream `(seed, 1000 + |h| index, p)`), so that each qubit sees +|h| in one and −|h| in the other.
//!   Without gauges, the same two calls without a mask. Both calls go to block p: every block cell with
//!   reads then holds one call (cells of an |h| with fewer units stay empty), which lets the fit use the
//!   per-call likelihood (`meta.calls_per_block = 1`).
//! - Calls at h = 0 (no gauge needed): call i in block i.
//! - Order: round p takes unit p of every |h| (ascending), so a campaign stopped early has data across the
//!   whole grid.

use super::candidates::CandidateSet;
use crate::collect::build::draw_mask;
use crate::collect::plan::{Call, Gauges, Plan};

/// Sets the grid, blocks, gauges and calls of `plan` (a frame) from units per candidate.
pub fn lay_out(plan: &mut Plan, set: &CandidateSet, units: &[u32], gauges: bool) {
    // |h| (as found in the candidate set, ascending) → call sizes, largest first.
    let mut by_h: Vec<(f64, Vec<u32>)> = Vec::new();
    for (c, &n) in set.cands.iter().zip(units) {
        if n == 0 {
            continue;
        }
        let entry = match by_h.iter_mut().find(|(h, _)| *h == c.h) {
            Some(e) => e,
            None => {
                by_h.push((c.h, Vec::new()));
                let last = by_h.len() - 1;
                &mut by_h[last]
            }
        };
        entry.1.extend(std::iter::repeat_n(c.reads, n as usize));
    }
    by_h.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (_, sizes) in &mut by_h {
        sizes.sort_unstable_by(|a, b| b.cmp(a));
    }
    let mut grid: Vec<f64> = by_h
        .iter()
        .flat_map(|&(h, _)| if h == 0.0 { vec![0.0] } else { vec![-h, h] })
        .collect();
    grid.sort_by(f64::total_cmp);
    let n_q = plan.qubits.len();
    let mut masks = Vec::new();
    let mut calls = Vec::new();
    let rounds = by_h.iter().map(|(_, s)| s.len()).max().unwrap_or(0);
    for p in 0..rounds {
        for (k, (h, sizes)) in by_h.iter().enumerate() {
            let Some(&reads) = sizes.get(p) else { continue };
            let block = Some(p as u32);
            let call = |h: f64, gauge: Option<u32>, flip: bool| Call {
                h,
                reads,
                gauge,
                flip,
                block,
                estimated_qpu_us: 0.0,
            };
            if *h == 0.0 {
                calls.push(call(0.0, None, false));
            } else if gauges {
                masks.push(draw_mask(plan.seed, 1000 + k as u64, p as u64, n_q));
                let g = Some((masks.len() - 1) as u32);
                calls.push(call(*h, g, false));
                calls.push(call(-*h, g, false));
            } else {
                calls.push(call(*h, None, false));
                calls.push(call(-*h, None, false));
            }
        }
    }
    plan.h = grid;
    plan.blocks = rounds as u32;
    plan.gauges = gauges.then_some(Gauges {
        seed: plan.seed,
        masks,
    });
    plan.calls = calls;
}
