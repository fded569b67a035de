//! Decode a `qp` answer straight into counts, without per-read vectors (`docs/sapi-protocol.md` §4.4).
//!
//! For active variable i, `down[i] = Σ_rows w_r · [bit_i(row) = 0]` (bit 0 ↔ s = −1), with
//! `w_r = num_occurrences[r]` (1 per row in raw mode); `reads = Σ w_r`. Optional pair counts:
//! `agree[c] = Σ_rows w_r · [bit_u(row) = bit_v(row)]` for each coupler c = (u, v).
//!
//! Method (byte-wise lookup): one weighted histogram of byte values per byte column of the packed rows
//! (`hist[k][byte] += w`), then each bit's count is read off the 256-entry histogram once. The hot loop is one
//! add per packed byte, independent of how many bits are set. Pair counts unpack each row once through a
//! 256 × 8 table into a reusable buffer.

use super::qp::{answer_parts, PackedSolutions, QpError};
use serde_json::{Map, Value};

/// Per-qubit counts (and optional per-coupler agreement counts) of one answer.
#[derive(Clone, Debug, PartialEq)]
pub struct AnswerCounts {
    /// Solver `num_qubits`.
    pub num_variables: u32,
    /// Active qubits, in answer order; `down[i]` belongs to `qubits[i]`.
    pub qubits: Vec<u32>,
    /// Reads with s = −1, per active qubit.
    pub down: Vec<u64>,
    /// Total reads (Σ num_occurrences).
    pub reads: u64,
    /// Agreement counts for the requested couplers, if asked.
    pub pairs: Option<PairCounts>,
    /// The answer's `timing` (µs).
    pub timing: Map<String, Value>,
}

impl AnswerCounts {
    /// `(down, reads)` for a physical qubit; `None` if the qubit was not active.
    pub fn for_qubit(&self, q: u32) -> Option<(u64, u64)> {
        self.qubits
            .iter()
            .position(|&x| x == q)
            .and_then(|i| self.down.get(i))
            .map(|&d| (d, self.reads))
    }
}

/// Reads in which the two ends of each coupler had the same spin.
#[derive(Clone, Debug, PartialEq)]
pub struct PairCounts {
    pub couplers: Vec<(u32, u32)>,
    pub agree: Vec<u64>,
}

/// Counts an `answer` JSON object. `couplers`: also count agreement on these couplers (both ends must be
/// active variables of the answer).
pub fn count_answer(
    answer: &Value,
    couplers: Option<&[(u32, u32)]>,
) -> Result<AnswerCounts, QpError> {
    let p = answer_parts(answer)?;
    let rows = p.energies.len();
    let weights = p.num_occurrences.unwrap_or_else(|| vec![1; rows]);
    let sol = PackedSolutions {
        num_active: p.active_variables.len(),
        rows,
        bytes: p.solution_bytes,
    };
    let (down, reads) = count_down(&sol, &weights)?;
    let pairs = match couplers {
        None => None,
        Some(cs) => {
            let idx = pair_indices(&p.active_variables, p.num_variables, cs)?;
            Some(PairCounts {
                couplers: cs.to_vec(),
                agree: count_agree(&sol, &weights, &idx)?,
            })
        }
    };
    Ok(AnswerCounts {
        num_variables: p.num_variables,
        qubits: p.active_variables,
        down,
        reads,
        pairs,
        timing: p.timing,
    })
}

fn check_shape(sol: &PackedSolutions, weights: &[u32]) -> Result<(), QpError> {
    if weights.len() != sol.rows {
        return Err(QpError::Count {
            field: "num_occurrences",
            expected: sol.rows,
            found: weights.len(),
            hint: "one weight per solution row",
        });
    }
    if sol.bytes.len() != sol.rows * sol.row_bytes() {
        return Err(QpError::Count {
            field: "solutions",
            expected: sol.rows * sol.row_bytes(),
            found: sol.bytes.len(),
            hint: "ceil(num_active/8) bytes per row",
        });
    }
    Ok(())
}

/// Weighted count of s = −1 per active variable, and the total weight.
pub fn count_down(sol: &PackedSolutions, weights: &[u32]) -> Result<(Vec<u64>, u64), QpError> {
    check_shape(sol, weights)?;
    let rb = sol.row_bytes();
    let reads: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    if rb == 0 {
        return Ok((vec![0; sol.num_active], reads));
    }
    let mut hist: Vec<[u64; 256]> = vec![[0u64; 256]; rb];
    for (row, &w) in sol.bytes.chunks_exact(rb).zip(weights) {
        let w = u64::from(w);
        for (h, &b) in hist.iter_mut().zip(row) {
            h[usize::from(b)] += w;
        }
    }
    let mut down = Vec::with_capacity(sol.num_active);
    'outer: for h in &hist {
        let mut up = [0u64; 8];
        for (b, &c) in h.iter().enumerate() {
            if c != 0 {
                for (j, u) in up.iter_mut().enumerate() {
                    if b & (0x80 >> j) != 0 {
                        *u += c;
                    }
                }
            }
        }
        for u in up {
            if down.len() == sol.num_active {
                break 'outer;
            }
            down.push(reads - u);
        }
    }
    Ok((down, reads))
}

