//! The per-qubit loop: validate counts → multi-start fit (one model, or all and choose by BIC) →
//! observed-information errors, dispersion, profile intervals → bootstrap → status and warnings.

use super::bootstrap::{bootstrap_qubit, CallCounts};
use super::config::{FitConfig, ModelChoice, ProfileMode};
use super::linalg::spd_inverse;
use super::multistart::{fit_model, MultiStart};
use super::objective::{to_natural, to_params, Likelihood};
use super::profile::profile_interval;
use super::result::{FailReason, FitStatus, QubitFit};
use super::select::{best_by_bic, score};
use super::solver::{maximize, StopReason};
use super::start::data_guess;
use super::warnings::FitWarning;
use crate::model::{
    log_likelihood, saturated_log_likelihood, LogLik, Model, Order, Param, Params, QubitCounts,
};

/// |θ| below this counts as on the bound θ = 0 (γ, η).
pub const BOUND_TOL: f64 = 1e-7;

/// Fits one qubit. Never panics and never drops the qubit: problems become a failed status.
pub fn fit_qubit(
    qubit: u32,
    data: &QubitCounts,
    calls: Option<&CallCounts>,
    weights: &[Vec<u32>],
    cfg: &FitConfig,
) -> QubitFit {
    let default_model = match cfg.model {
        ModelChoice::Fixed(m) => m,
        ModelChoice::Auto => Model::Qasa,
    };
    let fail = |reason, detail: String| {
        let mut f = QubitFit::failed(qubit, default_model, reason, detail);
        f.n_points = data.len();
        f.total_reads = data.total_reads();
        f
    };
    if data.is_empty() {
        return fail(
            FailReason::NoReads,
            format!("qubit {qubit} has no reads at any h; check that it is in the working graph"),
        );
    }
    if data
        .h
        .iter()
        .chain(&data.k)
        .chain(&data.n)
        .any(|v| !v.is_finite())
    {
        return fail(
            FailReason::NonFiniteData,
            format!("qubit {qubit}: non-finite h or counts"),
        );
    }
    let mut hs = data.h.clone();
    hs.sort_by(f64::total_cmp);
    hs.dedup();
    let distinct = hs.len();
    let candidates: Vec<Model> = match cfg.model {
        ModelChoice::Fixed(m) => vec![m],
        ModelChoice::Auto => Model::ALL.to_vec(),
    }
    .into_iter()
    .filter(|m| m.n_params() <= distinct && (m.n_params() == 1 || distinct >= 2))
    .collect();
    if candidates.is_empty() || distinct < 2 {
        return fail(
            FailReason::TooFewFieldValues,
            format!("qubit {qubit}: {distinct} distinct h value(s) with reads, model {default_model} needs {}; sweep more h values", default_model.n_params().max(2)),
        );
    }
    if data.k.iter().all(|&k| k == 0.0) || data.k.iter().zip(&data.n).all(|(k, n)| k == n) {
        return fail(FailReason::AllOneState, format!("qubit {qubit}: every read in the same state at every h; the MLE is at infinity (dead or stuck qubit?)"));
    }
    let guess = data_guess(data);
    // Fit the candidates (nested ones warm-start the next).
    let mut fits: Vec<(Model, MultiStart)> = Vec::new();
    let mut prev: Option<Params> = None;
    for &m in &candidates {
        let ms = fit_model(m, data, &guess, prev.as_ref(), &cfg.solver, cfg.all_starts);
        if ms.best.stop == StopReason::Converged {
            prev = Some(to_params(&ms.best.phi));
        }
        fits.push((m, ms));
    }
    let total_iter: usize = fits.iter().map(|f| f.1.iterations).sum();
    let comparison = if candidates.len() > 1 {
        let ok: Vec<(Model, f64)> = fits
            .iter()
            .filter(|f| f.1.best.stop == StopReason::Converged)
            .map(|f| (f.0, f.1.best.ll))
            .collect();
        score(&ok, data.total_reads())
    } else {
        Vec::new()
    };
    let chosen = best_by_bic(&comparison).unwrap_or(default_model);
    let Some((model, ms)) = fits.iter().find(|f| f.0 == chosen).or(fits.last()).copied() else {
        return fail(
            FailReason::TooFewFieldValues,
            format!("qubit {qubit}: no model could be fitted"),
        );
    };
    let mut out = QubitFit::failed(qubit, model, FailReason::NonFiniteLikelihood, String::new());
    out.comparison = comparison;
    out.iterations = total_iter;
    out.starts = ms.starts;
    out.starts_agreeing = ms.agreeing;
    out.n_points = data.len();
    out.total_reads = data.total_reads();
    let stop = ms.best.stop;
    if stop != StopReason::Converged {
        let (reason, detail) = match stop {
            StopReason::IterationLimit => (FailReason::IterationLimit, format!("qubit {qubit}: no convergence in {} iterations; raise the limit or check the data", cfg.solver.max_iter)),
            StopReason::Stalled => (FailReason::Stalled, format!("qubit {qubit}: no step improved the likelihood")),
            _ => (FailReason::NonFiniteLikelihood, format!("qubit {qubit}: likelihood not finite at any starting point")),
        };
        out.status = FitStatus::Failed { reason, detail };
        if ms.best.ll.is_finite() {
            fill_values(&mut out, &to_params(&ms.best.phi), model);
            out.ll = Some(ms.best.ll);
        }
        add_warnings(&mut out, data, model);
        return out;
    }
    let mut phi = ms.best.phi;
    let mut ll = ms.best.ll;
    let obj = Likelihood {
        kind: model.noise(),
        data,
    };
    let free = model.free();
    snap_to_bound(&obj, free, &mut phi, &mut ll);
    let mut refits = 0;
    let final_eval = Some((ms.best.phi, ms.best.eval));
    let ll_sat = saturated_log_likelihood(data);
    loop {
        let p = to_params(&phi);
        fill_values(&mut out, &p, model);
        out.ll = Some(ll);
        // observed information in natural coordinates
        // observed information: reuse the solver's last evaluation when it is at this point
        let e = if final_eval.is_some_and(|(f, _)| f == phi) {
            final_eval.map_or_else(LogLik::default, |(_, ev)| to_natural(&ev, p.beta))
        } else {
            log_likelihood(model.noise(), &p, data, Order::Hessian)
        };
        let mut neg = [[0.0; 4]; 4];
        for i in 0..4 {
            for j in 0..4 {
                neg[i][j] = -e.hess[i][j];
            }
        }
        let idx: Vec<usize> = (0..4).filter(|&i| free[i]).collect();
        let cov = spd_inverse(&neg, &idx);
        let se: [Option<f64>; 4] = std::array::from_fn(|i| {
            cov.filter(|_| free[i])
                .map(|c| c[i][i].sqrt())
                .filter(|s| s.is_finite())
        });
        out.beta_se = se[0];
        out.b_se = se[1];
        out.gamma_se = se[2];
        out.eta_se = se[3];
        out.deviance = Some(2.0 * (ll_sat - e.ll));
        out.pearson_chi2 = Some(e.pearson_chi2);
        out.dof = data.len() as i64 - model.n_params() as i64;
        out.dispersion = (out.dof > 0).then(|| e.pearson_chi2 / out.dof as f64);
        let sf = out.dispersion.map(f64::sqrt);
        let scaled = |s: Option<f64>| s.zip(sf).map(|(a, b)| a * b);
        out.beta_se_scaled = scaled(se[0]);
        out.b_se_scaled = scaled(se[1]);
        out.gamma_se_scaled = scaled(se[2]);
        out.eta_se_scaled = scaled(se[3]);
        // profile intervals; covariance in working coordinates (row/column of β scaled by 1/β)
        let cov_phi = cov.map(|c| {
            let sc = |i: usize| if i == 0 { 1.0 / p.beta } else { 1.0 };
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
                ProfileMode::Bounds => j >= 2 && se[j].is_none_or(|s| phi[j].abs() < 2.0 * s),
            };
            if !want {
                continue;
            }
            let r = profile_interval(&obj, free, phi, ll, prm, cov_phi.as_ref(), &cfg.solver);
            if let Some(b) = r.better {
                if better.is_none_or(|x| b.1 > x.1) {
                    better = Some(b);
                }
            }
            iv[j] = if j == 0 {
                (r.lo.map(f64::exp), r.hi.map(f64::exp))
            } else {
                (r.lo, r.hi)
            };
        }
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
        (out.beta_lo, out.beta_hi) = iv[0];
        (out.b_lo, out.b_hi) = iv[1];
        (out.gamma_lo, out.gamma_hi) = iv[2];
        (out.eta_lo, out.eta_hi) = iv[3];
        break;
    }
    let at: Vec<Param> = [Param::Gamma, Param::Eta]
        .into_iter()
        .filter(|p| free[p.index()] && phi[p.index()].abs() < BOUND_TOL)
        .collect();
    out.status = if at.is_empty() {
        FitStatus::Converged
    } else {
        FitStatus::OnBound { at }
    };
    if let (Some(c), true) = (calls, !weights.is_empty()) {
        out.bootstrap = Some(bootstrap_qubit(model, c, weights, phi, &cfg.solver));
    }
    add_warnings(&mut out, data, model);
    out
}

