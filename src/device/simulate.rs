//! A whole single-qubit sweep on the virtual QPU, run the way a real campaign runs (design.md, plan rule):
//!
//! - the h grid is symmetric, `h_k = k · h_step` for `k = -K..=K`, `K = round(h_max / h_step)`;
//! - every programmed h gets `reads` reads in an even number of calls of at most `reads_per_call` reads;
//! - gauges (spin-reversal transforms) come in complementary pairs: call 2p uses a random gauge g and call
//!   2p+1 uses -g, with the same reads, so every qubit sees every physical field exactly `reads` times;
//!   call c at +h and call c at -h share their gauge, so that block c (those two calls) holds the same
//!   number of reads at every physical field;
//! - counts are recorded in the physical frame (the field the qubit saw, the spin it returned).
//!
//! Calls are grouped into `blocks` blocks (call c → block c mod blocks) for the block bootstrap. Pair
//! counts, when asked for, count the reads of a coupler's two qubits in calls where both saw the same
//! physical field (same gauge sign, or h = 0), indexed by that field.
//!
//! Without pair statistics, planted crosstalk or Gaussian per-call noise, the counts of a block at one
//! physical field are drawn in aggregate, exactly (see `VirtualQpu::sample_calls_aggregated`): the
//! physical-frame counts of the gauge-pair scheme do not depend on the gauges drawn.
//!
//! Work runs in parallel over ±h pairs with rayon; each pair has its own RNG stream derived from the seed,
//! so the result does not depend on the number of threads.

use super::qpu::VirtualQpu;
use crate::sweep::{CountMatrix, CouplerAgreement, Sweep, SweepMeta, SweepSource};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// What to simulate.
#[derive(Clone, Debug, PartialEq)]
pub struct SimulationPlan {
    /// Largest |h|, solver h units.
    pub h_max: f64,
    /// Grid step, solver h units.
    pub h_step: f64,
    /// Reads per programmed h value (even).
    pub reads: u32,
    /// Largest reads in one call.
    pub reads_per_call: u32,
    /// Anneal time, microseconds.
    pub anneal_time_us: f64,
    /// Number of per-call blocks to record (0 = none).
    pub blocks: usize,
    /// Random gauge per qubit per call (in complementary pairs).
    pub gauges: bool,
    /// Sample per-read spin vectors (exact for planted couplings) instead of counts.
    pub raw: bool,
    /// Record per (h, coupler) agreement counts.
    pub pairs: bool,
    /// Seed of the sampling.
    pub seed: u64,
}

impl Default for SimulationPlan {
    fn default() -> Self {
        SimulationPlan {
            h_max: 1.0,
            h_step: 0.025,
            reads: 100_000,
            reads_per_call: 10_000,
            anneal_time_us: super::truth::REFERENCE_ANNEAL_TIME_US,
            blocks: 10,
            gauges: true,
            raw: false,
            pairs: false,
            seed: 1,
        }
    }
}

/// A plan that cannot run.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{0}")]
    Invalid(String),
}

impl SimulationPlan {
    /// The symmetric h grid.
    pub fn grid(&self) -> Result<Vec<f64>, PlanError> {
        let bad = |m: String| Err(PlanError::Invalid(m));
        if !(self.h_step.is_finite() && self.h_step > 0.0) {
            return bad(format!(
                "--h-step must be a positive number, got {}",
                self.h_step
            ));
        }
        if !(self.h_max.is_finite() && self.h_max >= 0.0) {
            return bad(format!(
                "--h-max must be a non-negative number, got {}",
                self.h_max
            ));
        }
        let k = (self.h_max / self.h_step).round();
        if k > 100_000.0 {
            return bad(format!(
                "--h-max / --h-step gives {} h values; at most 200001 are allowed",
                2.0 * k + 1.0
            ));
        }
        let k = k as i64;
        Ok((-k..=k)
            .map(|i| if i == 0 { 0.0 } else { i as f64 * self.h_step })
            .collect())
    }

    /// Reads of each call of one programmed h, in call order (pairs of equal reads).
    pub fn calls(&self) -> Result<Vec<u32>, PlanError> {
        if self.reads == 0 || self.reads_per_call == 0 {
            return Err(PlanError::Invalid(
                "--reads and --reads-per-call must be positive".into(),
            ));
        }
        if self.reads % 2 != 0 {
            return Err(PlanError::Invalid(format!(
                "--reads {} must be even: every gauge is matched by its complement with the same reads",
                self.reads
            )));
        }
        if !(self.anneal_time_us.is_finite() && self.anneal_time_us > 0.0) {
            return Err(PlanError::Invalid(format!(
                "--anneal-time-us must be positive, got {}",
                self.anneal_time_us
            )));
        }
        let half = self.reads / 2;
        let n_pairs = half.div_ceil(self.reads_per_call.max(1)).max(1);
        let mut calls = Vec::with_capacity(2 * n_pairs as usize);
        for p in 0..n_pairs {
            let r = half / n_pairs + u32::from(p < half % n_pairs);
            calls.push(r);
            calls.push(r);
        }
        Ok(calls)
    }
}

