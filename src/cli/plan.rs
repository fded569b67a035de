//! `qasa plan`: the calls of a campaign, checked against the solver's limits, with their QPU-time cost and
//! the precision they buy, before the first read. Also the plan flags and target resolution shared by
//! `qasa simulate` and `qasa collect`.

use super::numbers::{finite, whole};
use super::output::Outputs;
use super::plan_design::{compare_json, compare_text, design_plan, design_text, GoalFlags};
use super::sapi_args::SapiArgs;
use super::{console, usage};
use anyhow::{anyhow, bail, Context, Result};
use clap::Args as ClapArgs;
use qasa::collect::plan::{ParamValues, Plan, SolverSource};
use qasa::collect::{PlanError, PlanSpec, Setting, SolverLimits, Target};
use qasa::sapi::SolverRecord;
use qasa::topology::{Topology, WorkingGraph};
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The settings of a plan (shared by `plan`, `simulate` and `collect`).
#[derive(ClapArgs, Debug, Clone)]
pub struct PlanFlags {
    /// Largest |h| of the symmetric grid, in h units; never exceeded (the grid stops at the last multiple
    /// of the step).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true, value_parser = finite)]
    pub h_max: f64,
    /// Step of the h grid; values are exact multiples, rounded to the step's decimals.
    #[arg(long, default_value_t = 0.025, allow_negative_numbers = true, value_parser = finite)]
    pub h_step: f64,
    /// Explicit h values instead of the grid (comma-separated; with gauges every h needs its -h).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true, value_name = "LIST",
          conflicts_with_all = ["h_max", "h_step"])]
    pub h_values: Option<Vec<f64>>,
    /// Reads per h value (even: gauges come in complementary pairs).
    #[arg(long, default_value_t = 100_000, value_parser = whole::<u32>)]
    pub reads: u32,
    /// Largest number of reads in one call (programming cycle).
    #[arg(long, default_value_t = 10_000, value_parser = whole::<u32>)]
    pub reads_per_call: u32,
    /// Anneal time in microseconds.
    #[arg(
        long,
        default_value_t = 5.0,
        value_name = "T",
        allow_negative_numbers = true,
        value_parser = finite
    )]
    pub anneal_time_us: f64,
    /// Per-call blocks of the sweep (default: one per call of an h value, what per-call fits and the block
    /// bootstrap need; 0 = none).
    #[arg(long, value_parser = whole::<usize>)]
    pub blocks: Option<usize>,
    /// Do not apply random spin-reversal gauges.
    #[arg(long)]
    pub no_gauges: bool,
    /// Send flux_drift_compensation = true (the reference protocol sends false).
    #[arg(long)]
    pub flux_drift_compensation: bool,
    /// Seed of the gauges (and, in simulate, of the device and its sampling).
    #[arg(long, default_value_t = 1, allow_negative_numbers = true, value_parser = whole::<u64>)]
    pub seed: u64,
}

impl PlanFlags {
    /// The plan settings; `pairs` and `raw` are executor options.
    pub fn spec(&self, pairs: bool, raw: bool) -> Result<PlanSpec> {
        let mut spec = PlanSpec {
            h_max: self.h_max,
            h_step: self.h_step,
            h_values: self.h_values.clone(),
            reads: self.reads,
            reads_per_call: self.reads_per_call,
            anneal_time_us: self.anneal_time_us,
            blocks: 0,
            gauges: !self.no_gauges,
            flux_drift_compensation: self.flux_drift_compensation,
            seed: self.seed,
            raw,
            pairs,
        };
        let calls = spec.calls().map_err(|e| self.explain(e))?.len();
        spec.blocks = self.blocks.unwrap_or(calls);
        Ok(spec)
    }

    /// A plan error with the flag it is about: a usage error (exit 2), the flags ask for a plan that
    /// cannot run.
    pub fn explain(&self, e: PlanError) -> anyhow::Error {
        let flag = match e.setting() {
            Some(Setting::HMax) if self.h_values.is_some() => "--h-values".to_string(),
            Some(Setting::HMax) => format!("--h-max {}", self.h_max),
            Some(Setting::HStep) => format!("--h-step {}", self.h_step),
            Some(Setting::HValues) => "--h-values".into(),
            Some(Setting::Reads) => format!("--reads {}", self.reads),
            Some(Setting::ReadsPerCall) => format!("--reads-per-call {}", self.reads_per_call),
            Some(Setting::AnnealTime) => format!("--anneal-time-us {}", self.anneal_time_us),
            Some(Setting::Blocks) => format!("--blocks {}", self.blocks.unwrap_or(0)),
            None => return usage(e),
        };
        usage(format!("{flag}: {e}"))
    }

