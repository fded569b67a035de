//! The SAPI client: region discovery, solvers, submit, poll, answers, cancel
//! (`docs/sapi-protocol.md` §1–§3; request shapes as the official client sends them, `sapi-transcript.md`).
//!
//! * Solvers are fetched like dwave-cloud-client does: a static view `filter=all,-status,-avg_load` and a
//!   dynamic view `filter=none,+identity,+status,+avg_load`, merged (§1.4 step 1, §3.1).
//! * Submit: `POST problems/` with a one-element JSON list `[{solver, data, type, params, label}]`
//!   (key order as the official client), zlib-compressed (§3.2). Never retried once it may have been
//!   accepted (see [`super::http`]).
//! * Status: long polling `GET problems/?id=…&timeout=30` until terminal (§3.3); then `GET problems/{id}/`
//!   if the answer was not inline (§1.4 step 4).
//! * Cancel: `DELETE problems/` with a JSON list of ids, no `Content-Type` (§3.6).

use super::config::SapiConfig;
use super::counts::{count_answer, AnswerCounts};
use super::error::{ErrorKind, SapiError};
use super::http::{parse_base_url, pct_encode, ClientOptions, Request, Transport};
use super::media::Resource;
use super::problem::{ProblemState, ProblemStatus, SubmitItem};
use super::qp::{decode_answer, encode_ising, QpAnswer};
use super::solver::SolverRecord;
use super::token::Token;
use reqwest::{Method, Url};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Global default SAPI endpoint (used for the default region without a metadata call, §1.1).
pub const DEFAULT_SAPI_ENDPOINT: &str = "https://cloud.dwavesys.com/sapi/";
/// Default Metadata API base (§1.2).
pub const DEFAULT_METADATA_ENDPOINT: &str = "https://cloud.dwavesys.com/metadata/v1/";
/// Default region.
pub const DEFAULT_REGION: &str = "na-west-1";

const FILTER_STATIC: &str = "filter=all%2C-status%2C-avg_load";
const FILTER_DYNAMIC: &str = "filter=none%2C%2Bidentity%2C%2Bstatus%2C%2Bavg_load";

/// A SAPI region from the Metadata API.
#[derive(Clone, Debug, PartialEq, serde::Deserialize, Serialize)]
pub struct Region {
    pub code: String,
    pub name: String,
    pub endpoint: String,
}

/// A blocking SAPI client bound to one endpoint and token.
#[derive(Clone, Debug)]
pub struct SapiClient {
    base: Url,
    transport: Transport,
}

/// JSON number like Python writes it: integral values without a fraction (the official client sends
/// `"offset":0` for an int offset).
fn py_number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

/// Lists regions from the Metadata API (`GET {metadata}regions/`, §1.2). The token is sent as the official
/// client does.
pub fn list_regions(
    metadata_endpoint: &str,
    token: Option<Token>,
    opts: &ClientOptions,
) -> Result<Vec<Region>, SapiError> {
    let base = parse_base_url(metadata_endpoint)?;
    let url = join(&base, "regions/")?;
    let t = Transport::new(token, opts.clone(), super::http::is_loopback(&base))?;
    let v = t.send(&Request {
        method: Method::GET,
        url: url.clone(),
        resource: Resource::Regions,
        body: None,
        deflate: false,
        timeout: opts.request_timeout,
        problem_id: None,
    })?;
    serde_json::from_value(v).map_err(|e| {
        SapiError::new(
            ErrorKind::InvalidResponse,
            format!("regions list malformed ({e})"),
        )
        .with_url(url.to_string())
    })
}

/// The SAPI base URL for a configuration (§1.2 `resolve_endpoints`): explicit endpoint; else the default
/// region with the default metadata endpoint → [`DEFAULT_SAPI_ENDPOINT`] without a request; else the
/// region's endpoint from the Metadata API. Unlike Ocean, a failing metadata lookup for an explicitly chosen
/// region is an error (never silently another region).
pub fn resolve_endpoint(cfg: &SapiConfig, opts: &ClientOptions) -> Result<String, SapiError> {
    if let Some(e) = &cfg.endpoint {
        return Ok(e.clone());
    }
    let region = cfg.region.as_deref().unwrap_or(DEFAULT_REGION);
    let meta = cfg
        .metadata_api_endpoint
        .as_deref()
        .unwrap_or(DEFAULT_METADATA_ENDPOINT);
    if region == DEFAULT_REGION
        && meta.trim_end_matches('/') == DEFAULT_METADATA_ENDPOINT.trim_end_matches('/')
    {
        return Ok(DEFAULT_SAPI_ENDPOINT.to_string());
    }
    let regions = list_regions(meta, cfg.token.clone(), opts)?;
    regions
        .iter()
        .find(|r| r.code == region)
        .map(|r| r.endpoint.clone())
        .ok_or_else(|| {
            let codes: Vec<&str> = regions.iter().map(|r| r.code.as_str()).collect();
            SapiError::new(
                ErrorKind::Config,
                format!("unknown region '{region}'; available: {}", codes.join(", ")),
            )
        })
}

