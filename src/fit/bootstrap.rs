//! Block bootstrap over calls (docs/physics.md §3.5): each replicate draws as many calls as recorded,
//! with replacement, sums their counts and refits. The same call draws are used for every qubit
//! (replicate r uses `Pcg64Mcg::seed_from_u64(seed ⊕ r·golden)`), so results do not depend on threads.
//! Reports per parameter the standard deviation of the replicates times `sqrt(B/(B-1))` (B blocks: the
//! bootstrap variance over B resampled blocks is (B-1)/B of the sampling variance) and the interval
//! `θ̂ ± t_{B-1} se` (lower end ≥ 0 for |γ|, |η|). With 10 blocks, percentile intervals under-cover
//! (≈ 0.87 for 95 %); the default robust errors are the better choice (docs/uncertainties.md).

use super::objective::to_params;
use super::qubit::QubitData;
use super::result::{BootstrapFit, ByParam, Estimate};
use super::robust::critical_value;
use super::solver::{maximize, SolverOptions, StopReason};
use crate::model::{Model, Param, QubitCounts};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;

/// Multiplicity of each call in each replicate: `[rep][call]`.
pub fn draw_weights(n_calls: usize, reps: usize, seed: u64) -> Vec<Vec<u32>> {
    (0..reps)
        .map(|r| {
            let mut rng = Pcg64Mcg::seed_from_u64(
                seed ^ (r as u64)
                    .wrapping_add(1)
                    .wrapping_mul(0x9E37_79B9_7F4A_7C15),
            );
            let mut w = vec![0u32; n_calls];
            for _ in 0..n_calls {
                w[rng.random_range(0..n_calls)] += 1;
            }
            w
        })
        .collect()
}

/// One qubit's per-call counts: `down[call][ih]`, `reads[call][ih]` on the sweep's h grid.
pub struct CallCounts {
    pub h: Vec<f64>,
    pub down: Vec<Vec<u32>>,
    pub reads: Vec<Vec<u32>>,
}

/// Bootstrap summary for one qubit, refitting `model` (with the likelihood of `qd`) from the full-data
/// optimum `phi_hat`.
pub fn bootstrap_qubit(
    model: Model,
    qd: &QubitData<'_>,
    calls: &CallCounts,
    weights: &[Vec<u32>],
    phi_hat: [f64; 4],
    opts: &SolverOptions,
) -> BootstrapFit {
    let free = model.free();
    let fits: Vec<Option<[f64; 4]>> = weights
        .par_iter()
        .map(|w| {
            let (d, cells) = replicate(calls, w, qd.per_call);
            let mut r = qd.likelihood(model);
            r.data = &d;
            r.cells = cells.as_ref();
            let mut start = phi_hat;
            for i in Param::EVEN.map(Param::index) {
                if free[i] && start[i].abs() < 1e-3 {
                    start[i] = 1e-3;
                }
            }
            let s = maximize(&r, start, free, opts);
            (s.stop == StopReason::Converged).then(|| {
                let p = to_params(&s.phi);
                [p.beta, p.b, p.gamma.abs(), p.eta.abs()]
            })
        })
        .collect();
    let ok: Vec<[f64; 4]> = fits.iter().flatten().copied().collect();
    let blocks = calls.down.len();
    // resampling B blocks: the bootstrap variance is (B-1)/B of the sampling variance
    let small = (blocks as f64 / (blocks.max(2) - 1) as f64).sqrt();
    let t = critical_value(blocks.max(2) - 1).unwrap_or(1.96);
    let hat = to_params(&phi_hat);
    let mut params = ByParam::default();
    for prm in Param::ALL {
        let i = prm.index();
        if !free[i] || ok.len() < 2 {
            continue;
        }
        let v: Vec<f64> = ok.iter().map(|a| a[i]).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt();
        let se = sd * small;
        let x = if prm.is_even() {
            hat.get(prm).abs()
        } else {
            hat.get(prm)
        };
        let e: &mut Estimate = &mut params[prm];
        e.se = Some(se);
        e.lo = Some(if prm.is_even() {
            (x - t * se).max(0.0)
        } else {
            x - t * se
        });
        e.hi = Some(x + t * se);
    }
    BootstrapFit {
        reps: weights.len(),
        failed: fits.len() - ok.len(),
        blocks,
        params,
    }
}

/// One replicate's pooled counts and (per call) its cells, calls taken with multiplicity `w[call]`.
fn replicate(calls: &CallCounts, w: &[u32], per_call: bool) -> (QubitCounts, Option<QubitCounts>) {
    let n_h = calls.h.len();
    let (mut k, mut n) = (vec![0u64; n_h], vec![0u64; n_h]);
    let mut cells = per_call.then(QubitCounts::default);
    for ih in 0..n_h {
        for (c, &m) in w.iter().enumerate() {
            let (kc, nc) = (calls.down[c][ih], calls.reads[c][ih]);
            if m == 0 || nc == 0 {
                continue;
            }
            k[ih] += u64::from(m) * u64::from(kc);
            n[ih] += u64::from(m) * u64::from(nc);
            if let Some(cells) = cells.as_mut() {
                for _ in 0..m {
                    cells.h.push(calls.h[ih]);
                    cells.k.push(f64::from(kc));
                    cells.n.push(f64::from(nc));
                }
            }
        }
    }
    let mut d = QubitCounts::default();
    for ih in 0..n_h {
        if n[ih] > 0 {
            d.h.push(calls.h[ih]);
            d.k.push(k[ih] as f64);
            d.n.push(n[ih] as f64);
        }
    }
    (d, cells)
}

/// Linear-interpolated percentile of sorted data (`q` in [0, 1]).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let i = pos.floor() as usize;
    let j = (i + 1).min(sorted.len() - 1);
    let f = pos - i as f64;
    sorted[i] * (1.0 - f) + sorted[j] * f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_deterministic_and_sum_to_calls() {
        let a = draw_weights(7, 3, 42);
        assert_eq!(a, draw_weights(7, 3, 42));
        assert_ne!(a, draw_weights(7, 3, 43));
        assert!(a.iter().all(|w| w.iter().sum::<u32>() == 7));
        assert!((percentile(&[1.0, 2.0, 3.0], 0.5) - 2.0).abs() < 1e-15);
    }
}
