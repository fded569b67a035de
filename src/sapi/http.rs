//! HTTP transport for SAPI: headers, media-type checks, timeouts, retries (`docs/sapi-protocol.md` §2, §3.7,
//! §8).
//!
//! Headers on every call: `X-Auth-Token`, `User-Agent: qasa/<version> …`, the versioned vendor `Accept`,
//! `Accept-Encoding: gzip` (reqwest decompresses). Problem POSTs: zlib body with `Content-Encoding: deflate`
//! and no `Content-Type` (§0.7). 2xx responses must carry the vendor media type (§2.2).
//!
//! Retry policy (exponential backoff `base · 2^n` capped at `max_delay`; `Retry-After` seconds win, capped):
//! * Idempotent requests (GET, DELETE): retried on connection errors, timeouts, 429 and 5xx.
//! * POST (problem submission) is never repeated when the problem could have been accepted:
//!   - a connect error (nothing was sent) and a 429/503 answer are retried — SAPI refused the request before
//!     accepting anything, so repeating cannot create a second problem;
//!   - anything after the request may have reached SAPI (timeout, connection reset while sending or reading,
//!     500/502/504, an unreadable 2xx body) returns [`ErrorKind::SubmitUncertain`] without retry: the problem
//!     may exist, and the caller must reconcile (e.g. `list_problems` by label) before resubmitting.
//! * Other 4xx are returned immediately (401/403 → `Auth`, 404/410 → `NotFound`, else `Rejected`).
//! * A refused connection (nothing listens at the address) fails at once: retrying cannot help, and the
//!   request was never sent. DNS failures and timeouts are retried.
//! * Every retry is reported to [`ClientOptions::on_retry`] (what is retried, why, after how long); the
//!   library never prints. [`ClientOptions::deadline`] bounds everything: each request's timeout is cut to
//!   the time left, and no retry starts that could not finish in time.
//!
//! Plain `http://` is refused unless the host is loopback (127.0.0.0/8, ::1, localhost).

use super::error::{ErrorKind, SapiError};
use super::media::{check_content_type, Resource};
use super::token::Token;
use reqwest::blocking::{Client, Response};
use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER,
};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Backoff schedule for retries.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff delay.
    pub base_delay: Duration,
    /// Cap on any delay (also on `Retry-After`).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Delay before retry number `n` (0-based), honouring a `Retry-After` in seconds.
    pub fn delay(&self, n: u32, retry_after: Option<Duration>) -> Duration {
        let backoff = self
            .base_delay
            .saturating_mul(1u32.checked_shl(n.min(31)).unwrap_or(u32::MAX));
        retry_after.unwrap_or(backoff).min(self.max_delay)
    }
}

/// One retry about to happen: what is retried, why, and after how long.
#[derive(Debug)]
pub struct RetryEvent<'a> {
    /// The retry number, 1 for the first retry.
    pub retry: u32,
    pub max_retries: u32,
    /// Wait before the retry.
    pub delay: Duration,
    /// `GET`, `POST`, `DELETE`.
    pub method: &'a str,
    /// The request URL (never contains the token).
    pub url: &'a str,
    /// Why the attempt failed.
    pub error: &'a SapiError,
}

/// A callback told about every retry (the CLI prints one line per retry to stderr).
#[derive(Clone)]
pub struct RetryObserver(pub Arc<dyn Fn(&RetryEvent<'_>) + Send + Sync>);

impl std::fmt::Debug for RetryObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RetryObserver")
    }
}

/// Timeouts and behaviour of the client.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// TCP/TLS connect timeout.
    pub connect_timeout: Duration,
    /// Timeout of a whole ordinary request (send + read response).
    pub request_timeout: Duration,
    /// Long-poll wait sent as `timeout=` (s, SAPI allows 1–30).
    pub long_poll_wait_s: u32,
    /// Extra time beyond the long-poll wait before the read times out.
    pub long_poll_margin: Duration,
    pub retry: RetryPolicy,
    /// zlib-compress problem POSTs (`Content-Encoding: deflate`), as the official client does by default.
    pub compress: bool,
    /// Told about every retry before its wait.
    pub on_retry: Option<RetryObserver>,
    /// No request runs past this instant (each request's timeout is cut to the time left, and no retry
    /// starts that could not finish in time): a bound on a whole command.
    pub deadline: Option<Instant>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(60),
            long_poll_wait_s: 30,
            long_poll_margin: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            compress: true,
            on_retry: None,
            deadline: None,
        }
    }
}