fn join(base: &Url, rel: &str) -> Result<Url, SapiError> {
    base.join(rel).map_err(|e| {
        SapiError::new(
            ErrorKind::InsecureUrl,
            format!("cannot build URL from '{rel}': {e}"),
        )
        .with_url(base.to_string())
    })
}

fn invalid(url: &Url, what: &str) -> SapiError {
    SapiError::new(ErrorKind::InvalidResponse, what.to_string()).with_url(url.to_string())
}

impl SapiClient {
    /// A client for an explicit SAPI base URL (e.g. `https://na-west-1.cloud.dwavesys.com/sapi/v2/`).
    pub fn new(endpoint: &str, token: Token, opts: ClientOptions) -> Result<SapiClient, SapiError> {
        let base = parse_base_url(endpoint)?;
        let transport = Transport::new(Some(token), opts, super::http::is_loopback(&base))?;
        Ok(SapiClient { base, transport })
    }

    /// A client from resolved configuration: requires a token; resolves region → endpoint; applies
    /// `request_timeout` from the config if set.
    pub fn from_config(cfg: &SapiConfig, mut opts: ClientOptions) -> Result<SapiClient, SapiError> {
        let token = cfg.token.clone().ok_or_else(|| {
            SapiError::new(
                ErrorKind::Config,
                "no SAPI token: set DWAVE_API_TOKEN or add `token = …` to dwave.conf; to try everything \
                 offline, `qasa serve` runs a local SAPI server backed by a virtual QPU (any token works)",
            )
        })?;
        if let Some(t) = cfg.request_timeout_s.filter(|t| t.is_finite() && *t > 0.0) {
            opts.request_timeout = Duration::from_secs_f64(t);
            opts.connect_timeout = opts.connect_timeout.min(opts.request_timeout);
        }
        let endpoint = resolve_endpoint(cfg, &opts)?;
        SapiClient::new(&endpoint, token, opts)
    }

    /// The SAPI base URL in use.
    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    fn get(
        &self,
        rel: &str,
        resource: Resource,
        timeout: Duration,
        problem_id: Option<&str>,
    ) -> Result<(Url, Value), SapiError> {
        let url = join(&self.base, rel)?;
        let v = self.transport.send(&Request {
            method: Method::GET,
            url: url.clone(),
            resource,
            body: None,
            deflate: false,
            timeout,
            problem_id,
        })?;
        Ok((url, v))
    }

    fn timeout(&self) -> Duration {
        self.transport.opts.request_timeout
    }

    /// A 404 from a solver resource: when the endpoint has no `/sapi/` path (or for the list, which every
    /// SAPI serves), the base URL is probably missing its path; else the solver name is unknown.
    fn solver_not_found(&self, e: SapiError, name: Option<&str>) -> SapiError {
        if e.kind != ErrorKind::NotFound {
            return e;
        }
        let path = self.base.path();
        let message = if name.is_none() || !path.contains("/sapi") {
            format!(
                "there is no SAPI solver list at this URL; the endpoint's path is probably missing or wrong \
                 (SAPI base URLs end in /sapi/v2/, e.g. https://na-west-1.cloud.dwavesys.com/sapi/v2/; \
                 this endpoint is {})",
                self.base
            )
        } else {
            format!(
                "no solver named {:?} at this endpoint; check the name (the solver list shows the available ones) and the region",
                name.unwrap_or_default()
            )
        };
        SapiError {
            message: message.into(),
            ..e
        }
    }

