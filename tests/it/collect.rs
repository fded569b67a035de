//! Campaigns (issue 11; issue 9 §4): `qasa plan`, `qasa simulate --plan` and `qasa collect` against
//! `qasa serve`'s server over a real socket, with its billing ledger as the account's record.
//!
//! The central invariants, checked against the ledger after every campaign: every planned call is counted
//! exactly once in the sweep (exact reads in every cell), and every call is billed exactly once, except the
//! attempts the journal records as lost by the service (FAILED problems), each billed once more.

use crate::common::shared_data;
use qasa::collect::journal::Record;
use qasa::collect::plan::Plan;
use qasa::server::{FaultConfig, Server, ServerConfig, ServerHandle, SolverSource};
use qasa::sweep::{read_sweep, Sweep, SweepSource};
use rand::{Rng, SeedableRng};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "collect-test-token-91c2";
const SMALL: &str = "chimera:2,2,4";

/// A running server with its ledger, and a work folder.
struct Env {
    server: ServerHandle,
    ledger: PathBuf,
    dir: tempfile::TempDir,
}

fn start(solver: SolverSource, seed: u64, faults: FaultConfig, solve_time_ms: u64) -> Env {
    let dir = tempfile::tempdir().expect("temp dir");
    let ledger = dir.path().join("ledger.jsonl");
    let server = Server::start(ServerConfig {
        solvers: vec![solver],
        seed,
        faults,
        solve_time_ms,
        ledger: Some(ledger.clone()),
        token: qasa::sapi::Token::new(TOKEN),
        ..ServerConfig::default()
    })
    .expect("server starts");
    Env {
        server,
        ledger,
        dir,
    }
}

/// SMALL with a QPU worker that takes `solve_ms` per problem.
fn slow(seed: u64, solve_ms: u64) -> Env {
    start(
        SolverSource::Topology(SMALL.into()),
        seed,
        FaultConfig::default(),
        solve_ms,
    )
}

fn small(faults: FaultConfig) -> Env {
    start(SolverSource::Topology(SMALL.into()), 3, faults, 0)
}

impl Env {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `qasa ARGS` in the work folder, with no Ocean configuration in sight.
    fn qasa(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_qasa"));
        c.current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path())
            .env_remove("DWAVE_CONFIG_FILE")
            .env_remove("DWAVE_PROFILE")
            .env_remove("DWAVE_API_TOKEN")
            .env_remove("DWAVE_API_ENDPOINT")
            .env_remove("DWAVE_API_SOLVER");
        c
    }

    /// `qasa collect --plan PLAN --out OUT` against this server.
    fn collect(&self, plan: &Path, out: &Path, extra: &[&str]) -> Command {
        self.collect_to(self.server.base_url(), TOKEN, plan, out, extra)
    }

    /// `qasa collect` in this folder against any endpoint, with any token.
    fn collect_to(
        &self,
        endpoint: &str,
        token: &str,
        plan: &Path,
        out: &Path,
        extra: &[&str],
    ) -> Command {
        let mut c = self.qasa();
        c.arg("collect")
            .arg("--plan")
            .arg(plan)
            .arg("--out")
            .arg(out)
            .args(["--endpoint", endpoint, "--token", token, "--quiet"])
            .args(extra);
        c
    }

    fn ledger(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.ledger)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("ledger line is JSON"))
            .collect()
    }
}

fn run(mut c: Command) -> Output {
    c.output().expect("qasa runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(c: Command) -> Output {
    let o = run(c);
    assert!(o.status.success(), "qasa failed: {}", stderr(&o));
    o
}

/// `qasa plan --topology SMALL ARGS -o NAME`, read back.
fn make_plan(env: &Env, name: &str, args: &[&str]) -> (PathBuf, Plan) {
    let p = env.path(name);
    let mut c = env.qasa();
    c.args(["plan", "--topology", SMALL])
        .args(args)
        .arg("-o")
        .arg(&p);
    ok(c);
    let plan = Plan::read(&p).expect("plan reads back");
    (p, plan)
}

/// A plan on SMALL with h from -h_max to h_max in steps of 0.1.
fn grid_plan(
    env: &Env,
    name: &str,
    h_max: &str,
    reads: &str,
    per_call: &str,
    extra: &[&str],
) -> (PathBuf, Plan) {
    let mut args = vec!["--h-max", h_max, "--h-step", "0.1", "--reads", reads];
    args.extend(["--reads-per-call", per_call]);
    args.extend(extra);
    make_plan(env, name, &args)
}

fn journal_records(out: &Path) -> Vec<Record> {
    let j = qasa::collect::Journal::path_for(out);
    std::fs::read_to_string(j)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| serde_json::from_value(v["r"].clone()).ok())
        .collect()
}

