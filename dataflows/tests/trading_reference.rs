//! The trading dataflow against a plain-Rust recomputation. The intelligence
//! views are given here directly (their own test compares them with their
//! reference), so every random step can move what the strategies read: tracked
//! wallets' fills and snapshots, marks and stale prices, the clock, our own
//! positions and account, and the wallets' tiers, scores, allocations,
//! clusters and blacklisting. After every step the dataflow's consensus and
//! index book equal the reference's from-scratch recomputation, and the
//! signals and intents of the whole run equal those of a desk stepped by the
//! reference (facts recomputed and diffed at every time, deadlines included).
//!
//! What is shared: the rule functions and the desk's sequential logic. What is
//! not: the feeder, the joins and reductions behind votes and the book, the
//! operator, and how its deadlines are scheduled.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use dataflows::feed::{CONSENSUS_CADENCE_MS, Feeder, Input, Sessions, UNKNOWN_LEVERAGE};
use dataflows::intel::Views;
use dataflows::model::{
    AccountValue, Address, Fill, FillAction, Halt, MarginMode, MarkPrice, OrderIntent, Origin, OwnPosition,
    PositionSide, PositionSnapshot, Price, PriceStatus, Ratio, Side, Signal, Size, Strategy, Token, TxHash, Usd,
};
use dataflows::rules::allocation::Weights;
use dataflows::rules::consensus::{TokenConsensus, Vote, token_consensus};
use dataflows::rules::eligibility::Tier;
use dataflows::rules::index::{BookLine, book_line, contribution};
use dataflows::rules::metrics::Style;
use dataflows::rules::score::Score;
use dataflows::rules::trader::{Pace, Standing, TrackedPosition};
use dataflows::trading::desk::{Desk, Fact};
use dataflows::trading::{self, Params, trading};
use differential_dataflow::input::InputSession;
use proptest::prelude::*;

const T0: u64 = 1_750_000_000_000;
const WALLETS: u8 = 6;
const TOKENS: [&str; 4] = ["BTC", "ETH", "SOL", "HYPE"];

fn addr(n: u8) -> Address {
    Address::from_bytes([n + 1; 20])
}
fn tok(i: u8) -> Token {
    Token::parse(TOKENS[i as usize % TOKENS.len()]).unwrap()
}

/// A change of the intelligence views (upserts; `None` removes).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Intel {
    Tier(Address, Option<Tier>),
    Score(Address, Option<(Ratio, Ratio)>),
    Allocation(Address, Option<Ratio>),
    Cluster(Address, Option<Address>),
    Blacklist(Address, bool),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Feed(Input),
    Intel(Intel),
}

fn standing(score: Ratio, tier: Ratio) -> Standing {
    let zero = Ratio::ZERO;
    Standing {
        pace: Pace { trades_per_day: zero, avg_hold_hours: zero, hours_since_last_trade: zero, style: Style::Swing },
        roi_7d: zero,
        roi_30d: zero,
        roi_90d: zero,
        score: Score { final_score: score, roi_tier: tier, ..Score::default() },
        gate: None,
    }
}

