//! Experiment design: plans that buy the precision asked for with the least QPU time (issue 14;
//! docs/design.md for users, docs/physics.md §6).
//!
//! QPU access time is what an assessment costs: per call the programming time (≈ 15 ms on Advantage) plus
//! ≈ 0.25 ms per read. The reference protocol spreads 10^6 reads evenly over 81 h values, most of them on
//! the plateaus where a read says little about β and b. A design chooses, for the plan shared by all
//! qubits, which |h| values to program, how many calls at each and how many reads per call, so that the
//! root-mean-square standard error over a prior sample of qubits ([`prior`]) meets the targets at least
//! cost ([`optimize`]); or the best errors within a budget.
//!
//! The information of each candidate call ([`candidates`]) is that of the likelihood the default fit
//! will use, under the noise law of the prior ([`crate::collect::information`]): optimised plans record
//! one block per call, so the fit can use the per-call likelihood. The law matters a great deal:
//!
//! - two-point per-call noise (the qasa model, the virtual QPU's default): once a call is long enough for
//!   the two noise branches to separate, its reads count fully; long calls are the cheapest, and the
//!   savings come from where the reads go;
//! - Gaussian per-call noise: a call near the transition saturates at ≈ p q / Var_δ(p) reads, so short
//!   calls there and long ones on the plateaus;
//! - per-read noise: plain binomial counts, long calls, reads where the information is.
//!
//! Module map: [`prior`], [`candidates`], [`optimize`], [`defensive`], [`layout`], [`predict`], [`reference`],
//! [`adaptive`] (pilot → fit → redesign → top-up), [`error`].

pub mod adaptive;
pub mod candidates;
pub mod defensive;
pub mod error;
pub mod layout;
pub mod optimize;
pub mod predict;
pub mod prior;
pub mod reference;

pub use candidates::CandidateSpec;
pub use error::DesignError;
pub use prior::Prior;

use crate::collect::design_record::{
    Candidates, Objective, PlanDesign, PredictedSe, ReferenceRecord, ScenarioTargets, TargetSe,
};
use crate::collect::information::{Mat4, NoiseLaw};
use crate::collect::plan::Plan;
use crate::collect::Target;
use std::path::Path;

/// What the plan must achieve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Goal {
    /// The reference protocol's predicted RMS errors of β (relative) and b.
    MatchReference,
    /// Given RMS standard errors.
    TargetSe(TargetSe),
    /// The best errors within this QPU time, s.
    BudgetQpuS(f64),
}

/// Where the prior comes from.
#[derive(Clone, Copy, Debug)]
pub enum PriorSource<'a> {
    /// The family's typical values and spread (see [`prior`]).
    FamilyDefaults,
    /// A fit file (`qasa fit -o`).
    FitFile(&'a Path),
    /// A parsed fit (an adaptive campaign's pilot).
    Fit(&'a serde_json::Value, &'a str),
}

/// A design request.
#[derive(Clone, Debug)]
pub struct DesignRequest<'a> {
    pub goal: Goal,
    pub prior: PriorSource<'a>,
    /// Overrides the prior's noise law.
    pub law: Option<NoiseLaw>,
    /// Compare with (and match) the reference recorded as pooled counts.
    pub reference_pooled: bool,
    pub anneal_time_us: f64,
    pub flux_drift_compensation: bool,
    /// Seed of the gauges (and of the virtual QPU's sampling of the plan).
    pub seed: u64,
    pub gauges: bool,
    pub candidates: CandidateSpec,
    /// Calls in flight (wall-time estimate only).
    pub in_flight: usize,
    /// Data already taken whose counts the fit will add (an adaptive top-up's pilot), and its QPU time, s.
    pub earlier: Option<(&'a Plan, f64)>,
}

/// A designed plan with what it was designed against.
#[derive(Clone, Debug)]
pub struct Designed {
    pub plan: Plan,
    pub prior: Prior,
    pub reference: Plan,
    pub reference_predicted: PredictedSe,
}

/// `--match-reference` (and the weights of `--budget-qpu-s`) ask for the reference's errors of β
/// (relative) and b, and for γ and η no worse than this factor times the reference's: they need the
/// plateaus and the tails, which a plan aimed at β and b alone would drop, and an assessment that leaves
/// them unmeasured is not one.
pub const NUISANCE_GUARD: f64 = 3.0;

/// Largest number of block cells (blocks × h values × qubits) of an optimised plan's sweep: 2^28 cells,
/// 2 GiB of counts in memory.
pub const MAX_SWEEP_CELLS: u64 = 1 << 28;

/// Refuses a design whose sweep would not fit in memory (every block is a dense h × qubit matrix).
fn check_size(plan: &Plan, spent_us: f64) -> Result<(), DesignError> {
    let cells = u64::from(plan.blocks) * plan.h.len() as u64 * plan.qubits.len() as u64;
    if cells > MAX_SWEEP_CELLS {
        return Err(DesignError::TooManyBlocks {
            blocks: plan.blocks,
            calls: plan.calls.len(),
            gib: cells as f64 * 8.0 / (1u64 << 30) as f64,
            needed_s: spent_us * 1e-6,
        });
    }
    Ok(())
}

