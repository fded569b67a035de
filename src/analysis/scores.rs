//! Per-qubit fidelity scores (docs/physics.md §6), each with its definition carried in the output and an
//! uncertainty propagated from the fit.
//!
//! | name | formula | unit | better |
//! |---|---|---|---|
//! | `fidelity` | `1 − TVD`, `TVD = (1/2H) ∫_{−H}^{H} |p(h; θ) − p_G(h; β̃)| dh` | probability | higher |
//! | `bias_widths` | `β |b|` | thermal widths | lower |
//! | `noise_widths` | `β η` | thermal widths | lower |
//! | `wrong_state_floor` | `(1 − 1/sqrt(1+γ²))/2` | probability | lower |
//! | `beta_deviation` | `|β/β̃ − 1|` | fraction | lower |
//! | `grade` | letter from `fidelity` and the flags | A–D, F | A |
//!
//! `p(h; θ)` is the fitted response (the fit's model, §2), `p_G(h; β̃) = (1 + tanh(β̃ h))/2` the ideal Gibbs
//! qubit at the chip's median β̃, and `H` the largest |h| of the sweep; the total-variation distance between
//! two one-bit distributions is `|p − q|`, and the integral is a 101-point midpoint rule.
//!
//! Uncertainty (delta method in secant form): for each free parameter i with standard error s_i the change
//! `d_i = (f(θ + s_i e_i) − f(θ − s_i e_i))/2` (forward `f(θ + s_i e_i) − f(θ)` for γ and η within one SE
//! of their bound, where f is even and flat), and `se(f)² = dᵀ R d` with R the parameter correlation of
//! [`super::input::covariance`]. Absolute values (`β|b|`) are propagated on the signed quantity. The chip
//! median β̃ is treated as exact (it pools thousands of qubits).

use super::input::{covariance, Design, QubitInput};
use crate::model::{p_down, Param, Params};
use serde::{Deserialize, Serialize};

/// Points of the midpoint rule for the TVD integral.
pub const TVD_POINTS: usize = 101;

/// What a score means.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreDefinition {
    /// Key of the score in every `scores` entry.
    pub name: String,
    /// Formula in plain text.
    pub formula: String,
    /// Unit of the value.
    pub unit: String,
    /// `higher`, `lower` (is better) or `letter` for the grade (A best).
    pub better: String,
    /// One sentence a reader needs.
    pub description: String,
}

/// Scores of one qubit. `*_se` is the propagated standard error in the unit of its score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QubitScores {
    /// Qubit id.
    pub spin: u32,
    /// Fit status label (`converged`, `on_bound:eta`, `failed:<reason>`).
    pub status: String,
    /// 1 − mean total-variation distance to the ideal Gibbs qubit at the chip median β (probability).
    pub fidelity: Option<f64>,
    pub fidelity_se: Option<f64>,
    /// β|b|, the bias in thermal widths (dimensionless).
    pub bias_widths: Option<f64>,
    pub bias_widths_se: Option<f64>,
    /// βη, the field noise in thermal widths (dimensionless).
    pub noise_widths: Option<f64>,
    pub noise_widths_se: Option<f64>,
    /// (1 − 1/sqrt(1+γ²))/2, the wrong-state floor (probability).
    pub wrong_state_floor: Option<f64>,
    pub wrong_state_floor_se: Option<f64>,
    /// |β/β̃ − 1| (fraction of the chip median β).
    pub beta_deviation: Option<f64>,
    pub beta_deviation_se: Option<f64>,
    /// Combined grade A–D, F for a failed fit (see the definitions).
    pub grade: String,
}

/// Score keys in output order (the grade last).
pub const SCORE_NAMES: [&str; 5] = [
    "fidelity",
    "bias_widths",
    "noise_widths",
    "wrong_state_floor",
    "beta_deviation",
];

/// Grade thresholds on the fidelity: A, B, C (below C: D).
pub const GRADE_FIDELITY: [f64; 3] = [0.98, 0.95, 0.90];

/// The definitions of every score (the `score_definitions` of the analysis file).
pub fn definitions() -> Vec<ScoreDefinition> {
    let d =
        |name: &str, formula: &str, unit: &str, better: &str, description: &str| ScoreDefinition {
            name: name.into(),
            formula: formula.into(),
            unit: unit.into(),
            better: better.into(),
            description: description.into(),
        };
    vec![
        d(
            "fidelity",
            "1 - (1/2H) ∫_{-H}^{H} |p(h; β, b, γ, η) - (1 + tanh(β̃ h))/2| dh",
            "probability",
            "higher",
            "One minus the mean total-variation distance between the fitted response and the ideal Gibbs \
             qubit at the chip median β̃, over |h| ≤ H (the sweep's largest |h|).",
        ),
        d(
            "bias_widths",
            "β |b|",
            "thermal widths",
            "lower",
            "The static field bias in units of the thermal width 1/β: how far the response is shifted.",
        ),
        d(
            "noise_widths",
            "β η",
            "thermal widths",
            "lower",
            "The field noise in units of the thermal width; below about 0.1 it is barely visible.",
        ),
        d(
            "wrong_state_floor",
            "(1 - 1/sqrt(1 + γ²)) / 2",
            "probability",
            "lower",
            "Smallest probability of the wrong state at large |h|; also the equivalent symmetric readout \
             error (γ and readout flips are indistinguishable).",
        ),
        d(
            "beta_deviation",
            "|β / β̃ - 1|",
            "fraction",
            "lower",
            "Relative distance of the qubit's effective inverse temperature from the chip median β̃.",
        ),
        d(
            "grade",
            "A: fidelity ≥ 0.98, B: ≥ 0.95, C: ≥ 0.90, D: below; capped at C when a score is a \
             robust outlier; F: the fit failed",
            "letter",
            "letter",
            "One combined grade for sorting and maps; read the scores for the reason.",
        ),
    ]
}

