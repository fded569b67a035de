//! Structural invariants of a [`Sweep`], checked after every load and before every write:
//! a finite, strictly increasing h grid; strictly increasing qubit ids; matrices of the right shape with
//! `down ≤ reads`; blocks that sum to the totals; pair counts on couplers of listed qubits with `agree ≤ reads`.

use super::{CountMatrix, Sweep};
use crate::topology::QubitId;

/// The invariant a sweep breaks, with where.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CheckError {
    #[error("the h grid is empty")]
    EmptyGrid,
    #[error("the sweep has no qubits")]
    NoQubits,
    #[error("h[{index}] = {value} is not a finite number")]
    NonFiniteH { index: usize, value: f64 },
    #[error("the h grid must be strictly increasing: h[{}] = {previous} then h[{index}] = {value}", index - 1)]
    GridOrder {
        /// Index of the value not above its predecessor (≥ 1).
        index: usize,
        previous: f64,
        value: f64,
    },
    #[error(
        "qubit ids must be strictly increasing: qubits[{}] = {previous} then qubits[{index}] = {value}",
        index - 1
    )]
    QubitOrder {
        index: usize,
        previous: QubitId,
        value: QubitId,
    },
    /// `what` is `counts` or `blocks[b]`.
    #[error("{what} must be {n_h} h × {n_qubits} qubits, found {found_h} × {found_qubits} ({down_cells} down, {reads_cells} reads cells)")]
    Shape {
        what: String,
        n_h: usize,
        n_qubits: usize,
        found_h: usize,
        found_qubits: usize,
        down_cells: usize,
        reads_cells: usize,
    },
    #[error("{what}: at h index {h_index}, column {column}: {down} down reads out of only {reads} reads")]
    DownAboveReads {
        what: String,
        h_index: usize,
        column: usize,
        down: u32,
        reads: u32,
    },
    #[error("the blocks do not sum to the totals: at h = {h}, qubit {qubit} the blocks give {block_down}/{block_reads} but the totals say {down}/{reads}")]
    BlockSum {
        h: f64,
        qubit: QubitId,
        block_down: u32,
        block_reads: u32,
        down: u32,
        reads: u32,
    },
    #[error("pair counts must have {n_h} × {n_couplers} cells, found {agree_cells} agree and {reads_cells} reads")]
    PairShape {
        n_h: usize,
        n_couplers: usize,
        agree_cells: usize,
        reads_cells: usize,
    },
    #[error("pairs.couplers[{index}] = [{u}, {v}]: need u < v")]
    PairOrder {
        index: usize,
        u: QubitId,
        v: QubitId,
    },
    #[error("pairs.couplers[{index}] = [{u}, {v}]: qubit {qubit} is not in the sweep")]
    PairQubit {
        index: usize,
        u: QubitId,
        v: QubitId,
        qubit: QubitId,
    },
    #[error("pairs: at h = {h}, coupler ({u}, {v}): {agree} agreeing reads out of {reads}")]
    AgreeAboveReads {
        h: f64,
        u: QubitId,
        v: QubitId,
        agree: u32,
        reads: u32,
    },
}

/// Checks every invariant; the error says which one failed and where.
pub fn check(sweep: &Sweep) -> Result<(), CheckError> {
    let n_h = sweep.h.len();
    let n_q = sweep.qubits.len();
    if n_h == 0 {
        return Err(CheckError::EmptyGrid);
    }
    if n_q == 0 {
        return Err(CheckError::NoQubits);
    }
    check_axes(sweep)?;
    check_counts("counts", &sweep.counts, n_h, n_q)?;
    if !sweep.blocks.is_empty() {
        check_blocks(sweep)?;
    }
    check_pairs(sweep)
}

