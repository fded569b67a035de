//! Sparse transitions: the rule for the extra starts of [`super::multistart`] (docs/physics.md §3,
//! §3.5).
//!
//! A qubit's data have a *sparse transition* when they measure both plateaus but fewer than
//! `2 × (fitted parameters)` distinct h values have a pooled fraction of -1 reads inside (0.02, 0.98)
//! ([`sparse_transition`]): two noise
//! branches (h + b ± η) with too few points on their transition each. An optimised plan that puts its
//! reads on h = 0, ±1 and a few values in between (one or two calls each) is one. There the per-call
//! likelihood has several local maxima along the β–(b, η) trade-off: the many calls at h = 0 fix
//! `β(b + η)` and `β(b - η)`, the one or two calls at each other transition h fix `β h + β(b ± η)` for
//! *one* of the two branches, and each assignment of those calls to a branch is a maximum with its own
//! β. The data-driven start can stop at one of them, hundreds of nats below the global maximum.
//!
//! On a sparse transition every start of [`super::start::starts`] runs, and then [`tradeoff_starts`]:
//! ℓ is scanned along the curve `β → s β, b → b / s, η → η / s` (which keeps `β(b ± η)` and so the h = 0
//! calls fitted) through the best maximum, `s` in [[`SCAN_MIN`], [`SCAN_MAX`]] on a grid of
//! [`SCAN_STEP`] in `ln s`, and the fit restarts from the highest [`SCAN_PEAKS`] local maxima of the scan
//! other than the one of the maximum itself. A dense sweep never meets the rule (the reference
//! protocol's 81 h values put 13–39 in the transition on the chips of the design proof by simulation),
//! so its fits cost what they did.

use super::objective::Objective;
use crate::model::{Model, Order, QubitCounts};

/// Pooled fractions of -1 reads strictly inside this band count as the transition.
const TRANSITION_BAND: (f64, f64) = (0.02, 0.98);
/// Smallest and largest factor `s` on β of the trade-off scan.
pub const SCAN_MIN: f64 = 0.5;
pub const SCAN_MAX: f64 = 2.0;
/// Step of the scan in `ln s` (finer than the width of one maximum, ≈ 1–2 % in β).
pub const SCAN_STEP: f64 = 0.005;
/// How many local maxima of the scan the fit restarts from.
pub const SCAN_PEAKS: usize = 2;

/// Whether `data` measure both plateaus (some h with a pooled fraction of -1 reads at or below
/// [`TRANSITION_BAND`]`.0`, some at or above `.1`) but have fewer than `2 × (parameters of model)`
/// distinct h values in the transition between them.
///
/// A sweep without both plateaus (a crosstalk sweep of a few h values near 0, say) is outside the rule:
/// there γ is not identifiable whatever the starts (the fit warns `no_plateau`), and every qubit would
/// pay for the extra starts.
pub fn sparse_transition(data: &QubitCounts, model: Model) -> bool {
    let (mut low, mut high) = (false, false);
    let mut hs: Vec<f64> = Vec::new();
    for (&h, (&k, &n)) in data.h.iter().zip(data.k.iter().zip(&data.n)) {
        if n <= 0.0 {
            continue;
        }
        if k <= TRANSITION_BAND.0 * n {
            low = true;
        } else if k >= TRANSITION_BAND.1 * n {
            high = true;
        } else {
            hs.push(h);
        }
    }
    hs.sort_by(f64::total_cmp);
    hs.dedup();
    low && high && hs.len() < 2 * model.n_params()
}

/// The point of the trade-off curve through `phi` (working coordinates `(ln β, b, γ, η)`) at `ln s = t`.
fn on_curve(phi: &[f64; 4], t: f64) -> [f64; 4] {
    let shrink = (-t).exp();
    [phi[0] + t, phi[1] * shrink, phi[2], phi[3] * shrink]
}

