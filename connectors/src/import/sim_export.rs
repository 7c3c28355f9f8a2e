//! The simulated venue's export (`mirrorflow sim export`), recognised by its
//! `manifest.json`. Its files are in the sources' own formats (node_fills lines
//! with every Hyperliquid field, candles, funding, Nansen pages), so the
//! [`dataset`](super::dataset) reader reads it and nothing needs deriving.

use std::path::{Path, PathBuf};

use crate::sim::export::FORMAT;

pub const MANIFEST: &str = "manifest.json";
pub const FILLS: &str = "hyperliquid/node_fills.jsonl";

/// The export directory `path` is, or is a file inside of.
pub fn export_dir(path: &Path) -> Option<PathBuf> {
    path.ancestors().take(4).find(|dir| is_export(dir)).map(Path::to_path_buf)
}

fn is_export(dir: &Path) -> bool {
    let Ok(bytes) = std::fs::read(dir.join(MANIFEST)) else { return false };
    serde_json::from_slice::<serde_json::Value>(&bytes).is_ok_and(|m| m["format"] == FORMAT)
}
