//! Request routing: latency → fault injection → auth → `Accept` → endpoint (docs/sapi-protocol.md §1.3,
//! §3). Errors are `{"error_code", "error_msg"}` with `application/json`; 2xx responses carry the vendor
//! media type.

use super::http::{Reply, Request, Response};
use super::media::{self, Negotiation, Resource};
use super::store::{now_iso, problem_id, Problem, Status};
use super::worker::Job;
use super::{faults::RequestFault, ledger::LedgerEntry, submit, State};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const SAPI_PREFIX: &str = "/sapi/v2/";
const METADATA_PREFIX: &str = "/metadata/v1/";
const NO_PROBLEM: &str = "Problem does not exist or apitoken does not have access";
const GONE: &str = "Problem answer is no longer accessible (evicted: the server keeps answer_memory_mib MiB of answers)";

/// An error reply.
struct ApiError {
    status: u16,
    msg: String,
    retry_after: Option<u64>,
}

fn err(status: u16, msg: impl Into<String>) -> ApiError {
    ApiError {
        status,
        msg: msg.into(),
        retry_after: None,
    }
}

impl ApiError {
    fn response(&self) -> Response {
        let body = json!({"error_code": self.status, "error_msg": self.msg}).to_string();
        let r = Response::new(self.status, "application/json", body.into_bytes());
        match self.retry_after {
            Some(s) => r.with_header("Retry-After", &s.to_string()),
            None => r,
        }
    }
}

type Outcome = Result<Response, ApiError>;

/// A 2xx JSON reply with the vendor type (after negotiation).
fn ok(status: u16, media: Resource, neg: &Negotiation, body: &Value) -> Response {
    let r = Response::new(
        status,
        &media::content_type(media),
        body.to_string().into_bytes(),
    );
    if *neg == Negotiation::Deprecated {
        r.with_header("X-Deprecation", media::DEP_1)
    } else {
        r
    }
}

fn negotiate(state: &State, req: &Request, media: Resource) -> Result<Negotiation, ApiError> {
    match media::negotiate(req.header("accept"), media, state.config.strict_accept) {
        Negotiation::Unsupported(msg) => Err(err(415, msg)),
        n => Ok(n),
    }
}

/// Handle one request.
pub fn handle(state: &State, req: Request) -> Reply {
    if state.config.faults.latency_ms > 0 {
        std::thread::sleep(Duration::from_millis(state.config.faults.latency_ms));
    }
    if let Some(rest) = req.path.strip_prefix(METADATA_PREFIX) {
        let rest = rest.to_string();
        return Reply::Send(metadata(state, &req, &rest).unwrap_or_else(|e| e.response()));
    }
    let Some(rest) = req.path.strip_prefix(SAPI_PREFIX).map(str::to_string) else {
        return Reply::Send(
            err(
                404,
                format!(
                    "no such resource {}; the SAPI base URL is {}",
                    req.path,
                    base_url(state)
                ),
            )
            .response(),
        );
    };
    let n = state.counters.requests.fetch_add(1, Ordering::SeqCst);
    let fault = state.config.faults.request_fault(state.config.seed, n);
    if let RequestFault::Fail(status) = fault {
        state
            .counters
            .injected_failures
            .fetch_add(1, Ordering::SeqCst);
        return Reply::Send(injected(state, status).response());
    }
    if fault == RequestFault::Drop && state.config.faults.drop_before {
        state
            .counters
            .dropped_replies
            .fetch_add(1, Ordering::SeqCst);
        return Reply::Drop;
    }
    let resp = route(state, &req, &rest).unwrap_or_else(|e| e.response());
    if fault == RequestFault::Drop {
        state
            .counters
            .dropped_replies
            .fetch_add(1, Ordering::SeqCst);
        return Reply::Drop;
    }
    Reply::Send(resp)
}

