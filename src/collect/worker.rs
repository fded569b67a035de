//! The workers of the SAPI executor ([`super::runner`]): each drives one call at a time through submit →
//! wait → count, journaling every step, and recovers from what the service does (module docs of
//! [`super::runner`]: lost replies reconciled by label, lost problems resubmitted, transient errors retried
//! with back-off, the budget reserved before every submission).

use super::accumulate::CallCounts;
use super::journal::{now, Journal, Record};
use super::plan::Plan;
use super::runner::{CollectError, CollectOptions};
use crate::sapi::problem::{ProblemState, ProblemStatus};
use crate::sapi::{count_answer, ErrorKind, SapiClient, SapiError, SolverRecord};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One unit of work.
#[derive(Clone, Debug)]
pub(super) enum Task {
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

pub(super) enum Event {
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
pub(super) struct Dispatch {
    pub(super) queue: VecDeque<Task>,
    /// No more tasks (interrupt, fatal error, budget).
    pub(super) closed: bool,
    /// QPU time charged, µs.
    pub(super) charged_us: f64,
    /// Estimates of the submissions in flight, µs.
    pub(super) reserved_us: f64,
    pub(super) budget_us: Option<f64>,
}

pub(super) struct Shared {
    pub(super) client: SapiClient,
    pub(super) solver: SolverRecord,
    pub(super) plan: Arc<Plan>,
    pub(super) opts: CollectOptions,
    pub(super) journal: Mutex<Option<Journal>>,
    pub(super) dispatch: Mutex<Dispatch>,
    pub(super) stop: Arc<AtomicBool>,
    pub(super) couplers: Vec<(u32, u32)>,
    /// The journal's campaign id (in every label).
    pub(super) campaign: String,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A worker: tasks until the queue is empty or closed.
pub(super) fn worker(sh: &Shared, tx: &Sender<Event>) {
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
