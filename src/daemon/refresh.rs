//! The daily refresh at 00:00 UTC (DESIGN §2; strategy-rules §15: leaderboard
//! and trader refresh daily at midnight). The day's 7- and 30-day leaderboards
//! become inputs (scoring reads them), and wallets new to the top of the
//! 30-day board join the tracked set with the history scoring needs, fetched
//! as at start-up. Wallets already tracked stay: their scores decide whether
//! they are followed, and dropping one would hide the exits of positions it
//! still holds.
//!
//! It runs beside the loop (a slow Nansen must not hold the steps up) and is
//! idempotent: a refresh lost to a crash before the tracked set was saved is
//! run again after the restart, and the fills it fetches twice are
//! de-duplicated by ingestion.

use anyhow::Context;
use connectors::hyperliquid::info_client::InfoClient;
use connectors::nansen::client::NansenClient;
use dataflows::model::{LeaderboardWindow, TimeMs};

use super::bootstrap;
use super::state::Tracked;
use crate::commands::fetch;
use crate::ingest::{Event, convert};

pub const DAY_MS: u64 = 86_400_000;

/// The leaderboard windows read each day (the ones start-up fetches).
const WINDOWS: [LeaderboardWindow; 2] = [LeaderboardWindow::Day7, LeaderboardWindow::Day30];

/// The midnight a step to `target` must refresh at: the latest one after the
/// tracked set was last refreshed, if any.
pub fn due(tracked: &Tracked, target: TimeMs) -> Option<TimeMs> {
    let midnight = target - target % DAY_MS;
    (midnight > tracked.discovered_at).then_some(midnight)
}

/// What one refresh found.
#[derive(Debug)]
pub struct Refreshed {
    /// The tracked set after it (refreshed at the midnight).
    pub tracked: Tracked,
    /// Wallets it added.
    pub added: Vec<String>,
    /// The leaderboards, and the added wallets' fills and account states.
    pub events: Vec<Event>,
}

/// What a refresh needs besides the clients.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    /// Wallets taken from the top of the 30-day board.
    pub top: usize,
    /// How far back an added wallet's fills are fetched.
    pub lookback_days: u64,
}

/// The refresh at `midnight`, with the venue's state as of `now`.
pub async fn daily(
    nansen: &NansenClient,
    info: &InfoClient,
    tracked: &Tracked,
    scope: Scope,
    midnight: TimeMs,
    now: TimeMs,
) -> anyhow::Result<Refreshed> {
    let mut events = Vec::new();
    let mut top = Vec::new();
    for window in WINDOWS {
        let rows = fetch::leaderboard(nansen, window.days(), midnight)
            .await
            .with_context(|| format!("the {}-day leaderboard as of {midnight}", window.days()))?;
        for row in &rows {
            // Stamped like a dataset's daily page: the end of the day it covers.
            match convert::leaderboard(row, window, midnight - 1) {
                Ok(r) => events.push(Event::Leaderboard(r)),
                Err(e) => tracing::warn!(wallet = %row.trader_address, error = %e, "a leaderboard row was refused"),
            }
        }
        if window == LeaderboardWindow::Day30 {
            top = fetch::top_wallets(rows, scope.top);
        }
    }
    let added: Vec<String> = top.into_iter().filter(|w| !tracked.wallets.contains(w)).collect();
    if !added.is_empty() {
        let from = midnight.saturating_sub(scope.lookback_days * DAY_MS);
        events.extend(bootstrap::fills_since(info, &added, from, now).await?);
        events.extend(bootstrap::states(info, &added, now).await);
    }
    let mut wallets = tracked.wallets.clone();
    wallets.extend(added.iter().cloned());
    Ok(Refreshed { tracked: Tracked { wallets, discovered_at: midnight }, added, events })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_is_due_once_per_midnight_after_discovery() {
        let day = 20_000 * DAY_MS;
        let tracked = Tracked { wallets: vec![], discovered_at: day + 10 * 3_600_000 };
        assert_eq!(due(&tracked, day + 23 * 3_600_000), None, "same day as discovery");
        assert_eq!(due(&tracked, day + DAY_MS), Some(day + DAY_MS), "at midnight");
        assert_eq!(due(&tracked, day + 3 * DAY_MS + 5), Some(day + 3 * DAY_MS), "days later: the latest midnight");
        let refreshed = Tracked { wallets: vec![], discovered_at: day + DAY_MS };
        assert_eq!(due(&refreshed, day + DAY_MS + 3_600_000), None, "done for the day");
    }
}
