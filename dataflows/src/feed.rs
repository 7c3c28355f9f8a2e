//! The intelligence dataflow's inputs and the adapter that turns domain events
//! into their collections' updates. Some inputs are *upserted* — a wallet's
//! latest account value, its current positions, its label, the clock — so the
//! adapter remembers what it last inserted and retracts it (rust-stack.md
//! pitfall 6). Others are *windowed*: a fill is in the 7/30/90-day windows
//! while its own time is within W of now, a liquidation blacklists for 14
//! days; the adapter retracts each at the exact time it leaves, as time
//! advances. (Scheduling those retractions inside the dataflow, as updates at
//! future times, keeps every pending one in the arrangements' batchers, which
//! re-sort them on every epoch: measured 5 ms per fill at 200 wallets.)
//! The adapter also detects liquidations: a position that vanished from an
//! account snapshot without a Close/Reduce fill since the previous one (§5).

use std::collections::{BTreeMap, BTreeSet};

use differential_dataflow::input::InputSession;

use crate::model::{
    AccountValue, Address, Fill, FillAction, FundingRate, Halt, LeaderboardRow, MINUTE_MS, MarginMode, MarkPrice,
    OwnPosition, PositionSide, PositionSnapshot, Price, PriceStatus, Size, TimeMs, Token, Usd,
};
use crate::rules::eligibility::{BLACKLIST_MS, vanished_by_liquidation};
use crate::rules::trader::{Holding, TrackedPosition};

use crate::intel::allocations::next_cadence;
use crate::intel::metrics::{DAY_MS, WINDOWS_DAYS};

/// One input of the intelligence dataflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Fill(Fill),
    /// A fill its source withdrew (a correction); it leaves every window.
    FillRetracted(Fill),
    /// One position of an account snapshot; the snapshot's positions come
    /// before its account value, at the same time.
    Position(PositionSnapshot),
    /// The account value that closes a snapshot: positions of the wallet not
    /// reported at this time are gone.
    Account(AccountValue),
    Leaderboard(LeaderboardRow),
    /// The scoring clock: trader intelligence's "now" (recency, open holds),
    /// ticked on the scoring cadence.
    Tick(TimeMs),
    /// A token's mark price.
    Mark(MarkPrice),
    /// The price feed says a token's price went stale, or recovered.
    PriceStatus(PriceStatus),
    /// The trading clock: the strategies' "now" (confirmation windows,
    /// deferrals, time stops, rebalances), ticked at least every minute.
    Now(TimeMs),
    /// One of our own positions; our snapshot's positions come before `OwnAccount`.
    OwnPosition(OwnPosition),
    /// Our account value, closing our snapshot: positions not reported are gone.
    OwnAccount {
        time_ms: TimeMs,
        value: Usd,
    },
    /// A token's hourly funding rate: the executor charges it on our
    /// positions; no view depends on it.
    Funding(FundingRate),
    /// An operator halt of new entries set (`active`) or lifted.
    Halt {
        time_ms: TimeMs,
        halt: Halt,
        active: bool,
    },
}

impl Input {
    /// The input's own (event) time.
    pub fn time(&self) -> TimeMs {
        match self {
            Input::Fill(f) | Input::FillRetracted(f) => f.time_ms,
            Input::Position(p) => p.time_ms,
            Input::Account(a) => a.time_ms,
            Input::Leaderboard(r) => r.time_ms,
            Input::Tick(t) | Input::Now(t) => *t,
            Input::Mark(m) => m.time_ms,
            Input::PriceStatus(p) => p.time_ms,
            Input::OwnPosition(p) => p.time_ms,
            Input::OwnAccount { time_ms, .. } => *time_ms,
            Input::Funding(f) => f.time_ms,
            Input::Halt { time_ms, .. } => *time_ms,
        }
    }
}

/// A leaderboard account value keyed by (wallet, window days): (time, value).
pub type WindowedSnapshot = ((Address, u64), (TimeMs, Usd));