/// A random history: per step a time and its changes.
fn history(seed: u64, len: usize) -> Vec<(u64, Vec<Step>)> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n.max(1)
    };
    let mut t = T0;
    let mut pos: BTreeMap<(u8, u8), (i64, i64)> = BTreeMap::new(); // size (units), entry
    let mut marks: BTreeMap<u8, i64> = (0..4).map(|k| (k, [60_000, 3_000, 150, 30][k as usize])).collect();
    let mut trade = 0u64;
    let mut out = Vec::new();
    for _ in 0..len {
        t += [1_000, 60_000, 900_000, 3_600_000, 4 * 3_600_000][next(5) as usize] + next(1_000);
        let mut steps = Vec::new();
        for _ in 0..1 + next(4) {
            let w = next(u64::from(WALLETS)) as u8;
            let k = next(4) as u8;
            match next(100) {
                0..30 => {
                    let (size, entry) = pos.get(&(w, k)).copied().unwrap_or((0, 0));
                    let px = marks[&k];
                    let units = [1, 2, 5, 20, 200][next(5) as usize] * if k == 0 { 1 } else { 10 };
                    let delta = match (size, next(3)) {
                        (0, _) => {
                            if next(2) == 0 {
                                units
                            } else {
                                -units
                            }
                        }
                        (s, 0) => -s,                                 // close
                        (s, 1) => s.signum() * units,                 // add
                        (s, _) => -s.signum() * (s.abs() / 2).max(1), // reduce (or close)
                    };
                    trade += 1;
                    let f = Fill {
                        time_ms: t - next(30 * 60_000),
                        wallet: addr(w),
                        token: tok(k),
                        side: if delta > 0 { Side::Buy } else { Side::Sell },
                        price: Price::from_int(px),
                        size: Size::from_int(delta.abs()),
                        start_position: Size::from_int(size),
                        closed_pnl: Usd::ZERO,
                        fee: Usd::ZERO,
                        tx_hash: TxHash::default(),
                        trade_id: trade,
                        liquidation: false,
                    };
                    let end = size + delta;
                    let entry = if size == 0 || size.signum() != end.signum() { px } else { entry };
                    if end == 0 {
                        pos.remove(&(w, k))
                    } else {
                        pos.insert((w, k), (end, entry))
                    };
                    steps.push(Step::Feed(Input::Fill(f)));
                }
                30..40 => {
                    for (&(_, kk), &(size, entry)) in pos.range((w, 0)..=(w, u8::MAX)) {
                        steps.push(Step::Feed(Input::Position(PositionSnapshot {
                            time_ms: t,
                            wallet: addr(w),
                            token: tok(kk),
                            size: Size::from_int(size),
                            entry_price: Price::from_int(entry),
                            position_value: Usd::from_int(size.abs() * marks[&kk]),
                            leverage: Ratio::from_int(1 + next(20) as i64),
                            margin_mode: MarginMode::Isolated,
                            liquidation_price: None,
                            margin_used: Usd::ZERO,
                            unrealized_pnl: Usd::ZERO,
                        })));
                    }
                    let value = Usd::from_int(20_000 + next(2_000_000) as i64);
                    steps.push(Step::Feed(Input::Account(AccountValue { time_ms: t, wallet: addr(w), value })));
                }
                40..55 => {
                    let m = marks.get_mut(&k).unwrap();
                    *m = (*m * (97 + next(7) as i64) / 100).max(1);
                    steps.push(Step::Feed(Input::Mark(MarkPrice {
                        time_ms: t,
                        token: tok(k),
                        price: Price::from_int(*m),
                    })));
                }
                55..58 => steps.push(Step::Feed(Input::PriceStatus(PriceStatus {
                    time_ms: t,
                    token: tok(k),
                    stale: next(2) == 0,
                }))),
                58..66 => steps.push(Step::Feed(Input::Now(t))),
                66..74 => {
                    let px = marks[&k];
                    if next(3) == 0 {
                        steps.push(Step::Feed(Input::OwnAccount {
                            time_ms: t,
                            value: Usd::from_int(50_000 + next(500_000) as i64),
                        }));
                    } else {
                        let units = (1 + next(40) as i64) * if k == 0 { 1 } else { 10 };
                        let p = OwnPosition {
                            time_ms: t,
                            token: tok(k),
                            size: Size::from_int(if next(2) == 0 { units } else { -units }),
                            entry_price: Price::from_int(px),
                            liquidation_price: Some(Price::from_int(px * (70 + next(60) as i64) / 100)),
                            leverage: Ratio::from_int(3),
                            opened_at: t - next(80) * 3_600_000,
                            origin: Origin { strategy: Strategy::ALL[next(3) as usize], wallet: Some(addr(w)) },
                        };
                        steps.push(Step::Feed(Input::OwnPosition(p)));
                        steps.push(Step::Feed(Input::OwnAccount { time_ms: t, value: Usd::from_int(300_000) }));
                    }
                }
                74..80 => steps.push(Step::Intel(Intel::Tier(
                    addr(w),
                    [None, Some(Tier::Primary), Some(Tier::Secondary)][next(3) as usize],
                ))),
                80..86 => steps.push(Step::Intel(Intel::Score(
                    addr(w),
                    (next(5) > 0).then(|| (Ratio::lit(next(100) as i64, 2), Ratio::lit(75, 2))),
                ))),
                86..92 => steps.push(Step::Intel(Intel::Allocation(
                    addr(w),
                    (next(4) > 0).then(|| Ratio::lit(next(40) as i64, 2)),
                ))),
                92..96 => steps.push(Step::Intel(Intel::Cluster(addr(w), (next(3) > 0).then(|| addr(next(3) as u8))))),
                96 => steps.push(Step::Feed(Input::Halt {
                    time_ms: t,
                    halt: [Halt::KillSwitch, Halt::Paused][next(2) as usize],
                    active: next(2) == 0,
                })),
                _ => steps.push(Step::Intel(Intel::Blacklist(addr(w), next(2) == 0))),
            }
        }
        out.push((t, steps));
    }
    out
}

