//! Counts of calls into a sweep, in the physical frame (docs/physics.md §3 items 4–5, §5). Both executors
//! feed it; the sweep comes out the same way whichever ran the plan.
//!
//! A call's counts are per plan qubit (`down` reads with s = -1 out of the call's `reads`). Qubit q of a
//! call at uniform field h with gauge sign `g_q` saw the physical field `h · g_q`; its counts go to that row
//! of the grid, in the call's block. Pair counts of a coupler (u, v) are kept only when both ends saw the
//! same field (same gauge sign, or h = 0), at that field's row.

use super::plan::{Call, Plan};
use crate::sweep::{
    CampaignMeta, CountMatrix, CouplerAgreement, Sweep, SweepMeta, SweepSource, TopologyRef,
};

/// The counts of one call, per plan qubit (column) and, optionally, per plan coupler.
#[derive(Clone, Debug, PartialEq)]
pub struct CallCounts {
    /// Reads of the call.
    pub reads: u32,
    /// Reads with s = -1, per plan qubit.
    pub down: Vec<u32>,
    /// Reads in which the two ends agree, per plan coupler (when pairs are recorded).
    pub agree: Option<Vec<u32>>,
}

/// Why a call's counts cannot be added.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CountsError {
    #[error("call {call} is not in the plan ({calls} calls)")]
    NoSuchCall { call: usize, calls: usize },
    #[error("call {call} was counted already")]
    Twice { call: usize },
    #[error("call {call}: {found} {what}, the plan has {expected}")]
    Shape {
        call: usize,
        what: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("call {call}: {found} reads, the plan asked for {expected}")]
    Reads {
        call: usize,
        expected: u32,
        found: u32,
    },
    #[error("call {call}: a qubit has {down} reads with s = -1 out of {reads}")]
    Down { call: usize, down: u32, reads: u32 },
}

/// Builds a sweep from the calls of a plan.
pub struct SweepBuilder<'p> {
    plan: &'p Plan,
    /// One matrix per block (a single one when the plan records no blocks).
    blocks: Vec<CountMatrix>,
    /// Couplers as plan columns, when pairs are recorded.
    pair_cols: Option<Vec<(usize, usize)>>,
    agree: Vec<u32>,
    pair_reads: Vec<u32>,
    done: Vec<bool>,
}

impl<'p> SweepBuilder<'p> {
    /// An empty sweep for `plan`; `pairs`: also keep pair counts on the plan's couplers.
    pub fn new(plan: &'p Plan, pairs: bool) -> Self {
        let (n_h, n_q) = (plan.h.len(), plan.qubits.len());
        let pair_cols = pairs.then(|| {
            plan.couplers
                .iter()
                .filter_map(|&[u, v]| {
                    Some((
                        plan.qubits.binary_search(&u).ok()?,
                        plan.qubits.binary_search(&v).ok()?,
                    ))
                })
                .collect::<Vec<_>>()
        });
        let n_c = pair_cols.as_ref().map_or(0, Vec::len);
        SweepBuilder {
            plan,
            blocks: vec![CountMatrix::zeros(n_h, n_q); (plan.blocks as usize).max(1)],
            pair_cols,
            agree: vec![0; n_h * n_c],
            pair_reads: vec![0; n_h * n_c],
            done: vec![false; plan.calls.len()],
        }
    }

    /// Couplers of the pair counts, as plan columns.
    pub fn pair_columns(&self) -> Option<&[(usize, usize)]> {
        self.pair_cols.as_deref()
    }

    /// Calls counted so far.
    pub fn calls_done(&self) -> usize {
        self.done.iter().filter(|&&d| d).count()
    }

    /// Whether call `i` has been counted.
    pub fn is_done(&self, i: usize) -> bool {
        self.done.get(i).copied().unwrap_or(false)
    }

    fn check(&self, i: usize, call: &Call, c: &CallCounts) -> Result<(), CountsError> {
        let shape = |what, expected, found| CountsError::Shape {
            call: i,
            what,
            expected,
            found,
        };
        if c.reads != call.reads {
            return Err(CountsError::Reads {
                call: i,
                expected: call.reads,
                found: c.reads,
            });
        }
        if c.down.len() != self.plan.qubits.len() {
            return Err(shape("qubits", self.plan.qubits.len(), c.down.len()));
        }
        if let Some(&down) = c.down.iter().find(|&&d| d > c.reads) {
            return Err(CountsError::Down {
                call: i,
                down,
                reads: c.reads,
            });
        }
        match (&self.pair_cols, &c.agree) {
            (Some(cols), Some(a)) if a.len() != cols.len() => {
                Err(shape("coupler counts", cols.len(), a.len()))
            }
            (Some(cols), None) => Err(shape("coupler counts", cols.len(), 0)),
            _ => Ok(()),
        }
    }

