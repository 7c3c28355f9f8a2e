//! Secrets: API keys, the trading key and alert tokens. They come from the
//! environment (which `.env` may fill) or, for the private key, a file that only
//! its owner can read. They are held in `SecretString`, whose `Debug` prints
//! `[REDACTED]`, and are never written by `config show`, logs or reports.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use dataflows::model::Address;
use secrecy::{ExposeSecret, SecretString};

use super::ConfigError;
use super::operations::KeysConfig;

pub const NANSEN_API_KEY: &str = "NANSEN_API_KEY";
pub const HL_PRIVATE_KEY: &str = "HL_PRIVATE_KEY";
pub const HL_ACCOUNT_ADDRESS: &str = "HL_ACCOUNT_ADDRESS";
pub const WEBHOOK_TOKEN: &str = "MIRRORFLOW_WEBHOOK_TOKEN";
pub const TELEGRAM_BOT_TOKEN: &str = "TELEGRAM_BOT_TOKEN";
pub const TYPEFULLY_API_KEY: &str = "TYPEFULLY_API_KEY";

/// Where a secret was read from (shown instead of its value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    Environment(&'static str),
    File(PathBuf),
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Environment(var) => write!(f, "environment variable {var}"),
            SecretSource::File(path) => write!(f, "file {}", path.display()),
        }
    }
}

/// A secret value and where it came from.
#[derive(Debug, Clone)]
pub struct Secret {
    value: SecretString,
    pub source: SecretSource,
}

impl Secret {
    /// The secret itself — for the one place that must use it (a request header,
    /// the signer), never for printing.
    pub fn expose(&self) -> &str {
        self.value.expose_secret()
    }
}

/// Every secret mirrorflow may use, each optional until a command needs it.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    pub nansen_api_key: Option<Secret>,
    pub hl_private_key: Option<Secret>,
    /// The account traded (public, but per-user, so it is environment rather than config).
    pub hl_account_address: Option<Address>,
    pub webhook_token: Option<Secret>,
    pub telegram_bot_token: Option<Secret>,
    pub typefully_api_key: Option<Secret>,
}

impl Secrets {
    /// Reads the secrets from `env` (the process environment after `.env`) and the
    /// optional key file.
    pub fn load(env: &BTreeMap<String, String>, keys: &KeysConfig) -> Result<Secrets, ConfigError> {
        let key_file = keys.private_key_file.as_deref();
        let from_env = |var: &'static str| {
            env.get(var).filter(|v| !v.trim().is_empty()).map(|v| Secret {
                value: SecretString::from(v.trim().to_string()),
                source: SecretSource::Environment(var),
            })
        };
        let hl_private_key = env_or_file(from_env(HL_PRIVATE_KEY), HL_PRIVATE_KEY, key_file, "keys.private_key_file")?;
        let nansen_api_key = env_or_file(
            from_env(NANSEN_API_KEY),
            NANSEN_API_KEY,
            keys.nansen_api_key_file.as_deref(),
            "keys.nansen_api_key_file",
        )?;
        if let Some(key) = &hl_private_key {
            check_private_key_shape(key)?;
        }
        let from_env_address = match env.get(HL_ACCOUNT_ADDRESS).filter(|v| !v.trim().is_empty()) {
            Some(text) => Some(
                Address::parse(text.trim()).map_err(|e| ConfigError::Secret(format!("{HL_ACCOUNT_ADDRESS}: {e}")))?,
            ),
            None => None,
        };
        let from_config = match &keys.account_address {
            Some(text) => Some(
                Address::parse(text.trim()).map_err(|e| ConfigError::Secret(format!("keys.account_address: {e}")))?,
            ),
            None => None,
        };
        let hl_account_address = match (from_env_address, from_config) {
            (Some(a), Some(b)) if a != b => {
                return Err(ConfigError::Secret(format!(
                    "{HL_ACCOUNT_ADDRESS} ({a}) and keys.account_address ({b}) disagree; keep one"
                )));
            }
            (a, b) => a.or(b),
        };
        Ok(Secrets {
            nansen_api_key,
            hl_private_key,
            hl_account_address,
            webhook_token: from_env(WEBHOOK_TOKEN),
            telegram_bot_token: from_env(TELEGRAM_BOT_TOKEN),
            typefully_api_key: from_env(TYPEFULLY_API_KEY),
        })
    }

    /// `(name, status)` for each secret, for `config show`: whether it is set and
    /// from where — never the value.
    pub fn summary(&self) -> Vec<(&'static str, String)> {
        let status = |s: &Option<Secret>| match s {
            Some(secret) => format!("<redacted> (from {})", secret.source),
            None => "<not set>".to_string(),
        };
        vec![
            (NANSEN_API_KEY, status(&self.nansen_api_key)),
            (
                HL_PRIVATE_KEY,
                match &self.hl_private_key {
                    // The address it signs as is public; the key never shows.
                    Some(k) => match connectors::hyperliquid::keys::Signer::from_hex(k.expose()) {
                        Ok(signer) => format!("<redacted> (from {}; signs as {})", k.source, signer.address_hex()),
                        Err(e) => format!("<redacted> (from {}; unusable: {e})", k.source),
                    },
                    None => status(&None),
                },
            ),
            (
                HL_ACCOUNT_ADDRESS,
                self.hl_account_address.map(|a| a.to_string()).unwrap_or_else(|| "<not set>".to_string()),
            ),
            (WEBHOOK_TOKEN, status(&self.webhook_token)),
            (TELEGRAM_BOT_TOKEN, status(&self.telegram_bot_token)),
            (TYPEFULLY_API_KEY, status(&self.typefully_api_key)),
        ]
    }
}

