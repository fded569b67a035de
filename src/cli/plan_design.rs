//! The experiment-design flags of `qasa plan --optimize` / `--compare-reference` (and of
//! `qasa collect --adaptive`), and their output: the design section of the summary and the comparison
//! with the reference protocol.

use super::numbers::{finite, whole};
use super::plan::{PlanFlags, ResolvedTarget};
use super::usage;
use anyhow::Result;
use clap::Args as ClapArgs;
use qasa::collect::design_record::{PredictedSe, TargetSe};
use qasa::collect::information::NoiseLaw;
use qasa::collect::plan::Plan;
use qasa::design::{self, CandidateSpec, DesignRequest, Designed, Goal, PriorSource};
use serde_json::{json, Value};
use std::path::PathBuf;

/// What an optimised plan must achieve, and what it may assume.
#[derive(ClapArgs, Debug, Clone)]
pub struct GoalFlags {
    /// Reach the reference protocol's predicted errors of β (relative) and b (RMS over the prior's
    /// qubits) with the least QPU time (the default goal).
    #[arg(long, conflicts_with_all = ["target_se", "budget_qpu_s"])]
    pub match_reference: bool,
    /// Reach these RMS standard errors with the least QPU time: beta=X (1/h), beta_rel=X (relative to
    /// β), b=X (h), gamma=X, eta=X (h), comma-separated.
    #[arg(long, value_name = "LIST", value_parser = parse_targets, conflicts_with = "budget_qpu_s")]
    pub target_se: Option<TargetSe>,
    /// The best errors of β and b (relative to the reference's) within this QPU time, seconds.
    #[arg(long, value_name = "S", value_parser = finite, allow_negative_numbers = true)]
    pub budget_qpu_s: Option<f64>,
    /// Parameters and noise law to design for: a fit file (`qasa fit -o`), e.g. of a pilot run. Default:
    /// the chip family's typical values and spread, with β vague (×0.75 to ×1.3).
    #[arg(long, value_name = "FIT")]
    pub prior: Option<PathBuf>,
    /// Noise law to design for (default: the prior fit's choice, else two-point).
    #[arg(long, value_enum, value_name = "LAW")]
    pub noise_law: Option<LawArg>,
    /// Compare with (and match) the reference protocol recorded as pooled counts per h (as the QASA
    /// script keeps them) instead of one block per call.
    #[arg(long)]
    pub pooled_reference: bool,
    /// Smallest reads per call of an optimised plan (fewer, longer calls: fewer per-call blocks in the
    /// sweep, at some cost in QPU time under per-call noise).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = whole::<u32>)]
    pub min_reads_per_call: u32,
}

/// `--noise-law` values.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum LawArg {
    TwoPoint,
    Gaussian,
    PerRead,
}

impl From<LawArg> for NoiseLaw {
    fn from(a: LawArg) -> Self {
        match a {
            LawArg::TwoPoint => NoiseLaw::TwoPoint,
            LawArg::Gaussian => NoiseLaw::Gaussian,
            LawArg::PerRead => NoiseLaw::PerRead,
        }
    }
}

/// Parses `beta=X,b=Y,...`.
fn parse_targets(text: &str) -> std::result::Result<TargetSe, String> {
    let mut t = TargetSe::default();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').ok_or_else(|| {
            format!("{part:?}: expected NAME=VALUE (beta, beta_rel, b, gamma, eta)")
        })?;
        let v = finite(v.trim())?;
        if v <= 0.0 {
            return Err(format!("{part}: a target standard error must be positive"));
        }
        let slot = match k.trim() {
            "beta" => &mut t.beta,
            "beta_rel" => &mut t.beta_rel,
            "b" => &mut t.b,
            "gamma" => &mut t.gamma,
            "eta" => &mut t.eta,
            other => {
                return Err(format!(
                    "{other:?} is not a parameter: use beta, beta_rel, b, gamma or eta"
                ))
            }
        };
        if slot.replace(v).is_some() {
            return Err(format!("{} is given twice", k.trim()));
        }
    }
    if t == TargetSe::default() {
        return Err("give at least one target, e.g. beta_rel=0.002,b=1e-4".into());
    }
    Ok(t)
}

