//! The intelligence dataflow's inputs and the adapter that turns domain events
//! into their collections' updates. Some inputs are *upserted* — a wallet's
//! latest account value, its current positions, its label, the clock — so the
//! adapter remembers what it last inserted and retracts it (rust-stack.md
//! pitfall 6). It also detects liquidations: a position that vanished from an
//! account snapshot without a Close/Reduce fill since the previous one (§5).

use std::collections::{BTreeMap, BTreeSet};

use differential_dataflow::input::InputSession;

use crate::model::{
    AccountValue, Address, Fill, FillAction, LeaderboardRow, MarginMode, PositionSnapshot, TimeMs, Token, Usd,
};
use crate::rules::eligibility::vanished_by_liquidation;
use crate::rules::trader::Holding;

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
    /// The clock: the time now.
    Tick(TimeMs),
}

impl Input {
    /// The input's own (event) time.
    pub fn time(&self) -> TimeMs {
        match self {
            Input::Fill(f) | Input::FillRetracted(f) => f.time_ms,
            Input::Position(p) => p.time_ms,
            Input::Account(a) => a.time_ms,
            Input::Leaderboard(r) => r.time_ms,
            Input::Tick(t) => *t,
        }
    }
}

/// The input sessions of one worker.
pub struct Sessions {
    pub fills: InputSession<u64, Fill, isize>,
    pub holdings: InputSession<u64, (Address, Holding), isize>,
    pub account_values: InputSession<u64, (Address, Usd), isize>,
    pub snapshots: InputSession<u64, (Address, (TimeMs, Usd)), isize>,
    pub labels: InputSession<u64, (Address, String), isize>,
    pub liquidations: InputSession<u64, (Address, TimeMs), isize>,
    pub clock: InputSession<u64, TimeMs, isize>,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions {
            fills: InputSession::new(),
            holdings: InputSession::new(),
            account_values: InputSession::new(),
            snapshots: InputSession::new(),
            labels: InputSession::new(),
            liquidations: InputSession::new(),
            clock: InputSession::new(),
        }
    }
}

impl Sessions {
    /// Moves every session to `t` (all must advance, or the probe never passes).
    pub fn advance_to(&mut self, t: u64) {
        fn go<D: differential_dataflow::Data>(s: &mut InputSession<u64, D, isize>, t: u64) {
            s.advance_to(t);
            s.flush();
        }
        go(&mut self.fills, t);
        go(&mut self.holdings, t);
        go(&mut self.account_values, t);
        go(&mut self.snapshots, t);
        go(&mut self.labels, t);
        go(&mut self.liquidations, t);
        go(&mut self.clock, t);
    }
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
}

impl Feeder {
    /// Applies `input` as updates at time `at` (≥ the session's time).
    pub fn apply(&mut self, s: &mut Sessions, input: &Input, at: u64) {
        match input {
            Input::Fill(f) => {
                if matches!(f.action(), FillAction::Close | FillAction::Reduce | FillAction::Flip) {
                    let t = self.last_exit.entry((f.wallet, f.token)).or_default();
                    *t = (*t).max(f.time_ms);
                }
                s.fills.update_at(f.clone(), at, 1);
            }
            Input::FillRetracted(f) => s.fills.update_at(f.clone(), at, -1),
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
                    s.holdings.update_at((p.wallet, old), at, -1);
                }
                s.holdings.update_at((p.wallet, h), at, 1);
            }
            Input::Account(a) => {
                let reported = match self.snapshot.remove(&a.wallet) {
                    Some((t, tokens)) if t == a.time_ms => tokens,
                    _ => BTreeSet::new(),
                };
                let held = self.holdings.entry(a.wallet).or_default();
                let gone: Vec<Token> = held.keys().filter(|t| !reported.contains(t)).copied().collect();
                for token in gone {
                    if let Some(old) = held.remove(&token) {
                        s.holdings.update_at((a.wallet, old), at, -1);
                    }
                    let previous = self.last_snapshot.get(&a.wallet).copied().unwrap_or(0);
                    if vanished_by_liquidation(self.last_exit.get(&(a.wallet, token)).copied(), previous, a.time_ms) {
                        s.liquidations.update_at((a.wallet, a.time_ms), at, 1);
                    }
                }
                self.last_snapshot.insert(a.wallet, a.time_ms);
                if let Some(old) = self.values.insert(a.wallet, a.value) {
                    s.account_values.update_at((a.wallet, old), at, -1);
                }
                s.account_values.update_at((a.wallet, a.value), at, 1);
            }
            Input::Leaderboard(r) => {
                s.snapshots.update_at((r.wallet, (r.time_ms, r.account_value)), at, 1);
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
        }
    }
}
