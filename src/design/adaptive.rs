//! Adaptive campaigns (`qasa collect --adaptive`; docs/design.md): pilot calls → fit → redesign → top-up
//! calls, each stage durable, so a campaign killed at any moment continues where it stopped.
//!
//! 1. **Pilot.** The design of the goal under the starting prior (family defaults, or `--prior`) costs
//!    T; the pilot is the best design within `pilot_fraction · T` (a budget goal: of the budget) under the
//!    same prior. Written to `OUT.pilot.plan.json`, then collected like any plan (journal
//!    `OUT.pilot.sweep.json.journal`) into `OUT.pilot.sweep.json`.
//! 2. **Fit.** The pilot sweep is fitted with the default fit (`OUT.pilot.fit.json`): the fitted
//!    parameters of the chip's own qubits and the noise law the fit chose become the prior.
//! 3. **Redesign.** The top-up is designed for the same goal under that prior, counting the information
//!    the pilot already holds (its calls are in the final sweep too): `OUT.topup.plan.json`.
//! 4. **Top-up** collected into `OUT.topup.sweep.json`, then pilot and top-up are merged into the output
//!    sweep (union of the h grids, counts added, the blocks of both kept, so the per-call likelihood
//!    still applies).
//!
//! Every file is written atomically and every collection is journaled ([`crate::collect::runner`]): on
//! resume, a stage whose file exists is not run again, a stage with a journal continues it (nothing is
//! paid twice), and the designs are read back rather than recomputed, so the journals always match
//! their plans. **Budget**: with `max_qpu_s` the pilot must fit in it, the top-up in what the pilot left
//! (charged QPU time), and each collection stops before a call would pass its share. Plans are costed
//! with the solver's timing model, and the service charges a little differently (it rounds the per-read
//! times), so what is left of a budget is turned into estimated seconds with the pilot's charged/estimated
//! ratio (at least 1) and the top-up is designed for [`TOPUP_BUDGET_SHARE`] of it: a `--budget-qpu-s`
//! campaign then stays within its budget in charged time, not only in estimated time.

use super::{design, DesignError, DesignRequest, Goal, PriorSource};
use crate::atomic_file::write_atomic;
use crate::collect::plan::{sha256_hex_of, Plan};
use crate::collect::{collect, CollectError, CollectOptions, CollectProgress, Target};
use crate::fit::{fit_sweep, FitConfig, FitError};
use crate::sapi::{SapiClient, SolverRecord};
use crate::sweep::{read_sweep, CampaignMeta, CountMatrix, Sweep, SweepError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Default share of the goal's QPU time spent on the pilot.
pub const PILOT_FRACTION: f64 = 0.1;

/// The stages of an adaptive campaign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    DesignPilot,
    Pilot,
    FitPilot,
    DesignTopUp,
    TopUp,
    Merge,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::DesignPilot => "designing the pilot",
            Stage::Pilot => "pilot",
            Stage::FitPilot => "fitting the pilot",
            Stage::DesignTopUp => "designing the top-up",
            Stage::TopUp => "top-up",
            Stage::Merge => "merging",
        }
    }
}

/// Where an adaptive campaign stands.
#[derive(Clone, Debug, PartialEq)]
pub struct AdaptiveProgress {
    pub stage: Stage,
    /// The collection of the current stage (pilot or top-up).
    pub collect: Option<CollectProgress>,
}

/// Why an adaptive campaign stopped. Every file written so far is complete and every journal consistent.
#[derive(Debug, thiserror::Error)]
pub enum AdaptiveError {
    #[error("{stage}: {source}")]
    Collect {
        stage: &'static str,
        #[source]
        source: CollectError,
    },
    #[error("{stage}: {source}")]
    Design {
        stage: &'static str,
        #[source]
        source: DesignError,
    },
    #[error("fitting the pilot: {0}")]
    Fit(#[from] FitError),
    #[error(transparent)]
    Sweep(#[from] SweepError),
    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("the {stage} needs an estimated {needed_s:.3} s of QPU access time, more than the {left_s:.3} s the budget --max-qpu-s {budget_s} leaves; raise the budget and resume")]
    Budget {
        stage: &'static str,
        needed_s: f64,
        left_s: f64,
        budget_s: f64,
    },
    #[error("{path} was made for {found}, not for {solver}; an adaptive campaign continues on the solver it began on")]
    OtherSolver {
        path: PathBuf,
        found: String,
        solver: String,
    },
}

impl AdaptiveError {
    /// True when a resume can continue the campaign as it is.
    pub fn is_resumable(&self) -> bool {
        match self {
            AdaptiveError::Collect { source, .. } => source.is_resumable(),
            AdaptiveError::Budget { .. } => true,
            _ => false,
        }
    }
}

/// The files of an adaptive campaign writing `out`.
#[derive(Clone, Debug, PartialEq)]
pub struct AdaptiveFiles {
    pub pilot_plan: PathBuf,
    pub pilot_sweep: PathBuf,
    pub pilot_fit: PathBuf,
    pub topup_plan: PathBuf,
    pub topup_sweep: PathBuf,
}

impl AdaptiveFiles {
    pub fn for_out(out: &Path) -> Self {
        let with = |suffix: &str| {
            let mut s = out.as_os_str().to_os_string();
            s.push(suffix);
            PathBuf::from(s)
        };
        AdaptiveFiles {
            pilot_plan: with(".pilot.plan.json"),
            pilot_sweep: with(".pilot.sweep.json"),
            pilot_fit: with(".pilot.fit.json"),
            topup_plan: with(".topup.plan.json"),
            topup_sweep: with(".topup.sweep.json"),
        }
    }