/// Maps couplers `(u, v)` (physical qubits) to pairs of active-variable indices.
pub fn pair_indices(
    active: &[u32],
    num_variables: u32,
    couplers: &[(u32, u32)],
) -> Result<Vec<(usize, usize)>, QpError> {
    let mut pos = vec![usize::MAX; num_variables as usize];
    for (i, &q) in active.iter().enumerate() {
        if let Some(p) = pos.get_mut(q as usize) {
            *p = i;
        }
    }
    let lookup = |q: u32| pos.get(q as usize).copied().filter(|&i| i != usize::MAX);
    couplers
        .iter()
        .map(|&(u, v)| match (lookup(u), lookup(v)) {
            (Some(a), Some(b)) => Ok((a, b)),
            (None, _) => Err(QpError::UnknownQubit { qubit: u }),
            (_, None) => Err(QpError::UnknownQubit { qubit: v }),
        })
        .collect()
}

const UNPACK: [[u8; 8]; 256] = {
    let mut t = [[0u8; 8]; 256];
    let mut b = 0;
    while b < 256 {
        let mut j = 0;
        while j < 8 {
            t[b][j] = ((b >> (7 - j)) & 1) as u8;
            j += 1;
        }
        b += 1;
    }
    t
};

/// Weighted count of reads where the two variables of each index pair agree.
pub fn count_agree(
    sol: &PackedSolutions,
    weights: &[u32],
    pairs: &[(usize, usize)],
) -> Result<Vec<u64>, QpError> {
    check_shape(sol, weights)?;
    let n = sol.num_active;
    if let Some(&(a, b)) = pairs.iter().find(|&&(a, b)| a >= n || b >= n) {
        return Err(QpError::Count {
            field: "couplers",
            expected: n,
            found: a.max(b) + 1,
            hint: "coupler ends must be active variables",
        });
    }
    let rb = sol.row_bytes();
    let mut agree = vec![0u64; pairs.len()];
    if rb == 0 {
        return Ok(agree);
    }
    let mut bits = vec![0u8; rb * 8];
    for (row, &w) in sol.bytes.chunks_exact(rb).zip(weights) {
        for (dst, &b) in bits.chunks_exact_mut(8).zip(row) {
            dst.copy_from_slice(&UNPACK[usize::from(b)]);
        }
        let w = u64::from(w);
        for (acc, &(a, b)) in agree.iter_mut().zip(pairs) {
            // In range: checked above, and bits has rb*8 >= n entries.
            *acc += w * u64::from(bits[a] == bits[b]);
        }
    }
    Ok(agree)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sapi::qp::{encode_answer, QpAnswer};
    use rand::{Rng, SeedableRng};

    /// Naive reference: unpack every row.
    fn naive(rows: &[Vec<i8>], w: &[u32], pairs: &[(usize, usize)]) -> (Vec<u64>, Vec<u64>) {
        let n = rows.first().map_or(0, Vec::len);
        let mut down = vec![0u64; n];
        let mut agree = vec![0u64; pairs.len()];
        for (r, &w) in rows.iter().zip(w) {
            for (i, &s) in r.iter().enumerate() {
                if s < 0 {
                    down[i] += u64::from(w);
                }
            }
            for (k, &(a, b)) in pairs.iter().enumerate() {
                if r[a] == r[b] {
                    agree[k] += u64::from(w);
                }
            }
        }
        (down, agree)
    }

    #[test]
    fn matches_naive_on_random_answers() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
        for n in [1usize, 7, 8, 9, 23, 64] {
            let rows: Vec<Vec<i8>> = (0..37)
                .map(|_| {
                    (0..n)
                        .map(|_| if rng.random::<bool>() { 1 } else { -1 })
                        .collect()
                })
                .collect();
            let w: Vec<u32> = (0..37).map(|_| rng.random_range(1..50)).collect();
            let active: Vec<u32> = (0..n as u32).map(|i| i * 2 + 1).collect();
            let pairs: Vec<(usize, usize)> = (0..n).map(|i| (i, (i * 5 + 3) % n)).collect();
            let couplers: Vec<(u32, u32)> =
                pairs.iter().map(|&(a, b)| (active[a], active[b])).collect();
            let ans = QpAnswer::from_spin_rows(
                2 * n as u32 + 2,
                active.clone(),
                &rows,
                vec![0.0; 37],
                Some(w.clone()),
                Map::new(),
            )
            .unwrap();
            let c = count_answer(&encode_answer(&ans), Some(&couplers)).unwrap();
            let (down, agree) = naive(&rows, &w, &pairs);
            assert_eq!(c.down, down, "n={n}");
            assert_eq!(c.pairs.unwrap().agree, agree, "n={n}");
            assert_eq!(c.reads, w.iter().map(|&x| u64::from(x)).sum::<u64>());
            assert_eq!(c.qubits, active);
        }
    }

    #[test]
    fn worked_example_counts() {
        let v = serde_json::json!({"format":"qp","num_variables":8,"active_variables":"AAAAAAQAAAAHAAAA",
            "energies":"AAAAAAAA/L8AAAAAAADovwAAAAAAANC/","num_occurrences":"BgAAAAMAAAABAAAA","solutions":"wCCg"});
        // rows (q0,q4,q7): (+,+,-)x6, (-,-,+)x3, (+,-,+)x1
        let c = count_answer(&v, Some(&[(0, 4), (0, 7)])).unwrap();
        assert_eq!(c.down, vec![3, 4, 6]);
        assert_eq!(c.reads, 10);
        assert_eq!(c.for_qubit(4), Some((4, 10)));
        assert_eq!(c.pairs.unwrap().agree, vec![9, 1]);
        assert!(matches!(
            count_answer(&v, Some(&[(0, 5)])),
            Err(QpError::UnknownQubit { qubit: 5 })
        ));
    }
}
