//! End to end: qasa's SAPI client (`qasa::sapi`) against qasa's SAPI server (`qasa::server`) over a real
//! socket (port 0), with every injected fault of `server::faults` (docs/sapi-protocol.md §3, §8, §10).
//!
//! Each fault test asserts what the client observes AND what the server billed (ledger lines, stats), so
//! the central property is checked directly: a submission is accepted at most once — retried only when the
//! server refused it before acceptance (429/503, connect error), reported as `SubmitUncertain` otherwise and
//! then reconciled with `list_problems` by label.
//!
//! Request faults are a pure function of (server seed, request index); [`seed_for`] picks, from a fixed
//! search order, the first seed whose first requests get exactly the faults a test needs, so every test is
//! deterministic and states its fault sequence explicitly.

use crate::common::shared_data;

use qasa::sapi::problem::{ProblemState, ProblemStatus, SubmitItem};
use qasa::sapi::qp::decode_answer;
use qasa::sapi::{
    ClientOptions, ErrorKind, IsingJob, RetryPolicy, SapiClient, SapiError, SolverRecord, Token,
};
use qasa::server::faults::RequestFault;
use qasa::server::{FaultConfig, Server, ServerConfig, ServerHandle, SolverSource};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

const TOKEN: &str = "e2e-server-token-7f3a";
const SMALL: &str = "chimera:2,2,4";

/// A running server with its ledger file (kept alive by the temp dir).
struct Env {
    server: ServerHandle,
    ledger: PathBuf,
    _dir: tempfile::TempDir,
}

impl Env {
    fn start(config: ServerConfig) -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        let ledger = dir.path().join("ledger.jsonl");
        let server = Server::start(ServerConfig {
            ledger: Some(ledger.clone()),
            token: Token::new(TOKEN),
            ..config
        })
        .expect("server starts");
        Env {
            server,
            ledger,
            _dir: dir,
        }
    }

    /// A small server (chimera:2,2,4) with these faults.
    fn small(seed: u64, faults: FaultConfig) -> Env {
        Env::start(ServerConfig {
            solvers: vec![SolverSource::Topology(SMALL.into())],
            seed,
            faults,
            ..ServerConfig::default()
        })
    }

    fn client(&self) -> SapiClient {
        self.client_with(opts())
    }

    fn client_with(&self, o: ClientOptions) -> SapiClient {
        SapiClient::new(self.server.base_url(), Token::new(TOKEN).expect("token"), o)
            .expect("client")
    }

    fn solver_name(&self) -> String {
        self.server
            .solver_names()
            .into_iter()
            .next()
            .expect("one solver")
    }

    /// The ledger lines: what the account would be billed for.
    fn ledger(&self) -> Vec<Value> {
        ledger_lines(&self.ledger)
    }
}

fn ledger_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("ledger line is JSON"))
        .collect()
}

fn labels_billed(lines: &[Value], label: &str) -> usize {
    lines.iter().filter(|l| l["label"] == label).count()
}

/// Fast retries (Retry-After is capped by `max_delay`), short long polls.
fn opts() -> ClientOptions {
    ClientOptions {
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(10),
        long_poll_wait_s: 5,
        long_poll_margin: Duration::from_secs(5),
        retry: RetryPolicy {
            max_retries: 10,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(20),
        },
        ..ClientOptions::default()
    }
}

/// The first seed (searching 0, 1, 2, …) whose first requests get exactly `pattern`.
fn seed_for(f: &FaultConfig, pattern: &[RequestFault]) -> u64 {
    (0..2_000_000u64)
        .find(|&s| {
            pattern
                .iter()
                .enumerate()
                .all(|(n, want)| f.request_fault(s, n as u64) == *want)
        })
        .unwrap_or_else(|| panic!("no seed gives the fault pattern {pattern:?}"))
}

const OK: RequestFault = RequestFault::None;
const DROP: RequestFault = RequestFault::Drop;

fn params(num_reads: u32) -> Map<String, Value> {
    let mut p = Map::new();
    p.insert("num_reads".into(), json!(num_reads));
    p
}

/// h = `value` on every working qubit.
fn uniform_h(s: &SolverRecord, value: f64) -> BTreeMap<u32, f64> {
    s.qubits().iter().map(|&q| (q, value)).collect()
}

fn no_j() -> BTreeMap<(u32, u32), f64> {
    BTreeMap::new()
}