fn injected(state: &State, status: u16) -> ApiError {
    let msg = match status {
        429 => "Too many requests (injected by the qasa server, fail_rate); retry after the Retry-After delay",
        _ => "Server error injected by the qasa server (fail_rate); the request was not processed",
    };
    let retry_after = matches!(status, 429 | 503).then_some(state.config.faults.retry_after_s);
    ApiError {
        status,
        msg: msg.into(),
        retry_after,
    }
}

fn base_url(state: &State) -> String {
    state.base_url.get().cloned().unwrap_or_default()
}

fn route(state: &State, req: &Request, rest: &str) -> Outcome {
    if let Some(t) = &state.config.token {
        if req.header("x-auth-token") != Some(t.expose()) {
            return Err(err(401, "Invalid token or access denied."));
        }
    }
    let parts: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let m = req.method.as_str();
    match (m, parts.as_slice()) {
        ("GET", ["solvers", "remote"]) => solvers_list(state, req),
        ("GET", ["solvers", "remote", name]) => solver_one(state, req, name),
        ("POST", ["problems"]) => submit(state, req),
        ("GET", ["problems"]) => problems_list(state, req),
        ("DELETE", ["problems"]) => cancel_many(state, req),
        ("GET", ["problems", id]) => problem_get(state, req, id),
        ("DELETE", ["problems", id]) => cancel_one(state, req, id),
        ("GET", ["problems", id, "answer"]) => problem_answer(state, req, id),
        ("GET", ["problems", id, "info"]) => problem_info(state, req, id),
        ("GET", ["problems", id, "messages"]) => problem_messages(state, req, id),
        (_, ["solvers", "remote", ..] | ["problems", ..]) => Err(err(
            405,
            format!("method {m} is not allowed on {}", req.path),
        )),
        _ => Err(err(404, format!("no such SAPI resource {}", req.path))),
    }
}

// ---------------------------------------------------------------- solvers

