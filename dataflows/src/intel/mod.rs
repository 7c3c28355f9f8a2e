//! Trader intelligence as timely/differential dataflow (DESIGN §2): every box
//! is a materialized collection that updates when its inputs change. Time is
//! event time in milliseconds; the clock input says what "now" is for the
//! rules that read it (recency, open holds), and windows move with event time
//! (a record leaves its window W after its own time, so old fills leave by
//! retraction and their state compacts away).
//!
//! ```text
//! fills ─┬─ windows ─┬─ metrics (7/30/90 d) ──────────┐
//!        │           └─ activity ── pace (clock) ─────┤
//!        ├─ liquidation fills ─┐                      ├─ standings ─┬─ tiers
//!        │   liquidations ─────┴─ blacklist (14 d) ───┤             └─ targets (6 h) ─ allocations (daily, turnover)
//!        │   holdings, labels, account values ────────┘
//!        └─ entries ─ correlations (holdings) ─ clusters
//! ```

pub mod allocations;
pub mod clusters;
pub mod feed;
pub mod metrics;
pub mod replay;
pub mod traders;
pub mod window;

use differential_dataflow::VecCollection;
use timely::dataflow::Scope;

use crate::model::{Address, Fill, TimeMs, Usd};
use crate::rules::allocation::Weights;
use crate::rules::eligibility::Tier;
use crate::rules::metrics::WindowMetrics;
use crate::rules::trader::{Holding, Standing};

use feed::Sessions;

/// The inputs as collections.
pub struct Inputs<'s> {
    pub fills: VecCollection<'s, u64, Fill>,
    pub holdings: VecCollection<'s, u64, (Address, Holding)>,
    pub account_values: VecCollection<'s, u64, (Address, Usd)>,
    pub snapshots: VecCollection<'s, u64, (Address, (TimeMs, Usd))>,
    pub labels: VecCollection<'s, u64, (Address, String)>,
    pub liquidations: VecCollection<'s, u64, (Address, TimeMs)>,
    pub clock: VecCollection<'s, u64, TimeMs>,
}

impl<'s> Inputs<'s> {
    pub fn of(scope: Scope<'s, u64>, s: &mut Sessions) -> Inputs<'s> {
        Inputs {
            fills: s.fills.to_collection(scope),
            holdings: s.holdings.to_collection(scope),
            account_values: s.account_values.to_collection(scope),
            snapshots: s.snapshots.to_collection(scope),
            labels: s.labels.to_collection(scope),
            liquidations: s.liquidations.to_collection(scope),
            clock: s.clock.to_collection(scope),
        }
    }
}

/// The materialized views of trader intelligence.
pub struct Views<'s> {
    pub metrics: VecCollection<'s, u64, ((Address, u64), WindowMetrics)>,
    pub standings: VecCollection<'s, u64, (Address, Standing)>,
    pub tiers: VecCollection<'s, u64, (Address, Tier)>,
    pub blacklist: VecCollection<'s, u64, Address>,
    /// Wallet → cluster id (the smallest address of its component).
    pub clusters: VecCollection<'s, u64, (Address, Address)>,
    pub allocations: VecCollection<'s, u64, (Address, Weights)>,
}

/// Builds the trader-intelligence dataflow.
pub fn intelligence<'s>(i: Inputs<'s>) -> Views<'s> {
    let windowed = metrics::in_windows(i.fills.clone());
    let metrics = metrics::window_metrics_of(windowed.clone(), i.account_values, i.snapshots);
    let blacklist = traders::blacklist(i.fills.clone(), i.liquidations);
    let standings = traders::standings(
        metrics.clone(),
        traders::activities(windowed),
        i.holdings.clone(),
        i.labels,
        blacklist.clone(),
        i.clock.clone(),
    );
    let tiers = traders::tiers_of(standings.clone());
    let allocations = allocations::allocations(allocations::targets(standings.clone()), i.clock);
    let positions = i.holdings.map(|(w, h)| (w, (h.token, h.side)));
    // Every wallet seen trading or holding: a wallet known only by its positions still clusters.
    let wallets = i.fills.clone().map(|f| f.wallet).concat(positions.clone().map(|(w, _)| w)).distinct();
    let clusters = clusters::components(wallets, clusters::correlations(i.fills, positions));
    Views { metrics, standings, tiers, blacklist, clusters, allocations }
}