impl GoalFlags {
    /// The first design flag given, for a usage error when nothing designs.
    pub fn given(&self) -> Option<&'static str> {
        [
            (self.match_reference, "--match-reference"),
            (self.target_se.is_some(), "--target-se"),
            (self.budget_qpu_s.is_some(), "--budget-qpu-s"),
            (self.prior.is_some(), "--prior"),
            (self.noise_law.is_some(), "--noise-law"),
            (self.pooled_reference, "--pooled-reference"),
            (self.min_reads_per_call != 1, "--min-reads-per-call"),
        ]
        .into_iter()
        .find_map(|(on, f)| on.then_some(f))
    }

    pub fn goal(&self) -> Goal {
        match (self.target_se, self.budget_qpu_s) {
            (Some(t), _) => Goal::TargetSe(t),
            (_, Some(s)) => Goal::BudgetQpuS(s),
            _ => Goal::MatchReference,
        }
    }

    /// The design request for plan settings `flags`.
    pub fn request<'a>(&'a self, flags: &PlanFlags, in_flight: usize) -> Result<DesignRequest<'a>> {
        if let Some(s) = self.budget_qpu_s {
            if s <= 0.0 {
                return Err(usage(format!(
                    "--budget-qpu-s {s}: the budget must be a positive number of seconds"
                )));
            }
        }
        Ok(DesignRequest {
            goal: self.goal(),
            prior: match &self.prior {
                Some(p) => PriorSource::FitFile(p),
                None => PriorSource::FamilyDefaults,
            },
            law: self.noise_law.map(NoiseLaw::from),
            reference_pooled: self.pooled_reference,
            anneal_time_us: flags.anneal_time_us,
            flux_drift_compensation: flags.flux_drift_compensation,
            seed: flags.seed,
            gauges: !flags.no_gauges,
            candidates: CandidateSpec {
                h_max: flags.h_max,
                h_step: flags.h_step,
                max_reads_per_call: flags.reads_per_call,
                min_reads_per_call: self.min_reads_per_call,
            },
            in_flight,
            earlier: None,
        })
    }
}

/// Designs the plan for a target.
pub fn design_plan(
    goal: &GoalFlags,
    flags: &PlanFlags,
    target: &ResolvedTarget,
    in_flight: usize,
) -> Result<Designed> {
    let req = goal.request(flags, in_flight)?;
    Ok(design::design(&req, &target.target())?)
}

fn se_json(p: &PredictedSe) -> Value {
    let s = p.rms_se;
    json!({"beta": s.beta, "b": s.b, "gamma": s.gamma, "eta": s.eta})
}

fn protocol(plan: &Plan) -> String {
    let mags: std::collections::BTreeSet<u64> = plan.h.iter().map(|h| h.abs().to_bits()).collect();
    let mut sizes: Vec<u32> = plan.calls.iter().map(|c| c.reads).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let sizes = match sizes.as_slice() {
        [one] => format!("{one}"),
        [lo, .., hi] => format!("{lo} to {hi}"),
        [] => "0".into(),
    };
    format!(
        "{} h values ({} |h|) in [{}, {}], {} calls of {} reads, {} reads",
        plan.h.len(),
        mags.len(),
        plan.h.first().copied().unwrap_or(0.0),
        plan.h.last().copied().unwrap_or(0.0),
        plan.calls.len(),
        sizes,
        plan.total_reads()
    )
}

fn side_json(plan: &Plan, p: &PredictedSe) -> Value {
    json!({
        "qpu_s": plan.estimated_qpu_s,
        "se": se_json(p),
        "se_rel_beta": p.rms_rel_se_beta,
        "protocol": protocol(plan),
        "calls": plan.calls.len(),
        "reads": plan.total_reads(),
        "fit_likelihood": p.fit_likelihood,
    })
}

/// `--compare-reference --json`.
pub fn compare_json(d: &Designed) -> Value {
    let pred = d.plan.design.as_ref().map(|x| x.predicted);
    json!({
        "reference": side_json(&d.reference, &d.reference_predicted),
        "optimized": pred.map(|p| side_json(&d.plan, &p)),
        "qpu_ratio": d.plan.estimated_qpu_s / d.reference.estimated_qpu_s,
        "noise_law": d.prior.law,
        "prior": d.prior.summary.note,
        "se_are": "root mean square over the prior's qubits of the default fit's predicted standard errors",
    })
}

