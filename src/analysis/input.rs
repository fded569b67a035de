//! The one place where the analysis reads a fit (`fit::QubitFit`): value, standard error and interval per
//! model parameter, and the covariance the delta method needs. Everything else in `analysis` goes through
//! [`Estimate`] and [`QubitInput`], so a change in how the fit reports its errors is adapted here only.
//!
//! Which standard error: the fit's default robust SE (a sandwich over calls or over h values, honest
//! under over-dispersion, docs/physics.md §3.5, docs/uncertainties.md), else the block-bootstrap SE, else
//! the model-based SE. On a bound (γ or η at 0) a Hessian SE is meaningless (§3.2): there the SE is the
//! half-width of the fit's 95 % interval divided by 1.96 (the interval runs from 0 to its upper end).
//!
//! Covariance: the fit reports marginal SEs only. The correlation between parameters comes from the
//! expected (Fisher) information `Σ N ∂p∂pᵀ/(pq)` at the fitted values (physics.md §6) on the sweep's own
//! h grid and reads when the sweep is given, else on the grid the fit describes (`n_points` values evenly
//! spaced over `[h_min, h_max]`, `total_reads / n_points` reads each); the covariance is that correlation
//! scaled by the SEs above.

use crate::fit::{FitStatus, QubitFit};
use crate::model::{fisher_information, Model, NoiseKind, Param, Params};

/// Where a standard error comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeSource {
    /// The fit's default robust (sandwich) SE.
    Robust,
    /// Block bootstrap over calls (its precision depends on the number of blocks).
    Bootstrap,
    /// Model-based SE from the observed information of the fitted likelihood.
    Binomial,
    /// Half-width of the fit's 95 % interval / 1.96.
    Profile,
}

/// One parameter of one qubit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Point estimate in natural units (β in 1/h, b and η in h, γ dimensionless).
    pub value: f64,
    /// Standard error (see the module docs for which one), same unit as the value.
    pub se: Option<f64>,
    /// Which standard error `se` is.
    pub se_source: Option<SeSource>,
    /// 95 % interval, same unit.
    pub lo: Option<f64>,
    pub hi: Option<f64>,
}

/// What the analysis needs from one qubit's fit.
#[derive(Clone, Debug, PartialEq)]
pub struct QubitInput {
    pub qubit: u32,
    /// `None` for a failed fit.
    pub params: Option<Params>,
    pub model: Model,
    /// Per `[β, b, γ, η]`; `None` for a parameter the model does not fit or a failed fit.
    pub estimates: [Option<Estimate>; 4],
    /// `failed:<reason>` for a failed fit.
    pub failed: Option<String>,
    /// Parameters on their bound (γ, η at 0).
    pub on_bound: Vec<Param>,
    /// Pearson χ²/dof.
    pub dispersion: Option<f64>,
    /// Total reads over all h.
    pub total_reads: f64,
    /// h values with reads.
    pub n_points: usize,
    /// Fit warnings as their snake_case names (`eta_not_resolved`, `over_dispersed`, ...).
    pub warnings: Vec<String>,
}

/// The estimate of one parameter of a fit.
pub fn estimate(q: &QubitFit, p: Param) -> Option<Estimate> {
    if q.status.is_failed() || !q.model.free()[p.index()] {
        return None;
    }
    let value = q.values()[p.index()]?;
    let (lo, hi) = q.intervals()[p.index()];
    let e = q.estimate(p);
    let on_bound = matches!(&q.status, FitStatus::OnBound { at } if at.contains(&p));
    let half = match (lo, hi) {
        (Some(l), Some(h)) if h > l => Some((h - l) / (2.0 * 1.959_963_984_540_054)),
        _ => None,
    };
    let tag = |v: Option<f64>, s: SeSource| v.map(|v| (v, s));
    let boot = tag(
        q.bootstrap.as_ref().and_then(|b| b.params[p].se),
        SeSource::Bootstrap,
    );
    let half = tag(half, SeSource::Profile);
    let se = if on_bound {
        half.or(boot)
    } else {
        tag(e.se, SeSource::Robust)
            .or(boot)
            .or(tag(e.se_model, SeSource::Binomial))
            .or(half)
    };
    let se = se.filter(|(s, _)| s.is_finite() && *s >= 0.0);
    Some(Estimate {
        value,
        se: se.map(|x| x.0),
        se_source: se.map(|x| x.1),
        lo,
        hi,
    })
}

