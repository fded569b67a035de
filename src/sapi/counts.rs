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
    pub pairs: Option<AnswerAgreement>,
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
pub struct AnswerAgreement {
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
            Some(AnswerAgreement {
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
    // u32 counters halve the histogram's cache footprint; they cannot overflow when the total weight fits.
    let hist: Vec<[u64; 256]> = if reads <= u64::from(u32::MAX) {
        let mut h32: Vec<[u32; 256]> = vec![[0u32; 256]; rb];
        for (row, &w) in sol.bytes.chunks_exact(rb).zip(weights) {
            for (h, &b) in h32.iter_mut().zip(row) {
                h[usize::from(b)] += w;
            }
        }
        h32.iter().map(|h| h.map(u64::from)).collect()
    } else {
        let mut h64: Vec<[u64; 256]> = vec![[0u64; 256]; rb];
        for (row, &w) in sol.bytes.chunks_exact(rb).zip(weights) {
            let w = u64::from(w);
            for (h, &b) in h64.iter_mut().zip(row) {
                h[usize::from(b)] += w;
            }
        }
        h64
    };
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

/// Rows per bit-sliced block in [`count_agree`].
const BLOCK: usize = 64;

/// Weighted count of reads where the two variables of each index pair agree.
///
/// Bit-sliced: rows are taken 64 at a time and transposed into one `u64` per variable (bit r = that
/// variable's bit in row r of the block). For a pair, `m = !(A ^ B)` marks agreeing rows; with the block's
/// weights split into bit planes `W_p`, the weighted count is `Σ_p popcount(m & W_p) << p` (one plane when
/// all weights are 1). Cost: one pass over the bits plus `pairs × planes` popcounts per 64 rows.
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
    let mut masks = vec![0u64; rb * 8];
    let mut planes: Vec<u64> = Vec::with_capacity(32);
    for (block, wblock) in sol.bytes.chunks(BLOCK * rb).zip(weights.chunks(BLOCK)) {
        masks.iter_mut().for_each(|m| *m = 0);
        for (r, row) in block.chunks_exact(rb).enumerate() {
            for (m8, &byte) in masks.chunks_exact_mut(8).zip(row) {
                // Branch-free: bit (7 - j) of the byte goes to bit r of variable 8k + j.
                let byte = u64::from(byte);
                for (j, m) in m8.iter_mut().enumerate() {
                    *m |= ((byte >> (7 - j)) & 1) << r;
                }
            }
        }
        let valid = if wblock.len() == BLOCK {
            u64::MAX
        } else {
            (1u64 << wblock.len()) - 1
        };
        let max_w = wblock.iter().copied().max().unwrap_or(0);
        planes.clear();
        for p in 0..(32 - max_w.leading_zeros()) {
            let plane = wblock
                .iter()
                .enumerate()
                .fold(0u64, |acc, (r, &w)| acc | (u64::from((w >> p) & 1) << r));
            planes.push(plane & valid);
        }
        for (acc, &(a, b)) in agree.iter_mut().zip(pairs) {
            // a, b < n <= masks.len(): checked above.
            let m = !(masks[a] ^ masks[b]);
            let mut s = 0u64;
            for (p, &wp) in planes.iter().enumerate() {
                s += u64::from((m & wp).count_ones()) << p;
            }
            *acc += s;
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
        for (n, nrows) in [
            (1usize, 37usize),
            (7, 150),
            (8, 64),
            (9, 65),
            (23, 37),
            (64, 200),
        ] {
            let rows: Vec<Vec<i8>> = (0..nrows)
                .map(|_| {
                    (0..n)
                        .map(|_| if rng.random::<bool>() { 1 } else { -1 })
                        .collect()
                })
                .collect();
            let w: Vec<u32> = (0..nrows).map(|_| rng.random_range(1..50)).collect();
            let active: Vec<u32> = (0..n as u32).map(|i| i * 2 + 1).collect();
            let pairs: Vec<(usize, usize)> = (0..n).map(|i| (i, (i * 5 + 3) % n)).collect();
            let couplers: Vec<(u32, u32)> =
                pairs.iter().map(|&(a, b)| (active[a], active[b])).collect();
            let ans = QpAnswer::from_spin_rows(
                2 * n as u32 + 2,
                active.clone(),
                &rows,
                vec![0.0; nrows],
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
    fn huge_weights_use_wide_counters() {
        let sol = PackedSolutions::from_spin_rows(2, &[vec![1, -1], vec![-1, -1]]).unwrap();
        let (down, reads) = count_down(&sol, &[u32::MAX, u32::MAX]).unwrap();
        assert_eq!(reads, 2 * u64::from(u32::MAX));
        assert_eq!(down, vec![u64::from(u32::MAX), 2 * u64::from(u32::MAX)]);
        assert!(count_down(&sol, &[1]).is_err());
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
