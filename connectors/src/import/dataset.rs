//! A dataset: a directory (walked in path order) or a single file of the
//! sources' own formats. Each file is recognised by its name and its first
//! line, read line by line (LZ4 frames decompressed on the fly), and turned
//! into [`Record`]s; a bad line is a [`RowError`] with its line number and the
//! file goes on. Files that hold nothing the engine reads (metadata, ground
//! truth) are noted, and files nobody recognises are listed as skipped.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::node::{self, Shape, TradesReader};
use super::{Format, ImportError, Record, RowError, Summary, Tally, archive, hl2023, open_lines};
use crate::hyperliquid::info::{Candle, ClearinghouseState, FundingHistoryEntry};
use crate::nansen::types::{LeaderboardRow, Page};
use crate::position::PositionBook;
use crate::wire::{Decimal, dec_str};

/// What one file holds.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Node(Shape),
    L2Book,
    AssetCtxs,
    Trades2023,
    Candles,
    Funding,
    AccountValues,
    States,
    /// Lines that are history but not an engine input, counted as events of this kind.
    Counted(&'static str),
    /// A Nansen leaderboard page of `window` as of `time`.
    Leaderboard {
        window: String,
        time: u64,
    },
    /// A JSON array response (`candleSnapshot`, `fundingHistory`).
    JsonArray,
    Metadata,
}

impl Kind {
    fn source(&self) -> String {
        match self {
            Kind::Node(s) => s.name().into(),
            Kind::L2Book => "l2Book archive".into(),
            Kind::AssetCtxs => "asset contexts".into(),
            Kind::Trades2023 => "2023 trades csv".into(),
            Kind::Candles => "candles".into(),
            Kind::Funding => "funding".into(),
            Kind::AccountValues => "account values".into(),
            Kind::States => "account states".into(),
            Kind::Counted(k) => (*k).into(),
            Kind::Leaderboard { .. } => "nansen leaderboard page".into(),
            Kind::JsonArray => "info response".into(),
            Kind::Metadata => "metadata".into(),
        }
    }
}

#[derive(serde::Deserialize)]
struct StateLine {
    user: String,
    time: u64,
    state: ClearinghouseState,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountValueLine {
    user: String,
    time: u64,
    #[serde(with = "dec_str")]
    account_value: Decimal,
}

/// Every file under `path`, in path order.
fn files(path: &Path) -> Result<Vec<PathBuf>, ImportError> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut dirs = vec![path.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let io = |source| ImportError::Io { path: dir.clone(), source };
        for entry in std::fs::read_dir(&dir).map_err(io)? {
            let p = entry.map_err(io)?.path();
            if p.is_dir() { dirs.push(p) } else { out.push(p) }
        }
    }
    out.sort();
    Ok(out)
}

fn first_line(path: &Path) -> Option<String> {
    let reader = open_lines(path).ok()?;
    reader.lines().map_while(Result::ok).find(|l| !l.trim().is_empty())
}

/// `YYYY-MM-DD` → the end of that day (the next midnight, UTC, in ms).
fn end_of_day(stem: &str) -> Option<u64> {
    let d = chrono::NaiveDate::parse_from_str(stem, "%Y-%m-%d").ok()?;
    let next = d.succ_opt()?.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis();
    u64::try_from(next).ok()
}

