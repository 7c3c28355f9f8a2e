//! `sim export`: a world's history in the sources' own formats, for backfill.
//!
//! Layout under the output directory (all JSON; `.jsonl` is one object per line,
//! in time order), described by `manifest.json` so importers can detect it:
//!
//! ```text
//! manifest.json
//! hyperliquid/meta.json                      meta
//! hyperliquid/node_fills.jsonl               [user, Fill] per line (node_fills format)
//! hyperliquid/candles_1h.jsonl               candleSnapshot rows, every token
//! hyperliquid/funding.jsonl                  fundingHistory rows, every token
//! hyperliquid/user_funding.jsonl             userFunding rows with "user"
//! hyperliquid/ledger_updates.jsonl           deposits and withdrawals with "user"
//! hyperliquid/account_values.jsonl           daily account value per user
//! hyperliquid/liquidations.jsonl             every liquidation with its liquidation price
//! nansen/perp-leaderboard/<1d|7d|30d|90d>/<YYYY-MM-DD>.json   leaderboard pages, as of each day's end
//! nansen/labels.json                         address labels
//! sim/personas.json                          the ground truth (kinds, copy clusters)
//! ```
//!
//! Output is byte-identical for the same configuration.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::DateTime;
use serde::Serialize;

use super::market::{DAY_MS, HOUR_MS};
use super::nansen_views::window_pnl;
use super::server::persona_rows;
use super::views;
use super::world::{SimConfig, World};
use crate::nansen::types::{LeaderboardRow, Page, PageInfo};
use crate::wire::Decimal;

pub const FORMAT: &str = "mirrorflow-sim-export";
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ManifestFile {
    pub path: String,
    pub kind: String,
    pub format: String,
    pub rows: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub seed: u64,
    pub wallets: usize,
    pub tokens: Vec<String>,
    pub warmup_days: u64,
    pub days: u64,
    pub start_ms: u64,
    pub t0_ms: u64,
    pub end_ms: u64,
    pub files: Vec<ManifestFile>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Json { path: PathBuf, source: serde_json::Error },
}

/// Progress of an export: what it is doing, and how far (done, total).
pub trait Progress {
    fn step(&mut self, stage: &str, done: u64, total: u64);
}

impl<F: FnMut(&str, u64, u64)> Progress for F {
    fn step(&mut self, stage: &str, done: u64, total: u64) {
        self(stage, done, total)
    }
}

struct Writer {
    root: PathBuf,
    files: Vec<ManifestFile>,
}

impl Writer {
    fn path(&self, rel: &str) -> Result<PathBuf, ExportError> {
        let path = self.root.join(rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|source| ExportError::Io { path: dir.to_path_buf(), source })?;
        }
        Ok(path)
    }

    fn json<T: Serialize>(&mut self, rel: &str, kind: &str, rows: u64, value: &T) -> Result<(), ExportError> {
        let path = self.path(rel)?;
        let bytes = serde_json::to_vec(value).map_err(|source| ExportError::Json { path: path.clone(), source })?;
        fs::write(&path, bytes).map_err(|source| ExportError::Io { path, source })?;
        self.files.push(ManifestFile { path: rel.into(), kind: kind.into(), format: "json".into(), rows });
        Ok(())
    }

    fn lines<T: Serialize>(
        &mut self,
        rel: &str,
        kind: &str,
        rows: impl IntoIterator<Item = T>,
    ) -> Result<(), ExportError> {
        let path = self.path(rel)?;
        let io = |source| ExportError::Io { path: path.clone(), source };
        let mut out = BufWriter::new(File::create(&path).map_err(io)?);
        let mut n = 0;
        for row in rows {
            serde_json::to_writer(&mut out, &row).map_err(|source| ExportError::Json { path: path.clone(), source })?;
            out.write_all(b"\n").map_err(io)?;
            n += 1;
        }
        out.flush().map_err(io)?;
        self.files.push(ManifestFile { path: rel.into(), kind: kind.into(), format: "jsonl".into(), rows: n });
        Ok(())
    }
}