/// The `User-Agent` qasa sends.
pub fn user_agent() -> String {
    format!(
        "qasa/{} system/{} machine/{}",
        crate::TOOL_VERSION,
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// Whether a URL's host is a loopback address.
pub fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

/// Parses a base URL, adds a trailing `/`, and refuses plain http to non-loopback hosts.
pub fn parse_base_url(s: &str) -> Result<Url, SapiError> {
    let mut s = s.trim().to_string();
    if !s.ends_with('/') {
        s.push('/');
    }
    let url = Url::parse(&s).map_err(|e| {
        SapiError::new(
            ErrorKind::InsecureUrl,
            format!("cannot parse endpoint URL ({e}); give an https:// URL"),
        )
        .with_url(s.clone())
    })?;
    check_url(&url)?;
    Ok(url)
}

/// Refuses anything but https, except http to loopback (local test servers).
pub fn check_url(url: &Url) -> Result<(), SapiError> {
    let ok = match url.scheme() {
        "https" => true,
        "http" => is_loopback(url),
        _ => false,
    };
    if ok && url.username().is_empty() && url.password().is_none() {
        Ok(())
    } else {
        Err(SapiError::new(
            ErrorKind::InsecureUrl,
            "only https:// endpoints (or http:// to 127.0.0.0/8, ::1, localhost) without credentials in the URL are allowed; the token must not travel in clear text",
        )
        .with_url(redact_url(url)))
    }
}

fn redact_url(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

/// Everything but the RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`).
const NOT_UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a path segment or query value (everything except RFC 3986 unreserved characters).
pub fn pct_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, NOT_UNRESERVED).to_string()
}

/// A request to send.
pub struct Request<'a> {
    pub method: Method,
    pub url: Url,
    /// Media type expected (and asked for in `Accept`).
    pub resource: Resource,
    /// Raw JSON body (compressed here if `deflate`).
    pub body: Option<Vec<u8>>,
    pub deflate: bool,
    pub timeout: Duration,
    /// Problem id for error context.
    pub problem_id: Option<&'a str>,
}

/// HTTP transport shared by all SAPI calls.
#[derive(Clone)]
pub struct Transport {
    http: Client,
    token: Option<Token>,
    pub opts: ClientOptions,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("token", &self.token)
            .field("opts", &self.opts)
            .finish()
    }
}

fn parse_retry_after(h: &HeaderMap) -> Option<Duration> {
    let s = h.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let secs: f64 = s.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// `(error_code, error_msg)` from an error body: JSON `{error_code, error_msg}` or plain text (§3.7).
fn sapi_error_body(text: &str) -> (Option<i64>, Option<String>) {
    match serde_json::from_str::<Value>(text) {
        Ok(v) if v.is_object() => (
            v.get("error_code").and_then(Value::as_i64),
            v.get("error_msg")
                .or_else(|| v.get("error_message"))
                .and_then(Value::as_str)
                .map(str::to_string),
        ),
        _ => {
            let t: String = text.trim().chars().take(500).collect();
            (None, (!t.is_empty()).then_some(t))
        }
    }
}

fn status_kind(s: StatusCode) -> ErrorKind {
    match s.as_u16() {
        401 | 403 => ErrorKind::Auth,
        404 | 410 => ErrorKind::NotFound,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Server,
        _ => ErrorKind::Rejected,
    }
}

fn status_hint(s: StatusCode) -> &'static str {
    match s.as_u16() {
        401 | 403 => {
            "check the SAPI token (DWAVE_API_TOKEN or dwave.conf) and its access to the solver"
        }
        404 | 410 => "check the solver name / problem id and the region",
        429 => "SAPI rate limit; wait and try again later",
        500..=599 => "SAPI is failing; try again later",
        _ => "SAPI refused the request",
    }
}

enum Attempt {
    Done(Value),
    Retry(SapiError, Option<Duration>),
    Fail(SapiError),
}

impl Transport {
    pub fn new(
        token: Option<Token>,
        opts: ClientOptions,
        loopback_only: bool,
    ) -> Result<Transport, SapiError> {
        let mut b = Client::builder()
            .user_agent(user_agent())
            .connect_timeout(opts.connect_timeout)
            .timeout(opts.request_timeout)
            .gzip(true)
            .redirect(reqwest::redirect::Policy::none());
        if loopback_only {
            b = b.no_proxy();
        }
        let http = b.build().map_err(|e| {
            SapiError::new(ErrorKind::Config, format!("cannot build HTTP client: {e}"))
        })?;
        Ok(Transport { http, token, opts })
    }

    pub fn token(&self) -> Option<&Token> {
        self.token.as_ref()
    }

