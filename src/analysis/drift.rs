//! Drift between two fits of the same chip (another day, another anneal time, another machine): per qubit
//! and parameter the difference `d = θ_B − θ_A` with combined standard error `sqrt(se_A² + se_B²)`
//! (independent runs), `z = d / se`, a two-sided p-value (normal; Student t with Welch–Satterthwaite degrees
//! of freedom when an SE comes from a bootstrap over B blocks, which estimates it with B − 1), and
//! Benjamini–Hochberg control over every
//! (qubit, parameter) test of the comparison. A qubit has changed when any of its parameters is detected.
//! Qubits present in one run only, or failed in one, are listed, not dropped.
//!
//! The SEs come from [`super::input::estimate`] (bootstrap, dispersion-scaled or binomial; the profile
//! half-width on a bound). Differences of γ and η are not normal when either run has the parameter within
//! two standard errors of its bound at 0: there the difference is reported without a test (`z`, `p`
//! absent).

use super::input::{estimate, Estimate, SeSource};
use super::stats::{bh_adjust, median, normal_two_sided, t_two_sided};
use crate::fit::FitResult;
use crate::model::Param;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Default false discovery rate of drift detection.
pub const DEFAULT_DRIFT_FDR: f64 = 0.05;

/// The change of one parameter of one qubit (units of the parameter).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamDrift {
    pub a: f64,
    pub b: f64,
    /// `b − a`.
    pub diff: f64,
    /// Combined standard error (None when either run has no SE).
    pub se: Option<f64>,
    pub z: Option<f64>,
    pub p: Option<f64>,
    /// Benjamini–Hochberg q-value over every test of the comparison.
    pub q: Option<f64>,
    pub changed: bool,
}

/// One qubit in both runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QubitDrift {
    pub spin: u32,
    /// β in 1/h, b and η in h, γ dimensionless; absent when a model does not fit it in both runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beta: Option<ParamDrift>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub b: Option<ParamDrift>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gamma: Option<ParamDrift>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eta: Option<ParamDrift>,
    /// Any parameter changed.
    pub changed: bool,
}

/// Chip-level view of one parameter's drift.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamDriftSummary {
    pub param: String,
    pub unit: String,
    pub n: usize,
    /// Median of `b − a` over qubits (units of the parameter).
    pub median_diff: Option<f64>,
    /// Median of `(b − a)/a` (β only; fraction).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median_relative_diff: Option<f64>,
    /// Qubits whose parameter changed.
    pub n_changed: usize,
}

/// The comparison of two fits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    pub format: String,
    pub tool_version: String,
    pub definition: String,
    /// Labels of the two runs (file names or solver names).
    pub a: String,
    pub b: String,
    pub fdr: f64,
    /// Qubits compared (fitted in both runs).
    pub n_compared: usize,
    pub summary: Vec<ParamDriftSummary>,
    /// Qubits with at least one changed parameter, increasing.
    pub changed: Vec<u32>,
    /// Qubits in one run only.
    pub only_in_a: Vec<u32>,
    pub only_in_b: Vec<u32>,
    /// Qubits whose fit failed in one or both runs (not compared).
    pub failed_in_a: Vec<u32>,
    pub failed_in_b: Vec<u32>,
    pub qubits: Vec<QubitDrift>,
}

/// Degrees of freedom of an SE: a bootstrap over B blocks estimates it with B − 1; the others are
/// treated as known.
fn se_dof(e: &Estimate, blocks: usize) -> f64 {
    match e.se_source {
        Some(SeSource::Bootstrap) if blocks >= 2 => (blocks - 1) as f64,
        _ => f64::INFINITY,
    }
}

/// Within two standard errors of 0 (or without an SE).
fn near_bound(e: &Estimate) -> bool {
    e.se.is_none_or(|s| e.value.abs() < 2.0 * s)
}

fn diff(a: Estimate, b: Estimate, blocks: (usize, usize)) -> ParamDrift {
    let se =
        a.se.zip(b.se)
            .map(|(x, y)| (x * x + y * y).sqrt())
            .filter(|s| *s > 0.0);
    let d = b.value - a.value;
    let z = se.map(|s| d / s);
    // Welch–Satterthwaite degrees of freedom of the combined SE; Student t when finite.
    let (va, vb) = (a.se.unwrap_or(0.0).powi(2), b.se.unwrap_or(0.0).powi(2));
    let (da, db) = (se_dof(&a, blocks.0), se_dof(&b, blocks.1));
    let dof = (va + vb).powi(2) / (va * va / da + vb * vb / db);
    let p = z.map(|z| {
        if dof.is_finite() && dof > 0.0 {
            t_two_sided(z, dof)
        } else {
            normal_two_sided(z)
        }
    });
    ParamDrift {
        a: a.value,
        b: b.value,
        diff: d,
        se,
        z,
        p,
        q: None,
        changed: false,
    }
}

