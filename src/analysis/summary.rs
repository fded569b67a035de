//! Chip summaries of every parameter and score (median, quartiles, IQR, MAD) with robust outliers, and the
//! flagged qubits with their reasons.
//!
//! Robust outlier (Iglewicz & Hoaglin 1993): `z = (x − median)/(1.4826 MAD)` beyond ±3.5, counted only in
//! the direction that is worse (low fidelity; high bias, noise, floor and β deviation; either side for
//! the raw parameters β and b).
//!
//! Flag reasons (stable codes):
//! * `fit_failed`: the fit gave no estimate (its reason in the details);
//! * `outlier:<name>`: a score or parameter is a robust outlier in its worse direction;
//! * `unresolved:<param>`: β or b has no finite SE, or γ / η sits on its bound or is below its resolution
//!   while most of the chip resolves it (when most qubits do not, the summary says so once instead of
//!   flagging half the chip);
//! * `over_dispersed`: dispersion φ = Pearson χ²/dof above 1.5 and a robust outlier of the chip's φ (a
//!   chip-wide over-dispersion, as 1/f flux noise gives, shows in the summary's median φ instead);
//! * `no_transition`, `gauge_averaged`: the fit's warnings of the same name (docs/physics.md §3).

use super::input::QubitInput;
use super::scores::QubitScores;
use super::stats::{mad, quantile_sorted, sorted_finite, MAD_TO_SD};
use crate::model::{Model, Param};
use serde::{Deserialize, Serialize};

/// Robust z beyond which a value is an outlier.
pub const OUTLIER_Z: f64 = 3.5;
/// Dispersion above which a qubit may be flagged as over-dispersed.
pub const DISPERSION_FLAG: f64 = 1.5;

/// Which side of a distribution is worse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Worse {
    High,
    Low,
    Both,
}

/// Distribution of one quantity over the chip (units: those of the quantity).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    pub name: String,
    pub unit: String,
    /// Qubits with a value.
    pub n: usize,
    pub median: Option<f64>,
    /// 25 % and 75 % quantiles (linear interpolation).
    pub q25: Option<f64>,
    pub q75: Option<f64>,
    pub iqr: Option<f64>,
    /// Median absolute deviation (unscaled); 1.4826 MAD estimates the SD of normal data.
    pub mad: Option<f64>,
    /// Which side counts as an outlier.
    pub worse: Worse,
    /// Robust outliers in the worse direction (|z| > 3.5).
    pub n_outliers: usize,
}

/// A flagged qubit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlaggedQubit {
    pub spin: u32,
    /// Stable reason codes (see the module docs).
    pub reasons: Vec<String>,
    /// One human-readable line per reason, same order.
    pub details: Vec<String>,
}

/// A distribution with its robust centre and scale for outlier tests.
pub fn distribution(name: &str, unit: &str, worse: Worse, values: &[Option<f64>]) -> Distribution {
    let sorted = sorted_finite(values.iter().flatten().copied());
    let q25 = quantile_sorted(&sorted, 0.25);
    let q75 = quantile_sorted(&sorted, 0.75);
    let mut d = Distribution {
        name: name.into(),
        unit: unit.into(),
        n: sorted.len(),
        median: quantile_sorted(&sorted, 0.5),
        q25,
        q75,
        iqr: q25.zip(q75).map(|(a, b)| b - a),
        mad: mad(&sorted),
        worse,
        n_outliers: 0,
    };
    d.n_outliers = values
        .iter()
        .filter(|v| v.is_some_and(|x| d.outlier_z(x).is_some()))
        .count();
    d
}

impl Distribution {
    /// The robust z of `x` when it is an outlier in the worse direction.
    pub fn outlier_z(&self, x: f64) -> Option<f64> {
        let (m, mad) = (self.median?, self.mad?);
        let scale = MAD_TO_SD * mad;
        if scale.is_nan() || scale <= 0.0 || !x.is_finite() {
            return None;
        }
        let z = (x - m) / scale;
        let bad = match self.worse {
            Worse::High => z > OUTLIER_Z,
            Worse::Low => z < -OUTLIER_Z,
            Worse::Both => z.abs() > OUTLIER_Z,
        };
        bad.then_some(z)
    }
}

/// Summaries of the parameters, scores and dispersion, in a fixed order.
pub fn distributions(inputs: &[QubitInput], scores: &[QubitScores]) -> Vec<Distribution> {
    let param = |p: Param| -> Vec<Option<f64>> {
        inputs
            .iter()
            .map(|q| q.estimates[p.index()].map(|e| e.value))
            .collect()
    };
    let score = |n: &str| -> Vec<Option<f64>> { scores.iter().map(|s| s.get(n)).collect() };
    vec![
        distribution("beta", "1/h", Worse::Both, &param(Param::Beta)),
        distribution("b", "h", Worse::Both, &param(Param::B)),
        distribution("gamma", "1", Worse::High, &param(Param::Gamma)),
        distribution("eta", "h", Worse::High, &param(Param::Eta)),
        distribution("fidelity", "probability", Worse::Low, &score("fidelity")),
        distribution(
            "bias_widths",
            "thermal widths",
            Worse::High,
            &score("bias_widths"),
        ),
        distribution(
            "noise_widths",
            "thermal widths",
            Worse::High,
            &score("noise_widths"),
        ),
        distribution(
            "wrong_state_floor",
            "probability",
            Worse::High,
            &score("wrong_state_floor"),
        ),
        distribution(
            "beta_deviation",
            "fraction",
            Worse::High,
            &score("beta_deviation"),
        ),
        distribution(
            "dispersion",
            "1",
            Worse::High,
            &inputs.iter().map(|q| q.dispersion).collect::<Vec<_>>(),
        ),
    ]
}