/// The input sessions of one worker.
pub struct Sessions {
    /// Fills keyed by (wallet, window days), while in the window.
    pub window_fills: InputSession<u64, ((Address, u64), Fill), isize>,
    pub holdings: InputSession<u64, (Address, Holding), isize>,
    pub account_values: InputSession<u64, (Address, Usd), isize>,
    /// Leaderboard account values keyed by (wallet, window days), while in the window.
    pub window_snapshots: InputSession<u64, WindowedSnapshot, isize>,
    pub labels: InputSession<u64, (Address, String), isize>,
    /// Liquidations (fills and detected), for 14 days each.
    pub blacklist_events: InputSession<u64, (Address, TimeMs), isize>,
    pub clock: InputSession<u64, TimeMs, isize>,
    /// The 30- and 90-day windowed fills and the holdings as of the latest
    /// cadence boundary: changes are released at the next boundary. The copy
    /// clusters read these (the rules recompute them daily), so a fill costs
    /// them nothing and a cadence's changes arrive as one batch.
    pub sampled_fills: InputSession<u64, ((Address, u64), Fill), isize>,
    pub sampled_holdings: InputSession<u64, (Address, Holding), isize>,
    /// Tracked wallets' current positions, as the strategies read them.
    pub tracked: InputSession<u64, (Address, TrackedPosition), isize>,
    /// Tracked wallets' fills as events (inserted when they arrive).
    pub tracked_fills: InputSession<u64, Fill, isize>,
    pub marks: InputSession<u64, (Token, Price), isize>,
    /// Tokens whose price is stale.
    pub stale: InputSession<u64, Token, isize>,
    /// The trading clock.
    pub now: InputSession<u64, TimeMs, isize>,
    /// The trading clock floored to the consensus cadence (freshness decays in
    /// 15-minute steps, seed 000's recompute schedule).
    pub consensus_clock: InputSession<u64, TimeMs, isize>,
    /// Our positions by token (their `time_ms` zeroed: a re-reported position is not a change).
    pub own_positions: InputSession<u64, OwnPosition, isize>,
    pub own_account: InputSession<u64, Usd, isize>,
    /// Operator halts of new entries in force.
    pub halts: InputSession<u64, Halt, isize>,
}

/// The leverage of a position known only from fills: the most the risk
/// module trades at, so an unknown leverage is never taken as low.
pub const UNKNOWN_LEVERAGE: crate::model::Ratio = crate::model::Ratio::from_int(5);

/// How often consensus freshness moves (seed 000 recomputes consensus every 15 minutes).
pub const CONSENSUS_CADENCE_MS: u64 = 15 * MINUTE_MS;

impl Default for Sessions {
    fn default() -> Self {
        Sessions {
            window_fills: InputSession::new(),
            holdings: InputSession::new(),
            account_values: InputSession::new(),
            window_snapshots: InputSession::new(),
            labels: InputSession::new(),
            blacklist_events: InputSession::new(),
            clock: InputSession::new(),
            sampled_fills: InputSession::new(),
            sampled_holdings: InputSession::new(),
            tracked: InputSession::new(),
            tracked_fills: InputSession::new(),
            marks: InputSession::new(),
            stale: InputSession::new(),
            now: InputSession::new(),
            consensus_clock: InputSession::new(),
            own_positions: InputSession::new(),
            own_account: InputSession::new(),
            halts: InputSession::new(),
        }
    }
}

impl Sessions {
    /// Moves every session to `t` (all must advance, or the probe never passes).
    fn advance_to(&mut self, t: u64) {
        fn go<D: differential_dataflow::Data>(s: &mut InputSession<u64, D, isize>, t: u64) {
            s.advance_to(t);
            s.flush();
        }
        go(&mut self.window_fills, t);
        go(&mut self.holdings, t);
        go(&mut self.account_values, t);
        go(&mut self.window_snapshots, t);
        go(&mut self.labels, t);
        go(&mut self.blacklist_events, t);
        go(&mut self.clock, t);
        go(&mut self.sampled_fills, t);
        go(&mut self.sampled_holdings, t);
        go(&mut self.tracked, t);
        go(&mut self.tracked_fills, t);
        go(&mut self.marks, t);
        go(&mut self.stale, t);
        go(&mut self.now, t);
        go(&mut self.consensus_clock, t);
        go(&mut self.own_positions, t);
        go(&mut self.own_account, t);
        go(&mut self.halts, t);
    }
}

