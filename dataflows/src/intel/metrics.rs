//! Windowed trader metrics (strategy-rules.md §1) as collections keyed by
//! (wallet, window): the closing trades inside each window, joined with the
//! wallet's latest account value, reduced by [`rules::metrics::window_metrics`].
//! A new fill re-reduces only its own wallet's groups.

use differential_dataflow::VecCollection;

use crate::model::{Address, Fill, Usd};
use crate::rules::metrics::{ClosingTrade, WindowMetrics, window_metrics};

/// The windows the rules measure, in days.
pub const WINDOWS_DAYS: [u64; 3] = [7, 30, 90];
pub const DAY_MS: u64 = 86_400_000;

/// Fills keyed by (wallet, window days).
pub type WindowedFills<'s> = VecCollection<'s, u64, ((Address, u64), Fill)>;

/// Each fill in every window's collection from its time until W later, keyed by
/// (wallet, window days): `(now − W, now]` at every time `now`.
pub fn in_windows<'s>(fills: VecCollection<'s, u64, Fill>) -> WindowedFills<'s> {
    let windows = WINDOWS_DAYS.map(|days| {
        let keyed = fills.clone().map(move |f| ((f.wallet, days), f));
        let leaving = keyed.clone().delay(move |t| t.saturating_add(days * DAY_MS)).negate();
        keyed.concat(leaving)
    });
    let [d7, d30, d90] = windows;
    d7.concat(d30).concat(d90)
}

/// Metrics per (wallet, window days) from the fills and the latest account
/// value of each wallet (an upserted collection: one value per wallet).
pub fn window_metrics_of<'s>(
    fills: VecCollection<'s, u64, Fill>,
    account_values: VecCollection<'s, u64, (Address, Usd)>,
) -> VecCollection<'s, u64, ((Address, u64), WindowMetrics)> {
    let closing =
        in_windows(fills).flat_map(|(key, f)| ClosingTrade::of(&f).ok().flatten().map(|t| (key.0, (key.1, t))));
    closing.join(account_values).map(|(wallet, ((days, trade), value))| ((wallet, days), (trade, value))).reduce(
        |_key, group, out| {
            let value = group[0].0.1;
            let mut trades: Vec<ClosingTrade> = Vec::new();
            for ((trade, _), n) in group {
                for _ in 0..*n {
                    trades.push(*trade);
                }
            }
            trades.sort_by_key(|t| t.time_ms);
            // Fixed-point overflow is out of reach for real inputs; an error leaves the group empty.
            if let Ok(m) = window_metrics(&trades, None, value) {
                out.push((m, 1));
            }
        },
    )
}