/// Units per candidate for the goal: the defensive grid ([`defensive`]) plus the optimised part, and
/// their cost in µs.
fn solve(
    goal: &Goal,
    set: &candidates::CandidateSet,
    prior: &Prior,
    earlier: Option<Vec<Mat4>>,
    cons: &[optimize::Constraint],
) -> Result<(Vec<u32>, f64), DesignError> {
    let budget_us = match *goal {
        Goal::BudgetQpuS(s) if !(s.is_finite() && s > 0.0) => {
            return Err(DesignError::NotPositive {
                what: "the QPU-time budget".into(),
                value: s,
            })
        }
        Goal::BudgetQpuS(s) => Some(s * 1e6),
        _ => None,
    };
    let spend = match budget_us {
        Some(b) => b,
        None => {
            optimize::Problem::new(set, prior, earlier.clone(), cons.to_vec())?
                .minimise_cost()?
                .cost_us
        }
    };
    let defense = defensive::units(set, defensive::SHARE * spend);
    let mut base = earlier.unwrap_or_else(|| vec![[[0.0; 4]; 4]; prior.qubits.len()]);
    defensive::information(set, &defense, &mut base);
    let defense_us: f64 = defense
        .iter()
        .zip(&set.cands)
        .map(|(&n, c)| f64::from(n) * c.cost_us)
        .sum();
    let problem = optimize::Problem::new(set, prior, Some(base), cons.to_vec())?;
    let solution = match budget_us {
        Some(b) => problem.best_within(b - defense_us)?,
        None => problem.minimise_cost()?,
    };
    let units: Vec<u32> = solution
        .units
        .iter()
        .zip(&defense)
        .map(|(a, b)| a + b)
        .collect();
    Ok((units, solution.cost_us + defense_us))
}

/// The targets of `--match-reference` from the reference's predicted errors.
fn matched(r: &PredictedSe) -> TargetSe {
    let guard = |x: Option<f64>| x.map(|v| v * NUISANCE_GUARD);
    TargetSe {
        beta_rel: r.rms_rel_se_beta,
        b: r.rms_se.b,
        gamma: guard(r.rms_se.gamma),
        eta: guard(r.rms_se.eta),
        ..TargetSe::default()
    }
}

/// Method name recorded in plan files.
pub const METHOD: &str = "fisher_minimax_a_optimal";

fn objective(goal: &Goal) -> Objective {
    match goal {
        Goal::MatchReference => Objective::MatchReference,
        Goal::TargetSe(_) => Objective::TargetSe,
        Goal::BudgetQpuS(_) => Objective::BudgetQpuS,
    }
}

/// Designs a plan for `target`.
pub fn design(req: &DesignRequest<'_>, target: &Target<'_>) -> Result<Designed, DesignError> {
    let mut plan = Plan::frame(
        target,
        req.anneal_time_us,
        req.flux_drift_compensation,
        req.seed,
    )?;
    let prior = match req.prior {
        PriorSource::FamilyDefaults => Prior::family_defaults(&plan, req.law, prior::PRIOR_SEED)?,
        PriorSource::FitFile(p) => Prior::from_fit_file(p, &plan, req.law)?,
        PriorSource::Fit(v, label) => {
            let mut p =
                Prior::from_fit_value(v, &plan, req.law).map_err(|reason| DesignError::Prior {
                    path: label.into(),
                    reason,
                })?;
            p.summary.file = Some(label.to_string());
            p
        }
    };
    let set = candidates::build(&plan, target.limits, &prior, &req.candidates)?;
    let largest = set
        .sizes
        .last()
        .copied()
        .unwrap_or(reference::READS_PER_CALL);
    let ref_spec = reference::spec(
        req.anneal_time_us,
        req.flux_drift_compensation,
        req.seed,
        req.gauges,
        req.reference_pooled,
        largest,
    );
    let reference = Plan::build(&ref_spec, target, req.in_flight)?;
    let ref_covs = predict::covariances(&reference, &prior, None);
    let ref_fit = crate::collect::precision::fit_likelihood(&reference);
    let reference_predicted = predict::summarise(&prior, &ref_covs, ref_fit);
    let base: Option<Vec<Mat4>> = req
        .earlier
        .map(|(p, _)| predict::plan_information(p, &prior));
    let scenario_targets: Vec<ScenarioTargets> = prior
        .scenarios
        .iter()
        .enumerate()
        .map(|(s, name)| ScenarioTargets {
            scenario: name.clone(),
            targets: match req.goal {
                Goal::TargetSe(t) => t,
                _ => matched(&predict::summarise_scenario(
                    &prior,
                    &ref_covs,
                    ref_fit,
                    Some(s),
                )),
            },
        })
        .collect();
    let targets = match req.goal {
        Goal::TargetSe(t) => t,
        _ => matched(&reference_predicted),
    };
    let cons: Vec<optimize::Constraint> = scenario_targets
        .iter()
        .enumerate()
        .flat_map(|(s, t)| optimize::constraints(&t.targets, s))
        .collect();
    let (units, spent) = solve(&req.goal, &set, &prior, base.clone(), &cons)?;
    layout::lay_out(&mut plan, &set, &units, req.gauges);
    check_size(&plan, spent)?;
    plan.seal(target.limits, req.in_flight)?;
    let predicted = predict::predict(&plan, &prior, base.as_deref());
    plan.design = Some(PlanDesign {
        method: METHOD.into(),
        objective: objective(&req.goal),
        noise_law: prior.law,
        prior: prior.summary.clone(),
        targets: match req.goal {
            Goal::BudgetQpuS(_) => TargetSe::default(),
            _ => targets,
        },
        scenario_targets,
        budget_qpu_s: match req.goal {
            Goal::BudgetQpuS(s) => Some(s),
            _ => None,
        },
        prior_data_qpu_s: req.earlier.map(|(_, s)| s),
        predicted,
        reference: Some(ReferenceRecord {
            protocol: reference::describe(req.reference_pooled, ref_spec.reads_per_call),
            estimated_qpu_s: reference.estimated_qpu_s,
            predicted: reference_predicted,
        }),
        candidates: Candidates {
            h_step: set.h_step,
            h_max: set.h_max,
            call_sizes: set.sizes.clone(),
        },
    });
    Ok(Designed {
        plan,
        prior,
        reference,
        reference_predicted,
    })
}
