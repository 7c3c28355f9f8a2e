//! Windowed trader metrics (strategy-rules.md §1) as collections keyed by
//! (wallet, window): each window's closing trades, the wallet's latest account
//! value and the earliest leaderboard snapshot inside the window, reduced by
//! [`rules::metrics::window_metrics`]. A new fill re-reduces only its own
//! wallet's three groups.

use differential_dataflow::VecCollection;

use crate::model::{Address, Fill, TimeMs, Usd};
use crate::rules::metrics::{ClosingTrade, WindowMetrics, window_metrics};

/// The windows the rules measure, in days.
pub const WINDOWS_DAYS: [u64; 3] = [7, 30, 90];
pub const DAY_MS: u64 = 86_400_000;

/// Fills keyed by (wallet, window days), each present while its time is in
/// the window `(now − W, now]` (the feeder retracts it when it leaves).
pub type WindowedFills<'s> = VecCollection<'s, u64, ((Address, u64), Fill)>;

/// Leaderboard account values keyed by (wallet, window days), windowed the same way.
pub type WindowedSnapshots<'s> = VecCollection<'s, u64, ((Address, u64), (TimeMs, Usd))>;

/// What a window's metrics read, in the order a reduce sees them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
enum Fact {
    /// The wallet's latest account value.
    Current(Usd),
    /// A leaderboard snapshot of the account value inside the window.
    Start(TimeMs, Usd),
    /// A fill in the window, with the closing trade it is, if it is one.
    Fill(Option<ClosingTrade>),
}

/// Metrics per (wallet, window days) for every wallet with an account value, a
/// fill or a leaderboard snapshot in the window. `account_values`
/// holds one (latest) value per wallet.
pub fn window_metrics_of<'s>(
    windowed: WindowedFills<'s>,
    account_values: VecCollection<'s, u64, (Address, Usd)>,
    snapshots: WindowedSnapshots<'s>,
) -> VecCollection<'s, u64, ((Address, u64), WindowMetrics)> {
    let trades = windowed.map(|(key, f)| (key, Fact::Fill(ClosingTrade::of(&f).ok().flatten())));
    let current = account_values.flat_map(|(w, v)| WINDOWS_DAYS.map(|d| ((w, d), Fact::Current(v))));
    let starts = snapshots.map(|(key, (t, v))| (key, Fact::Start(t, v)));
    trades.concat(current).concat(starts).reduce(|_key, group, out| {
        let mut current = Usd::ZERO;
        let mut start = None;
        let mut trades: Vec<ClosingTrade> = Vec::new();
        let mut fills = 0u64;
        for (fact, n) in group {
            match fact {
                Fact::Current(v) => current = *v,
                Fact::Start(_, v) => {
                    start.get_or_insert(*v);
                }
                Fact::Fill(t) => {
                    let n = (*n).max(0) as usize;
                    fills += n as u64;
                    trades.extend(t.iter().flat_map(|t| std::iter::repeat_n(*t, n)));
                }
            }
        }
        // Fixed-point overflow is out of reach for real inputs; an error leaves the group empty.
        if let Ok(m) = window_metrics(&trades, start, current) {
            out.push((m.with_fills(fills), 1));
        }
    })
}