fn submit(
    c: &SapiClient,
    s: &SolverRecord,
    h: &BTreeMap<u32, f64>,
    label: &str,
) -> Result<ProblemStatus, SapiError> {
    c.submit_ising(s, h, &no_j(), &params(20), Some(label))
}

/// Submit with reconciliation: on `SubmitUncertain`, look the label up; resubmit only when SAPI has no
/// problem with it. Returns the problem status and how many uncertain submissions happened.
fn submit_reconciled(
    c: &SapiClient,
    s: &SolverRecord,
    h: &BTreeMap<u32, f64>,
    label: &str,
) -> (ProblemStatus, usize) {
    let mut uncertain = 0;
    loop {
        match submit(c, s, h, label) {
            Ok(st) => return (st, uncertain),
            Err(e) if e.kind == ErrorKind::SubmitUncertain => {
                uncertain += 1;
                assert!(e.may_have_submitted());
                let found = c.list_problems(Some(label), None).expect("list by label");
                assert!(found.len() <= 1, "label {label} billed twice: {found:?}");
                if let Some(st) = found.into_iter().next() {
                    return (st, uncertain);
                }
            }
            Err(e) => panic!("submit {label}: {e}"),
        }
        assert!(uncertain < 20, "submission never got through");
    }
}

// ------------------------------------------------------------------------------------------ happy path

#[test]
fn happy_path_counts_agree_with_the_decoded_answer() {
    let env = Env::start(ServerConfig {
        solvers: vec![SolverSource::File(
            shared_data().join("solvers/DW_2000Q_5.solver.json.gz"),
        )],
        seed: 5,
        // Answer the submission PENDING at once: the client must long-poll for the result.
        submit_wait_ms: 0,
        ..ServerConfig::default()
    });
    let c = env.client();
    let name = env.solver_name();
    let listed = c.list_solvers().expect("list solvers");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, name);
    assert_eq!(listed[0].status.as_deref(), Some("ONLINE"));
    let s = c.get_solver(&name).expect("get solver");
    assert_eq!(s, listed[0]);
    assert!(
        s.qubits().len() > 2000 && s.qubits().len() < 2048,
        "broken qubits"
    );

    let h = uniform_h(&s, 1.0);
    let j = no_j();
    let p = params(200);
    let pair_couplers: Vec<(u32, u32)> = s.couplers().iter().step_by(97).copied().take(8).collect();
    let job = IsingJob {
        solver: &s,
        h: &h,
        j: &j,
        params: &p,
        label: Some("e2e-happy"),
    };
    let (id, counts) = c
        .sample_ising_counts(&job, Some(&pair_couplers), Some(Duration::from_secs(30)))
        .expect("sample");

    // The same answer, decoded to spins and counted by hand.
    let a = decode_answer(&c.get_answer(&id).expect("answer")).expect("decodes");
    let st = c.get_problem(&id).expect("problem");
    assert_eq!(st.state, ProblemState::Completed);
    assert_eq!(st.label.as_deref(), Some("e2e-happy"));
    assert_eq!(a.active_variables, s.qubits(), "h on every working qubit");
    assert_eq!(counts.qubits, a.active_variables);
    assert_eq!(a.total_reads(), 200);
    assert_eq!(counts.reads, 200);
    let rows = a.solutions.rows;
    let mut down = vec![0u64; a.active_variables.len()];
    let mut agree = vec![0u64; pair_couplers.len()];
    let pos = |q: u32| a.active_variables.iter().position(|&x| x == q).unwrap();
    for r in 0..rows {
        let w = u64::from(a.num_occurrences[r]);
        let spins: Vec<i8> = (0..a.active_variables.len())
            .map(|i| a.solutions.spin(r, i).unwrap())
            .collect();
        let energy: f64 = spins
            .iter()
            .zip(&a.active_variables)
            .map(|(&sp, q)| h[q] * f64::from(sp))
            .sum();
        assert!((a.energies[r] - energy).abs() < 1e-9, "row {r} energy");
        for (i, &sp) in spins.iter().enumerate() {
            down[i] += w * u64::from(sp == -1);
        }
        for (k, &(u, v)) in pair_couplers.iter().enumerate() {
            agree[k] += w * u64::from(spins[pos(u)] == spins[pos(v)]);
        }
    }
    assert_eq!(counts.down, down);
    let pairs = counts.pairs.expect("pair counts");
    assert_eq!(pairs.couplers, pair_couplers);
    assert_eq!(pairs.agree, agree);
    // Positive h favours s = -1: nearly every read has every spin down.
    let total_down: u64 = down.iter().sum();
    let total = 200 * down.len() as u64;
    assert!(
        total_down as f64 >= 0.95 * total as f64,
        "{total_down} of {total} spins down"
    );
    // Billed once, for this problem.
    let lines = env.ledger();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["id"], id.as_str());
    assert_eq!(lines[0]["num_reads"], 200);
    assert_eq!(lines[0]["active_qubits"], s.qubits().len());
    let stats = env.server.stats();
    assert_eq!((stats.problems_accepted, stats.problems_completed), (1, 1));
    assert_eq!(stats.injected_failures + stats.dropped_replies, 0);
}

