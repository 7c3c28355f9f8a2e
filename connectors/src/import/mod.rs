//! Importers of historical data for backfill: each reads one source's own files
//! into API-shaped records, row by row, and reports what it skipped and why. A bad
//! row is a typed error with its line, never a panic; the import goes on.

pub mod hl2023;
pub mod sim_export;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A row that could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct RowError {
    pub file: String,
    pub line: u64,
    pub reason: String,
}

/// What an import read: counts by kind, distinct wallets and coins, the time span,
/// and skipped rows by reason.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub format: String,
    pub rows: u64,
    pub events: BTreeMap<String, u64>,
    pub wallets: u64,
    pub tokens: Vec<String>,
    pub first_ms: Option<u64>,
    pub last_ms: Option<u64>,
    pub skipped: BTreeMap<String, u64>,
    /// What the importer derived that the source lacks.
    pub derived: Vec<String>,
}

/// Formats the importers recognise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Hyperliquid's early-mainnet per-address CSVs (`non_mm_trades.csv` …).
    Hyperliquid2023,
    /// `mirrorflow sim export` output (a directory with `manifest.json`).
    SimExport,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Hyperliquid2023 => "hl-2023-csv",
            Format::SimExport => "sim-export",
        }
    }

    pub fn from_name(name: &str) -> Option<Format> {
        [Format::Hyperliquid2023, Format::SimExport].into_iter().find(|f| f.name() == name)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(
        "{0}: no importer recognises this path (expected Hyperliquid's 2023 CSVs or a `mirrorflow sim export` directory)"
    )]
    Unrecognised(PathBuf),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
}

/// Which importer reads `path`.
pub fn detect(path: &Path) -> Result<Format, ImportError> {
    if hl2023::trades_file(path).is_some() {
        return Ok(Format::Hyperliquid2023);
    }
    if sim_export::export_dir(path).is_some() {
        return Ok(Format::SimExport);
    }
    Err(ImportError::Unrecognised(path.to_path_buf()))
}
