//! `qasa collect`: run a plan on a SAPI solver (Leap, or `qasa serve`), journaled, resumable, within a
//! budget, and write the sweep atomically.

use super::console;
use super::output::Outputs;
use super::plan::{PlanFlags, ResolvedTarget};
use super::plan_design::GoalFlags;
use super::progress::Progress;
use super::sapi_args::SapiArgs;
use anyhow::{anyhow, bail, Context, Result};
use clap::Args as ClapArgs;
use qasa::collect::plan::Plan;
use qasa::collect::{CollectOptions, CollectProgress, Journal};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// Arguments of `qasa collect`.
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The plan to run (from `qasa plan -o`). Without it, the plan flags below make one for --solver.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["h_max", "h_step", "h_values", "reads", "reads_per_call", "anneal_time_us", "blocks", "no_gauges", "flux_drift_compensation", "seed", "solver", "adaptive"])]
    plan: Option<PathBuf>,
    /// Adaptive campaign: pilot calls, fit, redesign for the goal (--match-reference by default,
    /// --target-se or --budget-qpu-s) with the pilot's fit as prior, top-up calls; every stage journaled
    /// and resumable, the whole within --max-qpu-s. See docs/design.md.
    #[arg(long, conflicts_with_all = ["reads", "h_values", "blocks", "pairs"])]
    pub(super) adaptive: bool,
    /// Share of the goal's QPU time spent on the adaptive pilot.
    #[arg(long, value_name = "F", default_value_t = qasa::design::adaptive::PILOT_FRACTION, value_parser = super::numbers::finite, requires = "adaptive")]
    pub(super) pilot_fraction: f64,
    #[command(flatten)]
    pub(super) goal: GoalFlags,
    /// Solver to plan for when no --plan is given (default: the configured solver).
    #[arg(long, value_name = "NAME")]
    pub(super) solver: Option<String>,
    #[command(flatten)]
    pub(super) flags: PlanFlags,
    /// Output sweep file (*.sweep.json or *.sweep.json.gz); its journal is FILE.journal.
    #[arg(long, short, value_name = "FILE")]
    pub(super) out: PathBuf,
    /// Also keep per (h, coupler) agreement counts.
    #[arg(long)]
    pairs: bool,
    /// Continue the campaign of the journal beside --out (calls already submitted are fetched, not paid
    /// again).
    #[arg(long)]
    pub(super) resume: bool,
    /// Problems in flight at once.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub(super) in_flight: usize,
    /// QPU-time budget of the campaign, seconds: a plan estimated above it is refused, and no call is
    /// submitted that would pass it.
    #[arg(long, value_name = "S")]
    pub(super) max_qpu_s: Option<f64>,
    /// Print a JSON summary.
    #[arg(long)]
    pub(super) json: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub(super) quiet: bool,
    #[command(flatten)]
    pub(super) sapi: SapiArgs,
}

static STOP: OnceLock<Arc<AtomicBool>> = OnceLock::new();

#[cfg(unix)]
extern "C" fn on_interrupt(_: libc::c_int) {
    if let Some(s) = STOP.get() {
        s.store(true, Ordering::SeqCst);
    }
    // A second Ctrl-C ends the process at once.
    // SAFETY: signal() is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
    }
}

/// The flag Ctrl-C sets.
pub(super) fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = STOP
        .get_or_init(|| Arc::new(AtomicBool::new(false)))
        .clone();
    #[cfg(unix)]
    // SAFETY: installs a handler that only stores to an atomic and resets the disposition.
    unsafe {
        let handler = on_interrupt as extern "C" fn(libc::c_int);
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
    }
    flag
}

pub(super) fn check_out(args: &Args) -> Result<()> {
    if qasa::sweep::SweepFormat::from_file_name(&args.out)? != qasa::sweep::SweepFormat::Native {
        bail!(
            "--out {}: collect writes a native sweep (*.sweep.json or *.sweep.json.gz), which keeps the per-call blocks and metadata; convert it to a spin_table.csv afterwards",
            args.out.display()
        );
    }
    if args.out.exists() && !args.resume {
        bail!(
            "--out {} exists; a finished sweep is never overwritten: choose another --out",
            args.out.display()
        );
    }
    if !args.resume && Journal::path_for(&args.out).exists() {
        bail!(
            "{} exists: a collection into {} was started before; add --resume to continue it (nothing is paid twice), or remove the journal to start over",
            Journal::path_for(&args.out).display(),
            args.out.display()
        );
    }
    if args.in_flight == 0 || args.in_flight > 64 {
        bail!(
            "--in-flight must be between 1 and 64, got {}",
            args.in_flight
        );
    }
    if let Some(b) = args.max_qpu_s {
        if !(b.is_finite() && b > 0.0) {
            bail!("--max-qpu-s must be a positive number of seconds, got {b}");
        }
    }
    Ok(())
}

