//! A SAPI-compatible HTTP server backed by a sampler (the virtual QPU), for tests, dry runs and demos.
//!
//! Implements the server side of docs/sapi-protocol.md (checklist §10): solver definitions with `filter`
//! views, ETag/304 and `Cache-Control` (§3.1); exact vendor media types with versions and `Accept`
//! negotiation (§2.2, [`media`]); problem submission as a list or a single object, plain or
//! zlib-compressed (`Content-Encoding: deflate`), with per-item errors (§3.2, [`submit`]); status polls
//! with long polling (`GET problems/?id=…&timeout=N`, §3.3); `GET problems/{id}/`, `/answer`, `/info`,
//! `/messages` (§3.5); cancel (`DELETE problems/` and `problems/{id}`, §3.6); 401 for a bad token;
//! timing fields from the solver's timing model and the run-duration limit (§6.3–6.4, [`timing`]); the
//! Metadata API `GET /metadata/v1/regions/` (§1.2). Problems with fields only (J = 0) are sampled; the answer
//! is `raw` or `histogram` (§4.4). Seeded fault injection ([`faults`]) and a billing ledger ([`ledger`]).
//!
//! Base URL: `http://HOST:PORT/sapi/v2/`; Metadata API: `http://HOST:PORT/metadata/v1/`.
//!
//! Problem lifecycle: accepted problems get deterministic ids (server seed + submission index), are billed
//! in the ledger, and queue for one QPU worker that samples them one at a time (`solve_time_ms` each); a
//! submission waits up to `submit_wait_ms` so fast problems come back COMPLETED with the answer inline.
//! Sampling is seeded per problem (server seed + submission index). Parameters that only shape timing
//! (`programming_thermalization`, `readout_thermalization`, `reduce_intersample_correlation`,
//! `anneal_schedule`) enter the timing model; `auto_scale` (default true) scales the programmed fields;
//! `annealing_time` reaches the virtual QPU; `flux_biases`, `anneal_offsets`, `h_gain_schedule`,
//! `initial_state` and `x_…` parameters are accepted and ignored. Answers beyond `answer_memory_mib` are
//! evicted oldest first and then answer 410 Gone.

pub mod answer;
pub mod codec;
pub mod faults;
mod http;
pub mod ledger;
pub mod media;
mod routes;
pub mod sampler;
pub mod solver;
pub mod store;
pub mod submit;
pub mod timing;
mod worker;

pub use faults::FaultConfig;
pub use sampler::{QpuSampler, RawSamples};
pub use solver::SolverDefinition;

use crate::device::{DeviceConfig, VirtualQpu};
use crate::topology::{Topology, WorkingGraph};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Errors of the server module.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A solver file could not be read, decompressed or parsed.
    #[error(transparent)]
    Read(#[from] crate::sapi::solver::SolverError),
    #[error("solver file {}: it holds no QPU solver record (none has properties.qubits)", path.display())]
    NoQpuRecord { path: PathBuf },
    #[error("solver file {}: {source}", path.display())]
    SolverFile {
        path: PathBuf,
        #[source]
        source: solver::DefinitionError,
    },
    #[error("solver file {}: {source}", path.display())]
    SolverGraph {
        path: PathBuf,
        #[source]
        source: crate::topology::TopologyError,
    },
    #[error("topology {spec}: {source}")]
    Topology {
        spec: String,
        #[source]
        source: crate::topology::TopologyError,
    },
    #[error("topology {spec}: {source}")]
    Synthetic {
        spec: String,
        #[source]
        source: solver::DefinitionError,
    },
    #[error("no solver to serve: give a solver record file or a topology")]
    NoSolver,
    #[error("two solvers are named {0}; each served solver needs its own name")]
    DuplicateSolver(String),
    #[error("cannot listen on {addr}: {source}; is the port in use? (port 0 picks a free one)")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("ledger {path}: {reason}")]
    Ledger { path: String, reason: String },
    #[error(transparent)]
    Faults(#[from] faults::FaultError),
    #[error("bad server configuration: {0}")]
    Config(String),
}

/// Where a served solver comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum SolverSource {
    /// A SAPI solver record file (`.json` / `.json.gz`; an object or a list).
    File(PathBuf),
    /// A perfect graph, e.g. `pegasus:16`, `zephyr:6,4`, `chimera:16`, `advantage`.
    Topology(String),
}

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Interface to bind (default `127.0.0.1`).
    pub host: String,
    /// Port; 0 picks a free one.
    pub port: u16,
    pub solvers: Vec<SolverSource>,
    /// Required `X-Auth-Token` (None: any token, or none, is accepted). Redacted in `Debug`.
    pub token: Option<crate::sapi::Token>,
    /// Seeds problem ids, sampling and fault injection.
    pub seed: u64,
    pub faults: FaultConfig,
    /// JSON-lines billing ledger.
    pub ledger: Option<PathBuf>,
    /// Reject requests without the vendor `Accept` type with 415 (the post-sunset behaviour).
    pub strict_accept: bool,
    /// Simulated QPU wall time per problem, ms (problems stay IN_PROGRESS this long).
    pub solve_time_ms: u64,
    /// Additional wall time per problem as a multiple of its modelled `qpu_access_time` (1.0 = as long as
    /// the real QPU would take; 0 = none).
    pub qpu_time_scale: f64,
    /// How long a submission waits for its problems before answering PENDING, ms (fast problems come back
    /// COMPLETED with the answer inline, as SAPI does).
    pub submit_wait_ms: u64,
    /// Connections served at once.
    pub max_connections: usize,
    /// Memory for stored answers, MiB; the oldest answers beyond it are evicted (410 Gone), as SAPI
    /// expires old answers. A 10,000-read answer on a 5,627-qubit chip is about 9 MiB.
    pub answer_memory_mib: usize,
    /// The virtual QPU behind every served solver (its `seed` fixes the true parameters).
    pub device: DeviceConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: "127.0.0.1".into(),
            port: 0,
            solvers: Vec::new(),
            token: None,
            seed: 0,
            faults: FaultConfig::default(),
            ledger: None,
            strict_accept: false,
            solve_time_ms: 0,
            qpu_time_scale: 0.0,
            submit_wait_ms: 1000,
            max_connections: 64,
            answer_memory_mib: 1024,
            device: DeviceConfig::default(),
        }
    }
}