/// (submissions found by label after a lost reply, submissions that never arrived) in a journal.
fn reconciliations(out: &Path) -> (usize, usize) {
    let recs = journal_records(out);
    let found = recs
        .iter()
        .filter(|r| {
            matches!(
                r,
                Record::Submitted {
                    reconciled: true,
                    ..
                }
            )
        })
        .count();
    let absent = recs
        .iter()
        .filter(|r| matches!(r, Record::Lost { billed: false, .. }))
        .count();
    (found, absent)
}

/// The call index in a label `qasa-<plan>-<campaign>-call<call>-try<attempt>`.
fn call_of(label: &str) -> Option<usize> {
    let rest = label.split("-call").nth(1)?;
    rest.split("-try").next()?.parse().ok()
}

/// SHA-256 of the `lin` a call sends: the plan's fields in the solver's qubit order.
fn lin_sha(plan: &Plan, call: usize, record_qubits: &[u32]) -> String {
    let fields = plan.call_fields(&plan.calls[call]);
    let bytes: Vec<u8> = record_qubits
        .iter()
        .flat_map(|q| {
            let col = plan.qubits.binary_search(q).expect("planned qubit");
            fields[col].to_le_bytes()
        })
        .collect();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The invariants: exact reads per cell, every call billed once plus the billed losses the journal lists,
/// each billed attempt with the planned fields (gauges applied client-side).
fn check_invariants(env: &Env, plan: &Plan, out: &Path, record_qubits: &[u32]) -> Sweep {
    let sweep = read_sweep(out).expect("the sweep validates");
    assert_eq!(sweep.h, plan.h);
    assert_eq!(sweep.qubits, plan.qubits);
    let per_h = plan.reads_per_h(0);
    for (ih, &want) in per_h.iter().enumerate() {
        for iq in 0..sweep.qubits.len() {
            assert_eq!(
                u64::from(sweep.counts.get(ih, iq).1),
                want,
                "reads at h index {ih}, column {iq}"
            );
        }
    }
    let mut billed_lost: HashMap<usize, usize> = HashMap::new();
    for r in journal_records(out) {
        if let Record::Lost {
            call, billed: true, ..
        } = r
        {
            *billed_lost.entry(call).or_default() += 1;
        }
    }
    let mut billed: HashMap<usize, usize> = HashMap::new();
    let ledger = env.ledger();
    for line in &ledger {
        let label = line["label"].as_str().expect("every problem is labelled");
        let call = call_of(label).expect("a qasa label");
        assert!(
            label.starts_with(&format!("qasa-{}-", &plan.sha256[..8])),
            "{label}"
        );
        *billed.entry(call).or_default() += 1;
        assert_eq!(
            line["lin_sha256"].as_str(),
            Some(lin_sha(plan, call, record_qubits).as_str()),
            "call {call} was programmed as planned"
        );
        assert_eq!(line["num_reads"], plan.calls[call].reads);
    }
    for call in 0..plan.calls.len() {
        assert_eq!(
            billed.get(&call).copied().unwrap_or(0),
            1 + billed_lost.get(&call).copied().unwrap_or(0),
            "call {call}: billed attempts vs 1 + losses the journal logs"
        );
    }
    let campaign = sweep.meta.campaign.clone().expect("campaign metadata");
    assert_eq!(campaign.plan_sha256, plan.sha256);
    assert_eq!(campaign.calls, plan.calls.len() as u64);
    sweep
}

fn qubit_order(spec: &str) -> Vec<u32> {
    qasa::server::synthetic_record(spec)
        .expect("spec")
        .qubits()
        .to_vec()
}

#[test]
fn grids_are_exact_and_h_max_is_never_exceeded() {
    let env = small(FaultConfig::default());
    let out = env.path("g.sweep.json");
    let mut c = env.qasa();
    c.args([
        "simulate",
        "--topology",
        SMALL,
        "--reads",
        "20",
        "--reads-per-call",
        "10",
        "-q",
    ])
    .arg("-o")
    .arg(&out);
    ok(c);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("-0.975,"), "exact grid");
    assert!(!text.contains("0000000"), "no binary noise in the grid");
    let (_, plan) = make_plan(
        &env,
        "p.json",
        &["--h-step", "0.4", "--h-max", "1", "--reads", "20"],
    );
    assert_eq!(plan.h, vec![-0.8, -0.4, 0.0, 0.4, 0.8]);
    let (_, plan) = make_plan(
        &env,
        "v.json",
        &["--h-values", "-0.3,0,0.3", "--reads", "20"],
    );
    assert_eq!(plan.h, vec![-0.3, 0.0, 0.3]);
    let mut c = env.qasa();
    c.args(["plan", "--topology", SMALL, "--h-values", "0.1,0.3,-0.1"]);
    let o = run(c);
    assert_eq!(
        o.status.code(),
        Some(2),
        "a plan the flags cannot make is a usage error"
    );
    assert!(
        stderr(&o).contains("0.3 is listed but -0.3 is not"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn solver_limits_hold_in_plan_and_simulate() {
    let env = small(FaultConfig::default());
    let dw = shared_data().join("solvers/DW_2000Q_5.solver.json.gz");
    let cases: [(&[&str], &str); 5] = [
        (
            &["--h-max", "3"],
            "error: --h-max 3: h = 3 is outside the h_range [-2, 2] of DW_2000Q_5 (auto_scale is off, so h is sent as is); the largest |h| that fits is 2",
        ),
        (
            &["--anneal-time-us", "5000"],
            "error: --anneal-time-us 5000: an anneal time of 5000 µs is outside the annealing_time_range [1, 2000] µs of DW_2000Q_5; the largest value that fits is 2000",
        ),
        (
            &["--blocks", "1000"],
            "error: --blocks 1000: 1000 blocks asked for, but each h value has only 10 calls (100000 reads in calls of at most 10000); use 10 blocks or fewer, or smaller calls",
        ),
        (
            &["--reads-per-call", "20000", "--reads", "40000"],
            "num_reads_range [1, 10000] of DW_2000Q_5; the largest value that fits is 10000",
        ),
        (
            &["--anneal-time-us", "2000", "--reads", "20000"],
            "over the problem_run_duration_range limit of 1000000 µs of DW_2000Q_5; the largest number of reads per call that fits is 499",
        ),
    ];
    for cmd in ["plan", "simulate"] {
        for (args, want) in cases {
            let out = env.path("x.sweep.json");
            let mut c = env.qasa();
            c.arg(cmd).arg("--solver-file").arg(&dw).args(args);
            if cmd == "simulate" {
                c.arg("-o").arg(&out);
            }
            let o = run(c);
            assert_eq!(o.status.code(), Some(2), "{cmd} {args:?}: a usage error");
            let e = stderr(&o);
            assert!(e.contains(want), "{cmd} {args:?}: {e}");
            assert_eq!(e.lines().count(), 1, "{e}");
            assert!(!out.exists());
        }
    }
}

#[test]
fn plan_file_states_cost_and_precision() {
    let env = small(FaultConfig::default());
    let (p, plan) = grid_plan(&env, "p.json", "0.5", "400", "100", &[]);
    let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    qasa::schema::validate(qasa::schema::PLAN, &v).expect("schema");
    assert_eq!(plan.calls.len(), 11 * 4);
    let est: f64 = plan.calls.iter().map(|c| c.estimated_qpu_us).sum::<f64>() * 1e-6;
    assert!((v["estimated_qpu_s"].as_f64().unwrap() - est).abs() < 1e-12);
    assert_eq!(v["estimate"]["timing_model"], "problem_timing_data");
    assert_eq!(v["parameters"]["auto_scale"], false);
    assert_eq!(v["parameters"]["flux_drift_compensation"], false);
    assert!(v["parameters"]
        .get("num_spin_reversal_transforms")
        .is_none());
    let p = plan.precision.as_ref().unwrap();
    let (b, d) = (p.se_binomial, p.se_per_call_noise);
    // The calls' shared noise costs information about b; about β and η the per-call likelihood can know
    // more than binomial counts (each long call shows which noise branch it drew), so only b is ordered.
    assert!(d.b.unwrap() >= b.b.unwrap(), "{d:?} vs {b:?}");
    assert!(
        d.to_array()
            .iter()
            .all(|x| x.is_some_and(|v| v.is_finite() && v > 0.0)),
        "{d:?}"
    );
    assert_eq!(v["precision"]["fit_likelihood"], "per_call");
    // Each gauge is used once plain and once flipped at +h and at -h: every qubit sees ±h equally often.
    for col in 0..plan.qubits.len() {
        assert_eq!(plan.reads_per_h(col), vec![400; 11]);
    }
    // The readable summary names calls, reads, grid, QPU and wall time, and the SEs.
    let mut c = env.qasa();
    c.args([
        "plan",
        "--topology",
        SMALL,
        "--reads",
        "400",
        "--reads-per-call",
        "100",
    ]);
    let text = String::from_utf8(ok(c).stdout).unwrap();
    for part in [
        "calls",
        "reads",
        "h grid",
        "QPU time",
        "wall time",
        "expected SE",
        "binomial (reads taken as independent",
    ] {
        assert!(text.contains(part), "{part}: {text}");
    }
    // An edited plan is refused.
    let edited = std::fs::read_to_string(env.path("p.json"))
        .unwrap()
        .replacen("\"reads\": 100", "\"reads\": 101", 1);
    std::fs::write(env.path("e.json"), edited).unwrap();
    let e = Plan::read(&env.path("e.json")).unwrap_err().to_string();
    assert!(e.contains("sha256 does not match"), "{e}");
}

#[test]
fn small_graph_end_to_end() {
    let env = small(FaultConfig::default());
    let (p, plan) = grid_plan(&env, "p.json", "0.3", "400", "100", &[]);
    let out = env.path("run.sweep.json");
    let o = ok(env.collect(&p, &out, &["--json", "--pairs"]));
    let summary: Value = serde_json::from_slice(&o.stdout).unwrap();
    let sweep = check_invariants(&env, &plan, &out, &qubit_order(SMALL));
    assert_eq!(sweep.meta.source, SweepSource::Collected);
    assert_eq!(sweep.meta.gauges, Some(true));
    assert_eq!(sweep.meta.parameters["auto_scale"], false);
    assert!(sweep.meta.started_at.is_some() && sweep.meta.finished_at.is_some());
    assert_eq!(sweep.blocks.len(), 4, "one block per call of an h value");
    let pairs = sweep.pairs.as_ref().expect("--pairs");
    assert_eq!(pairs.couplers.len(), plan.couplers.len());
    assert!(pairs.reads.iter().any(|&r| r > 0));
    // The QPU time charged is what the ledger billed.
    let billed: f64 = env
        .ledger()
        .iter()
        .map(|l| l["qpu_access_time_us"].as_f64().unwrap())
        .sum();
    let charged = sweep.meta.campaign.as_ref().unwrap().charged_qpu_s.unwrap();
    assert!(
        (charged - billed * 1e-6).abs() < 1e-9,
        "{charged} vs {billed}"
    );
    assert_eq!(summary["charged_qpu_s"].as_f64().unwrap(), charged);
    // A finished sweep is never overwritten; a rerun with --resume just rewrites the same sweep.
    let o = run(env.collect(&p, &out, &[]));
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("never overwritten"), "{}", stderr(&o));
    ok(env.collect(&p, &out, &["--resume", "--pairs"]));
    assert_eq!(env.ledger().len(), plan.calls.len(), "nothing billed again");
    // The fit runs on the collected sweep.
    let mut c = env.qasa();
    c.args(["fit", "run.sweep.json", "-q", "-o", "fit.json"]);
    ok(c);
}

#[test]
fn full_advantage_record_end_to_end() {
    let rec = shared_data().join("solvers/Advantage_system4_1.solver.json.gz");
    let env = start(
        SolverSource::File(rec.clone()),
        5,
        FaultConfig::default(),
        0,
    );
    let p = env.path("p.json");
    let mut c = env.qasa();
    c.args(["plan", "--solver-file"])
        .arg(&rec)
        .args([
            "--h-max",
            "0.1",
            "--h-step",
            "0.1",
            "--reads",
            "20",
            "--reads-per-call",
            "10",
            "-o",
        ])
        .arg(&p);
    ok(c);
    let plan = Plan::read(&p).unwrap();
    assert_eq!(plan.qubits.len(), 5627);
    assert_eq!(plan.solver.name, "Advantage_system4.1");
    let out = env.path("adv.sweep.json.gz");
    ok(env.collect(&p, &out, &["--in-flight", "3"]));
    let defs = qasa::server::SolverDefinition::from_file(&rec).unwrap();
    let sweep = check_invariants(&env, &plan, &out, defs[0].qubits());
    assert_eq!(sweep.qubits.len(), 5627);
    assert_eq!(sweep.meta.solver.as_deref(), Some("Advantage_system4.1"));
}

#[test]
fn simulate_plan_and_collect_plan_run_the_same_calls() {
    // Per-read noise on both sides, so that the counts of two runs differ binomially.
    let dir = tempfile::tempdir().expect("temp dir");
    let ledger = dir.path().join("ledger.jsonl");
    let server = Server::start(ServerConfig {
        solvers: vec![SolverSource::Topology(SMALL.into())],
        ledger: Some(ledger.clone()),
        token: qasa::sapi::Token::new(TOKEN),
        device: qasa::device::DeviceConfig {
            noise: qasa::device::NoiseModel::Read,
            ..Default::default()
        },
        ..ServerConfig::default()
    })
    .expect("server starts");
    let env = Env {
        server,
        ledger,
        dir,
    };
    let (p, plan) = grid_plan(&env, "p.json", "0.2", "2000", "500", &["--seed", "7"]);
    let collected = env.path("c.sweep.json");
    ok(env.collect(&p, &collected, &[]));
    let simulated = env.path("s.sweep.json");
    let mut c = env.qasa();
    c.args(["simulate", "--plan"])
        .arg(&p)
        .args(["--seed", "1", "--noise", "read", "-q", "-o"])
        .arg(&simulated);
    ok(c);
    let (a, b) = (
        read_sweep(&collected).unwrap(),
        read_sweep(&simulated).unwrap(),
    );
    assert_eq!(a.h, b.h);
    assert_eq!(a.qubits, b.qubits);
    assert_eq!(a.counts.reads, b.counts.reads);
    assert_eq!(a.blocks.len(), b.blocks.len());
    for (x, y) in a.blocks.iter().zip(&b.blocks) {
        assert_eq!(x.reads, y.reads, "same calls in every block");
    }
    assert_eq!(a.meta.parameters, b.meta.parameters);
    assert_eq!(a.meta.gauges, b.meta.gauges);
    let (ca, cb) = (a.meta.campaign.unwrap(), b.meta.campaign.unwrap());
    assert_eq!((ca.plan_sha256, ca.calls), (cb.plan_sha256, cb.calls));
    // The server's device (DeviceConfig::default(), seed 1) and simulate --seed 1 are the same chip: counts agree within noise.
    let mut worst: f64 = 0.0;
    for i in 0..a.counts.down.len() {
        let n = f64::from(a.counts.reads[i]);
        let (pa, pb) = (
            f64::from(a.counts.down[i]) / n,
            f64::from(b.counts.down[i]) / n,
        );
        let sd = ((pa * (1.0 - pa) + pb * (1.0 - pb)) / n)
            .sqrt()
            .max(1.0 / n);
        worst = worst.max((pa - pb).abs() / sd);
    }
    assert!(
        worst < 6.0,
        "collected and simulated counts differ by {worst} SD"
    );
    // Every collected call programmed the plan's gauges.
    check_invariants(&env, &plan, &collected, &qubit_order(SMALL));
}

#[test]
fn kill_nine_at_random_moments_then_resume() {
    // 120 calls; the QPU worker takes 25 ms per problem, so a campaign lasts over 3 s.
    let env = slow(11, 25);
    let (p, plan) = grid_plan(&env, "p.json", "0.2", "480", "20", &[]);
    assert_eq!(plan.calls.len(), 120);
    let out = env.path("k.sweep.json");
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(2024);
    let (mut kills, mut runs) = (0, 0);
    while kills < 10 {
        runs += 1;
        assert!(runs < 60, "could not kill a running collect 10 times");
        let mut c = env.collect(&p, &out, &["--in-flight", "4", "--resume"]);
        let mut child = c
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.random_range(30..400)));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        let _ = child.wait();
        if out.exists() {
            break;
        }
    }
    ok(env.collect(&p, &out, &["--in-flight", "4", "--resume"]));
    let sweep = check_invariants(&env, &plan, &out, &qubit_order(SMALL));
    let billed = env.ledger().len();
    let billed_reads: u64 = env
        .ledger()
        .iter()
        .map(|l| l["num_reads"].as_u64().unwrap())
        .sum();
    let lost = sweep.meta.campaign.unwrap().resubmitted_calls as usize;
    let (found, absent) = reconciliations(&out);
    eprintln!(
        "kill -9: {kills} kills in {} runs (each a --resume of the last), then one final resume; {billed} problems billed for {} planned calls ({lost} lost by the service), {billed_reads} reads billed for {} planned; after kills {found} submissions found by label, {absent} never arrived and were resubmitted",
        runs,
        plan.calls.len(),
        plan.total_reads()
    );
    assert_eq!(billed_reads, plan.total_reads());
    assert!(
        kills >= 10,
        "only {kills} kills before the campaign finished"
    );
    assert_eq!(billed, plan.calls.len(), "no call billed twice");
}