/// A solver definition with a weak ETag (hash of the body) and `Cache-Control: private, max-age=0`, so
/// clients revalidate with `If-None-Match` and get a body-less 304 when nothing changed (§2.3, S02).
fn cached(req: &Request, media: Resource, neg: &Negotiation, body: &Value) -> Response {
    let text = body.to_string();
    let digest = Sha256::digest(text.as_bytes());
    let etag = format!(
        "W/\"{}\"",
        digest
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let resp = if req
        .header("if-none-match")
        .map(|v| v.split(',').any(|t| t.trim() == etag))
        .unwrap_or(false)
    {
        Response {
            status: 304,
            headers: Vec::new(),
            body: Vec::new(),
        }
    } else {
        ok(200, media, neg, body)
    };
    resp.with_header("ETag", &etag)
        .with_header("Cache-Control", "private, max-age=0")
}

fn solvers_list(state: &State, req: &Request) -> Outcome {
    let neg = negotiate(state, req, Resource::SolverList)?;
    let filter = req.query_value("filter");
    let list: Vec<Value> = state
        .solvers
        .iter()
        .map(|s| with_status(state, s.record.view(filter)))
        .collect();
    Ok(cached(req, Resource::SolverList, &neg, &Value::Array(list)))
}

fn solver_one(state: &State, req: &Request, name: &str) -> Outcome {
    let neg = negotiate(state, req, Resource::Solver)?;
    let s = state
        .solvers
        .iter()
        .find(|s| s.record.name() == name)
        .ok_or_else(|| {
            err(
                404,
                format!("Solver does not exist or apitoken does not have access: {name}"),
            )
        })?;
    Ok(cached(
        req,
        Resource::Solver,
        &neg,
        &with_status(state, s.record.view(req.query_value("filter"))),
    ))
}

/// A solver view with `status: OFFLINE` once the server's solvers went offline (fault injection).
fn with_status(state: &State, mut view: Value) -> Value {
    let accepted = state.counters.problems_accepted.load(Ordering::SeqCst);
    if state.config.faults.offline(accepted) {
        if let Some(s) = view.get_mut("status") {
            *s = Value::from("OFFLINE");
        }
    }
    view
}

// ---------------------------------------------------------------- submit

fn decoded_body(req: &Request) -> Result<Vec<u8>, ApiError> {
    let enc = req
        .header("content-encoding")
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    let mut out = Vec::new();
    let res = match enc.as_str() {
        "" | "identity" => return Ok(req.body.clone()),
        "deflate" => {
            // zlib-wrapped as the client sends; fall back to raw deflate.
            flate2::read::ZlibDecoder::new(&req.body[..])
                .read_to_end(&mut out)
                .or_else(|_| {
                    out.clear();
                    flate2::read::DeflateDecoder::new(&req.body[..]).read_to_end(&mut out)
                })
        }
        "gzip" => flate2::read::GzDecoder::new(&req.body[..]).read_to_end(&mut out),
        other => {
            return Err(err(
                415,
                format!("unsupported Content-Encoding {other:?}; use deflate, gzip or none"),
            ))
        }
    };
    res.map_err(|e| err(400, format!("request body is not valid {enc} data: {e}")))?;
    Ok(out)
}

fn parse_json_body(req: &Request) -> Result<Value, ApiError> {
    let body = decoded_body(req)?;
    serde_json::from_slice(&body).map_err(|e| {
        err(
            400,
            format!(
                "request body is not JSON (line {}, column {}): {e}",
                e.line(),
                e.column()
            ),
        )
    })
}

fn submit(state: &State, req: &Request) -> Outcome {
    let neg = negotiate(state, req, Resource::Problems)?;
    let body = parse_json_body(req)?;
    let (items, single) = match body {
        Value::Array(a) if a.is_empty() => return Err(err(400, "empty list of problems")),
        Value::Array(a) => (a, false),
        obj @ Value::Object(_) => (vec![obj], true),
        _ => {
            return Err(err(
                400,
                "body must be a problem object or a list of problem objects",
            ))
        }
    };
    let solvers: Vec<_> = state
        .solvers
        .iter()
        .zip(&state.limits)
        .map(|(s, l)| (&s.record, l))
        .collect();
    let mut results: Vec<Result<String, String>> = Vec::with_capacity(items.len());
    for item in &items {
        let r = submit::validate(item, &solvers).and_then(|a| accept(state, a));
        if r.is_err() {
            state
                .counters
                .problems_rejected
                .fetch_add(1, Ordering::SeqCst);
        }
        results.push(r);
    }
    let ids: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().cloned())
        .collect();
    if !ids.is_empty() && state.config.submit_wait_ms > 0 {
        let deadline = Instant::now() + Duration::from_millis(state.config.submit_wait_ms);
        for id in &ids {
            let left = deadline.saturating_duration_since(Instant::now());
            drop(
                state
                    .store
                    .wait_any_terminal(std::slice::from_ref(id), left),
            );
        }
    }
    let g = state.store.lock();
    let out: Vec<Value> = results
        .iter()
        .map(|r| match r {
            Ok(id) => g
                .problems
                .get(id)
                .map(|p| p.status_json(true))
                .unwrap_or(Value::Null),
            Err(msg) => json!({"error_code": 400, "error_msg": msg}),
        })
        .collect();
    drop(g);
    if single {
        return match (results.first(), out.into_iter().next()) {
            (Some(Err(msg)), _) => Err(err(400, msg.clone())),
            (_, Some(v)) => Ok(ok(200, Resource::Problems, &neg, &v)),
            _ => Err(err(
                500,
                "internal error: no result for the submitted problem",
            )),
        };
    }
    Ok(ok(200, Resource::Problems, &neg, &Value::Array(out)))
}

