//! The per-qubit loop: validate counts → multi-start fit (one model, or all and choose by BIC) →
//! observed-information errors, dispersion, profile intervals → status → bootstrap → warnings.

use super::bootstrap::{bootstrap_qubit, CallCounts};
use super::config::{FitConfig, ModelChoice, ProfileMode};
use super::linalg::spd_inverse;
use super::multistart::{fit_model, MultiStart, Starts};
use super::objective::{to_natural, to_params};
use super::objective::{Likelihood, Objective};
use super::profile::profile_interval;
use super::result::{FailReason, FitStatus, ModelScore, QubitFit};
use super::robust::{robust_errors, ErrorMethod};
use super::select::{best_by_bic, score};
use super::solver::{maximize, StopReason};
use super::start::data_guess;
use super::warnings::FitWarning;
use crate::model::calls::GaussGrid;
use crate::model::{
    log_likelihood, saturated_log_likelihood, LogLik, Model, Order, Param, Params, QubitCounts,
};

/// One qubit's data as the fit sees it.
#[derive(Clone, Copy, Debug)]
pub struct QubitData<'a> {
    /// Counts pooled over calls, per h.
    pub pooled: &'a QubitCounts,
    /// Per-call block cells `(h, k, n)` grouped by h, when the sweep has blocks: the clusters of the
    /// robust errors, and the data of the per-call likelihood.
    pub cells: Option<&'a QubitCounts>,
    /// Fit the per-call likelihood over `cells` (each cell one call).
    pub per_call: bool,
    /// z grid of the Gaussian per-call law.
    pub grid: Option<&'a GaussGrid>,
}

impl<'a> QubitData<'a> {
    /// Pooled counts only.
    pub fn pooled(pooled: &'a QubitCounts) -> Self {
        QubitData {
            pooled,
            cells: None,
            per_call: false,
            grid: None,
        }
    }
    /// The likelihood `model` is fitted with.
    pub fn likelihood(&self, model: Model) -> Likelihood<'a> {
        Likelihood {
            kind: model.noise(),
            data: self.pooled,
            cells: self.cells.filter(|_| self.per_call),
            grid: self.grid,
        }
    }
}

/// |θ| below this counts as on the bound θ = 0 (γ, η).
pub const BOUND_TOL: f64 = 1e-7;

/// Fits one qubit. Never panics and never drops the qubit: problems become a failed status.
///
/// Stages: [`check_counts`] → [`fit_candidates`] (one model, or all and choose by BIC) → [`refine`]
/// (observed-information errors, dispersion, profile intervals, refit when a profile finds a better
/// maximum) → status → bootstrap → [`add_warnings`].
pub fn fit_qubit(
    qubit: u32,
    qd: &QubitData<'_>,
    calls: Option<&CallCounts>,
    weights: &[Vec<u32>],
    cfg: &FitConfig,
) -> QubitFit {
    let data = qd.pooled;
    let default_model = match cfg.model {
        ModelChoice::Fixed(m) => m,
        ModelChoice::Auto | ModelChoice::NoiseLaws => Model::Qasa,
    };
    let fail = |reason, detail: String| {
        let mut f = QubitFit::failed(qubit, default_model, reason, detail);
        f.n_points = data.len();
        f.total_reads = data.total_reads();
        f
    };
    let candidates = match check_counts(qubit, data, cfg.model, default_model) {
        Ok(c) => c,
        Err((reason, detail)) => return fail(reason, detail),
    };
    let starts = if cfg.all_starts {
        Starts::All
    } else {
        Starts::Needed
    };
    let fits = fit_candidates(qd, &candidates, cfg, starts);
    let (chosen, indistinguishable) = match best_by_bic(&fits.comparison) {
        Some((m, alike)) => (m, alike),
        None => (default_model, Vec::new()),
    };
    let Some((model, ms)) = fits
        .fits
        .iter()
        .find(|f| f.0 == chosen)
        .or(fits.fits.last())
        .copied()
    else {
        return fail(
            FailReason::TooFewFieldValues,
            format!("qubit {qubit}: no model could be fitted"),
        );
    };
    let mut out = QubitFit::failed(qubit, model, FailReason::NonFiniteLikelihood, String::new());
    out.comparison = fits.comparison;
    out.indistinguishable = indistinguishable;
    out.iterations = fits.iterations;
    out.starts = ms.starts;
    out.starts_agreeing = ms.agreeing;
    out.n_points = data.len();
    out.total_reads = data.total_reads();
    if ms.best.stop != StopReason::Converged {
        unconverged(&mut out, &ms, cfg);
        add_warnings(&mut out, data, model, qd.per_call);
        return out;
    }
    let phi = refine(&mut out, qd, model, &ms, cfg);
    let at: Vec<Param> = Param::EVEN
        .into_iter()
        .filter(|&p| model.fits(p) && phi[p.index()].abs() < BOUND_TOL)
        .collect();
    out.status = if at.is_empty() {
        FitStatus::Converged
    } else {
        FitStatus::OnBound { at }
    };
    if let (Some(c), true) = (calls, !weights.is_empty()) {
        out.bootstrap = Some(bootstrap_qubit(model, qd, c, weights, phi, &cfg.solver));
    }
    add_warnings(&mut out, data, model, qd.per_call);
    out
}

