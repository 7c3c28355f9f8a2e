//! The simulated venue's export (`mirrorflow sim export`): recognised by its
//! `manifest.json`; fills are `[user, Fill]` lines of `hyperliquid/node_fills.jsonl`
//! with every Hyperliquid field present, so nothing needs deriving.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use super::{ImportError, RowError, Summary};
use crate::hyperliquid::info::Fill;
use crate::sim::export::FORMAT;

pub const MANIFEST: &str = "manifest.json";
pub const FILLS: &str = "hyperliquid/node_fills.jsonl";

/// The export directory of `path`, if it is one.
pub fn export_dir(path: &Path) -> Option<PathBuf> {
    let dir = if path.is_dir() { path.to_path_buf() } else { path.parent()?.to_path_buf() };
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join(MANIFEST)).ok()?).ok()?;
    (manifest["format"] == FORMAT).then_some(dir)
}

/// Reads every fill in file order; bad lines are reported and skipped.
pub fn read(
    path: &Path,
    mut on_fill: impl FnMut(&str, Fill),
    mut on_error: impl FnMut(RowError),
) -> Result<Summary, ImportError> {
    let dir = export_dir(path).ok_or_else(|| ImportError::Unrecognised(path.to_path_buf()))?;
    let file = dir.join(FILLS);
    let io = |source| ImportError::Io { path: file.clone(), source };
    let reader = BufReader::new(std::fs::File::open(&file).map_err(io)?);
    let mut summary = Summary { format: super::Format::SimExport.name().into(), ..Summary::default() };
    let (mut wallets, mut tokens) = (BTreeSet::new(), BTreeSet::new());
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(io)?;
        if line.trim().is_empty() {
            continue;
        }
        summary.rows += 1;
        match serde_json::from_str::<(String, Fill)>(&line) {
            Ok((user, fill)) => {
                wallets.insert(user.clone());
                tokens.insert(fill.coin.clone());
                summary.first_ms = Some(summary.first_ms.map_or(fill.time, |t| t.min(fill.time)));
                summary.last_ms = Some(summary.last_ms.map_or(fill.time, |t| t.max(fill.time)));
                *summary.events.entry("fill".into()).or_default() += 1;
                on_fill(&user, fill);
            }
            Err(e) => {
                *summary.skipped.entry("malformed line".into()).or_default() += 1;
                on_error(RowError { file: FILLS.into(), line: i as u64 + 1, reason: e.to_string() });
            }
        }
    }
    for (rel, kind) in [
        ("hyperliquid/user_funding.jsonl", "funding payment"),
        ("hyperliquid/ledger_updates.jsonl", "transfer"),
        ("hyperliquid/account_values.jsonl", "account value"),
        ("hyperliquid/liquidations.jsonl", "liquidation"),
        ("hyperliquid/candles_1h.jsonl", "candle"),
    ] {
        if let Ok(f) = std::fs::File::open(dir.join(rel)) {
            let n = BufReader::new(f).lines().filter(|l| l.as_ref().is_ok_and(|l| !l.trim().is_empty())).count();
            summary.events.insert(kind.into(), n as u64);
        }
    }
    summary.wallets = wallets.len() as u64;
    summary.tokens = tokens.into_iter().collect();
    Ok(summary)
}