#[test]
fn field_signs_decide_the_spins_in_raw_mode() {
    let env = Env::small(6, FaultConfig::default());
    let c = env.client();
    let s = c.get_solver(&env.solver_name()).expect("solver");
    // Alternating signs: h = +1 → mostly s = -1, h = -1 → mostly s = +1.
    let h: BTreeMap<u32, f64> = s
        .qubits()
        .iter()
        .map(|&q| (q, if q % 2 == 0 { 1.0 } else { -1.0 }))
        .collect();
    let mut p = params(100);
    p.insert("answer_mode".into(), json!("raw"));
    let j = no_j();
    let job = IsingJob {
        solver: &s,
        h: &h,
        j: &j,
        params: &p,
        label: Some("e2e-raw"),
    };
    let (id, a) = c.sample_ising(&job, None).expect("sample");
    assert!(!a.has_num_occurrences, "raw mode: one row per read");
    assert_eq!(a.solutions.rows, 100);
    let mut agree_with_field = 0u64;
    for (r, e) in a.energies.iter().enumerate() {
        let mut energy = 0.0;
        for (i, q) in a.active_variables.iter().enumerate() {
            let sp = a.solutions.spin(r, i).unwrap();
            energy += h[q] * f64::from(sp);
            agree_with_field += u64::from(f64::from(sp) * h[q] < 0.0);
        }
        assert!((e - energy).abs() < 1e-9);
    }
    let total = 100 * a.active_variables.len() as u64;
    assert!(agree_with_field as f64 >= 0.95 * total as f64);
    let counts = c
        .sample_ising_counts(&job, None, None)
        .expect("second problem")
        .1;
    assert_eq!(counts.reads, 100);
    assert_eq!(env.ledger().len(), 2);
    assert_eq!(env.ledger()[0]["id"], id.as_str());
}

// ------------------------------------------------------------------------------------------ faults

#[test]
fn latency_slows_but_does_not_break() {
    let env = Env::small(
        7,
        FaultConfig {
            latency_ms: 150,
            ..FaultConfig::default()
        },
    );
    let c = env.client();
    let s = c.get_solver(&env.solver_name()).expect("solver");
    let h = uniform_h(&s, 1.0);
    let (st, _) = submit_reconciled(&c, &s, &h, "lat");
    let done = c.wait(st, None).expect("completes");
    assert!(done.answer.is_some());
    assert_eq!(env.ledger().len(), 1);
    assert_eq!(env.server.stats().injected_failures, 0);
}

#[test]
fn rate_limited_submit_is_retried_and_billed_once() {
    let faults = FaultConfig {
        fail_rate: 0.4,
        fail_statuses: vec![429, 503],
        retry_after_s: 1,
        ..FaultConfig::default()
    };
    // get_solver (2 GETs: first 429, retried), then POST: 429, 503, accepted.
    let seed = seed_for(
        &faults,
        &[
            RequestFault::Fail(429),
            OK,
            OK,
            RequestFault::Fail(429),
            RequestFault::Fail(503),
            OK,
        ],
    );
    let env = Env::small(seed, faults);
    let c = env.client();
    let s = c
        .get_solver(&env.solver_name())
        .expect("GET retried after 429");
    let h = uniform_h(&s, 1.0);
    let st = submit(&c, &s, &h, "rl-0").expect("POST retried after 429 and 503");
    assert_eq!(env.server.stats().injected_failures, 3);
    assert_eq!(env.server.stats().problems_accepted, 1);
    let lines = env.ledger();
    assert_eq!(lines.len(), 1, "refused POSTs are not billed");
    assert_eq!(lines[0]["id"], st.id.as_str());

    // More submissions under the same 40 % refusal rate: each one billed exactly once.
    for k in 1..6 {
        let label = format!("rl-{k}");
        let st = submit(&c, &s, &h, &label).expect("429/503 are always retried");
        let done = c.wait(st, None).expect("completes");
        assert!(done.answer.is_some());
    }
    let lines = env.ledger();
    assert_eq!(lines.len(), 6);
    for k in 0..6 {
        assert_eq!(labels_billed(&lines, &format!("rl-{k}")), 1);
    }
    let stats = env.server.stats();
    assert_eq!(stats.problems_accepted, 6);
    assert!(stats.injected_failures > 3, "{stats:?}");
}

