//! `qasa analyze`: scores, flags, pooled temperature, correlations, spatial statistics, maps and crosstalk
//! of a fit (library `qasa::analysis`), written as `analysis.json` (schema `schemas/analysis.schema.json`).

use super::console;
use super::graph_args::GraphArgs;
use super::output::Outputs;
use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use qasa::analysis::{self, Analysis, AnalysisConfig, CrosstalkConfig};
use qasa::fit::FitResult;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The fit to analyse (fit.json from `qasa fit`).
    fit: PathBuf,
    /// The sweep the fit was made from: pooled temperature, exact covariances and crosstalk need it.
    #[arg(long, value_name = "SWEEP")]
    sweep: Option<PathBuf>,
    #[command(flatten)]
    graph: GraphArgs,
    /// Output file (JSON).
    #[arg(long, short, default_value = "analysis.json")]
    out: PathBuf,
    /// Permutations of the spatial tests (Moran's I, Geary's C).
    #[arg(long, default_value_t = analysis::spatial::DEFAULT_PERMUTATIONS, value_name = "R")]
    permutations: usize,
    /// Seed of the permutations.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// False discovery rate of the crosstalk detection.
    #[arg(long, default_value_t = analysis::crosstalk::DEFAULT_FDR, value_name = "Q", value_parser = super::numbers::open_unit)]
    fdr: f64,
    /// Crosstalk from h values with |h| ≤ this only (default: all).
    #[arg(long, value_name = "H")]
    crosstalk_h_max: Option<f64>,
    /// Keep each coupler's correlation at every h in the file (large for a full chip).
    #[arg(long)]
    per_h: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

/// Reads and validates a fit file (plain or gzip).
pub fn read_fit(path: &Path) -> Result<FitResult> {
    let bytes = qasa::gzip::read(path)?;
    let doc: serde_json::Value = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{}: not valid JSON; is it a fit.json from `qasa fit`?",
            path.display()
        )
    })?;
    qasa::schema::validate(qasa::schema::FIT, &doc).map_err(|v| {
        anyhow::anyhow!(
            "{}: not a qasa fit file: at {}: {}",
            path.display(),
            v.json_path,
            v.reason
        )
    })?;
    serde_json::from_value(doc).with_context(|| format!("{}: not a qasa fit file", path.display()))
}

pub fn run(args: Args) -> Result<()> {
    let mut files = Outputs::new();
    files.input(&args.fit);
    if let Some(s) = &args.sweep {
        files.input(s);
    }
    let out = files.output("--out", &args.out)?;
    let graph = args.graph.load()?;
    let fit = read_fit(&args.fit)?;
    let sweep = match &args.sweep {
        Some(p) => Some(qasa::sweep::read_sweep_with_graph(p, graph.as_ref())?),
        None => None,
    };
    let config = AnalysisConfig {
        permutations: args.permutations,
        seed: args.seed,
        crosstalk: CrosstalkConfig {
            h_max: args.crosstalk_h_max,
            fdr: args.fdr,
            per_h: args.per_h,
        },
        ..AnalysisConfig::default()
    };
    let a = analysis::analyze(&fit, sweep.as_ref(), graph.as_ref(), &config)
        .map_err(with_graph_hint)
        .with_context(|| match &args.sweep {
            Some(s) => format!("cannot analyse {} with {}", args.fit.display(), s.display()),
            None => format!("cannot analyse {}", args.fit.display()),
        })?;
    files.write(out, |w| {
        serde_json::to_writer_pretty(&mut *w, &a)?;
        w.write_all(b"\n")
    })?;
    files.commit()?;
    if args.json {
        console::json(&summary_json(&a, &args.out))
    } else {
        console::line(summary_text(&a, &args.out))
    }
}

fn grades(a: &Analysis) -> BTreeMap<String, usize> {
    let mut g = BTreeMap::new();
    for s in &a.scores {
        *g.entry(s.grade.clone()).or_insert(0) += 1;
    }
    g
}

fn reasons(a: &Analysis) -> BTreeMap<String, usize> {
    let mut r = BTreeMap::new();
    for f in &a.flagged {
        for x in &f.reasons {
            *r.entry(x.clone()).or_insert(0) += 1;
        }
    }
    r
}

