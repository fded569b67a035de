//! The calls an optimised plan is made of: a *unit* is, at one |h| on the candidate grid, a gauge pair of
//! calls of r reads (a random gauge and its complement, so every qubit sees +|h| once and −|h| once; with
//! gauges off, one call at +|h| and one at −|h|), or a single call at h = 0. Per unit: its QPU cost
//! (the solver's timing model, [`crate::collect::cost`]) and, per prior qubit, its information under the
//! per-call likelihood ([`crate::collect::information`]).
//!
//! Candidate |h|: multiples of the step up to `h_max` (and within `h_range`). Candidate call sizes:
//! [`CALL_SIZES`] within the solver's `num_reads_range`, the run-duration limit and `--reads-per-call`,
//! plus the largest size that fits. The size of a call is a design variable: under per-call noise short
//! calls shrink the shared-noise penalty but pay the programming time more often.

use super::error::DesignError;
use super::prior::Prior;
use crate::collect::cost::CallTiming;
use crate::collect::information::{add_scaled, call_information, Mat4};
use crate::collect::plan::Plan;
use crate::collect::SolverLimits;
use rayon::prelude::*;

/// Call sizes (reads per call) the optimiser may use, besides the largest that fits.
pub const CALL_SIZES: [u32; 12] = [
    10, 20, 50, 100, 200, 500, 1000, 2000, 3000, 5000, 7000, 10_000,
];

/// One candidate unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candidate {
    /// |h| of the unit, h units.
    pub h: f64,
    /// Reads per call.
    pub reads: u32,
    /// Calls in the unit (2 for a pair at ±|h|, 1 at h = 0).
    pub calls: u32,
    /// Estimated QPU access time of the unit, µs.
    pub cost_us: f64,
}

/// The candidates with, per candidate and prior qubit, the information of one unit.
#[derive(Clone, Debug)]
pub struct CandidateSet {
    pub cands: Vec<Candidate>,
    /// `info[c][j]`: information of one unit of candidate c about prior qubit j.
    pub info: Vec<Vec<Mat4>>,
    pub h_step: f64,
    pub h_max: f64,
    pub sizes: Vec<u32>,
}

/// Settings of the candidate set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CandidateSpec {
    pub h_max: f64,
    pub h_step: f64,
    /// Largest reads per call the user allows.
    pub max_reads_per_call: u32,
    /// Smallest reads per call the user allows (fewer, longer calls: fewer per-call blocks).
    pub min_reads_per_call: u32,
}

/// Call sizes allowed by the limits and the user's cap.
pub fn call_sizes(
    limits: &SolverLimits,
    anneal_us: f64,
    cap: u32,
    floor: u32,
) -> Result<Vec<u32>, DesignError> {
    let (lo, hi) = limits.num_reads_range.unwrap_or((1, u64::from(u32::MAX)));
    let mut largest = hi.min(u64::from(cap));
    if let Some(limit_us) = limits.max_run_duration_us {
        let per_read = anneal_us + limits.default_readout_thermalization_us;
        let fits = ((limit_us - limits.default_programming_thermalization_us) / per_read).floor();
        largest = largest.min(fits.max(0.0) as u64);
    }
    let lo = lo.max(1).max(u64::from(floor));
    if largest < lo {
        return Err(DesignError::NoCallSize {
            reason: format!(
                "{} allows {} to {hi} reads per call, the run-duration limit and --reads-per-call {cap} leave at most {largest}, --min-reads-per-call asks for at least {floor}",
                limits.solver,
                limits.num_reads_range.map_or(1, |r| r.0)
            ),
        });
    }
    let largest = largest as u32;
    let mut v: Vec<u32> = CALL_SIZES
        .iter()
        .copied()
        .filter(|&r| u64::from(r) >= lo && r <= largest)
        .chain([largest])
        .collect();
    v.sort_unstable();
    v.dedup();
    Ok(v)
}

/// The candidate |h| values.
fn magnitudes(spec: &CandidateSpec, limits: &SolverLimits) -> Result<Vec<f64>, DesignError> {
    let grid = crate::collect::grid::stepped(spec.h_max, spec.h_step)?;
    let cap = limits
        .h_range
        .map_or(f64::INFINITY, |(lo, hi)| (-lo).min(hi));
    let v: Vec<f64> = grid.into_iter().filter(|&h| h >= 0.0 && h <= cap).collect();
    if v.len() < 3 {
        return Err(DesignError::NoCandidates {
            reason: format!(
                "{} |h| value(s) between 0 and {} in steps of {} within h_range; widen --h-max or refine --h-step",
                v.len(),
                spec.h_max.min(cap),
                spec.h_step
            ),
        });
    }
    Ok(v)
}

/// Builds the candidate set for a plan frame (its qubits, anneal time) and a prior.
pub fn build(
    frame: &Plan,
    limits: &SolverLimits,
    prior: &Prior,
    spec: &CandidateSpec,
) -> Result<CandidateSet, DesignError> {
    let sizes = call_sizes(
        limits,
        frame.anneal_time_us,
        spec.max_reads_per_call,
        spec.min_reads_per_call,
    )?;
    let mags = magnitudes(spec, limits)?;
    let m = frame.qubits.len();
    let cost = |r: u32| {
        limits.timing.access_time_us(&CallTiming {
            num_qubits: m,
            num_reads: u64::from(r),
            annealing_time_us: Some(frame.anneal_time_us),
            ..Default::default()
        })
    };
    let cands: Vec<Candidate> = mags
        .iter()
        .flat_map(|&h| sizes.iter().map(move |&r| (h, r)))
        .map(|(h, r)| {
            let calls = if h == 0.0 { 1 } else { 2 };
            Candidate {
                h,
                reads: r,
                calls,
                cost_us: f64::from(calls) * cost(r),
            }
        })
        .collect();
    let info: Vec<Vec<Mat4>> = cands
        .par_iter()
        .map(|c| {
            prior
                .qubits
                .iter()
                .map(|q| {
                    let mut i = call_information(prior.law, &q.params, c.h, c.reads);
                    if c.h != 0.0 {
                        add_scaled(
                            &mut i,
                            &call_information(prior.law, &q.params, -c.h, c.reads),
                            1.0,
                        );
                    }
                    i
                })
                .collect()
        })
        .collect();
    Ok(CandidateSet {
        cands,
        info,
        h_step: spec.h_step,
        h_max: mags.last().copied().unwrap_or(0.0),
        sizes,
    })
}
