//! The desk: the sequential part of the trading brain. It holds the world as
//! the facts say it is now, the strategies' path-dependent state (gates,
//! deferred entry checks, exit monitors, cooldowns, intents in flight), and at
//! each completed time runs, in order: the exits, the consensus gate, the
//! entry copy, the index rebalance — then sends every candidate through the
//! risk module, which alone makes intents, and last keeps each position's
//! protective stop on the venue in step with it. Plain Rust: the dataflow
//! operator drives it, and so does the reference recomputation in the tests.
//!
//! Monitoring and rebalancing never act on one position at once (seed 002
//! phase 5): the monitor runs first in every step, and the first exit of a
//! position wins — a rebalance leg for it is skipped (`SKIP_EXIT_IN_FLIGHT`)
//! while the exit is on its way, and the executors cancel the position's
//! entries still resting on the book when the exit goes out. Instead of the
//! prototype's lock (monitoring paused during a rebalance), a stop always
//! wins: pausing it could leave a falling position unprotected.

use std::collections::{BTreeMap, BTreeSet};

use differential_dataflow::VecCollection;
use serde::{Deserialize, Serialize};

use crate::model::{
    Address, Attribution, Decision, Fill, FillAction, Fixed, HOUR_MS, Halt, IntentId, IntentKind, MINUTE_MS, NumError,
    OrderIntent, OrderType, OwnPosition, PositionSide, Price, Ratio, SECOND_MS, Side, Signal, Strategy, TimeInForce,
    TimeMs, Token, Usd,
};
use crate::rules::breakers::{Breakers, Tripped};
use crate::rules::consensus::{EntryOrder, GateEvent, TokenConsensus, base_notional, entry_order};
use crate::rules::eligibility::Tier;
use crate::rules::entry::{Context, EntryOrderType, Screened, Verdict, decide, screen};
use crate::rules::exits::{Exit, Facts, Monitor, stop_price};
use crate::rules::index::{Action, BookLine, diff, targets};
use crate::rules::risk::{
    AccountState, Exposure, Reduction, Sizing, SizingRequest, clip, reduction, size_entry, size_target,
};
use crate::rules::trader::{Standing, TrackedPosition};

use super::Params;

/// One fact the desk reads, as a collection row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Fact {
    Mark(Token, Price),
    Stale(Token),
    Consensus(TokenConsensus),
    Book(Token, BookLine),
    Own(OwnPosition),
    OwnAccount(Usd),
    Tracked(Address, TrackedPosition),
    /// A wallet's score and ROI-tier multiplier.
    Trader(Address, Ratio, Ratio),
    Tier(Address, Tier),
    AccountValue(Address, Usd),
    Blacklisted(Address),
    Cluster(Address, Address),
    /// A tracked fill, an event (its insertion is what matters).
    Fill(Fill),
    /// An operator halt of new entries in force.
    Halt(Halt),
}

/// The collections the desk reads.
pub struct FactSources<'s> {
    pub marks: VecCollection<'s, u64, (Token, Price)>,
    pub stale: VecCollection<'s, u64, Token>,
    pub consensus: VecCollection<'s, u64, (Token, TokenConsensus)>,
    pub book: VecCollection<'s, u64, (Token, BookLine)>,
    pub own_positions: VecCollection<'s, u64, OwnPosition>,
    pub own_account: VecCollection<'s, u64, Usd>,
    pub tracked: VecCollection<'s, u64, (Address, TrackedPosition)>,
    pub standings: VecCollection<'s, u64, (Address, Standing)>,
    pub tiers: VecCollection<'s, u64, (Address, Tier)>,
    pub account_values: VecCollection<'s, u64, (Address, Usd)>,
    pub blacklist: VecCollection<'s, u64, Address>,
    pub clusters: VecCollection<'s, u64, (Address, Address)>,
    pub fills: VecCollection<'s, u64, Fill>,
    pub halts: VecCollection<'s, u64, Halt>,
}

