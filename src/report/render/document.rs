//! The outline of the report shared by the Markdown and HTML renderers: blocks in reading order, with the
//! tables already laid out as text cells (formatting only; every number comes from the model).

use super::format::{duration, num, percent, pm, sig, with_unit};
use super::Fig;
use crate::report::model::*;
use crate::report::plot::chipmap::{ChipMapFigure, CouplerMapFigure};
use crate::report::plot::curve::CurveFigure;
use crate::report::plot::heatmap::HeatmapFigure;
use crate::report::plot::histogram::HistogramFigure;

/// A table of text cells.
#[derive(Clone, Debug, Default)]
pub struct Table {
    pub head: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Columns to align right (numbers).
    pub numeric: Vec<bool>,
}

impl Table {
    fn new(head: &[&str], numeric: &[bool]) -> Self {
        Table {
            head: head.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
            numeric: numeric.to_vec(),
        }
    }
    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
}

/// One block of the outline.
pub enum Block<'a> {
    /// Level (1–3), anchor id, text.
    Heading(u8, &'static str, String),
    Para(String),
    /// Key figures at the top: label, value.
    KeyNumbers(Vec<(String, String)>),
    Table(Table),
    /// Formulas, one per line.
    Formulas(Vec<String>),
    List(Vec<String>),
    Figures(Vec<Fig<'a>>),
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_else(|| "–".into())
}

fn key_numbers(r: &Report) -> Vec<(String, String)> {
    let mut k = vec![(
        "qubits fitted".to_string(),
        format!("{} of {}", r.fits.n_qubits - r.fits.failed, r.fits.n_qubits),
    )];
    for name in ["beta", "fidelity"] {
        if let Some(row) = r.summary.iter().find(|s| s.name == name) {
            k.push((
                format!("median {}", with_unit(&row.label, &row.unit)),
                pm(row.median, row.median_se),
            ));
        }
    }
    k.push(("flagged qubits".into(), r.n_flagged.to_string()));
    if let Some(c) = &r.crosstalk {
        k.push((
            "crosstalk couplers".into(),
            format!("{} of {}", c.n_detected, c.n_tested),
        ));
    }
    if let Some(t) = r.protocol.qpu_time_s {
        k.push((
            format!(
                "QPU time ({})",
                r.protocol.qpu_time_kind.as_deref().unwrap_or("?")
            ),
            duration(t),
        ));
    }
    k
}

fn summary_table(r: &Report) -> Table {
    let mut t = Table::new(
        &[
            "quantity",
            "median ± se",
            "quartiles (25 %, 75 %)",
            "typical error per qubit",
            "qubits",
            "outliers",
        ],
        &[false, true, true, true, true, true],
    );
    for s in &r.summary {
        t.row(vec![
            with_unit(&s.label, &s.unit),
            pm(s.median, s.median_se),
            format!("{}, {}", num(s.q25), num(s.q75)),
            num(s.typical_se),
            s.n.to_string(),
            s.n_outliers.to_string(),
        ]);
    }
    t
}

fn fits_paragraph(r: &Report) -> String {
    let f = &r.fits;
    let mut s = format!(
        "{} qubits: {} converged, {} with γ or η on its bound (a maximum, but that parameter unresolved), {} failed ({}).",
        f.n_qubits,
        f.converged,
        f.on_bound,
        f.failed,
        percent(f.failed, f.n_qubits)
    );
    if !f.failures.is_empty() {
        let reasons: Vec<String> = f
            .failures
            .iter()
            .map(|(r, n)| format!("{r}: {n}"))
            .collect();
        s.push_str(&format!(" Failures: {}.", reasons.join(", ")));
    }
    if let Some(d) = f.median_dispersion {
        s.push_str(&format!(
            " Median dispersion (Pearson χ²/dof) {}: {}.",
            sig(d, 3),
            if d > 1.5 {
                "counts are over-dispersed (calls share their field noise): binomial errors would be too \
                 small, the robust errors in this report account for it"
            } else {
                "counts are close to binomial"
            }
        ));
    }
    s
}

fn pooled_paragraph(p: &PooledTemperature) -> String {
    format!(
        "D-Wave's pooled estimate (dwave-system fast_effective_temperature: one ideal Gibbs qubit for the whole \
         chip, |h| ≤ {}): β = {} (1/h), T = 1/β = {} (h units), from {} qubits. The per-qubit fits give a \
         median β of {} with quartiles {} and {}: the single number hides this spread, and it cannot tell \
         the spread of β from that of b.",
        sig(p.h_max, 3),
        pm(Some(p.beta), Some(p.beta_se)),
        pm(Some(p.temperature), Some(p.temperature_se)),
        p.n_qubits,
        num(p.per_qubit_beta_median),
        num(p.per_qubit_beta_q25),
        num(p.per_qubit_beta_q75)
    )
}

fn flagged_table(r: &Report) -> Table {
    let mut t = Table::new(
        &[
            "qubit", "grade", "status", "β (1/h)", "b (h)", "|γ|", "|η| (h)", "fidelity", "reasons",
        ],
        &[true, false, false, true, true, true, true, true, false],
    );
    for f in &r.flagged {
        t.row(vec![
            f.spin.to_string(),
            f.grade.clone(),
            f.status.clone(),
            num(f.beta),
            num(f.b),
            num(f.gamma),
            num(f.eta),
            num(f.fidelity),
            f.reasons.join(", "),
        ]);
    }
    t
}

fn provenance_table(r: &Report) -> Table {
    let p = &r.provenance;
    let mut t = Table::new(&["", ""], &[false, false]);
    let gauges = match p.gauges {
        Some(true) => {
            "random spin-reversal gauges in complementary pairs; counts in the physical frame"
        }
        Some(false) => "no gauges",
        None => "unknown",
    };
    let params = if p.parameters.is_empty() {
        "–".to_string()
    } else {
        p.parameters
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (k, v) in [
        ("source", p.source.clone()),
        ("solver", opt(&p.solver)),
        ("working graph id", opt(&p.graph_id)),
        ("topology", opt(&p.topology)),
        ("first call", opt(&p.started_at)),
        ("last call", opt(&p.finished_at)),
        ("parameters sent", params),
        ("gauges", gauges.to_string()),
        ("seed", p.seed.map_or("–".into(), |s| s.to_string())),
        (
            "tool versions",
            format!(
                "sweep {}, fit {}, report {}",
                p.sweep_tool_version, p.fit_tool_version, r.tool_version
            ),
        ),
        (
            "inputs",
            if p.inputs.is_empty() {
                "–".into()
            } else {
                p.inputs.join(", ")
            },
        ),
        ("report made", opt(&r.generated_at)),
    ] {
        t.row(vec![k.to_string(), v]);
    }
    t
}

fn protocol_table(r: &Report) -> Table {
    let p = &r.protocol;
    let mut t = Table::new(&["", ""], &[false, false]);
    let qpu = match (p.qpu_time_s, &p.qpu_time_kind) {
        (Some(s), Some(kind)) => format!("{} ({kind})", duration(s)),
        (Some(s), None) => duration(s),
        _ => "not recorded".into(),
    };
    for (k, v) in [
        ("qubits", p.n_qubits.to_string()),
        (
            "h grid",
            format!(
                "{} values in [{}, {}], step {}",
                p.n_h,
                sig(p.h_min, 3),
                sig(p.h_max, 3),
                num(p.h_step)
            ),
        ),
        ("reads per h and qubit", num(p.reads_per_h)),
        ("reads per call", num(p.reads_per_call)),
        (
            "anneal time",
            p.anneal_time_us
                .map_or("–".into(), |t| format!("{} µs", sig(t, 3))),
        ),
        ("per-call blocks", p.n_blocks.to_string()),
        ("couplers with pair counts", p.n_pair_couplers.to_string()),
        ("reads in all", sig(p.total_reads, 4)),
        ("QPU access time", qpu),
    ] {
        t.row(vec![k.to_string(), v]);
    }
    t
}

fn spatial_table(r: &Report) -> Table {
    let mut t = Table::new(
        &[
            "quantity",
            "Moran's I",
            "p",
            "Geary's C",
            "p",
            "strongest coordinate (q)",
        ],
        &[false, true, true, true, true, false],
    );
    for s in &r.spatial {
        t.row(vec![
            s.label.clone(),
            num(s.morans_i),
            s.morans_p.map_or("–".into(), |p| sig(p, 2)),
            num(s.gearys_c),
            s.gearys_p.map_or("–".into(), |p| sig(p, 2)),
            match (&s.strongest_coordinate, s.strongest_coordinate_q) {
                (Some(c), Some(q)) => format!("{c} ({})", sig(q, 2)),
                _ => "–".into(),
            },
        ]);
    }
    t
}

fn crosstalk_table(c: &CrosstalkInfo) -> Table {
    let mut t = Table::new(
        &["coupler", "class", "J_eff (h)", "z", "q"],
        &[false, false, true, true, true],
    );
    for row in &c.strongest {
        t.row(vec![
            format!("{}–{}", row.u, row.v),
            opt(&row.class),
            pm(row.j_eff, row.j_eff_se),
            sig(row.z, 3),
            if row.q > 0.0 {
                sig(row.q, 2)
            } else {
                "< 1e−300".into()
            },
        ]);
    }
    t
}

fn drift_table(c: &Comparison) -> Table {
    let mut t = Table::new(
        &[
            "parameter",
            "median change (B − A)",
            "median relative change",
            "qubits changed",
        ],
        &[false, true, true, true],
    );
    for d in &c.params {
        t.row(vec![
            with_unit(&d.label, &d.unit),
            num(d.median_diff),
            d.median_relative_diff
                .map_or("–".into(), |x| format!("{} %", sig(100.0 * x, 3))),
            format!("{} of {}", d.n_changed, d.n),
        ]);
    }
    t
}

fn scores_table(r: &Report) -> Table {
    let mut t = Table::new(
        &["score", "formula", "unit", "better", "meaning"],
        &[false; 5],
    );
    for d in &r.score_definitions {
        t.row(vec![
            d.label.clone(),
            d.formula.clone(),
            d.unit.clone(),
            d.better.clone(),
            d.description.clone(),
        ]);
    }
    t
}

/// The report's outline.
pub fn document(r: &Report) -> Vec<Block<'_>> {
    let mut b = overview(r);
    b.extend(findings(r));
    b.extend(records(r));
    b
}

/// Title, key numbers, summary, response curves, distributions and chip maps.
fn overview(r: &Report) -> Vec<Block<'_>> {
    use Block::*;
    let f = &r.figures;
    let mut b = vec![
        Heading(1, "top", r.title.clone()),
        KeyNumbers(key_numbers(r)),
    ];
    b.push(Heading(2, "summary", "Summary".into()));
    b.push(Para(fits_paragraph(r)));
    b.push(Table(summary_table(r)));
    if let Some(p) = &r.pooled_temperature {
        b.push(Para(pooled_paragraph(p)));
    }
    if !f.curves.is_empty() {
        b.push(Heading(
            2,
            "curves",
            "Response of representative qubits".into(),
        ));
        b.push(List(
            f.curves
                .iter()
                .map(|c| format!("qubit {} ({}): {}", c.spin, c.role, c.why))
                .collect(),
        ));
        b.push(Figures(
            f.curves
                .iter()
                .map(|c| Fig::Curve(CurveFigure(c)))
                .collect(),
        ));
    }
    b.push(Heading(
        2,
        "distributions",
        "Distributions over the chip".into(),
    ));
    b.push(Figures(
        f.histograms
            .iter()
            .map(|h| Fig::Histogram(HistogramFigure(h)))
            .collect(),
    ));
    if let Some(layout) = &f.layout {
        b.push(Heading(2, "maps", "Chip maps".into()));
        b.push(Para(format!(
            "Every qubit of {} at its place in D-Wave's standard layout ({} sites; {} measured).",
            layout.topology,
            layout.sites.len(),
            layout.sites.iter().filter(|s| s.present).count()
        )));
        b.push(Figures(
            f.maps
                .iter()
                .map(|m| {
                    Fig::Map(ChipMapFigure {
                        layout,
                        map: m,
                        prefix: "map",
                    })
                })
                .collect(),
        ));
        if !r.spatial.is_empty() {
            b.push(Heading(3, "spatial", "Spatial structure".into()));
            b.push(Table(spatial_table(r)));
        }
    }
    b
}