/// The maximised ℓ of each of `models` on one qubit (None where its counts cannot be fitted or the fit
/// did not converge), fitted in order, each warm-started from the previous maximum, from the first
/// start only: the chip's noise-likelihood comparison (a fit that stops short of a better maximum can
/// only make its likelihood look worse, and the comparison sums over many qubits).
pub fn max_log_likelihoods(
    qd: &QubitData<'_>,
    models: &[Model],
    cfg: &FitConfig,
) -> Vec<Option<f64>> {
    let Some(&first) = models.first() else {
        return Vec::new();
    };
    if check_counts(0, qd.pooled, ModelChoice::Fixed(first), first).is_err() {
        return vec![None; models.len()];
    }
    fit_candidates(qd, models, cfg, Starts::First)
        .fits
        .iter()
        .map(|(_, ms)| (ms.best.stop == StopReason::Converged).then_some(ms.best.ll))
        .collect()
}

/// Checks one qubit's counts; returns the candidate models that its data can identify, or why it
/// cannot be fitted.
fn check_counts(
    qubit: u32,
    data: &QubitCounts,
    choice: ModelChoice,
    default_model: Model,
) -> Result<Vec<Model>, (FailReason, String)> {
    if data.is_empty() {
        return Err((
            FailReason::NoReads,
            format!("qubit {qubit} has no reads at any h; check that it is in the working graph"),
        ));
    }
    if data
        .h
        .iter()
        .chain(&data.k)
        .chain(&data.n)
        .any(|v| !v.is_finite())
    {
        return Err((
            FailReason::NonFiniteData,
            format!("qubit {qubit}: non-finite h or counts"),
        ));
    }
    let mut hs = data.h.clone();
    hs.sort_by(f64::total_cmp);
    hs.dedup();
    let distinct = hs.len();
    let candidates: Vec<Model> = match choice {
        ModelChoice::Fixed(m) => vec![m],
        ModelChoice::Auto => Model::ALL.to_vec(),
        ModelChoice::NoiseLaws => vec![Model::Qasa, Model::Gaussian],
    }
    .into_iter()
    .filter(|m| m.n_params() <= distinct && (m.n_params() == 1 || distinct >= 2))
    .collect();
    if candidates.is_empty() || distinct < 2 {
        return Err((
            FailReason::TooFewFieldValues,
            format!("qubit {qubit}: {distinct} distinct h value(s) with reads, model {default_model} needs {}; sweep more h values", default_model.n_params().max(2)),
        ));
    }
    if data.k.iter().all(|&k| k == 0.0) || data.k.iter().zip(&data.n).all(|(k, n)| k == n) {
        return Err((FailReason::AllOneState, format!("qubit {qubit}: every read in the same state at every h; the MLE is at infinity (dead or stuck qubit?)")));
    }
    Ok(candidates)
}

/// The multi-start fits of every candidate model, with their comparison (more than one candidate).
struct Candidates {
    fits: Vec<(Model, MultiStart)>,
    /// Solver iterations over all candidates and starts.
    iterations: usize,
    comparison: Vec<ModelScore>,
}

