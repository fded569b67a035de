//! Report sections made from the analysis (`crate::analysis`): the scores' summary rows, flagged qubits,
//! the pooled temperature, spatial statistics, the correlation heatmap, the crosstalk map and table.
//! Everything is looked up or arranged here; the statistics themselves come from the analysis.

use super::model::*;
use super::stats::{histogram, median_se};
use crate::analysis::stats::{median, quantile_sorted, sorted_finite};
use crate::analysis::{Analysis, QubitScores};
use crate::fit::FitResult;
use std::collections::HashMap;

/// Display label and unit of every quantity of the report, by its analysis name.
pub fn label_of(name: &str) -> (&'static str, &'static str) {
    match name {
        "beta" => ("β", "1/h"),
        "b" => ("b", "h"),
        "gamma" => ("|γ|", "1"),
        "eta" => ("|η|", "h"),
        "fidelity" => ("fidelity 1 − TVD", "1"),
        "bias_widths" => ("β|b|", "thermal widths"),
        "noise_widths" => ("βη", "thermal widths"),
        "wrong_state_floor" => ("wrong-state floor", "1"),
        "beta_deviation" => ("|β/β_med − 1|", "1"),
        "dispersion" => ("dispersion φ", "1"),
        _ => ("?", ""),
    }
}

/// The scores in report order.
pub const SCORES: [&str; 5] = [
    "fidelity",
    "bias_widths",
    "noise_widths",
    "wrong_state_floor",
    "beta_deviation",
];

fn score_se(s: &QubitScores, name: &str) -> Option<f64> {
    match name {
        "fidelity" => s.fidelity_se,
        "bias_widths" => s.bias_widths_se,
        "noise_widths" => s.noise_widths_se,
        "wrong_state_floor" => s.wrong_state_floor_se,
        "beta_deviation" => s.beta_deviation_se,
        _ => None,
    }
}

/// Values of a parameter or score per qubit of the fit (fit order).
pub fn values(fit: &FitResult, a: &Analysis, name: &str) -> Vec<Option<f64>> {
    match name {
        "beta" | "b" | "gamma" | "eta" => {
            let i = ["beta", "b", "gamma", "eta"]
                .iter()
                .position(|n| *n == name)
                .unwrap_or(0);
            fit.qubits
                .iter()
                .map(|q| (!q.status.is_failed()).then(|| q.values()[i]).flatten())
                .collect()
        }
        "dispersion" => fit.qubits.iter().map(|q| q.dispersion).collect(),
        _ => a.scores.iter().map(|s| s.get(name)).collect(),
    }
}

/// Per-qubit standard errors of a parameter or score (the analysis' choice of SE for parameters).
fn ses(fit: &FitResult, a: &Analysis, name: &str) -> Vec<f64> {
    let param = ["beta", "b", "gamma", "eta"]
        .iter()
        .position(|n| *n == name);
    match param {
        Some(i) => fit
            .qubits
            .iter()
            .filter_map(|q| {
                crate::analysis::input::estimate(q, crate::model::Param::ALL[i]).and_then(|e| e.se)
            })
            .collect(),
        None => a.scores.iter().filter_map(|s| score_se(s, name)).collect(),
    }
}

/// A summary row of one quantity: the analysis' distribution plus the median's SE and the typical error.
pub fn summary_row(fit: &FitResult, a: &Analysis, name: &str) -> SummaryRow {
    let (label, unit) = label_of(name);
    let v = sorted_finite(values(fit, a, name).into_iter().flatten());
    let d = a.summary.iter().find(|d| d.name == name);
    SummaryRow {
        name: name.into(),
        label: label.into(),
        unit: unit.into(),
        n: v.len(),
        median: quantile_sorted(&v, 0.5),
        median_se: median_se(&v),
        q25: quantile_sorted(&v, 0.25),
        q75: quantile_sorted(&v, 0.75),
        typical_se: median(ses(fit, a, name)),
        n_outliers: d.map_or(0, |d| d.n_outliers),
        worse: d
            .and_then(|d| serde_json::to_value(d.worse).ok())
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
    }
}

/// Histogram of a quantity over the chip.
pub fn quantity_histogram(fit: &FitResult, a: &Analysis, name: &str) -> Histogram {
    let (label, unit) = label_of(name);
    let v: Vec<f64> = values(fit, a, name).into_iter().flatten().collect();
    histogram(name, label, unit, &v)
}

/// Score definitions with display labels.
pub fn score_definitions(a: &Analysis) -> Vec<ScoreDefinition> {
    a.score_definitions
        .iter()
        .map(|d| ScoreDefinition {
            name: d.name.clone(),
            label: if d.name == "grade" {
                "grade"
            } else {
                label_of(&d.name).0
            }
            .into(),
            formula: d.formula.clone(),
            unit: d.unit.clone(),
            better: d.better.clone(),
            description: d.description.clone(),
        })
        .collect()
}

