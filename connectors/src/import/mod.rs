//! Importers of historical data for backfill: each reads one source's own files
//! into API-shaped records, row by row, and reports what it skipped and why. A bad
//! row is a typed error with its line, never a panic; the import goes on.
//!
//! * [`hl2023`]: Hyperliquid's 2023 per-address trade CSVs (fills rebuilt).
//! * [`dataset`]: a directory (or file) of Hyperliquid's and Nansen's own formats —
//!   node_fills / node_fills_by_block / node_trades JSON lines, candles, funding,
//!   account values, asset contexts, l2Book archive hours, recorded Nansen
//!   leaderboard pages — plain or LZ4-framed. `mirrorflow sim export` and
//!   `mirrorflow fetch` write such directories.

pub mod archive;
pub mod dataset;
pub mod hl2023;
pub mod node;
pub mod sim_export;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use crate::hyperliquid::info::{Candle, ClearinghouseState, Fill, FundingHistoryEntry};
use crate::nansen::types::LeaderboardRow;
use crate::wire::Decimal;

/// One API-shaped record of a dataset.
// Nearly every record is a fill, so boxing it would only add an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Fill {
        user: String,
        fill: Fill,
    },
    Candle(Candle),
    Funding(FundingHistoryEntry),
    /// A price observation: an asset context's mark or an l2Book mid.
    Mark {
        coin: String,
        time: u64,
        px: Decimal,
    },
    AccountValue {
        user: String,
        time: u64,
        value: Decimal,
    },
    /// A wallet's account state (positions and account value) at `time`.
    State {
        user: String,
        time: u64,
        state: ClearinghouseState,
    },
    /// A Nansen leaderboard row of `window` (`7d`, `30d`, …) as of `time`.
    Leaderboard {
        window: String,
        time: u64,
        row: LeaderboardRow,
    },
}

impl Record {
    pub fn kind(&self) -> &'static str {
        match self {
            Record::Fill { .. } => "fill",
            Record::Candle(_) => "candle",
            Record::Funding(_) => "funding",
            Record::Mark { .. } => "mark",
            Record::AccountValue { .. } => "account value",
            Record::State { .. } => "account state",
            Record::Leaderboard { .. } => "leaderboard row",
        }
    }

    pub fn time(&self) -> u64 {
        match self {
            Record::Fill { fill, .. } => fill.time,
            Record::Candle(c) => c.close_time,
            Record::Funding(f) => f.time,
            Record::Mark { time, .. }
            | Record::AccountValue { time, .. }
            | Record::State { time, .. }
            | Record::Leaderboard { time, .. } => *time,
        }
    }

    fn wallet(&self) -> Option<&str> {
        match self {
            Record::Fill { user, .. } | Record::AccountValue { user, .. } | Record::State { user, .. } => Some(user),
            Record::Leaderboard { row, .. } => Some(&row.trader_address),
            _ => None,
        }
    }

    fn coin(&self) -> Option<&str> {
        match self {
            Record::Fill { fill, .. } => Some(&fill.coin),
            Record::Candle(c) => Some(&c.s),
            Record::Funding(f) => Some(&f.coin),
            Record::Mark { coin, .. } => Some(coin),
            _ => None,
        }
    }
}

/// Builds a [`Summary`] while records and bad rows go by.
#[derive(Debug, Default)]
pub struct Tally {
    summary: Summary,
    wallets: BTreeSet<String>,
    tokens: BTreeSet<String>,
}

impl Tally {
    pub fn new(format: Format) -> Tally {
        Tally { summary: Summary { format: format.name().into(), ..Summary::default() }, ..Tally::default() }
    }

    pub fn row(&mut self) {
        self.summary.rows += 1;
    }

    pub fn record(&mut self, r: &Record) {
        if let Some(w) = r.wallet() {
            self.wallets.insert(w.to_lowercase());
        }
        if let Some(c) = r.coin() {
            self.tokens.insert(c.to_string());
        }
        let t = r.time();
        let s = &mut self.summary;
        s.first_ms = Some(s.first_ms.map_or(t, |f| f.min(t)));
        s.last_ms = Some(s.last_ms.map_or(t, |l| l.max(t)));
        *s.events.entry(r.kind().into()).or_default() += 1;
    }

