//! Problem status objects and submit/cancel items (`docs/sapi-protocol.md` §3.2–3.6).

use serde_json::Value;

/// Lifecycle state: `PENDING → IN_PROGRESS → COMPLETED | FAILED | CANCELLED` (§3.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProblemState {
    Pending,
    InProgress,
    Completed,
    Failed,
    Cancelled,
    /// A status string this client does not know (treated as a failure, like the official client).
    Unknown(String),
}

impl ProblemState {
    pub fn parse(s: &str) -> ProblemState {
        match s {
            "PENDING" => ProblemState::Pending,
            "IN_PROGRESS" => ProblemState::InProgress,
            "COMPLETED" => ProblemState::Completed,
            "FAILED" => ProblemState::Failed,
            "CANCELLED" => ProblemState::Cancelled,
            other => ProblemState::Unknown(other.to_string()),
        }
    }

    /// Terminal states never change.
    pub fn is_terminal(&self) -> bool {
        !matches!(self, ProblemState::Pending | ProblemState::InProgress)
    }

    pub fn as_str(&self) -> &str {
        match self {
            ProblemState::Pending => "PENDING",
            ProblemState::InProgress => "IN_PROGRESS",
            ProblemState::Completed => "COMPLETED",
            ProblemState::Failed => "FAILED",
            ProblemState::Cancelled => "CANCELLED",
            ProblemState::Unknown(s) => s,
        }
    }
}

/// A problem status object (`id`, `status`, optional `answer`, …).
#[derive(Clone, Debug, PartialEq)]
pub struct ProblemStatus {
    pub id: String,
    pub state: ProblemState,
    /// `ising` / `qubo`.
    pub problem_type: Option<String>,
    pub label: Option<String>,
    pub submitted_on: Option<String>,
    pub solved_on: Option<String>,
    /// `error_message` of a FAILED problem.
    pub error_message: Option<String>,
    /// The `answer` object when present (COMPLETED).
    pub answer: Option<Value>,
    /// The object as received.
    pub raw: Value,
}

/// One element of a submit (or cancel) response: a status, or an item error `{error_code, error_msg}`.
#[derive(Clone, Debug, PartialEq)]
pub enum SubmitItem {
    Status(ProblemStatus),
    Error {
        error_code: Option<i64>,
        error_msg: String,
    },
}

fn opt_str(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

impl ProblemStatus {
    /// Reads a status object; `None` if `id` or `status` is missing.
    pub fn from_json(v: &Value) -> Option<ProblemStatus> {
        Some(ProblemStatus {
            id: opt_str(v, "id")?,
            state: ProblemState::parse(v.get("status")?.as_str()?),
            problem_type: opt_str(v, "type"),
            label: opt_str(v, "label"),
            submitted_on: opt_str(v, "submitted_on"),
            solved_on: opt_str(v, "solved_on"),
            error_message: opt_str(v, "error_message"),
            answer: v.get("answer").filter(|a| !a.is_null()).cloned(),
            raw: v.clone(),
        })
    }
}

impl SubmitItem {
    /// Reads one response element; `None` if it is neither a status nor an item error.
    pub fn from_json(v: &Value) -> Option<SubmitItem> {
        if let Some(s) = ProblemStatus::from_json(v) {
            return Some(SubmitItem::Status(s));
        }
        if v.get("error_code").is_some() || v.get("error_msg").is_some() {
            return Some(SubmitItem::Error {
                error_code: v.get("error_code").and_then(Value::as_i64),
                error_msg: opt_str(v, "error_msg").unwrap_or_default(),
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_status_and_items() {
        let v = serde_json::json!({"id":"a","status":"FAILED","error_message":"boom"});
        let s = ProblemStatus::from_json(&v).unwrap();
        assert_eq!(
            (s.state.clone(), s.error_message.as_deref()),
            (ProblemState::Failed, Some("boom"))
        );
        assert!(s.state.is_terminal());
        assert!(!ProblemState::parse("PENDING").is_terminal());
        assert!(ProblemState::parse("WEIRD").is_terminal());
        let e = serde_json::json!({"error_code":400,"error_msg":"bad"});
        assert_eq!(
            SubmitItem::from_json(&e),
            Some(SubmitItem::Error {
                error_code: Some(400),
                error_msg: "bad".into()
            })
        );
        assert_eq!(SubmitItem::from_json(&serde_json::json!(3)), None);
    }
}