/// A solver the server offers, with its sampler.
pub struct ServedSolver {
    pub record: SolverDefinition,
    pub sampler: Arc<dyn QpuSampler>,
}

/// Counters of what happened (all monotonic).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// SAPI requests received (the counter fault injection is keyed on).
    pub requests: u64,
    pub injected_failures: u64,
    /// Connections closed unanswered (`drop_rate`, after or before processing).
    pub dropped_replies: u64,
    pub problems_accepted: u64,
    pub problems_rejected: u64,
    pub problems_failed: u64,
    pub problems_completed: u64,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    injected_failures: AtomicU64,
    dropped_replies: AtomicU64,
    problems_accepted: AtomicU64,
    problems_rejected: AtomicU64,
    problems_failed: AtomicU64,
    problems_completed: AtomicU64,
}

/// Shared state of a running server.
pub(crate) struct State {
    config: ServerConfig,
    solvers: Vec<ServedSolver>,
    limits: Vec<submit::Limits>,
    store: store::Store,
    ledger: Option<ledger::Ledger>,
    jobs: Mutex<Option<std::sync::mpsc::Sender<worker::Job>>>,
    counters: Counters,
    base_url: OnceLock<String>,
}

/// Entry point.
pub struct Server;

/// A running server; [`ServerHandle::shutdown`] (or drop) stops it.
pub struct ServerHandle {
    listener: http::Listener,
    state: Arc<State>,
    worker: Option<std::thread::JoinHandle<()>>,
    base_url: String,
}

impl Server {
    /// Start serving the solvers of `config.solvers`, each backed by a virtual QPU built from
    /// `config.device` on the solver's working graph.
    pub fn start(config: ServerConfig) -> Result<ServerHandle, ServerError> {
        config.faults.validate()?;
        let mut solvers = Vec::new();
        for source in &config.solvers {
            let records = match source {
                SolverSource::File(path) => SolverDefinition::from_file(path)?,
                SolverSource::Topology(spec) => vec![synthetic_record(spec)?],
            };
            for record in records {
                let graph = working_graph(&record, source)?;
                if graph.qubits != record.qubits() {
                    return Err(ServerError::Config(format!(
                        "solver {}: the working graph does not keep the record's qubit order",
                        record.name()
                    )));
                }
                let qpu = VirtualQpu::new(graph, &config.device);
                solvers.push(ServedSolver {
                    record,
                    sampler: Arc::new(qpu),
                });
            }
        }
        Server::start_with(config, solvers)
    }

    /// Start with explicit solvers and samplers.
    pub fn start_with(
        config: ServerConfig,
        solvers: Vec<ServedSolver>,
    ) -> Result<ServerHandle, ServerError> {
        if solvers.is_empty() {
            return Err(ServerError::NoSolver);
        }
        for (i, s) in solvers.iter().enumerate() {
            if solvers[..i]
                .iter()
                .any(|o| o.record.name() == s.record.name())
            {
                return Err(ServerError::DuplicateSolver(s.record.name().to_string()));
            }
        }
        config.faults.validate()?;
        if !(config.qpu_time_scale.is_finite() && config.qpu_time_scale >= 0.0) {
            return Err(ServerError::Config(format!(
                "the QPU time scale must be a non-negative number, got {}",
                config.qpu_time_scale
            )));
        }
        let ledger = config
            .ledger
            .as_deref()
            .map(ledger::Ledger::open)
            .transpose()?;
        let limits = solvers
            .iter()
            .map(|s| submit::Limits::of(&s.record))
            .collect();
        let (tx, rx) = std::sync::mpsc::channel();
        let state = Arc::new(State {
            config,
            solvers,
            limits,
            store: store::Store::default(),
            ledger,
            jobs: Mutex::new(Some(tx)),
            counters: Counters::default(),
            base_url: OnceLock::new(),
        });
        let st = state.clone();
        let worker = std::thread::Builder::new()
            .name("qasa-serve-qpu".into())
            .spawn(move || worker::run(&st, rx))
            .map_err(|e| ServerError::Config(format!("cannot start the QPU worker thread: {e}")))?;
        let host = &state.config.host;
        let addr = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]:{}", state.config.port)
        } else {
            format!("{host}:{}", state.config.port)
        };
        let st = state.clone();
        let handler: Arc<http::Handler> = Arc::new(move |req| routes::handle(&st, req));
        let listener = http::Listener::bind(&addr, handler, state.config.max_connections).map_err(
            |source| ServerError::Bind {
                addr: addr.clone(),
                source,
            },
        )?;
        let base_url = format!("http://{}/sapi/v2/", reachable(listener.local_addr()));
        let _ = state.base_url.set(base_url.clone());
        Ok(ServerHandle {
            listener,
            state,
            worker: Some(worker),
            base_url,
        })
    }
}

