//! `qasa compare A.fit.json B.fit.json`: per-qubit drift between two fits (library `qasa::analysis::drift`).

use super::analyze::read_fit;
use super::console;
use super::output::Outputs;
use anyhow::Result;
use clap::Args as ClapArgs;
use qasa::analysis::{self, Drift};
use std::io::Write;
use std::path::PathBuf;

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The earlier fit (A).
    a: PathBuf,
    /// The later fit (B); differences are B − A.
    b: PathBuf,
    /// Write the full comparison (JSON).
    #[arg(long, short, value_name = "FILE")]
    out: Option<PathBuf>,
    /// False discovery rate (Benjamini–Hochberg over all qubit × parameter tests).
    #[arg(long, default_value_t = analysis::drift::DEFAULT_DRIFT_FDR, value_name = "Q", value_parser = super::numbers::open_unit)]
    fdr: f64,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let mut files = Outputs::new();
    files.input(&args.a);
    files.input(&args.b);
    let out = files.optional("--out", args.out.as_deref())?;
    let a = read_fit(&args.a)?;
    let b = read_fit(&args.b)?;
    let (la, lb) = (args.a.display().to_string(), args.b.display().to_string());
    let d = analysis::compare(&a, &b, (&la, &lb), args.fdr);
    if let Some(id) = out {
        files.write(id, |w| {
            serde_json::to_writer_pretty(&mut *w, &d)?;
            w.write_all(b"\n")
        })?;
    }
    files.commit()?;
    if args.json {
        let mut s = serde_json::to_value(&d)?;
        if let Some(o) = s.as_object_mut() {
            o.remove("qubits");
        }
        console::json(&s)
    } else {
        console::line(text(&d))
    }
}

fn text(d: &Drift) -> String {
    let f = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:+.5}"));
    let mut lines = vec![format!(
        "compared {} qubits: {} → {} ({} changed at FDR {})",
        d.n_compared,
        d.a,
        d.b,
        d.changed.len(),
        d.fdr
    )];
    for s in &d.summary {
        let rel = s
            .median_relative_diff
            .map(|r| format!(" ({:+.2} %)", 100.0 * r))
            .unwrap_or_default();
        lines.push(format!(
            "  {}: median change {} {}{rel}, changed on {} of {}",
            s.param,
            f(s.median_diff),
            s.unit,
            s.n_changed,
            s.n
        ));
    }
    let list = |v: &[u32]| {
        let shown: Vec<String> = v.iter().take(20).map(u32::to_string).collect();
        let more = if v.len() > 20 {
            format!(" … (+{})", v.len() - 20)
        } else {
            String::new()
        };
        format!("{}{more}", shown.join(" "))
    };
    if !d.changed.is_empty() {
        lines.push(format!("  changed: {}", list(&d.changed)));
    }
    for (what, v) in [
        ("only in A", &d.only_in_a),
        ("only in B", &d.only_in_b),
        ("failed in A", &d.failed_in_a),
        ("failed in B", &d.failed_in_b),
    ] {
        if !v.is_empty() {
            lines.push(format!("  {what} ({}): {}", v.len(), list(v)));
        }
    }
    lines.join("\n")
}