#[test]
fn fault_injection_campaign_completes_exactly() {
    let faults = FaultConfig {
        fail_rate: 0.12,
        fail_statuses: vec![429, 500, 502, 503],
        retry_after_s: 0,
        drop_rate: 0.08,
        problem_fail_rate: 0.08,
        ..FaultConfig::default()
    };
    let env = start(SolverSource::Topology(SMALL.into()), 21, faults, 0);
    let (p, plan) = grid_plan(&env, "p.json", "0.2", "240", "20", &[]);
    let out = env.path("f.sweep.json");
    let t = Instant::now();
    ok(env.collect(&p, &out, &["--in-flight", "6"]));
    let sweep = check_invariants(&env, &plan, &out, &qubit_order(SMALL));
    let stats = env.server.stats();
    let lost = sweep.meta.campaign.unwrap().resubmitted_calls;
    let (found, absent) = reconciliations(&out);
    eprintln!(
        "faults: {} requests, {} injected errors, {} dropped replies, {} FAILED problems; {} billed for {} calls ({lost} resubmitted after FAILED); {found} lost replies reconciled by label, {absent} submissions that never arrived resent; {:.1} s",
        stats.requests,
        stats.injected_failures,
        stats.dropped_replies,
        stats.problems_failed,
        env.ledger().len(),
        plan.calls.len(),
        t.elapsed().as_secs_f64()
    );
    assert!(stats.injected_failures > 0 && stats.dropped_replies > 0 && stats.problems_failed > 0);
    assert_eq!(
        lost, stats.problems_failed,
        "every FAILED problem was resubmitted once"
    );
}

