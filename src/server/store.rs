//! Problem store: lifecycle `PENDING → IN_PROGRESS → COMPLETED | FAILED | CANCELLED` (terminal states
//! never change; cancel is possible before a terminal state), status objects (docs/sapi-protocol.md §3.4)
//! and long polling (wait until one listed problem is terminal or the timeout elapses, §3.3).

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    InProgress,
    Completed,
    Failed,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "PENDING",
            Status::InProgress => "IN_PROGRESS",
            Status::Completed => "COMPLETED",
            Status::Failed => "FAILED",
            Status::Cancelled => "CANCELLED",
        }
    }
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Completed | Status::Failed | Status::Cancelled)
    }
    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Pending,
            Status::InProgress,
            Status::Completed,
            Status::Failed,
            Status::Cancelled,
        ]
        .into_iter()
        .find(|st| st.as_str().eq_ignore_ascii_case(s))
    }
}

/// One stored problem.
#[derive(Debug, Clone)]
pub struct Problem {
    pub id: String,
    /// 0-based submission index (seeds the problem's sampling).
    pub index: u64,
    pub problem_type: String,
    pub solver: Value,
    pub solver_name: String,
    pub label: Option<String>,
    pub status: Status,
    pub submitted_on: String,
    pub solved_on: Option<String>,
    pub answer: Option<Value>,
    pub error_message: Option<String>,
    /// Submitted `data` and `params` (for `/info`).
    pub data: Value,
    pub params: Value,
    /// Cancel requested while in progress.
    pub cancel_requested: bool,
    /// Number of status polls that listed this problem.
    pub polls: u64,
    /// The answer was evicted to bound memory (`GET` answers 410 Gone).
    pub expired: bool,
}

impl Problem {
    /// Status object; `with_answer` adds `answer` when COMPLETED.
    pub fn status_json(&self, with_answer: bool) -> Value {
        let mut v = json!({
            "id": self.id,
            "type": self.problem_type,
            "solver": self.solver,
            "label": self.label,
            "status": self.status.as_str(),
            "submitted_on": self.submitted_on,
        });
        if let Value::Object(m) = &mut v {
            if self.label.is_none() {
                m.remove("label");
            }
            if let Some(s) = &self.solved_on {
                m.insert("solved_on".into(), json!(s));
            }
            if let Some(e) = &self.error_message {
                m.insert("error_message".into(), json!(e));
            }
            if with_answer && self.status == Status::Completed {
                if let Some(a) = &self.answer {
                    m.insert("answer".into(), a.clone());
                }
            }
        }
        v
    }
}

/// Thread-safe store with a condition variable for long polling.
#[derive(Default)]
pub struct Store {
    inner: Mutex<Inner>,
    changed: Condvar,
}

#[derive(Default)]
pub struct Inner {
    pub problems: HashMap<String, Problem>,
    /// Ids in submission order.
    pub order: Vec<String>,
    pub next_index: u64,
    /// Approximate bytes held by stored answers, and their ids oldest first.
    pub answer_bytes: usize,
    pub answer_fifo: std::collections::VecDeque<(String, usize)>,
}

impl Inner {
    /// Account for the answer of `id` (`size` bytes) and evict the oldest answers while more than
    /// `budget` bytes are held (the newest answer is always kept).
    pub fn account_answer(&mut self, id: &str, size: usize, budget: usize) {
        self.answer_fifo.push_back((id.to_string(), size));
        self.answer_bytes += size;
        while self.answer_bytes > budget && self.answer_fifo.len() > 1 {
            let Some((old, sz)) = self.answer_fifo.pop_front() else {
                break;
            };
            self.answer_bytes = self.answer_bytes.saturating_sub(sz);
            if let Some(p) = self.problems.get_mut(&old) {
                p.answer = None;
                p.expired = true;
            }
        }
    }
}

/// Approximate size of an answer in bytes (its string fields).
pub fn answer_size(answer: &Value) -> usize {
    answer
        .as_object()
        .map(|m| {
            m.values()
                .map(|v| v.as_str().map(str::len).unwrap_or(16))
                .sum()
        })
        .unwrap_or(0)
}