    /// Adds the counts of call `i`.
    pub fn add_call(&mut self, i: usize, c: &CallCounts) -> Result<(), CountsError> {
        let plan = self.plan;
        let call = plan.calls.get(i).ok_or(CountsError::NoSuchCall {
            call: i,
            calls: plan.calls.len(),
        })?;
        if self.done[i] {
            return Err(CountsError::Twice { call: i });
        }
        self.check(i, call, c)?;
        let fields = plan.call_fields(call);
        let rows: Vec<usize> = fields
            .iter()
            .map(|&x| plan.row_of(x).unwrap_or(usize::MAX))
            .collect();
        let n_q = plan.qubits.len();
        let block = &mut self.blocks[call.block.unwrap_or(0) as usize];
        for (col, (&row, &down)) in rows.iter().zip(&c.down).enumerate() {
            // Rows exist: Plan::check verified every physical field of every call is in the grid.
            if let (Some(d), Some(r)) = (
                block.down.get_mut(row.wrapping_mul(n_q) + col),
                block.reads.get_mut(row.wrapping_mul(n_q) + col),
            ) {
                *d += down;
                *r += c.reads;
            }
        }
        if let (Some(cols), Some(agree)) = (&self.pair_cols, &c.agree) {
            let n_c = cols.len();
            for (ci, (&(a, b), &ag)) in cols.iter().zip(agree).enumerate() {
                if fields[a] != fields[b] {
                    continue;
                }
                let at = rows[a].wrapping_mul(n_c) + ci;
                if let (Some(x), Some(r)) = (self.agree.get_mut(at), self.pair_reads.get_mut(at)) {
                    *x += ag;
                    *r += c.reads;
                }
            }
        }
        self.done[i] = true;
        Ok(())
    }

    /// Adds counts drawn for a whole block at one physical row (the virtual QPU's aggregated sampling):
    /// `down[col]` out of `reads` for every qubit.
    pub fn add_block_row(&mut self, block: usize, row: usize, down: &[u32], reads: u32) {
        let n_q = self.plan.qubits.len();
        if let Some(m) = self.blocks.get_mut(block) {
            let start = row * n_q;
            for (col, &d) in down.iter().enumerate().take(n_q) {
                if let (Some(x), Some(r)) =
                    (m.down.get_mut(start + col), m.reads.get_mut(start + col))
                {
                    *x += d;
                    *r += reads;
                }
            }
        }
    }

    /// Marks every call counted (after aggregated sampling, which draws whole blocks).
    pub fn mark_all_done(&mut self) {
        self.done.iter_mut().for_each(|d| *d = true);
    }

    /// The sweep, with `meta`.
    pub fn finish(self, meta: SweepMeta) -> Sweep {
        let plan = self.plan;
        let mut counts = CountMatrix::zeros(plan.h.len(), plan.qubits.len());
        for b in &self.blocks {
            counts.add(b);
        }
        Sweep {
            meta,
            h: plan.h.clone(),
            qubits: plan.qubits.clone(),
            counts,
            blocks: if plan.blocks == 0 {
                Vec::new()
            } else {
                self.blocks
            },
            pairs: self.pair_cols.map(|cols| CouplerAgreement {
                couplers: cols
                    .iter()
                    .map(|&(a, b)| (plan.qubits[a], plan.qubits[b]))
                    .collect(),
                agree: self.agree,
                reads: self.pair_reads,
            }),
        }
    }
}

/// The metadata every executor of `plan` writes: solver, graph, topology, anneal time, the parameters
/// sent, gauges and the plan.
pub fn sweep_meta(plan: &Plan, source: SweepSource) -> SweepMeta {
    let mut meta = SweepMeta::new(source);
    meta.solver = Some(plan.solver.name.clone());
    meta.graph_id = plan.solver.graph_id.clone();
    meta.topology = Some(TopologyRef {
        kind: plan.solver.topology.kind.clone(),
        shape: plan.solver.topology.shape.clone(),
    });
    meta.anneal_time_us = Some(plan.anneal_time_us);
    meta.parameters = plan.parameters.clone();
    let max_reads = plan.calls.iter().map(|c| c.reads).max().unwrap_or(0);
    meta.parameters.insert("num_reads".into(), max_reads.into());
    meta.gauges = Some(plan.gauges.is_some());
    meta.seed = Some(plan.seed);
    meta.calls_per_block = calls_per_block(plan);
    meta.campaign = Some(CampaignMeta {
        plan_sha256: plan.sha256.clone(),
        calls: plan.calls.len() as u64,
        estimated_qpu_s: plan.estimated_qpu_s,
        charged_qpu_s: None,
        resubmitted_calls: 0,
    });
    meta
}

/// Calls in every (h, block) cell of the sweep that has calls, when the same for all of them
/// (`meta.calls_per_block`, the condition of the fit's per-call likelihood; an optimised plan gives each
/// |h| its own number of calls, so some cells stay empty, and the fit drops empty cells). With gauges, a qubit sees at a physical field one call
/// of each ±h partner pair of its block, so the count holds per qubit only when every gauged call at
/// h ≠ 0 has its partner at -h (same gauge, flip, reads and block); otherwise `None`.
fn calls_per_block(plan: &Plan) -> Option<u32> {
    use std::collections::HashMap;
    if plan.blocks == 0 {
        return None;
    }
    let mut cells = vec![0u32; plan.h.len() * plan.blocks as usize];
    // a partner pair: |h|, gauge, flip, reads, block
    type Partner = (u64, Option<u32>, bool, u32, Option<u32>);
    let mut partners: HashMap<Partner, i64> = HashMap::new();
    for c in &plan.calls {
        let cell = plan.row_of(c.h)? * plan.blocks as usize + c.block? as usize;
        *cells.get_mut(cell)? += 1;
        if c.gauge.is_some() && c.h != 0.0 {
            let key = (c.h.abs().to_bits(), c.gauge, c.flip, c.reads, c.block);
            *partners.entry(key).or_default() += if c.h > 0.0 { 1 } else { -1 };
        }
    }
    let k = cells.iter().copied().find(|&n| n > 0)?;
    (cells.iter().all(|&n| n == 0 || n == k) && partners.values().all(|&n| n == 0)).then_some(k)
}