/// The intelligence views as sessions the test drives.
struct IntelSessions {
    tiers: InputSession<u64, (Address, Tier), isize>,
    standings: InputSession<u64, (Address, Standing), isize>,
    allocations: InputSession<u64, (Address, Weights), isize>,
    clusters: InputSession<u64, (Address, Address), isize>,
    blacklist: InputSession<u64, Address, isize>,
    metrics: InputSession<u64, ((Address, u64), dataflows::rules::metrics::WindowMetrics), isize>,
    pairs: InputSession<u64, dataflows::intel::clusters::CorrelatedPair, isize>,
}

impl Default for IntelSessions {
    fn default() -> Self {
        Self {
            tiers: InputSession::new(),
            standings: InputSession::new(),
            allocations: InputSession::new(),
            clusters: InputSession::new(),
            blacklist: InputSession::new(),
            metrics: InputSession::new(),
            pairs: InputSession::new(),
        }
    }
}

impl IntelSessions {
    fn advance_to(&mut self, t: u64) {
        self.tiers.advance_to(t);
        self.tiers.flush();
        self.standings.advance_to(t);
        self.standings.flush();
        self.allocations.advance_to(t);
        self.allocations.flush();
        self.clusters.advance_to(t);
        self.clusters.flush();
        self.blacklist.advance_to(t);
        self.blacklist.flush();
        self.metrics.advance_to(t);
        self.metrics.flush();
        self.pairs.advance_to(t);
        self.pairs.flush();
    }
}

/// The intelligence rows as the test holds them (the reference reads these too).
#[derive(Debug, Clone, Default)]
struct IntelState {
    tiers: BTreeMap<Address, Tier>,
    scores: BTreeMap<Address, (Ratio, Ratio)>,
    allocations: BTreeMap<Address, Ratio>,
    clusters: BTreeMap<Address, Address>,
    blacklist: BTreeSet<Address>,
}

fn weights(w: Ratio) -> Weights {
    Weights { raw: w, capped: w, final_weight: w }
}

impl IntelState {
    fn apply(&mut self, c: &Intel, s: &mut IntelSessions, at: u64) {
        fn upsert<K: Ord + Copy, V: Copy + PartialEq, R: differential_dataflow::Data>(
            map: &mut BTreeMap<K, V>,
            k: K,
            v: Option<V>,
            session: &mut InputSession<u64, R, isize>,
            row: impl Fn(K, V) -> R,
            at: u64,
        ) {
            let old = match v {
                Some(v) => map.insert(k, v),
                None => map.remove(&k),
            };
            if old == v {
                return;
            }
            if let Some(o) = old {
                session.update_at(row(k, o), at, -1);
            }
            if let Some(n) = v {
                session.update_at(row(k, n), at, 1);
            }
        }
        match c {
            Intel::Tier(w, t) => upsert(&mut self.tiers, *w, *t, &mut s.tiers, |w, t| (w, t), at),
            Intel::Score(w, x) => {
                upsert(&mut self.scores, *w, *x, &mut s.standings, |w, (a, b)| (w, standing(a, b)), at)
            }
            Intel::Allocation(w, x) => {
                upsert(&mut self.allocations, *w, *x, &mut s.allocations, |w, x| (w, weights(x)), at)
            }
            Intel::Cluster(w, c) => upsert(&mut self.clusters, *w, *c, &mut s.clusters, |w, c| (w, c), at),
            Intel::Blacklist(w, on) => {
                let changed = if *on { self.blacklist.insert(*w) } else { self.blacklist.remove(w) };
                if changed {
                    s.blacklist.update_at(*w, at, if *on { 1 } else { -1 });
                }
            }
        }
    }
}

