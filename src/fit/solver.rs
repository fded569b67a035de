//! A damped Newton (Levenberg–Marquardt) maximiser for ≤ 4 parameters with exact gradient and Hessian.
//!
//! Each iteration solves `(-H + λ D) δ = ∇ℓ` on the free parameters (`D` = the diagonal of `|H|`, floored),
//! limits the step, and accepts it only if ℓ does not decrease; λ shrinks after a success and grows
//! after a failure. It stops when `-H` is positive definite and the Newton decrement `∇ℓ·δ` (twice the
//! predicted gain) is below the tolerance: a strict local maximum. A stationary point where `-H` is not
//! positive definite (a saddle, e.g. γ = 0 or η = 0 with upward curvature, physics.md §3) is left by a
//! small push along the coordinates of non-negative curvature, so the solver never stops there.
//!
//! γ and η enter ℓ only through their squares. Where ℓ rises towards θ = 0 and is concave in ζ = θ²,
//! the step is taken in ζ (see `step_system`): near a maximum on the bound ℓ ≈ ℓ₀ + c₂θ² + c₄θ⁴ and
//! Newton in θ would shrink θ by only ≈ 2/3 per iteration, while in ζ it lands on the bound at once
//! (an active-set step: the other coordinates are re-solved with ζ held there). The convergence and
//! saddle tests stay in θ, where the bound is an ordinary point.

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
    // coordinates pushed off a saddle at θ = 0: ζ steps may shrink them but not land on 0 again
    let mut pushed = [false; 4];
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
                        pushed[i] = true;
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
        // The Newton system in step coordinates (ζ = θ² for γ, η where that is better, see `step_system`).
        // An even coordinate exactly at 0 has zero gradient and no coupling there (ℓ is even in it): it
        // takes no step (the push above moves it off a saddle) and must not drive the damping.
        let act: Vec<usize> = idx
            .iter()
            .copied()
            .filter(|&i| !(EVEN[i] && phi[i] == 0.0))
            .collect();
        let (sq, sneg, sg) = step_system(&phi, &e, neg, &act);
        if cholesky(&sneg, &act).is_none() {
            lambda = lambda.max(1e-3);
        }
        let sdiag = act
            .iter()
            .map(|&i| sneg[i][i].abs())
            .fold(0.0, f64::max)
            .max(1e-300);
        // Raise λ until the damped matrix is positive definite (not counted as iterations).
        let mut damped = None;
        while lambda <= 1e12 {
            let mut a = sneg;
            for &i in &act {
                a[i][i] += lambda * sneg[i][i].abs().max(1e-9 * sdiag);
            }
            if let Some(l) = cholesky(&a, &act) {
                damped = Some((a, l));
                break;
            }
            lambda = (lambda * 4.0).max(1e-3);
        }
        let Some((a, l)) = damped else {
            return Solution::at(phi, e, it, StopReason::Stalled);
        };
        let d = projected_step(&a, &l, &act, &sg, &phi, &sq, &pushed);
        let trial = take_step(&phi, &act, &d, &sq);
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

/// Smallest factor by which one step may shrink ζ = θ² of a coordinate pushed off a saddle at θ = 0
/// (where the maximum is at a tiny θ* > 0, a step overshooting below 0 would land on the saddle again).
const MIN_SHRINK: f64 = 1e-2;

/// |θ| below which an even coordinate does not step in ζ (1/θ² must stay finite) and a ζ step lands on 0.
const TINY: f64 = 1e-100;

/// γ and η: ℓ depends on them only through their squares (docs/physics.md §3).
const EVEN: [bool; 4] = [false, false, true, true];

