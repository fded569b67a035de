//! Building a plan from its settings (the `qasa plan` / `qasa simulate` flags), checked against the
//! solver's limits before anything runs (style.md §3: parse, validate into a plan, then act).
//!
//! - Reads: every programmed h gets `reads` reads in an even number of calls of at most `reads_per_call`,
//!   `2P` calls with `P = ⌈reads / 2 / reads_per_call⌉`, pair p holding two calls of
//!   `⌊(reads/2) / P⌋` or one more reads (the first `(reads/2) mod P` pairs).
//! - Gauges: per |h| value and pair p one random mask (seeded by `(seed, |h| index, p)`); call 2p uses it,
//!   call 2p+1 its complement, and the calls at +h and -h with the same index share it. h = 0 needs no gauge.
//! - Blocks: call index c (within its h) goes to block `c mod blocks`.
//! - Order: call index first, then h ascending, so an interrupted campaign has whole blocks at every h.
//! - Limits ([`SolverLimits`]): every |h| within `h_range` (auto_scale is off), the anneal time within
//!   `annealing_time_range`, reads per call within `num_reads_range` and within the run-duration limit
//!   `(annealing_time + readout_thermalization) · num_reads + programming_thermalization ≤
//!   problem_run_duration_range[1]` (defaults of the record for the thermalizations), and every parameter
//!   sent listed in the record's `parameters`. A violation names the limit and the largest value that fits.

use super::cost::{wall_time_s, CallTiming};
use super::error::PlanError;
use super::grid::{self, GridSpec};
use super::limits::SolverLimits;
use super::plan::{
    graph_sha256, mask_of_bytes, Call, Estimate, Gauges, Plan, PlanSolver, SolverSource, FORMAT,
    VERSION,
};
use crate::topology::{Topology, WorkingGraph};
use rand::{RngCore, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde_json::{Map, Value};

/// Largest number of calls of a plan.
pub const MAX_CALLS: u64 = 1_000_000;

/// The settings a plan is built from (the command-line flags).
#[derive(Clone, Debug, PartialEq)]
pub struct PlanSpec {
    /// Largest |h| of the stepped grid, h units (ignored when `h_values` is given).
    pub h_max: f64,
    /// Step of the grid, h units.
    pub h_step: f64,
    /// Explicit h values instead of the stepped grid.
    pub h_values: Option<Vec<f64>>,
    /// Reads per programmed h value (even: gauges come in complementary pairs).
    pub reads: u32,
    /// Largest reads in one call.
    pub reads_per_call: u32,
    /// Anneal time, µs.
    pub anneal_time_us: f64,
    /// Per-call blocks of the sweep (0 = none); at most the number of calls per h value.
    pub blocks: usize,
    /// Random gauges in complementary pairs.
    pub gauges: bool,
    /// `flux_drift_compensation` sent with every call (the reference protocol: false).
    pub flux_drift_compensation: bool,
    /// Seed of the gauges (and of the virtual QPU's sampling).
    pub seed: u64,
    /// Virtual QPU only ([`super::simulate`]): sample per-read spin vectors instead of counts.
    pub raw: bool,
    /// Executors: also record per (h, coupler) agreement counts.
    pub pairs: bool,
}

impl Default for PlanSpec {
    fn default() -> Self {
        PlanSpec {
            h_max: 1.0,
            h_step: 0.025,
            h_values: None,
            reads: 100_000,
            reads_per_call: 10_000,
            anneal_time_us: crate::device::truth::REFERENCE_ANNEAL_TIME_US,
            blocks: 10,
            gauges: true,
            flux_drift_compensation: false,
            seed: 1,
            raw: false,
            pairs: false,
        }
    }
}

impl PlanSpec {
    /// The h grid spec.
    pub fn grid_spec(&self) -> GridSpec {
        match &self.h_values {
            Some(v) => GridSpec::Values(v.clone()),
            None => GridSpec::Step {
                h_max: self.h_max,
                h_step: self.h_step,
            },
        }
    }

    /// The physical h grid.
    pub fn grid(&self) -> Result<Vec<f64>, PlanError> {
        grid::build(&self.grid_spec(), self.gauges)
    }

    /// Reads of each call of one programmed h, in call order (pairs of equal reads).
    pub fn calls(&self) -> Result<Vec<u32>, PlanError> {
        if self.reads == 0 {
            return Err(PlanError::NotPositive {
                what: "reads per h value",
                value: 0.0,
            });
        }
        if self.reads_per_call == 0 {
            return Err(PlanError::NotPositive {
                what: "reads per call",
                value: 0.0,
            });
        }
        if self.reads % 2 != 0 {
            return Err(PlanError::OddReads { reads: self.reads });
        }
        let half = self.reads / 2;
        let n_pairs = half.div_ceil(self.reads_per_call).max(1);
        Ok((0..n_pairs)
            .flat_map(|p| {
                let r = half / n_pairs + u32::from(p < half % n_pairs);
                [r, r]
            })
            .collect())
    }
}

/// What a plan is made for.
#[derive(Clone, Debug)]
pub struct Target<'a> {
    pub solver: String,
    pub graph_id: Option<String>,
    pub source: SolverSource,
    pub graph: &'a WorkingGraph,
    pub limits: &'a SolverLimits,
}