#[test]
fn server_errors_on_gets_are_retried() {
    let faults = FaultConfig {
        fail_rate: 0.5,
        fail_statuses: vec![500, 502, 503, 504],
        ..FaultConfig::default()
    };
    let seed = seed_for(
        &faults,
        &[
            RequestFault::Fail(500),
            RequestFault::Fail(502),
            OK,
            RequestFault::Fail(504),
            OK,
            OK,
            OK,
        ],
    );
    let env = Env::small(seed, faults);
    let c = env.client();
    let listed = c.list_solvers().expect("list retried after 500, 502");
    let s = c
        .get_solver(&listed[0].name)
        .expect("get retried after 504");
    assert_eq!(env.server.stats().injected_failures, 3);
    for _ in 0..10 {
        assert!(c.list_problems(None, Some(10)).expect("list").is_empty());
    }
    assert_eq!(s.name, env.solver_name());
    assert!(env.server.stats().injected_failures > 3);
    assert!(env.ledger().is_empty());
}

#[test]
fn server_errors_on_submit_are_uncertain_never_resent() {
    for status in [500u16, 502, 504] {
        let faults = FaultConfig {
            fail_rate: 0.5,
            fail_statuses: vec![status],
            ..FaultConfig::default()
        };
        // get_solver OK, POST fails with `status`, then everything OK.
        let seed = seed_for(
            &faults,
            &[OK, OK, RequestFault::Fail(status), OK, OK, OK, OK, OK],
        );
        let env = Env::small(seed, faults);
        let c = env.client();
        let s = c.get_solver(&env.solver_name()).expect("solver");
        let h = uniform_h(&s, 1.0);
        let e = submit(&c, &s, &h, "uncertain-5xx").expect_err("POST failed");
        assert_eq!(e.kind, ErrorKind::SubmitUncertain, "{status}: {e}");
        assert_eq!(e.status, Some(status));
        assert!(e
            .url
            .as_deref()
            .unwrap_or("")
            .ends_with("/sapi/v2/problems/"));
        assert!(e.to_string().contains("list recent problems"), "{e}");
        // One POST reached the server, it was not retried, and (injected before processing) not billed.
        let stats = env.server.stats();
        assert_eq!((stats.requests, stats.injected_failures), (3, 1));
        assert!(env.ledger().is_empty());
        // Reconciliation finds nothing, so resubmitting is safe: billed exactly once.
        assert!(c
            .list_problems(Some("uncertain-5xx"), None)
            .expect("list")
            .is_empty());
        let st = submit(&c, &s, &h, "uncertain-5xx").expect("resubmit");
        let lines = env.ledger();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["id"], st.id.as_str());
    }
}

#[test]
fn submit_refused_until_retries_run_out_is_not_uncertain() {
    for status in [429u16, 503] {
        let faults = FaultConfig {
            fail_rate: 0.5,
            fail_statuses: vec![status],
            ..FaultConfig::default()
        };
        let f = RequestFault::Fail(status);
        let seed = seed_for(&faults, &[OK, OK, f, f, f]);
        let env = Env::small(seed, faults);
        let c = env.client_with(ClientOptions {
            retry: RetryPolicy {
                max_retries: 2,
                ..opts().retry
            },
            ..opts()
        });
        let s = c.get_solver(&env.solver_name()).expect("solver");
        let e = submit(&c, &s, &uniform_h(&s, 1.0), "refused").expect_err("refused 3 times");
        // Refused before acceptance: a definite failure (safe to resubmit), not SubmitUncertain.
        let want = if status == 429 {
            ErrorKind::RateLimited
        } else {
            ErrorKind::Server
        };
        assert_eq!(e.kind, want, "{e}");
        assert_eq!(e.status, Some(status));
        assert!(!e.may_have_submitted());
        let stats = env.server.stats();
        assert_eq!((stats.requests, stats.injected_failures), (5, 3));
        assert_eq!(stats.problems_accepted, 0);
        assert!(env.ledger().is_empty());
    }
}

