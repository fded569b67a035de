//! Command line: argument parsing and glue only; the only place that prints or exits.
//! Exit codes: 0 ok, 1 failure (one line `error: ...` on stderr), 2 usage error (clap's, or [`usage`]).
//! Every command prints through [`console`] (never panics on a full or closed stdout), writes files
//! through [`output`] (checked up front, atomic, nothing left on failure) and draws progress with
//! [`progress`].

mod analyze;
mod collect;
mod collect_adaptive;
mod compare;
mod console;
mod convert;
mod demo;
mod fit;
mod graph_args;
mod numbers;
mod output;
mod plan;
mod plan_design;
mod progress;
mod report;
mod sapi_args;
mod serve;
mod simulate;
mod solvers;
mod topology;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "qasa",
    version,
    about = "Single-qubit assessment (QASA) of D-Wave quantum annealers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Simulate a sweep on the built-in virtual QPU (known true parameters).
    Simulate(simulate::Args),
    /// Plan a campaign: calls, reads, h grid, QPU-time cost and expected precision, checked against the
    /// solver's limits.
    Plan(plan::Args),
    /// Run a plan on a SAPI solver (Leap or `qasa serve`): journaled, resumable, within a budget.
    Collect(collect::Args),
    /// Convert between a QASA spin_table.csv and a native sweep file.
    Convert(convert::Args),
    /// Fit every qubit of a sweep (β, b, γ, η with errors, model choice).
    Fit(fit::Args),
    /// Analyse a fit: scores, flags, pooled temperature, correlations, spatial maps, crosstalk.
    Analyze(analyze::Args),
    /// Compare two fits of the same chip: per-qubit drift with significance.
    Compare(compare::Args),
    /// Hardware graphs: edge lists, layouts, solver working graphs.
    Topology(topology::Args),
    /// List the solvers SAPI offers (name, topology, working/total qubits, status, load).
    Solvers(solvers::SolversArgs),
    /// Run a local SAPI-compatible server backed by the virtual QPU.
    Serve(serve::Args),
    /// The whole pipeline on a virtual chip, no account needed: sweep → fit → report.
    Demo(demo::Args),
    /// Hardware report of a sweep: self-contained HTML, Markdown with PNG plots, JSON.
    Report(report::Args),
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => return clap_exit(&e),
    };
    let result = match cli.command {
        Command::Simulate(a) => simulate::run(a),
        Command::Plan(a) => plan::run(a),
        Command::Collect(a) => collect::run(a),
        Command::Convert(a) => convert::run(a),
        Command::Fit(a) => fit::run(a),
        Command::Analyze(a) => analyze::run(a),
        Command::Compare(a) => compare::run(a),
        Command::Topology(a) => topology::run(a),
        Command::Solvers(a) => solvers::run(&a),
        Command::Serve(a) => serve::run(a),
        Command::Report(a) => report::run(a),
        Command::Demo(a) => demo::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of stdout has gone (`qasa … | head`): end quietly, like other Unix filters.
        Err(e) if console::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            console::note(format_args!("error: {}", one_line(&e)));
            if e.chain().any(|c| c.is::<Usage>()) {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// Prints clap's message: a usage error exits 2; `--help` and `--version` exit 0, or 1 when stdout cannot
/// take them (a full disk).
fn clap_exit(e: &clap::Error) -> ExitCode {
    let printed = e.print();
    if e.use_stderr() {
        return ExitCode::from(2);
    }
    match printed {
        Err(io) if io.kind() != std::io::ErrorKind::BrokenPipe => {
            console::note(format_args!("error: cannot write to standard output: {io}"));
            ExitCode::from(1)
        }
        _ => ExitCode::SUCCESS,
    }
}

/// A usage error found after parsing (conflicting paths, a value out of range): exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// A usage error, for `return Err(usage(...))` or `.map_err(usage)` on an error that means the flags are
/// wrong (a plan that cannot run, an output name of the wrong kind).
pub fn usage(message: impl std::fmt::Display) -> anyhow::Error {
    Usage(message.to_string()).into()
}

/// The error chain on one line.
fn one_line(e: &anyhow::Error) -> String {
    let mut s = String::new();
    for (i, cause) in e.chain().enumerate() {
        let text = cause.to_string();
        if i > 0 {
            if s.contains(&text) {
                continue;
            }
            s.push_str(": ");
        }
        s.push_str(&text);
    }
    s.replace('\n', " ")
}