/// The analysis view of a fit.
pub fn qubit_input(q: &QubitFit) -> QubitInput {
    let estimates = Param::ALL.map(|p| estimate(q, p));
    let params = match (&q.status, q.values()) {
        (FitStatus::Failed { .. }, _) => None,
        (_, [Some(beta), b, g, e]) => Some(Params::new(
            beta,
            b.unwrap_or(0.0),
            g.unwrap_or(0.0),
            e.unwrap_or(0.0),
        )),
        _ => None,
    };
    let on_bound = match &q.status {
        FitStatus::OnBound { at } => at.clone(),
        _ => Vec::new(),
    };
    let warnings = q
        .warnings
        .iter()
        .filter_map(|w| serde_json::to_value(w).ok())
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    QubitInput {
        qubit: q.qubit,
        failed: (q.status.is_failed() || params.is_none()).then(|| q.status.label()),
        params,
        model: q.model,
        estimates,
        on_bound,
        dispersion: q.dispersion,
        total_reads: q.total_reads,
        n_points: q.n_points,
        warnings,
    }
}

/// The design a covariance is computed on: h values and reads at each.
#[derive(Clone, Debug, PartialEq)]
pub struct Design {
    pub h: Vec<f64>,
    pub reads: Vec<f64>,
}

impl Design {
    /// `n_points` values evenly spaced over `[h_min, h_max]` with `total_reads` spread evenly.
    pub fn even(h_min: f64, h_max: f64, n_points: usize, total_reads: f64) -> Self {
        let n = n_points.max(2);
        let h = (0..n)
            .map(|i| h_min + (h_max - h_min) * i as f64 / (n - 1) as f64)
            .collect();
        Design {
            h,
            reads: vec![total_reads / n as f64; n],
        }
    }
}

/// Covariance of `[β, b, γ, η]` (zero rows and columns for parameters without an SE): the Fisher
/// correlation on `design` scaled by the SEs of [`estimate`].
pub fn covariance(q: &QubitInput, design: &Design) -> [[f64; 4]; 4] {
    let mut cov = [[0.0; 4]; 4];
    let se: [f64; 4] = q.estimates.map(|e| e.and_then(|e| e.se).unwrap_or(0.0));
    for i in 0..4 {
        cov[i][i] = se[i] * se[i];
    }
    let Some(params) = q.params else {
        return cov;
    };
    let kind = q.model.noise();
    let info = fisher_information(kind, &params, &design.h, &design.reads);
    // A parameter on its bound (η = 0) carries no information there: it stays uncorrelated.
    let top = (0..4).map(|i| info[i][i]).fold(0.0, f64::max);
    let free: Vec<usize> = (0..4)
        .filter(|&i| se[i] > 0.0 && info[i][i] > 1e-12 * top)
        .collect();
    if free.len() < 2 {
        return cov;
    }
    let Some(inv) = invert_sub(&info, &free) else {
        return cov;
    };
    for (a, &i) in free.iter().enumerate() {
        for (b, &j) in free.iter().enumerate() {
            if i != j {
                let denom = (inv[a][a] * inv[b][b]).sqrt();
                if denom > 0.0 && denom.is_finite() {
                    let rho = (inv[a][b] / denom).clamp(-1.0, 1.0);
                    cov[i][j] = rho * se[i] * se[j];
                }
            }
        }
    }
    cov
}

