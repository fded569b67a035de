//! `qasa simulate`: a sweep on the virtual QPU, written as a native sweep file (and optionally its truth
//! and a QASA spin table).

use super::numbers::{finite, whole};
use super::output::Outputs;
use super::progress::Progress;
use super::{console, usage};
use anyhow::{bail, Result};
use clap::Args as ClapArgs;
use qasa::device::{self, DeviceConfig, NoiseModel, SimulationPlan, VirtualQpu};
use qasa::topology::{Topology, WorkingGraph};
use std::path::PathBuf;

#[derive(ClapArgs, Debug)]
#[command(
    group(clap::ArgGroup::new("graph").required(true).args(["topology", "solver_file"])),
    allow_negative_numbers = true
)]
pub struct Args {
    /// Perfect graph: chimera:M[,N[,T]], pegasus:M, zephyr:M[,T], 2000q, advantage, advantage2.
    #[arg(long, value_name = "SPEC")]
    topology: Option<Topology>,
    /// Working graph from a SAPI solver record (.json or .json.gz).
    #[arg(long, value_name = "FILE")]
    solver_file: Option<PathBuf>,
    /// Anneal time in microseconds (β grows with it; see docs/virtual-qpu.md).
    #[arg(long, default_value_t = 5.0, value_name = "T", value_parser = finite)]
    anneal_time_us: f64,
    /// Largest |h| of the symmetric grid.
    #[arg(long, default_value_t = 1.0, value_parser = finite)]
    h_max: f64,
    /// Step of the h grid.
    #[arg(long, default_value_t = 0.025, value_parser = finite)]
    h_step: f64,
    /// Reads per h value (even: gauges come in complementary pairs).
    #[arg(long, default_value_t = 100_000, value_parser = whole::<u32>)]
    reads: u32,
    /// Largest number of reads in one call (programming cycle).
    #[arg(long, default_value_t = 10_000, value_parser = whole::<u32>)]
    reads_per_call: u32,
    /// Per-call blocks to record for the block bootstrap (0 = none).
    #[arg(long, default_value_t = 10, value_parser = whole::<usize>)]
    blocks: usize,
    /// Sample per-read spin vectors (slow; exact for planted crosstalk) instead of counts.
    #[arg(long)]
    raw: bool,
    /// Record per (h, coupler) agreement counts (implied by --raw and --crosstalk).
    #[arg(long)]
    pairs: bool,
    /// Fraction of couplers with a planted crosstalk coupling (on a matching).
    #[arg(long, default_value_t = 0.0, value_name = "FRACTION", value_parser = finite)]
    crosstalk: f64,
    /// Probability that a read returns the wrong spin.
    #[arg(long, default_value_t = 0.0, value_parser = finite)]
    readout_flip: f64,
    /// How field noise η enters: per call (two-point or gaussian) or per read (no over-dispersion).
    #[arg(long, value_enum, default_value_t = NoiseArg::CallTwoPoint)]
    noise: NoiseArg,
    /// Do not apply random spin-reversal gauges.
    #[arg(long)]
    no_gauges: bool,
    /// Seed of the device truth and of the sampling.
    #[arg(long, default_value_t = 1, value_parser = whole::<u64>)]
    seed: u64,
    /// Output sweep file (*.sweep.json or *.sweep.json.gz).
    #[arg(long, short)]
    out: PathBuf,
    /// Also write the device's true parameters (JSON).
    #[arg(long, value_name = "FILE")]
    truth: Option<PathBuf>,
    /// Also write the counts as a QASA spin_table.csv.
    #[arg(long, value_name = "FILE")]
    export_qasa_csv: Option<PathBuf>,
    /// Print a JSON summary.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum NoiseArg {
    CallTwoPoint,
    CallGaussian,
    Read,
}