/// One secret from either the environment or a file — never both.
fn env_or_file(
    env: Option<Secret>,
    var: &str,
    file: Option<&Path>,
    key: &'static str,
) -> Result<Option<Secret>, ConfigError> {
    match (env, file) {
        (Some(_), Some(path)) => {
            Err(ConfigError::Secret(format!("both {var} and {key} ({}) are set; keep exactly one", path.display())))
        }
        (Some(secret), None) => Ok(Some(secret)),
        (None, Some(path)) => read_secret_file(path, key).map(Some),
        (None, None) => Ok(None),
    }
}

/// Reads a secret from `path`, refusing a file that group or others can read: a
/// trading key must not be exposed to other users of the machine.
fn read_secret_file(path: &Path, key: &'static str) -> Result<Secret, ConfigError> {
    let meta = std::fs::metadata(path).map_err(|e| ConfigError::Secret(format!("{key} {}: {e}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(ConfigError::Secret(format!(
                "{key} {} is readable by others (mode {mode:03o}); run `chmod 600 {}`",
                path.display(),
                path.display()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let text =
        std::fs::read_to_string(path).map_err(|e| ConfigError::Secret(format!("{key} {}: {e}", path.display())))?;
    Ok(Secret { value: SecretString::from(text.trim().to_string()), source: SecretSource::File(path.to_path_buf()) })
}

/// A secp256k1 key is 32 bytes: `0x` + 64 hex digits (the prefix is optional).
/// The message never contains the key.
fn check_private_key_shape(key: &Secret) -> Result<(), ConfigError> {
    let text = key.expose();
    let hex_part = text.strip_prefix("0x").unwrap_or(text);
    if hex_part.len() != 64 || !hex_part.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ConfigError::Secret(format!(
            "the private key from {} is not 32 bytes of hex (0x + 64 hex digits)",
            key.source
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn debug_and_summary_never_show_values() {
        let s =
            Secrets::load(&env(&[(NANSEN_API_KEY, "nsk_supersecret"), (HL_PRIVATE_KEY, KEY)]), &KeysConfig::default())
                .unwrap();
        let debug = format!("{s:?}");
        assert!(!debug.contains("supersecret") && !debug.contains("0123456789abcdef"), "{debug}");
        let summary = format!("{:?}", s.summary());
        assert!(!summary.contains("supersecret") && !summary.contains("0123456789abcdef"));
        assert!(summary.contains("<redacted>"));
        assert_eq!(s.nansen_api_key.unwrap().expose(), "nsk_supersecret");
    }

    #[cfg(unix)]
    #[test]
    fn key_file_must_be_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, format!("{KEY}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let keys = KeysConfig { private_key_file: Some(path.clone()), ..KeysConfig::default() };
        let err = Secrets::load(&env(&[]), &keys).unwrap_err().to_string();
        assert!(err.contains("readable by others") && err.contains("644"), "{err}");
        assert!(!err.contains("0123456789abcdef"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let s = Secrets::load(&env(&[]), &keys).unwrap();
        assert_eq!(s.hl_private_key.unwrap().expose(), KEY);
    }

    #[test]
    fn malformed_keys_and_double_sources_are_refused_without_echo() {
        let none = KeysConfig::default();
        let err = Secrets::load(&env(&[(HL_PRIVATE_KEY, "0xdeadbeef")]), &none).unwrap_err().to_string();
        assert!(err.contains("not 32 bytes") && !err.contains("deadbeef"), "{err}");
        let file = KeysConfig { private_key_file: Some("/nonexistent".into()), ..KeysConfig::default() };
        let err = Secrets::load(&env(&[(HL_PRIVATE_KEY, KEY)]), &file).unwrap_err().to_string();
        assert!(err.contains("keep exactly one"), "{err}");
        let err = Secrets::load(&env(&[(HL_ACCOUNT_ADDRESS, "0x12")]), &none).unwrap_err().to_string();
        assert!(err.contains(HL_ACCOUNT_ADDRESS), "{err}");
        let both = KeysConfig { account_address: Some("0x7e5f4552091a69125d5dfcb7b8c2659029395bdf".into()), ..none };
        let other = "0x0000000000000000000000000000000000000001";
        let err = Secrets::load(&env(&[(HL_ACCOUNT_ADDRESS, other)]), &both).unwrap_err().to_string();
        assert!(err.contains("disagree"), "{err}");
    }
}