/// The reference world: every input applied directly.
#[derive(Debug, Clone, Default)]
struct Reference {
    tracked: BTreeMap<(Address, Token), TrackedPosition>,
    first_seen: BTreeMap<(Address, Token), (PositionSide, u64)>,
    last_action: BTreeMap<(Address, Token), (u64, PositionSide)>,
    snapshot: BTreeMap<Address, BTreeSet<Token>>,
    accounts: BTreeMap<Address, Usd>,
    marks: BTreeMap<Token, Price>,
    stale: BTreeSet<Token>,
    now: Option<u64>,
    own: BTreeMap<Token, OwnPosition>,
    own_reported: BTreeSet<Token>,
    own_account: Option<Usd>,
    halts: BTreeSet<Halt>,
    fills_now: Vec<Fill>,
}

impl Reference {
    fn apply(&mut self, i: &Input) {
        match i {
            Input::Fill(f) => {
                self.fills_now.push(f.clone());
                let key = (f.wallet, f.token);
                if self.last_action.get(&key).is_some_and(|(t, _)| *t > f.time_ms) {
                    return;
                }
                let end = f.end_position().unwrap();
                let Some(side) = PositionSide::of(end) else {
                    self.tracked.remove(&key);
                    self.first_seen.remove(&key);
                    return;
                };
                self.last_action.insert(key, (f.time_ms, side));
                let old = self.tracked.get(&key).copied().filter(|r| r.side == side);
                let entry = match (f.action(), old) {
                    (FillAction::Add, Some(o)) => {
                        let (a, b) = (o.size.abs().fixed(), f.size.fixed());
                        let num = o
                            .entry_price
                            .fixed()
                            .checked_mul(a)
                            .unwrap()
                            .checked_add(f.price.fixed().checked_mul(b).unwrap())
                            .unwrap();
                        Price::new(num.checked_div(a.checked_add(b).unwrap()).unwrap())
                    }
                    (FillAction::Reduce, Some(o)) => o.entry_price,
                    _ => f.price,
                };
                if old.is_none() {
                    self.first_seen.insert(key, (side, f.time_ms));
                }
                self.tracked.insert(
                    key,
                    TrackedPosition {
                        token: f.token,
                        side,
                        size: end,
                        value: f.price.notional(end).unwrap().abs(),
                        entry_price: entry,
                        leverage: old.map(|o| o.leverage).unwrap_or(UNKNOWN_LEVERAGE),
                        margin_used: old.map(|o| o.margin_used).unwrap_or(Usd::ZERO),
                        last_action: f.time_ms,
                    },
                );
            }
            Input::Position(p) => {
                let key = (p.wallet, p.token);
                let side = p.side().unwrap();
                self.snapshot.entry(p.wallet).or_default().insert(p.token);
                if self.first_seen.get(&key).is_none_or(|(s, _)| *s != side) {
                    self.first_seen.insert(key, (side, p.time_ms));
                }
                let last_action = match (self.last_action.get(&key), self.first_seen.get(&key)) {
                    (Some((t, s)), _) if *s == side => *t,
                    (_, Some((s, t))) if *s == side => *t,
                    _ => 0,
                };
                self.tracked.insert(
                    key,
                    TrackedPosition {
                        token: p.token,
                        side,
                        size: p.size,
                        value: p.position_value,
                        entry_price: p.entry_price,
                        leverage: p.leverage,
                        margin_used: p.margin_used,
                        last_action,
                    },
                );
            }
            Input::Account(a) => {
                let reported = self.snapshot.remove(&a.wallet).unwrap_or_default();
                let gone: Vec<_> =
                    self.tracked.keys().filter(|(w, t)| *w == a.wallet && !reported.contains(t)).copied().collect();
                for k in gone {
                    self.tracked.remove(&k);
                    self.first_seen.remove(&k);
                }
                self.accounts.insert(a.wallet, a.value);
            }
            Input::Mark(m) => _ = self.marks.insert(m.token, m.price),
            Input::PriceStatus(p) => {
                if p.stale {
                    self.stale.insert(p.token);
                } else {
                    self.stale.remove(&p.token);
                }
            }
            Input::Now(t) => self.now = Some(*t),
            Input::OwnPosition(p) => {
                self.own_reported.insert(p.token);
                self.own.insert(p.token, OwnPosition { time_ms: 0, ..*p });
            }
            Input::OwnAccount { value, .. } => {
                let reported = std::mem::take(&mut self.own_reported);
                self.own.retain(|t, _| reported.contains(t));
                self.own_account = Some(*value);
            }
            Input::Halt { halt, active, .. } => {
                if *active {
                    self.halts.insert(*halt);
                } else {
                    self.halts.remove(halt);
                }
            }
            _ => {}
        }
    }