/// A windowed row to retract when it leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Leaving {
    Fill(u64, Fill),
    Snapshot(u64, Address, TimeMs, Usd),
    Blacklist(Address, TimeMs),
}

/// Turns inputs into updates, remembering what the upserted inputs hold.
#[derive(Debug, Default)]
pub struct Feeder {
    holdings: BTreeMap<Address, BTreeMap<Token, Holding>>,
    values: BTreeMap<Address, Usd>,
    labels: BTreeMap<Address, String>,
    now: Option<TimeMs>,
    /// The tokens reported by each wallet's snapshot in progress, at its time.
    snapshot: BTreeMap<Address, (TimeMs, BTreeSet<Token>)>,
    /// Each (wallet, token)'s latest Close/Reduce/Flip fill.
    last_exit: BTreeMap<(Address, Token), TimeMs>,
    /// Each wallet's previous snapshot time.
    last_snapshot: BTreeMap<Address, TimeMs>,
    /// Windowed rows by the time they leave.
    leaving: BTreeMap<u64, Vec<Leaving>>,
    /// Changes of the sampled inputs by the boundary that releases them.
    sampled: BTreeMap<u64, Vec<Sampled>>,
    /// Tracked positions as inserted, and when each (wallet, token, side) was first seen.
    tracked: BTreeMap<(Address, Token), TrackedPosition>,
    first_seen: BTreeMap<(Address, Token), (PositionSide, TimeMs)>,
    /// Each (wallet, token)'s latest Open/Add/Reduce/Flip fill and the side it left.
    last_action: BTreeMap<(Address, Token), (TimeMs, PositionSide)>,
    marks: BTreeMap<Token, Price>,
    stale: BTreeSet<Token>,
    trading_now: Option<TimeMs>,
    consensus_clock: Option<TimeMs>,
    own: BTreeMap<Token, OwnPosition>,
    own_snapshot: Option<(TimeMs, BTreeSet<Token>)>,
    own_value: Option<Usd>,
    halts: BTreeSet<Halt>,
}

/// Puts the fills of each time in `sorted` (inputs in time order; `stamp` is
/// the time each is applied at) in the order they happened: see [`order_batch`].
pub fn order_fills<T: Clone>(sorted: &mut [T], stamp: impl Fn(&T) -> u64, fill: impl Fn(&T) -> Option<&Fill> + Copy) {
    let mut rest = sorted;
    while let Some(first) = rest.first().map(&stamp) {
        let n = rest.iter().take_while(|x| stamp(x) == first).count();
        let (batch, tail) = rest.split_at_mut(n);
        order_batch(batch, fill);
        rest = tail;
    }
}

/// Puts the fills among `batch` — inputs applied at one time — in the order
/// they happened, whatever order they arrived in: by wallet, token and time,
/// and within one millisecond by chaining start positions (ids do not order
/// fills; ties by trade id). Fills take the fills' places; other inputs keep
/// theirs. The feeder follows a position fill by fill, so without this two
/// runs that received the same fills in different orders (a tape, or the
/// REST backfill after a restart) would track different positions.
fn order_batch<T: Clone>(batch: &mut [T], fill: impl Fn(&T) -> Option<&Fill>) {
    let slots: Vec<usize> = (0..batch.len()).filter(|&i| fill(&batch[i]).is_some()).collect();
    if slots.len() < 2 {
        return;
    }
    let of = |i: usize| fill(&batch[i]);
    let mut keyed: Vec<usize> = slots.clone();
    keyed.sort_by_key(|&i| of(i).map(|f| (f.wallet, f.token, f.time_ms, f.trade_id)));
    let mut order = Vec::with_capacity(keyed.len());
    let mut rest = keyed.as_slice();
    while let Some(&first) = rest.first() {
        let same = |i: &usize| {
            of(*i).zip(of(first)).is_some_and(|(a, b)| (a.wallet, a.token, a.time_ms) == (b.wallet, b.token, b.time_ms))
        };
        let n = rest.iter().take_while(|i| same(i)).count();
        let (group, tail) = rest.split_at(n);
        order.extend(chain(group, &of));
        rest = tail;
    }
    let moved: Vec<T> = order.iter().map(|&i| batch[i].clone()).collect();
    for (slot, item) in slots.into_iter().zip(moved) {
        batch[slot] = item;
    }
}

