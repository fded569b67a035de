//! Deterministic multi-start maximisation of one model on one qubit's counts.
//!
//! The default ([`Starts::Needed`]) runs the first start only where the maximum it finds is the global
//! one in practice, and every start where it may not be:
//! - near γ = 0 or η = 0 (the saddle trap of docs/physics.md §3), or when the first start does not
//!   converge: the alternatives, until a second start agrees;
//! - on a sparse transition (few h values between the plateaus, [`super::sparse`]): every start, then
//!   starts from the best points of a scan along the β–(b, η) trade-off of the best maximum.

use super::objective::{to_params, to_phi, Likelihood};
use super::solver::{maximize, Solution, SolverOptions, StopReason};
use super::sparse::{sparse_transition, tradeoff_starts};
use super::start::starts;
use crate::model::{Model, Param, Params};

/// Which starting points to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Starts {
    /// The first only (the data-driven guess, or the warm start).
    First,
    /// The alternatives only where the first ends near a bound or does not converge.
    Needed,
    /// Every one.
    All,
}

/// Best solution over the starts.
#[derive(Clone, Copy, Debug)]
pub struct MultiStart {
    pub best: Solution,
    /// Iterations summed over the starts.
    pub iterations: usize,
    pub starts: usize,
    /// Starts that converged to within 1e-6 nats of the best ℓ.
    pub agreeing: usize,
}

/// Fits `model` (likelihood `obj`) from each start in [`starts`] plus `extra` (e.g. a nested model's optimum, tried first)
/// and keeps the converged solution with the highest ℓ (any solution if none converged).
///
/// With [`Starts::Needed`], the alternative starts run only when the first one does not converge or
/// ends near γ = 0 or η = 0 (|θ| < 1e-3, the region of the saddle trap of physics.md §3), and stop as
/// soon as the second (high-noise) start reaches the same ℓ; a well-posed qubit costs one start. On a
/// [`sparse_transition`] every start runs (as with [`Starts::All`]), and then (also with [`Starts::All`])
/// the [`tradeoff_starts`] of the best maximum.
pub fn fit_model(
    obj: &Likelihood<'_>,
    model: Model,
    guess: &Params,
    extra: Option<&Params>,
    opts: &SolverOptions,
    starts_wanted: Starts,
) -> MultiStart {
    let sparse = starts_wanted != Starts::First && sparse_transition(obj.data, model);
    let all_starts = starts_wanted == Starts::All || sparse;
    let free = model.free();
    let mut list = starts(model, guess);
    if let Some(e) = extra {
        let mut a = e.to_array();
        // keep γ, η off their saddle at 0
        for p in Param::EVEN {
            let i = p.index();
            if model.fits(p) && a[i].abs() < 1e-3 {
                a[i] = guess.get(p);
            }
        }
        for p in Param::ALL {
            if !model.fits(p) {
                a[p.index()] = 0.0;
            }
        }
        list.insert(0, Params::from_array(a));
    }
    if starts_wanted == Starts::First {
        list.truncate(1);
    }
    let mut sols: Vec<Solution> = Vec::with_capacity(list.len());
    let mut iterations = 0;
    for (k, s) in list.iter().enumerate() {
        if s.beta.is_nan() || s.beta <= 0.0 {
            continue;
        }
        let mut start = *s;
        if k == 1 && !all_starts && sols.len() == 1 && sols[0].stop == StopReason::Converged {
            // the high-noise alternative, from the first maximum's b and γ (cheaper to converge)
            let f = to_params(&sols[0].phi);
            start = Params::new(
                f.beta * 1.3,
                f.b,
                if model.fits(Param::Gamma) {
                    f.gamma.abs().max(1e-3)
                } else {
                    0.0
                },
                if model.fits(Param::Eta) {
                    0.6 / f.beta
                } else {
                    0.0
                },
            );
        }
        let sol = maximize(obj, to_phi(&start), free, opts);
        iterations += sol.iterations;
        sols.push(sol);
        if all_starts || sol.stop != StopReason::Converged {
            continue;
        }
        let first = sols[0];
        let interior = Param::EVEN
            .into_iter()
            .all(|p| !model.fits(p) || first.phi[p.index()].abs() >= 1e-3);
        let agree = |a: &Solution, b: &Solution| {
            a.stop == StopReason::Converged && (a.ll - b.ll).abs() <= 1e-6
        };
        // one start if interior; near a bound, stop once a second (high-noise) start agrees
        if (sols.len() == 1 && first.stop == StopReason::Converged && interior)
            || (sols.len() == 2 && agree(&sols[0], &sols[1]))
        {
            break;
        }
    }
    if sparse {
        if let Some(first) = best_of(&sols).filter(|s| s.stop == StopReason::Converged) {
            for start in tradeoff_starts(obj, &first.phi) {
                let sol = maximize(obj, start, free, opts);
                iterations += sol.iterations;
                sols.push(sol);
            }
        }
    }
    let best = best_of(&sols).unwrap_or(Solution {
        phi: to_phi(guess),
        ll: f64::NAN,
        eval: Default::default(),
        iterations: 0,
        stop: StopReason::NonFinite,
    });
    let agreeing = sols
        .iter()
        .filter(|s| {
            s.stop == StopReason::Converged
                && (s.ll - best.ll).abs() <= 1e-6 * (1.0 + best.ll.abs() * 1e-9)
        })
        .count();
    MultiStart {
        best,
        iterations,
        starts: sols.len(),
        agreeing,
    }
}

/// The converged solution with the highest ℓ (any solution if none converged).
fn best_of(sols: &[Solution]) -> Option<Solution> {
    let rank = |s: &Solution| {
        (
            s.stop == StopReason::Converged,
            if s.ll.is_finite() {
                s.ll
            } else {
                f64::NEG_INFINITY
            },
        )
    };
    sols.iter().copied().max_by(|a, b| {
        let (ca, la) = rank(a);
        let (cb, lb) = rank(b);
        ca.cmp(&cb).then(la.total_cmp(&lb))
    })
}
