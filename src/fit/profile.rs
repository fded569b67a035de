//! Profile-likelihood 95 % intervals: the set `{v : 2(ℓ̂ - max_{others} ℓ(θ_j = v)) ≤ 3.841}`.
//!
//! Each side is bracketed by doubling steps from the estimate (first step 1.96 SE, so a quadratic
//! profile is hit at once) and the crossing is found by the Illinois variant of regula falsi. Inner fits
//! are warm-started from the previous profile point. β is profiled in ln β; γ and η (even in the model)
//! are profiled on `|θ| ≥ 0`, so an interval reaching the bound has lower end 0 (physics.md §3.2).

use super::objective::Likelihood;
use super::solver::{maximize, SolverOptions, StopReason};
use crate::model::Param;

/// χ²₁ 95 % quantile.
pub const CHI2_95: f64 = 3.841458820694124;

/// One profile interval in working coordinates (for β: ln β), and a better point if one was met.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProfileInterval {
    pub lo: Option<f64>,
    pub hi: Option<f64>,
    /// A point with higher ℓ than the fit (the fit was not the global maximum).
    pub better: Option<([f64; 4], f64)>,
}

/// Tolerance on the signed root `z = sqrt(D)` at an interval end (z* = 1.96): the coverage of the
/// interval moves by at most 2 φ(1.96) × 2e-3 ≈ 0.03 % (absolute).
const Z_TOL: f64 = 2e-3;

/// Fallback first step per working coordinate when the SE is unusable.
const FALLBACK: [f64; 4] = [0.05, 2e-3, 0.02, 0.01];

struct Prof<'a> {
    obj: &'a Likelihood<'a>,
    free: [bool; 4],
    j: usize,
    ll_hat: f64,
    warm: [f64; 4],
    /// ∂θ_i/∂θ_j along the ridge of the quadratic approximation (Σ_ij/Σ_jj), working coordinates.
    slope: [f64; 4],
    opts: SolverOptions,
    better: Option<([f64; 4], f64)>,
}

impl Prof<'_> {
    /// Profile deviance at θ_j = v.
    fn dev(&mut self, v: f64) -> Option<f64> {
        let mut free = self.free;
        free[self.j] = false;
        let mut start = self.warm;
        let dv = v - start[self.j];
        for i in 0..4 {
            if free[i] {
                start[i] += self.slope[i] * dv;
            }
        }
        start[self.j] = v;
        for i in Param::EVEN.map(Param::index) {
            if free[i] && start[i].abs() < 1e-4 {
                start[i] = 1e-3;
            }
        }
        let s = maximize(self.obj, start, free, &self.opts);
        if !s.ll.is_finite() || s.stop == StopReason::NonFinite {
            return None;
        }
        if s.stop == StopReason::Converged {
            self.warm = s.phi;
        }
        let d = 2.0 * (self.ll_hat - s.ll);
        if d < -2e-6 * (1.0 + 1e-9 * self.ll_hat.abs()) && self.better.is_none_or(|b| s.ll > b.1) {
            self.better = Some((s.phi, s.ll));
        }
        Some(d)
    }

    /// Crossing on one side: `dir` = ±1; `floor` = Some(0) for |γ|, |η| going down.
    fn side(&mut self, center: f64, first: f64, dir: f64, floor: Option<f64>) -> Option<f64> {
        // Work with the signed root z(v) = sqrt(D(v)), nearly linear in v, against z* = sqrt(χ²).
        let target = CHI2_95.sqrt();
        let (mut v0, mut z0) = (center, 0.0);
        let mut step = first;
        let mut v1;
        let mut z1;
        let mut n = 0;
        loop {
            v1 = center + dir * step;
            if let Some(f) = floor {
                if v1 <= f {
                    v1 = f;
                }
            }
            z1 = self.dev(v1)?.max(0.0).sqrt();
            if (z1 - target).abs() < Z_TOL && floor.is_none_or(|f| v1 > f) {
                // a quadratic profile: the first step (1.96 SE) already hits the crossing
                return Some(v1);
            }
            if z1 >= target {
                break;
            }
            if floor.is_some_and(|f| v1 <= f) {
                return floor;
            }
            v0 = v1;
            z0 = z1;
            // extrapolate linearly in z (5 % beyond), at most ×4
            let grow = if z1 > 1e-6 {
                (1.05 * target / z1).min(4.0)
            } else {
                4.0
            };
            step *= grow.max(1.2);
            n += 1;
            if n > 40 {
                return None;
            }
        }
        // Illinois regula falsi on z(v) - z*
        let (mut fa, mut fb) = (z0 - target, z1 - target);
        let (mut a, mut b) = (v0, v1);
        let mut side = 0;
        for _ in 0..40 {
            let c = if fb != fa {
                b - fb * (b - a) / (fb - fa)
            } else {
                0.5 * (a + b)
            };
            let c = if c.is_finite() && (c - a) * (c - b) <= 0.0 {
                c
            } else {
                0.5 * (a + b)
            };
            let fc = self.dev(c)?.max(0.0).sqrt() - target;
            if fc.abs() < Z_TOL || (b - a).abs() < 1e-10 * (1.0 + c.abs()) {
                return Some(c);
            }
            if fc * fb > 0.0 {
                b = c;
                fb = fc;
                if side == -1 {
                    fa *= 0.5;
                }
                side = -1;
            } else {
                a = c;
                fa = fc;
                if side == 1 {
                    fb *= 0.5;
                }
                side = 1;
            }
        }
        Some(0.5 * (a + b))
    }
}

