//! The plain-Rust reference recomputation of trader intelligence: every
//! output recomputed from all inputs received so far, written for clarity,
//! not speed. It calls the same rule functions as the dataflow; what it does
//! not share is the incremental machinery. Used by the reference tests and by
//! the latency benchmark (as the thing the dataflow is compared against).

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use dataflows::feed::Input;
use dataflows::intel::allocations::{CADENCE_MS, next_cadence};
use dataflows::intel::metrics::{DAY_MS, WINDOWS_DAYS};
use dataflows::model::{Address, Fill, FillAction, MarginMode, PositionSide, Ratio, Token, Usd};
use dataflows::rules::allocation::{AllocationPath, Target, Weights, allocate};
use dataflows::rules::clusters::{self, Entry, LOOKBACK_MS, MIN_FILLS, Overlap};
use dataflows::rules::eligibility::{EXIT_EVIDENCE_MS, Windows, blacklisted};
use dataflows::rules::metrics::{ClosingTrade, WindowMetrics, window_metrics};
use dataflows::rules::trader::{Holding, PACE_WINDOW_DAYS, Pace, Standing, activity, standing};

/// Wallet → cluster id, and the correlated pairs with their overlaps.
pub type ClusterView = (BTreeMap<Address, Address>, BTreeSet<((Address, Address), Overlap)>);

/// A history as the inputs at each time, in feed order.
pub type History = Vec<(u64, Vec<Input>)>;

/// The inputs received so far, as the reference reads them.
#[derive(Default, Clone)]
pub struct State {
    /// The live fills of each wallet (retractions removed).
    fills: BTreeMap<Address, Vec<Fill>>,
    /// Every fill ever fed (retracted or not), for the liquidation evidence.
    fed: Vec<Fill>,
    holdings: BTreeMap<Address, BTreeMap<Token, Holding>>,
    values: BTreeMap<Address, Usd>,
    snapshots: Vec<(Address, u64, Usd)>,
    labels: BTreeMap<Address, String>,
    liquidations: Vec<(Address, u64)>,
    last_snapshot: BTreeMap<Address, u64>,
    pub clock: Option<u64>,
}

impl State {
    pub fn apply(&mut self, inputs: &[Input]) {
        // Positions reported per wallet in this batch (snapshots are atomic here).
        let mut reported: BTreeMap<Address, BTreeMap<Token, Holding>> = BTreeMap::new();
        for i in inputs {
            match i {
                Input::Fill(f) => {
                    self.fills.entry(f.wallet).or_default().push(f.clone());
                    self.fed.push(f.clone());
                }
                Input::FillRetracted(f) => {
                    let live = self.fills.entry(f.wallet).or_default();
                    let at = live.iter().position(|x| x == f).expect("retracting a live fill");
                    live.remove(at);
                    if live.is_empty() {
                        self.fills.remove(&f.wallet);
                    }
                }
                Input::Position(p) => {
                    let side = p.side().unwrap();
                    let h = Holding {
                        token: p.token,
                        side,
                        leverage: p.leverage,
                        isolated: p.margin_mode == MarginMode::Isolated,
                    };
                    reported.entry(p.wallet).or_default().insert(p.token, h);
                }
                Input::Account(a) => {
                    let now = reported.remove(&a.wallet).unwrap_or_default();
                    let before = self.holdings.insert(a.wallet, now.clone()).unwrap_or_default();
                    let previous = self.last_snapshot.insert(a.wallet, a.time_ms).unwrap_or(0);
                    // Evidence: an exit since the previous snapshot, or within the hour.
                    let since = previous.min(a.time_ms.saturating_sub(EXIT_EVIDENCE_MS));
                    for token in before.keys().filter(|t| !now.contains_key(t)) {
                        let explained = self.fed.iter().any(|f| {
                            f.wallet == a.wallet
                                && f.token == *token
                                && matches!(f.action(), FillAction::Close | FillAction::Reduce | FillAction::Flip)
                                && since <= f.time_ms
                                && f.time_ms <= a.time_ms
                        });
                        if !explained {
                            self.liquidations.push((a.wallet, a.time_ms));
                        }
                    }
                    self.values.insert(a.wallet, a.value);
                }
                Input::Leaderboard(r) => {
                    self.snapshots.push((r.wallet, r.time_ms, r.account_value));
                    if let Some(l) = r.label.as_ref().filter(|l| !l.trim().is_empty()) {
                        self.labels.insert(r.wallet, l.clone());
                    }
                }
                Input::Tick(now) => self.clock = Some(*now),
                // The trading inputs: the trading reference (`tests/trading_reference.rs`) reads them.
                Input::Mark(_)
                | Input::PriceStatus(_)
                | Input::Now(_)
                | Input::OwnPosition(_)
                | Input::OwnAccount { .. }
                | Input::Funding(_)
                | Input::Halt { .. } => {}
            }
        }
    }

