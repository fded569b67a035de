//! Builds the [`Report`] from a sweep, its fit and (when given) a second fit to compare with. The only
//! place where report numbers are made; renderers draw and format them as they are.

use super::chip;
use super::curves::{self, Pick};
use super::methods::methods;
use super::model::*;
use super::provenance::{fit_counts, model_info, protocol, provenance};
use super::stats::{histogram, median, median_se, quantile, sorted};
use super::ReportError;
use crate::fit::{FitResult, QubitFit};
use crate::model::Param;
use crate::sweep::Sweep;
use crate::topology::Topology;

/// What a report is made from.
#[derive(Clone, Debug)]
pub struct ReportInput<'a> {
    pub sweep: &'a Sweep,
    pub fit: &'a FitResult,
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

fn param_values(fit: &FitResult, p: Param) -> Vec<f64> {
    fit.qubits
        .iter()
        .filter(|q| !q.status.is_failed())
        .filter_map(|q| q.values()[p.index()])
        .collect()
}

/// Summary rows of the four parameters.
fn param_summary(fit: &FitResult) -> Vec<SummaryRow> {
    Param::ALL
        .iter()
        .zip(PARAM_LABELS)
        .map(|(&p, (label, unit, signed))| {
            let s = sorted(param_values(fit, p));
            SummaryRow {
                name: p.name().into(),
                label: label.into(),
                unit: unit.into(),
                n: s.len(),
                median: quantile(&s, 0.5),
                median_se: median_se(&s),
                q25: quantile(&s, 0.25),
                q75: quantile(&s, 0.75),
                typical_se: median(fit.qubits.iter().filter_map(|q| q.ses()[p.index()])),
                n_outliers: 0,
                worse: if signed { "both" } else { "higher" }.into(),
            }
        })
        .collect()
}

fn title(sweep: &Sweep) -> String {
    let who = sweep
        .meta
        .solver
        .clone()
        .unwrap_or_else(|| "an unnamed solver".into());
    format!("Single-qubit assessment of {who}")
}

/// Builds the report.
pub fn build(input: &ReportInput) -> Result<Report, ReportError> {
    let (sweep, fit) = (input.sweep, input.fit);
    if fit.qubits.is_empty() {
        return Err(ReportError::Empty);
    }
    check_same_chip(fit, sweep)?;
    let mut notes = Vec::new();
    let beta_median = fit.summary.median_beta.unwrap_or(f64::NAN);
    let curves = representative_curves(sweep, fit, beta_median);
    let histograms = Param::ALL
        .iter()
        .zip(PARAM_LABELS)
        .map(|(&p, (label, unit, _))| histogram(p.name(), label, unit, &param_values(fit, p)))
        .collect();
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
            let by_spin: std::collections::HashMap<u32, &QubitFit> =
                fit.qubits.iter().map(|q| (q.qubit, q)).collect();
            for (&p, (label, unit, signed)) in Param::ALL.iter().zip(PARAM_LABELS) {
                maps.push(chip::map(l, p.name(), label, unit, signed, &|s| {
                    by_spin.get(&s).and_then(|q| q.values()[p.index()])
                }));
            }
        }
        None => notes.push(
            "the sweep names no topology: no chip maps (give --topology or --solver-file)".into(),
        ),
    }
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
        summary: param_summary(fit),
        pooled_temperature: None,
        flagged: Vec::new(),
        n_flagged: 0,
        score_definitions: Vec::new(),
        methods: methods(),
        figures: Figures {
            curves,
            histograms,
            layout,
            maps,
            crosstalk: None,
            crosstalk_z: None,
            correlation: None,
            drift_maps: Vec::new(),
        },
        spatial: Vec::new(),
        crosstalk: None,
        comparison: None,
        notes,
    })
}

/// Curves of the best, median and worst qubits by closeness of β to the chip median (until scores are
/// available) and of failed fits.
fn representative_curves(sweep: &Sweep, fit: &FitResult, beta_median: f64) -> Vec<ResponseCurve> {
    let score: Vec<Option<f64>> = fit
        .qubits
        .iter()
        .map(|q| q.values()[0].map(|b| -(b / beta_median - 1.0).abs()))
        .collect();
    let flagged: Vec<(usize, String)> = fit
        .qubits
        .iter()
        .enumerate()
        .filter(|(_, q)| q.status.is_failed())
        .map(|(i, q)| (i, format!("fit {}", q.status.label())))
        .collect();
    curves::pick(&score, &flagged, 2)
        .iter()
        .filter_map(|p: &Pick| {
            let q = fit.qubits.get(p.index)?;
            curves::curve(sweep, q, p, "-", None, beta_median)
        })
        .collect()
}
