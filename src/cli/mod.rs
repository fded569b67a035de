//! Command line: argument parsing and glue only; the only place that prints or exits.
//! Exit codes: 0 ok, 1 failure (one line `error: ...` on stderr), 2 usage error.

mod analyze;
mod compare;
mod convert;
mod fit;
mod graph_args;
mod local_output;
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
        Command::Convert(a) => convert::run(a),
        Command::Fit(a) => fit::run(a),
        Command::Analyze(a) => analyze::run(a),
        Command::Compare(a) => compare::run(a),
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
