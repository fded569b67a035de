//! Reusable SAPI connection flags (`--endpoint`, `--region`, `--token`, `--profile`, `--config-file`,
//! `--timeout`) that beat dwave.conf and the environment (docs/sapi-protocol.md §7), the retry lines printed
//! on stderr, and the flag hints added to the library's errors.

use anyhow::anyhow;
use qasa::sapi::config::{resolve, ConfigEnv, ConfigError, ConfigOverrides};
use qasa::sapi::{
    ClientOptions, ErrorKind, RetryEvent, RetryObserver, SapiClient, SapiConfig, SapiError, Token,
};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The error when no token is configured anywhere.
pub const NO_TOKEN: &str = "no SAPI token: pass --token, set DWAVE_API_TOKEN or add `token = …` to \
    dwave.conf; to try everything offline, run `qasa serve` (a local SAPI server backed by a virtual QPU) \
    and pass the URL it prints with --endpoint (any token works)";

fn parse_token(s: &str) -> Result<Token, String> {
    Token::new(s).ok_or_else(|| "the token is empty".to_string())
}

fn parse_timeout(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if secs.is_nan() || secs <= 0.0 {
        return Err(format!("the time limit must be positive, got {s}"));
    }
    Duration::try_from_secs_f64(secs).map_err(|_| format!("{s} seconds is too long"))
}

/// SAPI connection options shared by every command that talks to SAPI.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct SapiArgs {
    /// SAPI base URL (e.g. https://na-west-1.cloud.dwavesys.com/sapi/v2/); beats --region.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// SAPI region code (na-west-1, eu-central-1, na-east-1), resolved via the Metadata API.
    #[arg(long, value_name = "CODE")]
    pub region: Option<String>,
    /// SAPI token (prefer DWAVE_API_TOKEN or dwave.conf: command lines are visible to other users).
    #[arg(long, value_name = "TOKEN", value_parser = parse_token)]
    pub token: Option<Token>,
    /// dwave.conf profile (section) to use.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// dwave.conf file to read instead of the standard locations.
    #[arg(long, value_name = "PATH")]
    pub config_file: Option<PathBuf>,
    /// Give up after this many seconds in all: connecting, retries and waiting for answers (default: no
    /// limit beyond the retry policy, about 30 s of retries per request).
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,
}

/// One stderr line per retry: what is retried, when, and why.
fn print_retry(e: &RetryEvent<'_>) {
    let url = e.url.split('?').next().unwrap_or(e.url);
    let _ = writeln!(
        std::io::stderr(),
        "retrying {} {url} in {:.1} s (retry {} of {}): {}",
        e.method,
        e.delay.as_secs_f64(),
        e.retry,
        e.max_retries,
        e.error.message
    );
}

impl SapiArgs {
    /// The flags as configuration overrides.
    pub fn overrides(&self) -> ConfigOverrides {
        ConfigOverrides {
            endpoint: self.endpoint.clone(),
            region: self.region.clone(),
            token: self.token.clone(),
            profile: self.profile.clone(),
            config_file: self.config_file.clone(),
            solver: None,
        }
    }

    /// Configuration from flags, environment and dwave.conf.
    pub fn config(&self) -> anyhow::Result<SapiConfig> {
        resolve(&ConfigEnv::from_process(), &self.overrides()).map_err(|e| {
            let hint = match &e {
                ConfigError::Read { .. } if self.config_file.is_some() => " (--config-file)",
                ConfigError::UnknownProfile { .. } if self.profile.is_some() => " (--profile)",
                _ => "",
            };
            anyhow!("reading SAPI configuration: {e}{hint}")
        })
    }

    /// Client options: retries reported on stderr, and the whole command bounded by `--timeout`, counted
    /// from now.
    pub fn options(&self) -> ClientOptions {
        ClientOptions {
            on_retry: Some(RetryObserver(Arc::new(print_retry))),
            deadline: self.timeout.map(|t| Instant::now() + t),
            ..ClientOptions::default()
        }
    }

    /// A connected client.
    pub fn client(&self) -> anyhow::Result<SapiClient> {
        let cfg = self.config()?;
        if cfg.token.is_none() {
            anyhow::bail!(NO_TOKEN);
        }
        SapiClient::from_config(&cfg, self.options()).map_err(|e| self.explain(e))
    }

    /// A library error with the flag that would change the outcome (the library does not know the flags).
    pub fn explain(&self, e: SapiError) -> anyhow::Error {
        let hint = match e.kind {
            ErrorKind::Auth => "; pass the right token with --token, DWAVE_API_TOKEN or dwave.conf".into(),
            ErrorKind::TimeLimit => match self.timeout {
                Some(t) => format!(" (--timeout {})", t.as_secs_f64()),
                None => String::new(),
            },
            ErrorKind::Transport if e.message.starts_with("connection refused") => {
                "; give the SAPI URL with --endpoint (`qasa serve` prints the URL of a local server)"
                    .into()
            }
            ErrorKind::NotFound if e.message.contains("path is probably missing") => {
                "; fix the URL given by --endpoint, DWAVE_API_ENDPOINT or dwave.conf".into()
            }
            _ => String::new(),
        };
        // The message already ends with the root cause of the transport error; print it on one line.
        anyhow!("{e}{hint}")
    }
}
