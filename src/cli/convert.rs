//! `qasa convert`: between a QASA `spin_table.csv` and a native sweep file, validating on the way.

use anyhow::Result;
use clap::Args as ClapArgs;
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
    qasa::sweep::SweepFormat::from_file_name(&args.out)?;
    let graph = args.graph.load()?;
    let sweep = qasa::sweep::read_sweep_with_graph(&args.input, graph.as_ref())?;
    qasa::sweep::write_sweep(&sweep, &args.out)?;
    eprintln!(
        "converted {} qubits × {} h values: {} → {}",
        sweep.qubits.len(),
        sweep.h.len(),
        args.input.display(),
        args.out.display()
    );
    Ok(())
}