    fn consensus(
        &self,
        intel: &IntelState,
        cfg: &dataflows::config::ConsensusConfig,
    ) -> BTreeMap<Token, TokenConsensus> {
        let Some(now) = self.now else { return BTreeMap::new() };
        let clock = now - now % CONSENSUS_CADENCE_MS;
        let mut votes: BTreeMap<Token, Vec<Vote>> = BTreeMap::new();
        for ((w, token), p) in &self.tracked {
            let (Some(_), Some((score, _)), Some(account)) =
                (intel.tiers.get(w), intel.scores.get(w), self.accounts.get(w))
            else {
                continue;
            };
            votes.entry(*token).or_default().push(Vote {
                wallet: *w,
                cluster: intel.clusters.get(w).copied().unwrap_or(*w),
                side: p.side,
                value: p.value,
                account_value: *account,
                entry_price: p.entry_price,
                leverage: p.leverage,
                last_action: p.last_action,
                weight: *score,
            });
        }
        votes.into_iter().map(|(t, v)| (t, token_consensus(t, &v, cfg, clock).unwrap())).collect()
    }

    fn book(&self, intel: &IntelState, copy_ratio: Ratio) -> BTreeMap<Token, BookLine> {
        let mut by_token: BTreeMap<Token, Vec<_>> = BTreeMap::new();
        for ((w, token), p) in &self.tracked {
            let (Some(weight), Some(account)) =
                (intel.allocations.get(w).filter(|x| x.is_positive()), self.accounts.get(w))
            else {
                continue;
            };
            if let Some(c) = contribution(*w, p.side, p.value, *account, p.leverage, *weight, copy_ratio).unwrap() {
                by_token.entry(*token).or_default().push(c);
            }
        }
        by_token.into_iter().map(|(t, cs)| (t, book_line(&cs).unwrap())).collect()
    }

    /// Every fact the desk reads, recomputed.
    fn facts(&self, intel: &IntelState, params: &Params) -> BTreeSet<Fact> {
        let mut f = BTreeSet::new();
        f.extend(self.marks.iter().map(|(t, p)| Fact::Mark(*t, *p)));
        f.extend(self.stale.iter().map(|t| Fact::Stale(*t)));
        f.extend(self.consensus(intel, &params.consensus).into_values().map(Fact::Consensus));
        f.extend(self.book(intel, params.risk.copy_ratio).into_iter().map(|(t, b)| Fact::Book(t, b)));
        f.extend(self.own.values().map(|p| Fact::Own(*p)));
        f.extend(self.own_account.map(Fact::OwnAccount));
        f.extend(self.tracked.iter().map(|((w, _), p)| Fact::Tracked(*w, *p)));
        f.extend(intel.scores.iter().map(|(w, (s, r))| Fact::Trader(*w, *s, *r)));
        f.extend(intel.tiers.iter().map(|(w, t)| Fact::Tier(*w, *t)));
        f.extend(self.accounts.iter().map(|(w, v)| Fact::AccountValue(*w, *v)));
        f.extend(intel.blacklist.iter().map(|w| Fact::Blacklisted(*w)));
        f.extend(intel.clusters.iter().map(|(w, c)| Fact::Cluster(*w, *c)));
        f.extend(self.halts.iter().map(|h| Fact::Halt(*h)));
        f
    }
}