/// The command that resumes this run (a token given on the command line is not repeated).
pub(super) fn resume_command() -> String {
    let mut hide_next = false;
    let mut words: Vec<String> = std::env::args()
        .map(|a| {
            if std::mem::take(&mut hide_next) {
                return "<TOKEN>".to_string();
            }
            if a == "--token" {
                hide_next = true;
            }
            if a.starts_with("--token=") {
                return "--token=<TOKEN>".to_string();
            }
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"$\\`".contains(c)) {
                format!("'{}'", a.replace('\'', r"'\''"))
            } else {
                a
            }
        })
        .collect();
    if let Some(first) = words.first_mut() {
        *first = "qasa".into();
    }
    if !words.iter().any(|w| w == "--resume") {
        words.push("--resume".into());
    }
    words.join(" ")
}

pub(super) fn show(bar: &Progress, p: &CollectProgress) {
    bar.set(p.calls_done as u64);
    let mut msg = format!(
        "{}/{} reads, QPU {:.1}/{:.1} s",
        p.reads_done, p.reads_total, p.charged_qpu_s, p.estimated_qpu_s
    );
    if p.resubmitted > 0 {
        msg.push_str(&format!(", {} resubmitted", p.resubmitted));
    }
    bar.message(msg);
}

fn load_plan(args: &Args) -> Result<Plan> {
    match &args.plan {
        Some(p) => Ok(Plan::read(p)?),
        None => {
            let target = ResolvedTarget::from_sapi(&args.sapi, args.solver.as_deref())?;
            args.flags.build(&target, args.in_flight)
        }
    }
}

pub fn run(args: Args) -> Result<()> {
    if args.adaptive {
        return super::collect_adaptive::run(&args);
    }
    if let Some(flag) = args.goal.given() {
        return Err(super::usage(format!(
            "{flag} designs an adaptive campaign: add --adaptive (or design a plan with qasa plan --optimize)"
        )));
    }
    check_out(&args)?;
    let mut files = Outputs::new();
    if let Some(p) = &args.plan {
        files.input(p);
    }
    let out = files.output("--out", &args.out)?;
    let client = args.sapi.client()?;
    let plan = load_plan(&args)?;
    if let Some(budget) = args.max_qpu_s {
        if plan.estimated_qpu_s > budget {
            bail!(
                "the plan needs an estimated {:.3} s of QPU access time, over the budget --max-qpu-s {budget}; raise the budget, or plan fewer reads or h values (qasa plan shows the cost)",
                plan.estimated_qpu_s
            );
        }
    }
    let solver = client
        .get_solver(&plan.solver.name)
        .map_err(|e| args.sapi.explain(e))
        .with_context(|| format!("fetching solver {} from SAPI", plan.solver.name))?;
    let opts = CollectOptions {
        in_flight: args.in_flight,
        max_qpu_s: args.max_qpu_s,
        pairs: args.pairs,
        resume: args.resume,
        ..CollectOptions::default()
    };
    let stop = interrupt_flag();
    let bar = Progress::new("collect", plan.calls.len() as u64, "calls", args.quiet);
    let result = qasa::collect::collect(&client, &solver, &plan, &args.out, &opts, stop, &|p| {
        show(&bar, p)
    });
    bar.finish();
    let done = match result {
        Ok(d) => d,
        Err(e) if e.is_resumable() && Journal::path_for(&args.out).exists() => {
            return Err(anyhow!(
                "{e}; the journal {} is consistent: resume with `{}`",
                Journal::path_for(&args.out).display(),
                resume_command()
            ))
        }
        Err(e) => return Err(e.into()),
    };
    files.write(out, |w| {
        qasa::sweep::write_sweep_to(&done.sweep, &args.out, w)
    })?;
    files.commit()?;
    let campaign = done.sweep.meta.campaign.clone();
    let charged = campaign
        .as_ref()
        .and_then(|c| c.charged_qpu_s)
        .unwrap_or(0.0);
    let text = if args.json {
        serde_json::to_string_pretty(&serde_json::json!({
            "out": args.out,
            "solver": plan.solver.name,
            "plan_sha256": plan.sha256,
            "calls": plan.calls.len(),
            "calls_this_session": done.calls_this_session,
            "reads": plan.total_reads(),
            "qubits": plan.qubits.len(),
            "h_values": plan.h.len(),
            "estimated_qpu_s": plan.estimated_qpu_s,
            "charged_qpu_s": charged,
            "resubmitted_calls": done.resubmitted,
            "journal": Journal::path_for(&args.out),
        }))? + "\n"
    } else {
        format!(
            "collected {} calls ({} this session) on {}: {} qubits × {} h values, {} reads; QPU time charged {:.3} s (estimated {:.3} s){} → {}\n",
            plan.calls.len(),
            done.calls_this_session,
            plan.solver.name,
            plan.qubits.len(),
            plan.h.len(),
            plan.total_reads(),
            charged,
            plan.estimated_qpu_s,
            if done.resubmitted > 0 {
                format!("; {} attempts lost by the service were submitted again", done.resubmitted)
            } else {
                String::new()
            },
            args.out.display()
        )
    };
    console::stdout(|w| w.write_all(text.as_bytes()))
}
