//! `qasa fit`: per-qubit maximum-likelihood fit of a sweep (docs/physics.md §3), written as `fit.json`
//! (schema `schemas/fit.schema.json`), optionally a flat CSV and the QASA `model_parameters.csv`.

use super::console;
use super::numbers::whole;
use super::output::Outputs;
use super::progress::Progress;
use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use qasa::fit::{self, FitConfig, FitResult, ModelChoice, ProfileMode, SolverOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(ClapArgs, Debug)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// Input sweep: native *.sweep.json[.gz], a QASA spin_table.csv or a dimod sample set file (recognised
    /// by content).
    input: PathBuf,
    /// Hardware graph of a dimod file's qubits (recorded in the fit's metadata for the analysis).
    #[command(flatten)]
    graph: super::graph_args::GraphArgs,
    /// Output fit file (JSON).
    #[arg(long, short, default_value = "fit.json")]
    out: PathBuf,
    /// Also write a flat parameter table (one row per qubit, failed ones included).
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Also write the reference QASA model_parameters.csv (`spin,β,b,γ,η`).
    #[arg(long, value_name = "FILE")]
    qasa_csv: Option<PathBuf>,
    /// Model: qasa, gaussian, gibbs, bias, noise, or auto (smallest BIC per qubit).
    #[arg(long, default_value = "qasa", value_parser = parse_model)]
    model: ModelChoice,
    /// Block-bootstrap replicates over calls (0 = off; needs per-call blocks in the sweep).
    #[arg(long, default_value_t = 0, value_name = "B", value_parser = whole::<usize>)]
    bootstrap: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0, value_name = "S", value_parser = whole::<u64>)]
    seed: u64,
    /// Profile-likelihood intervals: all parameters, only γ/η near their bound, or none.
    #[arg(long, value_enum, default_value_t = ProfileArg::All)]
    profile: ProfileArg,
    /// Run every starting point on every qubit (slower; default: only where needed).
    #[arg(long)]
    all_starts: bool,
    /// Solver iteration limit per start.
    #[arg(long, default_value_t = 200, value_parser = whole::<usize>)]
    max_iter: usize,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum ProfileArg {
    All,
    Bounds,
    None,
}

fn parse_model(s: &str) -> Result<ModelChoice, String> {
    s.parse()
}

pub fn run(args: Args) -> Result<()> {
    let mut files = Outputs::new();
    files.input(&args.input);
    let out = files.output("--out", &args.out)?;
    let csv_out = files.optional("--csv", args.csv.as_deref())?;
    let qasa_out = files.optional("--qasa-csv", args.qasa_csv.as_deref())?;
    let cfg = FitConfig {
        model: args.model,
        bootstrap: args.bootstrap,
        seed: args.seed,
        profile: match args.profile {
            ProfileArg::All => ProfileMode::All,
            ProfileArg::Bounds => ProfileMode::Bounds,
            ProfileArg::None => ProfileMode::None,
        },
        all_starts: args.all_starts,
        solver: SolverOptions {
            max_iter: args.max_iter,
            ..Default::default()
        },
    };
    let graph = args.graph.load()?;
    let sweep = qasa::sweep::read_sweep_with_graph(&args.input, graph.as_ref())?;
    let bar = Progress::new("fit", sweep.qubits.len() as u64, "qubits", args.quiet);
    let res = fit::fit_sweep_with_progress(&sweep, &cfg, &|n| bar.set(n))
        .with_context(|| format!("cannot fit {}", args.input.display()))?;
    bar.finish();
    files.write(out, |w| serde_json::to_writer_pretty(w, &res))?;
    if let Some(id) = csv_out {
        files.write(id, |w| fit::write_params_csv(&res, w))?;
    }
    if let Some(id) = qasa_out {
        files.write(id, |w| fit::write_qasa_csv(&res, w))?;
    }
    files.commit()?;
    if args.json {
        console::json(&res.summary)
    } else {
        console::stdout(|w| print_summary(w, &res, &args.out))
    }
}

fn print_summary(w: &mut dyn Write, res: &FitResult, out: &Path) -> std::io::Result<()> {
    let s = &res.summary;
    let f = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.4}"));
    writeln!(
        w,
        "fitted {} qubits × {} h values → {}",
        s.n_qubits,
        res.meta.n_h,
        out.display()
    )?;
    writeln!(
        w,
        "  converged {}, on bound {}, failed {}",
        s.converged, s.on_bound, s.failed
    )?;
    for (reason, n) in &s.failures {
        writeln!(w, "    failed {}: {n}", reason.as_str())?;
    }
    let models: Vec<String> = s.models.iter().map(|(m, n)| format!("{m} {n}")).collect();
    writeln!(w, "  models: {}", models.join(", "))?;
    writeln!(
        w,
        "  median β {} (1/h), b {} (h), γ {}, η {} (h), dispersion {}",
        f(s.median_beta),
        f(s.median_b),
        f(s.median_gamma),
        f(s.median_eta),
        f(s.median_dispersion)
    )?;
    for (warning, n) in &s.warnings {
        writeln!(w, "  warning ({n} qubits): {}", warning.message())?;
    }
    Ok(())
}