/// All sources as one collection of facts.
pub fn facts(s: FactSources<'_>) -> VecCollection<'_, u64, Fact> {
    s.marks
        .map(|(t, p)| Fact::Mark(t, p))
        .concat(s.stale.map(Fact::Stale))
        .concat(s.consensus.map(|(_, c)| Fact::Consensus(c)))
        .concat(s.book.map(|(t, b)| Fact::Book(t, b)))
        .concat(s.own_positions.map(Fact::Own))
        .concat(s.own_account.map(Fact::OwnAccount))
        .concat(s.tracked.map(|(w, p)| Fact::Tracked(w, p)))
        .concat(s.standings.map(|(w, x)| Fact::Trader(w, x.score.final_score, x.score.roi_tier)))
        .concat(s.tiers.map(|(w, t)| Fact::Tier(w, t)))
        .concat(s.account_values.map(|(w, v)| Fact::AccountValue(w, v)))
        .concat(s.blacklist.map(Fact::Blacklisted))
        .concat(s.clusters.map(|(w, c)| Fact::Cluster(w, c)))
        .concat(s.fills.map(Fact::Fill))
        .concat(s.halts.map(Fact::Halt))
}

/// The world as the facts say it is now.
#[derive(Debug, Clone, Default)]
pub struct World {
    /// The time of the step being run.
    pub now: Option<TimeMs>,
    pub marks: BTreeMap<Token, Price>,
    pub stale: BTreeSet<Token>,
    pub consensus: BTreeMap<Token, TokenConsensus>,
    pub book: BTreeMap<Token, BookLine>,
    pub own: BTreeMap<Token, OwnPosition>,
    pub own_account: Option<Usd>,
    /// The most of our account the strategies size from (live mode starts
    /// small: seed 002 phase 9); `None`: all of it.
    pub account_cap: Option<Usd>,
    pub tracked: BTreeMap<(Address, Token), TrackedPosition>,
    pub traders: BTreeMap<Address, (Ratio, Ratio)>,
    pub tiers: BTreeMap<Address, Tier>,
    pub account_values: BTreeMap<Address, Usd>,
    pub blacklisted: BTreeSet<Address>,
    /// Operator halts of new entries in force.
    pub halts: BTreeSet<Halt>,
    pub clusters: BTreeMap<Address, Address>,
}

/// Removes `key` if it maps to `value` (a retraction of an upserted row).
fn retract<K: Ord, V: PartialEq>(map: &mut BTreeMap<K, V>, key: K, value: &V) {
    if map.get(&key) == Some(value) {
        map.remove(&key);
    }
}

impl World {
    /// Applies one consolidated change; a fill's insertion is returned as an event.
    pub fn apply(&mut self, fact: Fact, diff: isize) -> Option<Fill> {
        let add = diff > 0;
        match fact {
            Fact::Mark(t, p) if add => _ = self.marks.insert(t, p),
            Fact::Mark(t, p) => retract(&mut self.marks, t, &p),
            Fact::Stale(t) if add => _ = self.stale.insert(t),
            Fact::Stale(t) => _ = self.stale.remove(&t),
            Fact::Consensus(c) if add => _ = self.consensus.insert(c.token, c),
            Fact::Consensus(c) => retract(&mut self.consensus, c.token, &c),
            Fact::Book(t, b) if add => _ = self.book.insert(t, b),
            Fact::Book(t, b) => retract(&mut self.book, t, &b),
            Fact::Own(p) if add => _ = self.own.insert(p.token, p),
            Fact::Own(p) => retract(&mut self.own, p.token, &p),
            Fact::OwnAccount(v) if add => self.own_account = Some(v),
            Fact::OwnAccount(v) => {
                if self.own_account == Some(v) {
                    self.own_account = None;
                }
            }
            Fact::Tracked(w, p) if add => _ = self.tracked.insert((w, p.token), p),
            Fact::Tracked(w, p) => retract(&mut self.tracked, (w, p.token), &p),
            Fact::Trader(w, s, r) if add => _ = self.traders.insert(w, (s, r)),
            Fact::Trader(w, s, r) => retract(&mut self.traders, w, &(s, r)),
            Fact::Tier(w, t) if add => _ = self.tiers.insert(w, t),
            Fact::Tier(w, t) => retract(&mut self.tiers, w, &t),
            Fact::AccountValue(w, v) if add => _ = self.account_values.insert(w, v),
            Fact::AccountValue(w, v) => retract(&mut self.account_values, w, &v),
            Fact::Blacklisted(w) if add => _ = self.blacklisted.insert(w),
            Fact::Blacklisted(w) => _ = self.blacklisted.remove(&w),
            Fact::Cluster(w, c) if add => _ = self.clusters.insert(w, c),
            Fact::Cluster(w, c) => retract(&mut self.clusters, w, &c),
            Fact::Fill(f) if add => return Some(f),
            Fact::Fill(_) => {}
            Fact::Halt(h) if add => _ = self.halts.insert(h),
            Fact::Halt(h) => _ = self.halts.remove(&h),
        }
        None
    }

    /// A token's fresh price (`None` when unknown or stale).
    pub fn fresh(&self, token: &Token) -> Option<Price> {
        if self.stale.contains(token) { None } else { self.marks.get(token).copied() }
    }

    /// Our account as the venue reports it: each position at the mark (its
    /// entry price until a mark is known).
    /// Our account value as the strategies and caps size from: the reported
    /// value, at most the live account cap.
    pub fn sizing_value(&self) -> Usd {
        let v = self.own_account.unwrap_or(Usd::ZERO);
        self.account_cap.map_or(v, |cap| v.min(cap))
    }

    pub fn account(&self) -> Result<AccountState, NumError> {
        let mut positions = BTreeMap::new();
        for (token, p) in &self.own {
            let Some(side) = p.side() else { continue };
            let px = self.marks.get(token).copied().unwrap_or(p.entry_price);
            positions.insert(*token, Exposure { side, value: px.notional(p.size)?.abs() });
        }
        Ok(AccountState { account_value: self.sizing_value(), positions })
    }
}

/// How a candidate order is to be sized by the risk module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sizer {
    /// A strategy's base notional: full sizing (penalty, leverage, caps).
    Request(SizingRequest),
    /// An index delta toward a target already penalised: caps only.
    Clip(Usd, Ratio),
}

/// How an entry is priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pricing {
    Market(Ratio),
    /// Limit offset from the price, percent.
    LimitPercent(Ratio),
    /// Limit offset from the price, basis points (the index's allowance).
    LimitBps(Ratio),
}

/// An order a strategy wants, before the risk module.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Candidate {
    Entry {
        strategy: Strategy,
        token: Token,
        side: PositionSide,
        wallet: Option<Address>,
        sizer: Box<Sizer>,
        pricing: Pricing,
        price: Price,
        floor: Usd,
        numbers: Vec<(String, Fixed)>,
        attribution: Vec<Attribution>,
        reason: String,
    },
    Exit {
        strategy: Strategy,
        token: Token,
        side: PositionSide,
        fraction: Ratio,
        price: Price,
        reason: String,
        stop_out: bool,
    },
}

/// What a signal is about: the strategy, the token and side, the wallet it follows.
#[derive(Debug, Clone, Copy)]
struct Topic(Strategy, Token, PositionSide, Option<Address>);

/// An intent sent and not yet reflected by our positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct InFlight {
    side: PositionSide,
    usd: Usd,
    expires: TimeMs,
    /// Our position in the token when the intent left.
    seen: Option<OwnPosition>,
}

/// The desk's output at one time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    pub signals: Vec<Signal>,
    pub intents: Vec<OrderIntent>,
}

