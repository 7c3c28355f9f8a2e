//! mirrorflow's configuration: one TOML file, environment overrides and secrets.
//!
//! Precedence, lowest first: built-in defaults (the seed plans' values), the file
//! (`--config`), then `MIRRORFLOW__SECTION__KEY=value` environment variables (a
//! `.env` file in the working directory may set them, and the secrets, without
//! overriding the real environment). Unknown keys are errors, so a typo never
//! passes silently; then [`validate`] checks ranges and contradictions and names
//! every bad key at once. Relative paths are resolved against the config file's
//! directory.

pub mod intelligence;
pub mod operations;
pub mod secrets;
pub mod section5;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use dataflows::config::{
    ConsensusConfig, EntryConfig, ExecutionConfig, ExitsConfig, IndexConfig, RiskConfig, token_table, trading,
};
pub use intelligence::{AllocationConfig, ClustersConfig, DiscoveryConfig, EligibilityConfig, ScoringConfig};
pub use operations::{
    AlertsConfig, BacktestConfig, ClockConfig, ClockSource, HttpConfig, HyperliquidConfig, KeysConfig, LogConfig,
    LogFormat, NansenConfig, Network, PaperTradingConfig, RetryConfig, ScheduleConfig, SimulationConfig, StateConfig,
    StrategiesConfig,
};
pub use secrets::Secrets;
pub use validate::{Issue, validate};

/// Prefix of environment variables that override configuration keys.
pub const ENV_PREFIX: &str = "MIRRORFLOW__";

/// Keys whose values are strings even when they look like numbers.
const STRING_KEYS: &[&str] = &["telegram_chat_id"];

/// The whole configuration, grouped by concern.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub strategies: StrategiesConfig,
    pub risk: RiskConfig,
    pub exits: ExitsConfig,
    pub entry: EntryConfig,
    pub consensus: ConsensusConfig,
    pub index: IndexConfig,
    pub execution: ExecutionConfig,
    pub discovery: DiscoveryConfig,
    pub scoring: ScoringConfig,
    pub eligibility: EligibilityConfig,
    pub clusters: ClustersConfig,
    pub allocation: AllocationConfig,
    pub schedule: ScheduleConfig,
    pub nansen: NansenConfig,
    pub hyperliquid: HyperliquidConfig,
    pub clock: ClockConfig,
    pub http: HttpConfig,
    pub state: StateConfig,
    pub log: LogConfig,
    pub keys: KeysConfig,
    pub simulation: SimulationConfig,
    pub backtest: BacktestConfig,
    pub alerts: AlertsConfig,
    pub paper_trading: PaperTradingConfig,
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{origin}: {key}: {message}")]
    Parse { origin: String, key: String, message: String },
    #[error("environment override {var}: {message}")]
    Override { var: String, message: String },
    #[error("{origin} is invalid:\n{}", format_issues(.issues))]
    Invalid { origin: String, issues: Vec<Issue> },
    #[error("{0}")]
    Secret(String),
}

fn format_issues(issues: &[Issue]) -> String {
    issues.iter().map(|i| format!("  - {i}")).collect::<Vec<_>>().join("\n")
}

/// A configuration ready to run with: validated, with its secrets and provenance.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub secrets: Secrets,
    /// The file it came from, if any.
    pub path: Option<PathBuf>,
    /// The environment variables that overrode keys.
    pub overrides: Vec<String>,
}

impl Loaded {
    fn origin(&self) -> String {
        origin(self.path.as_deref())
    }
}

fn origin(path: Option<&Path>) -> String {
    match path {
        Some(p) => p.display().to_string(),
        None => "built-in defaults".to_string(),
    }
}

/// Parses a TOML document into a [`Config`] (defaults for what it omits), naming
/// the dotted key of the first problem. Does not validate ranges.
pub fn parse_str(text: &str, origin: &str) -> Result<Config, ConfigError> {
    let parse_err = |key: String, message: String| ConfigError::Parse { origin: origin.to_string(), key, message };
    let de = toml::Deserializer::parse(text).map_err(|e| parse_err("(syntax)".to_string(), e.to_string()))?;
    serde_path_to_error::deserialize(de).map_err(|e: serde_path_to_error::Error<toml::de::Error>| {
        let key = e.path().to_string();
        parse_err(if key == "." { "(top level)".to_string() } else { key }, e.into_inner().to_string())
    })
}

/// Loads the configuration: `path` (or defaults), overridden by `MIRRORFLOW__…`
/// variables in `env`, validated, with secrets from `env` and the key file.
pub fn load(path: Option<&Path>, env: &BTreeMap<String, String>) -> Result<Loaded, ConfigError> {
    let mut config = match path {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).map_err(|source| ConfigError::Io { path: p.to_path_buf(), source })?;
            parse_str(&text, &origin(Some(p)))?
        }
        None => Config::default(),
    };
    let overrides = apply_overrides(&mut config, env)?;
    if let Some(dir) = path.and_then(Path::parent) {
        resolve_paths(&mut config, dir);
    }
    let issues = validate(&config);
    if !issues.is_empty() {
        return Err(ConfigError::Invalid { origin: origin(path), issues });
    }
    let secrets = Secrets::load(env, &config.keys)?;
    Ok(Loaded { config, secrets, path: path.map(Path::to_path_buf), overrides })
}