/// Fits the candidates in order from `starts`; a converged nested model warm-starts the next.
fn fit_candidates(
    qd: &QubitData<'_>,
    candidates: &[Model],
    cfg: &FitConfig,
    starts: Starts,
) -> Candidates {
    let data = qd.pooled;
    let guess = data_guess(data);
    let mut fits: Vec<(Model, MultiStart)> = Vec::new();
    let mut prev: Option<Params> = None;
    for &m in candidates {
        if screened_out(qd, m, cfg, &fits) {
            continue;
        }
        let ms = fit_model(
            &qd.likelihood(m),
            m,
            &guess,
            prev.as_ref(),
            &cfg.solver,
            starts,
        );
        if ms.best.stop == StopReason::Converged {
            prev = Some(to_params(&ms.best.phi));
        }
        fits.push((m, ms));
    }
    let iterations = fits.iter().map(|f| f.1.iterations).sum();
    let comparison = if candidates.len() > 1 {
        let ok: Vec<(Model, f64)> = fits
            .iter()
            .filter(|f| f.1.best.stop == StopReason::Converged)
            .map(|f| (f.0, f.1.best.ll))
            .collect();
        // quasi-likelihood scaling of pooled ℓ by the dispersion of the largest model (the per-call
        // likelihood describes the over-dispersion itself)
        let phi = if qd.per_call {
            1.0
        } else {
            dispersion_of(&fits, data).max(1.0)
        };
        score(&ok, data.total_reads(), phi)
    } else {
        Vec::new()
    };
    Candidates {
        fits,
        iterations,
        comparison,
    }
}

/// With the noise law chosen per qubit ([`ModelChoice::NoiseLaws`]), the Gaussian law is fitted only
/// where its likelihood at the two-point maximum comes within this many nats of the two-point one.
/// Fitting can raise it further: on the demo-like chip of docs/uncertainties.md by at most 5.1 nats on
/// the 5,225 uncoupled qubits (every qubit more than 10 nats behind was still at least 8.9 nats behind
/// after fitting), while the 402 qubits coupled by crosstalk were already 48 nats or more *above* at the
/// two-point maximum. The screen spares the Gaussian fit, the slowest of all, on most qubits of a mostly
/// two-point chip.
pub const LAW_SCREEN_NATS: f64 = 10.0;

/// Whether to skip fitting `m`: the Gaussian law of a per-qubit law choice, far behind the two-point law
/// at the latter's maximum ([`LAW_SCREEN_NATS`]).
fn screened_out(
    qd: &QubitData<'_>,
    m: Model,
    cfg: &FitConfig,
    fits: &[(Model, MultiStart)],
) -> bool {
    if cfg.model != ModelChoice::NoiseLaws || m != Model::Gaussian {
        return false;
    }
    let Some((_, two_point)) = fits
        .iter()
        .find(|f| f.0 == Model::Qasa && f.1.best.stop == StopReason::Converged)
    else {
        return false;
    };
    let at = qd
        .likelihood(Model::Gaussian)
        .eval(&two_point.best.phi, Order::Value)
        .ll;
    at < two_point.best.ll - LAW_SCREEN_NATS
}

/// The failed status of a fit whose best start did not converge (its values kept when ℓ is finite).
fn unconverged(out: &mut QubitFit, ms: &MultiStart, cfg: &FitConfig) {
    let qubit = out.qubit;
    let (reason, detail) = match ms.best.stop {
        StopReason::IterationLimit => (
            FailReason::IterationLimit,
            format!(
                "qubit {qubit}: no convergence in {} iterations; raise the limit or check the data",
                cfg.solver.max_iter
            ),
        ),
        StopReason::Stalled => (
            FailReason::Stalled,
            format!("qubit {qubit}: no step improved the likelihood"),
        ),
        _ => (
            FailReason::NonFiniteLikelihood,
            format!("qubit {qubit}: likelihood not finite at any starting point"),
        ),
    };
    out.status = FitStatus::Failed { reason, detail };
    if ms.best.ll.is_finite() {
        fill_values(out, &to_params(&ms.best.phi), out.model);
        out.ll = Some(ms.best.ll);
    }
}

