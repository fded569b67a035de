//! `qasa fit`: per-qubit maximum-likelihood fit of a sweep (docs/physics.md §3), written as `fit.json`
//! (schema `schemas/fit.schema.json`), optionally a flat CSV and the QASA `model_parameters.csv`; with
//! `--truth`, compared with the virtual QPU's true parameters.

use super::console;
use super::numbers::{positive, whole};
use super::output::Outputs;
use super::progress::Progress;
use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;
use qasa::fit::{
    self, FitConfig, FitResult, ModelChoice, NoiseLikelihood, ProfileMode, SolverOptions,
    TruthCheck,
};
use qasa::model::Param;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Every interval qasa writes is a two-sided 95 % interval.
const AFTER_HELP: &str = "Uncertainties (docs/uncertainties.md): *_se, *_lo, *_hi are robust \
standard errors and 95 % intervals: a cluster-robust sandwich over calls (the per-call block cells) \
when the sweep has blocks, else a robust sandwich over h values, with C/(C-1) and t critical values \
(C-1 dof). For γ and η the interval is built in γ², η² and starts at 0 when the data allow 0. \
*_se_model are model-based (binomial or per-call likelihood) standard errors, *_profile_lo/hi 95 % \
profile-likelihood intervals (--profile), bootstrap.*_lo/hi 95 % block-bootstrap intervals \
(--bootstrap).";

#[derive(ClapArgs, Debug)]
#[command(after_help = AFTER_HELP, allow_negative_numbers = true)]
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
    /// Also write a flat parameter table (one row per qubit, failed ones included): values, robust SEs
    /// and robust 95 % intervals, error method.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Also write the reference QASA model_parameters.csv (`spin,β,b,γ,η`).
    #[arg(long, value_name = "FILE")]
    qasa_csv: Option<PathBuf>,
    /// Model: qasa, gaussian, gibbs, bias, noise, or auto (smallest BIC per qubit; indistinguishable
    /// models resolved to the simplest).
    #[arg(long, default_value = "qasa", value_parser = parse_model)]
    model: ModelChoice,
    /// Noise likelihood: auto (per call when the sweep's blocks are single calls and the per-call
    /// likelihood is higher on the chip; then the two-point or Gaussian law per qubit when some qubits'
    /// noise is not two-point), per-read, or per-call (the law of --model for every qubit).
    #[arg(long, value_enum, default_value_t = NoiseArg::Auto)]
    noise: NoiseArg,
    /// Block-bootstrap replicates over calls (0 = off; needs per-call blocks): SEs and 95 % intervals
    /// θ̂ ± t·se in fit.json next to the default robust ones.
    #[arg(long, default_value_t = 0, value_name = "B", value_parser = whole::<usize>)]
    bootstrap: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0, value_name = "S", value_parser = whole::<u64>)]
    seed: u64,
    /// 95 % profile-likelihood intervals (model-based, in fit.json): none, all parameters, or only γ/η
    /// near their bound.
    #[arg(long, value_enum, default_value_t = ProfileArg::None)]
    profile: ProfileArg,
    /// Run every starting point on every qubit (slower; default: only where needed).
    #[arg(long)]
    all_starts: bool,
    /// Solver iteration limit per start (at least 1).
    #[arg(long, default_value_t = 200, value_name = "N", value_parser = positive::<u64>)]
    max_iter: u64,
    /// Compare the fit with a truth file from `qasa simulate --truth`: per parameter bias, RMS error
    /// and the coverage of each kind of 95 % interval (also recorded in fit.json).
    #[arg(long, value_name = "FILE")]
    truth: Option<PathBuf>,
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

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum NoiseArg {
    Auto,
    PerRead,
    PerCall,
}

fn parse_model(s: &str) -> Result<ModelChoice, String> {
    s.parse()
}

