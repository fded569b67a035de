//! Build the SAPI `answer` of a sampled problem (docs/sapi-protocol.md §4.4, §6.1 `answer_mode`).
//!
//! Energies are those of the submitted problem without its offset: Ising `E = Σ h_i s_i`, QUBO
//! `E = Σ Q_ii x_i` with `x = (s + 1) / 2` (J = 0 here). `raw`: one row per read in read order, no
//! `num_occurrences`. `histogram`: unique rows ascending by energy (ties by first occurrence) with
//! `num_occurrences`.

use super::sampler::RawSamples;
use super::submit::{AnswerMode, ProblemType};
use super::timing::Timing;
use serde_json::Value;
use std::collections::HashMap;

/// Rows of an answer before encoding.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerRows {
    /// Active qubit ids (ascending lin order).
    pub active_variables: Vec<u32>,
    /// Row-major `[row][active]`, ±1 (ising) or 0/1 (qubo).
    pub solutions: Vec<i8>,
    pub energies: Vec<f64>,
    /// `None` in raw mode.
    pub num_occurrences: Option<Vec<u32>>,
}

/// Turn raw spins into answer rows.
pub fn rows(
    samples: &RawSamples,
    lin: &[f64],
    qubits: &[u32],
    ty: ProblemType,
    mode: AnswerMode,
) -> AnswerRows {
    let n = samples.active.len();
    let coef: Vec<f64> = samples
        .active
        .iter()
        .map(|&i| lin.get(i).copied().unwrap_or(0.0))
        .collect();
    let active_variables: Vec<u32> = samples
        .active
        .iter()
        .map(|&i| qubits.get(i).copied().unwrap_or(0))
        .collect();
    let value = |s: i8| -> i8 {
        match ty {
            ProblemType::Ising => s,
            ProblemType::Qubo => i8::from(s > 0),
        }
    };
    let reads = samples
        .spins
        .len()
        .checked_div(n)
        .unwrap_or(samples.num_reads);
    let row = |r: usize| -> &[i8] { samples.spins.get(r * n..(r + 1) * n).unwrap_or(&[]) };
    let energy = |row: &[i8]| -> f64 {
        row.iter()
            .zip(&coef)
            .map(|(&s, &c)| c * f64::from(value(s)))
            .sum()
    };
    match mode {
        AnswerMode::Raw => {
            let mut solutions = Vec::with_capacity(reads * n);
            let mut energies = Vec::with_capacity(reads);
            for r in 0..reads {
                let rw = row(r);
                solutions.extend(rw.iter().map(|&s| value(s)));
                energies.push(energy(rw));
            }
            AnswerRows {
                active_variables,
                solutions,
                energies,
                num_occurrences: None,
            }
        }
        AnswerMode::Histogram => {
            let mut index: HashMap<&[i8], usize> = HashMap::new();
            let mut uniq: Vec<(usize, u32)> = Vec::new(); // (first read, count)
            for r in 0..reads {
                let rw = row(r);
                match index.get(rw) {
                    Some(&k) => uniq[k].1 += 1,
                    None => {
                        index.insert(rw, uniq.len());
                        uniq.push((r, 1));
                    }
                }
            }
            let mut keyed: Vec<(f64, usize, u32)> =
                uniq.iter().map(|&(r, c)| (energy(row(r)), r, c)).collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let mut solutions = Vec::with_capacity(keyed.len() * n);
            for &(_, r, _) in &keyed {
                solutions.extend(row(r).iter().map(|&s| value(s)));
            }
            AnswerRows {
                active_variables,
                solutions,
                energies: keyed.iter().map(|k| k.0).collect(),
                num_occurrences: Some(keyed.iter().map(|k| k.2).collect()),
            }
        }
    }
}

/// The `answer` JSON object: `format`, `num_variables`, `active_variables`, `energies`, `solutions`,
/// (`num_occurrences`), `timing`.
pub fn answer_json(
    rows: &AnswerRows,
    num_variables: usize,
    timing: &Timing,
) -> Result<Value, String> {
    super::codec::encode_answer(rows, num_variables, timing.answer_json())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> RawSamples {
        // Active lin positions 0 and 2; 4 reads.
        RawSamples {
            active: vec![0, 2],
            num_reads: 4,
            spins: vec![1, 1, -1, -1, 1, 1, -1, 1],
        }
    }

    #[test]
    fn histogram_groups_and_sorts_by_energy() {
        let lin = [-1.0, f64::NAN, 0.5];
        let r = rows(
            &samples(),
            &lin,
            &[3, 5, 9],
            ProblemType::Ising,
            AnswerMode::Histogram,
        );
        assert_eq!(r.active_variables, vec![3, 9]);
        // Rows: (1,1) E=-0.5 ×2, (-1,-1) E=0.5, (-1,1) E=1.5.
        assert_eq!(r.energies, vec![-0.5, 0.5, 1.5]);
        assert_eq!(r.num_occurrences, Some(vec![2, 1, 1]));
        assert_eq!(r.solutions, vec![1, 1, -1, -1, -1, 1]);
    }

    #[test]
    fn raw_keeps_read_order_and_qubo_uses_bits() {
        let lin = [-1.0, f64::NAN, 0.5];
        let r = rows(
            &samples(),
            &lin,
            &[3, 5, 9],
            ProblemType::Qubo,
            AnswerMode::Raw,
        );
        assert_eq!(r.num_occurrences, None);
        assert_eq!(r.solutions, vec![1, 1, 0, 0, 1, 1, 0, 1]);
        assert_eq!(r.energies, vec![-0.5, 0.0, -0.5, 0.5]);
    }
}
