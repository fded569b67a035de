//! The reference protocol (docs/physics.md §1; Nelson et al. 2021): 81 evenly spaced h in [−1, 1], 10^6
//! reads per h value, in calls of 10^4 reads, gauges in complementary pairs. qasa records it the way
//! `qasa plan` does by default (one block per call, so the fit can use the per-call likelihood) or, with
//! `pooled`, as the reference script does (pooled counts per h, as in a QASA `spin_table.csv`; the fit then
//! uses the per-read likelihood with robust errors).

use crate::collect::build::PlanSpec;

/// Largest |h| of the reference grid.
pub const H_MAX: f64 = 1.0;
/// Step of the reference grid.
pub const H_STEP: f64 = 0.025;
/// Reads per h value.
pub const READS: u32 = 1_000_000;
/// Reads per call.
pub const READS_PER_CALL: u32 = 10_000;

/// The reference protocol as plan settings; `largest_call` caps its calls at what the solver allows.
pub fn spec(
    anneal_time_us: f64,
    flux_drift_compensation: bool,
    seed: u64,
    gauges: bool,
    pooled: bool,
    largest_call: u32,
) -> PlanSpec {
    let reads_per_call = READS_PER_CALL.min(largest_call).max(1);
    let mut spec = PlanSpec {
        h_max: H_MAX,
        h_step: H_STEP,
        h_values: None,
        reads: READS,
        reads_per_call,
        anneal_time_us,
        blocks: 0,
        gauges,
        flux_drift_compensation,
        seed,
        raw: false,
        pairs: false,
    };
    if !pooled {
        spec.blocks = spec.calls().map_or(0, |c| c.len());
    }
    spec
}

/// The protocol in words.
pub fn describe(pooled: bool, reads_per_call: u32) -> String {
    format!(
        "reference: 81 h in [-1, 1] step 0.025, 10^6 reads per h in calls of {reads_per_call}, {}",
        if pooled {
            "pooled counts per h (as the QASA script keeps them)"
        } else {
            "one block per call (qasa's default recording)"
        }
    )
}