fn classify(path: &Path) -> Option<Kind> {
    let name = path.file_name()?.to_string_lossy().to_string();
    if matches!(name.as_str(), "manifest.json" | "meta.json" | "labels.json" | "personas.json" | "progress.json") {
        return Some(Kind::Metadata);
    }
    let lower = name.to_lowercase();
    if lower.ends_with(".csv") || lower.ends_with(".csv.lz4") {
        let first = first_line(path)?;
        return if archive::is_asset_ctx_header(&first) {
            Some(Kind::AssetCtxs)
        } else if hl2023::trades_file(path).is_some() {
            Some(Kind::Trades2023)
        } else {
            None
        };
    }
    match name.as_str() {
        "user_funding.jsonl" => return Some(Kind::Counted("funding payment")),
        "ledger_updates.jsonl" => return Some(Kind::Counted("transfer")),
        "liquidations.jsonl" => return Some(Kind::Counted("liquidation")),
        _ => {}
    }
    if lower.ends_with(".json") {
        let v: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        if v.get("pagination").is_some() && v["data"].is_array() {
            let window = path.parent()?.file_name()?.to_string_lossy().to_string();
            let in_leaderboard = path.components().any(|c| c.as_os_str() == "perp-leaderboard");
            let time = end_of_day(path.file_stem()?.to_str()?)?;
            return in_leaderboard.then_some(Kind::Leaderboard { window, time });
        }
        let first = v.as_array()?.first()?;
        return (is_candle(first) || is_funding(first)).then_some(Kind::JsonArray);
    }
    if lower.ends_with(".jsonl") || lower.ends_with(".lz4") {
        let first: Value = serde_json::from_str(&first_line(path)?).ok()?;
        return if let Some(shape) = Shape::of(&first) {
            Some(Kind::Node(shape))
        } else if archive::is_l2_line(&first) {
            Some(Kind::L2Book)
        } else if is_candle(&first) {
            Some(Kind::Candles)
        } else if is_funding(&first) {
            Some(Kind::Funding)
        } else if first.get("accountValue").is_some() && first.get("user").is_some() {
            Some(Kind::AccountValues)
        } else if first.get("state").is_some() && first.get("user").is_some() {
            Some(Kind::States)
        } else {
            None
        };
    }
    None
}

fn is_candle(v: &Value) -> bool {
    ["t", "T", "s", "i", "c"].iter().all(|k| v.get(k).is_some())
}

fn is_funding(v: &Value) -> bool {
    ["coin", "fundingRate", "time"].iter().all(|k| v.get(k).is_some()) && v.get("user").is_none()
}

/// Whether anything under `path` is a dataset file.
pub fn recognises(path: &Path) -> bool {
    files(path).is_ok_and(|fs| fs.iter().any(|f| classify(f).is_some_and(|k| k != Kind::Metadata)))
}

/// Reads every recognised file under `path`; `on_file` is told each file's
/// size before it is read (for progress).
pub fn read(
    path: &Path,
    format: Format,
    mut on_record: impl FnMut(Record),
    mut on_error: impl FnMut(RowError),
    mut on_file: impl FnMut(&Path, u64),
) -> Result<Summary, ImportError> {
    let mut tally = Tally::new(format);
    let mut trades = TradesReader::default();
    let mut book2023 = PositionBook::new();
    for file in files(path)? {
        let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        on_file(&file, size);
        let rel = file.strip_prefix(path).unwrap_or(&file).to_string_lossy().to_string();
        let Some(kind) = classify(&file) else {
            tally.skip("unrecognised file");
            on_error(RowError { file: rel, line: 0, reason: "no importer recognises this file".into() });
            continue;
        };
        tally.source(&kind.source());
        match &kind {
            Kind::Metadata => continue,
            Kind::Leaderboard { window, time } => {
                leaderboard_page(&file, &rel, window, *time, &mut tally, &mut on_record, &mut on_error)?;
                continue;
            }
            Kind::JsonArray => {
                json_array(&file, &rel, &mut tally, &mut on_record, &mut on_error)?;
                continue;
            }
            _ => {}
        }
        let reader = open_lines(&file)?;
        let skip_header = matches!(kind, Kind::AssetCtxs | Kind::Trades2023);
        for (i, line) in reader.lines().enumerate() {
            let line = line.map_err(|source| ImportError::Io { path: file.clone(), source })?;
            if line.trim().is_empty() || (skip_header && i == 0) {
                continue;
            }
            tally.row();
            let line_no = i as u64 + 1;
            let parsed: Result<Vec<Record>, String> = match &kind {
                Kind::Node(shape) => node::parse_line(*shape, &line, &mut trades),
                Kind::L2Book => archive::l2_mid(&line),
                Kind::AssetCtxs => archive::asset_ctx(&line),
                Kind::Trades2023 => hl2023::parse_row(&line).map(|row| {
                    let fill = hl2023::to_fill(&row, line_no, &mut book2023);
                    vec![Record::Fill { user: row.user, fill }]
                }),
                Kind::Candles => {
                    serde_json::from_str::<Candle>(&line).map(|c| vec![Record::Candle(c)]).map_err(|e| e.to_string())
                }
                Kind::Funding => serde_json::from_str::<FundingHistoryEntry>(&line)
                    .map(|f| vec![Record::Funding(f)])
                    .map_err(|e| e.to_string()),
                Kind::AccountValues => serde_json::from_str::<AccountValueLine>(&line)
                    .map(|a| {
                        vec![Record::AccountValue { user: a.user.to_lowercase(), time: a.time, value: a.account_value }]
                    })
                    .map_err(|e| e.to_string()),
                Kind::States => serde_json::from_str::<StateLine>(&line)
                    .map(|s| vec![Record::State { user: s.user.to_lowercase(), time: s.time, state: s.state }])
                    .map_err(|e| e.to_string()),
                Kind::Counted(k) => {
                    tally.count(k);
                    Ok(Vec::new())
                }
                Kind::Leaderboard { .. } | Kind::JsonArray | Kind::Metadata => Ok(Vec::new()),
            };
            match parsed {
                Ok(records) => {
                    for r in records {
                        tally.record(&r);
                        on_record(r);
                    }
                }
                Err(reason) => {
                    tally.skip(&format!("bad {} row", kind.source()));
                    on_error(RowError { file: rel.clone(), line: line_no, reason });
                }
            }
        }
    }
    if trades.rebased > 0 {
        tally.derived(format!(
            "node_trades: dir, closedPnl and fee from the position model; {} positions open before the data began were re-based at their first trade's price",
            trades.rebased
        ));
    }
    if tally.has_source("2023 trades csv") {
        tally.derived(format!(
            "2023 trades: startPosition, dir and closedPnl rebuilt from zero, fee from the base schedule; {} positions open at the end",
            book2023.open().count()
        ));
    }
    Ok(tally.finish())
}