/// Store, bill and queue an accepted problem; returns its id.
fn accept(state: &State, a: submit::Accepted) -> Result<String, String> {
    let mut g = state.store.lock();
    let index = g.next_index;
    if state.config.faults.offline(index) {
        return Err(
            "solver is offline (qasa serve --offline-after): not accepting problems".into(),
        );
    }
    let id = problem_id(state.config.seed, index);
    let submitted_on = now_iso();
    if let Some(ledger) = &state.ledger {
        let solver = state
            .solvers
            .get(a.solver_idx)
            .map(|s| s.record.name())
            .unwrap_or("");
        ledger
            .record(&LedgerEntry {
                id: &id,
                submitted_at: &submitted_on,
                solver,
                label: a.label.as_deref(),
                num_reads: a.num_reads,
                active_qubits: a.active_count,
                qpu_access_time_us: a.timing.access_us,
                lin_bytes: &a.lin_bytes,
            })
            .map_err(|e| format!("internal error, problem not accepted: {e}"))?;
    }
    g.next_index += 1;
    let p = Problem {
        id: id.clone(),
        index,
        problem_type: a.problem_type.as_str().into(),
        solver: a.solver_json.clone(),
        solver_name: state
            .solvers
            .get(a.solver_idx)
            .map(|s| s.record.name().to_string())
            .unwrap_or_default(),
        label: a.label.clone(),
        status: Status::Pending,
        submitted_on,
        solved_on: None,
        answer: None,
        error_message: None,
        data: a.data.clone(),
        params: a.params.clone(),
        cancel_requested: false,
        polls: 0,
        expired: false,
    };
    g.problems.insert(id.clone(), p);
    g.order.push(id.clone());
    drop(g);
    state
        .counters
        .problems_accepted
        .fetch_add(1, Ordering::SeqCst);
    let fail = state.config.faults.problem_fails(state.config.seed, index);
    let job = Job {
        id: id.clone(),
        index,
        fail,
        accepted: a,
    };
    let sent = state
        .jobs
        .lock()
        .ok()
        .and_then(|j| j.as_ref().map(|tx| tx.send(job).is_ok()))
        .unwrap_or(false);
    if !sent {
        state.store.update(&id, |p| {
            p.status = Status::Failed;
            p.error_message = Some("the server is shutting down; problem not sampled".into());
        });
    }
    Ok(id)
}

// ---------------------------------------------------------------- polling and problem resources

fn timeout_param(req: &Request) -> Result<Option<Duration>, ApiError> {
    match req.query_value("timeout") {
        None | Some("") => Ok(None),
        Some(t) => match t.trim().parse::<u64>() {
            Ok(s) if s <= 30 => Ok(Some(Duration::from_secs(s))),
            _ => Err(err(
                400,
                format!("timeout must be an integer number of seconds in [0, 30], got {t:?}"),
            )),
        },
    }
}

fn problems_list(state: &State, req: &Request) -> Outcome {
    let neg = negotiate(state, req, Resource::Problems)?;
    let Some(idlist) = req.query_value("id") else {
        return problems_filter(state, req, &neg);
    };
    let ids: Vec<String> = idlist
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if ids.is_empty() {
        return Err(err(400, "id= lists no problem ids"));
    }
    let timeout = timeout_param(req)?;
    {
        let mut g = state.store.lock();
        if !ids.iter().any(|id| g.problems.contains_key(id)) {
            return Err(err(404, NO_PROBLEM));
        }
        let first = ids
            .iter()
            .any(|id| g.problems.get(id).map(|p| p.polls == 0).unwrap_or(false));
        for id in &ids {
            if let Some(p) = g.problems.get_mut(id) {
                p.polls += 1;
            }
        }
        if first && state.config.faults.fail_first_poll {
            drop(g);
            state
                .counters
                .injected_failures
                .fetch_add(1, Ordering::SeqCst);
            return Err(ApiError {
                status: 429,
                msg: "Too many requests (first poll of a problem, injected by the qasa server, fail_first_poll)".into(),
                retry_after: Some(state.config.faults.retry_after_s),
            });
        }
    }
    let g = match timeout {
        Some(t) if !t.is_zero() => state.store.wait_any_terminal(&ids, t),
        _ => state.store.lock(),
    };
    let out: Vec<Value> = ids
        .iter()
        .filter_map(|id| g.problems.get(id))
        .map(|p| p.status_json(false))
        .collect();
    Ok(ok(200, Resource::Problems, &neg, &Value::Array(out)))
}