#[test]
fn submit_read_timeout_is_uncertain_and_reconciled() {
    let env = Env::small(
        13,
        FaultConfig {
            latency_ms: 600,
            ..FaultConfig::default()
        },
    );
    let patient = env.client();
    let impatient = env.client_with(ClientOptions {
        request_timeout: Duration::from_millis(200),
        ..opts()
    });
    let s = patient.get_solver(&env.solver_name()).expect("solver");
    let h = uniform_h(&s, 1.0);
    let e = submit(&impatient, &s, &h, "slow-post").expect_err("read timeout");
    assert_eq!(e.kind, ErrorKind::SubmitUncertain, "{e}");
    assert!(e.to_string().contains("timed out"), "{e}");
    // The server still processes the POST it received: reconcile by label (the protocol's way of finding
    // out) until it shows up, then wait for it. Never resubmitted, billed once.
    let found = (0..10)
        .find_map(|_| {
            let l = patient
                .list_problems(Some("slow-post"), None)
                .expect("list");
            assert!(l.len() <= 1, "{l:?}");
            l.into_iter().next()
        })
        .expect("the timed-out submission was accepted");
    let done = patient.wait(found, None).expect("completes");
    assert!(done.answer.is_some());
    let lines = env.ledger();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["id"], done.id.as_str());
    assert_eq!(env.server.stats().problems_accepted, 1);
}

#[test]
fn dropped_replies_gets_retried_post_uncertain_then_reconciled() {
    let faults = FaultConfig {
        drop_rate: 0.5,
        ..FaultConfig::default()
    };
    // get_solver: first reply lost (retried); POST reply lost; then no faults.
    let seed = seed_for(
        &faults,
        &[DROP, OK, OK, DROP, OK, OK, OK, OK, OK, OK, OK, OK],
    );
    let env = Env::small(seed, faults);
    let c = env.client();
    let s = c
        .get_solver(&env.solver_name())
        .expect("lost GET reply is retried");
    let h = uniform_h(&s, 1.0);
    let e = submit(&c, &s, &h, "dropped-post").expect_err("POST reply lost");
    assert_eq!(e.kind, ErrorKind::SubmitUncertain, "{e}");
    assert_eq!(e.status, None, "no reply arrived");
    let stats = env.server.stats();
    assert_eq!((stats.requests, stats.dropped_replies), (4, 2));
    // The server did accept it: billed exactly once although the client saw an error.
    let lines = env.ledger();
    assert_eq!(lines.len(), 1);
    assert_eq!(stats.problems_accepted, 1);
    // Reconciliation by label finds that very problem; the client then waits for it instead of resubmitting.
    let found = c
        .list_problems(Some("dropped-post"), None)
        .expect("list by label");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, lines[0]["id"].as_str().unwrap());
    assert_eq!(found[0].label.as_deref(), Some("dropped-post"));
    let done = c.wait(found[0].clone(), None).expect("completes");
    assert_eq!(done.state, ProblemState::Completed);
    assert!(done.answer.is_some());
    assert_eq!(env.ledger().len(), 1);
}

#[test]
fn dropped_requests_before_processing_are_not_billed() {
    let faults = FaultConfig {
        drop_rate: 0.5,
        drop_before: true,
        ..FaultConfig::default()
    };
    let seed = seed_for(&faults, &[OK, DROP, OK, DROP, OK, OK, OK, OK, OK, OK]);
    let env = Env::small(seed, faults);
    let c = env.client();
    let s = c
        .get_solver(&env.solver_name())
        .expect("lost GET is retried");
    let h = uniform_h(&s, 1.0);
    let e = submit(&c, &s, &h, "lost-post").expect_err("POST lost");
    assert_eq!(e.kind, ErrorKind::SubmitUncertain, "{e}");
    assert!(env.ledger().is_empty(), "the request never reached SAPI");
    assert_eq!(env.server.stats().problems_accepted, 0);
    let (st, uncertain) = submit_reconciled(&c, &s, &h, "lost-post");
    assert_eq!(uncertain, 0, "reconciliation found nothing; resubmitted");
    let lines = env.ledger();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["id"], st.id.as_str());
    assert_eq!(env.server.stats().dropped_replies, 2);
}