/// The strategies' state and the world.
#[derive(Debug, Clone)]
pub struct Desk {
    pub params: Params,
    pub world: World,
    gates: BTreeMap<Token, crate::rules::consensus::Gate>,
    /// Entry checks waiting for their confirmation delay, by due time.
    deferred: BTreeMap<(TimeMs, Fill), Screened>,
    /// Each (wallet, token, side)'s latest Open (the Add rule's look-back).
    opens: BTreeMap<(Address, Token, PositionSide), TimeMs>,
    monitors: BTreeMap<Token, Monitor>,
    /// Exits sent and not yet reflected, by token: when they may be resent.
    exits_sent: BTreeMap<Token, (TimeMs, Option<OwnPosition>)>,
    /// No re-entry of (token, side) before this time (decisions.md 7).
    cooldowns: BTreeMap<(Token, PositionSide), TimeMs>,
    in_flight: BTreeMap<Token, InFlight>,
    /// Positions worth less than the order minimum whose exit was refused:
    /// no order can reduce or close them, so they are left alone (no signal
    /// a minute) until they change or their value reaches the minimum again.
    unsellable: BTreeMap<Token, OwnPosition>,
    /// Our account's peak and day start: the drawdown and daily-loss breakers.
    breakers: Breakers,
    last_rebalance: Option<TimeMs>,
    /// The protective stop each position has on the venue (the last one sent).
    venue_stops: BTreeMap<Token, VenueStop>,
}

/// A protective stop as sent: it covers `size` of a `side` position from `trigger`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct VenueStop {
    side: PositionSide,
    trigger: Price,
    size: crate::model::Size,
}

/// The least a stop is moved by (a fraction of its trigger, in basis points):
/// a trailing stop that ratchets every tick would cost two actions a tick.
const STOP_MOVE_MIN_BPS: i64 = 50;

/// How far back the Add rule looks for the trader's Open (seed 001's 24 h).
const OPEN_LOOKBACK_MS: u64 = 24 * HOUR_MS;

fn numbers(items: &[(&str, Fixed)]) -> Vec<(String, Fixed)> {
    let mut v: Vec<(String, Fixed)> = items.iter().map(|(k, x)| (k.to_string(), *x)).collect();
    v.sort();
    v
}

impl Desk {
    pub fn new(params: Params) -> Desk {
        Desk {
            world: World { account_cap: params.account_cap, ..World::default() },
            params,
            gates: BTreeMap::new(),
            deferred: BTreeMap::new(),
            opens: BTreeMap::new(),
            monitors: BTreeMap::new(),
            exits_sent: BTreeMap::new(),
            cooldowns: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            unsellable: BTreeMap::new(),
            breakers: Breakers::default(),
            last_rebalance: None,
            venue_stops: BTreeMap::new(),
        }
    }

    /// Applies one time's consolidated changes (retractions first) and runs
    /// the strategies at that time. Time is event time: "now" is `t`.
    pub fn step(&mut self, t: TimeMs, changes: BTreeMap<Fact, isize>) -> Output {
        let mut fills = Vec::new();
        let mut retracted = Vec::new();
        let mut updated = BTreeSet::new();
        let (minus, plus): (Vec<_>, Vec<_>) = changes.into_iter().filter(|(_, d)| *d != 0).partition(|(_, d)| *d < 0);
        for (fact, d) in minus.into_iter().chain(plus) {
            match (&fact, d < 0) {
                (Fact::Fill(f), true) => retracted.push(f.clone()),
                (Fact::Consensus(c), false) => _ = updated.insert(c.token),
                _ => {}
            }
            if let Some(f) = self.world.apply(fact, d) {
                fills.push(f);
            }
        }
        for f in retracted {
            self.deferred.retain(|(_, g), _| *g != f);
        }
        let mut out = Output::default();
        self.world.now = Some(t);
        if let Some(v) = self.world.own_account {
            self.breakers.observe(t, v);
        }
        let now = t;
        let mut candidates = Vec::new();
        self.exits(now, &mut candidates);
        if self.params.enabled(Strategy::Consensus) {
            self.consensus(now, &updated, &mut out, &mut candidates);
        }
        if self.params.enabled(Strategy::Entry) {
            self.entry(now, fills, &mut out, &mut candidates);
        }
        if self.params.enabled(Strategy::Index) {
            self.index(now, &mut out, &mut candidates);
        }
        self.risk(t, now, candidates, &mut out);
        self.protect(t, &mut out);
        out
    }

    /// The next time the desk must act with no new fact: a confirmation
    /// window or deferred check that ends, a rebalance, a time stop, the end of
    /// a reduce cooldown, an intent or exit whose wait runs out.
    pub fn next_wakeup(&self) -> Option<TimeMs> {
        let now = self.world.now?;
        let mut times = Vec::new();
        let delay = self.params.consensus.copy_delay_minutes * MINUTE_MS;
        times.extend(self.gates.values().filter_map(|g| g.pending.map(|p| p.detected_at + delay)));
        times.extend(self.deferred.keys().next().map(|(due, _)| *due));
        // Every boundary, book or not: when the index runs must not depend on
        // which other events happened to step the desk.
        if self.params.enabled(Strategy::Index) {
            let every = self.params.index.rebalance_interval_hours.max(1) * HOUR_MS;
            times.push(now - now % every + every);
        }
        let hold = self.params.exits.max_position_duration_hours * HOUR_MS;
        let cooldown = self.params.risk.liquidation_buffer.reduce_cooldown_secs * SECOND_MS;
        for m in self.monitors.values() {
            times.push(m.opened_at.saturating_add(hold));
            times.extend(m.last_reduce.map(|t| t + cooldown));
        }
        times.extend(self.exits_sent.values().map(|(until, _)| *until));
        times.extend(self.in_flight.values().map(|f| f.expires));
        times.into_iter().filter(|t| *t > now).min()
    }

    /// A refusal: the gate that refused and the numbers it compared.
    fn skip(&self, topic: Topic, gate: &str, numbers: Vec<(String, Fixed)>) -> Signal {
        self.signal(topic, Decision::Skip, gate, numbers)
    }

    fn signal(&self, topic: Topic, decision: Decision, gate: &str, numbers: Vec<(String, Fixed)>) -> Signal {
        let Topic(strategy, token, side, wallet) = topic;
        Signal {
            time_ms: self.world.now.unwrap_or(0),
            strategy,
            token,
            side,
            wallet,
            decision,
            gate: gate.to_string(),
            numbers,
        }
    }

