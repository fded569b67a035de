//! The comparison with another fit of the same chip: the analysis' drift (`crate::analysis::compare`:
//! per qubit and parameter `d = B − A` with combined error and Benjamini–Hochberg control) as a table and
//! as maps of the change of each parameter, changed qubits ringed.

use super::chip;
use super::model::{ChipLayout, ChipMap, Comparison, DriftRow};
use super::sections::label_of;
use super::ReportError;
use crate::analysis::drift::DEFAULT_DRIFT_FDR;
use crate::analysis::{self, ParamDrift};
use crate::fit::FitResult;
use std::collections::HashMap;

/// Checks that two fits describe the same chip: same solver, working graph and topology where both say,
/// and qubits in common.
pub fn check_same_chip(a: &FitResult, b: &FitResult) -> Result<(), ReportError> {
    let bad = |reason: String| Err(ReportError::CompareMismatch { reason });
    let (x, y) = (&a.meta.sweep, &b.meta.sweep);
    if let (Some(p), Some(q)) = (&x.solver, &y.solver) {
        if p != q {
            return bad(format!("one fit is of solver {p:?}, the other of {q:?}"));
        }
    }
    if let (Some(p), Some(q)) = (&x.topology, &y.topology) {
        if p != q {
            return bad(format!(
                "one fit is of a {} {:?} chip, the other of a {} {:?} chip",
                p.kind, p.shape, q.kind, q.shape
            ));
        }
    }
    let ids: std::collections::HashSet<u32> = a.qubits.iter().map(|q| q.qubit).collect();
    if !b.qubits.iter().any(|q| ids.contains(&q.qubit)) {
        return bad("the two fits have no qubit in common".into());
    }
    Ok(())
}

/// The comparison of `this` (B) with `other` (A), and its drift maps on `layout`.
pub fn comparison(
    this: &FitResult,
    other: &FitResult,
    labels: (&str, &str),
    layout: Option<&ChipLayout>,
) -> Result<(Comparison, Vec<ChipMap>), ReportError> {
    check_same_chip(other, this)?;
    let d = analysis::compare(other, this, labels, DEFAULT_DRIFT_FDR);
    let params = d
        .summary
        .iter()
        .map(|s| DriftRow {
            name: s.param.clone(),
            label: format!("Δ{}", label_of(&s.param).0),
            unit: s.unit.clone(),
            n: s.n,
            median_diff: s.median_diff,
            median_relative_diff: s.median_relative_diff,
            n_changed: s.n_changed,
        })
        .collect();
    let mut maps = Vec::new();
    if let Some(l) = layout {
        type Get = fn(&analysis::QubitDrift) -> Option<&ParamDrift>;
        let getters: [(&str, Get); 4] = [
            ("beta", |q| q.beta.as_ref()),
            ("b", |q| q.b.as_ref()),
            ("gamma", |q| q.gamma.as_ref()),
            ("eta", |q| q.eta.as_ref()),
        ];
        for (name, get) in getters {
            let by_spin: HashMap<u32, &ParamDrift> = d
                .qubits
                .iter()
                .filter_map(|q| get(q).map(|p| (q.spin, p)))
                .collect();
            let (label, unit) = label_of(name);
            let mut m = chip::map(l, name, &format!("Δ{label} (B − A)"), unit, true, &|s| {
                by_spin.get(&s).map(|p| p.diff)
            });
            m.marked = by_spin
                .iter()
                .filter(|(_, p)| p.changed)
                .map(|(s, _)| *s)
                .collect();
            m.marked.sort_unstable();
            maps.push(m);
        }
    }
    Ok((
        Comparison {
            a: d.a.clone(),
            b: d.b.clone(),
            definition: d.definition.clone(),
            fdr: d.fdr,
            n_compared: d.n_compared,
            params,
            changed: d.changed.clone(),
            only_in_a: d.only_in_a.clone(),
            only_in_b: d.only_in_b.clone(),
            failed_in_a: d.failed_in_a.clone(),
            failed_in_b: d.failed_in_b.clone(),
        },
        maps,
    ))
}
