//! The trading half of the brain (DESIGN §2, §4): the strategies, the risk
//! module and the exits, reading trader intelligence's collections.
//!
//! ```text
//! tracked positions ─┬─ votes (tiers, scores, clusters, accounts) ─ consensus (15-min clock) ─┐
//!                    └─ book (allocations, accounts) ──────────────────────────────────────────┤
//! marks, stale, our positions and account, tracked fills, blacklist ───── ───────────────────────┴─ desk ─ signals
//!                                                                                                       └─ intents
//! ```
//!
//! The incremental views — per-token consensus and the index book — are
//! differential collections, recomputed only where their inputs change. What
//! depends on the *path* of time — confirmation windows, deferred entry
//! checks, trailing stops, cooldowns, the account as each intent leaves it — is
//! the [`desk`]: one sequential operator that walks the completed times in
//! order, runs the enabled strategies and sends every candidate order through
//! the risk module, the only way an intent is made.

pub mod book;
pub mod consensus;
pub mod desk;
pub mod operator;

use differential_dataflow::VecCollection;
use timely::dataflow::Scope;

use crate::config::{ConsensusConfig, EntryConfig, ExecutionConfig, ExitsConfig, IndexConfig, RiskConfig};
use crate::feed::Sessions;
use crate::intel::Views;
use crate::model::{Address, Fill, Halt, OrderIntent, OwnPosition, Price, Signal, Strategy, TimeMs, Token, Usd};
use crate::rules::consensus::TokenConsensus;
use crate::rules::index::BookLine;
use crate::rules::trader::TrackedPosition;

/// What a run trades with: the enabled strategies and their configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub enabled: Vec<Strategy>,
    pub risk: RiskConfig,
    pub exits: ExitsConfig,
    pub entry: EntryConfig,
    pub consensus: ConsensusConfig,
    pub index: IndexConfig,
    pub execution: ExecutionConfig,
    /// The most of our account the strategies size from (`None`: all of it);
    /// the daemon sets it in live mode from `[paper_trading] live_account_cap_usd`.
    pub account_cap: Option<Usd>,
    /// Trader intelligence's eligibility thresholds (`[eligibility]`): who may be copied at all.
    pub gates: crate::rules::eligibility::Gates,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            enabled: Strategy::ALL.to_vec(),
            risk: RiskConfig::default(),
            exits: ExitsConfig::default(),
            entry: EntryConfig::default(),
            consensus: ConsensusConfig::default(),
            index: IndexConfig::default(),
            execution: ExecutionConfig::default(),
            account_cap: None,
            gates: crate::rules::eligibility::Gates::DEFAULT,
        }
    }
}

impl Params {
    pub fn enabled(&self, s: Strategy) -> bool {
        self.enabled.contains(&s)
    }
}

/// The trading inputs as collections (see [`Sessions`]).
pub struct Inputs<'s> {
    pub tracked: VecCollection<'s, u64, (Address, TrackedPosition)>,
    pub tracked_fills: VecCollection<'s, u64, Fill>,
    pub marks: VecCollection<'s, u64, (Token, Price)>,
    pub stale: VecCollection<'s, u64, Token>,
    pub consensus_clock: VecCollection<'s, u64, TimeMs>,
    pub own_positions: VecCollection<'s, u64, OwnPosition>,
    pub own_account: VecCollection<'s, u64, Usd>,
    pub halts: VecCollection<'s, u64, Halt>,
}

impl<'s> Inputs<'s> {
    pub fn of(scope: Scope<'s, u64>, s: &mut Sessions) -> Inputs<'s> {
        Inputs {
            tracked: s.tracked.to_collection(scope),
            tracked_fills: s.tracked_fills.to_collection(scope),
            marks: s.marks.to_collection(scope),
            stale: s.stale.to_collection(scope),
            consensus_clock: s.consensus_clock.to_collection(scope),
            own_positions: s.own_positions.to_collection(scope),
            own_account: s.own_account.to_collection(scope),
            halts: s.halts.to_collection(scope),
        }
    }
}

/// The trading views and decisions.
pub struct Decisions<'s> {
    pub consensus: VecCollection<'s, u64, (Token, TokenConsensus)>,
    pub book: VecCollection<'s, u64, (Token, BookLine)>,
    /// Every decision, with its gate and numbers (events: inserted at their time).
    pub signals: VecCollection<'s, u64, Signal>,
    /// Every order intent that passed the risk module (events).
    pub intents: VecCollection<'s, u64, OrderIntent>,
    /// When the desk next decides on its own (see [`operator::NextWakeup`]).
    pub next_wakeup: operator::NextWakeup,
}

/// Builds the strategies, the risk module and the exits over the
/// intelligence views. Views of disabled strategies are not built.
pub fn trading<'s>(
    views: &Views<'s>,
    i: Inputs<'s>,
    account_values: VecCollection<'s, u64, (Address, Usd)>,
    params: &Params,
) -> Decisions<'s> {
    let scope = i.consensus_clock.scope();
    let consensus = if params.enabled(Strategy::Consensus) {
        let votes = consensus::votes(
            i.tracked.clone(),
            views.tiers.clone(),
            views.standings.clone(),
            views.allocations.clone(),
            views.clusters.clone(),
            account_values.clone(),
            params.consensus.vote_weight,
        );
        consensus::consensus(votes, i.consensus_clock.clone(), params.consensus.clone())
    } else {
        VecCollection::new(timely::dataflow::operators::generic::operator::empty(scope))
    };
    let book = if params.enabled(Strategy::Index) {
        book::book(i.tracked.clone(), views.allocations.clone(), account_values.clone(), params.risk.copy_ratio)
    } else {
        VecCollection::new(timely::dataflow::operators::generic::operator::empty(scope))
    };
    let facts = desk::facts(desk::FactSources {
        marks: i.marks,
        stale: i.stale,
        consensus: consensus.clone(),
        book: book.clone(),
        own_positions: i.own_positions,
        own_account: i.own_account,
        halts: i.halts,
        tracked: i.tracked,
        standings: views.standings.clone(),
        tiers: views.tiers.clone(),
        account_values,
        blacklist: views.blacklist.clone(),
        clusters: views.clusters.clone(),
        fills: i.tracked_fills,
    });
    let (signals, intents, next_wakeup) = operator::desk(facts, params.clone());
    Decisions { consensus, book, signals, intents, next_wakeup }
}
