//! A fit against the truth of the virtual QPU (`qasa simulate --truth`): per parameter the bias, the RMS
//! error, the median relative error and how often each kind of 95 % interval holds the true value.
//! This is how the fit's statistics are checked (docs/uncertainties.md).

use super::result::{FitResult, QubitFit};
use crate::device::Truth;
use crate::model::Param;
use serde::{Deserialize, Serialize};

/// One kind of interval and how often it held the truth.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// `robust` (`*_lo`, `*_hi`), `model_wald` (± 1.96 `*_se_model`), `profile`, `bootstrap`.
    pub interval: String,
    /// Qubits with this interval.
    pub n: usize,
    /// Fraction of them whose interval holds the true value.
    pub coverage: f64,
}

/// The comparison for one parameter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamCheck {
    pub param: Param,
    /// Qubits with an estimate.
    pub n: usize,
    /// Mean of estimate - truth (units of the parameter).
    pub bias: f64,
    /// Root mean square of estimate - truth.
    pub rms_error: f64,
    /// Median of |estimate - truth| / |truth| (over qubits with truth ≠ 0).
    pub median_rel_error: Option<f64>,
    pub coverage: Vec<Coverage>,
}

/// A fit compared with a truth file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TruthCheck {
    /// Fitted (non-failed) qubits found in the truth.
    pub qubits: usize,
    /// Anneal time the true β was taken at, µs.
    pub anneal_time_us: f64,
    pub params: Vec<ParamCheck>,
}

/// True `[β, b, |γ|, |η|]` per qubit id at the sweep's anneal time. Where the device flips reads with
/// probability ε > 0, the fitted γ also carries the flips (γ and a symmetric readout error are
/// indistinguishable to second order, docs/model.md): γ is then the one whose wrong-state floor
/// `(1 - 1/sqrt(1+γ²))/2` equals the total floor `f + ε - 2fε`.
fn true_values(truth: &Truth, anneal_time_us: f64) -> std::collections::HashMap<u32, [f64; 4]> {
    truth
        .qubits
        .iter()
        .map(|q| {
            (
                q.qubit,
                [
                    truth.beta_at(q, anneal_time_us),
                    q.b,
                    gamma_with_flips(q.gamma, q.readout_flip),
                    q.eta.abs(),
                ],
            )
        })
        .collect()
}

/// |γ| with the wrong-state floor of saturation γ combined with a symmetric readout flip `eps`.
fn gamma_with_flips(gamma: f64, eps: f64) -> f64 {
    if !(eps > 0.0 && eps < 0.5) {
        return gamma.abs();
    }
    let floor = (1.0 - 1.0 / (1.0 + gamma * gamma).sqrt()) / 2.0;
    let total = floor + eps - 2.0 * floor * eps;
    ((1.0 - 2.0 * total).powi(-2) - 1.0).max(0.0).sqrt()
}

type Interval = fn(&QubitFit, Param) -> Option<(f64, f64)>;

/// The interval kinds compared, with how to read each from a qubit's fit.
const KINDS: [(&str, Interval); 4] = [
    ("robust", |q, p| {
        let (lo, hi) = q.interval(p);
        lo.zip(hi)
    }),
    ("model_wald", |q, p| {
        let e = q.estimate(p);
        let (v, s) = e.value.zip(e.se_model)?;
        let lo = v - 1.959963984540054 * s;
        Some((
            if p.is_even() { lo.max(0.0) } else { lo },
            v + 1.959963984540054 * s,
        ))
    }),
    ("profile", |q, p| {
        let e = q.estimate(p);
        e.profile_lo.zip(e.profile_hi)
    }),
    ("bootstrap", |q, p| {
        let b = q.bootstrap.as_ref()?;
        b.params[p].lo.zip(b.params[p].hi)
    }),
];

/// Compares `fit` with `truth` over the qubits both hold (failed fits left out). `None` when no qubit
/// matches.
pub fn check_against_truth(fit: &FitResult, truth: &Truth) -> Option<TruthCheck> {
    let t_us = fit
        .meta
        .sweep
        .anneal_time_us
        .unwrap_or(truth.config.anneal_time_us);
    let tv = true_values(truth, t_us);
    let pairs: Vec<(&QubitFit, [f64; 4])> = fit
        .qubits
        .iter()
        .filter(|q| !q.status.is_failed())
        .filter_map(|q| tv.get(&q.qubit).map(|t| (q, *t)))
        .collect();
    if pairs.is_empty() {
        return None;
    }
    let params = Param::ALL
        .into_iter()
        .filter(|&p| pairs.iter().any(|(q, _)| q.model.fits(p)))
        .map(|p| param_check(&pairs, p))
        .collect();
    Some(TruthCheck {
        qubits: pairs.len(),
        anneal_time_us: t_us,
        params,
    })
}

fn param_check(pairs: &[(&QubitFit, [f64; 4])], p: Param) -> ParamCheck {
    let j = p.index();
    let err: Vec<(f64, f64)> = pairs
        .iter()
        .filter_map(|(q, t)| q.value(p).map(|v| (v - t[j], t[j])))
        .collect();
    let n = err.len().max(1) as f64;
    let mut rel: Vec<f64> = err
        .iter()
        .filter(|(_, t)| *t != 0.0)
        .map(|(e, t)| (e / t).abs())
        .collect();
    rel.sort_by(f64::total_cmp);
    let coverage = KINDS
        .iter()
        .filter_map(|(name, get)| {
            let ivs: Vec<(bool, usize)> = pairs
                .iter()
                .filter_map(|(q, t)| get(q, p).map(|(lo, hi)| (lo <= t[j] && t[j] <= hi, 1)))
                .collect();
            (!ivs.is_empty()).then(|| Coverage {
                interval: (*name).to_string(),
                n: ivs.len(),
                coverage: ivs.iter().filter(|x| x.0).count() as f64 / ivs.len() as f64,
            })
        })
        .collect();
    ParamCheck {
        param: p,
        n: err.len(),
        bias: err.iter().map(|e| e.0).sum::<f64>() / n,
        rms_error: (err.iter().map(|e| e.0 * e.0).sum::<f64>() / n).sqrt(),
        median_rel_error: rel.get(rel.len() / 2).copied(),
        coverage,
    }
}

#[cfg(test)]
mod tests {
    use super::gamma_with_flips;

    #[test]
    fn flips_add_to_the_wrong_state_floor() {
        assert_eq!(gamma_with_flips(-0.05, 0.0), 0.05);
        // no saturation: the floor is the flip rate, (1 - 1/sqrt(1+γ²))/2 = ε
        let g = gamma_with_flips(0.0, 0.01);
        assert!(((1.0 - 1.0 / (1.0 + g * g).sqrt()) / 2.0 - 0.01).abs() < 1e-15);
        assert!(gamma_with_flips(0.05, 0.01) > g);
    }
}