    fn in_window(time: u64, t: u64, width: u64) -> bool {
        time <= t && (t < width || time > t - width)
    }

    /// A wallet's metrics over the `days` window at `t`, if it has an account
    /// value, a fill or a leaderboard snapshot in the window.
    fn window(&self, w: Address, t: u64, days: u64) -> Option<WindowMetrics> {
        let width = days * DAY_MS;
        let in_window: Vec<&Fill> =
            self.fills.get(&w).into_iter().flatten().filter(|f| Self::in_window(f.time_ms, t, width)).collect();
        let mut trades: Vec<ClosingTrade> = in_window.iter().filter_map(|f| ClosingTrade::of(f).unwrap()).collect();
        trades.sort();
        let start = self
            .snapshots
            .iter()
            .filter(|(sw, st, _)| *sw == w && Self::in_window(*st, t, width))
            .map(|(_, st, v)| (*st, *v))
            .min()
            .map(|(_, v)| v);
        let current = self.values.get(&w).copied();
        if current.is_none() && in_window.is_empty() && start.is_none() {
            return None;
        }
        Some(window_metrics(&trades, start, current.unwrap_or(Usd::ZERO)).unwrap().with_fills(in_window.len() as u64))
    }

    /// The metrics of every (wallet, window) with an account value, a fill or
    /// a leaderboard snapshot in the window.
    pub fn metrics(&self, t: u64) -> BTreeMap<(Address, u64), WindowMetrics> {
        let mut out = BTreeMap::new();
        let wallets: BTreeSet<Address> = self
            .fills
            .keys()
            .chain(self.values.keys())
            .chain(self.snapshots.iter().map(|(w, _, _)| w))
            .copied()
            .collect();
        for w in wallets {
            for days in WINDOWS_DAYS {
                if let Some(m) = self.window(w, t, days) {
                    out.insert((w, days), m);
                }
            }
        }
        out
    }

    pub fn standings(&self, t: u64) -> BTreeMap<Address, Standing> {
        let mut out = BTreeMap::new();
        let Some(now) = self.clock else { return out };
        for (&w, fills) in &self.fills {
            let mut recent: Vec<Fill> =
                fills.iter().filter(|f| Self::in_window(f.time_ms, t, PACE_WINDOW_DAYS * DAY_MS)).cloned().collect();
            if recent.is_empty() {
                continue;
            }
            recent.sort();
            let metrics = WINDOWS_DAYS.map(|days| self.window(w, t, days).unwrap_or_default());
            let windows = Windows { d7: metrics[0], d30: metrics[1], d90: metrics[2] };
            let Ok(pace) = Pace::of(&activity(&recent), now) else { continue };
            let held: Vec<Holding> = self.holdings.get(&w).map(|h| h.values().copied().collect()).unwrap_or_default();
            let banned = fills
                .iter()
                .filter(|f| f.liquidation)
                .map(|f| f.time_ms)
                .chain(self.liquidations.iter().filter(|(lw, _)| *lw == w).map(|(_, lt)| *lt))
                .any(|lt| blacklisted(Some(lt), t));
            if let Ok(s) =
                standing(&windows, pace, &held, self.labels.get(&w).map(String::as_str), banned, &Default::default())
            {
                out.insert(w, s);
            }
        }
        out
    }