    /// Every file and journal an earlier run may have left.
    pub fn all(&self) -> Vec<PathBuf> {
        let j = crate::collect::Journal::path_for;
        vec![
            self.pilot_plan.clone(),
            self.pilot_sweep.clone(),
            j(&self.pilot_sweep),
            self.pilot_fit.clone(),
            self.topup_plan.clone(),
            self.topup_sweep.clone(),
            j(&self.topup_sweep),
        ]
    }
}

/// A finished adaptive campaign.
#[derive(Debug)]
pub struct Adaptive {
    /// Pilot and top-up merged.
    pub sweep: Sweep,
    pub pilot: Plan,
    pub topup: Plan,
    /// Charged QPU time of both stages, s.
    pub charged_qpu_s: f64,
    /// Calls run in this session.
    pub calls_this_session: usize,
}

/// What the campaign runs on.
pub struct Service<'a> {
    pub client: &'a SapiClient,
    pub solver: &'a SolverRecord,
    pub target: Target<'a>,
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), AdaptiveError> {
    let io = |e: std::io::Error| AdaptiveError::File {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    write_atomic(path, io, |w| {
        serde_json::to_writer_pretty(&mut *w, value).map_err(|e| AdaptiveError::File {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        w.write_all(b"\n").map_err(|e| AdaptiveError::File {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    })
}

fn read_plan(path: &Path, solver: &str) -> Result<Plan, AdaptiveError> {
    let plan = Plan::read(path).map_err(|e| AdaptiveError::File {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    if plan.solver.name != solver {
        return Err(AdaptiveError::OtherSolver {
            path: path.to_path_buf(),
            found: plan.solver.name,
            solver: solver.to_string(),
        });
    }
    Ok(plan)
}

/// Share of what is left of a budget the top-up is designed for: the service charges rounded per-read
/// times, so a call's charge can differ from its estimate by a little more than the pilot's ratio shows.
pub const TOPUP_BUDGET_SHARE: f64 = 0.999;

/// QPU seconds charged per estimated second on `sweep`, at least 1: a budget left in charged seconds is
/// divided by it before the top-up is designed in estimated seconds.
fn charge_ratio(sweep: &Sweep) -> f64 {
    match sweep.meta.campaign.as_ref() {
        Some(c) if c.estimated_qpu_s > 0.0 => c
            .charged_qpu_s
            .map_or(1.0, |charged| (charged / c.estimated_qpu_s).max(1.0)),
        _ => 1.0,
    }
}

fn charged(sweep: &Sweep) -> f64 {
    sweep
        .meta
        .campaign
        .as_ref()
        .map_or(0.0, |c| c.charged_qpu_s.unwrap_or(c.estimated_qpu_s))
}

/// Runs (or continues) an adaptive campaign. `request` gives the goal, the starting prior and the plan
/// settings (its `earlier` is ignored); `opts.max_qpu_s` is the budget of the whole campaign.
#[allow(clippy::too_many_arguments)]
pub fn run_adaptive(
    service: &Service<'_>,
    request: &DesignRequest<'_>,
    pilot_fraction: f64,
    out: &Path,
    opts: &CollectOptions,
    stop: Arc<AtomicBool>,
    progress: &dyn Fn(&AdaptiveProgress),
) -> Result<Adaptive, AdaptiveError> {
    let files = AdaptiveFiles::for_out(out);
    let solver = &service.solver.name;
    let mut session_calls = 0;
    // 1. Pilot plan.
    progress(&AdaptiveProgress {
        stage: Stage::DesignPilot,
        collect: None,
    });
    let pilot = if files.pilot_plan.exists() {
        read_plan(&files.pilot_plan, solver)?
    } else {
        let p = design_pilot(service, request, pilot_fraction)?;
        check_budget("pilot", p.estimated_qpu_s, 0.0, opts.max_qpu_s)?;
        write_json(&files.pilot_plan, &p)?;
        p
    };
    // 2. Pilot sweep.
    let pilot_sweep = run_stage(
        service,
        &pilot,
        &files.pilot_sweep,
        Stage::Pilot,
        opts.max_qpu_s,
        opts,
        stop.clone(),
        progress,
        &mut session_calls,
    )?;
    let pilot_s = charged(&pilot_sweep);
    // What is left of a budget, in the estimated seconds the design counts.
    let ratio = charge_ratio(&pilot_sweep);
    let left_estimated = |budget: f64| (budget - pilot_s).max(0.0) * TOPUP_BUDGET_SHARE / ratio;
    // 3. Fit.
    progress(&AdaptiveProgress {
        stage: Stage::FitPilot,
        collect: None,
    });
    let fit_value = pilot_fit(&pilot_sweep, &files.pilot_fit)?;
    // 4. Top-up plan.
    progress(&AdaptiveProgress {
        stage: Stage::DesignTopUp,
        collect: None,
    });
    let topup = if files.topup_plan.exists() {
        read_plan(&files.topup_plan, solver)?
    } else {
        let label = files.pilot_fit.display().to_string();
        let goal = match request.goal {
            Goal::BudgetQpuS(s) => Goal::BudgetQpuS(left_estimated(s)),
            g => g,
        };
        let req = DesignRequest {
            goal,
            prior: PriorSource::Fit(&fit_value, &label),
            earlier: Some((&pilot, pilot_s)),
            ..request.clone()
        };
        let d = design(&req, &service.target).map_err(|source| AdaptiveError::Design {
            stage: "designing the top-up",
            source,
        })?;
        check_budget(
            "top-up",
            d.plan.estimated_qpu_s * ratio,
            pilot_s,
            opts.max_qpu_s,
        )?;
        write_json(&files.topup_plan, &d.plan)?;
        d.plan
    };
    // 5. Top-up sweep, within what the pilot left of the budget.
    let left = opts.max_qpu_s.map(|b| (b - pilot_s).max(0.0));
    let topup_sweep = run_stage(
        service,
        &topup,
        &files.topup_sweep,
        Stage::TopUp,
        left,
        opts,
        stop,
        progress,
        &mut session_calls,
    )?;
    progress(&AdaptiveProgress {
        stage: Stage::Merge,
        collect: None,
    });
    let charged_qpu_s = pilot_s + charged(&topup_sweep);
    let sweep = merge(&pilot_sweep, &topup_sweep).map_err(|reason| AdaptiveError::File {
        path: out.to_path_buf(),
        reason,
    })?;
    Ok(Adaptive {
        sweep,
        pilot,
        topup,
        charged_qpu_s,
        calls_this_session: session_calls,
    })
}

/// The pilot's fit as JSON: read back when written before, else fitted (default fit) and written.
fn pilot_fit(sweep: &Sweep, path: &Path) -> Result<serde_json::Value, AdaptiveError> {
    let bad = |reason: String| AdaptiveError::File {
        path: path.to_path_buf(),
        reason,
    };
    if path.exists() {
        let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        return serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()));
    }
    let fit = fit_sweep(sweep, &FitConfig::default())?;
    let value = serde_json::to_value(&fit).map_err(|e| bad(e.to_string()))?;
    write_json(path, &value)?;
    Ok(value)
}

fn check_budget(
    stage: &'static str,
    needed_s: f64,
    spent_s: f64,
    budget: Option<f64>,
) -> Result<(), AdaptiveError> {
    match budget {
        Some(b) if needed_s > b - spent_s => Err(AdaptiveError::Budget {
            stage,
            needed_s,
            left_s: (b - spent_s).max(0.0),
            budget_s: b,
        }),
        _ => Ok(()),
    }
}

/// The pilot: the best design within `fraction` of what the goal takes under the starting prior.
fn design_pilot(
    service: &Service<'_>,
    request: &DesignRequest<'_>,
    fraction: f64,
) -> Result<Plan, AdaptiveError> {
    let err = |source| AdaptiveError::Design {
        stage: "designing the pilot",
        source,
    };
    if !(fraction.is_finite() && fraction > 0.0 && fraction < 1.0) {
        return Err(err(DesignError::NotPositive {
            what: "the pilot fraction (between 0 and 1)".into(),
            value: fraction,
        }));
    }
    let whole = match request.goal {
        Goal::BudgetQpuS(s) => s,
        _ => {
            design(request, &service.target)
                .map_err(err)?
                .plan
                .estimated_qpu_s
        }
    };
    let req = DesignRequest {
        goal: Goal::BudgetQpuS(fraction * whole),
        earlier: None,
        ..request.clone()
    };
    Ok(design(&req, &service.target).map_err(err)?.plan)
}

/// Collects one stage into `path` (or reads it when done), resuming its journal when there is one.
#[allow(clippy::too_many_arguments)]
fn run_stage(
    service: &Service<'_>,
    plan: &Plan,
    path: &Path,
    stage: Stage,
    budget: Option<f64>,
    opts: &CollectOptions,
    stop: Arc<AtomicBool>,
    progress: &dyn Fn(&AdaptiveProgress),
    session_calls: &mut usize,
) -> Result<Sweep, AdaptiveError> {
    if path.exists() {
        return Ok(read_sweep(path)?);
    }
    let o = CollectOptions {
        resume: crate::collect::Journal::path_for(path).exists(),
        max_qpu_s: budget,
        pairs: false,
        ..opts.clone()
    };
    let report = |p: &CollectProgress| {
        progress(&AdaptiveProgress {
            stage,
            collect: Some(p.clone()),
        })
    };
    let done = collect(
        service.client,
        service.solver,
        plan,
        path,
        &o,
        stop,
        &report,
    )
    .map_err(|source| AdaptiveError::Collect {
        stage: stage.name(),
        source,
    })?;
    *session_calls += done.calls_this_session;
    crate::sweep::write_sweep(&done.sweep, path)?;
    Ok(done.sweep)
}

/// Re-grids a count matrix from grid `from` onto grid `to` (a superset).
fn regrid(m: &CountMatrix, from: &[f64], to: &[f64]) -> CountMatrix {
    let n_q = m.n_qubits;
    let mut out = CountMatrix::zeros(to.len(), n_q);
    for (i, h) in from.iter().enumerate() {
        if let Ok(j) = to.binary_search_by(|x| x.total_cmp(h)) {
            out.down[j * n_q..(j + 1) * n_q].copy_from_slice(&m.down[i * n_q..(i + 1) * n_q]);
            out.reads[j * n_q..(j + 1) * n_q].copy_from_slice(&m.reads[i * n_q..(i + 1) * n_q]);
        }
    }
    out
}

/// Pilot and top-up in one sweep: union grid, counts added, blocks of both. The campaign record sums
/// calls, estimates, charges and resubmissions; its `plan_sha256` is the SHA-256 of
/// `"<pilot sha256>+<top-up sha256>"`.
pub fn merge(a: &Sweep, b: &Sweep) -> Result<Sweep, String> {
    if a.qubits != b.qubits {
        return Err("the pilot and the top-up have different qubits".into());
    }
    if a.meta.anneal_time_us != b.meta.anneal_time_us {
        return Err("the pilot and the top-up have different anneal times".into());
    }
    let mut h: Vec<f64> = a.h.iter().chain(&b.h).copied().collect();
    h.sort_by(f64::total_cmp);
    h.dedup();
    let mut counts = regrid(&a.counts, &a.h, &h);
    counts.add(&regrid(&b.counts, &b.h, &h));
    let blocks: Vec<CountMatrix> = a
        .blocks
        .iter()
        .map(|m| regrid(m, &a.h, &h))
        .chain(b.blocks.iter().map(|m| regrid(m, &b.h, &h)))
        .collect();
    let mut meta = b.meta.clone();
    meta.started_at = a.meta.started_at.clone().or(meta.started_at);
    meta.campaign = match (&a.meta.campaign, &b.meta.campaign) {
        (Some(x), Some(y)) => Some(CampaignMeta {
            plan_sha256: sha256_hex_of(&format!("{}+{}", x.plan_sha256, y.plan_sha256)),
            calls: x.calls + y.calls,
            estimated_qpu_s: x.estimated_qpu_s + y.estimated_qpu_s,
            charged_qpu_s: match (x.charged_qpu_s, y.charged_qpu_s) {
                (Some(p), Some(q)) => Some(p + q),
                _ => None,
            },
            resubmitted_calls: x.resubmitted_calls + y.resubmitted_calls,
        }),
        _ => None,
    };
    if let (Some(x), Some(y)) = (
        a.meta.parameters.get("num_reads").and_then(|v| v.as_u64()),
        b.meta.parameters.get("num_reads").and_then(|v| v.as_u64()),
    ) {
        meta.parameters.insert("num_reads".into(), x.max(y).into());
    }
    Ok(Sweep {
        meta,
        h,
        qubits: a.qubits.clone(),
        counts,
        blocks,
        pairs: None,
    })
}
