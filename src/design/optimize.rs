//! The optimiser: how many units of each candidate (see [`super::candidates`]) a plan gets.
//!
//! Each target is a bound on the root mean square, over the prior's qubits of one scenario (see
//! [`super::prior`]), of a standard error: `f_k(n) = (1/K_s) Σ_{j ∈ s} w_jk [M_j(n)⁻¹]_{p_k p_k} ≤ t_k²`,
//! with `M_j(n) = B_j + Σ_c n_c I_cj` the information about prior qubit j (B_j: data already taken),
//! `w_jk = 1/β_j²` for a relative target on β and 1 otherwise. Information and cost are both linear in the units, so the continuous problem is convex.
//!
//! 1. **Continuous design.** With `ξ_c` the share of the QPU time spent on candidate c (Σ ξ = 1) and a
//!    budget T, `n_c = ξ_c T / cost_c`. At fixed T the criterion `Φ = Σ_k λ_k f_k / t_k²` is minimised by
//!    the multiplicative algorithm for A-optimal designs, `ξ_c ← ξ_c (d_c / Σ ξ d)^½` with
//!    `d_c = Σ_j tr(A_j I_cj) / cost_c`, `A_j = M_j⁻¹ D_j M_j⁻¹` (D_j the weights of each parameter),
//!    while the weights λ_k move towards the binding targets (minimax: the largest ratio `f_k/t_k²` is
//!    minimised). Without earlier data the ratios scale as 1/T, so the least T meeting every target is
//!    the largest ratio at T = 1 µs; with earlier data T is found by bisection.
//! 2. **Whole calls.** The units are rounded, then units are added where the gradient per µs is largest
//!    until every target holds (or, for a budget, while one still fits), and removed again where that
//!    keeps every target (cheapest first).

// Small fixed-size numeric kernels read best with index loops.
#![allow(clippy::needless_range_loop)]

use super::candidates::CandidateSet;
use super::error::DesignError;
use super::prior::Prior;
use crate::collect::build::MAX_CALLS;
use crate::collect::design_record::TargetSe;
use crate::collect::information::{invert, Mat4};
use rayon::prelude::*;

/// Iterations of the multiplicative algorithm.
pub const ITERATIONS: usize = 1500;
/// Iterations per bisection step (warm-started).
const BISECTION_ITERATIONS: usize = 150;
/// Bisection steps on the QPU time when earlier data exist.
const BISECTION_STEPS: usize = 14;
/// Shares below `PRUNE / candidates` are set to 0 every 50 iterations.
const PRUNE: f64 = 1e-4;

/// One target: RMS SE of parameter `param` (0 β, 1 b, 2 γ, 3 η) over the prior qubits of one scenario,
/// relative to β when `relative`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Constraint {
    pub param: usize,
    pub relative: bool,
    pub target: f64,
    pub scenario: usize,
}

/// The constraints of a set of targets for one scenario of the prior.
pub fn constraints(t: &TargetSe, scenario: usize) -> Vec<Constraint> {
    let mut v = Vec::new();
    let mut push = |param, relative, x: Option<f64>| {
        if let Some(target) = x {
            v.push(Constraint {
                param,
                relative,
                target,
                scenario,
            });
        }
    };
    push(0, false, t.beta);
    push(0, true, t.beta_rel);
    push(1, false, t.b);
    push(2, false, t.gamma);
    push(3, false, t.eta);
    v
}

/// A design problem: candidates, earlier information, weights.
pub struct Problem<'a> {
    set: &'a CandidateSet,
    base: Vec<Mat4>,
    cons: Vec<Constraint>,
    /// `w[j][k]`: weight of qubit j in constraint k, including `1/(K t_k²)`.
    w: Vec<Vec<f64>>,
}

/// Units per candidate and what they cost.
#[derive(Clone, Debug, PartialEq)]
pub struct Solution {
    pub units: Vec<u32>,
    pub cost_us: f64,
    /// `f_k / t_k²` per constraint (≤ 1 when the targets hold).
    pub ratios: Vec<f64>,
}

