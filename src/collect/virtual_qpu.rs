//! The virtual-QPU executor: runs a [`Plan`] on [`VirtualQpu`] (`qasa simulate`), call by call as SAPI
//! would, and records the counts in the physical frame through the same [`SweepBuilder`] as the SAPI
//! executor.
//!
//! Two ways to sample, with the same distribution:
//!
//! - **Per call** (always valid): each call programs the plan's fields `h · g_q` and draws its counts (or
//!   per-read spins with `raw`, and pair agreements with `pairs`); the counts go through
//!   [`SweepBuilder::add_call`].
//! - **Aggregated** (no pair statistics, no planted crosstalk, no Gaussian per-call noise, and a balanced
//!   plan): the physical-frame counts of a block at one field do not depend on the gauges, because each
//!   qubit sees one call of every ±h partner pair there. The total over the block's calls is drawn at once
//!   and exactly ([`VirtualQpu::sample_calls_aggregated`]).
//!
//! Work runs in parallel over |h| values; each has its own RNG stream derived from the plan's seed, so the
//! result does not depend on the number of threads.

use super::accumulate::{sweep_meta, CallCounts, SweepBuilder};
use super::build::{PlanSpec, Target};
use super::error::PlanError;
use super::limits::SolverLimits;
use super::plan::{Call, Plan, SolverSource};
use crate::device::VirtualQpu;
use crate::sweep::{Sweep, SweepSource};
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// How the virtual QPU samples.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VirtualOptions {
    /// Sample per-read spin vectors (slow; exact for planted crosstalk) instead of counts.
    pub raw: bool,
    /// Record per (h, coupler) agreement counts.
    pub pairs: bool,
}

