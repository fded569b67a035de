//! `qasa demo`: the whole pipeline with no account and no input — a virtual chip (by default the real
//! working graph of Advantage_system4.1, with planted crosstalk) → sweep → fit → report, with progress
//! on stderr and the report's location on stdout.

use super::console;
use super::numbers::whole;
use super::output::Outputs;
use super::progress::Progress;
use super::report::{check_report_dir, print_written, write_folder};
use anyhow::Result;
use clap::Args as ClapArgs;
use qasa::report::demo::{self, DemoConfig, DemoProgress, Stage};
use qasa::topology::{Topology, WorkingGraph};
use std::path::PathBuf;
use std::sync::Mutex;

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// Output folder of the report (created, or replaced when it holds an earlier report).
    #[arg(long, short, default_value = "qasa-demo", value_name = "DIR")]
    out: PathBuf,
    /// A perfect graph instead of the Advantage_system4.1 working graph: chimera:M[,N[,T]], pegasus:M,
    /// zephyr:M[,T], 2000q, advantage, advantage2.
    #[arg(long, value_name = "SPEC", conflicts_with = "solver_file")]
    topology: Option<Topology>,
    /// A real working graph from a SAPI solver record (.json or .json.gz).
    #[arg(long, value_name = "FILE")]
    solver_file: Option<PathBuf>,
    /// Seed of the virtual chip and of the sampling.
    #[arg(long, default_value_t = 1, value_parser = whole::<u64>)]
    seed: u64,
    /// Print a JSON summary (with the time of each stage).
    #[arg(long)]
    json: bool,
    /// No progress.
    #[arg(long, short)]
    quiet: bool,
}

/// Progress bars per stage and one line per finished stage, on stderr.
struct Bars {
    quiet: bool,
    bar: Mutex<Option<Progress>>,
}

impl DemoProgress for Bars {
    fn start(&self, stage: Stage, total: u64, what: &str) {
        if let Ok(mut b) = self.bar.lock() {
            *b = (total > 0).then(|| Progress::new(stage.name(), total, what, self.quiet));
        }
    }
    fn advance(&self, done: u64) {
        if let Ok(b) = self.bar.lock() {
            if let Some(p) = b.as_ref() {
                p.set(done);
            }
        }
    }
    fn finish(&self, stage: Stage, seconds: f64) {
        if let Ok(mut b) = self.bar.lock() {
            if let Some(p) = b.take() {
                p.finish();
            }
        }
        if !self.quiet {
            console::note(format_args!("demo: {:<6} {seconds:6.1} s", stage.name()));
        }
    }
}

pub fn run(args: Args) -> Result<()> {
    let mut files = Outputs::new();
    if let Some(f) = &args.solver_file {
        files.input(f);
    }
    let inputs: Vec<&std::path::Path> = args.solver_file.iter().map(PathBuf::as_path).collect();
    check_report_dir(&mut files, &args.out, &inputs)?;
    let graph = match (&args.topology, &args.solver_file) {
        (Some(t), _) => Some(demo::perfect(*t)),
        (None, Some(f)) => Some(WorkingGraph::from_solver_file(f)?),
        (None, None) => None,
    };
    let config = DemoConfig {
        graph,
        seed: args.seed,
        generated_at: Some(
            humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        ),
        ..DemoConfig::default()
    };
    if !args.quiet {
        let chip = config.graph.as_ref().map_or(
            "Advantage_system4.1 working graph (virtual)".to_string(),
            |g| {
                g.solver_name
                    .clone()
                    .unwrap_or_else(|| format!("perfect {}", g.topology))
            },
        );
        console::note(format_args!(
            "demo: virtual chip {chip}; {} h values in [−{h}, {h}], {} reads per h in calls of {}, crosstalk planted on {} % of couplers",
            2 * (config.plan.h_max / config.plan.h_step).round() as u64 + 1,
            config.plan.reads,
            config.plan.reads_per_call,
            100.0 * config.crosstalk_fraction,
            h = config.plan.h_max,
        ));
    }
    let bars = Bars {
        quiet: args.quiet,
        bar: Mutex::new(None),
    };
    let d = demo::run(&config, &bars)?;
    let written = write_folder(&d.files, &args.out)?;
    if args.json {
        let stages: serde_json::Map<String, serde_json::Value> = d
            .seconds
            .iter()
            .map(|(s, t)| (s.name().to_string(), (*t).into()))
            .collect();
        return console::json(&serde_json::json!({
            "out": written.dir,
            "html": written.dir.join("report.html"),
            "files": written.files,
            "bytes": written.bytes,
            "html_bytes": written.html_bytes,
            "qubits": d.report.fits.n_qubits,
            "seconds": stages,
        }));
    }
    print_written(&written, &d.report, false)
}