pub fn run(args: Args) -> Result<()> {
    qasa::sweep::SweepFormat::from_file_name(&args.out).map_err(usage)?;
    let mut files = Outputs::new();
    if let Some(f) = &args.solver_file {
        files.input(f);
    }
    let out = files.output("--out", &args.out)?;
    let truth_out = files.optional("--truth", args.truth.as_deref())?;
    let csv_out = files.optional("--export-qasa-csv", args.export_qasa_csv.as_deref())?;
    let graph = load_graph(args.topology, args.solver_file.as_deref())?;
    if !(0.0..=1.0).contains(&args.crosstalk) {
        return Err(usage(format!(
            "--crosstalk must be a fraction in [0, 1], got {}",
            args.crosstalk
        )));
    }
    if !(0.0..0.5).contains(&args.readout_flip) {
        return Err(usage(format!(
            "--readout-flip must be in [0, 0.5), got {}",
            args.readout_flip
        )));
    }
    let config = DeviceConfig {
        anneal_time_us: args.anneal_time_us,
        seed: args.seed,
        readout_flip: args.readout_flip,
        crosstalk_fraction: args.crosstalk,
        noise: match args.noise {
            NoiseArg::CallTwoPoint => NoiseModel::CallTwoPoint,
            NoiseArg::CallGaussian => NoiseModel::CallGaussian,
            NoiseArg::Read => NoiseModel::Read,
        },
        ..DeviceConfig::default()
    };
    let plan = SimulationPlan {
        h_max: args.h_max,
        h_step: args.h_step,
        reads: args.reads,
        reads_per_call: args.reads_per_call,
        anneal_time_us: args.anneal_time_us,
        blocks: args.blocks,
        gauges: !args.no_gauges,
        raw: args.raw,
        pairs: args.pairs || args.raw || args.crosstalk > 0.0,
        seed: args.seed,
    };
    // A plan that cannot run is a usage error: its flags are wrong.
    let n_calls =
        plan.calls().map_err(usage)?.len() as u64 * plan.grid().map_err(usage)?.len() as u64;
    let qpu = VirtualQpu::new(graph, &config);
    let bar = Progress::new("simulate", n_calls, "calls", args.quiet);
    let sweep = device::simulate(&qpu, &plan, &|n| bar.set(n))?;
    bar.finish();
    files.write(out, |w| qasa::sweep::write_sweep_to(&sweep, &args.out, w))?;
    if let Some(t) = truth_out {
        files.write(t, |w| device::write_truth_to(qpu.truth(), w))?;
    }
    if let (Some(c), Some(path)) = (csv_out, &args.export_qasa_csv) {
        files.write(c, |w| qasa::sweep::qasa_csv::write_to(&sweep, path, w))?;
    }
    files.commit()?;
    let summary = serde_json::json!({
        "out": args.out,
        "solver": sweep.meta.solver,
        "num_qubits": sweep.qubits.len(),
        "num_h": sweep.h.len(),
        "reads_per_h": args.reads,
        "num_calls": n_calls,
        "num_blocks": sweep.blocks.len(),
        "num_pairs": sweep.pairs.as_ref().map_or(0, |p| p.couplers.len()),
        "crosstalk_planted": qpu.truth().crosstalk.len(),
        "truth": args.truth,
    });
    if args.json {
        console::json(&summary)
    } else {
        console::line(format_args!(
            "simulated {} qubits × {} h values × {} reads ({} calls) on {} → {}",
            sweep.qubits.len(),
            sweep.h.len(),
            args.reads,
            n_calls,
            sweep.meta.solver.as_deref().unwrap_or("virtual device"),
            args.out.display()
        ))
    }
}

/// The working graph named by `--topology` or `--solver-file`.
pub fn load_graph(
    spec: Option<Topology>,
    solver_file: Option<&std::path::Path>,
) -> Result<WorkingGraph> {
    match (spec, solver_file) {
        (Some(t), None) => Ok(WorkingGraph::perfect(t)),
        (None, Some(f)) => Ok(WorkingGraph::from_solver_file(f)?),
        _ => bail!("give exactly one of --topology SPEC or --solver-file FILE"),
    }
}