    /// All solvers (static and dynamic views merged by name).
    pub fn list_solvers(&self) -> Result<Vec<SolverRecord>, SapiError> {
        let (url, stat) = self
            .get(
                &format!("solvers/remote/?{FILTER_STATIC}"),
                Resource::SolverList,
                self.timeout(),
                None,
            )
            .map_err(|e| self.solver_not_found(e, None))?;
        let (_, dynamic) = self.get(
            &format!("solvers/remote/?{FILTER_DYNAMIC}"),
            Resource::SolverList,
            self.timeout(),
            None,
        )?;
        let stat = stat
            .as_array()
            .ok_or_else(|| invalid(&url, "solver list is not a JSON array"))?;
        let dynamic = dynamic.as_array().cloned().unwrap_or_default();
        stat.iter()
            .map(|v| {
                let mut r =
                    SolverRecord::from_json(v).map_err(|e| invalid(&url, &e.to_string()))?;
                if let Some(d) = dynamic
                    .iter()
                    .find(|d| SolverRecord::name_of(d) == Some(r.name.as_str()))
                {
                    r.merge_dynamic(d);
                }
                Ok(r)
            })
            .collect()
    }

    /// One solver by name (404 → `NotFound`).
    pub fn get_solver(&self, name: &str) -> Result<SolverRecord, SapiError> {
        let path = format!("solvers/remote/{}", pct_encode(name));
        let (url, stat) = self
            .get(
                &format!("{path}?{FILTER_STATIC}"),
                Resource::Solver,
                self.timeout(),
                None,
            )
            .map_err(|e| self.solver_not_found(e, Some(name)))?;
        let (_, dynamic) = self.get(
            &format!("{path}?{FILTER_DYNAMIC}"),
            Resource::Solver,
            self.timeout(),
            None,
        )?;
        let mut r = SolverRecord::from_json(&stat).map_err(|e| invalid(&url, &e.to_string()))?;
        r.merge_dynamic(&dynamic);
        Ok(r)
    }

    /// The solver named or described by the configured `solver` value (`DWAVE_API_SOLVER`, dwave.conf), see
    /// [`super::select`]: a name fetches that solver; a JSON filter or nothing lists and picks.
    pub fn select_solver(&self, configured: Option<&str>) -> Result<SolverRecord, SapiError> {
        use super::select::{select, SolverSpec};
        match SolverSpec::parse(configured) {
            SolverSpec::Name { name, graph_id } => {
                let s = self.get_solver(&name)?;
                if let Some(g) = graph_id.filter(|g| s.graph_id.as_ref() != Some(g)) {
                    return Err(SapiError::new(
                        ErrorKind::NotFound,
                        format!(
                            "solver {name} has graph_id {:?}, not {g}; its working graph changed",
                            s.graph_id
                        ),
                    ));
                }
                Ok(s)
            }
            spec => select(&self.list_solvers()?, &spec),
        }
    }

    /// Submits an Ising problem in `qp` format (§3.2, §4). `params` are solver parameters (`num_reads`, …);
    /// `label` is sent top-level. Returns the status SAPI answered (PENDING, or COMPLETED with `answer`).
    ///
    /// An item error inside the 200 response → `Rejected` with SAPI's `error_code`/`error_msg`. An ambiguous
    /// failure → `SubmitUncertain` (never retried; reconcile with [`SapiClient::list_problems`]).
    pub fn submit_ising(
        &self,
        solver: &SolverRecord,
        h: &BTreeMap<u32, f64>,
        j: &BTreeMap<(u32, u32), f64>,
        params: &Map<String, Value>,
        label: Option<&str>,
    ) -> Result<ProblemStatus, SapiError> {
        let qp = encode_ising(solver.qubits(), solver.couplers(), h, j).map_err(|e| {
            SapiError::new(ErrorKind::Encode, format!("{e} (solver {})", solver.name))
        })?;
        let body = problem_body(solver, &qp, 0.0, params, label)?;
        let url = join(&self.base, "problems/")?;
        let v = self.transport.send(&Request {
            method: Method::POST,
            url: url.clone(),
            resource: Resource::Problems,
            body: Some(body),
            deflate: self.transport.opts.compress,
            timeout: self.timeout(),
            problem_id: None,
        })?;
        // SAPI accepted the request: from here on, errors must say the problem may exist.
        let uncertain = |what: &str| {
            SapiError::new(
                ErrorKind::SubmitUncertain,
                format!("{what}; the problem may have been submitted — list recent problems (by label) before resubmitting"),
            )
            .with_url(url.to_string())
        };
        let items = v
            .as_array()
            .ok_or_else(|| uncertain("submit response is not a JSON list"))?;
        let first = items
            .first()
            .ok_or_else(|| uncertain("submit response is an empty list"))?;
        match SubmitItem::from_json(first) {
            Some(SubmitItem::Status(s)) => Ok(s),
            Some(SubmitItem::Error {
                error_code,
                error_msg,
            }) => Err(SapiError::new(
                ErrorKind::Rejected,
                "SAPI rejected the problem (nothing was submitted); fix the problem or parameters",
            )
            .with_url(url.to_string())
            .with_sapi(error_code, Some(error_msg))),
            None => Err(uncertain(
                "submit response item is neither a status nor an error",
            )),
        }
    }

