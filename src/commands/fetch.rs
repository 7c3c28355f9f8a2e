//! `mirrorflow fetch --days N --top N --out DIR`: a backfill dataset from the
//! live APIs. It discovers the top wallets by PnL on Nansen's 30-day
//! leaderboard, then downloads their fills and current account states, the
//! daily leaderboards over the period, and the hourly candles and funding of
//! every coin they traded — in the layout the dataset importer reads.
//!
//! Resumable: every file is written whole (to `.part`, then renamed) and an
//! existing file is not fetched again, so an interrupted run continues where it
//! stopped; the period and wallets are fixed by the manifest written first.
//! Rate-limit aware: every call spends from the configured Hyperliquid weight
//! budget and Nansen request budget, and 429s are waited out, not failed.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::DateTime;
use connectors::nansen::client::NansenClient;
use connectors::nansen::types::{DateRange, LeaderboardRequest, LeaderboardRow, Page, PageInfo};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::cli::FetchArgs;
use crate::clients;
use crate::config::Loaded;

pub const FORMAT: &str = "mirrorflow-fetch";
const DAY_MS: u64 = 86_400_000;

/// What was asked for, fixed when the dataset is started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub days: u64,
    pub top: usize,
    pub windows: Vec<u64>,
    pub start_ms: u64,
    pub end_ms: u64,
    pub wallets: Vec<String>,
    pub complete: bool,
}

fn date(ms: u64) -> String {
    DateTime::from_timestamp_millis(ms as i64).map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

/// A coin as a file name (`xyz:NCLD` → `xyz_NCLD`).
fn file_coin(coin: &str) -> String {
    coin.replace([':', '/', '@'], "_")
}

fn write_whole(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let part = path.with_extension("part");
    std::fs::write(&part, bytes).with_context(|| format!("cannot write {}", part.display()))?;
    std::fs::rename(&part, path).with_context(|| format!("cannot finish {}", path.display()))?;
    Ok(())
}

fn lines<T: Serialize>(rows: impl IntoIterator<Item = T>) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    for r in rows {
        serde_json::to_writer(&mut out, &r)?;
        out.push(b'\n');
    }
    Ok(out)
}

/// The dataset's files: which were fetched now and which were already there.
struct Files<'a> {
    out: &'a Path,
    bar: ProgressBar,
    fetched: u64,
    kept: u64,
}

impl Files<'_> {
    /// Runs `fetch` unless `rel` is already there; its bytes are written whole.
    async fn file<F, Fut>(&mut self, rel: &str, fetch: F) -> anyhow::Result<()>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<Vec<u8>>>,
    {
        self.bar.set_message(rel.to_string());
        let path = self.out.join(rel);
        if path.exists() {
            self.kept += 1;
        } else {
            let bytes = fetch().await.with_context(|| format!("fetching {rel}"))?;
            write_whole(&path, &bytes)?;
            self.fetched += 1;
        }
        self.bar.inc(1);
        Ok(())
    }
}

/// The leaderboard over the `window_days` days before `as_of` (a midnight).
pub(crate) async fn leaderboard(
    nansen: &NansenClient,
    window_days: u64,
    as_of: u64,
) -> anyhow::Result<Vec<LeaderboardRow>> {
    let req = LeaderboardRequest {
        date: DateRange {
            from: Some(date(as_of.saturating_sub(window_days * DAY_MS))),
            to: Some(date(as_of.saturating_sub(1))),
        },
        ..LeaderboardRequest::default()
    };
    Ok(nansen.leaderboard(req).await?)
}

/// The `n` wallets of a leaderboard with the highest PnL (ties by address), lower-case.
pub(crate) fn top_wallets(mut rows: Vec<LeaderboardRow>, n: usize) -> Vec<String> {
    rows.sort_by(|a, b| b.total_pnl.cmp(&a.total_pnl).then(a.trader_address.cmp(&b.trader_address)));
    rows.iter().take(n).map(|r| r.trader_address.to_lowercase()).collect()
}

fn page_bytes(rows: Vec<LeaderboardRow>) -> anyhow::Result<Vec<u8>> {
    let n = rows.len() as u32;
    let page = Page { data: rows, pagination: PageInfo { page: 1, per_page: n.max(1), is_last_page: true } };
    Ok(serde_json::to_vec(&page)?)
}