fn summary_json(a: &Analysis, out: &Path) -> serde_json::Value {
    let spatial: BTreeMap<&String, serde_json::Value> = a
        .spatial
        .iter()
        .map(|(k, s)| {
            (
                k,
                serde_json::json!({ "morans_i": s.morans_i, "morans_p": s.morans_p,
                                    "gearys_c": s.gearys_c, "gearys_p": s.gearys_p }),
            )
        })
        .collect();
    let median = |n: &str| {
        a.summary
            .iter()
            .find(|d| d.name == n)
            .and_then(|d| d.median)
    };
    serde_json::json!({
        "out": out,
        "n_qubits": a.meta.n_qubits,
        "n_fitted": a.meta.n_fitted,
        "n_failed": a.meta.n_failed,
        "n_flagged": a.flagged.len(),
        "flag_reasons": reasons(a),
        "grades": grades(a),
        "beta_median": a.meta.beta_median,
        "fidelity_median": median("fidelity"),
        "pooled_temperature": a.pooled_temperature,
        "spatial": spatial,
        "crosstalk": a.crosstalk_summary.as_ref().map(|c| serde_json::json!({
            "n_tested": c.n_tested, "n_detected": c.n_detected, "fdr": c.fdr })),
        "notes": a.notes,
    })
}

fn summary_text(a: &Analysis, out: &Path) -> String {
    let f = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.4}"));
    let mut lines = vec![format!(
        "analysed {} qubits ({} fitted, {} failed) → {}",
        a.meta.n_qubits,
        a.meta.n_fitted,
        a.meta.n_failed,
        out.display()
    )];
    let g: Vec<String> = grades(a).iter().map(|(k, n)| format!("{k} {n}")).collect();
    if let Some(d) = a.summary.iter().find(|d| d.name == "fidelity") {
        lines.push(format!(
            "  median β {} (1/h); fidelity median {} (IQR {}–{}); grades {}",
            f(a.meta.beta_median),
            f(d.median),
            f(d.q25),
            f(d.q75),
            g.join(", ")
        ));
    }
    let r: Vec<String> = reasons(a).iter().map(|(k, n)| format!("{k} {n}")).collect();
    lines.push(format!(
        "  flagged {} qubits: {}",
        a.flagged.len(),
        r.join(", ")
    ));
    if let Some(p) = &a.pooled_temperature {
        lines.push(format!(
            "  pooled temperature (one β for all qubits, |h| ≤ {:.4}, as fast_effective_temperature): T = {:.4} ± {:.4} (β = {:.3}); per-qubit β median {} (IQR {}–{})",
            p.h_max,
            p.temperature,
            p.temperature_se,
            p.beta,
            f(p.per_qubit_beta_median),
            f(p.per_qubit_beta_q25),
            f(p.per_qubit_beta_q75)
        ));
    }
    if !a.spatial.is_empty() {
        let s: Vec<String> = a
            .spatial
            .iter()
            .map(|(k, s)| format!("{k} {} (p {})", f(s.morans_i), f(s.morans_p)))
            .collect();
        lines.push(format!(
            "  Moran's I ({} permutations): {}",
            a.meta.permutations,
            s.join(", ")
        ));
    }
    if let Some(c) = &a.crosstalk_summary {
        lines.push(format!(
            "  crosstalk: {} of {} couplers detected at FDR {} ({} h values)",
            c.n_detected,
            c.n_tested,
            c.fdr,
            c.h.len()
        ));
    }
    for n in &a.notes {
        lines.push(format!("  note: {n}"));
    }
    if a.spatial.is_empty() {
        lines.push(format!(
            "  hint: give the hardware graph with {GRAPH_FLAGS} for spatial statistics and maps"
        ));
    }
    lines.join("\n")
}

/// How to give the hardware graph on the command line (the library's errors do not know the flags).
const GRAPH_FLAGS: &str = "--topology SPEC or --solver-file F";

/// Adds the command-line way to give the graph to the errors that ask for one.
fn with_graph_hint(e: analysis::AnalysisError) -> anyhow::Error {
    match e {
        analysis::AnalysisError::NotInGraph { .. } | analysis::AnalysisError::Topology { .. } => {
            anyhow::anyhow!("{e}: {GRAPH_FLAGS}")
        }
        other => other.into(),
    }
}