/// The Newton system `(-H, ∇ℓ)` in step coordinates (from `neg` = -H in θ), with the coordinates that
/// step in ζ = θ².
///
/// Near θ = 0, ℓ(θ) = ℓ₀ + c₂θ² + c₄θ⁴ + …: Newton in θ shrinks θ by only ≈ 2/3 per iteration once the
/// quartic term dominates (a maximum on or near the bound θ = 0, which is common for η), while ℓ is
/// smooth in ζ = θ². An even coordinate θ ≠ 0 therefore steps in ζ when ℓ rises towards the bound
/// (`ℓ_ζ < 0`; moving away from it, θ steps as usual), ℓ is concave in ζ, and that curvature is
/// computable without cancellation:
/// `ℓ_ζ = ℓ_θ/(2θ)`, `ℓ_ζζ = (ℓ_θθ - ℓ_θ/θ)/(4θ²)`, `ℓ_ζx = ℓ_θx/(2θ)`.
/// The convergence and saddle tests stay in θ (where the bound θ = 0 is an ordinary point).
fn step_system(
    phi: &[f64; 4],
    e: &LogLik,
    mut neg: [[f64; 4]; 4],
    idx: &[usize],
) -> ([bool; 4], [[f64; 4]; 4], [f64; 4]) {
    let mut grad = e.grad;
    let mut sq = [false; 4];
    for &i in idx {
        let t = phi[i];
        if !(EVEN[i] && t.abs() > TINY && t.is_finite()) {
            continue;
        }
        let slope = e.grad[i] / t;
        let curv = e.hess[i][i] - slope;
        if slope < 0.0 && curv < 0.0 && curv.abs() > 1e-6 * (e.hess[i][i].abs() + slope.abs()) {
            sq[i] = true;
        }
    }
    for &i in idx {
        if !sq[i] {
            continue;
        }
        let t = phi[i];
        let j2 = 1.0 / (2.0 * t);
        grad[i] = e.grad[i] * j2;
        for &k in idx {
            if k != i {
                neg[i][k] *= j2;
                neg[k][i] *= j2;
            }
        }
        neg[i][i] = -(e.hess[i][i] - e.grad[i] / t) * j2 * j2;
    }
    let g = std::array::from_fn(|k| if k < idx.len() { grad[idx[k]] } else { 0.0 });
    (sq, neg, g)
}

/// The damped Newton step `a δ = g` (on `idx`, factor `l`), projected onto ζ ≥ floor for the ζ
/// coordinates: one whose step would cross its floor (0, or [`MIN_SHRINK`] ζ once pushed off a saddle)
/// stops on it, and the other coordinates are re-solved with that step fixed (an active-set step, so
/// that they do not move as if ζ had gone below its bound).
fn projected_step(
    a: &[[f64; 4]; 4],
    l: &[[f64; 4]; 4],
    idx: &[usize],
    g: &[f64; 4],
    phi: &[f64; 4],
    sq: &[bool; 4],
    pushed: &[bool; 4],
) -> [f64; 4] {
    let m = idx.len();
    let d = cholesky_solve(l, m, g);
    let mut fixed: [Option<f64>; 4] = [None; 4];
    for (k, &i) in idx.iter().enumerate() {
        if sq[i] {
            let z2 = phi[i] * phi[i];
            let floor = if pushed[i] { MIN_SHRINK * z2 } else { 0.0 };
            if z2 + d[k] < floor {
                fixed[k] = Some(floor - z2);
            }
        }
    }
    if fixed.iter().all(Option::is_none) {
        return d;
    }
    let rest: Vec<usize> = (0..m).filter(|&k| fixed[k].is_none()).collect();
    let rest_idx: Vec<usize> = rest.iter().map(|&k| idx[k]).collect();
    let mut rhs = [0.0; 4];
    for (r, &k) in rest.iter().enumerate() {
        rhs[r] = g[k];
        for (c, f) in fixed.iter().enumerate() {
            if let Some(dc) = f {
                rhs[r] -= a[idx[k]][idx[c]] * dc;
            }
        }
    }
    // a principal sub-block of a positive definite matrix is positive definite
    let sub = cholesky(a, &rest_idx).map(|lr| cholesky_solve(&lr, rest.len(), &rhs));
    let mut out = [0.0; 4];
    for k in 0..m {
        out[k] = fixed[k].unwrap_or(0.0);
    }
    if let Some(x) = sub {
        for (r, &k) in rest.iter().enumerate() {
            out[k] = x[r];
        }
    }
    out
}