/// The process environment after `.env` (which never overrides a variable that is
/// already set).
pub fn process_env() -> BTreeMap<String, String> {
    // A missing .env is normal; a malformed one is reported by the caller's log.
    let _ = dotenvy::dotenv();
    std::env::vars().collect()
}

fn resolve_paths(config: &mut Config, base: &Path) {
    let resolve =
        |p: &Path| if p.is_relative() && !base.as_os_str().is_empty() { base.join(p) } else { p.to_path_buf() };
    config.state.dir = resolve(&config.state.dir);
    for file in [&mut config.keys.private_key_file, &mut config.keys.nansen_api_key_file] {
        if let Some(path) = file.as_deref() {
            *file = Some(resolve(path));
        }
    }
}

/// Applies `MIRRORFLOW__SECTION__KEY=value` variables, in name order; returns the
/// names applied. The value is read as a TOML value (`0.4`, `true`, `["entry"]`)
/// or, failing that, as a string.
fn apply_overrides(config: &mut Config, env: &BTreeMap<String, String>) -> Result<Vec<String>, ConfigError> {
    let mut applied = Vec::new();
    for (var, raw) in env.iter().filter(|(k, _)| k.starts_with(ENV_PREFIX)) {
        let err = |message: String| ConfigError::Override { var: var.clone(), message };
        let mut root = toml::Value::try_from(&*config).map_err(|e| err(e.to_string()))?;
        let segments: Vec<&str> = var[ENV_PREFIX.len()..].split("__").collect();
        set_path(&mut root, &segments, scalar(raw)).map_err(err)?;
        *config = serde_path_to_error::deserialize(root).map_err(|e| {
            let path = e.path().to_string();
            err(format!("{path}: {}", e.into_inner()))
        })?;
        applied.push(var.clone());
    }
    Ok(applied)
}

fn scalar(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

/// Sets `segments` (matched case-insensitively against existing keys) to `value`.
fn set_path(root: &mut toml::Value, segments: &[&str], value: toml::Value) -> Result<(), String> {
    let (last, parents) = segments.split_last().ok_or("names no key")?;
    let mut table = root.as_table_mut().ok_or("configuration is not a table")?;
    let mut walked = Vec::new();
    for segment in parents {
        let key = table
            .keys()
            .find(|k| k.eq_ignore_ascii_case(segment))
            .cloned()
            .ok_or_else(|| format!("no section {:?} under {:?}", segment.to_lowercase(), walked.join(".")))?;
        walked.push(key.clone());
        table = table
            .get_mut(&key)
            .and_then(toml::Value::as_table_mut)
            .ok_or_else(|| format!("{} is a value, not a section", walked.join(".")))?;
    }
    let existing = table.keys().find(|k| k.eq_ignore_ascii_case(last)).cloned();
    // New keys in tables keyed by token symbols keep their case; struct fields are lower case.
    let symbol_table = table.keys().any(|k| k.bytes().any(|b| b.is_ascii_uppercase()));
    let key = existing.unwrap_or_else(|| if symbol_table { last.to_string() } else { last.to_lowercase() });
    table.insert(key, value);
    Ok(())
}

/// The effective configuration as a TOML document that `load` accepts back, with
/// a header saying where it came from and which secrets are set (never their values).
pub fn render(loaded: &Loaded) -> Result<String, ConfigError> {
    let mut value = toml::Value::try_from(&loaded.config).map_err(|e| ConfigError::Parse {
        origin: loaded.origin(),
        key: "(render)".into(),
        message: e.to_string(),
    })?;
    numbers_as_numbers(&mut value, "");
    let body = toml::to_string_pretty(&value).map_err(|e| ConfigError::Parse {
        origin: loaded.origin(),
        key: "(render)".into(),
        message: e.to_string(),
    })?;
    let mut out = String::new();
    out.push_str(&format!("# mirrorflow effective configuration\n# source: {}\n", loaded.origin()));
    if loaded.overrides.is_empty() {
        out.push_str("# environment overrides: none\n");
    } else {
        out.push_str(&format!("# environment overrides: {}\n", loaded.overrides.join(", ")));
    }
    out.push_str("# secrets (values are never printed):\n");
    for (name, status) in loaded.secrets.summary() {
        out.push_str(&format!("#   {name} = {status}\n"));
    }
    out.push('\n');
    out.push_str(&body);
    Ok(out)
}

/// Exact decimals serialize as strings (so nothing is lost); for display, those
/// that a TOML number represents exactly are written as numbers.
fn numbers_as_numbers(value: &mut toml::Value, key: &str) {
    match value {
        toml::Value::Table(t) => t.iter_mut().for_each(|(k, v)| numbers_as_numbers(v, k)),
        toml::Value::Array(a) => a.iter_mut().for_each(|v| numbers_as_numbers(v, key)),
        toml::Value::String(s) if !STRING_KEYS.contains(&key) => {
            let Ok(exact) = dataflows::model::Fixed::parse(s) else { return };
            if exact.scale() == 0 {
                if let Ok(i) = i64::try_from(exact.trunc_int()) {
                    *value = toml::Value::Integer(i);
                }
            } else if dataflows::model::Fixed::from_f64(exact.to_f64()) == Ok(exact) {
                *value = toml::Value::Float(exact.to_f64());
            }
        }
        _ => {}
    }
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match toml::to_string_pretty(self) {
            Ok(text) => f.write_str(&text),
            Err(_) => f.write_str("<unprintable configuration>"),
        }
    }
}