#[test]
fn wrong_token_fails_at_once_and_leaves_the_journal_alone() {
    let env = small(FaultConfig::default());
    let (p, _) = grid_plan(&env, "p.json", "0.1", "40", "20", &[]);
    let out = env.path("t.sweep.json");
    let base = env.server.base_url();
    let c = env.collect_to(base, "not-the-token", &p, &out, &[]);
    let t = Instant::now();
    let o = run(c);
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.starts_with("error: fetching solver Virtual_chimera_2_2_4 from SAPI: authentication failed: check the SAPI token"), "{e}");
    assert!(!e.contains("not-the-token"), "the token is never printed");
    assert!(!qasa::collect::Journal::path_for(&out).exists());
    // With a journal in place, a wrong token on resume leaves it byte for byte.
    ok(env.collect(&p, &out, &[]));
    let j = qasa::collect::Journal::path_for(&out);
    let before = std::fs::read(&j).unwrap();
    std::fs::remove_file(&out).unwrap();
    let c = env.collect_to(base, "not-the-token", &p, &out, &["--resume"]);
    assert_eq!(run(c).status.code(), Some(1));
    assert_eq!(std::fs::read(&j).unwrap(), before);
}

#[test]
fn solver_going_offline_stops_with_a_resumable_journal() {
    let faults = FaultConfig {
        offline_after: Some(9),
        ..FaultConfig::default()
    };
    let a = start(SolverSource::Topology(SMALL.into()), 31, faults, 0);
    let (p, plan) = grid_plan(&a, "p.json", "0.2", "160", "20", &[]);
    let out = a.path("o.sweep.json");
    let o = run(a.collect(&p, &out, &["--in-flight", "2"]));
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("the solver Virtual_chimera_2_2_4 is offline"),
        "{e}"
    );
    assert!(e.contains("resume with `qasa collect"), "{e}");
    assert!(
        e.contains("--token <TOKEN>") && !e.contains(TOKEN),
        "the token is never printed: {e}"
    );
    assert!(!out.exists());
    // Back online (another server, another seed for its problem ids): the resume finishes the campaign.
    let b = slow(32, 0);
    let c = a.collect_to(
        b.server.base_url(),
        TOKEN,
        &p,
        &out,
        &["--resume", "--in-flight", "2"],
    );
    ok(c);
    let billed = a.ledger().len() + b.ledger().len();
    assert_eq!(a.ledger().len(), 9);
    assert_eq!(
        billed,
        plan.calls.len(),
        "each call billed once across both servers"
    );
    let sweep = read_sweep(&out).unwrap();
    assert!(sweep
        .counts
        .reads
        .iter()
        .all(|&r| u64::from(r) == plan.reads_per_h(0)[0]));
}