    pub fn skip(&mut self, reason: &str) {
        *self.summary.skipped.entry(reason.into()).or_default() += 1;
    }

    /// A history line that is not an engine input (a transfer, a liquidation notice).
    pub fn count(&mut self, kind: &str) {
        *self.summary.events.entry(kind.into()).or_default() += 1;
    }

    pub fn has_source(&self, kind: &str) -> bool {
        self.summary.sources.contains_key(kind)
    }

    pub fn source(&mut self, kind: &str) {
        *self.summary.sources.entry(kind.into()).or_default() += 1;
    }

    pub fn derived(&mut self, note: String) {
        if !self.summary.derived.contains(&note) {
            self.summary.derived.push(note);
        }
    }

    pub fn finish(mut self) -> Summary {
        self.summary.wallets = self.wallets.len() as u64;
        self.summary.tokens = self.tokens.into_iter().collect();
        self.summary
    }
}

/// The lines of a file, decompressing LZ4 frames (`.lz4`) on the way.
pub fn open_lines(path: &Path) -> Result<Box<dyn BufRead>, ImportError> {
    let file = std::fs::File::open(path).map_err(|source| ImportError::Io { path: path.to_path_buf(), source })?;
    let lz4 = path.extension().is_some_and(|e| e == "lz4");
    Ok(if lz4 {
        Box::new(BufReader::new(lz4_flex::frame::FrameDecoder::new(BufReader::new(file))))
    } else {
        Box::new(BufReader::new(file))
    })
}

/// Epoch milliseconds of an archive timestamp: RFC 3339 (`2024-01-01T00:00:00Z`),
/// or naive UTC with `T` or a space and up to nine fractional digits
/// (`2024-07-26T08:26:25.899`, `2026-04-30 00:00:00`).
pub fn parse_time(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let ms = if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        t.timestamp_millis()
    } else {
        let naive = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
            .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f"))
            .map_err(|e| format!("time {text:?}: {e}"))?;
        naive.and_utc().timestamp_millis()
    };
    u64::try_from(ms).map_err(|_| format!("time {text:?} is before 1970"))
}

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
    /// Files read, by what they held.
    pub sources: BTreeMap<String, u64>,
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
    /// Any directory or file of the formats [`dataset`] reads.
    Dataset,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Hyperliquid2023, Format::SimExport, Format::Dataset];

    pub fn name(self) -> &'static str {
        match self {
            Format::Hyperliquid2023 => "hl-2023-csv",
            Format::SimExport => "sim-export",
            Format::Dataset => "dataset",
        }
    }

    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(
        "{0}: no importer recognises this path (expected Hyperliquid's 2023 CSVs, node_fills/node_trades lines, candles, funding, asset contexts, l2Book hours, Nansen leaderboard pages, or a `mirrorflow sim export`/`fetch` directory)"
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
    if dataset::recognises(path) {
        return Ok(Format::Dataset);
    }
    Err(ImportError::Unrecognised(path.to_path_buf()))
}

/// Reads `path` as `format`, handing over every record in file order (a
/// backfill sorts them by time), every bad row, and each file before it is read.
pub fn read(
    path: &Path,
    format: Format,
    on_record: impl FnMut(Record),
    on_error: impl FnMut(RowError),
    mut on_file: impl FnMut(&Path, u64),
) -> Result<Summary, ImportError> {
    match format {
        Format::Hyperliquid2023 => {
            let file = hl2023::trades_file(path).ok_or_else(|| ImportError::Unrecognised(path.to_path_buf()))?;
            on_file(&file, std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0));
            hl2023::read(path, on_record, on_error)
        }
        Format::SimExport => {
            let dir = sim_export::export_dir(path).ok_or_else(|| ImportError::Unrecognised(path.to_path_buf()))?;
            dataset::read(&dir, format, on_record, on_error, on_file)
        }
        Format::Dataset => dataset::read(path, format, on_record, on_error, on_file),
    }
}