/// Builds a plan from `spec` on the device's own graph (no solver limits) and runs it: the short way for
/// tests and benchmarks. `spec.raw` and `spec.pairs` choose the sampling.
pub fn simulate(
    qpu: &VirtualQpu,
    spec: &PlanSpec,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Sweep, PlanError> {
    let graph = qpu.graph();
    let name = graph
        .solver_name
        .clone()
        .unwrap_or_else(|| format!("virtual-{}", graph.topology));
    let limits = SolverLimits::unlimited(&name);
    let target = Target {
        solver: name,
        graph_id: None,
        source: SolverSource::Topology,
        graph,
        limits: &limits,
    };
    let plan = Plan::build(spec, &target, 1)?;
    let opts = VirtualOptions {
        raw: spec.raw,
        pairs: spec.pairs,
    };
    run_virtual(qpu, &plan, &opts, progress)
}

/// Runs `plan` on `qpu`; `progress` receives the number of calls done so far (thread-safe).
pub fn run_virtual(
    qpu: &VirtualQpu,
    plan: &Plan,
    opts: &VirtualOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Sweep, PlanError> {
    let gidx = graph_indices(qpu, plan)?;
    let mut builder = SweepBuilder::new(plan, opts.pairs);
    let groups = magnitude_groups(plan);
    let aggregated = !opts.raw && !opts.pairs && qpu.supports_aggregated_counts();
    match aggregated.then(|| balanced_cells(plan)).flatten() {
        Some(cells) => {
            run_aggregated(qpu, plan, &gidx, &cells, &mut builder, progress);
            builder.mark_all_done();
        }
        None => run_per_call(qpu, plan, opts, &gidx, &groups, &mut builder, progress)?,
    }
    Ok(builder.finish(sweep_meta(plan, SweepSource::Simulated)))
}

/// The device's graph index of every plan column.
fn graph_indices(qpu: &VirtualQpu, plan: &Plan) -> Result<Vec<usize>, PlanError> {
    let of: HashMap<u32, usize> = qpu
        .graph()
        .qubits
        .iter()
        .enumerate()
        .map(|(i, &q)| (q, i))
        .collect();
    plan.qubits
        .iter()
        .map(|&qubit| {
            of.get(&qubit)
                .copied()
                .ok_or(PlanError::NotInDevice { qubit })
        })
        .collect()
}

/// The stream seed of |h| group k (as `qasa simulate` has always drawn it).
fn group_seed(seed: u64, k: usize) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ ((k as u64) << 1) ^ 0x5157
}

/// Call indices grouped by |h| (ascending |h|, plan order within a group).
fn magnitude_groups(plan: &Plan) -> Vec<Vec<usize>> {
    let mut mags: Vec<f64> = plan.h.iter().map(|h| h.abs()).collect();
    mags.sort_by(f64::total_cmp);
    mags.dedup();
    let mut groups = vec![Vec::new(); mags.len()];
    for (i, c) in plan.calls.iter().enumerate() {
        if let Ok(k) = mags.binary_search_by(|m| m.total_cmp(&c.h.abs())) {
            groups[k].push(i);
        }
    }
    groups
}

/// Reads of the calls each qubit sees per (row, block), in plan order, when the plan is balanced (every
/// gauged call at h ≠ 0 has a partner at -h with the same gauge, flip, reads and block); `None` otherwise.
fn balanced_cells(plan: &Plan) -> Option<Vec<Vec<Vec<u32>>>> {
    let n_blocks = (plan.blocks as usize).max(1);
    let mut cells = vec![vec![Vec::new(); n_blocks]; plan.h.len()];
    // A partner pair: |h|, gauge, flip, reads, block.
    type Partner = (u64, Option<u32>, bool, u32, Option<u32>);
    let key = |c: &Call| (c.gauge, c.flip, c.reads, c.block);
    let mut partners: HashMap<Partner, i64> = HashMap::new();
    for c in &plan.calls {
        let b = c.block.unwrap_or(0) as usize;
        let row = plan.row_of(c.h)?;
        if c.gauge.is_some() && c.h != 0.0 {
            let (g, f, r, bl) = key(c);
            *partners
                .entry((c.h.abs().to_bits(), g, f, r, bl))
                .or_default() += if c.h > 0.0 { 1 } else { -1 };
            if c.h > 0.0 {
                cells[row][b].push(c.reads);
                cells[plan.row_of(-c.h)?][b].push(c.reads);
            }
        } else {
            cells[row][b].push(c.reads);
        }
    }
    partners.values().all(|&n| n == 0).then_some(cells)
}

/// Aggregated sampling: per |h| group, per row and block, every qubit's total over the block's calls.
fn run_aggregated(
    qpu: &VirtualQpu,
    plan: &Plan,
    gidx: &[usize],
    cells: &[Vec<Vec<u32>>],
    builder: &mut SweepBuilder<'_>,
    progress: &(dyn Fn(u64) + Sync),
) {
    let done = AtomicU64::new(0);
    let mut mags: Vec<f64> = plan.h.iter().map(|h| h.abs()).collect();
    mags.sort_by(f64::total_cmp);
    mags.dedup();
    // Calls programmed at each row's h (for the progress count).
    let mut programmed = vec![0u64; plan.h.len()];
    for c in &plan.calls {
        if let Some(r) = plan.row_of(c.h) {
            programmed[r] += 1;
        }
    }
    // Per group: (row, block, down per column).
    let parts: Vec<Vec<(usize, usize, Vec<u32>)>> = mags
        .par_iter()
        .enumerate()
        .map(|(k, &m)| {
            let mut rng = Pcg64Mcg::seed_from_u64(group_seed(plan.seed, k));
            let mut out = Vec::new();
            let signs: &[f64] = if m == 0.0 { &[1.0] } else { &[1.0, -1.0] };
            for &sign in signs {
                let x = sign * m;
                let Some(row) = plan.row_of(x) else { continue };
                let mut down = vec![vec![0u32; gidx.len()]; cells[row].len()];
                for (col, &gi) in gidx.iter().enumerate() {
                    let probs = qpu.branch_probabilities(gi, x, plan.anneal_time_us);
                    for (b, reads_of) in cells[row].iter().enumerate() {
                        down[b][col] =
                            VirtualQpu::sample_calls_aggregated(probs, reads_of, &mut rng);
                    }
                }
                out.extend(down.into_iter().enumerate().map(|(b, d)| (row, b, d)));
                let n = programmed[row];
                progress(done.fetch_add(n, Ordering::Relaxed) + n);
            }
            out
        })
        .collect();
    for (row, b, down) in parts.into_iter().flatten() {
        let reads: u32 = cells[row][b].iter().sum();
        builder.add_block_row(b, row, &down, reads);
    }
}

/// Per-call sampling: the calls of each |h| group in plan order, counts streamed to the builder.
fn run_per_call(
    qpu: &VirtualQpu,
    plan: &Plan,
    opts: &VirtualOptions,
    gidx: &[usize],
    groups: &[Vec<usize>],
    builder: &mut SweepBuilder<'_>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(), PlanError> {
    let pair_gidx: Vec<(usize, usize)> = builder
        .pair_columns()
        .map(|cols| cols.iter().map(|&(a, b)| (gidx[a], gidx[b])).collect())
        .unwrap_or_default();
    let n_graph = qpu.graph().qubits.len();
    let done = AtomicU64::new(0);
    let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, CallCounts)>(64);
    let mut failure = None;
    std::thread::scope(|s| {
        let consumer = s.spawn(move || {
            for (i, counts) in rx {
                if let Err(e) = builder.add_call(i, &counts) {
                    return Some(e);
                }
            }
            None
        });
        groups.par_iter().enumerate().for_each(|(k, calls)| {
            let mut rng = Pcg64Mcg::seed_from_u64(group_seed(plan.seed, k));
            let mut agree_buf = vec![0u32; pair_gidx.len()];
            for &i in calls {
                let call = &plan.calls[i];
                let mut fields = vec![f64::NAN; n_graph];
                for (&gi, x) in gidx.iter().zip(plan.call_fields(call)) {
                    fields[gi] = x;
                }
                let shot = Shot {
                    fields: &fields,
                    reads: call.reads,
                    anneal_time_us: plan.anneal_time_us,
                    pairs: &pair_gidx,
                };
                let (down, agree) = run_call(qpu, &shot, opts, &mut rng, &mut agree_buf);
                let counts = CallCounts {
                    reads: call.reads,
                    down: gidx.iter().map(|&gi| down[gi]).collect(),
                    agree: agree.map(<[u32]>::to_vec),
                };
                if tx.send((i, counts)).is_err() {
                    return;
                }
                progress(done.fetch_add(1, Ordering::Relaxed) + 1);
            }
        });
        drop(tx);
        failure = consumer.join().ok().flatten();
    });
    match failure {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// One call on the device: fields in graph order (NaN = not programmed).
struct Shot<'a> {
    fields: &'a [f64],
    reads: u32,
    anneal_time_us: f64,
    /// Pairs (graph indices) whose agreement is counted.
    pairs: &'a [(usize, usize)],
}

/// Per-qubit down counts (graph order) and, when pairs are recorded, per-pair agree counts.
fn run_call<'a>(
    qpu: &VirtualQpu,
    shot: &Shot<'_>,
    opts: &VirtualOptions,
    rng: &mut Pcg64Mcg,
    agree_buf: &'a mut [u32],
) -> (Vec<u32>, Option<&'a [u32]>) {
    if !opts.raw {
        let sample = |rng: &mut Pcg64Mcg, agree: Option<&mut [u32]>| {
            qpu.sample_counts(
                shot.fields,
                shot.reads,
                shot.anneal_time_us,
                rng,
                shot.pairs,
                agree,
            )
        };
        if opts.pairs {
            let down = sample(rng, Some(&mut *agree_buf));
            return (down, Some(agree_buf));
        }
        return (sample(rng, None), None);
    }
    let raw = qpu.sample_raw(shot.fields, shot.reads as usize, shot.anneal_time_us, rng);
    let n = qpu.graph().qubits.len();
    let mut col = vec![usize::MAX; n];
    for (k, &i) in raw.active.iter().enumerate() {
        col[i] = k;
    }
    let w = raw.active.len().max(1);
    let mut down = vec![0u32; n];
    for read in raw.spins.chunks_exact(w) {
        for (k, &s) in read.iter().enumerate() {
            down[raw.active[k]] += u32::from(s < 0);
        }
    }
    if !opts.pairs {
        return (down, None);
    }
    for (slot, &(a, b)) in agree_buf.iter_mut().zip(shot.pairs) {
        let (ka, kb) = (col[a], col[b]);
        *slot = if ka == usize::MAX || kb == usize::MAX {
            0
        } else {
            raw.spins.chunks_exact(w).filter(|r| r[ka] == r[kb]).count() as u32
        };
    }
    (down, Some(agree_buf))
}