/// One millisecond's fills of a wallet and token (sorted by trade id) in
/// chain order: a path through the positions that uses every fill once,
/// each starting where the last ended (an Eulerian trail, fills as edges
/// from start to end position). It starts where more fills leave than
/// arrive, else at the first fill's start; the lowest trade id is taken
/// first wherever there is a choice. Fills no trail reaches follow, chained
/// the same way.
fn chain<'a>(group: &[usize], of: &impl Fn(usize) -> Option<&'a Fill>) -> Vec<usize> {
    let ends = |i: usize| of(i).map(|f| (f.start_position, f.end_position().unwrap_or(f.start_position)));
    let mut out_edges: BTreeMap<Size, Vec<usize>> = BTreeMap::new();
    for &i in group.iter().rev() {
        if let Some((from, _)) = ends(i) {
            out_edges.entry(from).or_default().push(i); // popped lowest id first
        }
    }
    let mut out = Vec::with_capacity(group.len());
    while out.len() < group.len() {
        let mut balance: BTreeMap<Size, i64> = BTreeMap::new();
        for (from, edges) in &out_edges {
            for &i in edges {
                *balance.entry(*from).or_default() += 1;
                if let Some((_, to)) = ends(i) {
                    *balance.entry(to).or_default() -= 1;
                }
            }
        }
        let first = group.iter().find(|i| out_edges.values().any(|e| e.contains(i))).and_then(|&i| ends(i));
        let Some(start) = balance.iter().find(|(_, b)| **b > 0).map(|(n, _)| *n).or(first.map(|(from, _)| from)) else {
            break;
        };
        let mut stack: Vec<(Size, Option<usize>)> = vec![(start, None)];
        let mut trail = Vec::new();
        while let Some(&(node, via)) = stack.last() {
            match out_edges.get_mut(&node).and_then(Vec::pop) {
                Some(e) => stack.push((ends(e).map_or(node, |(_, to)| to), Some(e))),
                None => {
                    stack.pop();
                    trail.extend(via);
                }
            }
        }
        if trail.is_empty() {
            break;
        }
        out.extend(trail.into_iter().rev());
    }
    // Every fill once, whatever happened above.
    let missing: Vec<usize> = group.iter().copied().filter(|i| !out.contains(i)).collect();
    out.extend(missing);
    out
}

/// A change of a sampled input.
#[derive(Debug)]
enum Sampled {
    Fill(u64, Fill, isize),
    Holding(Address, Holding, isize),
}

impl Feeder {
    /// Moves time to `t`: every windowed row leaving before `t` is retracted at
    /// the time it leaves, the sampled changes of every boundary before `t` are
    /// released there, then every session advances.
    pub fn advance_to(&mut self, s: &mut Sessions, t: u64) {
        while let Some(entry) = self.leaving.first_entry() {
            if *entry.key() >= t {
                break;
            }
            let at = *entry.key();
            for row in entry.remove() {
                self.update(s, &row, at, -1);
            }
        }
        while let Some(entry) = self.sampled.first_entry() {
            if *entry.key() >= t {
                break;
            }
            let at = *entry.key();
            for change in entry.remove() {
                match change {
                    Sampled::Fill(days, f, r) => s.sampled_fills.update_at(((f.wallet, days), f), at, r),
                    Sampled::Holding(w, h, r) => s.sampled_holdings.update_at((w, h), at, r),
                }
            }
        }
        s.advance_to(t);
    }

    /// One windowed row's change at `at`, also queued for the sampled fills.
    fn update(&mut self, s: &mut Sessions, row: &Leaving, at: u64, diff: isize) {
        match row {
            Leaving::Fill(days, f) => {
                s.window_fills.update_at(((f.wallet, *days), f.clone()), at, diff);
                if *days != 7 {
                    self.sampled.entry(next_cadence(at)).or_default().push(Sampled::Fill(*days, f.clone(), diff));
                }
            }
            Leaving::Snapshot(days, w, time, v) => s.window_snapshots.update_at(((*w, *days), (*time, *v)), at, diff),
            Leaving::Blacklist(w, time) => s.blacklist_events.update_at((*w, *time), at, diff),
        }
    }