    /// One long-poll round: `GET problems/?id=a%2Cb&timeout=N` (§3.3). Blocks up to the wait.
    pub fn poll(&self, ids: &[&str]) -> Result<Vec<ProblemStatus>, SapiError> {
        let idq: Vec<String> = ids.iter().map(|i| pct_encode(i)).collect();
        let wait = self.transport.opts.long_poll_wait_s;
        let rel = if wait > 0 {
            format!("problems/?id={}&timeout={wait}", idq.join("%2C"))
        } else {
            format!("problems/?id={}", idq.join("%2C"))
        };
        let timeout = Duration::from_secs(u64::from(wait)) + self.transport.opts.long_poll_margin;
        let (url, v) = self.get(&rel, Resource::Problems, timeout, ids.first().copied())?;
        statuses(&url, &v)
    }

    /// `GET problems/{id}/`: status, with `answer` when completed.
    pub fn get_problem(&self, id: &str) -> Result<ProblemStatus, SapiError> {
        let (url, v) = self.get(
            &format!("problems/{}/", pct_encode(id)),
            Resource::Problem,
            self.timeout(),
            Some(id),
        )?;
        ProblemStatus::from_json(&v)
            .ok_or_else(|| invalid(&url, "problem status lacks id or status").with_problem(id))
    }

    /// `GET problems/{id}/answer` → the `answer` object.
    pub fn get_answer(&self, id: &str) -> Result<Value, SapiError> {
        let (url, v) = self.get(
            &format!("problems/{}/answer", pct_encode(id)),
            Resource::ProblemAnswer,
            self.timeout(),
            Some(id),
        )?;
        v.get("answer")
            .cloned()
            .ok_or_else(|| invalid(&url, "answer response lacks `answer`").with_problem(id))
    }

    /// Recent problems, optionally filtered by label substring (`GET problems/?label=…&max_results=…`), for
    /// reconciling after a `SubmitUncertain` error.
    pub fn list_problems(
        &self,
        label: Option<&str>,
        max_results: Option<u32>,
    ) -> Result<Vec<ProblemStatus>, SapiError> {
        let mut q = Vec::new();
        if let Some(l) = label {
            q.push(format!("label={}", pct_encode(l)));
        }
        if let Some(m) = max_results {
            q.push(format!("max_results={m}"));
        }
        let rel = if q.is_empty() {
            "problems/".to_string()
        } else {
            format!("problems/?{}", q.join("&"))
        };
        let (url, v) = self.get(&rel, Resource::Problems, self.timeout(), None)?;
        statuses(&url, &v)
    }

    /// Cancels problems: `DELETE problems/` with `["id", …]` (§3.6). Returns the per-id items.
    pub fn cancel(&self, ids: &[&str]) -> Result<Vec<SubmitItem>, SapiError> {
        let url = join(&self.base, "problems/")?;
        let body = serde_json::to_vec(ids)
            .map_err(|e| SapiError::new(ErrorKind::Encode, e.to_string()))?;
        let v = self.transport.send(&Request {
            method: Method::DELETE,
            url: url.clone(),
            resource: Resource::Problems,
            body: Some(body),
            deflate: false,
            timeout: self.timeout(),
            problem_id: ids.first().copied(),
        })?;
        Ok(v.as_array()
            .map(|a| a.iter().filter_map(SubmitItem::from_json).collect())
            .unwrap_or_default())
    }

