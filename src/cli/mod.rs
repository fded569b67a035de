//! Command line: argument parsing and glue only; the only place that prints or exits.
//! Exit codes: 0 ok, 1 failure (one line `error: ...` on stderr), 2 usage error.

mod collect;
mod convert;
mod fit;
mod plan;
mod progress;
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
    /// Hardware graphs: edge lists, layouts, solver working graphs.
    Topology(topology::Args),
    /// List the solvers SAPI offers (name, topology, working/total qubits, status, load).
    Solvers(solvers::SolversArgs),
    /// Run a local SAPI-compatible server backed by the virtual QPU.
    Serve(serve::Args),
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Simulate(a) => simulate::run(a),
        Command::Plan(a) => plan::run(a),
        Command::Collect(a) => collect::run(a),
        Command::Convert(a) => convert::run(a),
        Command::Fit(a) => fit::run(a),
        Command::Topology(a) => topology::run(a),
        Command::Solvers(a) => solvers::run(&a),
        Command::Serve(a) => serve::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::from(1)
        }
    }
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
