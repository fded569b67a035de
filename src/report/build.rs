//! Builds the [`Report`] from a sweep, its fit and (when given) a second fit to compare with. The only
//! place where report numbers are made; renderers draw and format them as they are.

use super::chip;
use super::curves::{self, Pick};
use super::methods::methods;
use super::model::*;
use super::provenance::{fit_counts, model_info, protocol, provenance};
use super::{crosstalk, drift, sections, ReportError};
use crate::analysis::Analysis;
use crate::fit::FitResult;
use crate::sweep::Sweep;
use crate::topology::Topology;
use std::collections::HashMap;

/// What a report is made from.
#[derive(Clone, Debug)]
pub struct ReportInput<'a> {
    pub sweep: &'a Sweep,
    pub fit: &'a FitResult,
    /// The analysis of that fit (with the sweep).
    pub analysis: &'a Analysis,
    /// Another fit of the same chip (run A) to compare this one (run B) with, and its label.
    pub compare: Option<(&'a FitResult, String)>,
    /// Hardware graph of the maps; default: the topology the sweep names.
    pub topology: Option<Topology>,
    /// Input file names, for the provenance.
    pub inputs: Vec<String>,
    /// RFC 3339 time of the report (`None`: reproducible output).
    pub generated_at: Option<String>,
}

/// Label, unit and whether the parameter is signed, per parameter.
pub const PARAM_LABELS: [(&str, &str, bool); 4] = [
    ("β", "1/h", false),
    ("b", "h", true),
    ("|γ|", "1", false),
    ("|η|", "h", false),
];

/// Checks that `fit` was made from `sweep`: same solver, working graph and topology when both say, same
/// qubits, same h grid and the same reads per qubit.
pub fn check_same_chip(fit: &FitResult, sweep: &Sweep) -> Result<(), ReportError> {
    let bad = |reason: String| Err(ReportError::Mismatch { reason });
    let (f, s) = (&fit.meta.sweep, &sweep.meta);
    if let (Some(a), Some(b)) = (&f.solver, &s.solver) {
        if a != b {
            return bad(format!(
                "the fit is of solver {a:?}, the sweep of solver {b:?}"
            ));
        }
    }
    if let (Some(a), Some(b)) = (&f.graph_id, &s.graph_id) {
        if a != b {
            return bad(format!(
                "the fit is of working graph {a:?}, the sweep of graph {b:?}"
            ));
        }
    }
    if let (Some(a), Some(b)) = (&f.topology, &s.topology) {
        if a != b {
            return bad(format!(
                "the fit is of a {} {:?} chip, the sweep of a {} {:?} chip",
                a.kind, a.shape, b.kind, b.shape
            ));
        }
    }
    if let Some(q) = fit
        .qubits
        .iter()
        .find(|q| sweep.column_of(q.qubit).is_none())
    {
        return bad(format!(
            "qubit {} of the fit is not in the sweep ({} qubits in the fit, {} in the sweep)",
            q.qubit,
            fit.qubits.len(),
            sweep.qubits.len()
        ));
    }
    if fit.qubits.len() != sweep.qubits.len() {
        return bad(format!(
            "the fit has {} qubits, the sweep {}",
            fit.qubits.len(),
            sweep.qubits.len()
        ));
    }
    let (lo, hi) = (
        sweep.h.first().copied().unwrap_or(f64::NAN),
        sweep.h.last().copied().unwrap_or(f64::NAN),
    );
    let m = &fit.meta;
    if m.n_h != sweep.h.len() || (m.h_min - lo).abs() > 1e-9 || (m.h_max - hi).abs() > 1e-9 {
        return bad(format!(
            "the fit has {} h values in [{}, {}], the sweep {} in [{lo}, {hi}]",
            m.n_h,
            m.h_min,
            m.h_max,
            sweep.h.len()
        ));
    }
    if let (Some(a), Some(b)) = (f.seed, s.seed) {
        if a != b {
            return bad(format!(
                "the fit was made from a simulation with seed {a}, the sweep has seed {b}"
            ));
        }
    }
    for q in fit.qubits.iter().filter(|q| q.n_points > 0) {
        let Some(iq) = sweep.column_of(q.qubit) else {
            continue;
        };
        let reads: f64 = sweep.counts.qubit_column(iq).map(|c| f64::from(c.1)).sum();
        if reads != q.total_reads {
            return bad(format!(
                "qubit {} has {} reads in the fit but {reads} in the sweep",
                q.qubit, q.total_reads
            ));
        }
    }
    Ok(())
}

fn title(sweep: &Sweep) -> String {
    let who = sweep
        .meta
        .solver
        .clone()
        .unwrap_or_else(|| "an unnamed solver".into());
    format!("Single-qubit assessment of {who}")
}