/// The manifest of `out`: the one there (a resumed run, which must ask for the
/// same thing), or a new one after discovering the wallets.
async fn manifest(args: &FetchArgs, nansen: &NansenClient, now: u64) -> anyhow::Result<Manifest> {
    let out = args.out.as_path();
    let path = out.join("manifest.json");
    if path.exists() {
        let m: Manifest = serde_json::from_slice(&std::fs::read(&path)?)
            .with_context(|| format!("{} is not a fetch manifest", path.display()))?;
        if m.format != FORMAT || m.days != args.days || m.top != args.top || m.windows != args.windows {
            bail!(
                "{} holds a fetch of --days {} --top {} --windows {:?}; resume with those, or use another --out",
                out.display(),
                m.days,
                m.top,
                m.windows
            );
        }
        return Ok(m);
    }
    if out.exists() && std::fs::read_dir(out).map(|mut d| d.next().is_some()).unwrap_or(false) {
        bail!("{} is not empty and holds no fetch manifest", out.display());
    }
    // Day boundaries, so daily leaderboards and the period line up.
    let end = now - now % DAY_MS;
    let start = end - args.days * DAY_MS;
    let rows = leaderboard(nansen, 30, end).await.context("discovering wallets on the 30-day leaderboard")?;
    let wallets = top_wallets(rows, args.top);
    if wallets.is_empty() {
        bail!("the 30-day leaderboard is empty: nothing to fetch");
    }
    let m = Manifest {
        format: FORMAT.into(),
        days: args.days,
        top: args.top,
        windows: args.windows.clone(),
        start_ms: start,
        end_ms: end,
        wallets,
        complete: false,
    };
    write_whole(&path, &serde_json::to_vec_pretty(&m)?)?;
    Ok(m)
}

pub async fn run(args: &FetchArgs, loaded: &Loaded) -> anyhow::Result<()> {
    if args.days == 0 || args.top == 0 {
        bail!("--days and --top must be at least 1");
    }
    if let Some(w) = args.windows.iter().find(|w| ![1, 7, 30, 90].contains(*w)) {
        bail!("--windows: {w} is not one of Nansen's 1, 7, 30, 90 days");
    }
    let started = Instant::now();
    let budget = clients::budget(loaded);
    let info = clients::info(loaded, budget.clone())?;
    let nansen = clients::nansen(loaded)?;
    let mut f = Files {
        out: &args.out,
        bar: ProgressBar::new(0).with_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        fetched: 0,
        kept: 0,
    };
    let now = clients::now_ms(loaded).await?;
    let m = manifest(args, &nansen, now).await?;
    let days = m.days;
    f.bar.set_length(days * m.windows.len() as u64 + 2 * m.wallets.len() as u64);

    for d in 1..=days {
        let as_of = m.start_ms + d * DAY_MS;
        for &w in &m.windows {
            let rel = format!("nansen/perp-leaderboard/{w}d/{}.json", date(as_of - 1));
            f.file(&rel, || async { page_bytes(leaderboard(&nansen, w, as_of).await?) }).await?;
        }
    }
    let mut coins = BTreeSet::new();
    for user in &m.wallets {
        let rel = format!("hyperliquid/fills/{user}.jsonl");
        let (start, end) = (m.start_ms, m.end_ms);
        f.file(&rel, || async {
            let fills = info.user_fills_between(user, start, end - 1).await?;
            lines(fills.iter().map(|fill| (user, fill)))
        })
        .await?;
        // The coins come from the file, fetched now or before.
        for line in std::fs::read_to_string(args.out.join(&rel))?.lines() {
            if let Ok((_, fill)) = serde_json::from_str::<(String, connectors::hyperliquid::info::Fill)>(line) {
                coins.insert(fill.coin);
            }
        }
        let rel = format!("hyperliquid/states/{user}.jsonl");
        f.file(&rel, || async {
            let state = info.clearinghouse_state(user).await?;
            let time = state.time.unwrap_or(end);
            lines([serde_json::json!({"user": user, "time": time, "state": state})])
        })
        .await?;
    }
    f.bar.inc_length(2 * coins.len() as u64);
    for coin in &coins {
        let (start, end) = (m.start_ms, m.end_ms);
        f.file(&format!("hyperliquid/candles/{}.jsonl", file_coin(coin)), || async {
            lines(info.candles(coin, "1h", start, end - 1).await?)
        })
        .await?;
        f.file(&format!("hyperliquid/funding/{}.jsonl", file_coin(coin)), || async {
            lines(info.funding_history(coin, start, end - 1).await?)
        })
        .await?;
    }
    let done = Manifest { complete: true, ..m.clone() };
    write_whole(&args.out.join("manifest.json"), &serde_json::to_vec_pretty(&done)?)?;
    f.bar.finish_and_clear();
    println!("out: {}", args.out.display());
    println!("period: {} .. {}", date(m.start_ms), date(m.end_ms));
    println!("wallets: {}", m.wallets.len());
    println!("coins: {}", coins.len());
    println!("files fetched: {}", f.fetched);
    println!("files already there: {}", f.kept);
    println!(
        "hyperliquid weight spent: {}; nansen requests {}, credits {}",
        budget.spent.load(std::sync::atomic::Ordering::Relaxed),
        nansen.stats.requests.load(std::sync::atomic::Ordering::Relaxed),
        nansen.stats.credits_used.load(std::sync::atomic::Ordering::Relaxed),
    );
    println!("took {:.1} s; read it with `mirrorflow import {}`", started.elapsed().as_secs_f64(), args.out.display());
    Ok(())
}
