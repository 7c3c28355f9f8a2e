//! Start-up on an empty state (decisions.md 17): discovery and the history
//! scoring needs. The same download as `mirrorflow fetch` — the top wallets
//! of the 30-day leaderboard, their fills over the scoring look-back, their
//! states, the daily leaderboards, candles and funding — into
//! `<state-dir>/bootstrap/` (resumable, like fetch), then the fills since the
//! last midnight the dataset stops at. The events become the first step's
//! inputs; the wallets are the ones tracked from then on.

use std::path::Path;

use anyhow::Context;
use connectors::hyperliquid::info_client::InfoClient;

use super::state::Tracked;
use crate::cli::{ConfigSource, FetchArgs};
use crate::commands::fetch::{self, Manifest};
use crate::config::Loaded;
use crate::ingest::{Event, convert, history};

pub async fn discover(
    loaded: &Loaded,
    info: &InfoClient,
    state_dir: &Path,
    now: u64,
) -> anyhow::Result<(Tracked, Vec<Event>)> {
    let config = &loaded.config;
    let out = state_dir.join("bootstrap");
    let args = FetchArgs {
        source: ConfigSource { config: None },
        days: config.scoring.lookback_days,
        top: config.discovery.top_n_per_window as usize,
        windows: vec![7, 30],
        out: out.clone(),
    };
    tracing::info!(days = args.days, top = args.top, dir = %out.display(), "empty state: discovering wallets and their history");
    fetch::run(&args, loaded).await.context("start-up discovery")?;
    let manifest: Manifest = serde_json::from_slice(&std::fs::read(out.join("manifest.json"))?)
        .with_context(|| format!("{} holds no fetch manifest", out.display()))?;
    let loaded_history = history::load(&out, None, None, |_| {}, |_, _| {})?;
    let mut events: Vec<Event> = loaded_history.events.into_iter().map(|s| s.event).collect();
    // The dataset ends at the last midnight; what the wallets did since.
    events.extend(fills_since(info, &manifest.wallets, manifest.end_ms, now).await?);
    Ok((Tracked { wallets: manifest.wallets, discovered_at: now }, history::with_trade_marks(events)))
}

/// The wallets' fills in `[from, to]`, from the venue (REST, every page).
pub async fn fills_since(info: &InfoClient, wallets: &[String], from: u64, to: u64) -> anyhow::Result<Vec<Event>> {
    let mut events = Vec::new();
    for user in wallets {
        let fills =
            info.user_fills_between(user, from, to).await.with_context(|| format!("fills of {user} since {from}"))?;
        for f in &fills {
            match convert::fill(user, f) {
                Ok(f) => events.push(Event::Fill(f)),
                Err(e) => tracing::warn!(user = %user, error = %e, "a fill was refused"),
            }
        }
    }
    Ok(events)
}

/// Every wallet's account state now, as events stamped with the venue's
/// time (at most `at`'s step: the step clamps). A wallet whose poll fails is
/// skipped until the next round, with a warning.
pub async fn states(info: &InfoClient, wallets: &[String], at: u64) -> Vec<Event> {
    let mut events = Vec::new();
    for user in wallets {
        match info.clearinghouse_state(user).await {
            Ok(state) => match crate::ingest::account_events(user, state.time.unwrap_or(at).min(at), &state) {
                Ok(e) => events.extend(e),
                Err(e) => tracing::warn!(user = %user, error = %e, "an account state was refused"),
            },
            Err(e) => tracing::warn!(user = %user, error = %e, "account state poll failed; next round"),
        }
    }
    events
}