impl<'a> Problem<'a> {
    pub fn new(
        set: &'a CandidateSet,
        prior: &Prior,
        base: Option<Vec<Mat4>>,
        cons: Vec<Constraint>,
    ) -> Result<Self, DesignError> {
        if cons.is_empty() {
            return Err(DesignError::NoTargets);
        }
        for c in &cons {
            if !(c.target.is_finite() && c.target > 0.0) {
                return Err(DesignError::NotPositive {
                    what: "a target standard error".into(),
                    value: c.target,
                });
            }
        }
        let in_scenario = |s: usize| prior.qubits.iter().filter(|q| q.scenario == s).count();
        let w = prior
            .qubits
            .iter()
            .map(|q| {
                cons.iter()
                    .map(|c| {
                        if q.scenario != c.scenario {
                            return 0.0;
                        }
                        let rel = if c.relative {
                            1.0 / (q.params.beta * q.params.beta)
                        } else {
                            1.0
                        };
                        rel / (in_scenario(c.scenario).max(1) as f64 * c.target * c.target)
                    })
                    .collect()
            })
            .collect();
        Ok(Problem {
            set,
            base: base.unwrap_or_else(|| vec![[[0.0; 4]; 4]; prior.qubits.len()]),
            cons,
            w,
        })
    }

    fn has_base(&self) -> bool {
        self.base.iter().flatten().flatten().any(|&x| x != 0.0)
    }

    /// `M_j` for real units `u`.
    fn moments(&self, u: &[f64]) -> Vec<Mat4> {
        (0..self.base.len())
            .into_par_iter()
            .map(|j| {
                let mut m = self.base[j];
                for (c, &x) in u.iter().enumerate() {
                    if x > 0.0 {
                        let i = &self.set.info[c][j];
                        for a in 0..4 {
                            for b in 0..4 {
                                m[a][b] += x * i[a][b];
                            }
                        }
                    }
                }
                m
            })
            .collect()
    }

    /// Ratios `f_k / t_k²` from the inverses; `None` when some `M_j` is singular.
    fn ratios(&self, inv: &[Option<Mat4>]) -> Option<Vec<f64>> {
        let mut r = vec![0.0; self.cons.len()];
        for (j, m) in inv.iter().enumerate() {
            let m = m.as_ref()?;
            for (k, c) in self.cons.iter().enumerate() {
                let v = m[c.param][c.param];
                if !(v.is_finite() && v > 0.0) {
                    return None;
                }
                r[k] += self.w[j][k] * v;
            }
        }
        Some(r)
    }

    /// Gradient per µs of `Σ_k λ_k f_k/t_k²` (decrease per µs spent on one more unit of c).
    fn gradient(&self, inv: &[Option<Mat4>], lambda: &[f64]) -> Vec<f64> {
        self.gradient_where(inv, lambda, &|_| true)
    }

    /// [`Problem::gradient`] for the candidates `active` accepts (0 for the others).
    fn gradient_where(
        &self,
        inv: &[Option<Mat4>],
        lambda: &[f64],
        active: &(dyn Fn(usize) -> bool + Sync),
    ) -> Vec<f64> {
        let a: Vec<Mat4> = inv
            .iter()
            .enumerate()
            .map(|(j, m)| {
                let Some(m) = m else { return [[0.0; 4]; 4] };
                let mut d = [0.0; 4];
                for (k, c) in self.cons.iter().enumerate() {
                    d[c.param] += lambda[k] * self.w[j][k];
                }
                let mut out = [[0.0; 4]; 4];
                for x in 0..4 {
                    for y in 0..4 {
                        out[x][y] = (0..4).map(|p| m[x][p] * d[p] * m[p][y]).sum();
                    }
                }
                out
            })
            .collect();
        self.set
            .info
            .par_iter()
            .zip(&self.set.cands)
            .enumerate()
            .map(|(c, (infos, cand))| {
                if !active(c) {
                    return 0.0;
                }
                let mut g = 0.0;
                for (aj, ij) in a.iter().zip(infos) {
                    for x in 0..4 {
                        for y in 0..4 {
                            g += aj[x][y] * ij[x][y];
                        }
                    }
                }
                g / cand.cost_us
            })
            .collect()
    }

    fn units_of(&self, xi: &[f64], budget_us: f64) -> Vec<f64> {
        xi.iter()
            .zip(&self.set.cands)
            .map(|(x, c)| x * budget_us / c.cost_us)
            .collect()
    }