/// The quantities of the histograms and chip maps, in order.
const QUANTITIES: [&str; 9] = [
    "beta",
    "b",
    "gamma",
    "eta",
    "fidelity",
    "bias_widths",
    "noise_widths",
    "wrong_state_floor",
    "beta_deviation",
];

/// Builds the report.
pub fn build(input: &ReportInput) -> Result<Report, ReportError> {
    let (sweep, fit, a) = (input.sweep, input.fit, input.analysis);
    if fit.qubits.is_empty() {
        return Err(ReportError::Empty);
    }
    check_same_chip(fit, sweep)?;
    if a.scores.len() != fit.qubits.len()
        || a.scores
            .iter()
            .zip(&fit.qubits)
            .any(|(s, q)| s.spin != q.qubit)
    {
        return Err(ReportError::AnalysisMismatch);
    }
    let mut notes = a.notes.clone();
    let topology = input.topology.or_else(|| {
        sweep
            .meta
            .topology
            .as_ref()
            .and_then(|t| Topology::from_type_shape(&t.kind, &t.shape).ok())
    });
    let layout = topology.map(|t| chip::layout(&t, &sweep.qubits));
    let mut maps = Vec::new();
    match &layout {
        Some(l) => {
            for name in QUANTITIES {
                let by_spin: HashMap<u32, f64> = fit
                    .qubits
                    .iter()
                    .zip(sections::values(fit, a, name))
                    .filter_map(|(q, v)| v.map(|v| (q.qubit, v)))
                    .collect();
                let (label, unit) = sections::label_of(name);
                maps.push(chip::map(l, name, label, unit, name == "b", &|s| {
                    by_spin.get(&s).copied()
                }));
            }
        }
        None => notes.push(
            "the sweep names no topology: no chip maps (give --topology or --solver-file)".into(),
        ),
    }
    let (crosstalk, coupler_map, crosstalk_z) = crosstalk::crosstalk(a, layout.as_ref());
    let (comparison, drift_maps) = match &input.compare {
        Some((other, label)) => {
            let (c, m) = drift::comparison(fit, other, (label, "this run"), layout.as_ref())?;
            (Some(c), m)
        }
        None => (None, Vec::new()),
    };
    let (flagged, n_flagged) = sections::flagged(fit, a);
    Ok(Report {
        format: FORMAT.into(),
        version: VERSION,
        tool_version: crate::TOOL_VERSION.into(),
        title: title(sweep),
        generated_at: input.generated_at.clone(),
        provenance: provenance(sweep, fit, &input.inputs),
        protocol: protocol(sweep),
        model: model_info(sweep, fit),
        fits: fit_counts(fit),
        summary: QUANTITIES
            .iter()
            .chain(&["dispersion"])
            .map(|n| sections::summary_row(fit, a, n))
            .collect(),
        pooled_temperature: sections::pooled(a),
        flagged,
        n_flagged,
        flag_reasons: sections::flag_reasons(a),
        score_definitions: sections::score_definitions(a),
        methods: methods(),
        figures: Figures {
            curves: representative_curves(sweep, fit, a),
            histograms: QUANTITIES
                .iter()
                .map(|n| sections::quantity_histogram(fit, a, n))
                .collect(),
            layout,
            maps,
            crosstalk: coupler_map,
            crosstalk_z,
            correlation: sections::correlation(a),
            drift_maps,
        },
        spatial: sections::spatial(a),
        crosstalk,
        comparison,
        notes,
    })
}

/// Curves of the best, median and worst qubits by fidelity, and of up to three flagged qubits with
/// different first reasons (a failed fit first).
fn representative_curves(sweep: &Sweep, fit: &FitResult, a: &Analysis) -> Vec<ResponseCurve> {
    let score: Vec<Option<f64>> = a.scores.iter().map(|s| s.fidelity).collect();
    let index: HashMap<u32, usize> = fit
        .qubits
        .iter()
        .enumerate()
        .map(|(i, q)| (q.qubit, i))
        .collect();
    let mut seen = std::collections::HashSet::new();
    let mut flagged: Vec<(usize, String)> = Vec::new();
    for f in &a.flagged {
        let (Some(&i), Some(code), Some(detail)) =
            (index.get(&f.spin), f.reasons.first(), f.details.first())
        else {
            continue;
        };
        let kind = code.split(':').next().unwrap_or(code).to_string();
        if seen.insert(kind) {
            flagged.push((i, detail.clone()));
        }
    }
    let beta_median = a.meta.beta_median.unwrap_or(f64::NAN);
    curves::pick(&score, &flagged, 3)
        .iter()
        .filter_map(|p: &Pick| {
            let q = fit.qubits.get(p.index)?;
            let s = a.scores.get(p.index)?;
            curves::curve(sweep, q, p, &s.grade, s.fidelity, beta_median)
        })
        .collect()
}