/// The trial point after the step `d` (in step coordinates, on `idx`), scaled down so that no working
/// coordinate moves by more than [`MAX_STEP`]; a ζ coordinate stepping to ζ ≤ 0 lands on θ = 0.
fn take_step(phi: &[f64; 4], idx: &[usize], d: &[f64; 4], sq: &[bool; 4]) -> [f64; 4] {
    let mut scale = 1.0f64;
    for (k, &i) in idx.iter().enumerate() {
        let (lim, dk) = (MAX_STEP[i], d[k].abs());
        let allowed = if !sq[i] {
            lim
        } else {
            // |√(θ² + δ) - θ| ≤ lim ⇔ δ ≤ lim (2θ + lim) upwards, -δ ≤ lim (2θ - lim) downwards
            let t = phi[i].abs();
            if d[k] > 0.0 {
                lim * (2.0 * t + lim)
            } else if t > lim {
                lim * (2.0 * t - lim)
            } else {
                f64::INFINITY
            }
        };
        if dk * scale > allowed {
            scale = allowed / dk;
        }
    }
    let mut trial = *phi;
    for (k, &i) in idx.iter().enumerate() {
        if sq[i] {
            let z = phi[i] * phi[i] + scale * d[k];
            trial[i] = if z > TINY * TINY {
                z.sqrt().copysign(phi[i])
            } else {
                0.0
            };
        } else {
            trial[i] += scale * d[k];
        }
    }
    trial
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

    /// ℓ = -(φ₀-1)² - 10(φ₁+2)² + c₂η² + c₄η⁴ (γ fixed): even in η like the QASA likelihood.
    struct Even {
        c2: f64,
        c4: f64,
    }
    impl Objective for Even {
        fn eval(&self, p: &[f64; 4], _o: Order) -> LogLik {
            let t = p[3];
            let mut e = LogLik {
                ll: -(p[0] - 1.0).powi(2) - 10.0 * (p[1] + 2.0).powi(2)
                    + self.c2 * t * t
                    + self.c4 * t.powi(4),
                ..Default::default()
            };
            e.grad = [
                -2.0 * (p[0] - 1.0),
                -20.0 * (p[1] + 2.0),
                0.0,
                2.0 * self.c2 * t + 4.0 * self.c4 * t.powi(3),
            ];
            e.hess[0][0] = -2.0;
            e.hess[1][1] = -20.0;
            e.hess[3][3] = 2.0 * self.c2 + 12.0 * self.c4 * t * t;
            e
        }
    }

    const FREE: [bool; 4] = [true, true, false, true];

    #[test]
    fn a_maximum_on_the_bound_is_reached_in_a_few_steps() {
        // Quartic-dominated: Newton in η alone shrinks η by only 2/3 per step (≈ 25 steps to 1e-5).
        let s = maximize(
            &Even {
                c2: -1e-3,
                c4: -50.0,
            },
            [0.5, -1.95, 0.0, 0.1],
            FREE,
            &SolverOptions::default(),
        );
        assert_eq!(s.stop, StopReason::Converged, "{s:?}");
        assert!(s.phi[3].abs() < 1e-7, "{s:?}");
        assert!(s.iterations <= 6, "{} iterations", s.iterations);
    }

    #[test]
    fn a_tiny_interior_maximum_is_not_mistaken_for_the_bound() {
        // ℓ = 1e-4 ζ - 50 ζ² in ζ = η²: maximum at ζ* = 1e-6 (|η*| = 1e-3), saddle at η = 0.
        for eta0 in [0.2, 0.01, -0.05] {
            let s = maximize(
                &Even {
                    c2: 1e-4,
                    c4: -50.0,
                },
                [0.5, -1.95, 0.0, eta0],
                FREE,
                &SolverOptions::default(),
            );
            assert_eq!(s.stop, StopReason::Converged, "{s:?}");
            assert!((s.phi[3].abs() - 1e-3).abs() < 1e-6, "from {eta0}: {s:?}");
            assert!(s.iterations <= 20, "{} iterations", s.iterations);
        }
    }

    #[test]
    fn ascending_in_an_even_coordinate_keeps_working() {
        // maximum at |η| = 0.2 from both sides
        for eta0 in [0.02, 0.6] {
            let s = maximize(
                &Even { c2: 0.08, c4: -1.0 },
                [0.5, -1.95, 0.0, eta0],
                FREE,
                &SolverOptions::default(),
            );
            assert_eq!(s.stop, StopReason::Converged, "{s:?}");
            assert!((s.phi[3].abs() - 0.2).abs() < 1e-6, "from {eta0}: {s:?}");
        }
    }
}