/// Crosstalk, correlations and the comparison with another run.
fn findings(r: &Report) -> Vec<Block<'_>> {
    use Block::*;
    let f = &r.figures;
    let mut b = Vec::new();
    if let Some(c) = &r.crosstalk {
        b.push(Heading(
            2,
            "crosstalk",
            "Crosstalk between coupled qubits".into(),
        ));
        b.push(Para(format!(
            "{} of {} couplers show a correlation between their qubits at J = 0, at false discovery rate {} \
             (Benjamini–Hochberg), from {} h values in [{}, {}]. The p-values' distance from uniform \
             (Kolmogorov–Smirnov D = {}, p = {}) measures how far the chip is from no crosstalk at all. \
             Method: {}.",
            c.n_detected,
            c.n_tested,
            sig(c.fdr, 2),
            c.h.len(),
            c.h.first().map_or("–".into(), |h| sig(*h, 3)),
            c.h.last().map_or("–".into(), |h| sig(*h, 3)),
            sig(c.ks_uniform_d, 3),
            sig(c.ks_uniform_p, 3),
            c.definition
        )));
        if let Some(n) = &c.noise_law {
            b.push(Para(format!(
                "The fit's noise law points the same way: {} of the {} qubits on detected couplers keep the \
                 Gaussian per-call law (flag gaussian_noise) while most of the chip keeps the two-point law \
                 (a neighbour's spin seen through a coupling is a field that changes from read to read), and \
                 {} of the {} detected couplers have both qubits flagged. {} other qubits have that flag \
                 without a detected coupler (field noise of another kind, or a coupling too weak to reach \
                 the false discovery rate).",
                n.flagged_on_detected,
                n.detected_qubits,
                n.couplers_both_flagged,
                c.n_detected,
                n.flagged_elsewhere
            )));
        }
        let mut figs = Vec::new();
        if let (Some(layout), Some(map)) = (&f.layout, &f.crosstalk) {
            figs.push(Fig::Couplers(CouplerMapFigure { layout, map }));
        }
        if let Some(h) = &f.crosstalk_z {
            figs.push(Fig::Histogram(HistogramFigure(h)));
        }
        b.push(Figures(figs));
        if !c.strongest.is_empty() {
            b.push(Table(crosstalk_table(c)));
        }
    }
    if let Some(h) = &f.correlation {
        b.push(Heading(
            2,
            "correlations",
            "Correlations between parameters and scores".into(),
        ));
        b.push(Figures(vec![Fig::Heatmap(HeatmapFigure(h))]));
    }
    if let Some(c) = &r.comparison {
        b.push(Heading(2, "drift", "Changes since the other run".into()));
        b.push(Para(format!(
            "A = {}, B = {} (this report). {} {} qubits compared; {} changed at false discovery rate {}; {} only \
             in A, {} only in B, {} failed in A, {} failed in B.",
            c.a,
            c.b,
            c.definition,
            c.n_compared,
            c.changed.len(),
            sig(c.fdr, 2),
            c.only_in_a.len(),
            c.only_in_b.len(),
            c.failed_in_a.len(),
            c.failed_in_b.len()
        )));
        b.push(Table(drift_table(c)));
        if let Some(layout) = &f.layout {
            b.push(Figures(
                f.drift_maps
                    .iter()
                    .map(|m| {
                        Fig::Map(ChipMapFigure {
                            layout,
                            map: m,
                            prefix: "drift",
                        })
                    })
                    .collect(),
            ));
        }
    }
    b
}