    /// Cancels one problem: `DELETE problems/{id}` (§3.6). Pending → its `CANCELLED` status; in progress
    /// (202 "Attempting to cancel problem in progress.") → an `IN_PROGRESS` status whose `raw` is SAPI's reply
    /// (poll to learn whether the cancel took effect); 409 (finished) → `Rejected`.
    pub fn cancel_problem(&self, id: &str) -> Result<ProblemStatus, SapiError> {
        let url = join(&self.base, &format!("problems/{}", pct_encode(id)))?;
        let v = self.transport.send(&Request {
            method: Method::DELETE,
            url: url.clone(),
            resource: Resource::Problem,
            body: None,
            deflate: false,
            timeout: self.timeout(),
            problem_id: Some(id),
        })?;
        if v.get("error_code").and_then(Value::as_i64) == Some(202) {
            return Ok(ProblemStatus {
                id: id.to_string(),
                state: ProblemState::InProgress,
                problem_type: None,
                label: None,
                submitted_on: None,
                solved_on: None,
                error_message: None,
                answer: None,
                raw: v,
            });
        }
        ProblemStatus::from_json(&v)
            .ok_or_else(|| invalid(&url, "problem status lacks id or status").with_problem(id))
    }

    /// Waits for a problem to finish by long polling, then returns its status with `answer`.
    /// `FAILED` → `ProblemFailed` (SAPI's `error_message`), `CANCELLED` → `ProblemCancelled`,
    /// deadline passed → `PollingTimeout`.
    pub fn wait(
        &self,
        status: ProblemStatus,
        polling_timeout: Option<Duration>,
    ) -> Result<ProblemStatus, SapiError> {
        let start = Instant::now();
        let mut st = status;
        while !st.state.is_terminal() {
            if polling_timeout.is_some_and(|t| start.elapsed() >= t) {
                return Err(SapiError::new(
                    ErrorKind::PollingTimeout,
                    "the problem did not finish in time; it may still complete — fetch it later by id or cancel it",
                )
                .with_problem(st.id.clone()));
            }
            let id = st.id.clone();
            let polled = self.poll(&[&id])?;
            st = polled.into_iter().find(|s| s.id == id).ok_or_else(|| {
                SapiError::new(
                    ErrorKind::InvalidResponse,
                    "poll response does not list the problem",
                )
                .with_problem(id.clone())
            })?;
        }
        match &st.state {
            ProblemState::Completed if st.answer.is_some() => Ok(st),
            ProblemState::Completed => self.get_problem(&st.id),
            ProblemState::Failed => Err(SapiError::new(
                ErrorKind::ProblemFailed,
                "the solver failed the problem",
            )
            .with_problem(st.id.clone())
            .with_sapi(None, st.error_message.clone())),
            ProblemState::Cancelled => Err(SapiError::new(
                ErrorKind::ProblemCancelled,
                "the problem was cancelled",
            )
            .with_problem(st.id.clone())),
            other => Err(SapiError::new(
                ErrorKind::ProblemFailed,
                format!("unknown problem status '{}'", other.as_str()),
            )
            .with_problem(st.id.clone())),
        }
    }

    /// Submit, wait and decode into per-qubit counts (and per-coupler agree counts when `pair_couplers` is
    /// given). Returns the problem id with the counts.
    pub fn sample_ising_counts(
        &self,
        job: &IsingJob<'_>,
        pair_couplers: Option<&[(u32, u32)]>,
        polling_timeout: Option<Duration>,
    ) -> Result<(String, AnswerCounts), SapiError> {
        let (id, answer) = self.run(job, polling_timeout)?;
        let counts = count_answer(&answer, pair_couplers).map_err(|e| {
            SapiError::new(
                ErrorKind::InvalidResponse,
                format!("answer cannot be decoded: {e}"),
            )
            .with_problem(id.clone())
        })?;
        Ok((id, counts))
    }

    /// Submit, wait and decode the full answer (per-row solutions).
    pub fn sample_ising(
        &self,
        job: &IsingJob<'_>,
        polling_timeout: Option<Duration>,
    ) -> Result<(String, QpAnswer), SapiError> {
        let (id, answer) = self.run(job, polling_timeout)?;
        let a = decode_answer(&answer).map_err(|e| {
            SapiError::new(
                ErrorKind::InvalidResponse,
                format!("answer cannot be decoded: {e}"),
            )
            .with_problem(id.clone())
        })?;
        Ok((id, a))
    }

    fn run(
        &self,
        job: &IsingJob<'_>,
        polling_timeout: Option<Duration>,
    ) -> Result<(String, Value), SapiError> {
        let st = self.submit_ising(job.solver, job.h, job.j, job.params, job.label)?;
        let done = self.wait(st, polling_timeout)?;
        match done.answer {
            Some(a) => Ok((done.id, a)),
            None => Err(SapiError::new(
                ErrorKind::InvalidResponse,
                "completed problem has no answer",
            )
            .with_problem(done.id)),
        }
    }
}

