//! A damped Newton (Levenberg–Marquardt) maximiser for ≤ 4 parameters with exact gradient and Hessian.
//!
//! Each iteration solves `(-H + λ D) δ = ∇ℓ` on the free parameters (`D` = the diagonal of `|H|`, floored),
//! limits the step, and accepts it only if ℓ does not decrease; λ shrinks after a success and grows
//! after a failure. It stops when `-H` is positive definite and the Newton decrement `∇ℓ·δ` (twice the
//! predicted gain) is below the tolerance: a strict local maximum. A stationary point where `-H` is not
//! positive definite (a saddle, e.g. γ = 0 or η = 0 with upward curvature, physics.md §3) is left by a
//! small push along the coordinates of non-negative curvature, so the solver never stops there.

use super::linalg::{cholesky, cholesky_solve};
use super::objective::Objective;
use crate::model::{LogLik, Order};
use serde::{Deserialize, Serialize};

/// Why the solver stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Local maximum: -H positive definite and Newton decrement below tolerance.
    Converged,
    /// `max_iter` iterations without convergence.
    IterationLimit,
    /// No step (even heavily damped) increases ℓ, yet the decrement is not small.
    Stalled,
    /// ℓ is not finite at the starting point.
    NonFinite,
}

/// Solver settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SolverOptions {
    /// Maximum number of iterations (accepted or rejected steps).
    pub max_iter: usize,
    /// Convergence tolerance on the Newton decrement, nats.
    pub tol: f64,
}

impl Default for SolverOptions {
    fn default() -> Self {
        SolverOptions {
            max_iter: 200,
            tol: 1e-6,
        }
    }
}

/// Result of one maximisation.
#[derive(Clone, Copy, Debug)]
pub struct Solution {
    /// Working coordinates at the end.
    pub phi: [f64; 4],
    /// ℓ at `phi`.
    pub ll: f64,
    pub iterations: usize,
    pub stop: StopReason,
    /// ℓ with gradient and Hessian (working coordinates) at `phi`.
    pub eval: LogLik,
}

impl Solution {
    /// The solution at `phi` with its evaluation `eval` (ℓ is `eval.ll`).
    fn at(phi: [f64; 4], eval: LogLik, iterations: usize, stop: StopReason) -> Self {
        Solution {
            phi,
            ll: eval.ll,
            eval,
            iterations,
            stop,
        }
    }
}

/// Largest step per working coordinate (ln β, b, γ, η).
const MAX_STEP: [f64; 4] = [0.7, 0.1, 0.2, 0.1];
/// Push used to leave a saddle.
const PUSH: [f64; 4] = [0.05, 1e-3, 0.02, 0.01];

