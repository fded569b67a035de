//! Errors of the SAPI client: one type with a kind and the context every failure needs (URL, HTTP status,
//! problem id, SAPI's `error_code` / `error_msg`). Error bodies follow `docs/sapi-protocol.md` §3.7.
//!
//! The token is never part of an error: URLs carry no credentials (the token travels in `X-Auth-Token`), and
//! response bodies are SAPI's, not ours.

use std::fmt;
use std::sync::Arc;

/// What went wrong, for callers that branch on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Configuration is missing or invalid (no token, bad profile, unreadable file, unknown region).
    Config,
    /// Plain `http://` to a non-loopback host, or an unparsable URL.
    InsecureUrl,
    /// 401/403: the token is wrong or lacks access.
    Auth,
    /// 404 (unknown solver / problem) or 410.
    NotFound,
    /// Other 4xx (400, 409, 415, …), or an item error inside a 200 submit response.
    Rejected,
    /// 429 after retries were exhausted (or on a POST whose retries were exhausted).
    RateLimited,
    /// 5xx after retries were exhausted.
    Server,
    /// Connection refused/reset/timeout on an idempotent request after retries.
    Transport,
    /// A problem POST failed ambiguously (connection dropped after sending, read timeout, 500/502/504): the
    /// problem MAY have been accepted. Not retried. Reconcile with `list_problems` (by label) before
    /// resubmitting.
    SubmitUncertain,
    /// 2xx with a wrong vendor media type / version (sapi-protocol.md §2.2).
    MediaType,
    /// 2xx whose body is not what the protocol says (bad JSON, wrong shape, undecodable answer).
    InvalidResponse,
    /// The problem ended `FAILED` (SAPI's `error_message`).
    ProblemFailed,
    /// The problem ended `CANCELLED`.
    ProblemCancelled,
    /// Our own polling deadline passed before the problem finished (it may still complete remotely).
    PollingTimeout,
    /// The time limit of the whole operation ([`super::ClientOptions::deadline`]) ran out.
    TimeLimit,
    /// The problem could not be encoded for the solver (qubit/coupler not in the working graph).
    Encode,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            ErrorKind::Config => "configuration error",
            ErrorKind::InsecureUrl => "refused URL",
            ErrorKind::Auth => "authentication failed",
            ErrorKind::NotFound => "not found",
            ErrorKind::Rejected => "request rejected",
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::Server => "SAPI server error",
            ErrorKind::Transport => "connection failed",
            ErrorKind::SubmitUncertain => "problem submission outcome unknown",
            ErrorKind::MediaType => "unexpected response media type",
            ErrorKind::InvalidResponse => "invalid SAPI response",
            ErrorKind::ProblemFailed => "problem failed",
            ErrorKind::ProblemCancelled => "problem cancelled",
            ErrorKind::PollingTimeout => "polling timed out",
            ErrorKind::TimeLimit => "time limit reached",
            ErrorKind::Encode => "cannot encode problem",
        };
        f.write_str(s)
    }
}

/// A SAPI client error with its context.
#[derive(Clone, Debug, thiserror::Error)]
pub struct SapiError {
    pub kind: ErrorKind,
    /// Human-readable cause, including what to do.
    pub message: Box<str>,
    /// The request URL (never contains the token).
    pub url: Option<String>,
    /// HTTP status, if a response arrived.
    pub status: Option<u16>,
    /// Problem id, when the error concerns one problem.
    pub problem_id: Option<String>,
    /// SAPI's `error_code` (from the body or an item error).
    pub error_code: Option<i64>,
    /// SAPI's `error_msg` / `error_message`, or the text body.
    pub error_msg: Option<String>,
    /// The transport error underneath (reqwest's chain: DNS, connect, TLS, timeout), when there is one.
    #[source]
    pub source: Option<Arc<reqwest::Error>>,
}

impl fmt::Display for SapiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)?;
        if let Some(m) = &self.error_msg {
            write!(f, "; SAPI says: {m}")?;
            if let Some(c) = self.error_code {
                write!(f, " (error_code {c})")?;
            }
        }
        if let Some(s) = self.status {
            write!(f, " [HTTP {s}]")?;
        }
        if let Some(p) = &self.problem_id {
            write!(f, " [problem {p}]")?;
        }
        if let Some(u) = &self.url {
            write!(f, " [{u}]")?;
        }
        Ok(())
    }
}

impl SapiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        SapiError {
            kind,
            message: message.into().into_boxed_str(),
            url: None,
            status: None,
            problem_id: None,
            error_code: None,
            error_msg: None,
            source: None,
        }
    }

    /// Keeps the transport error as the source of this one.
    pub fn with_source(mut self, e: reqwest::Error) -> Self {
        self.source = Some(Arc::new(e));
        self
    }

    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn with_problem(mut self, id: impl Into<String>) -> Self {
        self.problem_id = Some(id.into());
        self
    }

    pub fn with_sapi(mut self, code: Option<i64>, msg: Option<String>) -> Self {
        self.error_code = code;
        self.error_msg = msg;
        self
    }

    /// `true` when a problem submission may have been accepted although the call failed.
    pub fn may_have_submitted(&self) -> bool {
        self.kind == ErrorKind::SubmitUncertain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_carries_context() {
        let e = SapiError::new(ErrorKind::Rejected, "submit refused")
            .with_url("https://x/sapi/v2/problems/")
            .with_status(400)
            .with_problem("abc")
            .with_sapi(Some(400), Some("bad lin".into()));
        let s = e.to_string();
        for part in [
            "request rejected",
            "bad lin",
            "400",
            "abc",
            "https://x/sapi/v2/problems/",
        ] {
            assert!(s.contains(part), "{s}");
        }
    }
}
