//! Response curves of representative qubits (best, median and worst by fidelity, and flagged ones): the
//! measured fraction `k/N` per h with its 68 % Wilson interval, the fitted `p_down(h)` (docs/physics.md §2)
//! on a fine grid, the ideal Gibbs qubit `(1 + tanh(β̃ h))/2` at the chip median β̃, and the Pearson
//! residuals `(k − N p)/sqrt(N p (1 − p))` of the data against the fit.

use super::model::{CurvePoint, ResponseCurve};
use super::stats::wilson68;
use crate::fit::QubitFit;
use crate::model::{p_down, Params};
use crate::sweep::Sweep;

/// Points of the fine grid of the drawn curves.
pub const CURVE_POINTS: usize = 241;

/// One qubit chosen for a curve: its index in the fit, its role and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Pick {
    pub index: usize,
    pub role: &'static str,
    pub why: String,
}

/// Best, median and worst qubit by `score` (higher is better; qubits without a score are skipped), then
/// up to `n_flagged` flagged qubits not already chosen, each with its first reason.
pub fn pick(score: &[Option<f64>], flagged: &[(usize, String)], n_flagged: usize) -> Vec<Pick> {
    let mut ranked: Vec<(usize, f64)> = score
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.filter(|v| v.is_finite()).map(|v| (i, v)))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut out: Vec<Pick> = Vec::new();
    if let (Some(first), Some(last)) = (ranked.first(), ranked.last()) {
        let mid = ranked[ranked.len() / 2];
        for (p, role, what) in [
            (*first, "best", "highest"),
            (mid, "median", "median"),
            (*last, "worst", "lowest"),
        ] {
            if out.iter().all(|o| o.index != p.0) {
                out.push(Pick {
                    index: p.0,
                    role,
                    why: format!("{what} fidelity on the chip ({:.4})", p.1),
                });
            }
        }
    }
    for (i, reason) in flagged {
        if out.iter().filter(|o| o.role == "flagged").count() >= n_flagged {
            break;
        }
        if out.iter().all(|o| o.index != *i) {
            out.push(Pick {
                index: *i,
                role: "flagged",
                why: reason.clone(),
            });
        }
    }
    out
}

/// The curve of one qubit; `None` if the qubit is not in the sweep.
pub fn curve(
    sweep: &Sweep,
    fit: &QubitFit,
    pick: &Pick,
    grade: &str,
    fidelity: Option<f64>,
    beta_ref: f64,
) -> Option<ResponseCurve> {
    let iq = sweep.column_of(fit.qubit)?;
    let v = fit.values();
    let params = match v {
        [Some(beta), b, gamma, eta] => Some(Params::new(
            beta,
            b.unwrap_or(0.0),
            gamma.unwrap_or(0.0),
            eta.unwrap_or(0.0),
        )),
        _ => None,
    };
    let kind = fit.model.noise();
    let points: Vec<CurvePoint> = sweep
        .h
        .iter()
        .zip(sweep.counts.qubit_column(iq))
        .filter(|(_, (_, n))| *n > 0)
        .map(|(&h, (k, n))| {
            let (lo, hi) = wilson68(k, n);
            let residual = params.map(|p| {
                let q = p_down(kind, &p, h).clamp(1e-12, 1.0 - 1e-12);
                let (k, n) = (f64::from(k), f64::from(n));
                (k - n * q) / (n * q * (1.0 - q)).sqrt()
            });
            CurvePoint {
                h,
                reads: n,
                p: f64::from(k) / f64::from(n),
                lo,
                hi,
                residual: residual.filter(|r| r.is_finite()),
            }
        })
        .collect();
    let (h_lo, h_hi) = (
        sweep.h.first().copied().unwrap_or(-1.0),
        sweep.h.last().copied().unwrap_or(1.0),
    );
    let grid: Vec<f64> = (0..CURVE_POINTS)
        .map(|i| h_lo + (h_hi - h_lo) * i as f64 / (CURVE_POINTS - 1) as f64)
        .collect();
    let fit_curve = params
        .map(|p| grid.iter().map(|&h| [h, p_down(kind, &p, h)]).collect())
        .unwrap_or_default();
    let ideal = grid
        .iter()
        .map(|&h| [h, 0.5 * (1.0 + (beta_ref * h).tanh())])
        .collect();
    Some(ResponseCurve {
        spin: fit.qubit,
        role: pick.role.into(),
        why: pick.why.clone(),
        model: fit.model.name().into(),
        status: fit.status.label(),
        grade: grade.into(),
        params: v,
        ses: fit.ses(),
        fidelity,
        points,
        fit: fit_curve,
        ideal,
        ideal_beta: beta_ref,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_best_median_worst_then_new_flagged() {
        let score = [Some(0.9), None, Some(0.99), Some(0.95), Some(0.5)];
        let flagged = vec![(4, "outlier".to_string()), (1, "failed".to_string())];
        let p = pick(&score, &flagged, 2);
        let got: Vec<(usize, &str)> = p.iter().map(|p| (p.index, p.role)).collect();
        assert_eq!(
            got,
            [(2, "best"), (0, "median"), (4, "worst"), (1, "flagged")]
        );
        assert_eq!(p[3].why, "failed");
    }
}