/// Inverse of the sub-matrix of `m` on `idx` (Gauss–Jordan with partial pivoting); `None` if singular.
fn invert_sub(m: &[[f64; 4]; 4], idx: &[usize]) -> Option<Vec<Vec<f64>>> {
    let n = idx.len();
    let mut a: Vec<Vec<f64>> = idx
        .iter()
        .map(|&i| {
            let mut row: Vec<f64> = idx.iter().map(|&j| m[i][j]).collect();
            row.resize(2 * n, 0.0);
            row
        })
        .collect();
    for (r, row) in a.iter_mut().enumerate() {
        for k in 0..n {
            row[n + k] = if k == r { 1.0 } else { 0.0 };
        }
    }
    for c in 0..n {
        let piv = (c..n).max_by(|&x, &y| a[x][c].abs().total_cmp(&a[y][c].abs()))?;
        if a[piv][c].is_nan() || a[piv][c].abs() <= 1e-300 {
            return None;
        }
        a.swap(c, piv);
        let d = a[c][c];
        a[c].iter_mut().for_each(|x| *x /= d);
        let pivot_row = a[c].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != c {
                let f = row[c];
                if f != 0.0 {
                    row.iter_mut()
                        .zip(&pivot_row)
                        .for_each(|(x, p)| *x -= f * p);
                }
            }
        }
    }
    Some(a.into_iter().map(|row| row[n..].to_vec()).collect())
}

/// The kind of noise model a fit used, for evaluating its response.
pub fn noise_kind(q: &QubitInput) -> NoiseKind {
    q.model.noise()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::{FailReason, QubitFit};

    fn fitted() -> QubitFit {
        let mut q = QubitFit::failed(7, Model::Qasa, FailReason::NoReads, String::new());
        q.status = FitStatus::OnBound {
            at: vec![Param::Eta],
        };
        let set = |q: &mut QubitFit, p: Param, v: f64, se: Option<f64>, model: Option<f64>| {
            let e = &mut q.params[p];
            e.value = Some(v);
            e.se = se;
            e.se_model = model;
        };
        // β: robust SE; b: only a model-based SE; γ: both; η on its bound: interval [0, 0.0196]
        set(&mut q, Param::Beta, 6.0, Some(0.1), Some(0.05));
        set(&mut q, Param::B, 0.01, None, Some(0.001));
        set(&mut q, Param::Gamma, 0.05, Some(0.006), Some(0.004));
        set(&mut q, Param::Eta, 0.0, None, None);
        q.params[Param::Eta].lo = Some(0.0);
        q.params[Param::Eta].hi = Some(0.0196);
        q.dispersion = Some(4.0);
        q
    }

    #[test]
    fn se_choice_follows_the_documented_order() {
        let q = fitted();
        let beta = estimate(&q, Param::Beta).unwrap();
        assert_eq!(beta.se, Some(0.1), "the robust SE first");
        assert_eq!(beta.se_source, Some(SeSource::Robust));
        let b = estimate(&q, Param::B).unwrap();
        assert_eq!(b.se, Some(0.001), "model-based SE when no robust one");
        assert_eq!(b.se_source, Some(SeSource::Binomial));
        let eta = estimate(&q, Param::Eta).unwrap();
        assert!((eta.se.unwrap() - 0.0196 / 3.919_927_969_080_108).abs() < 1e-12);
        let failed = QubitFit::failed(1, Model::Qasa, FailReason::NoReads, String::new());
        assert!(estimate(&failed, Param::Beta).is_none());
        assert!(qubit_input(&failed).failed.is_some());
    }

    #[test]
    fn covariance_is_symmetric_with_the_ses_on_the_diagonal() {
        let q = qubit_input(&fitted());
        let cov = covariance(&q, &Design::even(-1.0, 1.0, 81, 8.1e6));
        assert!((cov[0][0] - 0.01).abs() < 1e-15);
        for i in 0..4 {
            for j in 0..4 {
                assert!((cov[i][j] - cov[j][i]).abs() < 1e-15);
                assert!(cov[i][j].abs() <= (cov[i][i] * cov[j][j]).sqrt() + 1e-15);
            }
        }
        assert!(cov[0][1] != 0.0, "β and b are correlated when b ≠ 0");
    }

    #[test]
    fn inverse_of_a_known_matrix() {
        let m = [
            [4.0, 1.0, 0.0, 0.0],
            [1.0, 3.0, 0.0, 0.0],
            [0.0, 0.0, 2.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ];
        let inv = invert_sub(&m, &[0, 1]).unwrap();
        // [[4,1],[1,3]]^-1 = [[3,-1],[-1,4]]/11
        assert!((inv[0][0] - 3.0 / 11.0).abs() < 1e-15 && (inv[0][1] + 1.0 / 11.0).abs() < 1e-15);
        assert!(invert_sub(&[[0.0; 4]; 4], &[0, 1]).is_none());
    }
}