/// Fraction of fitted qubits on which a parameter is unresolved.
fn unresolved(q: &QubitInput, p: Param) -> bool {
    if q.failed.is_some() || !q.model.free()[p.index()] {
        return false;
    }
    match p {
        Param::Beta | Param::B => {
            q.estimates[p.index()].and_then(|e| e.se).is_none()
                || q.warnings.iter().any(|w| w == "no_transition")
        }
        Param::Gamma => q.on_bound.contains(&p) || q.warnings.iter().any(|w| w == "no_plateau"),
        Param::Eta => q.on_bound.contains(&p) || q.warnings.iter().any(|w| w == "eta_not_resolved"),
    }
}

/// Share of the fitted qubits (those with an estimate) on which each parameter is unresolved.
pub fn unresolved_fractions(inputs: &[QubitInput]) -> [f64; 4] {
    let fitted: Vec<&QubitInput> = inputs.iter().filter(|q| q.failed.is_none()).collect();
    Param::ALL.map(|p| {
        let with: Vec<&&QubitInput> = fitted
            .iter()
            .filter(|q| q.model.free()[p.index()])
            .collect();
        if with.is_empty() {
            0.0
        } else {
            with.iter().filter(|q| unresolved(q, p)).count() as f64 / with.len() as f64
        }
    })
}

/// Flags every qubit with at least one reason and caps the grade of outliers; `dists` from
/// [`distributions`].
///
/// `per_call`: the fit used the per-call likelihood, so a qubit's `gaussian` model is its per-call noise
/// law (`gaussian_noise` is flagged only then).
pub fn flag(
    inputs: &[QubitInput],
    scores: &mut [QubitScores],
    dists: &[Distribution],
    per_call: bool,
) -> Vec<FlaggedQubit> {
    let frac = unresolved_fractions(inputs);
    let find = |n: &str| dists.iter().find(|d| d.name == n);
    let law_count = |m: Model| {
        inputs
            .iter()
            .filter(|q| q.failed.is_none() && q.model == m)
            .count()
    };
    // Gaussian-law qubits stand out only on a chip whose qubits mostly follow the two-point law.
    let two_point_chip = per_call && law_count(Model::Qasa) > law_count(Model::Gaussian);
    let mut out = Vec::new();
    for (q, s) in inputs.iter().zip(scores.iter_mut()) {
        let mut f = FlaggedQubit {
            spin: q.qubit,
            reasons: Vec::new(),
            details: Vec::new(),
        };
        let mut push = |code: String, detail: String| {
            f.reasons.push(code);
            f.details.push(detail);
        };
        if let Some(label) = &q.failed {
            push("fit_failed".into(), format!("the fit failed ({label})"));
        }
        let mut outlier = false;
        let values: Vec<(&str, Option<f64>)> = vec![
            ("beta", q.estimates[0].map(|e| e.value)),
            ("b", q.estimates[1].map(|e| e.value)),
            ("fidelity", s.fidelity),
            ("bias_widths", s.bias_widths),
            ("noise_widths", s.noise_widths),
            ("wrong_state_floor", s.wrong_state_floor),
            ("beta_deviation", s.beta_deviation),
        ];
        for (name, v) in values {
            if let (Some(d), Some(x)) = (find(name), v) {
                if let Some(z) = d.outlier_z(x) {
                    outlier = true;
                    push(
                        format!("outlier:{name}"),
                        format!(
                            "{name} = {x:.4} {} is a robust outlier (z = {z:.1}; chip median {:.4})",
                            d.unit,
                            d.median.unwrap_or(f64::NAN)
                        ),
                    );
                }
            }
        }
        for p in Param::ALL {
            let chip_resolves = matches!(p, Param::Beta | Param::B) || frac[p.index()] < 0.5;
            if chip_resolves && unresolved(q, p) {
                push(
                    format!("unresolved:{}", p.name()),
                    format!("{} is not resolved by this qubit's data", p.name()),
                );
            }
        }
        if let (Some(phi), Some(d)) = (q.dispersion, find("dispersion")) {
            if phi > DISPERSION_FLAG && d.outlier_z(phi).is_some() {
                push(
                    "over_dispersed".into(),
                    format!(
                        "dispersion {phi:.2} is far above the chip's median {:.2}: its counts scatter \
                         more than the chip's (field noise or a neighbour's crosstalk); the fit's robust \
                         errors account for it, binomial ones would not",
                        d.median.unwrap_or(f64::NAN)
                    ),
                );
            }
        }
        if two_point_chip && q.failed.is_none() && q.model == Model::Gaussian {
            push(
                "gaussian_noise".into(),
                "its per-call noise follows the Gaussian law better than the two-point law most of the \
                 chip follows: a neighbour's spin seen through crosstalk, or field noise of another kind"
                    .into(),
            );
        }
        for w in ["no_transition", "gauge_averaged"] {
            if q.warnings.iter().any(|x| x == w) {
                push(w.into(), format!("fit warning: {w}"));
            }
        }
        if outlier {
            s.grade = super::scores::grade(s.fidelity, true);
        }
        if !f.reasons.is_empty() {
            out.push(f);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distribution_quartiles_and_one_sided_outliers() {
        let mut v: Vec<Option<f64>> = (0..100)
            .map(|i| Some(1.0 + 0.01 * f64::from(i % 10)))
            .collect();
        v.push(Some(5.0));
        v.push(Some(-3.0));
        v.push(None);
        let d = distribution("x", "1", Worse::High, &v);
        assert_eq!(d.n, 102);
        assert_eq!(d.n_outliers, 1, "only the high one counts");
        let d = distribution("x", "1", Worse::Both, &v);
        assert_eq!(d.n_outliers, 2);
        assert!(d.outlier_z(1.05).is_none());
    }
}
