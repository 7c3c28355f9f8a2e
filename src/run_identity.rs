//! What a state file belongs to: the configuration that decides (strategies,
//! risk, exits, scoring, …), the account, paper or live, and the mirrorflow
//! that wrote it. The daemon binds its state directory to one identity on
//! first start and refuses, with the differences named, to resume it under
//! another — a journal and an input log from one configuration replayed under
//! a different one would mix two runs' decisions (DESIGN §6). Settings that do
//! not change decisions (logging, URLs, alert receivers) may change freely.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::store::{Store, StoreError, Table};

const IDENTITY: Table<String, RunIdentity> = Table::new("run_identity");
const KEY: &str = "identity";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Paper,
    Live,
}

/// A run's identity: each deciding section's canonical TOML, the account,
/// the mode and the version that created it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunIdentity {
    pub sections: BTreeMap<String, String>,
    pub account: Option<String>,
    pub mode: Mode,
    pub version: String,
}

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot describe the configuration: {0}")]
    Encode(String),
    #[error(
        "state file {path} belongs to another run: {what}. Resume it with the configuration it was started \
         with, or start this one with another --state-dir"
    )]
    OtherRun { path: String, what: String },
    #[error("state file {path} was written by mirrorflow {found}, newer than this one ({current}); upgrade mirrorflow")]
    NewerVersion { path: String, found: String, current: String },
}

/// The sections whose values change what the engine decides or orders.
fn deciding_sections(config: &Config) -> Result<BTreeMap<String, String>, IdentityError> {
    let value = toml::Value::try_from(config).map_err(|e| IdentityError::Encode(e.to_string()))?;
    let table = value.as_table().cloned().unwrap_or_default();
    let deciding = [
        "strategies",
        "risk",
        "exits",
        "entry",
        "consensus",
        "index",
        "execution",
        "discovery",
        "scoring",
        "eligibility",
        "clusters",
        "allocation",
        "simulation",
    ];
    deciding
        .iter()
        .map(|name| {
            let text = table.get(*name).map(|v| toml::to_string(v).unwrap_or_else(|_| v.to_string()));
            Ok((name.to_string(), text.unwrap_or_default()))
        })
        .collect()
}

impl RunIdentity {
    pub fn of(config: &Config, account: Option<&str>, mode: Mode) -> Result<RunIdentity, IdentityError> {
        Ok(RunIdentity {
            sections: deciding_sections(config)?,
            account: account.map(str::to_lowercase),
            mode,
            version: env!("CARGO_PKG_VERSION").to_string(),
        })
    }

    /// What differs from `other`, in words ("[risk] and [exits] changed").
    fn differences(&self, other: &RunIdentity) -> Vec<String> {
        let mut out = Vec::new();
        let changed: Vec<String> = self
            .sections
            .iter()
            .filter(|(k, v)| other.sections.get(*k) != Some(*v))
            .map(|(k, _)| format!("[{k}]"))
            .collect();
        if !changed.is_empty() {
            out.push(format!("{} changed", changed.join(", ")));
        }
        if self.account != other.account {
            out.push(format!(
                "the account was {}, now {}",
                other.account.as_deref().unwrap_or("none"),
                self.account.as_deref().unwrap_or("none")
            ));
        }
        if self.mode != other.mode {
            out.push(format!("it ran {:?}, now {:?}", other.mode, self.mode).to_lowercase());
        }
        out
    }
}

/// Binds `store` to `identity` on first use; afterwards accepts only the same
/// identity (a newer patch of the same configuration is the same run).
pub fn bind(store: &Store, identity: &RunIdentity) -> Result<(), IdentityError> {
    let path = store.path().display().to_string();
    let stored: Option<RunIdentity> = store.read()?.get(&IDENTITY, &KEY.to_string())?;
    let Some(stored) = stored else {
        let mut w = store.write()?;
        w.put(&IDENTITY, &KEY.to_string(), identity)?;
        w.commit()?;
        return Ok(());
    };
    if newer(&stored.version, &identity.version) {
        return Err(IdentityError::NewerVersion { path, found: stored.version, current: identity.version.clone() });
    }
    let diff = identity.differences(&stored);
    if !diff.is_empty() {
        return Err(IdentityError::OtherRun { path, what: diff.join("; ") });
    }
    Ok(())
}

/// The identity a state file was bound to, if any.
pub fn stored(store: &Store) -> Result<Option<RunIdentity>, IdentityError> {
    Ok(store.read()?.get(&IDENTITY, &KEY.to_string())?)
}

/// Checks that `config` is the one `store` was run with, whatever its mode and
/// account (a replay of a daemon's log decides with the daemon's configuration).
pub fn check_config(store: &Store, config: &Config) -> Result<RunIdentity, IdentityError> {
    let path = store.path().display().to_string();
    let Some(stored) = stored(store)? else {
        return Err(IdentityError::OtherRun { path, what: "it holds no run".into() });
    };
    let mine = RunIdentity::of(config, stored.account.as_deref(), stored.mode)?;
    bind(store, &mine)?;
    Ok(stored)
}

/// `a` is a later version than `b` (numeric, dot-separated).
fn newer(a: &str, b: &str) -> bool {
    let parse = |v: &str| v.split(['.', '-']).map(|p| p.parse::<u64>().unwrap_or(0)).collect::<Vec<_>>();
    parse(a) > parse(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataflows::model::Ratio;

    fn store(dir: &tempfile::TempDir) -> Store {
        Store::open(&dir.path().join("state.redb")).unwrap()
    }

    #[test]
    fn the_same_run_resumes_and_harmless_changes_are_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::default();
        let id = RunIdentity::of(&config, Some("0xABC"), Mode::Paper).unwrap();
        bind(&store(&dir), &id).unwrap();
        let mut relaxed = config.clone();
        relaxed.log.level = "debug".into();
        let again = RunIdentity::of(&relaxed, Some("0xabc"), Mode::Paper).unwrap();
        bind(&store(&dir), &again).unwrap();
    }

    #[test]
    fn another_configuration_account_or_mode_is_refused_with_what_differs() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::default();
        bind(&store(&dir), &RunIdentity::of(&config, Some("0xabc"), Mode::Paper).unwrap()).unwrap();
        let mut other = config.clone();
        other.risk.copy_ratio = Ratio::lit(25, 2);
        let e = bind(&store(&dir), &RunIdentity::of(&other, Some("0xabc"), Mode::Paper).unwrap()).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("[risk] changed") && text.contains("--state-dir"), "{text}");
        let e = bind(&store(&dir), &RunIdentity::of(&config, Some("0xdef"), Mode::Live).unwrap()).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("account was 0xabc, now 0xdef") && text.contains("ran paper, now live"), "{text}");
    }

    #[test]
    fn a_state_file_from_a_newer_mirrorflow_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut id = RunIdentity::of(&Config::default(), None, Mode::Paper).unwrap();
        id.version = "99.0.0".into();
        bind(&store(&dir), &id).unwrap();
        let current = RunIdentity::of(&Config::default(), None, Mode::Paper).unwrap();
        let e = bind(&store(&dir), &current).unwrap_err();
        assert!(matches!(e, IdentityError::NewerVersion { .. }), "{e}");
        assert!(newer("0.10.0", "0.9.3") && !newer("0.1.0", "0.1.0"));
    }
}