#[test]
fn mixed_faults_never_bill_a_submission_twice() {
    let faults = FaultConfig {
        fail_rate: 0.2,
        fail_statuses: vec![429, 500, 502, 503, 504],
        drop_rate: 0.2,
        problem_fail_rate: 0.0,
        ..FaultConfig::default()
    };
    let env = Env::small(1234, faults);
    let c = env.client();
    let s = c.get_solver(&env.solver_name()).expect("solver");
    let h = uniform_h(&s, 1.0);
    let mut uncertain_total = 0;
    for k in 0..8 {
        let label = format!("mixed-{k}");
        let (st, uncertain) = submit_reconciled(&c, &s, &h, &label);
        uncertain_total += uncertain;
        let done = c.wait(st, None).expect("completes despite faults");
        assert_eq!(done.label.as_deref(), Some(label.as_str()));
        assert!(done.answer.is_some());
    }
    let lines = env.ledger();
    for k in 0..8 {
        assert_eq!(labels_billed(&lines, &format!("mixed-{k}")), 1, "mixed-{k}");
    }
    assert_eq!(lines.len(), 8);
    let stats = env.server.stats();
    assert_eq!(stats.problems_accepted, 8);
    assert!(stats.injected_failures > 0 && stats.dropped_replies > 0);
    assert!(uncertain_total > 0, "the seed exercises SubmitUncertain");
}

#[test]
fn failed_problem_carries_id_and_sapi_message() {
    let env = Env::small(
        8,
        FaultConfig {
            problem_fail_rate: 1.0,
            ..FaultConfig::default()
        },
    );
    let c = env.client();
    let s = c.get_solver(&env.solver_name()).expect("solver");
    let h = uniform_h(&s, 1.0);
    let j = no_j();
    let p = params(10);
    let job = IsingJob {
        solver: &s,
        h: &h,
        j: &j,
        params: &p,
        label: Some("doomed"),
    };
    let e = c.sample_ising_counts(&job, None, None).expect_err("FAILED");
    assert_eq!(e.kind, ErrorKind::ProblemFailed);
    let lines = env.ledger();
    assert_eq!(lines.len(), 1, "a failed problem was still accepted");
    let id = lines[0]["id"].as_str().unwrap();
    assert_eq!(e.problem_id.as_deref(), Some(id));
    let msg = e.error_msg.clone().expect("SAPI's error_message");
    assert!(
        msg.contains("QPU failure injected") && msg.contains(id),
        "{msg}"
    );
    let text = e.to_string();
    assert!(
        text.contains(id) && text.contains("QPU failure injected"),
        "{text}"
    );
    let stats = env.server.stats();
    assert_eq!((stats.problems_failed, stats.problems_completed), (1, 0));
}

#[test]
fn first_poll_rate_limited_long_polling_recovers() {
    let env = Env::start(ServerConfig {
        solvers: vec![SolverSource::Topology(SMALL.into())],
        seed: 9,
        faults: FaultConfig {
            fail_first_poll: true,
            ..FaultConfig::default()
        },
        // Answer PENDING at once and keep the problem running briefly, so the client must poll.
        submit_wait_ms: 0,
        solve_time_ms: 500,
        ..ServerConfig::default()
    });
    let c = env.client();
    let s = c.get_solver(&env.solver_name()).expect("solver");
    let h = uniform_h(&s, 1.0);
    let st = submit(&c, &s, &h, "poll").expect("submit");
    assert!(!st.state.is_terminal(), "{:?}", st.state);
    let done = c.wait(st, Some(Duration::from_secs(30))).expect("recovers");
    assert_eq!(done.state, ProblemState::Completed);
    assert!(done.answer.is_some());
    let stats = env.server.stats();
    assert_eq!(stats.injected_failures, 1, "exactly the first poll");
    assert_eq!(env.ledger().len(), 1);
}

