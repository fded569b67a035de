//! `qasa serve`: a SAPI-compatible server on a real socket, backed by the virtual QPU.
//!
//! The first line on stdout is `listening on http://HOST:PORT/sapi/v2/` (the base URL clients use; HOST is
//! the loopback address when `--host` is a wildcard such as 0.0.0.0 or ::), printed and flushed once the
//! socket accepts connections; a summary of the served solvers follows on stderr.
//! Runs until killed.

use super::console;
use super::numbers::{finite, whole};
use super::output::Outputs;
use anyhow::Result;
use clap::Args as ClapArgs;
use qasa::device::DeviceConfig;
use qasa::server::faults::FaultError;
use qasa::server::{FaultConfig, Server, ServerConfig, ServerError, SolverSource};
use std::path::PathBuf;

#[derive(ClapArgs, Debug)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// Serve this SAPI solver record (.json or .json.gz; repeatable).
    #[arg(long, value_name = "FILE")]
    solver_file: Vec<PathBuf>,
    /// Serve a synthetic QPU on a perfect graph: chimera:M[,N[,T]], pegasus:M, zephyr:M[,T], 2000q,
    /// advantage, advantage2 (repeatable). Default when no solver is given: advantage.
    #[arg(long, value_name = "SPEC")]
    topology: Vec<String>,
    /// Interface to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port (0 picks a free one; the first stdout line tells which).
    #[arg(long, default_value_t = 0, value_parser = whole::<u16>)]
    port: u16,
    /// Require this X-Auth-Token (401 otherwise). Without it any token is accepted.
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,
    /// Seed of problem ids, sampling and fault injection.
    #[arg(long, default_value_t = 0, value_parser = whole::<u64>)]
    seed: u64,
    /// Seed of the virtual QPU's true parameters (default: --seed).
    #[arg(long, value_parser = whole::<u64>)]
    device_seed: Option<u64>,
    /// Probability that a read returns the wrong spin.
    #[arg(long, default_value_t = 0.0, value_parser = finite)]
    readout_flip: f64,
    /// Fraction of couplers with a planted crosstalk coupling.
    #[arg(long, default_value_t = 0.0, value_name = "FRACTION", value_parser = finite)]
    crosstalk: f64,
    /// Delay added to every reply, ms.
    #[arg(long, default_value_t = 0, value_name = "MS", value_parser = whole::<u64>)]
    latency_ms: u64,
    /// Fraction of SAPI requests answered with an injected error (see --fail-status), seeded.
    #[arg(long, default_value_t = 0.0, value_name = "FRACTION", value_parser = finite)]
    fail_rate: f64,
    /// Statuses injected errors pick from; 429 and 503 carry Retry-After.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "429,500,503",
        value_name = "CODES"
    )]
    fail_status: Vec<u16>,
    /// Retry-After sent with injected 429/503, seconds.
    #[arg(long, default_value_t = 1, value_name = "SECONDS", value_parser = whole::<u64>)]
    retry_after: u64,
    /// Fraction of SAPI requests whose reply is lost: processed, then the connection closes unanswered.
    #[arg(long, default_value_t = 0.0, value_name = "FRACTION", value_parser = finite)]
    drop_rate: f64,
    /// Close dropped connections before processing the request (a lost request, not a lost reply).
    #[arg(long)]
    drop_before: bool,
    /// Fraction of accepted problems that end FAILED with an error message, seeded.
    #[arg(long, default_value_t = 0.0, value_name = "FRACTION", value_parser = finite)]
    problem_fail_rate: f64,
    /// Answer the first status poll of every problem with 429 + Retry-After.
    #[arg(long)]
    fail_first_poll: bool,
    /// Take the solvers offline once this many problems were accepted (later submissions are refused with
    /// "solver is offline").
    #[arg(long, value_name = "N")]
    offline_after: Option<u64>,
    /// Simulated QPU time per problem, ms (problems stay IN_PROGRESS this long).
    #[arg(long, default_value_t = 0, value_name = "MS", value_parser = whole::<u64>)]
    solve_time_ms: u64,
    /// Also keep each problem IN_PROGRESS for this multiple of its modelled QPU access time (1 = real time).
    #[arg(long, default_value_t = 0.0, value_name = "FACTOR", value_parser = finite)]
    qpu_time_scale: f64,
    /// How long a submission waits for its problems to finish before answering PENDING, ms.
    #[arg(long, default_value_t = 1000, value_name = "MS", value_parser = whole::<u64>)]
    submit_wait_ms: u64,
    /// Append one JSON line per accepted (billable) problem to this file.
    #[arg(long, value_name = "FILE")]
    ledger: Option<PathBuf>,
    /// Reject requests without the versioned vendor Accept type (415), as SAPI may after the dep-1 sunset.
    #[arg(long)]
    strict_accept: bool,
    /// Connections served at once.
    #[arg(long, default_value_t = 64, value_parser = whole::<usize>)]
    max_connections: usize,
    /// Memory kept for answers, MiB; older answers are evicted and then answer 410 Gone.
    #[arg(long, default_value_t = 1024, value_name = "MIB", value_parser = whole::<usize>)]
    answer_memory_mib: usize,
}