/// Sets γ or η to exactly 0 when the solver stopped within a hair of it and ℓ there is no lower
/// (the cubic convergence onto an even maximum leaves residues like 1e-7).
fn snap_to_bound(obj: &Likelihood<'_>, free: [bool; 4], phi: &mut [f64; 4], ll: &mut f64) {
    use super::objective::Objective;
    for j in 2..4 {
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
    let free = model.free();
    out.beta = Some(p.beta);
    out.b = Some(if free[1] { p.b } else { 0.0 });
    out.gamma = Some(if free[2] { p.gamma.abs() } else { 0.0 });
    out.eta = Some(if free[3] { p.eta.abs() } else { 0.0 });
    let g2 = p.gamma * p.gamma;
    let s = (1.0 + g2).sqrt();
    out.wrong_state_floor = Some(if free[2] {
        g2 / (2.0 * s * (s + 1.0))
    } else {
        0.0
    });
}

fn add_warnings(out: &mut QubitFit, data: &QubitCounts, model: Model) {
    let free = model.free();
    let (beta, b, eta) = (
        out.beta.unwrap_or(0.0),
        out.b.unwrap_or(0.0),
        out.eta.unwrap_or(0.0),
    );
    let w = &mut out.warnings;
    if free[2] && !data.h.iter().any(|h| beta * (h + b).abs() > 4.0) {
        w.push(FitWarning::NoPlateau);
    }
    if free[3] {
        let unresolved = match (out.eta_lo, out.eta_se) {
            (Some(lo), _) => lo <= 0.0,
            (None, Some(se)) => eta < 2.0 * se,
            (None, None) => true,
        };
        if unresolved {
            w.push(FitWarning::EtaNotResolved);
        }
        let eta_large = out.eta_se.is_some_and(|se| eta > 3.0 * se) && eta > 1e-3;
        let b_small = b.abs() < out.b_se.map_or(0.0, |s| 2.0 * s).max(0.1 * eta);
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
    if out.dispersion.is_some_and(|d| d > 1.5) {
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