fn fmt(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{v:.3e}"))
}

/// The readable comparison.
pub fn compare_text(d: &Designed) -> String {
    let Some(pred) = d.plan.design.as_ref().map(|x| x.predicted) else {
        return String::new();
    };
    let r = &d.reference_predicted;
    let mut s = format!(
        "reference vs optimised plan for {} ({} qubits), noise law {}; predicted SEs are the RMS over {} prior qubits\n",
        d.plan.solver.name,
        d.plan.qubits.len(),
        d.prior.law.name(),
        d.prior.qubits.len()
    );
    s.push_str(&format!("  reference  {}\n", protocol(&d.reference)));
    s.push_str(&format!("  optimised  {}\n", protocol(&d.plan)));
    s.push_str(&format!(
        "  {:<14}{:>14}{:>14}{:>10}\n",
        "", "reference", "optimised", "ratio"
    ));
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.3}", a / b),
        _ => "-".into(),
    };
    s.push_str(&format!(
        "  {:<14}{:>14.1}{:>14.1}{:>10}\n",
        "QPU time (s)",
        d.reference.estimated_qpu_s,
        d.plan.estimated_qpu_s,
        ratio(
            Some(d.plan.estimated_qpu_s),
            Some(d.reference.estimated_qpu_s)
        )
    ));
    let rows = [
        ("SE β/β", r.rms_rel_se_beta, pred.rms_rel_se_beta),
        ("SE β (1/h)", r.rms_se.beta, pred.rms_se.beta),
        ("SE b (h)", r.rms_se.b, pred.rms_se.b),
        ("SE γ", r.rms_se.gamma, pred.rms_se.gamma),
        ("SE η (h)", r.rms_se.eta, pred.rms_se.eta),
    ];
    for (name, a, b) in rows {
        s.push_str(&format!(
            "  {:<14}{:>14}{:>14}{:>10}\n",
            name,
            fmt(a),
            fmt(b),
            ratio(b, a)
        ));
    }
    s.push_str(&format!("  prior      {}\n", d.prior.summary.note));
    s
}

/// The design lines of an optimised plan's summary.
pub fn design_text(plan: &Plan) -> String {
    let Some(d) = &plan.design else {
        return String::new();
    };
    let p = &d.predicted;
    let mut s = format!(
        "  design     {} ({:?}), noise law {}, {} prior qubits ({})\n",
        d.method,
        d.objective,
        d.noise_law.name(),
        d.prior.qubits,
        d.prior.source
    );
    s.push_str(&format!(
        "  predicted  RMS SE over the prior: β/β {}  β {}  b {}  γ {}  η {}  ({} likelihood)\n",
        fmt(p.rms_rel_se_beta),
        fmt(p.rms_se.beta),
        fmt(p.rms_se.b),
        fmt(p.rms_se.gamma),
        fmt(p.rms_se.eta),
        match p.fit_likelihood {
            qasa::collect::information::FitLikelihood::PerCall => "per-call",
            qasa::collect::information::FitLikelihood::PerRead => "per-read",
        }
    ));
    if let Some(r) = &d.reference {
        s.push_str(&format!(
            "  reference  {:.1} s, RMS SE β/β {}  b {}; this plan takes {:.1} % of its QPU time\n",
            r.estimated_qpu_s,
            fmt(r.predicted.rms_rel_se_beta),
            fmt(r.predicted.rms_se.b),
            100.0 * plan.estimated_qpu_s / r.estimated_qpu_s
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_refuse() {
        let t = parse_targets("beta=0.01, b=1e-4,beta_rel=0.002").unwrap();
        assert_eq!(
            (t.beta, t.b, t.beta_rel),
            (Some(0.01), Some(1e-4), Some(0.002))
        );
        assert!(parse_targets("beta=0").unwrap_err().contains("positive"));
        assert!(parse_targets("x=1")
            .unwrap_err()
            .contains("not a parameter"));
        assert!(parse_targets("beta").unwrap_err().contains("NAME=VALUE"));
        assert!(parse_targets("b=1,b=2").unwrap_err().contains("twice"));
        assert!(parse_targets("").unwrap_err().contains("at least one"));
    }
}
