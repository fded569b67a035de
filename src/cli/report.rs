//! `qasa report`: the hardware report of a sweep (docs/report.md) — a folder with `report.html` (one
//! self-contained page), `report.md` with its PNG figures, and `report.json` (schema
//! `schemas/report.schema.json`). Stages not given are computed: the fit from the sweep (default fit
//! settings). The folder is written whole or not at all.

use super::analyze::read_fit;
use super::console;
use super::graph_args::GraphArgs;
use super::output::Outputs;
use super::progress::Progress;
use super::usage;
use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use qasa::analysis::{self, Analysis, AnalysisConfig};
use qasa::atomic_file::AtomicDir;
use qasa::fit::{self, FitConfig, FitResult};
use qasa::report::{self, render, Report, ReportInput};
use qasa::sweep::Sweep;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The sweep: native *.sweep.json[.gz] or a QASA spin_table.csv.
    #[arg(long, value_name = "FILE")]
    sweep: PathBuf,
    /// The fit of that sweep (fit.json from `qasa fit`); fitted here when not given.
    #[arg(long, value_name = "FILE")]
    fit: Option<PathBuf>,
    /// The analysis of that fit (analysis.json from `qasa analyze`); analysed here when not given.
    #[arg(long, value_name = "FILE", requires = "fit")]
    analysis: Option<PathBuf>,
    /// Another fit of the same chip to compare with (drift maps).
    #[arg(long, value_name = "FILE")]
    compare: Option<PathBuf>,
    /// Hardware graph of the analysis and the maps, when the sweep does not name it.
    #[command(flatten)]
    graph: GraphArgs,
    /// Output folder (created, or replaced when it holds an earlier report).
    #[arg(long, short, value_name = "DIR")]
    out: PathBuf,
    /// Print a JSON summary.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// Reads and validates an analysis file.
pub fn read_analysis(path: &Path) -> Result<Analysis> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let doc: serde_json::Value = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{}: not valid JSON; is it an analysis.json from `qasa analyze`?",
            path.display()
        )
    })?;
    qasa::schema::validate(qasa::schema::ANALYSIS, &doc).map_err(|v| {
        anyhow::anyhow!(
            "{}: not a qasa analysis file: at {}: {}",
            path.display(),
            v.json_path,
            v.reason
        )
    })?;
    serde_json::from_value(doc)
        .with_context(|| format!("{}: not a qasa analysis file", path.display()))
}

/// Fits a sweep with the default settings, drawing progress.
pub fn fit_with_progress(sweep: &Sweep, quiet: bool) -> Result<FitResult> {
    let bar = Progress::new("fit", sweep.qubits.len() as u64, "qubits", quiet);
    let res = fit::fit_sweep_with_progress(sweep, &FitConfig::default(), &|n| bar.set(n));
    bar.finish();
    Ok(res?)
}

/// What was written.
pub struct Written {
    pub dir: PathBuf,
    pub files: usize,
    pub bytes: u64,
    pub html_bytes: u64,
}

/// Writes the files of a report folder (from [`render::folder`]) as the folder `dir`, whole.
pub fn write_folder(files: &[(String, Vec<u8>)], dir: &Path) -> Result<Written> {
    let staged =
        AtomicDir::create(dir).with_context(|| format!("cannot write {}", dir.display()))?;
    let mut bytes = 0u64;
    for (name, data) in files {
        staged
            .write(name, |w| w.write_all(data))
            .with_context(|| format!("cannot write {}", dir.join(name).display()))?;
        bytes += data.len() as u64;
    }
    let html_bytes = files
        .iter()
        .find(|(n, _)| n == "report.html")
        .map_or(0, |(_, b)| b.len() as u64);
    staged
        .commit()
        .with_context(|| format!("cannot write {}", dir.display()))?;
    Ok(Written {
        dir: dir.to_path_buf(),
        files: files.len(),
        bytes,
        html_bytes,
    })
}

