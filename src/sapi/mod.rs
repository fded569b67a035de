//! D-Wave SAPI (Solver API) client: configuration, HTTP client, `qp` codec, media types, answer counting.
//!
//! Protocol reference: `docs/sapi-protocol.md` (section numbers cited in each file).
//!
//! * [`config`]: dwave.conf / environment / overrides → [`config::SapiConfig`] (§7).
//! * [`client`]: [`client::SapiClient`] — regions, solvers, submit, poll, answers, cancel (§1–§3).
//! * [`http`]: transport, retries, timeouts, URL policy (§2, §8).
//! * [`qp`]: the `qp` codec for problems and answers (§4); [`counts`]: answers straight into counts.
//! * [`media`]: vendor media types and version checks (§2.2); [`solver`], [`problem`]: response types.
//! * [`select`]: solver choice from the configured `solver` value (name, identity, JSON filter).
//! * [`token`]: the redacting [`token::Token`]; [`error`]: [`error::SapiError`].

pub mod client;
pub mod config;
pub mod counts;
pub mod error;
pub mod http;
pub mod media;
pub mod problem;
pub mod qp;
pub mod select;
pub mod solver;
pub mod token;

pub use client::{IsingJob, Region, SapiClient};
pub use config::{ConfigEnv, ConfigOverrides, SapiConfig};
pub use counts::{count_answer, AnswerAgreement, AnswerCounts};
pub use error::{ErrorKind, SapiError};
pub use http::{ClientOptions, RetryEvent, RetryObserver, RetryPolicy};
pub use solver::SolverRecord;
pub use token::Token;