    /// Exit monitors over our positions (§13; decisions.md 9).
    fn exits(&mut self, now: TimeMs, candidates: &mut Vec<Candidate>) {
        let held: BTreeSet<Token> = self.world.own.keys().copied().collect();
        self.monitors.retain(|t, _| held.contains(t));
        self.exits_sent.retain(|t, (until, seen)| {
            let current = self.world.own.get(t).copied();
            now < *until && current.map(|p| p.size) == seen.map(|p| p.size)
        });
        let min = self.params.risk.min_order_usd;
        let world = &self.world;
        self.unsellable.retain(|t, p| {
            let value = world.marks.get(t).and_then(|m| m.notional(p.size).ok()).map(Usd::abs);
            world.own.get(t) == Some(p) && value.is_some_and(|v| v < min)
        });
        let own: Vec<OwnPosition> = self.world.own.values().copied().collect();
        for p in own {
            let Some(side) = p.side() else { continue };
            if self.unsellable.contains_key(&p.token) {
                continue;
            }
            let cfg = &self.params.exits;
            let fresh = self.world.fresh(&p.token);
            let m = match self.monitors.get(&p.token) {
                Some(m) if m.side == side && m.entry == p.entry_price && m.opened_at == p.opened_at => *m,
                _ => match Monitor::new(side, p.entry_price, p.opened_at, cfg) {
                    Ok(m) => m,
                    Err(_) => continue,
                },
            };
            let mut m = m;
            if let Some(px) = fresh
                && m.observe(px, cfg).is_err()
            {
                continue;
            }
            let consensus_broken = p.origin.strategy == Strategy::Consensus
                && self.world.consensus.get(&p.token).and_then(|c| c.verdict.side()) != Some(side);
            let facts = Facts {
                now,
                liquidation_price: p.liquidation_price,
                trader_liquidated: p.origin.wallet.is_some_and(|w| self.world.blacklisted.contains(&w)),
                consensus_broken,
            };
            let last = self.world.marks.get(&p.token).copied();
            let fired = m.check(fresh, last, &facts, cfg, &self.params.risk.liquidation_buffer).ok().flatten();
            if let Some(e) = fired.filter(|_| !self.exits_sent.contains_key(&p.token)) {
                m.record(&e, now);
                candidates.push(exit_candidate(&p, side, &e));
            }
            self.monitors.insert(p.token, m);
        }
    }

    /// The consensus gate per token (§9), entries sized by seed 000's base.
    fn consensus(&mut self, now: TimeMs, updated: &BTreeSet<Token>, out: &mut Output, candidates: &mut Vec<Candidate>) {
        let cfg = self.params.consensus.clone();
        let strong: BTreeSet<Token> =
            self.world.consensus.iter().filter(|(_, c)| c.verdict.side().is_some()).map(|(t, _)| *t).collect();
        let tokens: BTreeSet<Token> = strong.into_iter().chain(self.gates.keys().copied()).collect();
        for token in tokens {
            let c = self.world.consensus.get(&token).cloned();
            let price = self.world.fresh(&token);
            let gate = self.gates.entry(token).or_default();
            let Ok(events) = gate.step(c.as_ref(), updated.contains(&token), price, now, &cfg) else { continue };
            if *gate == crate::rules::consensus::Gate::default() {
                self.gates.remove(&token);
            }
            for e in events {
                let (p, decision, code, extra) = match e {
                    GateEvent::Armed(p) => (p, Decision::Pending, "CONSENSUS_PENDING", vec![]),
                    GateEvent::Cancelled { pending, flipped } => (
                        pending,
                        Decision::Cancelled,
                        if flipped { "CANCELLED_SIDE_FLIP" } else { "CANCELLED_CONSENSUS_BROKE" },
                        vec![],
                    ),
                    GateEvent::Rejected { pending, price, slippage_percent } => (
                        pending,
                        Decision::Skip,
                        "SKIP_SLIPPAGE_EXCEEDED",
                        vec![("price", price.fixed()), ("slippage_percent", slippage_percent.fixed())],
                    ),
                    GateEvent::Confirmed { pending, price, slippage_percent } => {
                        let age = now.saturating_sub(pending.detected_at + cfg.copy_delay_minutes * MINUTE_MS);
                        let nums = [
                            ("price", price.fixed()),
                            ("reference_price", pending.reference_price.fixed()),
                            ("slippage_percent", slippage_percent.fixed()),
                            ("age_seconds", Fixed::from_int((age / SECOND_MS) as i64)),
                        ];
                        let pricing = match entry_order(age, slippage_percent, &cfg) {
                            EntryOrder::Market => Pricing::Market(self.params.entry.market_max_slippage_percent),
                            EntryOrder::Limit => Pricing::LimitPercent(Ratio::ZERO),
                            EntryOrder::Skip(code) => {
                                out.signals.push(self.skip(
                                    Topic(Strategy::Consensus, token, pending.side, None),
                                    code,
                                    numbers(&nums),
                                ));
                                continue;
                            }
                        };
                        if let Some(c) = &c {
                            let tally = c.side(pending.side);
                            let account = self.world.sizing_value();
                            let base = base_notional(account, tally.clusters, self.params.risk.copy_ratio, &cfg)
                                .unwrap_or(Usd::ZERO);
                            let total: Fixed =
                                tally.voters.iter().fold(Fixed::ZERO, |a, v| a.checked_add(v.2).unwrap_or(a));
                            let attribution = tally
                                .voters
                                .iter()
                                .map(|(w, cl, x)| Attribution {
                                    wallet: *w,
                                    cluster: Some(*cl),
                                    weight: Ratio::new(x.checked_div(total).unwrap_or(Fixed::ZERO)),
                                })
                                .collect();
                            let mut nums = nums.to_vec();
                            nums.push(("clusters", Fixed::from_int(i64::from(tally.clusters))));
                            candidates.push(Candidate::Entry {
                                strategy: Strategy::Consensus,
                                token,
                                side: pending.side,
                                wallet: None,
                                sizer: Box::new(Sizer::Request(SizingRequest {
                                    base_usd: base,
                                    token,
                                    side: pending.side,
                                    trader_leverage: tally.avg_leverage,
                                    trader_position_value: None,
                                    trader_margin_used: None,
                                })),
                                pricing,
                                price,
                                floor: cfg.min_entry_usd,
                                numbers: numbers(&nums),
                                attribution,
                                reason: "CONSENSUS_CONFIRMED".into(),
                            });
                        }
                        continue;
                    }
                };
                let mut nums = vec![("reference_price", p.reference_price.fixed())];
                nums.extend(extra);
                out.signals.push(self.signal(
                    Topic(Strategy::Consensus, token, p.side, None),
                    decision,
                    code,
                    numbers(&nums),
                ));
            }
        }
    }