/// Whether `dir` may be replaced by a report: absent, empty, or an earlier report (its report.json says
/// so). Anything else is refused, so that `-o` never deletes a user's folder.
pub fn check_report_dir(files: &mut Outputs, dir: &Path, inputs: &[&Path]) -> Result<()> {
    files.folder("--out", dir)?;
    if dir.exists() {
        let is_report = || -> Option<bool> {
            let text = std::fs::read(dir.join("report.json")).ok()?;
            let v: serde_json::Value = serde_json::from_slice(&text).ok()?;
            Some(v.get("format")?.as_str()? == report::model::FORMAT)
        };
        let empty = std::fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty && is_report() != Some(true) {
            return Err(usage(format!(
                "--out {} exists and is not a qasa report folder: choose a new folder name (an earlier report is replaced, nothing else)",
                dir.display()
            )));
        }
        let canon = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        for input in inputs {
            if std::fs::canonicalize(input).is_ok_and(|p| p.starts_with(&canon)) {
                return Err(usage(format!(
                    "the input {} is inside --out {}, which the report replaces: write the report elsewhere",
                    input.display(),
                    dir.display()
                )));
            }
        }
    }
    Ok(())
}

pub fn run(args: Args) -> Result<()> {
    let mut files = Outputs::new();
    let mut inputs: Vec<&Path> = vec![&args.sweep];
    inputs.extend(args.fit.as_deref());
    inputs.extend(args.analysis.as_deref());
    inputs.extend(args.compare.as_deref());
    inputs.extend(args.graph.solver_file.as_deref());
    for i in &inputs {
        files.input(i);
    }
    check_report_dir(&mut files, &args.out, &inputs)?;
    let graph = args.graph.load()?;
    let sweep = qasa::sweep::read_sweep(&args.sweep)?;
    let fit = match &args.fit {
        Some(f) => read_fit(f)?,
        None => fit_with_progress(&sweep, args.quiet)
            .with_context(|| format!("cannot fit {}", args.sweep.display()))?,
    };
    let analysis = match &args.analysis {
        Some(f) => read_analysis(f)?,
        None => {
            // The report's own check names the mismatch of a fit and a sweep first.
            report::check_same_chip(&fit, &sweep).with_context(|| context(&args))?;
            if !args.quiet {
                console::note(
                    "analysis: scores, flags, correlations, spatial statistics, crosstalk",
                );
            }
            analysis::analyze(
                &fit,
                Some(&sweep),
                graph.as_ref(),
                &AnalysisConfig::default(),
            )
            .with_context(|| context(&args))?
        }
    };
    let compare = match &args.compare {
        Some(f) => Some((read_fit(f)?, f.display().to_string())),
        None => None,
    };
    let name = |p: &Path| p.display().to_string();
    let input = ReportInput {
        sweep: &sweep,
        fit: &fit,
        analysis: &analysis,
        compare: compare.as_ref().map(|(f, l)| (f, l.clone())),
        topology: graph.as_ref().map(|g| g.topology),
        inputs: inputs.iter().map(|p| name(p)).collect(),
        generated_at: Some(
            humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        ),
    };
    let report = report::build(&input).with_context(|| match &args.fit {
        Some(f) => format!(
            "cannot report {} with {}",
            args.sweep.display(),
            f.display()
        ),
        None => format!("cannot report {}", args.sweep.display()),
    })?;
    let rendered = render::folder(&report).context("cannot render the report")?;
    let written = write_folder(&rendered, &args.out)?;
    print_written(&written, &report, args.json)
}

/// What failed, for error messages.
fn context(args: &Args) -> String {
    match &args.fit {
        Some(f) => format!(
            "cannot report {} with {}",
            args.sweep.display(),
            f.display()
        ),
        None => format!("cannot report {}", args.sweep.display()),
    }
}

/// Prints where the report is.
pub fn print_written(w: &Written, report: &Report, json: bool) -> Result<()> {
    let html = w.dir.join("report.html");
    if json {
        return console::json(&serde_json::json!({
            "out": w.dir,
            "html": html,
            "files": w.files,
            "bytes": w.bytes,
            "html_bytes": w.html_bytes,
            "qubits": report.fits.n_qubits,
            "flagged": report.n_flagged,
        }));
    }
    console::line(format_args!(
        "report: {} ({} files, {:.1} MB; the page alone {:.1} MB)",
        html.display(),
        w.files,
        w.bytes as f64 / 1e6,
        w.html_bytes as f64 / 1e6
    ))
}