    /// A holding's change at `at`, also queued for the sampled holdings.
    fn hold(&mut self, s: &mut Sessions, wallet: Address, h: Holding, at: u64, diff: isize) {
        s.holdings.update_at((wallet, h), at, diff);
        self.sampled.entry(next_cadence(at)).or_default().push(Sampled::Holding(wallet, h, diff));
    }

    /// Upserts a tracked position (`None` removes it).
    fn track(&mut self, s: &mut Sessions, wallet: Address, token: Token, row: Option<TrackedPosition>, at: u64) {
        let old = match row {
            Some(r) => self.tracked.insert((wallet, token), r),
            None => self.tracked.remove(&(wallet, token)),
        };
        if old == row {
            return;
        }
        if let Some(old) = old {
            s.tracked.update_at((wallet, old), at, -1);
        }
        if let Some(r) = row {
            s.tracked.update_at((wallet, r), at, 1);
        }
    }

    /// Moves a tracked position with a fill, between snapshots (a snapshot
    /// replaces the row; a history with fills only is followed by them alone):
    /// the size the fill left, the entry averaged on an add, the value at the
    /// fill's price, the leverage the last snapshot said (else unknown, taken
    /// as the conservative maximum), and the fill as the last action.
    fn follow(&mut self, s: &mut Sessions, f: &Fill, at: u64) {
        let key = (f.wallet, f.token);
        if self.last_action.get(&key).is_some_and(|(t, _)| *t > f.time_ms) {
            return; // a late fill: the position has moved on
        }
        let Ok(end) = f.end_position() else { return };
        let Some(side) = PositionSide::of(end) else {
            self.track(s, f.wallet, f.token, None, at);
            self.first_seen.remove(&key);
            return;
        };
        self.last_action.insert(key, (f.time_ms, side));
        let old = self.tracked.get(&key).copied().filter(|r| r.side == side);
        let entry_price = match (f.action(), old) {
            (FillAction::Add, Some(o)) => {
                let (a, b) = (o.size.abs().fixed(), f.size.fixed());
                let avg =
                    o.entry_price.fixed().checked_mul(a).and_then(|x| x.checked_add(f.price.fixed().checked_mul(b)?));
                avg.and_then(|x| x.checked_div(a.checked_add(b)?)).map(Price::new).unwrap_or(f.price)
            }
            (FillAction::Reduce, Some(o)) => o.entry_price,
            _ => f.price,
        };
        let Ok(value) = f.price.notional(end) else { return };
        if old.is_none() {
            self.first_seen.insert(key, (side, f.time_ms));
        }
        let row = TrackedPosition {
            token: f.token,
            side,
            size: end,
            value: value.abs(),
            entry_price,
            leverage: old.map(|o| o.leverage).unwrap_or(UNKNOWN_LEVERAGE),
            margin_used: old.map(|o| o.margin_used).unwrap_or(Usd::ZERO),
            last_action: f.time_ms,
        };
        self.track(s, f.wallet, f.token, Some(row), at);
    }

    /// A position's last action: its last Open/Add/Reduce fill on this side,
    /// else when it was first seen (decisions.md 10).
    fn last_action_of(&self, wallet: Address, token: Token, side: PositionSide) -> TimeMs {
        match (self.last_action.get(&(wallet, token)), self.first_seen.get(&(wallet, token))) {
            (Some((t, s)), _) if *s == side => *t,
            (_, Some((s, t))) if *s == side => *t,
            _ => 0,
        }
    }

    /// Inserts a windowed row at `at` if it has not left yet, and schedules its leaving.
    fn enter(&mut self, s: &mut Sessions, row: Leaving, leaves: u64, at: u64) {
        if leaves <= at {
            return;
        }
        self.update(s, &row, at, 1);
        self.leaving.entry(leaves).or_default().push(row);
    }

    /// Retracts a windowed row at `at` if it is still in, and cancels its leaving.
    fn withdraw(&mut self, s: &mut Sessions, row: Leaving, leaves: u64, at: u64) {
        let Some(rows) = self.leaving.get_mut(&leaves) else { return };
        let Some(i) = rows.iter().position(|r| *r == row) else { return };
        rows.swap_remove(i);
        if rows.is_empty() {
            self.leaving.remove(&leaves);
        }
        self.update(s, &row, at, -1);
    }

