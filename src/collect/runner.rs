//! The SAPI executor (`qasa collect`): runs a [`Plan`] on a solver with a bounded number of calls in flight,
//! journaled so that no call is lost or paid twice (issue 11 §3–§5; docs/sapi-protocol.md §3, §8).
//!
//! Each of `in_flight` workers takes the next task and drives one call to the end:
//!
//! 1. **submit**: journal `submitting` (fsynced), then `POST problems/` with the call's fields, the plan's
//!    parameters, `num_reads` and the label `qasa-<plan>-<campaign>-call<call>-try<attempt>`; journal
//!    `submitted` with the id;
//! 2. **wait**: long-poll the id until it is terminal, then load the answer;
//! 3. **count**: decode the answer straight into counts (`sapi::count_answer`), check it has the call's
//!    reads on every plan qubit, journal `done` with the counts and the charged `qpu_access_time`.
//!
//! Recovery, in order of what can go wrong:
//! - a submit whose reply is lost (`SubmitUncertain`) is reconciled by label with `list_problems` before
//!   anything is resubmitted; only if the label is not found is the call submitted again, as the next attempt;
//! - a problem that ends FAILED or CANCELLED, or that SAPI no longer knows (404/410), was lost by the service:
//!   journaled `lost` (billed), submitted again, and counted in the sweep's `resubmitted_calls`;
//! - transient errors (connection, 5xx, 429 after the client's own retries) on requests that cannot create a
//!   problem are retried with back-off; a solver that reports itself offline, a wrong token or a rejected
//!   problem stop the campaign with a consistent journal.
//!
//! On resume ([`CollectOptions::resume`]) calls the journal shows as submitted are fetched by id, calls
//! whose submission was interrupted are reconciled by label, and only calls never accepted are submitted.
//!
//! Budget: a submission is made only if the QPU time charged so far, plus the estimates of the calls in
//! flight, plus its own estimate stay within `max_qpu_s`.
//!
//! Interruption: when `stop` is set the workers take no more tasks and the journal is closed at once; calls
//! in flight are journaled as submitted (or submitting) and a resume fetches (or reconciles) them.

use super::accumulate::{sweep_meta, CallCounts, CountsError, SweepBuilder};
use super::journal::{now, CallState, Header, Journal, JournalError, Record, FORMAT, VERSION};
use super::plan::Plan;
use crate::sapi::problem::{ProblemState, ProblemStatus};
use crate::sapi::{count_answer, ErrorKind, SapiClient, SapiError, SolverRecord};
use crate::sweep::{Sweep, SweepSource};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How a collection runs.
#[derive(Clone, Debug)]
pub struct CollectOptions {
    /// Calls in flight at once (workers).
    pub in_flight: usize,
    /// QPU-time budget of the whole campaign, seconds.
    pub max_qpu_s: Option<f64>,
    /// Keep per (h, coupler) pair counts.
    pub pairs: bool,
    /// Continue the journal beside the output.
    pub resume: bool,
    /// Attempts per call before the campaign gives up (each lost attempt was billed).
    pub max_attempts: u32,
    /// Consecutive transient failures of one call's requests before the campaign gives up.
    pub max_transient: u32,
    /// First back-off after a transient failure (doubles, capped at 30 s).
    pub backoff: Duration,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            in_flight: 4,
            max_qpu_s: None,
            pairs: false,
            resume: false,
            max_attempts: 5,
            max_transient: 8,
            backoff: Duration::from_millis(500),
        }
    }
}

/// Where a campaign stands (for a progress display).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CollectProgress {
    pub calls_done: usize,
    pub calls_total: usize,
    pub reads_done: u64,
    pub reads_total: u64,
    /// QPU access time charged so far (this and earlier sessions), s.
    pub charged_qpu_s: f64,
    /// The plan's estimate, s.
    pub estimated_qpu_s: f64,
    /// Attempts the service lost or failed and that were submitted again.
    pub resubmitted: usize,
}