/// Qubits per flag reason code, most frequent first (ties by code).
pub fn flag_reasons(a: &Analysis) -> Vec<(String, usize)> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for f in &a.flagged {
        for r in &f.reasons {
            *counts.entry(r.as_str()).or_default() += 1;
        }
    }
    let mut v: Vec<(String, usize)> = counts
        .into_iter()
        .map(|(k, n)| (k.to_string(), n))
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

/// Most flagged rows shown in the table.
pub const FLAGGED_ROWS: usize = 40;

/// Flagged qubits, failed fits first, then by fidelity ascending; at most [`FLAGGED_ROWS`].
pub fn flagged(fit: &FitResult, a: &Analysis) -> (Vec<FlaggedRow>, usize) {
    let by_spin: HashMap<u32, (usize, &QubitScores)> = a
        .scores
        .iter()
        .enumerate()
        .map(|(i, s)| (s.spin, (i, s)))
        .collect();
    let mut rows: Vec<FlaggedRow> = a
        .flagged
        .iter()
        .map(|f| {
            let (i, s) = by_spin.get(&f.spin).copied().unzip();
            let v = i
                .and_then(|i| fit.qubits.get(i))
                .map(|q| q.values())
                .unwrap_or([None; 4]);
            FlaggedRow {
                spin: f.spin,
                grade: s.map_or("?".into(), |s| s.grade.clone()),
                status: s.map_or("?".into(), |s| s.status.clone()),
                beta: v[0],
                b: v[1],
                gamma: v[2],
                eta: v[3],
                fidelity: s.and_then(|s| s.fidelity),
                reasons: f.reasons.clone(),
                details: f.details.clone(),
            }
        })
        .collect();
    rows.sort_by(|x, y| {
        let key = |r: &FlaggedRow| {
            (
                r.fidelity.is_some(),
                r.fidelity.unwrap_or(f64::NEG_INFINITY),
            )
        };
        let (a, b) = (key(x), key(y));
        a.0.cmp(&b.0)
            .then(a.1.total_cmp(&b.1))
            .then(x.spin.cmp(&y.spin))
    });
    let n = rows.len();
    rows.truncate(FLAGGED_ROWS);
    (rows, n)
}

/// The pooled temperature beside the per-qubit β.
pub fn pooled(a: &Analysis) -> Option<PooledTemperature> {
    a.pooled_temperature.as_ref().map(|p| PooledTemperature {
        definition: p.definition.clone(),
        h_max: p.h_max,
        beta: p.beta,
        beta_se: p.beta_se,
        temperature: p.temperature,
        temperature_se: p.temperature_se,
        n_qubits: p.n_qubits,
        per_qubit_beta_median: p.per_qubit_beta_median,
        per_qubit_beta_q25: p.per_qubit_beta_q25,
        per_qubit_beta_q75: p.per_qubit_beta_q75,
    })
}

/// Moran's I, Geary's C and the strongest coordinate dependence per quantity.
pub fn spatial(a: &Analysis) -> Vec<SpatialRow> {
    let mut names: Vec<&str> = vec!["beta", "b", "gamma", "eta"];
    names.extend(SCORES);
    names
        .into_iter()
        .filter_map(|name| {
            let s = a.spatial.get(name)?;
            let strongest = s
                .coordinates
                .iter()
                .filter(|c| c.q.is_some())
                .min_by(|x, y| x.q.unwrap_or(1.0).total_cmp(&y.q.unwrap_or(1.0)));
            Some(SpatialRow {
                name: name.into(),
                label: label_of(name).0.into(),
                morans_i: s.morans_i,
                morans_p: s.morans_p,
                gearys_c: s.gearys_c,
                gearys_p: s.gearys_p,
                strongest_coordinate: strongest.map(|c| c.coordinate.clone()),
                strongest_coordinate_q: strongest.and_then(|c| c.q),
            })
        })
        .collect()
}

/// The Spearman matrix of parameters and scores, significant where BH q ≤ 0.05.
pub fn correlation(a: &Analysis) -> Option<Heatmap> {
    let m = &a.correlations.spearman;
    if m.names.is_empty() {
        return None;
    }
    Some(Heatmap {
        method: "spearman".into(),
        labels: m.names.iter().map(|n| label_of(n).0.to_string()).collect(),
        r: m.r.clone(),
        significant: m
            .q
            .iter()
            .map(|row| row.iter().map(|q| q.is_some_and(|q| q <= 0.05)).collect())
            .collect(),
    })
}