/// One Ising problem to run on a solver.
#[derive(Clone, Copy, Debug)]
pub struct IsingJob<'a> {
    pub solver: &'a SolverRecord,
    pub h: &'a BTreeMap<u32, f64>,
    pub j: &'a BTreeMap<(u32, u32), f64>,
    /// Solver parameters (`num_reads`, `annealing_time`, `auto_scale`, …).
    pub params: &'a Map<String, Value>,
    pub label: Option<&'a str>,
}

/// One job of a `POST problems/` body; fields in the order the official client sends them (§3.2,
/// sapi-transcript.md S02): `solver`, `data`, `type`, `params`, `label`.
#[derive(Serialize)]
struct Job<'a> {
    solver: JobSolver<'a>,
    data: JobData,
    #[serde(rename = "type")]
    kind: &'a str,
    /// Sorted by name (the official client keeps the caller's order).
    params: &'a Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
}

/// `{"name", "version": {"graph_id"}}` (§0.3); hybrid solvers have no version.
#[derive(Serialize)]
struct JobSolver<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<GraphVersion<'a>>,
}

#[derive(Serialize)]
struct GraphVersion<'a> {
    graph_id: &'a str,
}

/// `{"format": "qp", "lin", "quad", "offset"}` (§4.1).
#[derive(Serialize)]
struct JobData {
    format: &'static str,
    lin: String,
    quad: String,
    offset: Value,
}

/// The uncompressed POST body for one Ising problem, byte-identical to the official client's
/// (`[{"solver":…,"data":{"format":"qp","lin":…,"quad":…,"offset":…},"type":"ising","params":…,"label":…}]`).
pub fn problem_body(
    solver: &SolverRecord,
    qp: &super::qp::QpProblem,
    offset: f64,
    params: &Map<String, Value>,
    label: Option<&str>,
) -> Result<Vec<u8>, SapiError> {
    let job = Job {
        solver: JobSolver {
            name: &solver.name,
            version: solver
                .graph_id
                .as_deref()
                .map(|graph_id| GraphVersion { graph_id }),
        },
        data: JobData {
            format: "qp",
            lin: qp.lin_b64(),
            quad: qp.quad_b64(),
            offset: py_number(offset),
        },
        kind: "ising",
        params,
        label,
    };
    serde_json::to_vec(&[job]).map_err(|e| SapiError::new(ErrorKind::Encode, e.to_string()))
}

fn statuses(url: &Url, v: &Value) -> Result<Vec<ProblemStatus>, SapiError> {
    let a = v
        .as_array()
        .ok_or_else(|| invalid(url, "problem list is not a JSON array"))?;
    a.iter()
        .map(|x| {
            ProblemStatus::from_json(x)
                .ok_or_else(|| invalid(url, "problem status lacks id or status"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_matches_official_worked_example() {
        // The transcript's Mock8Q solver (docs/sapi-protocol.md §4.5).
        let path = crate::server::tests_support::shared_data().join("sapi/mock-solver-Mock8Q.json");
        let solver = SolverRecord::read_file(&path).unwrap().remove(0);
        let h = BTreeMap::from([(0, -1.0), (4, 0.5), (7, 0.0)]);
        let j = BTreeMap::from([((0, 4), -1.0), ((7, 0), 0.25)]);
        let qp = encode_ising(solver.qubits(), solver.couplers(), &h, &j).unwrap();
        let mut params = Map::new();
        params.insert("num_reads".into(), Value::from(10));
        let body = problem_body(&solver, &qp, 1.5, &params, Some("worked-example")).unwrap();
        let expected = r#"[{"solver":{"name":"Mock8Q_system1.1","version":{"graph_id":"0a1b2c3d4e"}},"data":{"format":"qp","lin":"AAAAAAAA8L8AAAAAAAD4fwAAAAAAAPh/AAAAAAAA+H8AAAAAAADgPwAAAAAAAPh/AAAAAAAAAAA=","quad":"AAAAAAAA8L8AAAAAAADQPw==","offset":1.5},"type":"ising","params":{"num_reads":10},"label":"worked-example"}]"#;
        assert_eq!(String::from_utf8(body).unwrap(), expected);
        assert_eq!(py_number(0.0), Value::from(0));
    }
}