/// Starting points from the scan of ℓ along the trade-off curve through the maximum `phi` (module doc),
/// best first (parameters fixed at 0 stay 0).
pub fn tradeoff_starts(obj: &dyn Objective, phi: &[f64; 4]) -> Vec<[f64; 4]> {
    let lo = (SCAN_MIN.ln() / SCAN_STEP).floor() as i64;
    let hi = (SCAN_MAX.ln() / SCAN_STEP).ceil() as i64;
    let ts: Vec<f64> = (lo..=hi).map(|i| i as f64 * SCAN_STEP).collect();
    let ll: Vec<f64> = ts
        .iter()
        .map(|&t| {
            let v = obj.eval(&on_curve(phi, t), Order::Value).ll;
            if v.is_finite() {
                v
            } else {
                f64::NEG_INFINITY
            }
        })
        .collect();
    // the maximum's own peak: climb the scan from t = 0
    let mut own = ts.iter().position(|&t| t >= 0.0).unwrap_or(0);
    while own + 1 < ll.len() && ll[own + 1] > ll[own] {
        own += 1;
    }
    while own > 0 && ll[own - 1] > ll[own] {
        own -= 1;
    }
    let mut peaks: Vec<usize> = (1..ll.len().saturating_sub(1))
        .filter(|&i| i != own && ll[i] > ll[i - 1] && ll[i] >= ll[i + 1] && ll[i].is_finite())
        .collect();
    peaks.sort_by(|&a, &b| ll[b].total_cmp(&ll[a]));
    peaks.truncate(SCAN_PEAKS);
    peaks.into_iter().map(|i| on_curve(phi, ts[i])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{p_down, NoiseKind, Params};

    fn counts(h: &[f64], truth: &Params) -> QubitCounts {
        QubitCounts::from_triples(h.iter().map(|&h| {
            let p = p_down(NoiseKind::TwoPoint, truth, h);
            (h, (p * 1e4).round() as u32, 10_000)
        }))
    }

    #[test]
    fn dense_sweeps_are_not_sparse_and_few_transition_points_are() {
        let truth = Params::new(10.0, -0.01, 0.04, 0.015);
        let dense: Vec<f64> = (0..81).map(|i| -1.0 + 0.025 * i as f64).collect();
        assert!(!sparse_transition(&counts(&dense, &truth), Model::Qasa));
        let sparse = [-1.0, -0.5, -0.2, -0.1, -0.05, 0.0, 0.05, 0.1, 0.2, 0.5, 1.0];
        assert!(sparse_transition(&counts(&sparse, &truth), Model::Qasa));
        // the rule scales with the model: the one-parameter Gibbs model needs two transition points
        assert!(!sparse_transition(&counts(&sparse, &truth), Model::Gibbs));
        // a few h values near 0 and no plateau (a crosstalk sweep) is outside the rule
        let near_zero = [-0.06, -0.04, -0.02, 0.0, 0.02, 0.04, 0.06];
        assert!(!sparse_transition(&counts(&near_zero, &truth), Model::Qasa));
        // one plateau only is outside it too
        let one_side = [0.0, 0.05, 0.1, 0.2, 0.5, 1.0];
        assert!(!sparse_transition(&counts(&one_side, &truth), Model::Qasa));
    }

    /// ℓ with two peaks along the trade-off curve, at s = 1 and s = 1.3.
    struct TwoPeaks;
    impl Objective for TwoPeaks {
        fn eval(&self, phi: &[f64; 4], _o: Order) -> crate::model::LogLik {
            let t = phi[0] - 10f64.ln();
            let ll = -50.0 * t * t + 30.0 * (-(t - 1.3f64.ln()).powi(2) / 1e-3).exp();
            crate::model::LogLik {
                ll,
                ..Default::default()
            }
        }
    }

    #[test]
    fn the_scan_starts_from_the_other_peak() {
        let phi = [10f64.ln(), -0.01, 0.04, 0.015];
        let starts = tradeoff_starts(&TwoPeaks, &phi);
        assert!(!starts.is_empty());
        let s = (starts[0][0] - phi[0]).exp();
        assert!((s - 1.3).abs() < 0.01, "{s}");
        // b and η shrink by 1/s, γ stays
        assert!((starts[0][1] * s - phi[1]).abs() < 1e-12);
        assert!((starts[0][3] * s - phi[3]).abs() < 1e-12);
        assert_eq!(starts[0][2], phi[2]);
    }
}