    /// Sends with the retry policy of the module docs; returns the parsed JSON of a 2xx response.
    pub fn send(&self, req: &Request<'_>) -> Result<Value, SapiError> {
        check_url(&req.url)?;
        let body = match (&req.body, req.deflate) {
            (Some(b), true) => {
                let mut enc =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
                enc.write_all(b)
                    .and_then(|_| enc.finish())
                    .map(Some)
                    .map_err(|e| {
                        SapiError::new(ErrorKind::Encode, format!("zlib compression failed: {e}"))
                    })?
            }
            (b, _) => b.clone(),
        };
        let idempotent = req.method != Method::POST;
        let mut n = 0u32;
        loop {
            let timeout = self.time_left(req)?;
            match self.attempt(req, body.as_deref(), idempotent, timeout) {
                Attempt::Done(v) => return Ok(v),
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry(e, after) => {
                    if n >= self.opts.retry.max_retries {
                        return Err(e);
                    }
                    let delay = self.opts.retry.delay(n, after);
                    if let Some(d) = self.opts.deadline {
                        if Instant::now() + delay >= d {
                            return Err(out_of_time(req, Some(e)));
                        }
                    }
                    n += 1;
                    if let Some(RetryObserver(hook)) = &self.opts.on_retry {
                        hook(&RetryEvent {
                            retry: n,
                            max_retries: self.opts.retry.max_retries,
                            delay,
                            method: req.method.as_str(),
                            url: req.url.as_str(),
                            error: &e,
                        });
                    }
                    std::thread::sleep(delay);
                }
            }
        }
    }

    /// The request's timeout cut to the time left before the deadline; an error when none is left.
    fn time_left(&self, req: &Request<'_>) -> Result<Duration, SapiError> {
        match self.opts.deadline {
            None => Ok(req.timeout),
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Ok(req.timeout.min(left)),
                _ => Err(out_of_time(req, None)),
            },
        }
    }

    fn attempt(
        &self,
        req: &Request<'_>,
        body: Option<&[u8]>,
        idempotent: bool,
        timeout: Duration,
    ) -> Attempt {
        let url_s = req.url.to_string();
        let ctx = |e: SapiError| {
            let e = e.with_url(url_s.clone());
            match req.problem_id {
                Some(p) => e.with_problem(p),
                None => e,
            }
        };
        let mut rb = self
            .http
            .request(req.method.clone(), req.url.clone())
            .timeout(timeout)
            .header(ACCEPT, req.resource.accept_header());
        if let Some(t) = &self.token {
            match HeaderValue::from_str(t.expose()) {
                Ok(mut hv) => {
                    hv.set_sensitive(true);
                    rb = rb.header("X-Auth-Token", hv);
                }
                Err(_) => {
                    return Attempt::Fail(ctx(SapiError::new(
                        ErrorKind::Config,
                        "the token contains characters not allowed in an HTTP header; check it",
                    )))
                }
            }
        }
        if let Some(b) = body {
            if req.deflate {
                rb = rb.header(CONTENT_ENCODING, "deflate");
            }
            rb = rb.body(b.to_vec());
        }
        let resp = match rb.send() {
            Ok(r) => r,
            Err(e) => {
                let msg = describe_reqwest(&e);
                if is_refused(&e) {
                    // Nothing listens there: the request was never sent, and repeating cannot help.
                    let host = req.url.host_str().unwrap_or("");
                    let port = req.url.port_or_known_default().unwrap_or(0);
                    return Attempt::Fail(ctx(SapiError::new(
                        ErrorKind::Transport,
                        format!("connection refused: no server is listening at {host}:{port}; check the endpoint URL and that the server runs"),
                    )
                    .with_source(e)));
                }
                if idempotent || e.is_connect() {
                    // Nothing was accepted: either the method is idempotent or the connection never opened.
                    return Attempt::Retry(
                        ctx(SapiError::new(ErrorKind::Transport, msg).with_source(e)),
                        None,
                    );
                }
                return Attempt::Fail(ctx(SapiError::new(
                    ErrorKind::SubmitUncertain,
                    format!("{msg}; the problem may have been submitted — list recent problems (by label) before resubmitting"),
                )
                .with_source(e)));
            }
        };
        self.handle_response(req, resp, idempotent, &ctx)
    }

    fn handle_response(
        &self,
        req: &Request<'_>,
        resp: Response,
        idempotent: bool,
        ctx: &dyn Fn(SapiError) -> SapiError,
    ) -> Attempt {
        let status = resp.status();
        let headers = resp.headers().clone();
        if status.is_success() {
            let ct = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
            if let Err(e) = check_content_type(req.resource, ct) {
                // 202 "Attempting to cancel problem in progress." is an error-shaped JSON body
                // `{error_code: 202, error_msg}` (§3.6), not a vendor resource: hand it to the caller.
                if status == StatusCode::ACCEPTED {
                    if let Some(v) = resp
                        .text()
                        .ok()
                        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                        .filter(|v| v.get("error_code").is_some())
                    {
                        return Attempt::Done(v);
                    }
                }
                return Attempt::Fail(ctx(SapiError::new(ErrorKind::MediaType, e.to_string())
                    .with_status(status.as_u16())));
            }
            let text = match resp.text() {
                Ok(t) => t,
                Err(e) => {
                    let msg = format!("reading the response failed: {}", describe_reqwest(&e));
                    return if idempotent {
                        Attempt::Retry(
                            ctx(SapiError::new(ErrorKind::Transport, msg)
                                .with_status(status.as_u16())
                                .with_source(e)),
                            None,
                        )
                    } else {
                        Attempt::Fail(ctx(SapiError::new(
                            ErrorKind::SubmitUncertain,
                            format!("{msg}; SAPI accepted the request but its answer was lost — list recent problems (by label) to find the ids"),
                        )
                        .with_status(status.as_u16())
                        .with_source(e)))
                    };
                }
            };
            return match serde_json::from_str::<Value>(&text) {
                Ok(v) => Attempt::Done(v),
                Err(e) => Attempt::Fail(ctx(SapiError::new(
                    ErrorKind::InvalidResponse,
                    format!("response body is not JSON ({e})"),
                )
                .with_status(status.as_u16()))),
            };
        }
        let retry_after = parse_retry_after(&headers);
        let text = resp.text().unwrap_or_default();
        let (code, msg) = sapi_error_body(&text);
        let err = ctx(SapiError::new(status_kind(status), status_hint(status))
            .with_status(status.as_u16())
            .with_sapi(code, msg));
        let s = status.as_u16();
        if s == 429 || s == 503 {
            // Refused before acceptance: safe to repeat even for POST.
            Attempt::Retry(err, retry_after)
        } else if (500..=599).contains(&s) {
            if idempotent {
                Attempt::Retry(err, retry_after)
            } else {
                let mut e = err;
                e.kind = ErrorKind::SubmitUncertain;
                e.message = "SAPI failed while handling the submission; the problem may have been submitted — list recent problems (by label) before resubmitting".into();
                Attempt::Fail(e)
            }
        } else {
            Attempt::Fail(err)
        }
    }
}