type Updates<T> = Arc<Mutex<Vec<(T, u64, isize)>>>;
/// A collection's contents: each row with its multiplicity.
type Counted<T> = BTreeMap<T, isize>;
/// The consensus and book views as of one step's time.
type ViewsAt = (u64, Counted<(Token, TokenConsensus)>, Counted<(Token, BookLine)>);

#[derive(Default)]
struct Captured {
    consensus: Updates<(Token, TokenConsensus)>,
    book: Updates<(Token, BookLine)>,
    signals: Updates<Signal>,
    intents: Updates<OrderIntent>,
}

fn state_at<K: Ord + Clone>(u: &Updates<K>, t: u64) -> BTreeMap<K, isize> {
    let mut acc = BTreeMap::new();
    for (k, time, r) in u.lock().unwrap().iter() {
        if *time <= t {
            *acc.entry(k.clone()).or_insert(0) += r;
        }
    }
    acc.retain(|_, r| *r != 0);
    acc
}

fn events<K: Ord + Clone>(u: &Updates<K>) -> Vec<K> {
    let mut v: Vec<K> =
        u.lock().unwrap().iter().flat_map(|(k, _, r)| std::iter::repeat_n(k.clone(), (*r).max(0) as usize)).collect();
    v.sort();
    v
}

/// What a run reached: the strategies that decided, strong consensus rows, book lines.
#[derive(Debug, Default)]
struct Reached {
    strategies: BTreeSet<Strategy>,
    /// Gates that decided at least once.
    gates: BTreeSet<String>,
    strong: usize,
    book_lines: usize,
}

