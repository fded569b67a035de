//! SAPI configuration resolved the way Ocean's `Client.from_config()` resolves it
//! (`docs/sapi-protocol.md` §7, dwave-cloud-client `config/loaders.py`).
//!
//! * Files (INI, `[defaults]` inherited by every profile, keys case-insensitive): when `DWAVE_CONFIG_FILE`
//!   or `--config-file` names a file, only that file (missing → error). Otherwise every existing file of,
//!   lowest priority first: `$XDG_CONFIG_DIRS/dwave/dwave.conf` (default `/etc/xdg`, last dir lowest),
//!   `$XDG_CONFIG_HOME/dwave/dwave.conf` (default `~/.config`), `./dwave.conf`, merged key by key.
//! * Profile: `--profile` > `DWAVE_PROFILE` > `[defaults] profile` > first non-defaults section > `[defaults]`.
//!   A profile named explicitly (flag or env) that no file defines is an error.
//! * Values: overrides (flags) > environment (`DWAVE_API_TOKEN`, `DWAVE_API_ENDPOINT`, `DWAVE_API_REGION`,
//!   `DWAVE_API_SOLVER`, `DWAVE_METADATA_API_ENDPOINT`) > profile > `[defaults]`. Empty strings never
//!   override. `endpoint` and `region` are mutually exclusive across levels: setting either at a higher level
//!   removes both from lower levels.
//!
//! The environment, home and working directory are injected through [`ConfigEnv`] so tests never touch the
//! process environment.

use super::token::Token;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Errors while resolving configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path}: cannot read it ({source}); check the configured path (DWAVE_CONFIG_FILE)")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("config file {path}: cannot parse it as INI ({msg})")]
    Parse { path: PathBuf, msg: String },
    #[error("config profile '{profile}' not found in {files:?}; define a [{profile}] section or choose another profile (DWAVE_PROFILE)")]
    UnknownProfile {
        profile: String,
        files: Vec<PathBuf>,
    },
    #[error("config value {key} = '{value}' is invalid: {msg}")]
    BadValue {
        key: String,
        value: String,
        msg: String,
    },
}

/// The process context configuration depends on (injectable for tests).
#[derive(Clone, Debug, Default)]
pub struct ConfigEnv {
    /// Environment variables.
    pub vars: HashMap<String, String>,
    /// Home directory (for `~/.config`).
    pub home: Option<PathBuf>,
    /// Working directory (for `./dwave.conf`).
    pub cwd: Option<PathBuf>,
}

impl ConfigEnv {
    /// The real process environment, home and working directory.
    pub fn from_process() -> ConfigEnv {
        ConfigEnv {
            vars: std::env::vars().collect(),
            home: std::env::var_os("HOME").map(PathBuf::from),
            cwd: std::env::current_dir().ok(),
        }
    }

