//! `mirrorflow config show | check`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use crate::config::{self, Loaded};

/// Prints the effective configuration with secrets redacted.
pub fn show(loaded: &Loaded) -> anyhow::Result<ExitCode> {
    print!("{}", config::render(loaded)?);
    Ok(ExitCode::SUCCESS)
}

/// Validates `file` (with the environment `run` would see); lists every problem.
pub fn check(file: &Path, env: &BTreeMap<String, String>) -> ExitCode {
    match config::load(Some(file), env) {
        Ok(loaded) => {
            let overrides = if loaded.overrides.is_empty() {
                String::new()
            } else {
                format!(" (with environment overrides {})", loaded.overrides.join(", "))
            };
            println!("{}: OK{overrides}", file.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