/// Flagged qubits, provenance, protocol, model, methods and notes.
fn records(r: &Report) -> Vec<Block<'_>> {
    use Block::*;
    let mut b = Vec::new();
    b.push(Heading(2, "flagged", "Flagged qubits".into()));
    if r.flagged.is_empty() {
        b.push(Para("No qubit is flagged.".into()));
    } else {
        let reasons: Vec<String> = r
            .flag_reasons
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        b.push(Para(format!(
            "{} of {} qubits are flagged ({}). Qubits per reason: {}. A qubit may have several reasons; \
             outlier:<score> means a robust outlier (|z| > 3.5 from the chip median in units of 1.4826 MAD) \
             on the bad side, unresolved:<parameter> a parameter this qubit's data do not resolve.",
            r.n_flagged,
            r.fits.n_qubits,
            percent(r.n_flagged, r.fits.n_qubits),
            reasons.join(", ")
        )));
        if r.n_flagged > r.flagged.len() {
            b.push(Para(format!(
                "The table shows the {} with the lowest fidelity (failed fits first); qasa analyze lists them all \
                 with one line of explanation per reason.",
                r.flagged.len()
            )));
        }
        b.push(Table(flagged_table(r)));
    }
    b.push(Heading(2, "provenance", "Provenance".into()));
    b.push(Table(provenance_table(r)));
    b.push(Heading(2, "protocol", "Protocol".into()));
    b.push(Table(protocol_table(r)));
    b.push(Heading(
        2,
        "model",
        "Model and what the data cannot tell apart".into(),
    ));
    b.push(Formulas(r.model.formula.clone()));
    let models: Vec<String> = r
        .model
        .models
        .iter()
        .map(|(m, n)| format!("{m} ({n} qubits)"))
        .collect();
    b.push(Para(format!(
        "Models fitted: {}. Errors: {}",
        models.join(", "),
        r.model.errors
    )));
    b.push(List(
        r.model
            .caveats
            .iter()
            .map(|c| {
                if c.n_qubits > 0 {
                    format!("{} ({} qubits)", c.text, c.n_qubits)
                } else {
                    c.text.clone()
                }
            })
            .collect(),
    ));
    b.push(Heading(2, "methods", "Methods".into()));
    for m in &r.methods {
        b.push(Heading(3, "", m.title.clone()));
        b.push(Para(m.text.clone()));
        if !m.formulas.is_empty() {
            b.push(Formulas(m.formulas.clone()));
        }
    }
    if !r.score_definitions.is_empty() {
        b.push(Heading(3, "scores", "Score definitions".into()));
        b.push(Table(scores_table(r)));
    }
    if !r.notes.is_empty() {
        b.push(Heading(2, "notes", "Notes".into()));
        b.push(List(r.notes.clone()));
    }
    b
}