impl Store {
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Change a problem under the lock and wake long polls.
    pub fn update<F: FnOnce(&mut Problem)>(&self, id: &str, f: F) {
        let mut g = self.lock();
        if let Some(p) = g.problems.get_mut(id) {
            f(p);
        }
        drop(g);
        self.changed.notify_all();
    }

    /// Block until one of `ids` is terminal or `timeout` elapses; returns the lock.
    pub fn wait_any_terminal(&self, ids: &[String], timeout: Duration) -> MutexGuard<'_, Inner> {
        let deadline = Instant::now() + timeout;
        let mut g = self.lock();
        loop {
            let done = ids.iter().any(|id| {
                g.problems
                    .get(id)
                    .map(|p| p.status.is_terminal())
                    .unwrap_or(true)
            });
            let now = Instant::now();
            if done || now >= deadline {
                return g;
            }
            g = match self.changed.wait_timeout(g, deadline - now) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }

    /// Wake every waiter (shutdown).
    pub fn notify(&self) {
        self.changed.notify_all();
    }
}

/// A deterministic UUID-shaped problem id from the server seed and the submission index.
pub fn problem_id(seed: u64, index: u64) -> String {
    let mut h = Sha256::new();
    h.update(b"qasa-problem-id");
    h.update(seed.to_le_bytes());
    h.update(index.to_le_bytes());
    let d = h.finalize();
    let hex: String = d.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// Now as ISO-8601 UTC with microseconds and `Z` (`2022-09-01T17:55:00.877038Z`).
pub fn now_iso() -> String {
    iso(SystemTime::now())
}

/// A time as ISO-8601 UTC with microseconds and `Z` (RFC 3339).
pub fn iso(t: SystemTime) -> String {
    humantime::format_rfc3339_micros(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_are_right() {
        let at = |secs: u64, micros: u64| {
            iso(std::time::UNIX_EPOCH + Duration::from_micros(secs * 1_000_000 + micros))
        };
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(at(1_662_054_900, 877_038), "2022-09-01T17:55:00.877038Z");
        assert_eq!(at(951_782_400, 1), "2000-02-29T00:00:00.000001Z");
    }

    #[test]
    fn ids_are_deterministic_and_distinct() {
        let a = problem_id(1, 0);
        assert_eq!(a, problem_id(1, 0));
        assert_ne!(a, problem_id(1, 1));
        assert_ne!(a, problem_id(2, 0));
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
    }

    #[test]
    fn long_poll_returns_on_completion() {
        let store = std::sync::Arc::new(Store::default());
        let p = Problem {
            id: "x".into(),
            index: 0,
            problem_type: "ising".into(),
            solver: json!({}),
            solver_name: "s".into(),
            label: None,
            status: Status::Pending,
            submitted_on: now_iso(),
            solved_on: None,
            answer: None,
            error_message: None,
            data: json!({}),
            params: json!({}),
            cancel_requested: false,
            polls: 0,
            expired: false,
        };
        store.lock().problems.insert("x".into(), p.clone());
        {
            let mut g = store.lock();
            for id in ["a", "b", "c"] {
                g.problems.insert(
                    id.into(),
                    Problem {
                        id: id.into(),
                        answer: Some(json!({})),
                        ..p.clone()
                    },
                );
                g.account_answer(id, 10, 25);
            }
            assert!(g.problems["a"].expired && g.problems["a"].answer.is_none());
            assert!(!g.problems["b"].expired && !g.problems["c"].expired);
            assert_eq!(g.answer_bytes, 20);
            assert_eq!(
                answer_size(&json!({"energies": "abcd", "num_variables": 8})),
                20
            );
        }
        let s2 = store.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            s2.update("x", |p| p.status = Status::Completed);
        });
        let g = store.wait_any_terminal(&["x".to_string()], Duration::from_secs(30));
        assert_eq!(g.problems["x"].status, Status::Completed);
        drop(g);
        t.join().unwrap();
        assert_eq!(Status::parse("in_progress"), Some(Status::InProgress));
        let st = store.lock().problems["x"].status_json(true);
        assert!(st.get("label").is_none() && st["status"] == "COMPLETED");
    }
}