/// Maximises `obj` over the coordinates marked `free`, from `phi0`.
pub fn maximize(
    obj: &dyn Objective,
    phi0: [f64; 4],
    free: [bool; 4],
    opts: &SolverOptions,
) -> Solution {
    let idx: Vec<usize> = (0..4).filter(|&i| free[i]).collect();
    let m = idx.len();
    let mut phi = phi0;
    let mut e = obj.eval(&phi, Order::Hessian);
    if !e.ll.is_finite() {
        return Solution::at(phi, e, 0, StopReason::NonFinite);
    }
    if m == 0 {
        return Solution::at(phi, e, 0, StopReason::Converged);
    }
    let mut lambda = 0.0f64;
    let mut pushes = 0;
    for it in 1..=opts.max_iter {
        let mut neg = [[0.0; 4]; 4];
        for i in 0..4 {
            for j in 0..4 {
                neg[i][j] = -e.hess[i][j];
            }
        }
        let g: [f64; 4] = std::array::from_fn(|k| if k < m { e.grad[idx[k]] } else { 0.0 });
        let maxdiag = idx
            .iter()
            .map(|&i| neg[i][i].abs())
            .fold(0.0, f64::max)
            .max(1e-300);
        let pd = cholesky(&neg, &idx);
        // Converged: strict local maximum with a tiny Newton decrement.
        if let Some(l) = &pd {
            let d = cholesky_solve(l, m, &g);
            let dec: f64 = (0..m).map(|k| g[k] * d[k]).sum();
            if dec.is_finite() && dec < opts.tol {
                return Solution::at(phi, e, it - 1, StopReason::Converged);
            }
        } else {
            let gnorm = (0..m).map(|k| g[k] * g[k] / maxdiag).sum::<f64>();
            if gnorm < opts.tol && pushes < 4 {
                // At a saddle or flat point: push along coordinates with non-negative curvature.
                pushes += 1;
                for &i in &idx {
                    if neg[i][i] <= 1e-12 * maxdiag {
                        phi[i] += if phi[i] >= 0.0 { PUSH[i] } else { -PUSH[i] };
                    }
                }
                e = obj.eval(&phi, Order::Hessian);
                if !e.ll.is_finite() {
                    return Solution::at(phi, e, it, StopReason::NonFinite);
                }
                lambda = lambda.max(1e-3);
                continue;
            }
        }
        if pd.is_none() {
            lambda = lambda.max(1e-3);
        }
        // Raise λ until the damped matrix is positive definite (not counted as iterations).
        let mut factor = None;
        while lambda <= 1e12 {
            let mut a = neg;
            for &i in &idx {
                a[i][i] += lambda * neg[i][i].abs().max(1e-9 * maxdiag);
            }
            if let Some(l) = cholesky(&a, &idx) {
                factor = Some(l);
                break;
            }
            lambda = (lambda * 4.0).max(1e-3);
        }
        let Some(l) = factor else {
            return Solution::at(phi, e, it, StopReason::Stalled);
        };
        let d = cholesky_solve(&l, m, &g);
        let mut scale = 1.0f64;
        for k in 0..m {
            let lim = MAX_STEP[idx[k]];
            if d[k].abs() * scale > lim {
                scale = lim / d[k].abs();
            }
        }
        let mut trial = phi;
        for k in 0..m {
            trial[idx[k]] += scale * d[k];
        }
        let e2 = obj.eval(&trial, Order::Hessian);
        if e2.ll.is_finite() && e2.ll >= e.ll {
            let gain = e2.ll - e.ll;
            phi = trial;
            e = e2;
            lambda = if lambda < 1e-6 { 0.0 } else { lambda * 0.1 };
            // Tiny accepted gains with a damped step: let the convergence test decide next round.
            if gain == 0.0 && lambda == 0.0 && pd.is_some() {
                return Solution::at(phi, e, it, StopReason::Converged);
            }
        } else {
            lambda = (lambda * 10.0).max(0.1);
            if lambda > 1e12 {
                return Solution::at(phi, e, it, StopReason::Stalled);
            }
        }
    }
    Solution::at(phi, e, opts.max_iter, StopReason::IterationLimit)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ℓ = -(φ₀-1)² - 10(φ₁+2)² + φ₂² (saddle direction fixed) - (φ₃² - 1)²: maximum at η = ±1, saddle at 0.
    struct Toy;
    impl Objective for Toy {
        fn eval(&self, p: &[f64; 4], _o: Order) -> LogLik {
            let ll =
                -(p[0] - 1.0).powi(2) - 10.0 * (p[1] + 2.0).powi(2) - (p[3] * p[3] - 1.0).powi(2);
            let mut e = LogLik {
                ll,
                ..Default::default()
            };
            e.grad = [
                -2.0 * (p[0] - 1.0),
                -20.0 * (p[1] + 2.0),
                0.0,
                -4.0 * p[3] * (p[3] * p[3] - 1.0),
            ];
            e.hess[0][0] = -2.0;
            e.hess[1][1] = -20.0;
            e.hess[3][3] = -12.0 * p[3] * p[3] + 4.0;
            e
        }
    }

    #[test]
    fn finds_the_maximum_and_leaves_the_saddle() {
        let s = maximize(
            &Toy,
            [0.0, 0.0, 0.0, 0.0],
            [true, true, false, true],
            &SolverOptions::default(),
        );
        assert_eq!(s.stop, StopReason::Converged, "{s:?}");
        assert!((s.phi[0] - 1.0).abs() < 1e-6 && (s.phi[1] + 2.0).abs() < 1e-6);
        assert!((s.phi[3].abs() - 1.0).abs() < 1e-4, "{:?}", s.phi);
    }
}
