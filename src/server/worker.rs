//! The QPU worker: takes accepted problems in submission order, one at a time like a QPU, and moves each
//! through IN_PROGRESS to COMPLETED (sampled), FAILED (injected fault, or a sampler panic) or CANCELLED.
//! Sampling is seeded per problem from the server seed and the submission index.

use super::answer;
use super::faults::mix;
use super::store::{now_iso, Status};
use super::submit::Accepted;
use super::State;
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;
use std::time::Duration;

const SAMPLE_STREAM: u64 = 0x5EED_5A3B_0000_0003;

/// One accepted problem waiting for the QPU.
pub struct Job {
    pub id: String,
    pub index: u64,
    pub fail: bool,
    pub accepted: Accepted,
}

pub fn run(state: &State, rx: Receiver<Job>) {
    while let Ok(job) = rx.recv() {
        process(state, job);
    }
}

fn process(state: &State, job: Job) {
    let store = &state.store;
    let cancelled = store
        .lock()
        .problems
        .get(&job.id)
        .map(|p| p.status == Status::Cancelled)
        .unwrap_or(true);
    if cancelled {
        return;
    }
    store.update(&job.id, |p| p.status = Status::InProgress);
    let a = &job.accepted;
    let wall = Duration::from_millis(state.config.solve_time_ms)
        + Duration::try_from_secs_f64(a.timing.access_us * 1e-6 * state.config.qpu_time_scale)
            .unwrap_or(Duration::ZERO)
            .min(Duration::from_secs(3600));
    if !wall.is_zero() {
        std::thread::sleep(wall);
    }
    let outcome: Result<serde_json::Value, String> = if job.fail {
        Err(format!(
            "QPU failure injected by the qasa server (problem_fail_rate): problem {} was not sampled; resubmit it",
            job.id
        ))
    } else {
        let Some(solver) = state.solvers.get(a.solver_idx) else {
            return;
        };
        let mut rng = Pcg64Mcg::seed_from_u64(mix(state.config.seed, SAMPLE_STREAM, job.index));
        let sampled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            solver
                .sampler
                .sample_raw(&a.fields, a.num_reads, a.timing.anneal_us, &mut rng)
        }));
        match sampled {
            Ok(samples) => {
                let rows = answer::rows(
                    &samples,
                    &a.lin,
                    solver.record.qubits(),
                    a.problem_type,
                    a.answer_mode,
                );
                answer::answer_json(&rows, solver.record.num_qubits, &a.timing)
            }
            Err(_) => Err(format!(
                "internal error: the sampler failed on problem {}",
                job.id
            )),
        }
    };
    let c = &state.counters;
    let size = outcome.as_ref().map(super::store::answer_size).unwrap_or(0);
    let mut stored = false;
    store.update(&job.id, |p| {
        p.solved_on = Some(now_iso());
        if p.cancel_requested {
            p.status = Status::Cancelled;
            return;
        }
        match outcome {
            Ok(ans) => {
                p.status = Status::Completed;
                p.answer = Some(ans);
                stored = true;
                c.problems_completed.fetch_add(1, Ordering::SeqCst);
            }
            Err(msg) => {
                p.status = Status::Failed;
                p.error_message = Some(msg);
                c.problems_failed.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    if stored {
        let budget = state.config.answer_memory_mib.saturating_mul(1 << 20);
        store.lock().account_answer(&job.id, size, budget);
    }
}
