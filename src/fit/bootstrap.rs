//! Block bootstrap over calls (docs/physics.md §3.5): each replicate draws as many calls as recorded,
//! with replacement, sums their counts and refits. The same call draws are used for every qubit
//! (replicate r uses `Pcg64Mcg::seed_from_u64(seed ⊕ r·golden)`), so results do not depend on threads.
//! Reports the standard deviation and the 2.5 %/97.5 % percentiles of β, b, |γ|, |η|.

use super::objective::{to_params, Likelihood};
use super::result::{BootstrapFit, ByParam, Estimate};
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

/// Bootstrap summary for one qubit, refitting `model` from the full-data optimum `phi_hat`.
pub fn bootstrap_qubit(
    model: Model,
    calls: &CallCounts,
    weights: &[Vec<u32>],
    phi_hat: [f64; 4],
    opts: &SolverOptions,
) -> BootstrapFit {
    let free = model.free();
    let fits: Vec<Option<[f64; 4]>> = weights
        .par_iter()
        .map(|w| {
            let n_h = calls.h.len();
            let (mut k, mut n) = (vec![0u64; n_h], vec![0u64; n_h]);
            for (c, &m) in w.iter().enumerate() {
                if m == 0 {
                    continue;
                }
                for ih in 0..n_h {
                    k[ih] += u64::from(m) * u64::from(calls.down[c][ih]);
                    n[ih] += u64::from(m) * u64::from(calls.reads[c][ih]);
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
            let obj = Likelihood {
                kind: model.noise(),
                data: &d,
            };
            let mut start = phi_hat;
            for i in Param::EVEN.map(Param::index) {
                if free[i] && start[i].abs() < 1e-3 {
                    start[i] = 1e-3;
                }
            }
            let s = maximize(&obj, start, free, opts);
            (s.stop == StopReason::Converged).then(|| {
                let p = to_params(&s.phi);
                [p.beta, p.b, p.gamma.abs(), p.eta.abs()]
            })
        })
        .collect();
    let ok: Vec<[f64; 4]> = fits.iter().flatten().copied().collect();
    let mut params = ByParam::default();
    for prm in Param::ALL {
        let i = prm.index();
        if !free[i] || ok.len() < 2 {
            continue;
        }
        let mut v: Vec<f64> = ok.iter().map(|a| a[i]).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt();
        v.sort_by(f64::total_cmp);
        let e: &mut Estimate = &mut params[prm];
        e.se = Some(sd);
        e.lo = Some(percentile(&v, 0.025));
        e.hi = Some(percentile(&v, 0.975));
    }
    BootstrapFit {
        reps: weights.len(),
        failed: fits.len() - ok.len(),
        params,
    }
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