#[test]
fn bad_token_is_401_and_never_printed() {
    let env = Env::small(10, FaultConfig::default());
    let wrong = "WRONG-token-d41d8cd98f00";
    let c = SapiClient::new(
        env.server.base_url(),
        Token::new(wrong).expect("token"),
        opts(),
    )
    .expect("client");
    let e = c.list_solvers().expect_err("401");
    assert_eq!(e.kind, ErrorKind::Auth);
    assert_eq!(e.status, Some(401));
    assert_eq!(env.server.stats().requests, 1, "401 is not retried");
    for text in [
        e.to_string(),
        format!("{e:?}"),
        format!("{c:?}"),
        format!("{:?}", Token::new(wrong)),
    ] {
        assert!(!text.contains(wrong), "{text}");
        assert!(!text.contains(TOKEN), "{text}");
    }
    assert!(e.to_string().contains("401"));
    let config = ServerConfig {
        token: Token::new(TOKEN),
        ..ServerConfig::default()
    };
    assert!(!format!("{config:?}").contains(TOKEN));
}

#[test]
fn cancel_pending_and_in_progress_problems() {
    let env = Env::start(ServerConfig {
        solvers: vec![SolverSource::Topology(SMALL.into())],
        seed: 11,
        submit_wait_ms: 0,
        // The QPU worker holds the first problem this long, so the second stays PENDING.
        solve_time_ms: 1500,
        ..ServerConfig::default()
    });
    let c = env.client();
    let s = c.get_solver(&env.solver_name()).expect("solver");
    let h = uniform_h(&s, 1.0);
    let first = submit(&c, &s, &h, "runs").expect("first");
    let second = submit(&c, &s, &h, "waits").expect("second");
    let third = submit(&c, &s, &h, "batch").expect("third");
    assert_eq!(second.state, ProblemState::Pending);
    // Batch cancel (`DELETE problems/` with a list, what Future.cancel() uses): CANCELLED item per id.
    let items = c.cancel(&[&third.id]).expect("batch cancel");
    match items.as_slice() {
        [SubmitItem::Status(st)] => {
            assert_eq!(
                (st.id.as_str(), &st.state),
                (third.id.as_str(), &ProblemState::Cancelled)
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        c.poll(&[&third.id]).expect("poll")[0].state,
        ProblemState::Cancelled
    );
    let cancelled = c.cancel_problem(&second.id).expect("cancel pending");
    assert_eq!(cancelled.id, second.id);
    assert_eq!(cancelled.state, ProblemState::Cancelled);
    let e = c.wait(second.clone(), None).expect_err("cancelled");
    assert_eq!(e.kind, ErrorKind::ProblemCancelled);
    assert_eq!(e.problem_id.as_deref(), Some(second.id.as_str()));
    // Cancelling it again: finished → 409.
    let e = c.cancel_problem(&second.id).expect_err("409");
    assert_eq!(e.status, Some(409), "{e}");
    assert_eq!(e.kind, ErrorKind::Rejected);
    // The first one is IN_PROGRESS: SAPI answers 202 "Attempting to cancel problem in progress." (§3.6);
    // the client reports it as an IN_PROGRESS status, and polling shows the outcome.
    let attempt = c.cancel_problem(&first.id).expect("202 is not an error");
    assert_eq!(attempt.id, first.id);
    assert_eq!(attempt.state, ProblemState::InProgress);
    assert_eq!(attempt.raw["error_code"], 202);
    assert!(attempt.raw["error_msg"]
        .as_str()
        .unwrap_or("")
        .contains("in progress"));
    let e = c
        .wait(first.clone(), None)
        .expect_err("cancelled at the end");
    assert_eq!(e.kind, ErrorKind::ProblemCancelled);
    assert_eq!(e.problem_id.as_deref(), Some(first.id.as_str()));
    let stats = env.server.stats();
    assert_eq!((stats.problems_accepted, stats.problems_completed), (3, 0));
    assert_eq!(env.ledger().len(), 3, "all were accepted");
}

// ------------------------------------------------------------------------------------------ timeouts

#[test]
fn slow_server_times_out_with_the_url_not_a_hang() {
    let env = Env::small(
        12,
        FaultConfig {
            latency_ms: 2000,
            ..FaultConfig::default()
        },
    );
    let c = env.client_with(ClientOptions {
        connect_timeout: Duration::from_millis(300),
        request_timeout: Duration::from_millis(300),
        retry: RetryPolicy {
            max_retries: 1,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(1),
        },
        ..opts()
    });
    let e = c.list_solvers().expect_err("times out");
    assert_eq!(e.kind, ErrorKind::Transport, "{e}");
    let url = e.url.clone().expect("URL");
    assert!(url.starts_with(env.server.base_url()) && url.contains("solvers/remote/"));
    let text = e.to_string();
    assert!(text.contains("timed out") && text.contains(&url), "{text}");
}