/// From the converged maximum: values, observed-information errors and goodness of fit, then the
/// profile intervals; when a profile meets a higher ℓ the fit is redone from there (at most twice) and
/// everything recomputed. Returns the final maximum (working coordinates).
fn refine(
    out: &mut QubitFit,
    qd: &QubitData<'_>,
    model: Model,
    ms: &MultiStart,
    cfg: &FitConfig,
) -> [f64; 4] {
    let data = qd.pooled;
    let mut phi = ms.best.phi;
    let mut ll = ms.best.ll;
    let obj = qd.likelihood(model);
    let free = model.free();
    snap_to_bound(&obj, free, &mut phi, &mut ll);
    let mut refits = 0;
    let final_eval = Some((ms.best.phi, ms.best.eval));
    let ll_sat = saturated_log_likelihood(data);
    loop {
        let p = to_params(&phi);
        fill_values(out, &p, model);
        out.ll = Some(ll);
        // observed information: reuse the solver's last evaluation when it is at this point
        let e = if final_eval.is_some_and(|(f, _)| f == phi) {
            final_eval.map_or_else(LogLik::default, |(_, ev)| to_natural(&ev, p.beta))
        } else {
            obj.natural(&p, Order::Hessian)
        };
        // goodness of fit of the mean response on the pooled counts
        let pooled = if qd.per_call {
            log_likelihood(model.noise(), &p, data, Order::Value)
        } else {
            e
        };
        let cov = observed_errors(out, &e, &pooled, data, model, ll_sat);
        let (iv, better) = profile_all(out, &obj, model, phi, ll, &p, cov.as_ref(), cfg);
        if let Some((bphi, _)) = better {
            if refits < 2 {
                refits += 1;
                let s = maximize(&obj, bphi, free, &cfg.solver);
                out.iterations += s.iterations;
                if s.stop == StopReason::Converged && s.ll > ll {
                    phi = s.phi;
                    ll = s.ll;
                    snap_to_bound(&obj, free, &mut phi, &mut ll);
                    if !out.warnings.contains(&FitWarning::RefitFromProfile) {
                        out.warnings.push(FitWarning::RefitFromProfile);
                    }
                    continue;
                }
            }
        }
        for prm in Param::ALL {
            let est = &mut out.params[prm];
            (est.profile_lo, est.profile_hi) = iv[prm.index()];
        }
        robust(out, qd, &obj, &p, model, &e.hess);
        return phi;
    }
}

/// The default errors: the robust sandwich over the block cells (or the h values).
/// `hess`: the Hessian of the fitted likelihood at `p` (natural coordinates).
fn robust(
    out: &mut QubitFit,
    qd: &QubitData<'_>,
    obj: &Likelihood<'_>,
    p: &Params,
    model: Model,
    hess: &[[f64; 4]; 4],
) {
    let clusters = qd.cells.unwrap_or(qd.pooled);
    out.error_method = Some(if qd.cells.is_some() {
        ErrorMethod::ClusterRobustCalls
    } else {
        ErrorMethod::RobustH
    });
    if let Some(r) = robust_errors(obj, clusters, p, model, hess) {
        for prm in Param::ALL {
            let est = &mut out.params[prm];
            est.se = r.se[prm.index()];
            (est.lo, est.hi) = r.interval[prm.index()];
        }
        out.clusters = r.clusters;
        out.critical_value = Some(r.critical);
    }
}

/// The dispersion of the largest converged candidate's fit on the pooled counts.
fn dispersion_of(fits: &[(Model, MultiStart)], data: &QubitCounts) -> f64 {
    fits.iter()
        .filter(|f| f.1.best.stop == StopReason::Converged)
        .max_by_key(|f| f.0.n_params())
        .map_or(1.0, |(m, ms)| {
            let e = log_likelihood(m.noise(), &to_params(&ms.best.phi), data, Order::Value);
            let dof = data.len() as f64 - m.n_params() as f64;
            if dof > 0.0 {
                e.pearson_chi2 / dof
            } else {
                1.0
            }
        })
}