    /// Applies `input` as updates at time `at` (≥ the session's time).
    pub fn apply(&mut self, s: &mut Sessions, input: &Input, at: u64) {
        match input {
            Input::Funding(_) => {}
            Input::Halt { halt, active, .. } => {
                if *active && self.halts.insert(*halt) {
                    s.halts.update_at(*halt, at, 1);
                } else if !*active && self.halts.remove(halt) {
                    s.halts.update_at(*halt, at, -1);
                }
            }
            Input::Fill(f) => {
                s.tracked_fills.update_at(f.clone(), at, 1);
                if matches!(f.action(), FillAction::Close | FillAction::Reduce | FillAction::Flip) {
                    let t = self.last_exit.entry((f.wallet, f.token)).or_default();
                    *t = (*t).max(f.time_ms);
                }
                self.follow(s, f, at);
                for days in WINDOWS_DAYS {
                    self.enter(s, Leaving::Fill(days, f.clone()), f.time_ms.saturating_add(days * DAY_MS), at);
                }
                if f.liquidation {
                    let until = f.time_ms.saturating_add(BLACKLIST_MS);
                    self.enter(s, Leaving::Blacklist(f.wallet, f.time_ms), until, at);
                }
            }
            Input::FillRetracted(f) => {
                s.tracked_fills.update_at(f.clone(), at, -1);
                for days in WINDOWS_DAYS {
                    self.withdraw(s, Leaving::Fill(days, f.clone()), f.time_ms.saturating_add(days * DAY_MS), at);
                }
                if f.liquidation {
                    let until = f.time_ms.saturating_add(BLACKLIST_MS);
                    self.withdraw(s, Leaving::Blacklist(f.wallet, f.time_ms), until, at);
                }
            }
            Input::Position(p) => {
                let seen = self.snapshot.entry(p.wallet).or_insert_with(|| (p.time_ms, BTreeSet::new()));
                if seen.0 != p.time_ms {
                    *seen = (p.time_ms, BTreeSet::new());
                }
                seen.1.insert(p.token);
                let Some(side) = p.side() else { return };
                let h = Holding {
                    token: p.token,
                    side,
                    leverage: p.leverage,
                    isolated: p.margin_mode == MarginMode::Isolated,
                };
                if let Some(old) = self.holdings.entry(p.wallet).or_default().insert(p.token, h) {
                    self.hold(s, p.wallet, old, at, -1);
                }
                self.hold(s, p.wallet, h, at, 1);
                let key = (p.wallet, p.token);
                if self.first_seen.get(&key).is_none_or(|(s0, _)| *s0 != side) {
                    self.first_seen.insert(key, (side, p.time_ms));
                }
                let row = TrackedPosition {
                    token: p.token,
                    side,
                    size: p.size,
                    value: p.position_value,
                    entry_price: p.entry_price,
                    leverage: p.leverage,
                    margin_used: p.margin_used,
                    last_action: self.last_action_of(p.wallet, p.token, side),
                };
                self.track(s, p.wallet, p.token, Some(row), at);
            }
            Input::Account(a) => {
                let reported = match self.snapshot.remove(&a.wallet) {
                    Some((t, tokens)) if t == a.time_ms => tokens,
                    _ => BTreeSet::new(),
                };
                let held = self.holdings.entry(a.wallet).or_default();
                let gone: Vec<Holding> = held.values().filter(|h| !reported.contains(&h.token)).copied().collect();
                for old in &gone {
                    held.remove(&old.token);
                }
                for &old in &gone {
                    self.hold(s, a.wallet, old, at, -1);
                }
                // The snapshot is the whole account: a position it omits is closed,
                // also one known only from fills.
                let unreported: Vec<Token> = self
                    .tracked
                    .range((a.wallet, Token::MIN)..)
                    .take_while(|((w, _), _)| *w == a.wallet)
                    .map(|((_, t), _)| *t)
                    .filter(|t| !reported.contains(t))
                    .collect();
                for token in unreported {
                    self.track(s, a.wallet, token, None, at);
                    self.first_seen.remove(&(a.wallet, token));
                }
                for token in gone.iter().map(|h| h.token) {
                    let previous = self.last_snapshot.get(&a.wallet).copied().unwrap_or(0);
                    if vanished_by_liquidation(self.last_exit.get(&(a.wallet, token)).copied(), previous, a.time_ms) {
                        let until = a.time_ms.saturating_add(BLACKLIST_MS);
                        self.enter(s, Leaving::Blacklist(a.wallet, a.time_ms), until, at);
                    }
                }
                self.last_snapshot.insert(a.wallet, a.time_ms);
                if let Some(old) = self.values.insert(a.wallet, a.value) {
                    s.account_values.update_at((a.wallet, old), at, -1);
                }
                s.account_values.update_at((a.wallet, a.value), at, 1);
            }
            Input::Leaderboard(r) => {
                for days in WINDOWS_DAYS {
                    let row = Leaving::Snapshot(days, r.wallet, r.time_ms, r.account_value);
                    self.enter(s, row, r.time_ms.saturating_add(days * DAY_MS), at);
                }
                if let Some(label) = r.label.as_ref().filter(|l| !l.trim().is_empty())
                    && self.labels.get(&r.wallet) != Some(label)
                {
                    if let Some(old) = self.labels.insert(r.wallet, label.clone()) {
                        s.labels.update_at((r.wallet, old), at, -1);
                    }
                    s.labels.update_at((r.wallet, label.clone()), at, 1);
                }
            }
            Input::Tick(now) => {
                if let Some(old) = self.now.replace(*now) {
                    s.clock.update_at(old, at, -1);
                }
                s.clock.update_at(*now, at, 1);
            }
            Input::Mark(m) => {
                if let Some(old) = self.marks.insert(m.token, m.price) {
                    if old == m.price {
                        return;
                    }
                    s.marks.update_at((m.token, old), at, -1);
                }
                s.marks.update_at((m.token, m.price), at, 1);
            }
            Input::PriceStatus(p) => {
                let changed = if p.stale { self.stale.insert(p.token) } else { self.stale.remove(&p.token) };
                if changed {
                    s.stale.update_at(p.token, at, if p.stale { 1 } else { -1 });
                }
            }
            Input::Now(now) => {
                if let Some(old) = self.trading_now.replace(*now) {
                    s.now.update_at(old, at, -1);
                }
                s.now.update_at(*now, at, 1);
                let floor = now - now % CONSENSUS_CADENCE_MS;
                if self.consensus_clock != Some(floor) {
                    if let Some(old) = self.consensus_clock.replace(floor) {
                        s.consensus_clock.update_at(old, at, -1);
                    }
                    s.consensus_clock.update_at(floor, at, 1);
                }
            }
            Input::OwnPosition(p) => {
                let seen = self.own_snapshot.get_or_insert_with(|| (p.time_ms, BTreeSet::new()));
                if seen.0 != p.time_ms {
                    *seen = (p.time_ms, BTreeSet::new());
                }
                seen.1.insert(p.token);
                let row = OwnPosition { time_ms: 0, ..*p };
                match self.own.insert(p.token, row) {
                    Some(old) if old == row => {}
                    Some(old) => {
                        s.own_positions.update_at(old, at, -1);
                        s.own_positions.update_at(row, at, 1);
                    }
                    None => s.own_positions.update_at(row, at, 1),
                }
            }
            Input::OwnAccount { time_ms, value } => {
                let reported = match self.own_snapshot.take() {
                    Some((t, tokens)) if t == *time_ms => tokens,
                    _ => BTreeSet::new(),
                };
                let gone: Vec<Token> = self.own.keys().filter(|t| !reported.contains(t)).copied().collect();
                for token in gone {
                    if let Some(old) = self.own.remove(&token) {
                        s.own_positions.update_at(old, at, -1);
                    }
                }
                if self.own_value != Some(*value) {
                    if let Some(old) = self.own_value.replace(*value) {
                        s.own_account.update_at(old, at, -1);
                    }
                    s.own_account.update_at(*value, at, 1);
                }
            }
        }
    }
}