    /// Seed 001's nine steps over primary wallets' fills.
    fn entry(&mut self, now: TimeMs, fills: Vec<Fill>, out: &mut Output, candidates: &mut Vec<Candidate>) {
        let cfg = self.params.entry.clone();
        for f in fills {
            if f.action() == FillAction::Open
                && let Some(side) = PositionSide::of(f.signed_size())
            {
                let e = self.opens.entry((f.wallet, f.token, side)).or_insert(f.time_ms);
                *e = (*e).max(f.time_ms);
            }
            if self.world.tiers.get(&f.wallet) != Some(&Tier::Primary) {
                continue;
            }
            let side = PositionSide::of(f.signed_size()).unwrap_or(PositionSide::Long);
            let last_open = self
                .opens
                .get(&(f.wallet, f.token, side))
                .copied()
                .filter(|t| *t <= f.time_ms && f.time_ms - t <= OPEN_LOOKBACK_MS && f.action() == FillAction::Add);
            let account = self.world.account_values.get(&f.wallet).copied().unwrap_or(Usd::ZERO);
            match screen(&f, last_open, account, &cfg) {
                Ok(Ok(s)) => {
                    let due = s.due(&cfg);
                    let nums =
                        numbers(&[("value_usd", s.value_usd.fixed()), ("position_weight", s.position_weight.fixed())]);
                    out.signals.push(self.signal(
                        Topic(Strategy::Entry, f.token, side, Some(f.wallet)),
                        Decision::Pending,
                        "DEFER_CONFIRMATION",
                        nums,
                    ));
                    self.deferred.insert((due, f), s);
                }
                Ok(Err(skip)) => {
                    out.signals.push(self.skip(
                        Topic(Strategy::Entry, f.token, side, Some(f.wallet)),
                        skip.code,
                        skip.numbers,
                    ));
                }
                Err(_) => {}
            }
        }
        let account = self.world.account().unwrap_or_default();
        while let Some(entry) = self.deferred.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let ((due, f), s) = entry.remove_entry();
            // No entry acts on a stale price: wait for a fresh one.
            let Some(price) = self.world.fresh(&f.token) else {
                self.deferred.insert((due.max(now) + MINUTE_MS, f), s);
                continue;
            };
            let tracked = self.world.tracked.get(&(f.wallet, f.token)).copied();
            let same_side = self
                .world
                .tracked
                .iter()
                .filter(|((w, t), p)| *t == f.token && p.side == s.side && self.world.tiers.contains_key(w))
                .count() as u32;
            let (score, tier) = self.world.traders.get(&f.wallet).copied().unwrap_or((Ratio::ZERO, Ratio::lit(5, 1)));
            let trader_position = match tracked {
                Some(p) => p.size.fixed(),
                // Not in a snapshot yet: the fill says what the position became.
                None => f.end_position().map(|x| x.fixed()).unwrap_or(Fixed::ZERO),
            };
            let ctx = Context {
                now,
                price,
                trader_position,
                trader_position_value: tracked.map(|p| p.value).unwrap_or(s.value_usd),
                trader_account: self.world.account_values.get(&f.wallet).copied().unwrap_or(Usd::ZERO),
                trader_score: score,
                roi_tier: tier,
                same_side_traders: same_side,
                account: &account,
            };
            match decide(&s, &ctx, &cfg, &self.params.risk) {
                Ok(Verdict::Defer(at)) => _ = self.deferred.insert((at, f), s),
                Ok(Verdict::Skip(skip)) => {
                    out.signals.push(self.skip(
                        Topic(Strategy::Entry, f.token, s.side, Some(f.wallet)),
                        skip.code,
                        skip.numbers,
                    ));
                }
                Ok(Verdict::Copy(c)) => {
                    let pricing = match c.order {
                        EntryOrderType::Market(p) => Pricing::Market(p),
                        EntryOrderType::Limit(p) => Pricing::LimitPercent(p),
                    };
                    candidates.push(Candidate::Entry {
                        strategy: Strategy::Entry,
                        token: f.token,
                        side: c.side,
                        wallet: Some(f.wallet),
                        sizer: Box::new(Sizer::Request(SizingRequest {
                            base_usd: c.base_usd,
                            token: f.token,
                            side: c.side,
                            trader_leverage: tracked.map(|p| p.leverage),
                            trader_position_value: None,
                            trader_margin_used: None,
                        })),
                        pricing,
                        price,
                        floor: cfg.min_copy_usd,
                        numbers: c.numbers,
                        attribution: vec![Attribution {
                            wallet: f.wallet,
                            cluster: self.world.clusters.get(&f.wallet).copied(),
                            weight: s.position_weight,
                        }],
                        reason: "ENTRY_COPY".into(),
                    });
                }
                Err(_) => {}
            }
        }
    }

    /// The index rebalance on its cadence (§11; decisions.md 7).
    fn index(&mut self, now: TimeMs, out: &mut Output, candidates: &mut Vec<Candidate>) {
        let every = self.params.index.rebalance_interval_hours.max(1) * HOUR_MS;
        let boundary = now - now % every;
        if self.last_rebalance.is_some_and(|b| b >= boundary) {
            return;
        }
        if self.last_rebalance.is_none() && self.world.book.is_empty() {
            return;
        }
        self.last_rebalance = Some(boundary);
        let account_value = self.world.sizing_value();
        if !account_value.is_positive() {
            return;
        }
        let Ok(raw) = targets(&self.world.book, account_value, &self.params.risk) else { return };
        let Ok(account) = self.world.account() else { return };
        // The index manages its own positions; a token another strategy holds is left to it.
        let mut holdings = BTreeMap::new();
        let mut others = BTreeSet::new();
        for (t, e) in &account.positions {
            if self.world.own.get(t).is_some_and(|p| p.origin.strategy == Strategy::Index) {
                holdings.insert(*t, *e);
            } else {
                others.insert(*t);
            }
        }
        let mut goal = BTreeMap::new();
        for (token, x) in raw {
            if others.contains(&token) {
                let nums = numbers(&[("target_usd", x.usd.fixed())]);
                out.signals.push(self.skip(
                    Topic(Strategy::Index, token, x.side, None),
                    "SKIP_TOKEN_HELD_BY_OTHER_STRATEGY",
                    nums,
                ));
                continue;
            }
            let req = SizingRequest {
                base_usd: x.usd,
                token,
                side: x.side,
                trader_leverage: Some(x.leverage),
                trader_position_value: None,
                trader_margin_used: None,
            };
            if let Ok((usd, leverage)) = size_target(&req, &self.params.risk) {
                goal.insert(token, crate::rules::index::Target { side: x.side, usd, leverage });
            }
        }
        let Ok(plan) = diff(&goal, &holdings, &self.params.index) else { return };
        for b in plan.banded {
            let side = holdings.get(&b.token).map(|e| e.side).unwrap_or(PositionSide::Long);
            out.signals.push(self.skip(
                Topic(Strategy::Index, b.token, side, None),
                "SKIP_WITHIN_BAND",
                numbers(&[("change", b.change.fixed())]),
            ));
        }
        for (token, action) in plan.actions {
            let price = match self.world.fresh(&token) {
                Some(p) => p,
                None => {
                    let side = goal.get(&token).map(|g| g.side).unwrap_or(PositionSide::Long);
                    out.signals.push(self.skip(Topic(Strategy::Index, token, side, None), "SKIP_STALE_PRICE", vec![]));
                    continue;
                }
            };
            let attribution: Vec<Attribution> = self
                .world
                .book
                .get(&token)
                .map(|l| {
                    l.contributors
                        .iter()
                        .map(|(w, x)| Attribution {
                            wallet: *w,
                            cluster: self.world.clusters.get(w).copied(),
                            weight: Ratio::new(x.checked_div(l.net_fraction).unwrap_or(Fixed::ZERO)),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let target = goal.get(&token).copied();
            let current = holdings.get(&token).copied();
            let nums = numbers(&[
                ("target_usd", target.map(|g| g.usd.fixed()).unwrap_or(Fixed::ZERO)),
                ("current_usd", current.map(|e| e.value.fixed()).unwrap_or(Fixed::ZERO)),
            ]);
            let entry = |side: PositionSide, usd: Usd, pricing: Pricing, reason: &str| Candidate::Entry {
                strategy: Strategy::Index,
                token,
                side,
                wallet: None,
                sizer: Box::new(Sizer::Clip(usd, target.map(|g| g.leverage).unwrap_or(Ratio::ONE))),
                pricing,
                price,
                floor: Usd::ZERO,
                numbers: nums.clone(),
                attribution: attribution.clone(),
                reason: reason.to_string(),
            };
            match (action, current) {
                (Action::Close, Some(e)) => candidates.push(Candidate::Exit {
                    strategy: Strategy::Index,
                    token,
                    side: e.side,
                    fraction: Ratio::ONE,
                    price,
                    reason: "rebalance".into(),
                    stop_out: false,
                }),
                (Action::Decrease(usd), Some(e)) => candidates.push(Candidate::Exit {
                    strategy: Strategy::Index,
                    token,
                    side: e.side,
                    fraction: usd.ratio_to(e.value).unwrap_or(Ratio::ONE).min(Ratio::ONE),
                    price,
                    reason: "rebalance_decrease".into(),
                    stop_out: false,
                }),
                (Action::Increase(usd), Some(e)) => {
                    let market =
                        crate::rules::index::increase_is_market(usd, e.value, &self.params.index).unwrap_or(true);
                    let pricing = if market {
                        Pricing::Market(self.params.risk.slippage_percent.get(&token))
                    } else {
                        Pricing::LimitBps(self.params.index.limit_slippage_bps.get(&token))
                    };
                    candidates.push(entry(e.side, usd, pricing, "rebalance_increase"));
                }
                (Action::Open(side, usd), _) => candidates.push(entry(
                    side,
                    usd,
                    Pricing::Market(self.params.risk.slippage_percent.get(&token)),
                    "rebalance_open",
                )),
                _ => {}
            }
        }
    }

    /// The risk module over the candidates: exits first (they free room), then
    /// entries in order, each sized against the account as the earlier ones
    /// leave it (intents in flight count until our positions reflect them).
    fn risk(&mut self, t: TimeMs, now: TimeMs, candidates: Vec<Candidate>, out: &mut Output) {
        let own = self.world.own.clone();
        self.in_flight.retain(|token, f| now < f.expires && own.get(token).copied() == f.seen);
        let Ok(mut account) = self.world.account() else { return };
        for (token, f) in &self.in_flight {
            let _ = account.add(*token, f.side, f.usd);
        }
        let (exits, entries): (Vec<_>, Vec<_>) =
            candidates.into_iter().partition(|c| matches!(c, Candidate::Exit { .. }));
        let min = self.params.risk.min_order_usd;
        for c in exits {
            let Candidate::Exit { strategy, token, side, fraction, price, reason, stop_out } = c else { continue };
            let Some(p) = self.world.own.get(&token).copied() else { continue };
            // One exit per position at a time: the first (highest-priority) wins.
            if self.exits_sent.contains_key(&token) {
                out.signals.push(self.skip(
                    Topic(strategy, token, side, p.origin.wallet),
                    "SKIP_EXIT_IN_FLIGHT",
                    vec![],
                ));
                continue;
            }
            // The position itself at the exit's price: reservations of
            // entries in flight are not ours to reduce.
            let Ok(value) = price.notional(p.size).map(Usd::abs) else { continue };
            let Ok(usd) = value.checked_mul_ratio(fraction) else { continue };
            let nums =
                numbers(&[("fraction", fraction.fixed()), ("position_usd", value.fixed()), ("price", price.fixed())]);
            let kind = match reduction(value, usd, min) {
                Ok(Reduction::Full) => IntentKind::Close,
                Ok(Reduction::Part(_)) => IntentKind::Decrease,
                _ => {
                    out.signals.push(self.skip(
                        Topic(strategy, token, side, p.origin.wallet),
                        "RISK_BELOW_MINIMUM",
                        nums,
                    ));
                    if value < min {
                        self.unsellable.insert(token, p);
                    }
                    continue;
                }
            };
            let size = if kind == IntentKind::Close {
                p.size.abs()
            } else {
                // Never more than the position (a truncated half of a
                // truncated half must not leave dust behind).
                match usd.fixed().checked_mul_div(Fixed::ONE, price.fixed(), crate::model::Rounding::TowardZero) {
                    Ok(s) => crate::model::Size::new(s).min(p.size.abs()),
                    Err(_) => continue,
                }
            };
            out.signals.push(self.signal(Topic(strategy, token, side, p.origin.wallet), Decision::Exit, &reason, nums));
            out.intents.push(OrderIntent {
                id: IntentId::derive(strategy, token, t, kind),
                time_ms: t,
                strategy,
                token,
                kind,
                side: Side::opening(side).opposite(),
                size,
                price,
                order_type: OrderType::Market { max_slippage_percent: self.params.risk.slippage_percent.get(&token) },
                reduce_only: true,
                leverage: p.leverage,
                reason: reason.clone(),
                attribution: p
                    .origin
                    .wallet
                    .map(|w| vec![Attribution { wallet: w, cluster: None, weight: Ratio::ONE }])
                    .unwrap_or_default(),
            });
            let _ = account.reduce(token, if kind == IntentKind::Close { value } else { usd });
            self.exits_sent.insert(token, (now + self.retry_ms(), Some(p)));
            if stop_out {
                let until = now + self.params.exits.reentry_cooldown_hours * HOUR_MS;
                self.cooldowns.insert((token, side), until);
            }
        }
        self.cooldowns.retain(|_, until| now < *until);
        for c in entries {
            let Candidate::Entry {
                strategy,
                token,
                side,
                wallet,
                sizer,
                pricing,
                price,
                floor,
                mut numbers,
                attribution,
                reason,
            } = c
            else {
                continue;
            };
            if let Some(halt) = self.world.halts.first() {
                out.signals.push(self.skip(Topic(strategy, token, side, wallet), halt.code(), numbers));
                continue;
            }
            let risk = &self.params.risk;
            if let Some(tripped) =
                self.breakers.tripped(now, risk.drawdown_halt_fraction, risk.daily_loss_limit_fraction)
            {
                let (base, value) = match tripped {
                    Tripped::Drawdown { peak, value } => (("peak_usd", peak), value),
                    Tripped::DailyLoss { day_start, value } => (("day_start_usd", day_start), value),
                };
                numbers.push((base.0.into(), base.1.fixed()));
                numbers.push(("account_usd".into(), value.fixed()));
                numbers.sort();
                out.signals.push(self.skip(Topic(strategy, token, side, wallet), tripped.code(), numbers));
                continue;
            }
            if self.exits_sent.contains_key(&token) {
                out.signals.push(self.skip(Topic(strategy, token, side, wallet), "SKIP_EXIT_IN_FLIGHT", numbers));
                continue;
            }
            if let Some(until) = self.cooldowns.get(&(token, side)) {
                numbers.push(("cooldown_until_ms".into(), Fixed::from_int(*until as i64)));
                numbers.sort();
                out.signals.push(self.skip(Topic(strategy, token, side, wallet), "SKIP_REENTRY_COOLDOWN", numbers));
                continue;
            }
            let sized: Result<(Sizing, Ratio), _> = match *sizer {
                Sizer::Request(req) => size_entry(&req, &account, &self.params.risk).map(|s| (s, s.effective_leverage)),
                Sizer::Clip(usd, leverage) => {
                    clip(token, side, usd, &account, &self.params.risk).map(|s| (s, leverage))
                }
            };
            let (s, leverage) = match sized {
                Ok(x) => x,
                Err(e) => {
                    let code = match e {
                        crate::rules::risk::RiskError::NonPositiveAccount(_) => "RISK_NO_ACCOUNT",
                        crate::rules::risk::RiskError::NonPositiveBase(_) => "SKIP_SIZE_ZERO",
                        _ => "RISK_ERROR",
                    };
                    out.signals.push(self.skip(Topic(strategy, token, side, wallet), code, numbers));
                    continue;
                }
            };
            numbers.extend(s.numbers());
            if s.resolved_leverage == Ratio::ZERO {
                numbers.push(("target_leverage".into(), leverage.fixed()));
            }
            numbers.sort();
            if let Some(r) = s.refusal {
                out.signals.push(self.skip(Topic(strategy, token, side, wallet), r.code(), numbers));
                continue;
            }
            if s.final_usd < floor {
                out.signals.push(self.skip(Topic(strategy, token, side, wallet), "SKIP_SIZE_TOO_SMALL", numbers));
                continue;
            }
            // Rounded down: the order's notional never exceeds what the risk module allowed.
            let Ok(size) =
                s.final_usd.fixed().checked_mul_div(Fixed::ONE, price.fixed(), crate::model::Rounding::TowardZero)
            else {
                continue;
            };
            let size = crate::model::Size::new(size);
            let order_side = Side::opening(side);
            let order_type = match pricing {
                Pricing::Market(p) => OrderType::Market { max_slippage_percent: p },
                Pricing::LimitPercent(p) => {
                    OrderType::Limit { price: limit_price(price, order_side, p, 100), tif: TimeInForce::Gtc }
                }
                Pricing::LimitBps(b) => {
                    OrderType::Limit { price: limit_price(price, order_side, b, 10_000), tif: TimeInForce::Gtc }
                }
            };
            let kind = if account.positions.contains_key(&token) { IntentKind::Increase } else { IntentKind::Open };
            out.signals.push(self.signal(Topic(strategy, token, side, wallet), Decision::Execute, "EXECUTE", numbers));
            out.intents.push(OrderIntent {
                id: IntentId::derive(strategy, token, t, kind),
                time_ms: t,
                strategy,
                token,
                kind,
                side: order_side,
                size,
                price,
                order_type,
                reduce_only: false,
                leverage,
                reason: reason.clone(),
                attribution: attribution.clone(),
            });
            // The protective stop that rests on the venue once the entry fills.
            // An increase's stop is the whole position's, sent by `protect`
            // once the increase shows in our position (the old one covers
            // the rest meanwhile).
            if kind == IntentKind::Open
                && let Ok(stop) = stop_price(price, side, &self.params.exits)
            {
                self.venue_stops.insert(token, VenueStop { side, trigger: stop, size });
                out.intents.push(OrderIntent {
                    id: IntentId::derive(strategy, token, t, IntentKind::StopLoss),
                    time_ms: t,
                    strategy,
                    token,
                    kind: IntentKind::StopLoss,
                    side: order_side.opposite(),
                    size,
                    price,
                    order_type: OrderType::StopMarket { trigger_price: stop },
                    reduce_only: true,
                    leverage,
                    reason: "stop_loss".into(),
                    attribution,
                });
            }
            let _ = account.add(token, side, s.final_usd);
            let expires = now + self.retry_ms();
            let seen = self.world.own.get(&token).copied();
            let f = self.in_flight.entry(token).or_insert(InFlight { side, usd: Usd::ZERO, expires, seen });
            f.usd = f.usd.checked_add(s.final_usd).unwrap_or(f.usd);
        }
    }

    /// Keeps one protective stop per position on the venue, covering the
    /// whole position at the monitor's level (strategy-rules §10.1, §13.1):
    /// re-sent when the position's size or side changes (an increase filled,
    /// a partial exit) and when the level tightens by at least
    /// [`STOP_MOVE_MIN_BPS`] (the trailing stop ratcheted). The executor
    /// replaces the position's older stop with the newer one.
    fn protect(&mut self, t: TimeMs, out: &mut Output) {
        let in_flight = &self.in_flight;
        let own = &self.world.own;
        self.venue_stops.retain(|token, _| own.contains_key(token) || in_flight.contains_key(token));
        let positions: Vec<OwnPosition> = self.world.own.values().copied().collect();
        for p in positions {
            let Some(side) = p.side() else { continue };
            if self.exits_sent.contains_key(&p.token) || self.unsellable.contains_key(&p.token) {
                continue;
            }
            let (Some(m), Some(price)) = (self.monitors.get(&p.token), self.world.marks.get(&p.token).copied()) else {
                continue;
            };
            let Ok(level) = m.protective_stop(&self.params.exits) else { continue };
            // A level the price has already crossed is the monitor's to act
            // on (or the price is stale): a stop there would fire at once.
            let below = match side {
                PositionSide::Long => level < price,
                PositionSide::Short => level > price,
            };
            if !below {
                continue;
            }
            let size = p.size.abs();
            if let Some(old) = self.venue_stops.get(&p.token)
                && old.side == side
                && old.size == size
                && !moved_enough(side, old.trigger, level)
            {
                continue;
            }
            self.venue_stops.insert(p.token, VenueStop { side, trigger: level, size });
            let strategy = p.origin.strategy;
            out.intents.push(OrderIntent {
                id: IntentId::derive(strategy, p.token, t, IntentKind::StopLoss),
                time_ms: t,
                strategy,
                token: p.token,
                kind: IntentKind::StopLoss,
                side: Side::opening(side).opposite(),
                size,
                price,
                order_type: OrderType::StopMarket { trigger_price: level },
                reduce_only: true,
                leverage: p.leverage,
                reason: "stop_loss".into(),
                attribution: p
                    .origin
                    .wallet
                    .map(|w| vec![Attribution { wallet: w, cluster: None, weight: Ratio::ONE }])
                    .unwrap_or_default(),
            });
        }
    }

    /// How long an intent counts as in flight: the limit timeout and one poll.
    fn retry_ms(&self) -> u64 {
        (self.params.execution.limit_order_timeout_secs + self.params.execution.fill_poll_interval_secs) * SECOND_MS
    }
}

fn exit_candidate(p: &OwnPosition, side: PositionSide, e: &Exit) -> Candidate {
    Candidate::Exit {
        strategy: p.origin.strategy,
        token: p.token,
        side,
        fraction: e.fraction,
        price: e.price,
        reason: e.reason.code(),
        stop_out: e.reason.is_stop_out(),
    }
}

/// Whether `level` is tighter than the resting `trigger` by at least
/// [`STOP_MOVE_MIN_BPS`] of it (a stop is only ever tightened).
fn moved_enough(side: PositionSide, trigger: Price, level: Price) -> bool {
    let Ok(step) = trigger.fixed().checked_mul_div(
        Fixed::from_int(STOP_MOVE_MIN_BPS),
        Fixed::from_int(10_000),
        crate::model::Rounding::HalfEven,
    ) else {
        return false;
    };
    let gap = match side {
        PositionSide::Long => level.fixed().checked_sub(trigger.fixed()),
        PositionSide::Short => trigger.fixed().checked_sub(level.fixed()),
    };
    gap.is_ok_and(|g| g >= step)
}

/// A limit `offset / scale` away from `price`: above for a buy, below for a sell.
fn limit_price(price: Price, side: Side, offset: Ratio, scale: i64) -> Price {
    let f = offset.fixed().checked_div_int(scale).unwrap_or(Fixed::ZERO);
    let k = match side {
        Side::Buy => Fixed::ONE.checked_add(f),
        Side::Sell => Fixed::ONE.checked_sub(f),
    };
    k.and_then(|k| price.fixed().checked_mul(k)).map(Price::new).unwrap_or(price)
}