/// Standard errors from the observed information `-H` (natural coordinates, evaluation `e`), the
/// scaled SEs, deviance, Pearson χ² and dispersion. Returns the covariance (inverse of `-H` on the
/// fitted parameters), if `-H` is positive definite there.
fn observed_errors(
    out: &mut QubitFit,
    e: &LogLik,
    pooled: &LogLik,
    data: &QubitCounts,
    model: Model,
    ll_sat: f64,
) -> Option<[[f64; 4]; 4]> {
    let free = model.free();
    let mut neg = [[0.0; 4]; 4];
    for i in 0..4 {
        for j in 0..4 {
            neg[i][j] = -e.hess[i][j];
        }
    }
    let idx: Vec<usize> = (0..4).filter(|&i| free[i]).collect();
    let cov = spd_inverse(&neg, &idx);
    out.deviance = Some(2.0 * (ll_sat - pooled.ll));
    out.pearson_chi2 = Some(pooled.pearson_chi2);
    out.dof = data.len() as i64 - model.n_params() as i64;
    out.dispersion = (out.dof > 0).then(|| pooled.pearson_chi2 / out.dof as f64);
    let sf = out.dispersion.map(f64::sqrt);
    for prm in Param::ALL {
        let i = prm.index();
        let se = cov
            .filter(|_| free[i])
            .map(|c| c[i][i].sqrt())
            .filter(|s| s.is_finite());
        let est = &mut out.params[prm];
        est.se_model = se;
        est.se_scaled = se.zip(sf).map(|(a, b)| a * b);
    }
    cov
}

/// An interval per parameter (natural coordinates) and a better maximum if a profile met one.
type ProfileOutcome = ([(Option<f64>, Option<f64>); 4], Option<([f64; 4], f64)>);

/// The profile-likelihood intervals that `cfg.profile` asks for, around the maximum `phi` (ℓ̂ = `ll`);
/// `cov` (natural coordinates) sets the first steps.
#[allow(clippy::too_many_arguments)]
fn profile_all(
    out: &QubitFit,
    obj: &Likelihood<'_>,
    model: Model,
    phi: [f64; 4],
    ll: f64,
    p: &Params,
    cov: Option<&[[f64; 4]; 4]>,
    cfg: &FitConfig,
) -> ProfileOutcome {
    let free = model.free();
    // covariance in working coordinates (row/column of β scaled by 1/β)
    let cov_phi = cov.map(|c| {
        let sc = |i: usize| {
            if i == Param::Beta.index() {
                1.0 / p.beta
            } else {
                1.0
            }
        };
        let mut m = [[0.0; 4]; 4];
        for i in 0..4 {
            for k in 0..4 {
                m[i][k] = c[i][k] * sc(i) * sc(k);
            }
        }
        m
    });
    let mut better: Option<([f64; 4], f64)> = None;
    let mut iv: [(Option<f64>, Option<f64>); 4] = [(None, None); 4];
    for prm in Param::ALL {
        let j = prm.index();
        if !free[j] {
            continue;
        }
        let want = match cfg.profile {
            ProfileMode::None => false,
            ProfileMode::All => true,
            ProfileMode::Bounds => {
                prm.is_even()
                    && out.params[prm]
                        .se_model
                        .is_none_or(|s| phi[j].abs() < 2.0 * s)
            }
        };
        if !want {
            continue;
        }
        let r = profile_interval(obj, free, phi, ll, prm, cov_phi.as_ref(), &cfg.solver);
        if let Some(b) = r.better {
            if better.is_none_or(|x| b.1 > x.1) {
                better = Some(b);
            }
        }
        iv[j] = if prm == Param::Beta {
            (r.lo.map(f64::exp), r.hi.map(f64::exp))
        } else {
            (r.lo, r.hi)
        };
    }
    (iv, better)
}

/// Sets γ or η to exactly 0 when the solver stopped within a hair of it and ℓ there is no lower
/// (the cubic convergence onto an even maximum leaves residues like 1e-7).
fn snap_to_bound(obj: &Likelihood<'_>, free: [bool; 4], phi: &mut [f64; 4], ll: &mut f64) {
    use super::objective::Objective;
    for j in Param::EVEN.map(Param::index) {
        if free[j] && phi[j] != 0.0 && phi[j].abs() < 1e-4 {
            let mut t = *phi;
            t[j] = 0.0;
            let l0 = obj.eval(&t, Order::Value).ll;
            if l0 >= *ll - 1e-9 {
                *phi = t;
                *ll = l0;
            }
        }
    }
}

