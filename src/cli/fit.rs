//! `qasa fit`: per-qubit maximum-likelihood fit of a sweep (docs/physics.md §3), written as `fit.json`
//! (schema `schemas/fit.schema.json`), optionally a flat CSV and the QASA `model_parameters.csv`.

use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use qasa::fit::{self, FitConfig, FitResult, ModelChoice, ProfileMode, SolverOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(ClapArgs, Debug)]
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
    #[arg(long, default_value_t = 0, value_name = "B")]
    bootstrap: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0, value_name = "S")]
    seed: u64,
    /// Profile-likelihood intervals: all parameters, only γ/η near their bound, or none.
    #[arg(long, value_enum, default_value_t = ProfileArg::All)]
    profile: ProfileArg,
    /// Run every starting point on every qubit (slower; default: only where needed).
    #[arg(long)]
    all_starts: bool,
    /// Solver iteration limit per start.
    #[arg(long, default_value_t = 200)]
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

fn create(path: &Path) -> Result<BufWriter<std::fs::File>> {
    let f =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(BufWriter::new(f))
}

pub fn run(args: Args) -> Result<()> {
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
        progress: !args.quiet,
    };
    let graph = args.graph.load()?;
    let sweep = qasa::sweep::read_sweep_with_graph(&args.input, graph.as_ref())?;
    let res = fit::fit_sweep(&sweep, &cfg)
        .with_context(|| format!("cannot fit {}", args.input.display()))?;
    let mut w = create(&args.out)?;
    serde_json::to_writer_pretty(&mut w, &res)?;
    w.flush()
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    if let Some(p) = &args.csv {
        let mut w = create(p)?;
        fit::write_params_csv(&res, &mut w)
            .and_then(|_| w.flush())
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    if let Some(p) = &args.qasa_csv {
        let mut w = create(p)?;
        fit::write_qasa_csv(&res, &mut w)
            .and_then(|_| w.flush())
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&res.summary)?);
    } else {
        print_summary(&res, &args.out);
    }
    Ok(())
}

fn print_summary(res: &FitResult, out: &Path) {
    let s = &res.summary;
    let f = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.4}"));
    println!(
        "fitted {} qubits × {} h values → {}",
        s.n_qubits,
        res.meta.n_h,
        out.display()
    );
    println!(
        "  converged {}, on bound {}, failed {}",
        s.converged, s.on_bound, s.failed
    );
    for (reason, n) in &s.failures {
        println!("    failed {}: {n}", reason.as_str());
    }
    let models: Vec<String> = s.models.iter().map(|(m, n)| format!("{m} {n}")).collect();
    println!("  models: {}", models.join(", "));
    println!(
        "  median β {} (1/h), b {} (h), γ {}, η {} (h), dispersion {}",
        f(s.median_beta),
        f(s.median_b),
        f(s.median_gamma),
        f(s.median_eta),
        f(s.median_dispersion)
    );
    for (w, n) in &s.warnings {
        println!("  warning ({n} qubits): {}", w.message());
    }
}