    fn var(&self, k: &str) -> Option<&str> {
        self.vars
            .get(k)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// Config files that auto-detection considers, lowest priority first (existing or not).
    pub fn candidate_files(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let sys_dirs = self.var("XDG_CONFIG_DIRS").unwrap_or("/etc/xdg");
        let dirs: Vec<&str> = sys_dirs.split(':').filter(|d| !d.is_empty()).collect();
        for d in dirs.iter().rev() {
            out.push(Path::new(d).join("dwave").join("dwave.conf"));
        }
        let user = match self.var("XDG_CONFIG_HOME") {
            Some(x) => Some(PathBuf::from(x)),
            None => self.home.as_ref().map(|h| h.join(".config")),
        };
        if let Some(u) = user {
            out.push(u.join("dwave").join("dwave.conf"));
        }
        if let Some(c) = &self.cwd {
            out.push(c.join("dwave.conf"));
        }
        out
    }
}

/// Values given on the command line; they beat everything (`--endpoint`, `--region`, `--token`,
/// `--profile`, `--config-file`, and optionally a solver).
#[derive(Clone, Debug, Default)]
pub struct ConfigOverrides {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub token: Option<Token>,
    pub profile: Option<String>,
    pub config_file: Option<PathBuf>,
    pub solver: Option<String>,
}

/// Resolved configuration. `Debug` is safe: the token is a redacting [`Token`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SapiConfig {
    pub token: Option<Token>,
    /// Explicit SAPI base URL (wins over `region`).
    pub endpoint: Option<String>,
    /// Region code (e.g. `na-west-1`), resolved through the Metadata API.
    pub region: Option<String>,
    /// Solver name, identity string or JSON feature filter, as configured.
    pub solver: Option<String>,
    /// Metadata API base (default `https://cloud.dwavesys.com/metadata/v1/`).
    pub metadata_api_endpoint: Option<String>,
    /// `request_timeout` in seconds (connect and read), if configured.
    pub request_timeout_s: Option<f64>,
    /// `polling_timeout` in seconds, if configured.
    pub polling_timeout_s: Option<f64>,
    /// The profile whose values were used (None when no file section applied).
    pub profile: Option<String>,
    /// Files that were read, lowest priority first.
    pub files: Vec<PathBuf>,
}

type Section = BTreeMap<String, String>;

/// Parsed, merged INI files: sections in first-seen order.
#[derive(Default)]
struct Merged {
    order: Vec<String>,
    sections: HashMap<String, Section>,
}

const DEFAULTS: &str = "defaults";

fn parse_into(m: &mut Merged, path: &Path, text: &str) -> Result<(), ConfigError> {
    let mut ini = configparser::ini::Ini::new_cs();
    ini.set_default_section(DEFAULTS);
    ini.set_multiline(true);
    let map = ini
        .read(text.to_string())
        .map_err(|msg| ConfigError::Parse {
            path: path.to_path_buf(),
            msg,
        })?;
    // Section order as written (configparser's map is unordered).
    for line in text.lines() {
        let l = line.trim();
        if let Some(name) = l.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            let name = name.trim().to_string();
            if !m.order.contains(&name) {
                m.order.push(name);
            }
        }
    }
    for (sec, kv) in map {
        if !m.order.contains(&sec) {
            m.order.push(sec.clone());
        }
        let dst = m.sections.entry(sec).or_default();
        for (k, v) in kv {
            dst.insert(k.to_ascii_lowercase(), v.unwrap_or_default());
        }
    }
    Ok(())
}

fn read_files(
    env: &ConfigEnv,
    ov: &ConfigOverrides,
) -> Result<(Merged, Vec<PathBuf>), ConfigError> {
    let mut merged = Merged::default();
    let explicit = ov
        .config_file
        .clone()
        .or_else(|| env.var("DWAVE_CONFIG_FILE").map(PathBuf::from));
    let mut read = Vec::new();
    if let Some(p) = explicit {
        let p = match (&env.cwd, p.is_relative()) {
            (Some(c), true) => c.join(p),
            _ => p,
        };
        let text = std::fs::read_to_string(&p).map_err(|source| ConfigError::Read {
            path: p.clone(),
            source,
        })?;
        parse_into(&mut merged, &p, &text)?;
        read.push(p);
    } else {
        for p in env.candidate_files() {
            if let Ok(text) = std::fs::read_to_string(&p) {
                parse_into(&mut merged, &p, &text)?;
                read.push(p);
            }
        }
    }
    Ok((merged, read))
}