fn fill_values(out: &mut QubitFit, p: &Params, model: Model) {
    for prm in Param::ALL {
        let v = p.get(prm);
        out.params[prm].value = Some(if !model.fits(prm) {
            0.0
        } else if prm.is_even() {
            v.abs()
        } else {
            v
        });
    }
    let g2 = p.gamma * p.gamma;
    let s = (1.0 + g2).sqrt();
    out.wrong_state_floor = Some(if model.fits(Param::Gamma) {
        g2 / (2.0 * s * (s + 1.0))
    } else {
        0.0
    });
}

/// The warnings of a fit (`per_call`: fitted with the per-call likelihood, which describes the
/// over-dispersion of the pooled counts itself).
fn add_warnings(out: &mut QubitFit, data: &QubitCounts, model: Model, per_call: bool) {
    let [beta, b, _, eta] = out.values().map(|v| v.unwrap_or(0.0));
    let (eta_lo, eta_se, b_se) = (
        out.interval(Param::Eta).0,
        out.se(Param::Eta),
        out.se(Param::B),
    );
    let w = &mut out.warnings;
    if model.fits(Param::Gamma) && !data.h.iter().any(|h| beta * (h + b).abs() > 4.0) {
        w.push(FitWarning::NoPlateau);
    }
    if model.fits(Param::Eta) {
        let unresolved = match (eta_lo, eta_se) {
            (Some(lo), _) => lo <= 0.0,
            (None, Some(se)) => eta < 2.0 * se,
            (None, None) => true,
        };
        if unresolved {
            w.push(FitWarning::EtaNotResolved);
        }
        let eta_large = eta_se.is_some_and(|se| eta > 3.0 * se) && eta > 1e-3;
        let b_small = b.abs() < b_se.map_or(0.0, |s| 2.0 * s).max(0.1 * eta);
        if eta_large && b_small && odd_symmetric(data) {
            w.push(FitWarning::GaugeAveraged);
        }
    }
    let above = data
        .k
        .iter()
        .zip(&data.n)
        .filter(|(k, n)| 2.0 * **k > **n)
        .count();
    let below = data
        .k
        .iter()
        .zip(&data.n)
        .filter(|(k, n)| 2.0 * **k < **n)
        .count();
    if above == 0 || below == 0 {
        w.push(FitWarning::NoTransition);
    }
    let mut n = data.n.clone();
    n.sort_by(f64::total_cmp);
    if n.get(n.len() / 2).is_some_and(|&m| m < 100.0) {
        w.push(FitWarning::FewReads);
    }
    if out.starts_agreeing * 2 < out.starts {
        w.push(FitWarning::StartsDisagree);
    }
    if !per_call && out.dispersion.is_some_and(|d| d > 1.5) {
        w.push(FitWarning::OverDispersed);
    }
    if out
        .bootstrap
        .as_ref()
        .is_some_and(|bs| bs.failed * 10 > bs.reps)
    {
        w.push(FitWarning::BootstrapFailures);
    }
    w.sort();
    w.dedup();
}

/// True when `p(h) + p(-h) ≈ 1` within binomial noise over at least 3 mirrored pairs (χ²/pairs < 2).
pub fn odd_symmetric(d: &QubitCounts) -> bool {
    let (mut chi2, mut pairs) = (0.0, 0usize);
    for i in 0..d.len() {
        if d.h[i] <= 0.0 {
            continue;
        }
        let Some(j) =
            (0..d.len()).find(|&j| (d.h[j] + d.h[i]).abs() <= 1e-9 * d.h[i].abs().max(1.0))
        else {
            continue;
        };
        let (pi, pj) = (d.k[i] / d.n[i], d.k[j] / d.n[j]);
        let var = pi * (1.0 - pi) / d.n[i] + pj * (1.0 - pj) / d.n[j];
        if var > 0.0 {
            chi2 += (pi + pj - 1.0).powi(2) / var;
            pairs += 1;
        }
    }
    pairs >= 3 && chi2 / (pairs as f64) < 2.0
}