    /// Builds the plan for a target.
    pub fn build(&self, target: &ResolvedTarget, in_flight: usize) -> Result<Plan> {
        let spec = self.spec(false, false)?;
        Plan::build(&spec, &target.target(), in_flight).map_err(|e| self.explain(e))
    }
}

/// A solver record and its working graph.
pub struct ResolvedTarget {
    pub name: String,
    pub graph_id: Option<String>,
    pub source: SolverSource,
    pub graph: WorkingGraph,
    pub limits: SolverLimits,
}

impl ResolvedTarget {
    pub fn target(&self) -> Target<'_> {
        Target {
            solver: self.name.clone(),
            graph_id: self.graph_id.clone(),
            source: self.source,
            graph: &self.graph,
            limits: &self.limits,
        }
    }

    /// From a solver record (v2 or v3).
    pub fn from_record(record: &SolverRecord, source: SolverSource) -> Result<Self> {
        let graph = WorkingGraph::from_solver_record(record)
            .with_context(|| format!("solver {}", record.name))?;
        Ok(ResolvedTarget {
            name: record.name.clone(),
            graph_id: record.graph_id.clone(),
            limits: SolverLimits::from_record(record),
            source,
            graph,
        })
    }

    /// A perfect graph, limited as `qasa serve --topology SPEC` serves it.
    pub fn from_topology(spec: &str) -> Result<Self> {
        let topology: Topology = spec.parse()?;
        let def = qasa::server::synthetic_record(spec)?;
        Ok(ResolvedTarget {
            name: def.name().to_string(),
            graph_id: None,
            source: SolverSource::Topology,
            graph: WorkingGraph::perfect(topology),
            limits: SolverLimits::from_record(&def.record),
        })
    }

    /// The first QPU record of a solver file (.json or .json.gz; a record or a list).
    pub fn from_file(path: &Path) -> Result<Self> {
        let record = SolverRecord::read_file(path)?
            .into_iter()
            .find(SolverRecord::is_qpu)
            .ok_or_else(|| {
                anyhow!(
                    "{}: no QPU solver record (none has properties.qubits)",
                    path.display()
                )
            })?;
        Self::from_record(&record, SolverSource::SolverFile)
            .with_context(|| format!("{}", path.display()))
    }

    /// From SAPI.
    pub fn from_sapi(sapi: &SapiArgs, name: Option<&str>) -> Result<Self> {
        let cfg = sapi.config()?;
        let client = sapi.client()?;
        let name = name.map(str::to_string).or(cfg.solver.clone());
        let rec = client
            .select_solver(name.as_deref())
            .map_err(|e| sapi.explain(e))
            .context("fetching the solver record from SAPI")?;
        Self::from_record(&rec, SolverSource::Sapi)
    }
}

/// Checks a `--topology` value with the topology parser (a bad spec is a usage error), keeping the text.
pub fn topology_spec(text: &str) -> std::result::Result<String, String> {
    text.parse::<Topology>()
        .map(|_| text.to_string())
        .map_err(|e| e.to_string())
}

/// Arguments of `qasa plan`.
#[derive(ClapArgs, Debug)]
#[command(group(clap::ArgGroup::new("graph").required(true).args(["solver", "solver_file", "topology"])))]
pub struct Args {
    /// Plan for this SAPI solver (fetched with the usual configuration; see --endpoint, --token, ...).
    #[arg(long, value_name = "NAME")]
    solver: Option<String>,
    /// Plan for the solver described by a saved SAPI record (.json or .json.gz).
    #[arg(long, value_name = "FILE")]
    solver_file: Option<PathBuf>,
    /// Plan for a perfect graph (chimera:M[,N[,T]], pegasus:M, zephyr:M[,T], 2000q, advantage, advantage2),
    /// limited like `qasa serve --topology` serves it.
    #[arg(long, value_name = "SPEC", value_parser = topology_spec)]
    topology: Option<String>,
    #[command(flatten)]
    flags: PlanFlags,
    /// Design the plan (h values, calls, reads per call) for the least QPU time that reaches a goal
    /// (--match-reference, the default; --target-se; or the best errors within --budget-qpu-s); --h-max,
    /// --h-step and --reads-per-call then bound the candidates. See docs/design.md.
    #[arg(long, conflicts_with_all = ["reads", "h_values", "blocks"])]
    optimize: bool,
    /// Print the reference protocol and the optimised plan side by side: protocol, estimated QPU time and
    /// predicted standard errors (implies --optimize).
    #[arg(long, conflicts_with_all = ["reads", "h_values", "blocks"])]
    compare_reference: bool,
    #[command(flatten)]
    goal: GoalFlags,
    /// Calls kept in flight by `qasa collect` (enters the wall-time estimate).
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = whole::<usize>)]
    in_flight: usize,
    /// Write the plan here (JSON; run it with `qasa collect --plan` or `qasa simulate --plan`).
    #[arg(long, short, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Print a JSON summary instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    sapi: SapiArgs,
}