/// The profile interval of `param` around the maximum `phi_hat` (working coordinates, ℓ̂ = `ll_hat`).
/// `cov_phi`, the inverse observed information in working coordinates, sets the first step (1.96 SE)
/// and the warm starts of the inner fits (moved along the ridge `Σ_ij/Σ_jj`).
pub fn profile_interval(
    obj: &Likelihood<'_>,
    free: [bool; 4],
    phi_hat: [f64; 4],
    ll_hat: f64,
    param: Param,
    cov_phi: Option<&[[f64; 4]; 4]>,
    opts: &SolverOptions,
) -> ProfileInterval {
    let j = param.index();
    let var = cov_phi
        .map(|c| c[j][j])
        .filter(|v| v.is_finite() && *v > 0.0);
    let mut slope = [0.0; 4];
    if let (Some(c), Some(vj)) = (cov_phi, var) {
        // for |γ|, |η| profiled from a negative estimate the ridge direction flips
        let sign = if param.is_even() && phi_hat[j] < 0.0 {
            -1.0
        } else {
            1.0
        };
        for i in 0..4 {
            if i != j && free[i] && c[i][j].is_finite() {
                slope[i] = sign * c[i][j] / vj;
            }
        }
    }
    let inner = SolverOptions {
        tol: opts.tol.max(1e-5),
        ..*opts
    };
    let mut pr = Prof {
        obj,
        free,
        j,
        ll_hat,
        warm: phi_hat,
        slope,
        opts: inner,
        better: None,
    };
    let first = var.map_or(FALLBACK[j], |v| 1.96 * v.sqrt());
    let (lo, hi) = if param.is_even() {
        let c = phi_hat[j].abs();
        let mut hat = phi_hat;
        hat[j] = c;
        pr.warm = hat;
        let hi = pr.side(c, first, 1.0, None);
        pr.warm = hat;
        let lo = if c <= 1e-7 {
            Some(0.0)
        } else {
            pr.side(c, first.min(c), -1.0, Some(0.0))
        };
        (lo, hi)
    } else {
        let c = phi_hat[j];
        let hi = pr.side(c, first, 1.0, None);
        pr.warm = phi_hat;
        let lo = pr.side(c, first, -1.0, None);
        (lo, hi)
    };
    ProfileInterval {
        lo,
        hi,
        better: pr.better,
    }
}