    fn inverses(&self, u: &[f64]) -> Vec<Option<Mat4>> {
        self.moments(u).iter().map(invert).collect()
    }

    /// The multiplicative algorithm at budget `budget_us` from `xi`, with minimax weights `lambda`.
    fn iterate(
        &self,
        xi: &mut [f64],
        lambda: &mut [f64],
        budget_us: f64,
        iters: usize,
    ) -> Result<Vec<f64>, DesignError> {
        let mut last = f64::INFINITY;
        let mut ratios = Vec::new();
        for it in 0..iters {
            let inv = self.inverses(&self.units_of(xi, budget_us));
            ratios = self.ratios(&inv).ok_or(DesignError::Singular)?;
            let max = ratios.iter().copied().fold(0.0, f64::max);
            if it % 20 == 19 {
                for (l, r) in lambda.iter_mut().zip(&ratios) {
                    *l *= (r / max).powi(2);
                }
                let s: f64 = lambda.iter().sum();
                lambda.iter_mut().for_each(|l| *l /= s);
                if (last - max).abs() <= 1e-6 * max {
                    break;
                }
                last = max;
            }
            // Shares that have all but vanished stay at 0 (the multiplicative update never revives
            // them); skipping them makes later iterations cheap.
            if it % 50 == 49 {
                let floor = PRUNE / xi.len() as f64;
                xi.iter_mut().filter(|x| **x < floor).for_each(|x| *x = 0.0);
            }
            let snapshot: Vec<bool> = xi.iter().map(|&x| x > 0.0).collect();
            let d = self.gradient_where(&inv, lambda, &|c| snapshot[c]);
            let mean: f64 = xi.iter().zip(&d).map(|(x, g)| x * g).sum();
            if mean.is_nan() || mean <= 0.0 {
                break;
            }
            for (x, g) in xi.iter_mut().zip(&d) {
                *x *= (g / mean).max(0.0).sqrt();
            }
            let s: f64 = xi.iter().sum();
            xi.iter_mut().for_each(|x| *x /= s);
        }
        Ok(ratios)
    }

    fn start(&self) -> (Vec<f64>, Vec<f64>) {
        let c = self.set.cands.len();
        let k = self.cons.len();
        (vec![1.0 / c as f64; c], vec![1.0 / k as f64; k])
    }

    fn cost(&self, n: &[u32]) -> f64 {
        n.iter()
            .zip(&self.set.cands)
            .map(|(&x, c)| f64::from(x) * c.cost_us)
            .sum()
    }

    fn evaluate(&self, n: &[u32]) -> (Vec<Option<Mat4>>, Option<Vec<f64>>) {
        let u: Vec<f64> = n.iter().map(|&x| f64::from(x)).collect();
        let inv = self.inverses(&u);
        let r = self.ratios(&inv);
        (inv, r)
    }

    fn calls(&self, n: &[u32]) -> u64 {
        n.iter()
            .zip(&self.set.cands)
            .map(|(&x, c)| u64::from(x) * u64::from(c.calls))
            .sum()
    }

