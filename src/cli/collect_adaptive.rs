//! `qasa collect --adaptive`: pilot → fit → redesign → top-up on a SAPI solver, every stage journaled and
//! resumable (the library's [`qasa::design::adaptive`]); this file only parses, draws and prints.

use super::collect::{check_out, interrupt_flag, resume_command, show, Args};
use super::console;
use super::output::Outputs;
use super::plan::ResolvedTarget;
use super::progress::Progress;
use anyhow::{anyhow, bail, Context, Result};
use qasa::collect::plan::SolverSource;
use qasa::collect::CollectOptions;
use qasa::design::adaptive::{run_adaptive, AdaptiveFiles, AdaptiveProgress, Service, Stage};
use std::cell::RefCell;

fn check_files(args: &Args) -> Result<()> {
    check_out(args)?;
    if args.out.exists() {
        bail!(
            "--out {} exists: the adaptive campaign is finished (a finished sweep is never overwritten)",
            args.out.display()
        );
    }
    let files = AdaptiveFiles::for_out(&args.out);
    if !args.resume {
        if let Some(f) = files.all().iter().find(|f| f.exists()) {
            bail!(
                "{} exists: an adaptive campaign into {} was started before; add --resume to continue it (nothing is paid twice), or remove its files ({}.pilot.*, {}.topup.*) to start over",
                f.display(),
                args.out.display(),
                args.out.display(),
                args.out.display()
            );
        }
    }
    Ok(())
}

/// Draws one bar per collecting stage.
struct Bars {
    quiet: bool,
    current: RefCell<Option<(Stage, Progress)>>,
}

impl Bars {
    fn update(&self, p: &AdaptiveProgress) {
        let mut cur = self.current.borrow_mut();
        if cur.as_ref().map(|(s, _)| *s) != Some(p.stage) {
            if let Some((_, bar)) = cur.take() {
                bar.finish();
            }
            let total = p.collect.as_ref().map_or(0, |c| c.calls_total as u64);
            let name = format!("collect --adaptive: {}", p.stage.name());
            *cur = Some((p.stage, Progress::new(&name, total, "calls", self.quiet)));
        }
        if let (Some((_, bar)), Some(c)) = (cur.as_ref(), &p.collect) {
            show(bar, c);
        }
    }

    fn finish(&self) {
        if let Some((_, bar)) = self.current.borrow_mut().take() {
            bar.finish();
        }
    }
}

pub fn run(args: &Args) -> Result<()> {
    check_files(args)?;
    let mut files = Outputs::new();
    if let Some(p) = &args.goal.prior {
        files.input(p);
    }
    let out = files.output("--out", &args.out)?;
    let client = args.sapi.client()?;
    let cfg = args.sapi.config()?;
    let name = args.solver.clone().or(cfg.solver.clone());
    let record = client
        .select_solver(name.as_deref())
        .map_err(|e| args.sapi.explain(e))
        .context("fetching the solver record from SAPI")?;
    let target = ResolvedTarget::from_record(&record, SolverSource::Sapi)?;
    let request = args.goal.request(&args.flags, args.in_flight)?;
    let opts = CollectOptions {
        in_flight: args.in_flight,
        max_qpu_s: args.max_qpu_s,
        resume: args.resume,
        ..CollectOptions::default()
    };
    let service = Service {
        client: &client,
        solver: &record,
        target: target.target(),
    };
    let bars = Bars {
        quiet: args.quiet,
        current: RefCell::new(None),
    };
    let result = run_adaptive(
        &service,
        &request,
        args.pilot_fraction,
        &args.out,
        &opts,
        interrupt_flag(),
        &|p| bars.update(p),
    );
    bars.finish();
    let done = match result {
        Ok(d) => d,
        Err(e) if e.is_resumable() => {
            return Err(anyhow!(
                "{e}; the campaign's files and journals are consistent: resume with `{}`",
                resume_command()
            ))
        }
        Err(e) => return Err(e.into()),
    };
    files.write(out, |w| {
        qasa::sweep::write_sweep_to(&done.sweep, &args.out, w)
    })?;
    files.commit()?;
    let af = AdaptiveFiles::for_out(&args.out);
    let predicted = done.topup.design.as_ref().map(|d| d.predicted);
    let text = if args.json {
        serde_json::to_string_pretty(&serde_json::json!({
            "out": args.out,
            "solver": record.name,
            "pilot": {"plan": af.pilot_plan, "calls": done.pilot.calls.len(), "estimated_qpu_s": done.pilot.estimated_qpu_s, "sweep": af.pilot_sweep, "fit": af.pilot_fit},
            "topup": {"plan": af.topup_plan, "calls": done.topup.calls.len(), "estimated_qpu_s": done.topup.estimated_qpu_s, "sweep": af.topup_sweep},
            "charged_qpu_s": done.charged_qpu_s,
            "calls_this_session": done.calls_this_session,
            "predicted": predicted,
        }))? + "\n"
    } else {
        let se = predicted.map_or(String::new(), |p| {
            format!(
                "; predicted RMS SE β/β {:.2e}, b {:.2e}",
                p.rms_rel_se_beta.unwrap_or(f64::NAN),
                p.rms_se.b.unwrap_or(f64::NAN)
            )
        });
        format!(
            "adaptive campaign on {}: pilot {} calls ({:.1} s estimated), top-up {} calls ({:.1} s estimated), {} calls this session; QPU time charged {:.3} s{se} → {}\n",
            record.name,
            done.pilot.calls.len(),
            done.pilot.estimated_qpu_s,
            done.topup.calls.len(),
            done.topup.estimated_qpu_s,
            done.calls_this_session,
            done.charged_qpu_s,
            args.out.display()
        )
    };
    console::stdout(|w| w.write_all(text.as_bytes()))
}