fn problems_filter(state: &State, req: &Request, neg: &Negotiation) -> Outcome {
    let max = match req.query_value("max_results") {
        None => 1000,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|m| (1..=1000).contains(m))
            .ok_or_else(|| {
                err(
                    400,
                    format!("max_results must be an integer in [1, 1000], got {m:?}"),
                )
            })?,
    };
    let status = match req.query_value("status") {
        None => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            err(400, format!("unknown status {s:?}; use PENDING, IN_PROGRESS, COMPLETED, FAILED or CANCELLED"))
        })?),
    };
    let label = req.query_value("label");
    let solver = req.query_value("solver");
    let g = state.store.lock();
    let out: Vec<Value> = g
        .order
        .iter()
        .rev()
        .filter_map(|id| g.problems.get(id))
        .filter(|p| status.map(|s| p.status == s).unwrap_or(true))
        .filter(|p| {
            label
                .map(|l| p.label.as_deref().unwrap_or("").contains(l))
                .unwrap_or(true)
        })
        .filter(|p| solver.map(|s| p.solver_name == s).unwrap_or(true))
        .take(max)
        .map(|p| p.status_json(false))
        .collect();
    Ok(ok(200, Resource::Problems, neg, &Value::Array(out)))
}

fn problem_get(state: &State, req: &Request, id: &str) -> Outcome {
    let neg = negotiate(state, req, Resource::Problem)?;
    let timeout = timeout_param(req)?;
    if !state.store.lock().problems.contains_key(id) {
        return Err(err(404, NO_PROBLEM));
    }
    let ids = [id.to_string()];
    let g = match timeout {
        Some(t) if !t.is_zero() => state.store.wait_any_terminal(&ids, t),
        _ => state.store.lock(),
    };
    let p = g.problems.get(id).ok_or_else(|| err(404, NO_PROBLEM))?;
    if p.expired {
        return Err(err(410, GONE));
    }
    Ok(ok(200, Resource::Problem, &neg, &p.status_json(true)))
}

fn problem_answer(state: &State, req: &Request, id: &str) -> Outcome {
    let neg = negotiate(state, req, Resource::ProblemAnswer)?;
    let g = state.store.lock();
    let p = g.problems.get(id).ok_or_else(|| err(404, NO_PROBLEM))?;
    if p.expired {
        return Err(err(410, GONE));
    }
    match (&p.status, &p.answer) {
        (Status::Completed, Some(a)) => Ok(ok(
            200,
            Resource::ProblemAnswer,
            &neg,
            &json!({"answer": a}),
        )),
        (s, _) => Err(err(
            404,
            format!("Problem {id} has no answer (status {})", s.as_str()),
        )),
    }
}

fn problem_info(state: &State, req: &Request, id: &str) -> Outcome {
    let neg = negotiate(state, req, Resource::ProblemData)?;
    let g = state.store.lock();
    let p = g.problems.get(id).ok_or_else(|| err(404, NO_PROBLEM))?;
    let mut meta = p.status_json(false);
    if let Value::Object(m) = &mut meta {
        m.remove("id");
        m.insert("submitted_by".into(), json!("qasa-serve"));
        m.insert("messages".into(), messages_of(p));
    }
    let mut info = json!({"id": p.id, "data": p.data, "params": p.params, "metadata": meta});
    if let (Some(a), Value::Object(m)) = (&p.answer, &mut info) {
        m.insert("answer".into(), a.clone());
    }
    Ok(ok(200, Resource::ProblemData, &neg, &info))
}