fn leaderboard_page(
    file: &Path,
    rel: &str,
    window: &str,
    time: u64,
    tally: &mut Tally,
    on_record: &mut impl FnMut(Record),
    on_error: &mut impl FnMut(RowError),
) -> Result<(), ImportError> {
    let bytes = std::fs::read(file).map_err(|source| ImportError::Io { path: file.to_path_buf(), source })?;
    let page: Page<Value> = match serde_json::from_slice(&bytes) {
        Ok(p) => p,
        Err(e) => {
            tally.skip("bad nansen page");
            on_error(RowError { file: rel.into(), line: 0, reason: e.to_string() });
            return Ok(());
        }
    };
    for (i, row) in page.data.into_iter().enumerate() {
        tally.row();
        match serde_json::from_value::<LeaderboardRow>(row) {
            Ok(row) => {
                let r = Record::Leaderboard { window: window.to_string(), time, row };
                tally.record(&r);
                on_record(r);
            }
            Err(e) => {
                tally.skip("bad nansen leaderboard row");
                on_error(RowError { file: rel.into(), line: i as u64 + 1, reason: e.to_string() });
            }
        }
    }
    Ok(())
}

fn json_array(
    file: &Path,
    rel: &str,
    tally: &mut Tally,
    on_record: &mut impl FnMut(Record),
    on_error: &mut impl FnMut(RowError),
) -> Result<(), ImportError> {
    let bytes = std::fs::read(file).map_err(|source| ImportError::Io { path: file.to_path_buf(), source })?;
    let rows: Vec<Value> = serde_json::from_slice(&bytes).unwrap_or_default();
    for (i, v) in rows.into_iter().enumerate() {
        tally.row();
        let parsed = if is_candle(&v) {
            serde_json::from_value::<Candle>(v).map(Record::Candle)
        } else {
            serde_json::from_value::<FundingHistoryEntry>(v).map(Record::Funding)
        };
        match parsed {
            Ok(r) => {
                tally.record(&r);
                on_record(r);
            }
            Err(e) => {
                tally.skip("bad info response row");
                on_error(RowError { file: rel.into(), line: i as u64 + 1, reason: e.to_string() });
            }
        }
    }
    Ok(())
}
