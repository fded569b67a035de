//! `qasa convert`: between a QASA `spin_table.csv` and a native sweep file, validating on the way.

use anyhow::Result;
use clap::Args as ClapArgs;
use std::path::PathBuf;

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// Input: a native sweep (*.sweep.json[.gz]) or a QASA spin_table.csv (recognised by content).
    input: PathBuf,
    /// Output; the format follows the name (.csv → QASA table, .json / .json.gz → native sweep).
    #[arg(long, short)]
    out: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    qasa::sweep::SweepFormat::from_file_name(&args.out)?;
    let sweep = qasa::sweep::read_sweep(&args.input)?;
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