fn messages_of(p: &Problem) -> Value {
    match &p.error_message {
        Some(msg) => json!([{"timestamp": p.solved_on, "message": msg, "severity": "ERROR"}]),
        None => json!([]),
    }
}

fn problem_messages(state: &State, req: &Request, id: &str) -> Outcome {
    let neg = negotiate(state, req, Resource::ProblemMessages)?;
    let g = state.store.lock();
    let p = g.problems.get(id).ok_or_else(|| err(404, NO_PROBLEM))?;
    Ok(ok(200, Resource::ProblemMessages, &neg, &messages_of(p)))
}

// ---------------------------------------------------------------- cancel

/// Cancel one problem under the lock: Ok(status object) or Err((code, message)).
fn cancel_locked(state: &State, id: &str) -> Result<Value, (u16, String)> {
    let mut g = state.store.lock();
    let p = g
        .problems
        .get_mut(id)
        .ok_or((404, NO_PROBLEM.to_string()))?;
    match p.status {
        Status::Pending => {
            p.status = Status::Cancelled;
            p.solved_on = Some(now_iso());
            Ok(p.status_json(false))
        }
        Status::InProgress => {
            p.cancel_requested = true;
            Err((202, "Attempting to cancel problem in progress.".into()))
        }
        _ => Err((409, "Problem has been finished.".into())),
    }
}

fn cancel_many(state: &State, req: &Request) -> Outcome {
    let neg = negotiate(state, req, Resource::Problems)?;
    let body = parse_json_body(req)?;
    let ids: Vec<String> = body
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    if ids.is_empty() {
        return Err(err(
            400,
            "DELETE problems/ needs a JSON list of problem ids in the body",
        ));
    }
    let out: Vec<Value> = ids
        .iter()
        .map(|id| match cancel_locked(state, id) {
            Ok(v) => v,
            Err((code, msg)) => json!({"error_code": code, "error_msg": msg}),
        })
        .collect();
    state.store.notify();
    Ok(ok(200, Resource::Problems, &neg, &Value::Array(out)))
}

fn cancel_one(state: &State, req: &Request, id: &str) -> Outcome {
    let neg = negotiate(state, req, Resource::Problem)?;
    let r = cancel_locked(state, id);
    state.store.notify();
    match r {
        Ok(v) => Ok(ok(200, Resource::Problem, &neg, &v)),
        Err((code, msg)) => Err(err(code, msg)),
    }
}

// ---------------------------------------------------------------- metadata API

fn metadata(state: &State, req: &Request, rest: &str) -> Outcome {
    if req.method != "GET" {
        return Err(err(
            405,
            format!("method {} is not allowed on {}", req.method, req.path),
        ));
    }
    let endpoint = base_url(state);
    let regions = json!([
        {"code": "na-west-1", "name": "North America (West), qasa local", "endpoint": endpoint},
        {"code": "eu-central-1", "name": "Europe, qasa local", "endpoint": endpoint},
        {"code": "na-east-1", "name": "North America (East), qasa local", "endpoint": endpoint},
    ]);
    let parts: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    match parts.as_slice() {
        ["regions"] => {
            let neg = negotiate(state, req, Resource::Regions)?;
            Ok(ok(200, Resource::Regions, &neg, &regions)
                .with_header("Cache-Control", "private, max-age=604800"))
        }
        ["regions", code] => {
            let neg = negotiate(state, req, Resource::Region)?;
            let r = regions
                .as_array()
                .and_then(|a| a.iter().find(|r| r["code"] == *code))
                .ok_or_else(|| {
                    err(
                        404,
                        format!(
                            "unknown region {code:?}; known: na-west-1, eu-central-1, na-east-1"
                        ),
                    )
                })?;
            Ok(ok(200, Resource::Region, &neg, r))
        }
        _ => Err(err(
            404,
            format!("no such Metadata API resource {}", req.path),
        )),
    }
}