/// A finite, strictly increasing h grid and strictly increasing qubit ids.
fn check_axes(sweep: &Sweep) -> Result<(), CheckError> {
    for (index, &value) in sweep.h.iter().enumerate() {
        if !value.is_finite() {
            return Err(CheckError::NonFiniteH { index, value });
        }
        if index > 0 && value <= sweep.h[index - 1] {
            return Err(CheckError::GridOrder {
                index,
                previous: sweep.h[index - 1],
                value,
            });
        }
    }
    match sweep.qubits.windows(2).position(|w| w[1] <= w[0]) {
        Some(i) => Err(CheckError::QubitOrder {
            index: i + 1,
            previous: sweep.qubits[i],
            value: sweep.qubits[i + 1],
        }),
        None => Ok(()),
    }
}

/// Every block has the shape of the totals, and the blocks add up to them.
fn check_blocks(sweep: &Sweep) -> Result<(), CheckError> {
    let (n_h, n_q) = (sweep.h.len(), sweep.qubits.len());
    let mut sum = CountMatrix::zeros(n_h, n_q);
    for (b, block) in sweep.blocks.iter().enumerate() {
        check_counts(&format!("blocks[{b}]"), block, n_h, n_q)?;
        sum.add(block);
    }
    if sum == sweep.counts {
        return Ok(());
    }
    let i = (0..n_h * n_q)
        .find(|&i| sum.down[i] != sweep.counts.down[i] || sum.reads[i] != sweep.counts.reads[i])
        .unwrap_or(0);
    Err(CheckError::BlockSum {
        h: sweep.h[i / n_q],
        qubit: sweep.qubits[i % n_q],
        block_down: sum.down[i],
        block_reads: sum.reads[i],
        down: sweep.counts.down[i],
        reads: sweep.counts.reads[i],
    })
}

/// Pair counts: the right shape, couplers `u < v` of listed qubits, `agree ≤ reads`.
fn check_pairs(sweep: &Sweep) -> Result<(), CheckError> {
    let Some(p) = &sweep.pairs else {
        return Ok(());
    };
    let n_h = sweep.h.len();
    let n_c = p.couplers.len();
    if p.agree.len() != n_h * n_c || p.reads.len() != n_h * n_c {
        return Err(CheckError::PairShape {
            n_h,
            n_couplers: n_c,
            agree_cells: p.agree.len(),
            reads_cells: p.reads.len(),
        });
    }
    for (index, &(u, v)) in p.couplers.iter().enumerate() {
        if u >= v {
            return Err(CheckError::PairOrder { index, u, v });
        }
        if let Some(&qubit) = [u, v]
            .iter()
            .find(|q| sweep.qubits.binary_search(q).is_err())
        {
            return Err(CheckError::PairQubit { index, u, v, qubit });
        }
    }
    match (0..n_h * n_c).find(|&i| p.agree[i] > p.reads[i]) {
        Some(i) => {
            let (u, v) = p.couplers[i % n_c.max(1)];
            Err(CheckError::AgreeAboveReads {
                h: sweep.h[i / n_c.max(1)],
                u,
                v,
                agree: p.agree[i],
                reads: p.reads[i],
            })
        }
        None => Ok(()),
    }
}

fn check_counts(what: &str, m: &CountMatrix, n_h: usize, n_q: usize) -> Result<(), CheckError> {
    if m.n_h != n_h || m.n_qubits != n_q || m.down.len() != n_h * n_q || m.reads.len() != n_h * n_q
    {
        return Err(CheckError::Shape {
            what: what.to_string(),
            n_h,
            n_qubits: n_q,
            found_h: m.n_h,
            found_qubits: m.n_qubits,
            down_cells: m.down.len(),
            reads_cells: m.reads.len(),
        });
    }
    match (0..n_h * n_q).find(|&i| m.down[i] > m.reads[i]) {
        Some(i) => Err(CheckError::DownAboveReads {
            what: what.to_string(),
            h_index: i / n_q,
            column: i % n_q,
            down: m.down[i],
            reads: m.reads[i],
        }),
        None => Ok(()),
    }
}