/// Runs a plan; `progress` receives the number of calls done so far (thread-safe).
pub fn simulate(
    qpu: &VirtualQpu,
    plan: &SimulationPlan,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Sweep, PlanError> {
    let grid = plan.grid()?;
    let calls = plan.calls()?;
    let graph = qpu.graph();
    // Columns in increasing qubit id; `cols[k]` is the graph index of column k.
    let mut cols: Vec<usize> = (0..graph.qubits.len()).collect();
    cols.sort_by_key(|&i| graph.qubits[i]);
    let qubits: Vec<u32> = cols.iter().map(|&i| graph.qubits[i]).collect();
    let n_q = qubits.len();
    if n_q == 0 {
        return Err(PlanError::Invalid("the working graph has no qubits".into()));
    }
    let col_of: std::collections::HashMap<u32, usize> =
        qubits.iter().enumerate().map(|(k, &q)| (q, k)).collect();
    let gidx_of: std::collections::HashMap<u32, usize> = graph
        .qubits
        .iter()
        .enumerate()
        .map(|(i, &q)| (q, i))
        .collect();
    let couplers: Vec<(u32, u32)> = if plan.pairs {
        let mut c: Vec<(u32, u32)> = graph
            .couplers
            .iter()
            .map(|&(u, v)| (u.min(v), u.max(v)))
            .filter(|(u, v)| col_of.contains_key(u) && col_of.contains_key(v))
            .collect();
        c.sort_unstable();
        c.dedup();
        c
    } else {
        Vec::new()
    };
    let pair_gidx: Vec<(usize, usize)> = couplers
        .iter()
        .map(|(u, v)| (gidx_of[u], gidx_of[v]))
        .collect();
    let n_c = couplers.len();
    let n_blocks = plan.blocks.min(calls.len()).max(1);
    let n_h = grid.len();
    let k_max = n_h / 2; // grid[k_max] == 0
    let done = AtomicU64::new(0);
    let aggregated = !plan.raw && !plan.pairs && qpu.supports_aggregated_counts();

    // One task per |h| index: rows (k_max + k) and (k_max - k).
    struct Part {
        k: usize,
        /// [block][row 0 = +h, 1 = -h][column]
        down: Vec<u32>,
        reads: Vec<u32>,
        agree: Vec<u32>,
        pair_reads: Vec<u32>,
    }
    let parts: Vec<Part> = (0..=k_max)
        .into_par_iter()
        .map(|k| {
            let mut rng = Pcg64Mcg::seed_from_u64(
                plan.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (k as u64) << 1 ^ 0x5157,
            );
            let h = grid[k_max + k];
            let mut part = Part {
                k,
                down: vec![0; n_blocks * 2 * n_q],
                reads: vec![0; n_blocks * 2 * n_q],
                agree: vec![0; n_blocks * 2 * n_c],
                pair_reads: vec![0; n_blocks * 2 * n_c],
            };
            let signs: &[f64] = if k == 0 { &[1.0] } else { &[1.0, -1.0] };
            if aggregated {
                // Physical-frame counts do not depend on the gauges: block b holds, at each physical field,
                // exactly one call per call index c ≡ b (mod blocks) (call c at +h and at -h share their gauge).
                let mut block_calls: Vec<Vec<u32>> = vec![Vec::new(); n_blocks];
                for (c, &r) in calls.iter().enumerate() {
                    block_calls[c % n_blocks].push(r);
                }
                for (row, &sign) in signs.iter().enumerate() {
                    let x = sign * h;
                    for (ci, &gi) in cols.iter().enumerate() {
                        let probs = qpu.branch_probabilities(gi, x, plan.anneal_time_us);
                        for (blk, reads_of) in block_calls.iter().enumerate() {
                            let at = (blk * 2 + row) * n_q + ci;
                            part.down[at] =
                                VirtualQpu::sample_calls_aggregated(probs, reads_of, &mut rng);
                            part.reads[at] = reads_of.iter().sum();
                        }
                    }
                    progress(done.fetch_add(calls.len() as u64, Ordering::Relaxed) + 1);
                }
                return part;
            }
            let mut gauge = vec![1i8; graph.qubits.len()];
            let mut agree_buf = vec![0u32; n_c];
            for (c, &r) in calls.iter().enumerate() {
                if plan.gauges {
                    if c % 2 == 0 {
                        for g in gauge.iter_mut() {
                            *g = if rng.random::<bool>() { 1 } else { -1 };
                        }
                    } else {
                        for g in gauge.iter_mut() {
                            *g = -*g;
                        }
                    }
                }
                let blk = c % n_blocks;
                for &sign in signs {
                    let programmed = sign * h;
                    let fields: Vec<f64> =
                        gauge.iter().map(|&g| f64::from(g) * programmed).collect();
                    let (down, agree) =
                        run_call(qpu, &fields, r, plan, &mut rng, &pair_gidx, &mut agree_buf);
                    for (ci, &gi) in cols.iter().enumerate() {
                        // Physical field sign relative to +h: row 0 for +h, 1 for -h.
                        let row = usize::from(f64::from(gauge[gi]) * sign < 0.0 && k != 0);
                        let at = (blk * 2 + row) * n_q + ci;
                        part.down[at] += down[gi];
                        part.reads[at] += r;
                    }
                    if let Some(agree) = agree {
                        for (pi, &(a, b)) in pair_gidx.iter().enumerate() {
                            if gauge[a] != gauge[b] && k != 0 {
                                continue;
                            }
                            let row = usize::from(f64::from(gauge[a]) * sign < 0.0 && k != 0);
                            let at = (blk * 2 + row) * n_c + pi;
                            part.agree[at] += agree[pi];
                            part.pair_reads[at] += r;
                        }
                    }
                    progress(done.fetch_add(1, Ordering::Relaxed) + 1);
                }
            }
            part
        })
        .collect();

    let mut blocks = vec![CountMatrix::zeros(n_h, n_q); n_blocks];
    let mut agree = vec![0u32; n_h * n_c];
    let mut pair_reads = vec![0u32; n_h * n_c];
    for p in &parts {
        let rows = [k_max + p.k, k_max - p.k];
        let n_rows = if p.k == 0 { 1 } else { 2 };
        for (b, block) in blocks.iter_mut().enumerate() {
            for (row, &ih) in rows.iter().enumerate().take(n_rows) {
                let src = (b * 2 + row) * n_q;
                block.down[ih * n_q..(ih + 1) * n_q].copy_from_slice(&p.down[src..src + n_q]);
                block.reads[ih * n_q..(ih + 1) * n_q].copy_from_slice(&p.reads[src..src + n_q]);
                let srcp = (b * 2 + row) * n_c;
                for c in 0..n_c {
                    agree[ih * n_c + c] += p.agree[srcp + c];
                    pair_reads[ih * n_c + c] += p.pair_reads[srcp + c];
                }
            }
        }
    }
    let mut counts = CountMatrix::zeros(n_h, n_q);
    for b in &blocks {
        counts.add(b);
    }
    let mut meta = SweepMeta::new(SweepSource::Simulated);
    meta.solver = Some(
        graph
            .solver_name
            .clone()
            .unwrap_or_else(|| format!("virtual-{}", graph.topology)),
    );
    meta.topology = Some(graph.topology.into());
    meta.anneal_time_us = Some(plan.anneal_time_us);
    meta.gauges = Some(plan.gauges);
    meta.seed = Some(plan.seed);
    meta.parameters.insert("auto_scale".into(), false.into());
    meta.parameters
        .insert("flux_drift_compensation".into(), false.into());
    meta.parameters
        .insert("annealing_time".into(), plan.anneal_time_us.into());
    meta.parameters
        .insert("num_reads".into(), plan.reads_per_call.into());
    Ok(Sweep {
        meta,
        h: grid,
        qubits,
        counts,
        blocks: if plan.blocks == 0 { Vec::new() } else { blocks },
        pairs: plan.pairs.then_some(CouplerAgreement {
            couplers,
            agree,
            reads: pair_reads,
        }),
    })
}

/// One call: per-qubit down counts (graph order) and, when pairs are recorded, per-pair agree counts.
fn run_call<'a>(
    qpu: &VirtualQpu,
    fields: &[f64],
    reads: u32,
    plan: &SimulationPlan,
    rng: &mut Pcg64Mcg,
    pairs: &[(usize, usize)],
    agree_buf: &'a mut [u32],
) -> (Vec<u32>, Option<&'a [u32]>) {
    if plan.raw {
        let raw = qpu.sample_raw(fields, reads as usize, plan.anneal_time_us, rng);
        let n = qpu.graph().qubits.len();
        let mut col = vec![usize::MAX; n];
        for (k, &i) in raw.active.iter().enumerate() {
            col[i] = k;
        }
        let w = raw.active.len();
        let mut down = vec![0u32; n];
        for read in raw.spins.chunks_exact(w.max(1)) {
            for (k, &s) in read.iter().enumerate() {
                down[raw.active[k]] += u32::from(s < 0);
            }
        }
        if plan.pairs {
            for (slot, &(a, b)) in agree_buf.iter_mut().zip(pairs) {
                let (ka, kb) = (col[a], col[b]);
                *slot = if ka == usize::MAX || kb == usize::MAX {
                    0
                } else {
                    raw.spins.chunks_exact(w).filter(|r| r[ka] == r[kb]).count() as u32
                };
            }
            return (down, Some(agree_buf));
        }
        (down, None)
    } else if plan.pairs {
        let down = qpu.sample_counts(
            fields,
            reads,
            plan.anneal_time_us,
            rng,
            pairs,
            Some(agree_buf),
        );
        (down, Some(agree_buf))
    } else {
        (
            qpu.sample_counts(fields, reads, plan.anneal_time_us, rng, &[], None),
            None,
        )
    }
}