pub fn run(args: Args) -> Result<()> {
    if args.in_flight == 0 {
        return Err(usage("--in-flight must be at least 1"));
    }
    if !(args.optimize || args.compare_reference) {
        if let Some(flag) = args.goal.given() {
            return Err(usage(format!(
                "{flag} designs a plan: add --optimize (or --compare-reference)"
            )));
        }
    }
    let mut files = Outputs::new();
    if let Some(f) = &args.solver_file {
        files.input(f);
    }
    if let Some(f) = &args.goal.prior {
        files.input(f);
    }
    let out_id = files.optional("--out", args.out.as_deref())?;
    let target = match (&args.solver, &args.solver_file, &args.topology) {
        (Some(name), _, _) => ResolvedTarget::from_sapi(&args.sapi, Some(name))?,
        (_, Some(f), _) => ResolvedTarget::from_file(f)?,
        (_, _, Some(t)) => ResolvedTarget::from_topology(t)?,
        _ => bail!("give one of --solver, --solver-file or --topology"),
    };
    let designed = if args.optimize || args.compare_reference {
        Some(design_plan(
            &args.goal,
            &args.flags,
            &target,
            args.in_flight,
        )?)
    } else {
        None
    };
    let plan = match &designed {
        Some(d) => d.plan.clone(),
        None => args.flags.build(&target, args.in_flight)?,
    };
    if let Some(id) = out_id {
        let text = plan.to_json()?;
        files.write(id, |w| w.write_all(text.as_bytes()))?;
    }
    files.commit()?;
    let mut text = match (&designed, args.compare_reference, args.json) {
        (Some(d), true, true) => serde_json::to_string_pretty(&compare_json(d))? + "\n",
        (Some(d), true, false) => compare_text(d),
        (_, _, true) => {
            serde_json::to_string_pretty(&summary_json(&plan, args.out.as_deref()))? + "\n"
        }
        (_, _, false) => summary_text(&plan, &args.flags) + &design_text(&plan),
    };
    if let Some(out) = &args.out {
        if !args.json {
            text.push_str(&format!(
                "wrote {} (plan sha256 {}…)\n",
                out.display(),
                &plan.sha256[..12]
            ));
        }
    }
    console::stdout(|w| w.write_all(text.as_bytes()))
}

/// Distinct (reads, estimated µs, number of calls) of a plan's calls.
fn call_sizes(plan: &Plan) -> Vec<(u32, f64, usize)> {
    let mut v: Vec<(u32, f64, usize)> = Vec::new();
    for c in &plan.calls {
        match v.iter_mut().find(|(r, _, _)| *r == c.reads) {
            Some(e) => e.2 += 1,
            None => v.push((c.reads, c.estimated_qpu_us, 1)),
        }
    }
    v.sort_by_key(|e| std::cmp::Reverse(e.0));
    v
}

/// The JSON summary of `qasa plan --json`.
pub fn summary_json(plan: &Plan, out: Option<&Path>) -> Value {
    let reads = plan.reads_per_h(0);
    json!({
        "out": out,
        "solver": plan.solver.name,
        "sha256": plan.sha256,
        "qubits": plan.qubits.len(),
        "calls": plan.calls.len(),
        "reads": plan.total_reads(),
        "h": {"count": plan.h.len(), "min": plan.h.first(), "max": plan.h.last(), "values": plan.h},
        "reads_per_h": reads,
        "anneal_time_us": plan.anneal_time_us,
        "parameters": plan.parameters,
        "gauges": plan.gauges.is_some(),
        "blocks": plan.blocks,
        "timing_model": plan.estimate.timing_model,
        "call_estimates": call_sizes(plan).into_iter().map(|(r, us, n)| json!({"reads": r, "estimated_qpu_us": us, "calls": n})).collect::<Vec<_>>(),
        "estimated_qpu_s": plan.estimated_qpu_s,
        "estimated_wall_s": plan.estimate.estimated_wall_s,
        "in_flight": plan.estimate.in_flight,
        "precision": plan.precision,
        "design": plan.design,
    })
}