#[test]
fn journals_of_other_plans_and_damaged_journals_are_refused() {
    let env = small(FaultConfig::default());
    let (p, _) = grid_plan(&env, "p.json", "0.1", "40", "20", &[]);
    let (q, _) = grid_plan(&env, "q.json", "0.1", "40", "20", &["--seed", "2"]);
    let out = env.path("j.sweep.json");
    ok(env.collect(&p, &out, &[]));
    std::fs::remove_file(&out).unwrap();
    let j = qasa::collect::Journal::path_for(&out);
    let before = std::fs::read(&j).unwrap();
    // Without --resume an existing journal is not touched.
    let o = run(env.collect(&p, &out, &[]));
    assert!(
        stderr(&o).contains("add --resume to continue it"),
        "{}",
        stderr(&o)
    );
    // Another plan's journal.
    let o = run(env.collect(&q, &out, &["--resume"]));
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.starts_with("error: journal ") && e.contains("belongs to another plan"),
        "{e}"
    );
    assert_eq!(std::fs::read(&j).unwrap(), before);
    // A damaged record in the middle.
    let text = String::from_utf8(before.clone()).unwrap();
    let damaged = text.replacen("\"submitted\"", "\"submitten\"", 1);
    std::fs::write(&j, &damaged).unwrap();
    let o = run(env.collect(&p, &out, &["--resume"]));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("the journal is damaged"),
        "{}",
        stderr(&o)
    );
    // A truncated last line (a kill in mid-write) is dropped and the campaign resumes.
    std::fs::write(&j, format!("{text}{{\"r\":{{\"type\":\"sub")).unwrap();
    ok(env.collect(&p, &out, &["--resume"]));
    assert!(out.exists());
}