pub fn run(args: Args) -> Result<()> {
    let mut files = Outputs::new();
    files.input(&args.input);
    if let Some(t) = &args.truth {
        files.input(t);
    }
    let out = files.output("--out", &args.out)?;
    let csv_out = files.optional("--csv", args.csv.as_deref())?;
    let qasa_out = files.optional("--qasa-csv", args.qasa_csv.as_deref())?;
    let cfg = FitConfig {
        model: args.model,
        noise: match args.noise {
            NoiseArg::Auto => NoiseLikelihood::Auto,
            NoiseArg::PerRead => NoiseLikelihood::PerRead,
            NoiseArg::PerCall => NoiseLikelihood::PerCall,
        },
        bootstrap: args.bootstrap,
        seed: args.seed,
        profile: match args.profile {
            ProfileArg::All => ProfileMode::All,
            ProfileArg::Bounds => ProfileMode::Bounds,
            ProfileArg::None => ProfileMode::None,
        },
        all_starts: args.all_starts,
        solver: SolverOptions {
            max_iter: usize::try_from(args.max_iter).unwrap_or(usize::MAX),
            ..Default::default()
        },
    };
    let truth = match &args.truth {
        Some(p) => Some(qasa::device::read_truth(p)?),
        None => None,
    };
    let graph = args.graph.load()?;
    let sweep = qasa::sweep::read_sweep_with_graph(&args.input, graph.as_ref())?;
    let bar = Progress::new("fit", sweep.qubits.len() as u64, "qubits", args.quiet);
    let res = fit::fit_sweep_with_progress(&sweep, &cfg, &|n| bar.set(n));
    bar.finish();
    let mut res = res.with_context(|| format!("cannot fit {}", args.input.display()))?;
    if res.summary.failed == res.summary.n_qubits {
        bail!(
            "no qubit of {} could be fitted ({}); nothing written",
            args.input.display(),
            failure_reasons(&res)
        );
    }
    let check = match &truth {
        Some(t) => Some(fit::check_against_truth(&res, t).with_context(|| {
            "the truth file holds none of the fitted qubits; is it the truth of this sweep?"
        })?),
        None => None,
    };
    res.truth_check.clone_from(&check);
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
        console::stdout(|w| {
            for l in summary_lines(&res, &args.out) {
                writeln!(w, "{l}")?;
            }
            if let Some(c) = &check {
                write_check(w, c)?;
            }
            Ok(())
        })
    }
}

fn failure_reasons(res: &FitResult) -> String {
    let list: Vec<String> = res
        .summary
        .failures
        .iter()
        .map(|(r, n)| format!("{n} × {}", r.as_str()))
        .collect();
    let first = res.qubits.iter().find_map(|q| match &q.status {
        fit::FitStatus::Failed { detail, .. } if !detail.is_empty() => Some(detail.as_str()),
        _ => None,
    });
    match first {
        Some(d) => format!("{}; e.g. {d}", list.join(", ")),
        None => list.join(", "),
    }
}

/// The summary lines of a fit.
pub fn summary_lines(res: &FitResult, out: &Path) -> Vec<String> {
    let s = &res.summary;
    let mut lines = vec![format!(
        "fitted {} {} × {} h values → {}",
        s.n_qubits,
        if s.n_qubits == 1 { "qubit" } else { "qubits" },
        res.meta.n_h,
        out.display()
    )];
    let mut status = format!(
        "  converged {}, on bound {}, failed {}",
        s.converged, s.on_bound, s.failed
    );
    if s.failed > 0 {
        status.push_str(&format!(
            " ({} of {} qubits not fitted)",
            s.failed, s.n_qubits
        ));
    }
    lines.push(status);
    for (reason, n) in &s.failures {
        lines.push(format!("    failed {}: {n}", reason.as_str()));
    }
    let models: Vec<String> = s.models.iter().map(|(m, n)| format!("{m} {n}")).collect();
    lines.push(format!("  models: {}", models.join(", ")));
    lines.push(format!(
        "  noise likelihood: {} ({})",
        res.noise.likelihood.name().replace('_', "-"),
        res.noise.reason
    ));
    lines.push(format!(
        "  errors: {:.0} % intervals, {}",
        100.0 * res.errors.confidence_level,
        res.errors.description
    ));
    let fixed = |p: Param, v: Option<f64>| {
        if s.models.iter().all(|(m, _)| !m.fits(p)) {
            "fixed at 0".to_string()
        } else {
            v.map_or("-".to_string(), |x| format!("{x:.4}"))
        }
    };
    lines.push(format!(
        "  median β {} (1/h), b {} (h), γ {}, η {} (h), dispersion {}",
        fixed(Param::Beta, s.median_beta),
        fixed(Param::B, s.median_b),
        fixed(Param::Gamma, s.median_gamma),
        fixed(Param::Eta, s.median_eta),
        s.median_dispersion
            .map_or("-".to_string(), |x| format!("{x:.4}"))
    ));
    for (w, n) in &s.warnings {
        let q = if *n == 1 { "qubit" } else { "qubits" };
        lines.push(format!("  warning ({n} {q}): {}", w.message()));
    }
    lines
}

fn write_check(w: &mut dyn Write, c: &TruthCheck) -> std::io::Result<()> {
    writeln!(
        w,
        "against the truth ({} qubits, β at {} µs):",
        c.qubits, c.anneal_time_us
    )?;
    writeln!(
        w,
        "  param        bias         rms   med.rel  coverage of 95 % intervals"
    )?;
    for p in &c.params {
        let cov: Vec<String> = p
            .coverage
            .iter()
            .map(|k| format!("{} {:.3} (n={})", k.interval, k.coverage, k.n))
            .collect();
        writeln!(
            w,
            "  {:<6} {:>11.3e} {:>11.3e} {:>9} {}",
            p.param.name(),
            p.bias,
            p.rms_error,
            p.median_rel_error
                .map_or("-".into(), |r| format!("{:.2} %", 100.0 * r)),
            cov.join(", ")
        )?;
    }
    Ok(())
}
