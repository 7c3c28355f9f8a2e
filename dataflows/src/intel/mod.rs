//! Trader intelligence as timely/differential dataflow (DESIGN §2): every box
//! is a materialized collection that updates when its inputs change. Time is
//! event time in milliseconds; the clock input says what "now" is for the
//! rules that read it (recency, open holds), and windows move with event time
//! (the feeder retracts a record W after its own time, so old fills leave the
//! windows and their state compacts away).
//!
//! ```text
//! windowed fills ─┬─ metrics (7/30/90 d) ─────────────┐
//! (7/30/90 d)     ├─ activity (90 d) ── pace (clock) ─┤
//!                 │  blacklist events (14 d) ─────────┼─ standings ─┬─ tiers
//!                 │  holdings, labels, account values ┘             └─ targets (6 h) ─ allocations (daily, turnover)
//!                 └─ entries (30 d) ─ correlations (holdings) ─ clusters (6 h)
//! ```

pub mod allocations;
pub mod clusters;
pub mod metrics;
pub mod traders;

use differential_dataflow::VecCollection;
use timely::dataflow::Scope;

use crate::model::{Address, TimeMs, Usd};
use crate::rules::allocation::Weights;
use crate::rules::eligibility::Tier;
use crate::rules::metrics::WindowMetrics;
use crate::rules::trader::{Holding, Standing};

use crate::feed::Sessions;

/// The inputs as collections (see [`crate::feed::Sessions`]).
pub struct Inputs<'s> {
    pub window_fills: metrics::WindowedFills<'s>,
    pub holdings: VecCollection<'s, u64, (Address, Holding)>,
    pub account_values: VecCollection<'s, u64, (Address, Usd)>,
    pub window_snapshots: metrics::WindowedSnapshots<'s>,
    pub labels: VecCollection<'s, u64, (Address, String)>,
    pub blacklist_events: VecCollection<'s, u64, (Address, TimeMs)>,
    pub clock: VecCollection<'s, u64, TimeMs>,
    pub sampled_fills: metrics::WindowedFills<'s>,
    pub sampled_holdings: VecCollection<'s, u64, (Address, Holding)>,
}

impl<'s> Inputs<'s> {
    pub fn of(scope: Scope<'s, u64>, s: &mut Sessions) -> Inputs<'s> {
        Inputs {
            window_fills: s.window_fills.to_collection(scope),
            holdings: s.holdings.to_collection(scope),
            account_values: s.account_values.to_collection(scope),
            window_snapshots: s.window_snapshots.to_collection(scope),
            labels: s.labels.to_collection(scope),
            blacklist_events: s.blacklist_events.to_collection(scope),
            clock: s.clock.to_collection(scope),
            sampled_fills: s.sampled_fills.to_collection(scope),
            sampled_holdings: s.sampled_holdings.to_collection(scope),
        }
    }
}

// The copy-cluster lookback is the 30-day window.
const _: () = assert!(crate::rules::clusters::LOOKBACK_MS == 30 * metrics::DAY_MS);

/// The materialized views of trader intelligence.
pub struct Views<'s> {
    pub metrics: VecCollection<'s, u64, ((Address, u64), WindowMetrics)>,
    pub standings: VecCollection<'s, u64, (Address, Standing)>,
    pub tiers: VecCollection<'s, u64, (Address, Tier)>,
    pub blacklist: VecCollection<'s, u64, Address>,
    /// Wallet → cluster id (the smallest address of its component).
    pub clusters: VecCollection<'s, u64, (Address, Address)>,
    /// The correlated pairs behind the clusters, with their overlaps.
    pub pairs: VecCollection<'s, u64, clusters::CorrelatedPair>,
    pub allocations: VecCollection<'s, u64, (Address, Weights)>,
}

/// Builds the trader-intelligence dataflow.
pub fn intelligence<'s>(i: Inputs<'s>, gates: crate::rules::eligibility::Gates) -> Views<'s> {
    let windowed = i.window_fills;
    let metrics = metrics::window_metrics_of(windowed.clone(), i.account_values, i.window_snapshots);
    let blacklist = traders::blacklist(i.blacklist_events);
    let standings = traders::standings(
        metrics.clone(),
        traders::activities(windowed),
        i.holdings,
        i.labels,
        blacklist.clone(),
        i.clock.clone(),
        gates,
    );
    let tiers = traders::tiers_of(standings.clone());
    let allocations = allocations::allocations(allocations::targets(standings.clone()), i.clock);
    // Clusters read the sampled inputs: recomputed on the cadence (the rules
    // recompute them daily), so a fill costs them nothing. Every wallet
    // trading in the last 90 days or holding a position is a node.
    let positions = i.sampled_holdings.map(|(w, h)| (w, (h.token, h.side)));
    let in_window = |d: u64| move |((_, days), _): &((Address, u64), crate::model::Fill)| *days == d;
    let traders = i.sampled_fills.clone().filter(in_window(90)).map(|((w, _), _)| w);
    let wallets = traders.concat(positions.clone().map(|(w, _)| w)).distinct();
    let entries = clusters::entries_of(i.sampled_fills.filter(in_window(30)).map(|(_, f)| f));
    let pairs = clusters::correlations(entries, positions);
    let clusters = clusters::components(wallets, pairs.clone().map(|(pair, _)| pair));
    Views { metrics, standings, tiers, blacklist, clusters, pairs, allocations }
}