/// The server's error with the flag that controls the setting (the library does not know the flags).
fn explain(e: ServerError) -> anyhow::Error {
    let hint = match &e {
        ServerError::Faults(FaultError::Rate { name, .. }) => {
            format!(" (--{})", name.replace('_', "-"))
        }
        ServerError::Faults(FaultError::Status { .. }) => " (--fail-status)".into(),
        ServerError::NoSolver => " (--solver-file FILE or --topology SPEC)".into(),
        ServerError::Bind { .. } => " (--host, --port; --port 0 picks a free port)".into(),
        ServerError::Topology { .. } | ServerError::Synthetic { .. } => " (--topology)".into(),
        ServerError::Config(m) if m.contains("QPU time scale") => " (--qpu-time-scale)".into(),
        ServerError::Ledger { .. } => " (--ledger)".into(),
        _ => String::new(),
    };
    anyhow::anyhow!("cannot start the SAPI server: {e}{hint}")
}

pub fn run(a: Args) -> Result<()> {
    // The ledger is an append-only log written while the server runs: checked here, not replaced.
    let mut files = Outputs::new();
    for f in &a.solver_file {
        files.input(f);
    }
    files.optional("--ledger", a.ledger.as_deref())?;
    let mut solvers: Vec<SolverSource> =
        a.solver_file.into_iter().map(SolverSource::File).collect();
    solvers.extend(a.topology.into_iter().map(SolverSource::Topology));
    if solvers.is_empty() {
        solvers.push(SolverSource::Topology("advantage".into()));
    }
    let config = ServerConfig {
        host: a.host,
        port: a.port,
        solvers,
        token: a.token.and_then(qasa::sapi::Token::new),
        seed: a.seed,
        faults: FaultConfig {
            latency_ms: a.latency_ms,
            fail_rate: a.fail_rate,
            fail_statuses: a.fail_status,
            retry_after_s: a.retry_after,
            drop_rate: a.drop_rate,
            drop_before: a.drop_before,
            problem_fail_rate: a.problem_fail_rate,
            fail_first_poll: a.fail_first_poll,
            offline_after: a.offline_after,
        },
        ledger: a.ledger,
        strict_accept: a.strict_accept,
        solve_time_ms: a.solve_time_ms,
        qpu_time_scale: a.qpu_time_scale,
        submit_wait_ms: a.submit_wait_ms,
        max_connections: a.max_connections,
        answer_memory_mib: a.answer_memory_mib,
        device: DeviceConfig {
            seed: a.device_seed.unwrap_or(a.seed),
            readout_flip: a.readout_flip,
            crosstalk_fraction: a.crosstalk,
            ..DeviceConfig::default()
        },
    };
    let handle = Server::start(config).map_err(explain)?;
    console::line(format_args!("listening on {}", handle.base_url()))?;
    let bound = handle.local_addr();
    if bound.ip().is_unspecified() {
        console::note(format_args!(
            "bound to {bound} (every interface): other machines reach it at this host's address, port {}",
            bound.port()
        ));
    }
    console::note(format_args!(
        "solvers: {}; Metadata API: {}regions/",
        handle.solver_names().join(", "),
        handle.metadata_url()
    ));
    handle.wait();
    Ok(())
}