/// Why a campaign stopped before its last call. The journal is consistent in every case.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("the solver {solver} does not match the plan: {reason}; make a new plan for the solver as it is now")]
    WrongSolver { solver: String, reason: String },
    #[error(
        "the solver {solver} is offline{detail}; {done} of {total} calls are done and journaled"
    )]
    SolverOffline {
        solver: String,
        detail: String,
        done: usize,
        total: usize,
    },
    #[error("the QPU-time budget of {budget_s} s is reached: {committed_s:.3} s charged or in flight, and the next call needs about {next_s:.3} s more; {done} of {total} calls are done and journaled")]
    Budget {
        budget_s: f64,
        committed_s: f64,
        next_s: f64,
        done: usize,
        total: usize,
    },
    #[error("interrupted: {done} of {total} calls are done and journaled")]
    Interrupted { done: usize, total: usize },
    #[error("call {call}: {source}")]
    Sapi {
        call: usize,
        #[source]
        source: Box<SapiError>,
    },
    #[error("call {call} failed {attempts} times ({last}); the service keeps losing it")]
    Attempts {
        call: usize,
        attempts: u32,
        last: String,
    },
    #[error("the journal does not fit the plan: {0}")]
    Counts(#[from] CountsError),
}

impl CollectError {
    /// True when `--resume` can continue the campaign as it is (the journal is intact).
    pub fn is_resumable(&self) -> bool {
        !matches!(
            self,
            CollectError::Journal(_) | CollectError::WrongSolver { .. } | CollectError::Counts(_)
        )
    }
}

/// A finished campaign.
#[derive(Debug)]
pub struct Collected {
    pub sweep: Sweep,
    /// Calls run in this session (the rest came from the journal).
    pub calls_this_session: usize,
    /// Problem attempts the service lost or failed, each submitted again.
    pub resubmitted: usize,
}

/// Checks that the SAPI solver is the one the plan was made for (name and working graph).
pub fn check_solver(plan: &Plan, solver: &SolverRecord) -> Result<(), CollectError> {
    let wrong = |reason: String| CollectError::WrongSolver {
        solver: solver.name.clone(),
        reason,
    };
    if solver.name != plan.solver.name {
        return Err(wrong(format!("the plan was made for {}", plan.solver.name)));
    }
    let mut qubits = solver.qubits.clone();
    qubits.sort_unstable();
    let mut couplers: Vec<[u32; 2]> = solver
        .couplers
        .iter()
        .map(|&(u, v)| [u.min(v), u.max(v)])
        .collect();
    couplers.sort_unstable();
    if super::plan::graph_sha256(&qubits, &couplers) != plan.graph_sha256 {
        return Err(wrong(format!(
            "its working graph ({} qubits, {} couplers) is not the plan's ({} qubits, {} couplers)",
            qubits.len(),
            couplers.len(),
            plan.qubits.len(),
            plan.couplers.len()
        )));
    }
    if solver.status.is_some() && !solver.is_online() {
        return Err(CollectError::SolverOffline {
            solver: solver.name.clone(),
            detail: format!(" (status {})", solver.status.as_deref().unwrap_or("")),
            done: 0,
            total: plan.calls.len(),
        });
    }
    Ok(())
}

/// One unit of work.
#[derive(Clone, Debug)]
enum Task {
    Submit {
        call: usize,
        attempt: u32,
    },
    Fetch {
        call: usize,
        attempt: u32,
        id: String,
    },
    Reconcile {
        call: usize,
        attempt: u32,
        label: String,
    },
}

enum Event {
    Done {
        call: usize,
        counts: CallCounts,
        /// The answer's `qpu_access_time`, or the call's estimate when the answer has none, µs.
        charged_us: f64,
    },
    Resubmitted,
    Failed(CollectError),
}

/// State shared by the workers.
struct Dispatch {
    queue: VecDeque<Task>,
    /// No more tasks (interrupt, fatal error, budget).
    closed: bool,
    /// QPU time charged, µs.
    charged_us: f64,
    /// Estimates of the submissions in flight, µs.
    reserved_us: f64,
    budget_us: Option<f64>,
}