fn nonempty(s: Option<&String>) -> Option<String> {
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// One precedence level's `(endpoint, region)` with "empty never overrides".
fn endpoint_region(level: &Section) -> (Option<String>, Option<String>) {
    (
        nonempty(level.get("endpoint")),
        nonempty(level.get("region")),
    )
}

/// Resolves the configuration from files, environment and overrides (precedence above).
pub fn resolve(env: &ConfigEnv, ov: &ConfigOverrides) -> Result<SapiConfig, ConfigError> {
    let (merged, files) = read_files(env, ov)?;
    let defaults = merged.sections.get(DEFAULTS).cloned().unwrap_or_default();

    // Profile choice.
    let explicit_profile = ov
        .profile
        .clone()
        .filter(|p| !p.trim().is_empty())
        .or_else(|| env.var("DWAVE_PROFILE").map(str::to_string));
    let profile = match &explicit_profile {
        Some(p) => {
            if p != DEFAULTS && !merged.sections.contains_key(p) {
                return Err(ConfigError::UnknownProfile {
                    profile: p.clone(),
                    files,
                });
            }
            Some(p.clone())
        }
        None => nonempty(defaults.get("profile"))
            .filter(|p| merged.sections.contains_key(p))
            .or_else(|| {
                merged
                    .order
                    .iter()
                    .find(|s| s.as_str() != DEFAULTS && merged.sections.contains_key(*s))
                    .cloned()
            }),
    };
    // File level = defaults overlaid with the profile section.
    let mut file_level = defaults.clone();
    if let Some(p) = &profile {
        if let Some(sec) = merged.sections.get(p) {
            for (k, v) in sec {
                if !v.trim().is_empty() {
                    file_level.insert(k.clone(), v.clone());
                }
            }
        }
    }
    file_level.remove("profile");

    // Environment level.
    let mut env_level = Section::new();
    for (var, key) in [
        ("DWAVE_API_TOKEN", "token"),
        ("DWAVE_API_ENDPOINT", "endpoint"),
        ("DWAVE_API_REGION", "region"),
        ("DWAVE_API_SOLVER", "solver"),
        ("DWAVE_METADATA_API_ENDPOINT", "metadata_api_endpoint"),
    ] {
        if let Some(v) = env.var(var) {
            env_level.insert(key.into(), v.to_string());
        }
    }
    // Override level.
    let mut ov_level = Section::new();
    for (key, v) in [
        ("endpoint", &ov.endpoint),
        ("region", &ov.region),
        ("solver", &ov.solver),
    ] {
        if let Some(v) = v.as_ref().filter(|v| !v.trim().is_empty()) {
            ov_level.insert(key.into(), v.trim().to_string());
        }
    }

    // Endpoint/region: the highest level that sets either decides both.
    let (mut endpoint, mut region) = (None, None);
    for level in [&ov_level, &env_level, &file_level] {
        let (e, r) = endpoint_region(level);
        if e.is_some() || r.is_some() {
            endpoint = e;
            region = r;
            break;
        }
    }
    let pick = |key: &str| {
        [&ov_level, &env_level, &file_level]
            .iter()
            .find_map(|l| nonempty(l.get(key)))
    };
    let token = ov
        .token
        .clone()
        .or_else(|| pick("token").and_then(Token::new));
    let float = |key: &str| -> Result<Option<f64>, ConfigError> {
        match pick(key) {
            None => Ok(None),
            Some(v) => v
                .parse::<f64>()
                .map(Some)
                .map_err(|e| ConfigError::BadValue {
                    key: key.into(),
                    value: v.clone(),
                    msg: format!("{e}; give seconds as a number"),
                }),
        }
    };
    Ok(SapiConfig {
        token,
        endpoint,
        region,
        solver: pick("solver"),
        metadata_api_endpoint: pick("metadata_api_endpoint"),
        request_timeout_s: float("request_timeout")?,
        polling_timeout_s: float("polling_timeout")?,
        profile,
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_with(dir: &Path, vars: &[(&str, &str)]) -> ConfigEnv {
        let mut m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        m.insert(
            "XDG_CONFIG_DIRS".into(),
            dir.join("etc").display().to_string(),
        );
        ConfigEnv {
            vars: m,
            home: Some(dir.join("home")),
            cwd: Some(dir.join("cwd")),
        }
    }

    fn write(p: &Path, s: &str) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, s).unwrap();
    }

    #[test]
    fn precedence_and_profiles() {
        let d = tempfile::tempdir().unwrap();
        write(
            &d.path().join("home/.config/dwave/dwave.conf"),
            "[defaults]\ntoken = FILE-TOK\n\n[first]\nregion = eu-central-1\nsolver = Adv\n\n[second]\nendpoint = https://x.example/sapi/v2/\n",
        );
        let env = env_with(d.path(), &[]);
        let c = resolve(&env, &ConfigOverrides::default()).unwrap();
        assert_eq!(c.profile.as_deref(), Some("first"));
        assert_eq!(c.region.as_deref(), Some("eu-central-1"));
        assert_eq!(c.token.as_ref().map(Token::expose), Some("FILE-TOK"));
        // env profile; env token beats file; region from env removes the file endpoint
        let env = env_with(
            d.path(),
            &[
                ("DWAVE_PROFILE", "second"),
                ("DWAVE_API_TOKEN", "ENV"),
                ("DWAVE_API_REGION", "na-east-1"),
            ],
        );
        let c = resolve(&env, &ConfigOverrides::default()).unwrap();
        assert_eq!((c.endpoint, c.region.as_deref()), (None, Some("na-east-1")));
        assert_eq!(c.token.unwrap().expose(), "ENV");
        // override beats env, and an override endpoint removes the env region
        let ov = ConfigOverrides {
            endpoint: Some("http://127.0.0.1:1/sapi/v2/".into()),
            token: Token::new("OV"),
            ..Default::default()
        };
        let c = resolve(&env, &ov).unwrap();
        assert_eq!(
            (c.endpoint.as_deref(), c.region),
            (Some("http://127.0.0.1:1/sapi/v2/"), None)
        );
        assert_eq!(c.token.unwrap().expose(), "OV");
        // unknown explicit profile
        let ov = ConfigOverrides {
            profile: Some("nope".into()),
            ..Default::default()
        };
        assert!(matches!(
            resolve(&env, &ov),
            Err(ConfigError::UnknownProfile { .. })
        ));
        // empty env values never override
        let env = env_with(d.path(), &[("DWAVE_API_TOKEN", "  ")]);
        assert_eq!(
            resolve(&env, &ConfigOverrides::default())
                .unwrap()
                .token
                .unwrap()
                .expose(),
            "FILE-TOK"
        );
    }

    #[test]
    fn file_merge_and_explicit_file() {
        let d = tempfile::tempdir().unwrap();
        write(
            &d.path().join("etc/dwave/dwave.conf"),
            "[defaults]\ntoken = SYS\n[p]\nsolver = S1\nrequest_timeout = 5\n",
        );
        write(&d.path().join("cwd/dwave.conf"), "[p]\nsolver = S2\n");
        let env = env_with(d.path(), &[]);
        let c = resolve(&env, &ConfigOverrides::default()).unwrap();
        assert_eq!(c.files.len(), 2);
        assert_eq!(c.solver.as_deref(), Some("S2"));
        assert_eq!(c.request_timeout_s, Some(5.0));
        assert_eq!(c.token.unwrap().expose(), "SYS");
        // DWAVE_CONFIG_FILE replaces auto-detection; a missing explicit file is an error.
        write(
            &d.path().join("only.conf"),
            "[defaults]\nprofile = q\n[z]\nsolver = Z\n[q]\nsolver = Q\n",
        );
        let env = env_with(
            d.path(),
            &[(
                "DWAVE_CONFIG_FILE",
                d.path().join("only.conf").to_str().unwrap(),
            )],
        );
        let c = resolve(&env, &ConfigOverrides::default()).unwrap();
        assert_eq!(
            (c.solver.as_deref(), c.profile.as_deref(), c.token),
            (Some("Q"), Some("q"), None)
        );
        let ov = ConfigOverrides {
            config_file: Some(d.path().join("missing.conf")),
            ..Default::default()
        };
        assert!(matches!(resolve(&env, &ov), Err(ConfigError::Read { .. })));
    }
}