/// Mean total-variation distance between the response of `params` and the ideal Gibbs qubit at `beta0`
/// over `|h| ≤ h_max`.
pub fn mean_tvd(q: &QubitInput, params: &Params, beta0: f64, h_max: f64) -> f64 {
    let kind = q.model.noise();
    let n = TVD_POINTS;
    let mut s = 0.0;
    for i in 0..n {
        let h = -h_max + 2.0 * h_max * (i as f64 + 0.5) / n as f64;
        let ideal = 0.5 * (1.0 + (beta0 * h).tanh());
        s += (p_down(kind, params, h) - ideal).abs();
    }
    s / n as f64
}

/// Secant-form delta method (see the module docs): `(f(θ), se)`.
pub fn propagate(
    q: &QubitInput,
    params: &Params,
    cov: &[[f64; 4]; 4],
    f: &dyn Fn(&Params) -> f64,
) -> (f64, Option<f64>) {
    let f0 = f(params);
    let theta = params.to_array();
    let mut d = [0.0; 4];
    let mut se = [0.0; 4];
    for p in Param::ALL {
        let i = p.index();
        let s = cov[i][i].max(0.0).sqrt();
        if s.is_nan() || s <= 0.0 || q.estimates[i].is_none() {
            continue;
        }
        se[i] = s;
        let at = |delta: f64| {
            let mut t = theta;
            t[i] += delta;
            f(&Params::from_array(t))
        };
        let near_bound = matches!(p, Param::Gamma | Param::Eta) && theta[i].abs() < s;
        d[i] = if near_bound {
            at(s) - f0
        } else {
            0.5 * (at(s) - at(-s))
        };
    }
    let mut var = 0.0;
    for i in 0..4 {
        for j in 0..4 {
            if se[i] > 0.0 && se[j] > 0.0 {
                var += d[i] * d[j] * cov[i][j] / (se[i] * se[j]);
            }
        }
    }
    let se_f = (var.is_finite() && var >= 0.0).then(|| var.sqrt());
    (f0, se_f)
}

/// Scores of one qubit (the grade is set later, once outliers are known).
pub fn qubit_scores(q: &QubitInput, beta0: f64, h_max: f64, design: &Design) -> QubitScores {
    let mut s = QubitScores {
        spin: q.qubit,
        status: q.failed.clone().unwrap_or_else(|| status_label(q)),
        fidelity: None,
        fidelity_se: None,
        bias_widths: None,
        bias_widths_se: None,
        noise_widths: None,
        noise_widths_se: None,
        wrong_state_floor: None,
        wrong_state_floor_se: None,
        beta_deviation: None,
        beta_deviation_se: None,
        grade: "F".into(),
    };
    let Some(params) = q.params else {
        return s;
    };
    let cov = covariance(q, design);
    let set = |f: &dyn Fn(&Params) -> f64| {
        let (v, se) = propagate(q, &params, &cov, f);
        (Some(v.abs()).filter(|v| v.is_finite()), se)
    };
    (s.fidelity, s.fidelity_se) = set(&|p| 1.0 - mean_tvd(q, p, beta0, h_max));
    (s.bias_widths, s.bias_widths_se) = set(&|p| p.beta * p.b);
    (s.noise_widths, s.noise_widths_se) = set(&|p| p.beta * p.eta.abs());
    (s.wrong_state_floor, s.wrong_state_floor_se) =
        set(&|p| 0.5 * (1.0 - 1.0 / (1.0 + p.gamma * p.gamma).sqrt()));
    (s.beta_deviation, s.beta_deviation_se) = set(&|p| p.beta / beta0 - 1.0);
    s.grade = grade(s.fidelity, false);
    s
}

fn status_label(q: &QubitInput) -> String {
    if q.on_bound.is_empty() {
        "converged".into()
    } else {
        format!(
            "on_bound:{}",
            q.on_bound
                .iter()
                .map(|p| p.name())
                .collect::<Vec<_>>()
                .join("+")
        )
    }
}