    /// The clusters at `t`, and the correlated pairs (each direction that
    /// correlates) with the overlap behind them.
    pub fn clusters(&self, t: u64) -> ClusterView {
        let holders = self.holdings.iter().filter(|(_, h)| !h.is_empty()).map(|(w, _)| *w);
        let trading = self
            .fills
            .iter()
            .filter(|(_, fs)| fs.iter().any(|f| Self::in_window(f.time_ms, t, PACE_WINDOW_DAYS * DAY_MS)));
        let wallets: BTreeSet<Address> = trading.map(|(w, _)| *w).chain(holders).collect();
        let entries = |w: Address| -> Vec<Entry> {
            self.fills
                .get(&w)
                .into_iter()
                .flatten()
                .filter(|f| Self::in_window(f.time_ms, t, LOOKBACK_MS))
                .filter_map(Entry::of)
                .collect()
        };
        let held = |w: Address| -> BTreeSet<(Token, PositionSide)> {
            self.holdings.get(&w).map(|h| h.values().map(|x| (x.token, x.side)).collect()).unwrap_or_default()
        };
        let list: Vec<Address> = wallets.iter().copied().collect();
        let mut edges = Vec::new();
        let mut pairs = BTreeSet::new();
        for (i, a) in list.iter().enumerate() {
            for b in &list[i + 1..] {
                let (ea, eb, pa, pb) = (entries(*a), entries(*b), held(*a), held(*b));
                if clusters::correlated((&ea, &pa), (&eb, &pb)).unwrap() {
                    edges.push((*a, *b));
                }
                for (x, y, ex, ey, px, py) in [(*a, *b, &ea, &eb, &pa, &pb), (*b, *a, &eb, &ea, &pb, &pa)] {
                    let (nx, ny) = (ex.len() as u64, ey.len() as u64);
                    if nx >= MIN_FILLS as u64 && ny >= MIN_FILLS as u64 {
                        let matched = ex
                            .iter()
                            .filter(|e| {
                                ey.iter().any(|o| {
                                    o.token == e.token
                                        && o.side == e.side
                                        && o.time_ms.abs_diff(e.time_ms) <= clusters::COPY_WINDOW_MS
                                })
                            })
                            .count() as u64;
                        if matched > 0 && 5 * matched >= 2 * nx.min(ny) {
                            pairs.insert(((x, y), Overlap::Entries { matched, own: nx, other: ny }));
                        }
                    } else {
                        let shared = px.intersection(py).count() as u64;
                        let (qx, qy) = (px.len() as u64, py.len() as u64);
                        if shared > 0 && 5 * shared >= 2 * qx.min(qy) {
                            pairs.insert(((x, y), Overlap::Positions { shared, own: qx, other: qy }));
                        }
                    }
                }
            }
        }
        (clusters::components(&wallets, &edges), pairs)
    }
}

pub fn eligible_scores(s: &BTreeMap<Address, Standing>) -> Vec<(Address, Ratio)> {
    s.iter().filter(|(_, x)| x.eligible()).map(|(w, x)| (*w, x.score.final_score)).collect()
}

/// The allocation rows the reference expects after each time it changes.
pub fn reference_allocations(history: &History) -> Vec<(u64, BTreeMap<Address, Weights>)> {
    let mut state = State::default();
    let mut path = AllocationPath::default();
    let mut target = Target::new();
    let mut out = Vec::new();
    let Some(&(first, _)) = history.first() else { return out };
    let last = history.last().map(|(t, _)| *t).unwrap_or(first);
    let mut times: BTreeSet<u64> = history.iter().map(|(t, _)| *t).collect();
    let mut b = next_cadence(first);
    while b <= last {
        times.insert(b);
        b += CADENCE_MS;
    }
    let steps: BTreeMap<u64, &Vec<Input>> = history.iter().map(|(t, i)| (*t, i)).collect();
    for tau in times {
        let day_before = state.clock.map(|c| c / DAY_MS);
        if let Some(inputs) = steps.get(&tau) {
            state.apply(inputs);
        }
        let new_day = state.clock.map(|c| c / DAY_MS) != day_before;
        let mut changed = false;
        if tau % CADENCE_MS == 0 {
            let standings = state.standings(tau);
            let scores = eligible_scores(&standings).into_iter().collect();
            let roi_tiers = standings.iter().map(|(w, s)| (*w, s.score.roi_tier)).collect();
            let next: Target = allocate(&scores, &roi_tiers, &BTreeMap::new())
                .unwrap()
                .into_iter()
                .map(|(w, x)| (w, (x.raw, x.capped)))
                .collect();
            changed = next != target;
            target = next;
        }
        if changed || new_day {
            out.push((tau, path.step(&target, new_day)));
        }
    }
    out
}