fn check_anneal(t: f64, limits: &SolverLimits) -> Result<(), PlanError> {
    if !(t.is_finite() && t > 0.0) {
        return Err(PlanError::NotPositive {
            what: "anneal time",
            value: t,
        });
    }
    if let Some((lo, hi)) = limits.annealing_time_range {
        if t < lo || t > hi {
            let (side, fits) = if t < lo {
                ("smallest", lo)
            } else {
                ("largest", hi)
            };
            return Err(PlanError::AnnealOutOfRange {
                t,
                lo,
                hi,
                solver: limits.solver.clone(),
                side,
                fits,
            });
        }
    }
    Ok(())
}

fn check_reads(anneal_us: f64, calls: &[u32], limits: &SolverLimits) -> Result<(), PlanError> {
    let largest = calls.iter().copied().max().unwrap_or(0);
    let smallest = calls.iter().copied().min().unwrap_or(0);
    if let Some((lo, hi)) = limits.num_reads_range {
        if u64::from(largest) > hi || u64::from(smallest) < lo {
            let reads = if u64::from(largest) > hi {
                largest
            } else {
                smallest
            };
            return Err(PlanError::ReadsOutOfRange {
                reads,
                lo,
                hi,
                solver: limits.solver.clone(),
            });
        }
    }
    if let Some(limit_us) = limits.max_run_duration_us {
        let per_read = anneal_us + limits.default_readout_thermalization_us;
        let prog = limits.default_programming_thermalization_us;
        let duration_us = per_read * f64::from(largest) + prog;
        if duration_us > limit_us {
            return Err(PlanError::RunDuration {
                reads: largest,
                anneal_us,
                duration_us,
                limit_us,
                solver: limits.solver.clone(),
                largest: ((limit_us - prog) / per_read).floor().max(0.0) as u64,
            });
        }
    }
    Ok(())
}

fn check_h(grid: &[f64], limits: &SolverLimits) -> Result<(), PlanError> {
    if let Some((lo, hi)) = limits.h_range {
        if let Some(&h) = grid.iter().find(|&&h| h < lo || h > hi) {
            return Err(PlanError::HOutOfRange {
                h: if h < lo { -h } else { h },
                lo,
                hi,
                solver: limits.solver.clone(),
                largest: (-lo).min(hi).max(0.0),
            });
        }
    }
    Ok(())
}

fn parameters(
    anneal_time_us: f64,
    flux_drift_compensation: bool,
    limits: &SolverLimits,
) -> Result<Map<String, Value>, PlanError> {
    let mut p = Map::new();
    p.insert("annealing_time".into(), anneal_time_us.into());
    p.insert("auto_scale".into(), false.into());
    p.insert(
        "flux_drift_compensation".into(),
        flux_drift_compensation.into(),
    );
    if let Some(known) = &limits.parameters {
        let sent = p.keys().map(String::as_str).chain(["num_reads"]);
        if let Some(missing) = sent.into_iter().find(|k| !known.contains(*k)) {
            return Err(PlanError::Parameter {
                param: missing.to_string(),
                solver: limits.solver.clone(),
            });
        }
    }
    Ok(p)
}

