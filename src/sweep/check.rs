//! Structural invariants of a [`Sweep`], checked after every load and before every write:
//! a finite, strictly increasing h grid; strictly increasing qubit ids; matrices of the right shape with
//! `down ≤ reads`; blocks that sum to the totals; pair counts on couplers of listed qubits with `agree ≤ reads`.

use super::{CountMatrix, Sweep};

/// Checks every invariant; the error says which one failed and where.
pub fn check(sweep: &Sweep) -> Result<(), String> {
    let n_h = sweep.h.len();
    let n_q = sweep.qubits.len();
    if n_h == 0 {
        return Err("the h grid is empty".into());
    }
    if n_q == 0 {
        return Err("the sweep has no qubits".into());
    }
    for (i, h) in sweep.h.iter().enumerate() {
        if !h.is_finite() {
            return Err(format!("h[{i}] = {h} is not a finite number"));
        }
        if i > 0 && *h <= sweep.h[i - 1] {
            return Err(format!(
                "the h grid must be strictly increasing: h[{}] = {} then h[{i}] = {h}",
                i - 1,
                sweep.h[i - 1]
            ));
        }
    }
    for (i, w) in sweep.qubits.windows(2).enumerate() {
        if w[1] <= w[0] {
            return Err(format!(
                "qubit ids must be strictly increasing: qubits[{i}] = {} then qubits[{}] = {}",
                w[0],
                i + 1,
                w[1]
            ));
        }
    }
    check_counts("counts", &sweep.counts, n_h, n_q)?;
    if !sweep.blocks.is_empty() {
        let mut sum = CountMatrix::zeros(n_h, n_q);
        for (b, block) in sweep.blocks.iter().enumerate() {
            check_counts(&format!("blocks[{b}]"), block, n_h, n_q)?;
            sum.add(block);
        }
        if sum != sweep.counts {
            let i = (0..n_h * n_q)
                .find(|&i| {
                    sum.down[i] != sweep.counts.down[i] || sum.reads[i] != sweep.counts.reads[i]
                })
                .unwrap_or(0);
            return Err(format!(
                "the blocks do not sum to the totals: at h = {}, qubit {} the blocks give {}/{} but the totals say {}/{}",
                sweep.h[i / n_q],
                sweep.qubits[i % n_q],
                sum.down[i],
                sum.reads[i],
                sweep.counts.down[i],
                sweep.counts.reads[i]
            ));
        }
    }
    if let Some(p) = &sweep.pairs {
        let n_c = p.couplers.len();
        if p.agree.len() != n_h * n_c || p.reads.len() != n_h * n_c {
            return Err(format!(
                "pair counts must have {n_h} × {n_c} cells, found {} agree and {} reads",
                p.agree.len(),
                p.reads.len()
            ));
        }
        for (c, &(u, v)) in p.couplers.iter().enumerate() {
            if u >= v {
                return Err(format!("pairs.couplers[{c}] = [{u}, {v}]: need u < v"));
            }
            for q in [u, v] {
                if sweep.qubits.binary_search(&q).is_err() {
                    return Err(format!(
                        "pairs.couplers[{c}] = [{u}, {v}]: qubit {q} is not in the sweep"
                    ));
                }
            }
        }
        if let Some(i) = (0..n_h * n_c).find(|&i| p.agree[i] > p.reads[i]) {
            return Err(format!(
                "pairs: at h = {}, coupler {:?}: {} agreeing reads out of {}",
                sweep.h[i / n_c.max(1)],
                p.couplers[i % n_c.max(1)],
                p.agree[i],
                p.reads[i]
            ));
        }
    }
    Ok(())
}

fn check_counts(what: &str, m: &CountMatrix, n_h: usize, n_q: usize) -> Result<(), String> {
    if m.n_h != n_h || m.n_qubits != n_q || m.down.len() != n_h * n_q || m.reads.len() != n_h * n_q
    {
        return Err(format!(
            "{what} must be {n_h} h × {n_q} qubits, found {} × {} ({} down, {} reads cells)",
            m.n_h,
            m.n_qubits,
            m.down.len(),
            m.reads.len()
        ));
    }
    if let Some(i) = (0..n_h * n_q).find(|&i| m.down[i] > m.reads[i]) {
        return Err(format!(
            "{what}: at h index {}, column {}: {} down reads out of only {} reads",
            i / n_q,
            i % n_q,
            m.down[i],
            m.reads[i]
        ));
    }
    Ok(())
}