    /// Least QPU time meeting every target.
    pub fn minimise_cost(&self) -> Result<Solution, DesignError> {
        let (mut xi, mut lambda) = self.start();
        let r1 = self.iterate(&mut xi, &mut lambda, 1.0, ITERATIONS)?;
        let mut budget = r1.iter().copied().fold(0.0, f64::max);
        if self.has_base() {
            let (mut lo, mut hi) = (0.0, budget);
            for _ in 0..BISECTION_STEPS {
                let mid = 0.5 * (lo + hi);
                let r = self.iterate(&mut xi, &mut lambda, mid, BISECTION_ITERATIONS)?;
                if r.iter().all(|&x| x <= 1.0) {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            budget = hi;
            self.iterate(&mut xi, &mut lambda, budget, BISECTION_ITERATIONS)?;
        }
        let needed_s = budget * 1e-6;
        let mut n: Vec<u32> = self
            .units_of(&xi, budget)
            .iter()
            .map(|&u| {
                if u >= 0.5 {
                    u.round().min(f64::from(u32::MAX)) as u32
                } else {
                    0
                }
            })
            .collect();
        if self.calls(&n) > MAX_CALLS {
            return Err(DesignError::Unreachable {
                max_calls: MAX_CALLS,
                needed_s,
            });
        }
        self.repair(&mut n, &lambda, needed_s)?;
        self.trim(&mut n);
        let ratios = self.evaluate(&n).1.ok_or(DesignError::Singular)?;
        Ok(Solution {
            cost_us: self.cost(&n),
            units: n,
            ratios,
        })
    }

    /// Adds units where they help most per µs until every target holds.
    fn repair(&self, n: &mut [u32], lambda: &[f64], needed_s: f64) -> Result<(), DesignError> {
        loop {
            let (inv, r) = self.evaluate(n);
            let weights: Vec<f64> = match &r {
                Some(r) if r.iter().all(|&x| x <= 1.0) => return Ok(()),
                Some(r) => r
                    .iter()
                    .zip(lambda)
                    .map(|(&x, &l)| if x > 1.0 { x } else { 0.1 * l })
                    .collect(),
                None => vec![1.0; self.cons.len()],
            };
            let best = match &r {
                Some(_) => {
                    let g = self.gradient(&inv, &weights);
                    (0..g.len()).max_by(|&a, &b| g[a].total_cmp(&g[b]))
                }
                // Singular: add the cheapest unit of the most used |h| values' neighbours; in practice a
                // unit of the candidate with the most units so far.
                None => (0..n.len()).max_by_key(|&c| n[c]),
            };
            let Some(c) = best else {
                return Err(DesignError::Singular);
            };
            n[c] += 1;
            if self.calls(n) > MAX_CALLS {
                return Err(DesignError::Unreachable {
                    max_calls: MAX_CALLS,
                    needed_s,
                });
            }
        }
    }

    /// Removes units that are not needed to meet the targets, the least useful per µs first.
    fn trim(&self, n: &mut [u32]) {
        let lambda = vec![1.0 / self.cons.len() as f64; self.cons.len()];
        loop {
            let (inv, _) = self.evaluate(n);
            let g = self.gradient(&inv, &lambda);
            let mut order: Vec<usize> = (0..n.len()).filter(|&c| n[c] > 0).collect();
            order.sort_by(|&a, &b| g[a].total_cmp(&g[b]));
            let mut removed = false;
            for c in order {
                n[c] -= 1;
                if matches!(self.evaluate(n).1, Some(r) if r.iter().all(|&x| x <= 1.0)) {
                    removed = true;
                    break;
                }
                n[c] += 1;
            }
            if !removed {
                return;
            }
        }
    }

    /// The best design (minimax over the targets' ratios) within `budget_us`.
    pub fn best_within(&self, budget_us: f64) -> Result<Solution, DesignError> {
        let (mut xi, mut lambda) = self.start();
        self.iterate(&mut xi, &mut lambda, budget_us, ITERATIONS)?;
        let mut n: Vec<u32> = self
            .units_of(&xi, budget_us)
            .iter()
            .map(|&u| u.floor().min(f64::from(u32::MAX)) as u32)
            .collect();
        // Fill what is left with the best unit per µs that fits.
        loop {
            let left = budget_us - self.cost(&n);
            let (inv, r) = self.evaluate(&n);
            let fits = |c: usize| self.set.cands[c].cost_us <= left;
            let choice = match r {
                Some(r) => {
                    let max = r.iter().copied().fold(0.0, f64::max);
                    let w: Vec<f64> = r.iter().map(|&x| (x / max).powi(4)).collect();
                    let g = self.gradient(&inv, &w);
                    (0..g.len())
                        .filter(|&c| fits(c))
                        .max_by(|&a, &b| g[a].total_cmp(&g[b]))
                }
                None => (0..n.len())
                    .filter(|&c| fits(c))
                    .max_by_key(|&c| (n[c], std::cmp::Reverse(c))),
            };
            match choice {
                Some(c) if self.calls(&n) < MAX_CALLS => n[c] += 1,
                _ => break,
            }
        }
        let ratios = self
            .evaluate(&n)
            .1
            .ok_or_else(|| DesignError::BudgetTooSmall {
                budget_s: budget_us * 1e-6,
                needed_s: self
                    .set
                    .cands
                    .iter()
                    .map(|c| c.cost_us)
                    .fold(f64::INFINITY, f64::min)
                    * 4e-6,
            })?;
        Ok(Solution {
            cost_us: self.cost(&n),
            units: n,
            ratios,
        })
    }
}