/// SplitMix64 of (seed, a, b): independent gauge streams.
pub(crate) fn stream(seed: u64, a: u64, b: u64) -> u64 {
    let mut z =
        seed ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A random gauge mask over `n_qubits` qubits from stream `(seed, a, b)`; pad bits are zero.
pub(crate) fn draw_mask(seed: u64, a: u64, b: u64, n_qubits: usize) -> String {
    let mut rng = Pcg64Mcg::seed_from_u64(stream(seed, a, b));
    let mut bytes = vec![0u8; n_qubits.div_ceil(8)];
    rng.fill_bytes(&mut bytes);
    if n_qubits % 8 != 0 {
        if let Some(last) = bytes.last_mut() {
            *last &= 0xFFu8 << (8 - n_qubits % 8);
        }
    }
    mask_of_bytes(&bytes)
}

/// One mask per (positive h, pair), index `k · pairs + p` for the k-th positive h.
fn draw_gauges(seed: u64, n_positive: usize, n_pairs: usize, n_qubits: usize) -> Gauges {
    let masks = (0..n_positive)
        .flat_map(|k| (0..n_pairs).map(move |p| (k, p)))
        .map(|(k, p)| draw_mask(seed, k as u64 + 1, p as u64, n_qubits))
        .collect();
    Gauges { seed, masks }
}

/// The calls in submission order: call index, then h ascending.
fn lay_out(grid: &[f64], reads: &[u32], gauges: bool, blocks: usize, n_pairs: usize) -> Vec<Call> {
    let positive: Vec<f64> = grid.iter().copied().filter(|&h| h > 0.0).collect();
    let mut calls = Vec::with_capacity(grid.len() * reads.len());
    for (c, &r) in reads.iter().enumerate() {
        for &h in grid {
            let k = positive.iter().position(|&x| x == h.abs());
            let gauge = match k {
                Some(k) if gauges => Some((k * n_pairs + c / 2) as u32),
                _ => None,
            };
            calls.push(Call {
                h,
                reads: r,
                flip: gauge.is_some() && c % 2 == 1,
                gauge,
                block: (blocks > 0).then(|| (c % blocks) as u32),
                estimated_qpu_us: 0.0,
            });
        }
    }
    calls
}

impl Plan {
    /// Builds and checks a plan; `in_flight` only enters the wall-time estimate.
    pub fn build(
        spec: &PlanSpec,
        target: &Target<'_>,
        in_flight: usize,
    ) -> Result<Plan, PlanError> {
        let grid = spec.grid()?;
        let reads = spec.calls()?;
        if spec.blocks > reads.len() {
            return Err(PlanError::TooManyBlocks {
                blocks: spec.blocks,
                calls_per_h: reads.len(),
                reads: spec.reads,
                reads_per_call: spec.reads_per_call,
            });
        }
        let n_calls = grid.len() as u64 * reads.len() as u64;
        if n_calls > MAX_CALLS {
            return Err(PlanError::TooManyCalls {
                calls: n_calls,
                max: MAX_CALLS,
            });
        }
        check_h(&grid, target.limits)?;
        check_anneal(spec.anneal_time_us, target.limits)?;
        check_reads(spec.anneal_time_us, &reads, target.limits)?;
        let mut plan = Plan::frame(
            target,
            spec.anneal_time_us,
            spec.flux_drift_compensation,
            spec.seed,
        )?;
        let n_pairs = reads.len() / 2;
        let n_positive = grid.iter().filter(|&&h| h > 0.0).count();
        plan.gauges = spec
            .gauges
            .then(|| draw_gauges(spec.seed, n_positive, n_pairs, plan.qubits.len()));
        plan.calls = lay_out(&grid, &reads, spec.gauges, spec.blocks, n_pairs);
        plan.h = grid;
        plan.blocks = spec.blocks as u32;
        plan.seal(target.limits, in_flight)?;
        Ok(plan)
    }

    /// A plan for `target` without grid, gauges or calls: solver, graph, anneal time, parameters and seed,
    /// checked against the solver's limits. Designs that lay out their own calls start here, set `h`,
    /// `blocks`, `gauges` and `calls`, and finish with [`Plan::seal`].
    pub fn frame(
        target: &Target<'_>,
        anneal_time_us: f64,
        flux_drift_compensation: bool,
        seed: u64,
    ) -> Result<Plan, PlanError> {
        check_anneal(anneal_time_us, target.limits)?;
        let parameters = parameters(anneal_time_us, flux_drift_compensation, target.limits)?;
        let mut qubits = target.graph.qubits.clone();
        qubits.sort_unstable();
        qubits.dedup();
        if qubits.is_empty() {
            return Err(PlanError::NoQubits);
        }
        let mut couplers: Vec<[u32; 2]> = target
            .graph
            .couplers
            .iter()
            .map(|&(u, v)| [u.min(v), u.max(v)])
            .collect();
        couplers.sort_unstable();
        couplers.dedup();
        Ok(Plan {
            format: FORMAT.into(),
            version: VERSION,
            tool_version: crate::TOOL_VERSION.into(),
            sha256: String::new(),
            solver: PlanSolver {
                name: target.solver.clone(),
                graph_id: target.graph_id.clone(),
                source: target.source,
                topology: target.graph.topology.into(),
            },
            graph_sha256: graph_sha256(&qubits, &couplers),
            qubits,
            couplers,
            h: Vec::new(),
            anneal_time_us,
            parameters,
            blocks: 0,
            gauges: None,
            seed,
            estimate: Estimate {
                timing_model: String::new(),
                qubits_per_call: 0,
                estimated_wall_s: 0.0,
                in_flight: 1,
            },
            calls: Vec::new(),
            estimated_qpu_s: 0.0,
            precision: None,
            design: None,
        })
    }

    /// Finishes a plan whose calls are set (by [`Plan::build`], or by any other design of calls): checks
    /// every call against the solver's limits (h range, reads range, run duration, anneal time), sets
    /// each call's estimated QPU time, the total and the wall-time estimate for `in_flight` calls in
    /// flight, the expected precision at the family's typical values, and the sha256.
    pub fn seal(&mut self, limits: &SolverLimits, in_flight: usize) -> Result<(), PlanError> {
        if self.calls.is_empty() {
            return Err(PlanError::NoCalls);
        }
        let reads: Vec<u32> = self.calls.iter().map(|c| c.reads).collect();
        check_h(&self.h, limits)?;
        check_anneal(self.anneal_time_us, limits)?;
        check_reads(self.anneal_time_us, &reads, limits)?;
        let model = &limits.timing;
        let m = self.qubits.len();
        for c in &mut self.calls {
            c.estimated_qpu_us = model.access_time_us(&CallTiming {
                num_qubits: m,
                num_reads: u64::from(c.reads),
                annealing_time_us: Some(self.anneal_time_us),
                ..Default::default()
            });
        }
        self.estimated_qpu_s = self.calls.iter().map(|c| c.estimated_qpu_us).sum::<f64>() * 1e-6;
        self.estimate = Estimate {
            timing_model: if model.from_record {
                "problem_timing_data".into()
            } else {
                "fallback_dw_2000q_6".into()
            },
            qubits_per_call: m,
            estimated_wall_s: wall_time_s(self.estimated_qpu_s, self.calls.len(), in_flight),
            in_flight: in_flight.max(1),
        };
        let family =
            Topology::from_type_shape(&self.solver.topology.kind, &self.solver.topology.shape)?
                .family();
        let at = super::precision::typical_params(family, self.anneal_time_us);
        self.precision = Some(super::precision::expected(self, at));
        self.sha256 = self.content_sha256();
        Ok(())
    }
}