/// Compares two fits; `labels` name the runs in the output.
pub fn compare(a: &FitResult, b: &FitResult, labels: (&str, &str), fdr: f64) -> Drift {
    let ma: BTreeMap<u32, _> = a.qubits.iter().map(|q| (q.qubit, q)).collect();
    let mb: BTreeMap<u32, _> = b.qubits.iter().map(|q| (q.qubit, q)).collect();
    let mut out = Drift {
        format: "qasa-drift".into(),
        tool_version: crate::TOOL_VERSION.into(),
        definition: "per qubit and parameter d = B - A, se = sqrt(se_A² + se_B²), z = d/se, two-sided \
                     normal p, Benjamini–Hochberg over all tests; a qubit changed when any parameter did"
            .into(),
        a: labels.0.into(),
        b: labels.1.into(),
        fdr,
        n_compared: 0,
        summary: Vec::new(),
        changed: Vec::new(),
        only_in_a: ma.keys().filter(|k| !mb.contains_key(k)).copied().collect(),
        only_in_b: mb.keys().filter(|k| !ma.contains_key(k)).copied().collect(),
        failed_in_a: Vec::new(),
        failed_in_b: Vec::new(),
        qubits: Vec::new(),
    };
    for (spin, qa) in &ma {
        let Some(qb) = mb.get(spin) else { continue };
        let (fa, fb) = (qa.status.is_failed(), qb.status.is_failed());
        if fa {
            out.failed_in_a.push(*spin);
        }
        if fb {
            out.failed_in_b.push(*spin);
        }
        if fa || fb {
            continue;
        }
        let blocks = (a.meta.n_calls, b.meta.n_calls);
        let d = |p: Param| {
            let (ea, eb) = (estimate(qa, p)?, estimate(qb, p)?);
            let mut out = diff(ea, eb, blocks);
            if matches!(p, Param::Gamma | Param::Eta) && (near_bound(&ea) || near_bound(&eb)) {
                // Not normal within two SEs of the bound: reported, not tested.
                (out.z, out.p) = (None, None);
            }
            Some(out)
        };
        out.qubits.push(QubitDrift {
            spin: *spin,
            beta: d(Param::Beta),
            b: d(Param::B),
            gamma: d(Param::Gamma),
            eta: d(Param::Eta),
            changed: false,
        });
    }
    out.n_compared = out.qubits.len();
    adjust(&mut out);
    out
}

fn slots(q: &mut QubitDrift) -> [&mut Option<ParamDrift>; 4] {
    [&mut q.beta, &mut q.b, &mut q.gamma, &mut q.eta]
}

/// BH over every test, the changed flags and the summary.
fn adjust(out: &mut Drift) {
    let p: Vec<Option<f64>> = out
        .qubits
        .iter_mut()
        .flat_map(|q| slots(q).map(|s| s.as_ref().and_then(|d| d.p)))
        .collect();
    let mut q = bh_adjust(&p).into_iter();
    let fdr = out.fdr;
    for qd in out.qubits.iter_mut() {
        let mut any = false;
        for s in slots(qd) {
            let qv = q.next().flatten();
            if let Some(d) = s.as_mut() {
                d.q = qv;
                d.changed = qv.is_some_and(|x| x <= fdr);
                any |= d.changed;
            }
        }
        qd.changed = any;
    }
    out.changed = out
        .qubits
        .iter()
        .filter(|q| q.changed)
        .map(|q| q.spin)
        .collect();
    let units = ["1/h", "h", "1", "h"];
    out.summary = Param::ALL
        .iter()
        .map(|&p| {
            let ds: Vec<&ParamDrift> = out
                .qubits
                .iter()
                .filter_map(|q| [&q.beta, &q.b, &q.gamma, &q.eta][p.index()].as_ref())
                .collect();
            ParamDriftSummary {
                param: p.name().into(),
                unit: units[p.index()].into(),
                n: ds.len(),
                median_diff: median(ds.iter().map(|d| d.diff)),
                median_relative_diff: (p == Param::Beta)
                    .then(|| median(ds.iter().filter(|d| d.a != 0.0).map(|d| d.diff / d.a)))
                    .flatten(),
                n_changed: ds.iter().filter(|d| d.changed).count(),
            }
        })
        .collect();
}
