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
use super::journal::{now, CallState, Header, Journal, JournalError, FORMAT, VERSION};
use super::plan::Plan;
use super::worker::{lock, worker, Dispatch, Event, Shared, Task};
use crate::sapi::{SapiClient, SapiError, SolverRecord};
use crate::sweep::{Sweep, SweepSource};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
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
    let mut qubits = solver.qubits().to_vec();
    qubits.sort_unstable();
    let mut couplers: Vec<[u32; 2]> = solver
        .couplers()
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
