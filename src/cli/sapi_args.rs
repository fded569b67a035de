//! Reusable SAPI connection flags (`--endpoint`, `--region`, `--token`, `--profile`, `--config-file`) that
//! beat dwave.conf and the environment (docs/sapi-protocol.md §7).

use anyhow::Context;
use qasa::sapi::config::{resolve, ConfigEnv, ConfigOverrides};
use qasa::sapi::{ClientOptions, SapiClient, SapiConfig, Token};
use std::path::PathBuf;

fn parse_token(s: &str) -> Result<Token, String> {
    Token::new(s).ok_or_else(|| "the token is empty".to_string())
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
        resolve(&ConfigEnv::from_process(), &self.overrides()).context("reading SAPI configuration")
    }

    /// A connected client.
    pub fn client(&self) -> anyhow::Result<SapiClient> {
        let cfg = self.config()?;
        Ok(SapiClient::from_config(&cfg, ClientOptions::default())?)
    }
}