fn check(seed: u64, len: usize) -> Result<Reached, String> {
    let h = history(seed, len);
    let params = Params::default();
    let cap = Captured::default();
    let (c1, c2, c3, c4) = (cap.consensus.clone(), cap.book.clone(), cap.signals.clone(), cap.intents.clone());
    let hist = h.clone();
    let p2 = params.clone();
    // The dataflow, with the views it produced at each step.
    let mut views_at: Vec<ViewsAt> = Vec::new();
    timely::execute_directly(move |worker| {
        let mut sessions = Sessions::default();
        let mut intel = IntelSessions::default();
        let probe = timely::dataflow::ProbeHandle::<u64>::new();
        worker.dataflow::<u64, _, _>(|scope| {
            let views = Views {
                metrics: intel.metrics.to_collection(scope),
                standings: intel.standings.to_collection(scope),
                tiers: intel.tiers.to_collection(scope),
                blacklist: intel.blacklist.to_collection(scope),
                clusters: intel.clusters.to_collection(scope),
                pairs: intel.pairs.to_collection(scope),
                allocations: intel.allocations.to_collection(scope),
            };
            let accounts = sessions.account_values.to_collection(scope);
            let d = trading(&views, trading::Inputs::of(scope, &mut sessions), accounts, &p2);
            d.consensus.probe_with(&probe).inspect(move |(x, t, r)| c1.lock().unwrap().push((x.clone(), *t, *r)));
            d.book.probe_with(&probe).inspect(move |(x, t, r)| c2.lock().unwrap().push((x.clone(), *t, *r)));
            d.signals.probe_with(&probe).inspect(move |(x, t, r)| c3.lock().unwrap().push((x.clone(), *t, *r)));
            d.intents.probe_with(&probe).inspect(move |(x, t, r)| c4.lock().unwrap().push((x.clone(), *t, *r)));
        });
        let mut feeder = Feeder::default();
        let mut state = IntelState::default();
        for (t, steps) in &hist {
            for s in steps {
                match s {
                    Step::Feed(i) => feeder.apply(&mut sessions, i, *t),
                    Step::Intel(c) => state.apply(c, &mut intel, *t),
                }
            }
            feeder.advance_to(&mut sessions, t + 1);
            intel.advance_to(t + 1);
            worker.step_while(|| probe.less_than(&(t + 1)));
        }
    });
    for (t, _) in &h {
        views_at.push((*t, state_at(&cap.consensus, *t), state_at(&cap.book, *t)));
    }
    // The reference.
    let mut r = Reference::default();
    let mut intel = IntelState::default();
    let mut desk = Desk::new(params.clone());
    let mut previous: BTreeSet<Fact> = BTreeSet::new();
    let (mut signals, mut intents) = (Vec::new(), Vec::new());
    let mut dummy = IntelSessions::default();
    for ((t, steps), (_, consensus, book)) in h.iter().zip(&views_at) {
        while let Some(w) = desk.next_wakeup().filter(|w| w < t) {
            let out = desk.step(w, BTreeMap::new());
            signals.extend(out.signals);
            intents.extend(out.intents);
        }
        r.fills_now.clear();
        for s in steps {
            match s {
                Step::Feed(i) => r.apply(i),
                Step::Intel(c) => intel.apply(c, &mut dummy, *t),
            }
        }
        let want_c: BTreeMap<(Token, TokenConsensus), isize> =
            r.consensus(&intel, &params.consensus).into_iter().map(|x| (x, 1)).collect();
        if &want_c != consensus {
            return Err(format!("consensus differs at {t}:\n dataflow {consensus:?}\n reference {want_c:?}"));
        }
        let want_b: BTreeMap<(Token, BookLine), isize> =
            r.book(&intel, params.risk.copy_ratio).into_iter().map(|x| (x, 1)).collect();
        if &want_b != book {
            return Err(format!("book differs at {t}:\n dataflow {book:?}\n reference {want_b:?}"));
        }
        let facts = r.facts(&intel, &params);
        let mut changes: BTreeMap<Fact, isize> = BTreeMap::new();
        for f in previous.difference(&facts) {
            changes.insert(f.clone(), -1);
        }
        for f in facts.difference(&previous) {
            changes.insert(f.clone(), 1);
        }
        for f in &r.fills_now {
            *changes.entry(Fact::Fill(f.clone())).or_insert(0) += 1;
        }
        previous = facts;
        let out = desk.step(*t, changes);
        signals.extend(out.signals);
        intents.extend(out.intents);
    }
    signals.sort();
    intents.sort();
    let (got_s, got_i) = (events(&cap.signals), events(&cap.intents));
    if got_s != signals {
        let a: BTreeSet<_> = got_s.iter().collect();
        let b: BTreeSet<_> = signals.iter().collect();
        return Err(format!(
            "signals differ: dataflow only {:?}\nreference only {:?}",
            a.difference(&b).take(3).collect::<Vec<_>>(),
            b.difference(&a).take(3).collect::<Vec<_>>()
        ));
    }
    if got_i != intents {
        return Err(format!("intents differ: {} vs {}", got_i.len(), intents.len()));
    }
    let mut reached = Reached::default();
    reached.strategies.extend(got_s.iter().map(|s| s.strategy));
    reached.gates.extend(got_s.iter().map(|s| s.gate.clone()));
    for (_, c, b) in &views_at {
        reached.strong += c.keys().filter(|(_, x)| x.verdict.side().is_some()).count();
        reached.book_lines += b.len();
    }
    Ok(reached)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn incremental_equals_recompute_after_every_step(seed in any::<u64>(), len in 20usize..90) {
        if let Err(e) = check(seed, len) {
            prop_assert!(false, "seed {seed} len {len}: {e}");
        }
    }
}

/// The histories are not trivial: across a few seeds every strategy decides
/// something and the views hold strong consensus and book lines.
#[test]
fn the_histories_reach_every_strategy() {
    let mut all = Reached::default();
    for seed in 1..6 {
        let r = check(seed, 120).unwrap();
        all.strategies.extend(r.strategies);
        all.gates.extend(r.gates);
        all.strong += r.strong;
        all.book_lines += r.book_lines;
    }
    assert_eq!(all.strategies.len(), 3, "{all:?}");
    assert!(all.strong > 0 && all.book_lines > 0, "{all:?}");
    assert!(all.gates.contains("SKIP_PAUSED") || all.gates.contains("SKIP_KILL_SWITCH"), "{:?}", all.gates);
}