/// An address clients can connect to: the loopback address of the family for a wildcard bind (`0.0.0.0` →
/// `127.0.0.1`, `::` → `[::1]`), IPv6 in brackets.
fn reachable(local: SocketAddr) -> String {
    let ip = match local.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, local.port()).to_string()
}

impl ServerHandle {
    /// `http://HOST:PORT/sapi/v2/`, with a reachable HOST (loopback when bound to a wildcard address).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
    /// `http://HOST:PORT/metadata/v1/` (Metadata API; `regions/` below it).
    pub fn metadata_url(&self) -> String {
        self.base_url.replace("/sapi/v2/", "/metadata/v1/")
    }
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr()
    }
    /// Names of the served solvers.
    pub fn solver_names(&self) -> Vec<String> {
        self.state
            .solvers
            .iter()
            .map(|s| s.record.name().to_string())
            .collect()
    }
    pub fn stats(&self) -> ServerStats {
        let c = &self.state.counters;
        let g = |a: &AtomicU64| a.load(Ordering::SeqCst);
        ServerStats {
            requests: g(&c.requests),
            injected_failures: g(&c.injected_failures),
            dropped_replies: g(&c.dropped_replies),
            problems_accepted: g(&c.problems_accepted),
            problems_rejected: g(&c.problems_rejected),
            problems_failed: g(&c.problems_failed),
            problems_completed: g(&c.problems_completed),
        }
    }
    /// Block the calling thread while the server runs (for `qasa serve`).
    pub fn wait(&self) {
        loop {
            std::thread::park();
        }
    }
    /// Stop listening, close connections, stop the QPU worker.
    pub fn shutdown(mut self) {
        self.stop();
    }
    fn stop(&mut self) {
        self.listener.shutdown();
        if let Ok(mut j) = self.state.jobs.lock() {
            j.take();
        }
        self.state.store.notify();
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The synthetic record of a perfect graph given by a topology SPEC (`pegasus:16`, `advantage`, …).
pub fn synthetic_record(spec: &str) -> Result<SolverDefinition, ServerError> {
    let topology: Topology = spec.parse().map_err(|source| ServerError::Topology {
        spec: spec.to_string(),
        source,
    })?;
    let graph = WorkingGraph::perfect(topology);
    let canonical = topology.to_string();
    let name = format!("Virtual_{}", canonical.replace([':', ','], "_"));
    SolverDefinition::synthetic(
        &name,
        topology.family().name(),
        &topology.shape(),
        topology.num_index_space() as usize,
        &graph.qubits,
        &graph.couplers,
    )
    .map_err(|source| ServerError::Synthetic {
        spec: spec.to_string(),
        source,
    })
}

/// The working graph of a served record (its `qubits` order is the `lin` order).
fn working_graph(
    record: &SolverDefinition,
    source: &SolverSource,
) -> Result<WorkingGraph, ServerError> {
    WorkingGraph::from_solver_record(&record.record).map_err(|e| match source {
        SolverSource::File(p) => ServerError::SolverGraph {
            path: p.clone(),
            source: e,
        },
        SolverSource::Topology(s) => ServerError::Topology {
            spec: s.clone(),
            source: e,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::reachable;

    #[test]
    fn wildcard_binds_print_a_loopback_url() {
        let cases = [
            ("0.0.0.0:8080", "127.0.0.1:8080"),
            ("[::]:8080", "[::1]:8080"),
            ("192.168.1.5:1", "192.168.1.5:1"),
            ("[fe80::1]:2", "[fe80::1]:2"),
        ];
        for (bound, shown) in cases {
            assert_eq!(reachable(bound.parse().unwrap()), shown);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    use std::path::PathBuf;

    /// Shared reference data: `QASA_SHARED_DATA`, else `<crate>/../shared/data`.
    pub fn shared_data() -> PathBuf {
        let candidates: Vec<PathBuf> = std::env::var_os("QASA_SHARED_DATA")
            .map(PathBuf::from)
            .into_iter()
            .chain([PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data")])
            .collect();
        candidates.iter().find(|p| p.is_dir()).cloned().unwrap_or_else(|| {
            panic!("shared reference data not found; looked in {candidates:?} (set QASA_SHARED_DATA)")
        })
    }
}
