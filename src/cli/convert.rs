//! `qasa convert`: between a QASA `spin_table.csv` and a native sweep file, validating on the way.
//! A QASA table holds only the total counts per (h, qubit): converting a native sweep to it says, in one
//! warning line on stderr, what is dropped (per-call blocks, pair counts, metadata).

use super::console;
use super::output::Outputs;
use anyhow::Result;
use clap::Args as ClapArgs;
use qasa::sweep::{Sweep, SweepFormat};
use std::path::PathBuf;

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// Input: a native sweep (*.sweep.json[.gz]), a QASA spin_table.csv or a dimod sample set file
    /// (recognised by content).
    input: PathBuf,
    /// Output; the format follows the name (.csv → QASA table, .json / .json.gz → native sweep).
    #[arg(long, short)]
    out: PathBuf,
    /// Hardware graph of a dimod file's qubits: pair counts are kept on its couplers.
    #[command(flatten)]
    graph: super::graph_args::GraphArgs,
}

pub fn run(args: Args) -> Result<()> {
    let format = SweepFormat::from_file_name(&args.out).map_err(super::usage)?;
    let mut files = Outputs::new();
    files.input(&args.input);
    let out = files.output("--out", &args.out)?;
    let graph = args.graph.load()?;
    let sweep = qasa::sweep::read_sweep_with_graph(&args.input, graph.as_ref())?;
    files.write(out, |w| qasa::sweep::write_sweep_to(&sweep, &args.out, w))?;
    files.commit()?;
    if format == SweepFormat::QasaCsv {
        if let Some(dropped) = dropped_by_qasa_csv(&sweep) {
            console::warn(format_args!(
                "{} keeps only the total counts per h and qubit; dropped: {dropped}",
                args.out.display()
            ));
        }
    }
    console::line(format_args!(
        "converted {} qubits × {} h values: {} → {}",
        sweep.qubits.len(),
        sweep.h.len(),
        args.input.display(),
        args.out.display()
    ))
}

/// What a QASA table cannot hold of `sweep`, as one phrase, or `None` when nothing is lost.
fn dropped_by_qasa_csv(sweep: &Sweep) -> Option<String> {
    let mut parts = Vec::new();
    if !sweep.blocks.is_empty() {
        parts.push(format!(
            "{} per-call blocks (`fit --bootstrap` needs them)",
            sweep.blocks.len()
        ));
    }
    if let Some(p) = &sweep.pairs {
        parts.push(format!("pair counts on {} couplers", p.couplers.len()));
    }
    let m = &sweep.meta;
    let mut meta: Vec<&str> = Vec::new();
    let mut note = |present: bool, name: &'static str| {
        if present {
            meta.push(name)
        }
    };
    note(m.solver.is_some(), "solver");
    note(m.graph_id.is_some(), "graph_id");
    note(m.topology.is_some(), "topology");
    note(m.anneal_time_us.is_some(), "anneal_time_us");
    note(!m.parameters.is_empty(), "parameters");
    note(m.gauges.is_some(), "gauges");
    note(
        m.started_at.is_some() || m.finished_at.is_some(),
        "time stamps",
    );
    note(m.seed.is_some(), "seed");
    if !meta.is_empty() {
        parts.push(format!("metadata ({})", meta.join(", ")));
    }
    let frame = if m.gauges.is_some() {
        " (a fit of the table will not know that its counts are in the physical frame)"
    } else {
        ""
    };
    (!parts.is_empty()).then(|| format!("{}{frame}", parts.join(", ")))
}