fn duration(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.1} s")
    } else if s < 7200.0 {
        format!("{s:.0} s ({:.1} min)", s / 60.0)
    } else {
        format!("{s:.0} s ({:.2} h)", s / 3600.0)
    }
}

fn grid_text(plan: &Plan, flags: &PlanFlags) -> String {
    let n = plan.h.len();
    let (lo, hi) = (plan.h[0], plan.h[n - 1]);
    if flags.h_values.is_none() && n > 1 && plan.design.is_none() {
        let mut s = format!("{n} values from {lo} to {hi} in steps of {}", flags.h_step);
        if hi < flags.h_max {
            s.push_str(&format!(
                " (--h-max {} is not a multiple of the step: the grid stops at {hi})",
                flags.h_max
            ));
        }
        s
    } else if n <= 12 {
        let v: Vec<String> = plan.h.iter().map(f64::to_string).collect();
        format!("{n} values: {}", v.join(", "))
    } else {
        format!("{n} values from {lo} to {hi}")
    }
}

fn se_text(p: &ParamValues) -> String {
    let f = |x: Option<f64>| x.map_or("-".into(), |v| format!("{v:.2e}"));
    format!(
        "β {}  b {}  γ {}  η {}",
        f(p.beta),
        f(p.b),
        f(p.gamma),
        f(p.eta)
    )
}

/// The readable summary of a plan.
pub fn summary_text(plan: &Plan, flags: &PlanFlags) -> String {
    let mut s = String::new();
    let t = &plan.solver.topology;
    let model = if plan.estimate.timing_model == "problem_timing_data" {
        "the record's problem_timing_data".to_string()
    } else {
        "no problem_timing_data in the record: the published DW_2000Q_6 timing model (an estimate of an estimate)".to_string()
    };
    s.push_str(&format!(
        "plan for {} ({} {:?}, {} qubits per call)\n",
        plan.solver.name,
        t.kind,
        t.shape,
        plan.qubits.len()
    ));
    s.push_str(&format!("  h grid     {}\n", grid_text(plan, flags)));
    let sizes: Vec<String> = call_sizes(plan)
        .iter()
        .map(|(r, _, n)| format!("{n} × {r}"))
        .collect();
    s.push_str(&format!(
        "  calls      {} ({} reads per call), {} reads; {} reads per h value and qubit\n",
        plan.calls.len(),
        sizes.join(" + "),
        plan.total_reads(),
        plan.reads_per_h(0).first().copied().unwrap_or(0)
    ));
    s.push_str(&format!(
        "  settings   anneal {} µs, auto_scale false, flux_drift_compensation {}, {}, {} blocks\n",
        plan.anneal_time_us,
        plan.parameters
            .get("flux_drift_compensation")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        if plan.gauges.is_some() {
            "gauges in complementary pairs"
        } else {
            "no gauges"
        },
        plan.blocks
    ));
    let per_call: Vec<String> = call_sizes(plan)
        .iter()
        .map(|(r, us, _)| format!("{us:.2} µs per {r}-read call"))
        .collect();
    s.push_str(&format!(
        "  QPU time   {} estimated ({}; {model})\n",
        duration(plan.estimated_qpu_s),
        per_call.join(", ")
    ));
    s.push_str(&format!(
        "  wall time  at least {} with {} calls in flight (plus queue waits on a busy solver)\n",
        duration(plan.estimate.estimated_wall_s),
        plan.estimate.in_flight
    ));
    if let Some(p) = &plan.precision {
        s.push_str(&format!(
            "  expected SE per qubit at typical values (β {:.3}, b {}, γ {}, η {}):\n",
            p.at.beta, p.at.b, p.at.gamma, p.at.eta
        ));
        s.push_str(&format!(
            "             {}   the default fit, with per-call noise (the prediction to trust)\n",
            se_text(&p.se_per_call_noise)
        ));
        s.push_str(&format!(
            "             {}   binomial (reads taken as independent, which they are not: a call shares its field noise)\n",
            se_text(&p.se_binomial)
        ));
    }
    s
}