/// The error that ends a request when the deadline is reached (`last`: the failure that wanted a retry).
fn out_of_time(req: &Request<'_>, last: Option<SapiError>) -> SapiError {
    let msg = match &last {
        Some(e) => format!(
            "the time limit ran out before a retry could finish (last attempt: {})",
            e.message
        ),
        None => "the time limit ran out before the request could be sent".to_string(),
    };
    let e = SapiError::new(ErrorKind::TimeLimit, msg).with_url(req.url.to_string());
    let e = match req.problem_id {
        Some(p) => e.with_problem(p),
        None => e,
    };
    match last {
        Some(l) => SapiError {
            status: l.status,
            error_code: l.error_code,
            error_msg: l.error_msg,
            source: l.source,
            ..e
        },
        None => e,
    }
}

/// Whether the connection was refused (nothing listens at the address).
fn is_refused(e: &reqwest::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            return true;
        }
        cur = err.source();
    }
    false
}

fn describe_reqwest(e: &reqwest::Error) -> String {
    // reqwest errors carry the URL (no token: it is a header); strip it, the SapiError has its own.
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "response body broken"
    } else {
        "request failed"
    };
    let mut src = String::new();
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = cur {
        src = s.to_string();
        cur = s.source();
    }
    if src.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} ({src})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_policy() {
        assert!(parse_base_url("https://na-west-1.cloud.dwavesys.com/sapi/v2").is_ok());
        assert!(parse_base_url("http://127.0.0.1:8080/sapi/v2/").is_ok());
        assert!(parse_base_url("http://127.9.9.9/").is_ok());
        assert!(parse_base_url("http://localhost:1/").is_ok());
        assert!(parse_base_url("http://[::1]:1/").is_ok());
        for bad in [
            "http://cloud.dwavesys.com/sapi/",
            "http://10.0.0.1/",
            "ftp://127.0.0.1/",
            "https://u:p@x.com/",
            "nonsense",
        ] {
            let e = parse_base_url(bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InsecureUrl, "{bad}");
            assert!(!e.to_string().contains(":p@"));
        }
        assert_eq!(
            parse_base_url("https://x.com/sapi/v2").unwrap().as_str(),
            "https://x.com/sapi/v2/"
        );
    }

    #[test]
    fn backoff() {
        let p = RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        assert_eq!(p.delay(0, None), Duration::from_millis(100));
        assert_eq!(p.delay(3, None), Duration::from_millis(800));
        assert_eq!(p.delay(10, None), Duration::from_secs(1));
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(5))),
            Duration::from_secs(1)
        );
        assert_eq!(
            sapi_error_body(r#"{"error_code":404,"error_msg":"nope"}"#),
            (Some(404), Some("nope".into()))
        );
        assert_eq!(
            sapi_error_body("plain text"),
            (None, Some("plain text".into()))
        );
        assert_eq!(pct_encode("a,+b c"), "a%2C%2Bb%20c");
    }
}