struct Shared {
    client: SapiClient,
    solver: SolverRecord,
    plan: Arc<Plan>,
    opts: CollectOptions,
    journal: Mutex<Option<Journal>>,
    dispatch: Mutex<Dispatch>,
    stop: Arc<AtomicBool>,
    couplers: Vec<(u32, u32)>,
    /// The journal's campaign id (in every label).
    campaign: String,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs (or resumes) a campaign: the journal is `Journal::path_for(out)`; the sweep is returned, not
/// written. `stop` interrupts; `progress` is called from the calling thread after every finished call.
pub fn collect(
    client: &SapiClient,
    solver: &SolverRecord,
    plan: &Plan,
    out: &Path,
    opts: &CollectOptions,
    stop: Arc<AtomicBool>,
    progress: &dyn Fn(&CollectProgress),
) -> Result<Collected, CollectError> {
    check_solver(plan, solver)?;
    let path = Journal::path_for(out);
    let mut builder = SweepBuilder::new(plan, opts.pairs);
    let (journal, state) = open_journal(plan, solver, &path, opts, &mut builder)?;
    let (queue, charged_us) = replay_state(plan, &state);
    let mut report = CollectProgress {
        calls_done: builder.calls_done(),
        calls_total: plan.calls.len(),
        reads_done: (0..plan.calls.len())
            .filter(|&i| builder.is_done(i))
            .map(|i| u64::from(plan.calls[i].reads))
            .sum(),
        reads_total: plan.total_reads(),
        charged_qpu_s: charged_us * 1e-6,
        estimated_qpu_s: plan.estimated_qpu_s,
        resubmitted: state.lost,
    };
    progress(&report);
    let n_workers = opts.in_flight.clamp(1, 64).min(queue.len().max(1));
    let shared = Arc::new(Shared {
        client: client.clone(),
        solver: solver.clone(),
        plan: Arc::new(plan.clone()),
        opts: opts.clone(),
        journal: Mutex::new(Some(journal)),
        dispatch: Mutex::new(Dispatch {
            queue,
            closed: false,
            charged_us,
            reserved_us: 0.0,
            budget_us: opts.max_qpu_s.map(|s| s * 1e6),
        }),
        stop,
        couplers: plan.couplers.iter().map(|&[u, v]| (u, v)).collect(),
        campaign: state.header.campaign.clone(),
    });
    let (tx, rx) = mpsc::channel();
    let workers: Vec<_> = (0..n_workers)
        .map(|_| {
            let (sh, tx) = (shared.clone(), tx.clone());
            std::thread::spawn(move || worker(&sh, &tx))
        })
        .collect();
    drop(tx);
    let session = run_events(&shared, &rx, &mut builder, &mut report, progress)?;
    for w in workers {
        let _ = w.join();
    }
    lock(&shared.journal).take();
    let done = builder.calls_done();
    if done < plan.calls.len() {
        return Err(with_counts(session.failure, done, plan.calls.len()));
    }
    let mut meta = sweep_meta(plan, SweepSource::Collected);
    meta.started_at = state
        .first_at
        .or_else(|| Some(state.header.created_at.clone()));
    meta.finished_at = Some(now());
    if let Some(c) = meta.campaign.as_mut() {
        c.charged_qpu_s = Some(report.charged_qpu_s);
        c.resubmitted_calls = report.resubmitted as u64;
    }
    meta.graph_id = solver.graph_id.clone().or(meta.graph_id);
    Ok(Collected {
        sweep: builder.finish(meta),
        calls_this_session: session.calls,
        resubmitted: report.resubmitted,
    })
}

/// Queues the calls the journal does not show done: calls submitted are fetched by id, calls whose
/// submission was interrupted are reconciled by label (both first), fresh calls follow in plan order.
/// Returns the queue and the QPU time already charged, µs.
fn replay_state(plan: &Plan, state: &super::journal::JournalState) -> (VecDeque<Task>, f64) {
    let mut queue = VecDeque::new();
    let mut fresh = Vec::new();
    let mut charged_us = 0.0;
    for (i, s) in state.calls.iter().enumerate() {
        match s {
            CallState::Done {
                qpu_access_time_us, ..
            } => charged_us += qpu_access_time_us.unwrap_or(plan.calls[i].estimated_qpu_us),
            CallState::Submitted {
                attempt,
                problem_id,
            } => queue.push_back(Task::Fetch {
                call: i,
                attempt: *attempt,
                id: problem_id.clone(),
            }),
            CallState::Submitting { attempt, label } => queue.push_back(Task::Reconcile {
                call: i,
                attempt: *attempt,
                label: label.clone(),
            }),
            CallState::Fresh { attempt } => fresh.push(Task::Submit {
                call: i,
                attempt: *attempt,
            }),
        }
    }
    queue.extend(fresh);
    (queue, charged_us)
}

/// What the event loop saw.
struct Session {
    calls: usize,
    failure: Option<CollectError>,
}

/// Counts finished calls as the workers report them, until every call is counted, the workers are gone,
/// or `stop` is set (then the journal is closed at once and the campaign is interrupted).
fn run_events(
    shared: &Shared,
    rx: &mpsc::Receiver<Event>,
    builder: &mut SweepBuilder<'_>,
    report: &mut CollectProgress,
    progress: &dyn Fn(&CollectProgress),
) -> Result<Session, CollectError> {
    let total = shared.plan.calls.len();
    let mut session = Session {
        calls: 0,
        failure: None,
    };
    while builder.calls_done() < total {
        if shared.stop.load(Ordering::SeqCst) {
            lock(&shared.dispatch).closed = true;
            lock(&shared.journal).take();
            return Err(CollectError::Interrupted {
                done: builder.calls_done(),
                total,
            });
        }
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(Event::Done {
                call,
                counts,
                charged_us,
            }) => {
                builder.add_call(call, &counts)?;
                session.calls += 1;
                report.calls_done += 1;
                report.reads_done += u64::from(counts.reads);
                report.charged_qpu_s += charged_us * 1e-6;
                progress(report);
            }
            Ok(Event::Resubmitted) => {
                report.resubmitted += 1;
                progress(report);
            }
            Ok(Event::Failed(e)) => {
                lock(&shared.dispatch).closed = true;
                session.failure.get_or_insert(e);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    Ok(session)
}

/// The error that ended an incomplete campaign, with the campaign's counts.
fn with_counts(failure: Option<CollectError>, done: usize, total: usize) -> CollectError {
    match failure {
        Some(CollectError::SolverOffline { solver, detail, .. }) => CollectError::SolverOffline {
            solver,
            detail,
            done,
            total,
        },
        Some(CollectError::Budget {
            budget_s,
            committed_s,
            next_s,
            ..
        }) => CollectError::Budget {
            budget_s,
            committed_s,
            next_s,
            done,
            total,
        },
        Some(e) => e,
        None => CollectError::Interrupted { done, total },
    }
}

/// Opens (resume) or starts the journal; the counts of calls already done go to `builder`.
fn open_journal(
    plan: &Plan,
    solver: &SolverRecord,
    path: &Path,
    opts: &CollectOptions,
    builder: &mut SweepBuilder<'_>,
) -> Result<(Journal, super::journal::JournalState), CollectError> {
    let header = Header {
        format: FORMAT.into(),
        version: VERSION,
        plan_sha256: plan.sha256.clone(),
        campaign: super::journal::campaign_id(&plan.sha256),
        calls: plan.calls.len(),
        qubits: plan.qubits.len(),
        couplers: plan.couplers.len(),
        solver: solver.name.clone(),
        pairs: opts.pairs,
        created_at: now(),
        tool_version: crate::TOOL_VERSION.into(),
    };
    if opts.resume && path.exists() {
        let mut on_done =
            |i: usize, c: CallCounts| builder.add_call(i, &c).map_err(|e| e.to_string());
        return Ok(Journal::resume(path, &header, &mut on_done)?);
    }
    let journal = Journal::create(path, header.clone())?;
    let state = super::journal::JournalState {
        calls: vec![CallState::Fresh { attempt: 0 }; plan.calls.len()],
        header,
        lost: 0,
        first_at: None,
        last_at: None,
    };
    Ok((journal, state))
}

/// A worker: tasks until the queue is empty or closed.
fn worker(sh: &Shared, tx: &Sender<Event>) {
    while let Some(task) = next_task(sh) {
        match drive(sh, tx, task) {
            Ok(()) => {}
            Err(e) => {
                let _ = tx.send(Event::Failed(e));
            }
        }
    }
}

fn next_task(sh: &Shared) -> Option<Task> {
    let mut d = lock(&sh.dispatch);
    if d.closed || sh.stop.load(Ordering::SeqCst) {
        return None;
    }
    d.queue.pop_front()
}

/// Reserves the estimated QPU time of a submission within the budget.
fn reserve(sh: &Shared, call: usize) -> Result<f64, CollectError> {
    let est = sh.plan.calls[call].estimated_qpu_us;
    let mut d = lock(&sh.dispatch);
    if let Some(budget) = d.budget_us {
        let committed = d.charged_us + d.reserved_us;
        if committed + est > budget {
            d.closed = true;
            return Err(CollectError::Budget {
                budget_s: budget * 1e-6,
                committed_s: committed * 1e-6,
                next_s: est * 1e-6,
                done: 0,
                total: 0,
            });
        }
    }
    d.reserved_us += est;
    Ok(est)
}

fn settle(sh: &Shared, reserved_us: f64, charged_us: f64) {
    let mut d = lock(&sh.dispatch);
    d.reserved_us = (d.reserved_us - reserved_us).max(0.0);
    d.charged_us += charged_us;
}

fn journal(sh: &Shared, r: &Record) -> Result<(), CollectError> {
    match lock(&sh.journal).as_mut() {
        Some(j) => Ok(j.append(r)?),
        None => Err(CollectError::Interrupted { done: 0, total: 0 }),
    }
}

/// The label of an attempt: `qasa-<plan sha256, 8 digits>-<campaign id>-call<call>-try<attempt>`.
fn label(sh: &Shared, call: usize, attempt: u32) -> String {
    let plan = sh.plan.sha256.get(..8).unwrap_or(&sh.plan.sha256);
    format!("qasa-{plan}-{}-call{call}-try{attempt}", sh.campaign)
}

/// Where a call's drive starts.
enum Step {
    Submit(u32),
    Wait(u32, String, Option<Box<ProblemStatus>>),
    Reconcile(u32, String, bool),
}

/// Drives one call to `done` (or to an error that stops the campaign).
fn drive(sh: &Shared, tx: &Sender<Event>, task: Task) -> Result<(), CollectError> {
    let (call, mut step) = match task {
        Task::Submit { call, attempt } => (call, Step::Submit(attempt)),
        Task::Fetch { call, attempt, id } => (call, Step::Wait(attempt, id, None)),
        Task::Reconcile {
            call,
            attempt,
            label,
        } => (call, Step::Reconcile(attempt, label, false)),
    };
    let mut reserved = 0.0;
    loop {
        if sh.stop.load(Ordering::SeqCst) {
            return Err(CollectError::Interrupted { done: 0, total: 0 });
        }
        step = match step {
            Step::Submit(attempt) => {
                if attempt >= sh.opts.max_attempts {
                    return Err(CollectError::Attempts {
                        call,
                        attempts: attempt,
                        last: "every attempt was lost or failed".into(),
                    });
                }
                // A submission that never arrived cost nothing: release its reservation.
                settle(sh, reserved, 0.0);
                reserved = reserve(sh, call)?;
                submit(sh, call, attempt)?
            }
            Step::Reconcile(attempt, label, live) => reconcile(sh, call, attempt, &label, live)?,
            Step::Wait(attempt, id, status) => {
                let (reason, offline) = match wait(sh, call, &id, status)? {
                    Waited::Answer(answer) => match answer_counts(sh, call, &answer) {
                        Ok(counts) => {
                            return finish(sh, tx, (call, attempt, &id), counts, &answer, reserved)
                        }
                        Err(reason) => {
                            (format!("the answer does not fit the call: {reason}"), false)
                        }
                    },
                    Waited::Lost(reason, offline) => (reason, offline),
                };
                journal(
                    sh,
                    &Record::Lost {
                        call,
                        attempt,
                        problem_id: Some(id.clone()),
                        billed: true,
                        reason: reason.clone(),
                    },
                )?;
                let _ = tx.send(Event::Resubmitted);
                // A lost attempt was billed: count its estimate as charged.
                settle(sh, reserved, sh.plan.calls[call].estimated_qpu_us);
                reserved = 0.0;
                if offline {
                    return Err(offline_error(sh, reason));
                }
                Step::Submit(attempt + 1)
            }
        };
    }
}

fn offline_error(sh: &Shared, detail: String) -> CollectError {
    CollectError::SolverOffline {
        solver: sh.solver.name.clone(),
        detail: format!(" ({detail})"),
        done: 0,
        total: 0,
    }
}

fn is_offline_text(s: Option<&str>) -> bool {
    s.is_some_and(|m| m.to_ascii_lowercase().contains("offline"))
}

/// Whether an error is worth retrying. For a submission only refusals that cannot have created a problem
/// count (connect errors, 429, 503); anything else after the request reached SAPI is reconciled instead.
fn transient(e: &SapiError, post: bool) -> bool {
    match e.kind {
        ErrorKind::Transport | ErrorKind::RateLimited => true,
        ErrorKind::Server => !post || e.status == Some(503),
        ErrorKind::InvalidResponse => !post,
        _ => false,
    }
}

fn backoff(sh: &Shared, n: u32) {
    let d = sh
        .opts
        .backoff
        .saturating_mul(1u32 << n.min(6))
        .min(Duration::from_secs(30));
    let end = std::time::Instant::now() + d;
    while std::time::Instant::now() < end && !sh.stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(20).min(d));
    }
}

/// Runs `f` until it succeeds or fails for good; transient errors are retried with back-off.
fn retrying<T>(
    sh: &Shared,
    call: usize,
    post: bool,
    mut f: impl FnMut() -> Result<T, SapiError>,
) -> Result<T, CollectError> {
    let mut n = 0;
    loop {
        match f() {
            Ok(v) => return Ok(v),
            Err(e) if transient(&e, post) && n < sh.opts.max_transient => {
                backoff(sh, n);
                n += 1;
                if sh.stop.load(Ordering::SeqCst) {
                    return Err(CollectError::Interrupted { done: 0, total: 0 });
                }
            }
            Err(e) => {
                return Err(CollectError::Sapi {
                    call,
                    source: Box::new(e),
                })
            }
        }
    }
}

fn submit(sh: &Shared, call: usize, attempt: u32) -> Result<Step, CollectError> {
    let plan = &sh.plan;
    let c = &plan.calls[call];
    let label = label(sh, call, attempt);
    let h: BTreeMap<u32, f64> = plan
        .qubits
        .iter()
        .copied()
        .zip(plan.call_fields(c))
        .collect();
    let mut params: Map<String, Value> = plan.parameters.clone();
    params.insert("num_reads".into(), c.reads.into());
    journal(
        sh,
        &Record::Submitting {
            call,
            attempt,
            label: label.clone(),
            at: now(),
        },
    )?;
    let result = retrying(sh, call, true, || {
        sh.client
            .submit_ising(&sh.solver, &h, &BTreeMap::new(), &params, Some(&label))
    });
    match result {
        Ok(status) => {
            journal(
                sh,
                &Record::Submitted {
                    call,
                    attempt,
                    problem_id: status.id.clone(),
                    reconciled: false,
                },
            )?;
            Ok(Step::Wait(
                attempt,
                status.id.clone(),
                Some(Box::new(status)),
            ))
        }
        Err(CollectError::Sapi { source, .. })
            if source.may_have_submitted()
                || matches!(
                    source.kind,
                    ErrorKind::InvalidResponse | ErrorKind::MediaType
                ) =>
        {
            Ok(Step::Reconcile(attempt, label, true))
        }
        Err(CollectError::Sapi { source, .. })
            if source.kind == ErrorKind::Rejected
                && is_offline_text(source.error_msg.as_deref()) =>
        {
            Err(offline_error(
                sh,
                source.error_msg.clone().unwrap_or_else(|| "offline".into()),
            ))
        }
        Err(e) => Err(e),
    }
}

/// Finds a submission by its label; resubmits (next attempt) when SAPI does not have it.
fn reconcile(
    sh: &Shared,
    call: usize,
    attempt: u32,
    label: &str,
    live: bool,
) -> Result<Step, CollectError> {
    let find = || -> Result<Option<ProblemStatus>, CollectError> {
        let list = retrying(sh, call, false, || {
            sh.client.list_problems(Some(label), Some(1000))
        })?;
        let mut hits: Vec<ProblemStatus> = list
            .into_iter()
            .filter(|p| p.label.as_deref() == Some(label))
            .collect();
        hits.sort_by_key(|p| p.state != ProblemState::Completed);
        Ok(hits.into_iter().next())
    };
    let mut found = find()?;
    if found.is_none() && live {
        // The lost reply may have raced the listing: look once more before resubmitting.
        backoff(sh, 2);
        found = find()?;
    }
    match found {
        Some(st) => {
            journal(
                sh,
                &Record::Submitted {
                    call,
                    attempt,
                    problem_id: st.id.clone(),
                    reconciled: true,
                },
            )?;
            Ok(Step::Wait(attempt, st.id.clone(), Some(Box::new(st))))
        }
        None => {
            journal(
                sh,
                &Record::Lost {
                    call,
                    attempt,
                    problem_id: None,
                    billed: false,
                    reason: format!(
                        "no problem labelled {label} on SAPI: the submission never arrived"
                    ),
                },
            )?;
            Ok(Step::Submit(attempt + 1))
        }
    }
}

enum Waited {
    Answer(Value),
    /// The service lost or failed the problem (reason, solver offline).
    Lost(String, bool),
}

/// Long-polls a problem to a terminal state and loads its answer.
fn wait(
    sh: &Shared,
    call: usize,
    id: &str,
    status: Option<Box<ProblemStatus>>,
) -> Result<Waited, CollectError> {
    let gone = |e: &SapiError| e.kind == ErrorKind::NotFound;
    let mut st = status;
    loop {
        if sh.stop.load(Ordering::SeqCst) {
            return Err(CollectError::Interrupted { done: 0, total: 0 });
        }
        let current = match st.take() {
            Some(s) => *s,
            None => match retrying(sh, call, false, || sh.client.poll(&[id])) {
                Ok(list) => match list.into_iter().find(|s| s.id == id) {
                    Some(s) => s,
                    None => {
                        return Ok(Waited::Lost(
                            "SAPI no longer lists the problem".into(),
                            false,
                        ))
                    }
                },
                Err(CollectError::Sapi { source, .. }) if gone(&source) => {
                    return Ok(Waited::Lost(
                        format!("SAPI lost the problem ({source})"),
                        false,
                    ))
                }
                Err(e) => return Err(e),
            },
        };
        match &current.state {
            ProblemState::Pending | ProblemState::InProgress => continue,
            ProblemState::Completed => {
                if let Some(a) = current.answer {
                    return Ok(Waited::Answer(a));
                }
                return match retrying(sh, call, false, || sh.client.get_problem(id)) {
                    Ok(s) => match s.answer {
                        Some(a) => Ok(Waited::Answer(a)),
                        None => Ok(Waited::Lost("completed without an answer".into(), false)),
                    },
                    Err(CollectError::Sapi { source, .. }) if gone(&source) => Ok(Waited::Lost(
                        format!("the answer is gone ({source})"),
                        false,
                    )),
                    Err(e) => Err(e),
                };
            }
            ProblemState::Failed => {
                let msg = current.error_message.clone().unwrap_or_default();
                let offline = is_offline_text(Some(&msg));
                return Ok(Waited::Lost(format!("FAILED: {msg}"), offline));
            }
            other => {
                return Ok(Waited::Lost(other.as_str().to_string(), false));
            }
        }
    }
}

/// Journals a call's counts and reports them.
fn finish(
    sh: &Shared,
    tx: &Sender<Event>,
    (call, attempt, id): (usize, u32, &str),
    counts: CallCounts,
    answer: &Value,
    reserved: f64,
) -> Result<(), CollectError> {
    let charged = answer
        .pointer("/timing/qpu_access_time")
        .and_then(Value::as_f64);
    journal(sh, &Record::done(call, attempt, id, &counts, charged))?;
    let charged_us = charged.unwrap_or(sh.plan.calls[call].estimated_qpu_us);
    settle(sh, reserved, charged_us);
    let _ = tx.send(Event::Done {
        call,
        counts,
        charged_us,
    });
    Ok(())
}

/// The counts of an answer in plan columns.
fn answer_counts(sh: &Shared, call: usize, answer: &Value) -> Result<CallCounts, String> {
    let plan = &sh.plan;
    let want = plan.calls[call].reads;
    let pairs = sh.opts.pairs.then_some(sh.couplers.as_slice());
    let a = count_answer(answer, pairs).map_err(|e| e.to_string())?;
    if a.reads != u64::from(want) {
        return Err(format!("{} reads, the call asked for {want}", a.reads));
    }
    let mut down = vec![u32::MAX; plan.qubits.len()];
    for (&q, &d) in a.qubits.iter().zip(&a.down) {
        let col = plan
            .qubits
            .binary_search(&q)
            .map_err(|_| format!("qubit {q} was not programmed"))?;
        down[col] = u32::try_from(d).map_err(|_| "a count exceeds 32 bits".to_string())?;
    }
    if let Some(col) = down.iter().position(|&d| d == u32::MAX) {
        return Err(format!("qubit {} is missing", plan.qubits[col]));
    }
    let agree = match a.pairs {
        Some(p) => Some(
            p.agree
                .iter()
                .map(|&x| u32::try_from(x).map_err(|_| "a count exceeds 32 bits".to_string()))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        None => None,
    };
    Ok(CallCounts {
        reads: want,
        down,
        agree,
    })
}