/// The combined grade: A/B/C/D by fidelity thresholds, capped at C for an outlier, F without a fit.
pub fn grade(fidelity: Option<f64>, outlier: bool) -> String {
    let Some(f) = fidelity else {
        return "F".into();
    };
    let letter = if f >= GRADE_FIDELITY[0] {
        'A'
    } else if f >= GRADE_FIDELITY[1] {
        'B'
    } else if f >= GRADE_FIDELITY[2] {
        'C'
    } else {
        'D'
    };
    let letter = if outlier && letter < 'C' { 'C' } else { letter };
    letter.to_string()
}

impl QubitScores {
    /// Value of a score by its name in [`SCORE_NAMES`].
    pub fn get(&self, name: &str) -> Option<f64> {
        match name {
            "fidelity" => self.fidelity,
            "bias_widths" => self.bias_widths,
            "noise_widths" => self.noise_widths,
            "wrong_state_floor" => self.wrong_state_floor,
            "beta_deviation" => self.beta_deviation,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::input::qubit_input;
    use crate::fit::{FailReason, FitStatus, QubitFit};
    use crate::model::{Model, Param};

    fn input(beta: f64, b: f64, gamma: f64, eta: f64) -> QubitInput {
        let mut f = QubitFit::failed(3, Model::Qasa, FailReason::NoReads, String::new());
        f.status = FitStatus::Converged;
        for (p, v, se) in [
            (Param::Beta, beta, 0.05),
            (Param::B, b, 1e-3),
            (Param::Gamma, gamma, 5e-3),
            (Param::Eta, eta, 2e-3),
        ] {
            f.params[p].value = Some(v);
            f.params[p].se = Some(se);
        }
        qubit_input(&f)
    }

    #[test]
    fn ideal_qubit_at_the_median_has_fidelity_one() {
        let q = input(6.0, 0.0, 0.0, 0.0);
        let p = q.params.unwrap();
        assert!(mean_tvd(&q, &p, 6.0, 1.0) < 1e-15);
    }

    #[test]
    fn tvd_of_a_pure_bias_matches_the_closed_form() {
        // p - q = (tanh(β(h+b)) - tanh(βh))/2 ≥ 0, so TVD = (1/4) ∫_{-1}^{1} (tanh(β(h+b)) - tanh(βh)) dh
        //       = (1/(4β)) [ln cosh(β(1+b)) - ln cosh(β(b-1))] (the tanh(βh) part integrates to 0).
        let q = input(6.0, 0.01, 0.0, 0.0);
        let p = q.params.unwrap();
        let lc = |x: f64| x.cosh().ln();
        let exact = (lc(6.0 * 1.01) - lc(6.0 * (0.01 - 1.0))) / (4.0 * 6.0);
        let tvd = mean_tvd(&q, &p, 6.0, 1.0);
        assert!((tvd - exact).abs() < 2e-6, "{tvd} vs {exact}");
    }

    #[test]
    fn simple_scores_and_their_errors() {
        let q = input(6.0, 0.01, 0.05, 0.01);
        let design = Design::even(-1.0, 1.0, 81, 8.1e6);
        let s = qubit_scores(&q, 6.0, 1.0, &design);
        assert!((s.bias_widths.unwrap() - 0.06).abs() < 1e-12);
        assert!((s.noise_widths.unwrap() - 0.06).abs() < 1e-12);
        let floor = 0.5 * (1.0 - 1.0 / (1.0f64 + 0.0025).sqrt());
        assert!((s.wrong_state_floor.unwrap() - floor).abs() < 1e-15);
        assert!(s.beta_deviation.unwrap() < 1e-15);
        // se(β/β̃ - 1) = se(β)/β̃ (linear): 0.05/6
        assert!((s.beta_deviation_se.unwrap() - 0.05 / 6.0).abs() < 1e-12);
        // se of the floor: f'(γ) se(γ) = γ/(2(1+γ²)^{3/2}) · 0.005 (secant of a near-linear function)
        let want = 0.05 / (2.0 * 1.0025f64.powf(1.5)) * 0.005;
        assert!((s.wrong_state_floor_se.unwrap() - want).abs() < 1e-3 * want);
        assert!(s.fidelity.unwrap() < 1.0 && s.fidelity_se.unwrap() > 0.0);
        assert_eq!(s.grade, "A");
    }

    #[test]
    fn grade_rules() {
        assert_eq!(grade(Some(0.99), false), "A");
        assert_eq!(grade(Some(0.99), true), "C");
        assert_eq!(grade(Some(0.96), false), "B");
        assert_eq!(grade(Some(0.5), true), "D");
        assert_eq!(grade(None, false), "F");
    }

    #[test]
    fn failed_fit_gets_no_scores() {
        let f = QubitFit::failed(9, Model::Qasa, FailReason::AllOneState, "x".into());
        let s = qubit_scores(
            &qubit_input(&f),
            6.0,
            1.0,
            &Design::even(-1.0, 1.0, 3, 30.0),
        );
        assert_eq!((s.fidelity, s.grade.as_str()), (None, "F"));
        assert_eq!(s.status, "failed:all_one_state");
    }
}
