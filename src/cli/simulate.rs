//! `qasa simulate`: a sweep on the virtual QPU, written as a native sweep file (and optionally its truth
//! and a QASA spin table). The sweep is a plan (`qasa plan`) run on the virtual QPU: from the plan flags,
//! checked against the solver record's limits like `qasa collect`, or from `--plan FILE` exactly as
//! `qasa collect --plan FILE` runs it.

use super::numbers::finite;
use super::output::Outputs;
use super::plan::{PlanFlags, ResolvedTarget};
use super::progress::Progress;
use super::{console, usage};
use anyhow::{bail, Result};
use clap::Args as ClapArgs;
use qasa::collect::plan::Plan;
use qasa::collect::VirtualOptions;
use qasa::device::{self, DeviceConfig, NoiseModel, VirtualQpu};
use qasa::topology::WorkingGraph;
use std::path::PathBuf;

#[derive(ClapArgs, Debug)]
#[command(
    group(clap::ArgGroup::new("graph").required(true).args(["topology", "solver_file", "plan"])),
    allow_negative_numbers = true
)]
pub struct Args {
    /// Perfect graph: chimera:M[,N[,T]], pegasus:M, zephyr:M[,T], 2000q, advantage, advantage2.
    #[arg(long, value_name = "SPEC", value_parser = super::plan::topology_spec)]
    topology: Option<String>,
    /// Working graph from a SAPI solver record (.json or .json.gz); its limits (h_range, ...) apply.
    #[arg(long, value_name = "FILE")]
    solver_file: Option<PathBuf>,
    /// Run this plan (from `qasa plan -o`): the same calls, reads and gauges `qasa collect --plan` sends.
    /// --seed then only sets the device's true parameters; sampling follows the plan's seed.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["h_max", "h_step", "h_values", "reads", "reads_per_call", "anneal_time_us", "blocks", "no_gauges", "flux_drift_compensation"])]
    plan: Option<PathBuf>,
    #[command(flatten)]
    flags: PlanFlags,
    /// Sample per-read spin vectors (slow; exact for planted crosstalk) instead of counts.
    #[arg(long)]
    raw: bool,
    /// Record per (h, coupler) agreement counts (implied by --raw and --crosstalk).
    #[arg(long)]
    pairs: bool,
    /// Fraction of couplers with a planted crosstalk coupling (on a matching).
    #[arg(long, default_value_t = 0.0, value_name = "FRACTION")]
    crosstalk: f64,
    /// Probability that a read returns the wrong spin.
    #[arg(long, default_value_t = 0.0, value_parser = finite)]
    readout_flip: f64,
    /// How field noise η enters: per call (two-point or gaussian) or per read (no over-dispersion).
    #[arg(long, value_enum, default_value_t = NoiseArg::CallTwoPoint)]
    noise: NoiseArg,
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

/// The plan to run: from `--plan`, or built from the flags for the graph and its limits.
fn plan_of(args: &Args) -> Result<Plan> {
    if let Some(p) = &args.plan {
        return Ok(Plan::read(p)?);
    }
    let target = match (&args.topology, &args.solver_file) {
        (Some(t), _) => ResolvedTarget::from_topology(t)?,
        (_, Some(f)) => ResolvedTarget::from_file(f)?,
        _ => bail!("give exactly one of --topology SPEC, --solver-file FILE or --plan FILE"),
    };
    args.flags.build(&target, 1)
}

pub fn run(args: Args) -> Result<()> {
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
    qasa::sweep::SweepFormat::from_file_name(&args.out).map_err(usage)?;
    let mut files = Outputs::new();
    for input in [&args.solver_file, &args.plan].into_iter().flatten() {
        files.input(input);
    }
    let out = files.output("--out", &args.out)?;
    let truth_out = files.optional("--truth", args.truth.as_deref())?;
    let csv_out = files.optional("--export-qasa-csv", args.export_qasa_csv.as_deref())?;
    let plan = plan_of(&args)?;
    let config = DeviceConfig {
        anneal_time_us: plan.anneal_time_us,
        seed: args.flags.seed,
        readout_flip: args.readout_flip,
        crosstalk_fraction: args.crosstalk,
        noise: match args.noise {
            NoiseArg::CallTwoPoint => NoiseModel::CallTwoPoint,
            NoiseArg::CallGaussian => NoiseModel::CallGaussian,
            NoiseArg::Read => NoiseModel::Read,
        },
        ..DeviceConfig::default()
    };
    let opts = VirtualOptions {
        raw: args.raw,
        pairs: args.pairs || args.raw || args.crosstalk > 0.0,
    };
    let graph: WorkingGraph = plan.working_graph()?;
    let n_calls = plan.calls.len() as u64;
    let qpu = VirtualQpu::new(graph, &config);
    let bar = Progress::new("simulate", n_calls, "calls", args.quiet);
    let sweep = qasa::collect::run_virtual(&qpu, &plan, &opts, &|n| bar.set(n))?;
    bar.finish();
    files.write(out, |w| qasa::sweep::write_sweep_to(&sweep, &args.out, w))?;
    if let Some(t) = truth_out {
        files.write(t, |w| device::write_truth_to(qpu.truth(), w))?;
    }
    if let (Some(c), Some(path)) = (csv_out, &args.export_qasa_csv) {
        files.write(c, |w| qasa::sweep::qasa_csv::write_to(&sweep, path, w))?;
    }
    files.commit()?;
    let reads_per_h = plan.reads_per_h(0).first().copied().unwrap_or(0);
    let summary = serde_json::json!({
        "out": args.out,
        "solver": sweep.meta.solver,
        "num_qubits": sweep.qubits.len(),
        "num_h": sweep.h.len(),
        "reads_per_h": reads_per_h,
        "num_calls": n_calls,
        "num_blocks": sweep.blocks.len(),
        "num_pairs": sweep.pairs.as_ref().map_or(0, |p| p.couplers.len()),
        "crosstalk_planted": qpu.truth().crosstalk.len(),
        "plan_sha256": plan.sha256,
        "estimated_qpu_s": plan.estimated_qpu_s,
        "truth": args.truth,
    });
    if args.json {
        console::json(&summary)
    } else {
        console::line(format_args!(
            "simulated {} qubits × {} h values × {} reads ({} calls) on {} → {}",
            sweep.qubits.len(),
            sweep.h.len(),
            reads_per_h,
            n_calls,
            sweep.meta.solver.as_deref().unwrap_or("virtual device"),
            args.out.display()
        ))
    }
}