#[derive(Serialize)]
struct WithUser<'a, T> {
    user: &'a str,
    #[serde(flatten)]
    row: T,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountValueRow {
    user: String,
    time: u64,
    #[serde(with = "crate::wire::dec_str")]
    account_value: Decimal,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LiquidationRow {
    time: u64,
    user: String,
    coin: String,
    #[serde(with = "crate::wire::dec_str")]
    szi: Decimal,
    #[serde(with = "crate::wire::dec_str")]
    liquidation_px: Decimal,
    #[serde(with = "crate::wire::dec_str")]
    mark_px: Decimal,
    #[serde(with = "crate::wire::dec_str")]
    px: Decimal,
}

#[derive(Serialize)]
struct LabelRow {
    address: String,
    label: String,
}

fn date(ms: u64) -> String {
    DateTime::from_timestamp_millis(ms as i64).map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

/// Leaderboard rows over `[from, to)` as of `to`, best PnL first.
fn leaderboard_at(world: &World, from: u64, to: u64) -> Vec<LeaderboardRow> {
    let mut rows: Vec<LeaderboardRow> = (0..world.accounts.len())
        .map(|w| {
            let (pnl, roi) = window_pnl(world, w, from, to);
            LeaderboardRow {
                trader_address: world.accounts[w].address_hex(),
                trader_address_label: world.personas[w].label.clone().unwrap_or_default(),
                total_pnl: pnl,
                roi,
                account_value: world.value_at_day(w, to).unwrap_or_default(),
            }
        })
        .collect();
    rows.sort_by(|a, b| b.total_pnl.cmp(&a.total_pnl).then_with(|| a.trader_address.cmp(&b.trader_address)));
    rows
}

/// Simulates `cfg` through t0 + `days` and writes its history under `out`.
pub fn export(cfg: SimConfig, days: u64, out: &Path, progress: &mut dyn Progress) -> Result<Manifest, ExportError> {
    let mut world = World::new(cfg.clone());
    let start = world.market.start_ms;
    let end = cfg.t0_ms + days * DAY_MS;
    let total_days = (end - start).div_ceil(DAY_MS);
    for d in 1..=total_days {
        world.step_to((start + d * DAY_MS).min(end));
        progress.step("simulating", d, total_days);
    }
    let mut w = Writer { root: out.to_path_buf(), files: Vec::new() };
    let stages = 9;
    let mut stage = 0;
    let mut next = |p: &mut dyn Progress, name: &str| {
        stage += 1;
        p.step(name, stage, stages);
    };

    next(progress, "meta");
    let meta = views::meta(&world);
    w.json("hyperliquid/meta.json", "hl_meta", meta.universe.len() as u64, &meta)?;

    next(progress, "fills");
    let mut order: Vec<(u64, u64, usize, usize)> = Vec::new();
    for (a, account) in world.accounts.iter().enumerate() {
        for (i, f) in account.fills.iter().enumerate() {
            order.push((f.time, f.tid, a, i));
        }
    }
    order.sort_unstable();
    let addresses: Vec<String> = world.accounts.iter().map(|a| a.address_hex()).collect();
    w.lines(
        "hyperliquid/node_fills.jsonl",
        "hl_node_fills",
        order.iter().map(|&(_, _, a, i)| (addresses[a].as_str(), views::fill(&world, &world.accounts[a].fills[i]))),
    )?;

    next(progress, "candles");
    let mut candles = Vec::new();
    for t in 0..world.specs().len() {
        candles.extend(views::candles(&world, t, "1h", start, end).into_iter().filter(|c| c.close_time < end));
    }
    candles.sort_by(|a, b| (a.t, &a.s).cmp(&(b.t, &b.s)));
    w.lines("hyperliquid/candles_1h.jsonl", "hl_candles", candles)?;

    next(progress, "funding");
    let mut funding = Vec::new();
    for t in 0..world.specs().len() {
        let mut h = start + HOUR_MS;
        while h <= end {
            funding.extend(views::funding_history(&world, t, h, Some(h)));
            h += HOUR_MS;
        }
    }
    funding.sort_by(|a, b| (a.time, &a.coin).cmp(&(b.time, &b.coin)));
    w.lines("hyperliquid/funding.jsonl", "hl_funding", funding)?;

    next(progress, "ledgers");
    let mut funding_order: Vec<(u64, usize, usize)> = Vec::new();
    let mut transfer_order: Vec<(u64, usize, usize)> = Vec::new();
    for (a, account) in world.accounts.iter().enumerate() {
        funding_order.extend(account.funding.iter().enumerate().map(|(i, f)| (f.time, a, i)));
        transfer_order.extend(account.transfers.iter().enumerate().map(|(i, t)| (t.time, a, i)));
    }
    funding_order.sort_unstable();
    transfer_order.sort_unstable();
    w.lines(
        "hyperliquid/user_funding.jsonl",
        "hl_user_funding",
        funding_order.iter().map(|&(_, a, i)| WithUser {
            user: &addresses[a],
            row: views::funding_entry(&world, a, &world.accounts[a].funding[i]),
        }),
    )?;
    w.lines(
        "hyperliquid/ledger_updates.jsonl",
        "hl_ledger_updates",
        transfer_order.iter().map(|&(_, a, i)| WithUser {
            user: &addresses[a],
            row: views::ledger_update(&world, a, &world.accounts[a].transfers[i]),
        }),
    )?;

    next(progress, "account values");
    let mut values = Vec::new();
    for (a, account) in world.accounts.iter().enumerate() {
        for (time, v) in &account.daily_value {
            values.push((*time, a, *v));
        }
    }
    values.sort_by_key(|(t, a, _)| (*t, *a));
    w.lines(
        "hyperliquid/account_values.jsonl",
        "hl_account_values",
        values.iter().map(|(time, a, v)| AccountValueRow {
            user: addresses[*a].clone(),
            time: *time,
            account_value: *v,
        }),
    )?;

    next(progress, "liquidations");
    w.lines(
        "hyperliquid/liquidations.jsonl",
        "hl_liquidations",
        world.liquidations.iter().map(|l| LiquidationRow {
            time: l.time,
            user: addresses[l.wallet].clone(),
            coin: world.specs()[l.token].name.to_string(),
            szi: l.szi,
            liquidation_px: l.liquidation_px,
            mark_px: l.mark,
            px: l.fill_px,
        }),
    )?;

    next(progress, "leaderboards");
    for window in [1u64, 7, 30, 90] {
        let mut day = start + DAY_MS;
        while day <= end {
            let rows = leaderboard_at(&world, day.saturating_sub(window * DAY_MS).max(start), day);
            let n = rows.len() as u32;
            let page = Page { data: rows, pagination: PageInfo { page: 1, per_page: n.max(1), is_last_page: true } };
            let rel = format!("nansen/perp-leaderboard/{window}d/{}.json", date(day - 1));
            w.json(&rel, "nansen_leaderboard", n as u64, &page)?;
            day += DAY_MS;
        }
    }
    let labels: Vec<LabelRow> = world
        .personas
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.label.clone().map(|label| LabelRow { address: addresses[i].clone(), label }))
        .collect();
    w.json("nansen/labels.json", "nansen_labels", labels.len() as u64, &labels)?;

    next(progress, "ground truth");
    let personas = persona_rows(&world);
    w.json("sim/personas.json", "sim_personas", personas.len() as u64, &personas)?;

    let manifest = Manifest {
        format: FORMAT.into(),
        version: FORMAT_VERSION,
        seed: cfg.seed,
        wallets: world.accounts.len(),
        tokens: world.specs().iter().map(|t| t.name.to_string()).collect(),
        warmup_days: cfg.warmup_days,
        days,
        start_ms: start,
        t0_ms: cfg.t0_ms,
        end_ms: end,
        files: w.files.clone(),
    };
    let path = out.join("manifest.json");
    let bytes =
        serde_json::to_vec_pretty(&manifest).map_err(|source| ExportError::Json { path: path.clone(), source })?;
    fs::write(&path, bytes).map_err(|source| ExportError::Io { path, source })?;
    Ok(manifest)
}