#[test]
fn budgets_refuse_plans_and_stop_before_passing() {
    let env = small(FaultConfig::default());
    let (p, plan) = grid_plan(&env, "p.json", "0.2", "80", "20", &[]);
    let out = env.path("b.sweep.json");
    let o = run(env.collect(&p, &out, &["--max-qpu-s", "0.1"]));
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.starts_with(&format!("error: the plan needs an estimated {:.3} s of QPU access time, over the budget --max-qpu-s 0.1", plan.estimated_qpu_s)), "{e}");
    assert!(!qasa::collect::Journal::path_for(&out).exists());
    assert!(env.ledger().is_empty());
    // The runner never submits a call that would pass its budget (library: a budget below the estimate).
    let client = qasa::sapi::SapiClient::new(
        env.server.base_url(),
        qasa::sapi::Token::new(TOKEN).unwrap(),
        Default::default(),
    )
    .unwrap();
    let solver = client.get_solver(&plan.solver.name).unwrap();
    let budget = plan.estimated_qpu_s / 2.0;
    let opts = qasa::collect::CollectOptions {
        max_qpu_s: Some(budget),
        in_flight: 3,
        ..Default::default()
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let e =
        qasa::collect::collect(&client, &solver, &plan, &out, &opts, stop, &|_| {}).unwrap_err();
    assert!(
        matches!(e, qasa::collect::CollectError::Budget { .. }),
        "{e}"
    );
    let billed: f64 = env
        .ledger()
        .iter()
        .map(|l| l["qpu_access_time_us"].as_f64().unwrap())
        .sum();
    assert!(
        billed * 1e-6 <= budget + 1e-9,
        "{billed} µs billed, budget {budget} s"
    );
    assert!(!env.ledger().is_empty());
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_submitting_and_prints_the_resume_command() {
    let env = slow(41, 20);
    let (p, plan) = grid_plan(&env, "p.json", "0.2", "240", "20", &[]);
    let out = env.path("c.sweep.json");
    let child = env
        .collect(&p, &out, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once a few calls are journaled as done.
    let t = Instant::now();
    while journal_records(&out)
        .iter()
        .filter(|r| matches!(r, Record::Done { .. }))
        .count()
        < 3
    {
        assert!(t.elapsed() < Duration::from_secs(30), "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: sends SIGINT to our own child.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("interrupted:"), "{e}");
    assert!(e.contains("resume with `qasa collect --plan"), "{e}");
    assert!(!out.exists());
    let billed_at_stop = env.ledger().len();
    assert!(billed_at_stop < plan.calls.len());
    ok(env.collect(&p, &out, &["--resume"]));
    check_invariants(&env, &plan, &out, &qubit_order(SMALL));
}

#[test]
fn plan_and_collect_fetch_the_solver_from_sapi() {
    let env = small(FaultConfig::default());
    let name = env.server.solver_names().remove(0);
    let sapi = ["--endpoint", env.server.base_url(), "--token", TOKEN];
    let grid = ["--h-max", "0.1", "--h-step", "0.1", "--reads", "40"];
    let mut c = env.qasa();
    c.args([
        "plan",
        "--solver",
        &name,
        "--reads-per-call",
        "20",
        "-o",
        "p.json",
    ])
    .args(grid)
    .args(sapi);
    ok(c);
    let plan = Plan::read(&env.path("p.json")).unwrap();
    assert_eq!(plan.solver.source, qasa::collect::SolverSource::Sapi);
    assert!(plan.solver.graph_id.is_some());
    // collect with the plan flags instead of --plan makes the same plan (same sha256: same calls).
    let out = env.path("s.sweep.json");
    let mut c = env.qasa();
    c.args([
        "collect",
        "--solver",
        &name,
        "--reads-per-call",
        "20",
        "-q",
        "--json",
        "-o",
    ])
    .arg(&out)
    .args(grid)
    .args(sapi);
    let o = ok(c);
    let summary: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["plan_sha256"], plan.sha256.as_str());
    check_invariants(&env, &plan, &out, &qubit_order(SMALL));
}

/// Any design of calls (what an optimiser will produce) is sealed against the limits and run as planned,
/// balanced or not: every qubit gets exactly the reads its calls give it at each physical h.
#[test]
fn designed_plans_are_sealed_and_run_as_designed() {
    use qasa::collect::{run_virtual, PlanSpec, SolverLimits, Target, VirtualOptions};
    let def = qasa::server::synthetic_record(SMALL).unwrap();
    let graph = qasa::topology::WorkingGraph::perfect(SMALL.parse().unwrap());
    let limits = SolverLimits::from_record(&def.record);
    let target = Target {
        solver: def.name().to_string(),
        graph_id: None,
        source: qasa::collect::SolverSource::Topology,
        graph: &graph,
        limits: &limits,
    };
    let spec = PlanSpec {
        h_max: 0.2,
        h_step: 0.1,
        reads: 400,
        reads_per_call: 100,
        blocks: 4,
        ..PlanSpec::default()
    };
    let built = Plan::build(&spec, &target, 4).unwrap();
    // More reads at ±0.1 (both partners alike), and one call at -0.2 dropped (no longer balanced).
    let mut plan = built.clone();
    for c in &mut plan.calls {
        if c.h.abs() == 0.1 {
            c.reads = 250;
        }
    }
    let dropped = plan.calls.iter().position(|c| c.h == -0.2).unwrap();
    plan.calls.remove(dropped);
    plan.seal(&limits, 4).unwrap();
    assert_ne!(plan.sha256, built.sha256);
    assert!(plan.estimated_qpu_s > built.estimated_qpu_s);
    let qpu = qasa::device::VirtualQpu::new(graph.clone(), &Default::default());
    let sweep = run_virtual(&qpu, &plan, &VirtualOptions::default(), &|_| {}).unwrap();
    for col in 0..plan.qubits.len() {
        let want = plan.reads_per_h(col);
        let got: Vec<u64> = sweep
            .counts
            .qubit_column(col)
            .map(|(_, r)| u64::from(r))
            .collect();
        assert_eq!(got, want, "column {col}");
    }
    // A designed call beyond the solver's num_reads_range is refused when sealed.
    plan.calls[0].reads = 20_000;
    let e = plan.seal(&limits, 4).unwrap_err().to_string();
    assert!(e.contains("num_reads_range [1, 10000]"), "{e}");
}
