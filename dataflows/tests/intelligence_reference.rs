//! The whole trader-intelligence dataflow against a plain-Rust reference that
//! recomputes everything from all inputs, written for clarity, not speed. After
//! every step of a random history — fills (some late, some liquidations),
//! retracted fills, account snapshots (some with positions that vanished
//! without a fill), leaderboard rows with labels, and clock ticks, with gaps
//! from seconds to days so rows leave their windows — the dataflow's standings,
//! tiers, clusters and allocations equal the reference's.
//!
//! The reference calls the same rule functions; what it does not share is the
//! incremental machinery: windows, joins, reductions, sampling on the cadence,
//! the allocation operator and the label propagation.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use dataflows::intel::allocations::{CADENCE_MS, next_cadence};
use dataflows::intel::feed::{Feeder, Input, Sessions};
use dataflows::intel::metrics::{DAY_MS, WINDOWS_DAYS};
use dataflows::intel::{Inputs, intelligence};
use dataflows::model::{
    AccountValue, Address, Fill, FillAction, LeaderboardRow, LeaderboardWindow, MarginMode, PositionSide,
    PositionSnapshot, Price, Ratio, Side, Size, Token, TxHash, Usd,
};
use dataflows::rules::allocation::{AllocationPath, Target, Weights, allocate};
use dataflows::rules::clusters::{self, Entry, LOOKBACK_MS};
use dataflows::rules::eligibility::{BLACKLIST_MS, EXIT_EVIDENCE_MS, Tier, Windows, tiers};
use dataflows::rules::metrics::{ClosingTrade, window_metrics};
use dataflows::rules::trader::{Holding, PACE_WINDOW_DAYS, Pace, Standing, activity, standing};
use proptest::prelude::*;

const T0: u64 = 1_000 * DAY_MS;
const WALLETS: u8 = 5;

fn addr(n: u8) -> Address {
    Address::from_bytes([n + 1; 20])
}

fn token(i: u8) -> Token {
    Token::parse(["BTC", "ETH", "SOL"][i as usize % 3]).unwrap()
}

/// One generated action: (kind, wallet, token, flag, lots, price, free draw).
type Act = (u8, u8, u8, bool, u16, u16, u32);

/// A history as the inputs at each time, in feed order.
type History = Vec<(u64, Vec<Input>)>;

/// Builds a consistent history from actions: positions follow the fills;
/// wallets 0 and 1 are skilled (big, mostly winning exits) so some wallets
/// pass the anti-luck gates and allocations happen.
fn world(acts: &[(u64, Act)]) -> History {
    let mut t = T0;
    let mut pos: BTreeMap<(u8, u8), (i64, i64)> = BTreeMap::new(); // (size, entry)
    let mut live: Vec<Fill> = Vec::new();
    let mut id = 0u64;
    let mut out: History = Vec::new();
    for &(gap_min, (kind, w, tok, flag, lots, px, x)) in acts {
        t += gap_min * 60_000;
        let mut inputs = Vec::new();
        match kind {
            0..60 => {
                let skilled = w < 2;
                let lots = i64::from(lots.max(1)) * if skilled { 20 } else { 1 };
                let (start, e) = pos.get(&(w, tok)).copied().unwrap_or((0, i64::from(px)));
                let delta = if flag { lots } else { -lots };
                let end = start + delta;
                let reduced = if start != 0 && start.signum() != delta.signum() { lots.min(start.abs()) } else { 0 };
                let price = if skilled && reduced > 0 {
                    if x % 5 != 0 { e + 12 * start.signum() } else { e - 8 * start.signum() }
                } else {
                    i64::from(px)
                };
                let pnl = reduced * (price - e) * start.signum();
                let entry = if start == 0 || start.signum() != end.signum() { price } else { e };
                if end == 0 {
                    pos.remove(&(w, tok));
                } else {
                    pos.insert((w, tok), (end, entry));
                }
                // Kinds 55–59 arrive late: stamped up to two days before now.
                let time_ms = if kind >= 55 { t.saturating_sub(u64::from(x) % (2 * DAY_MS)).max(T0) } else { t };
                id += 1;
                let f = Fill {
                    time_ms,
                    wallet: addr(w % WALLETS),
                    token: token(tok),
                    side: if flag { Side::Buy } else { Side::Sell },
                    price: Price::from_int(price),
                    size: Size::from_int(lots),
                    start_position: Size::from_int(start),
                    closed_pnl: Usd::from_int(pnl),
                    fee: Usd::ZERO,
                    tx_hash: TxHash::default(),
                    trade_id: id,
                    // Kinds 50–54 are liquidation fills when they reduce.
                    liquidation: reduced > 0 && (50..55).contains(&kind),
                };
                live.push(f.clone());
                inputs.push(Input::Fill(f));
            }
            60..64 => {
                if !live.is_empty() {
                    let f = live.remove(x as usize % live.len());
                    inputs.push(Input::FillRetracted(f));
                }
            }
            64..80 => {
                if x % 6 == 0 {
                    // Positions vanish without a fill: a liquidation the snapshot reveals.
                    pos.retain(|(pw, _), _| *pw != w);
                }
                for (&(_, tk), &(size, entry)) in pos.range((w, 0)..=(w, u8::MAX)) {
                    inputs.push(Input::Position(PositionSnapshot {
                        time_ms: t,
                        wallet: addr(w % WALLETS),
                        token: token(tk),
                        size: Size::from_int(size),
                        entry_price: Price::from_int(entry),
                        position_value: Usd::from_int(size.abs() * entry),
                        leverage: Ratio::from_int(1 + i64::from(x % 20)),
                        margin_mode: if flag { MarginMode::Isolated } else { MarginMode::Cross },
                        liquidation_price: None,
                        margin_used: Usd::ZERO,
                        unrealized_pnl: Usd::ZERO,
                    }));
                }
                let value = Usd::from_int(10_000 + i64::from(x % 190_000));
                inputs.push(Input::Account(AccountValue { time_ms: t, wallet: addr(w % WALLETS), value }));
            }
            80..88 => inputs.push(Input::Leaderboard(LeaderboardRow {
                time_ms: t,
                window: LeaderboardWindow::Day30,
                wallet: addr(w % WALLETS),
                roi_percent: Ratio::ZERO,
                pnl: Usd::ZERO,
                account_value: Usd::from_int(5_000 + i64::from(x % 100_000)),
                label: [None, Some("Fund"), Some("Smart Money"), Some("Whale")][x as usize % 4].map(String::from),
            })),
            _ => inputs.push(Input::Tick(t)),
        }
        match out.last_mut() {
            Some((last, xs)) if *last == t => xs.extend(inputs),
            _ => out.push((t, inputs)),
        }
    }
    out
}

/// Everything the dataflow produced, as (row, time, diff).
#[derive(Default)]
struct Captured {
    standings: Vec<((Address, Standing), u64, isize)>,
    tiers: Vec<((Address, Tier), u64, isize)>,
    clusters: Vec<((Address, Address), u64, isize)>,
    allocations: Vec<((Address, Weights), u64, isize)>,
}

type Shared = Arc<Mutex<Captured>>;

fn run_dataflow(history: &History) -> Captured {
    let captured: Shared = Arc::default();
    let sink = captured.clone();
    let history = history.clone();
    timely::execute_directly(move |worker| {
        let mut sessions = Sessions::default();
        let probe = timely::dataflow::ProbeHandle::<u64>::new();
        worker.dataflow::<u64, _, _>(|scope| {
            let v = intelligence(Inputs::of(scope, &mut sessions));
            let (s1, s2, s3, s4) = (sink.clone(), sink.clone(), sink.clone(), sink.clone());
            v.standings.probe_with(&probe).inspect(move |(d, t, r)| s1.lock().unwrap().standings.push((*d, *t, *r)));
            v.tiers.probe_with(&probe).inspect(move |(d, t, r)| s2.lock().unwrap().tiers.push((*d, *t, *r)));
            v.clusters.probe_with(&probe).inspect(move |(d, t, r)| s3.lock().unwrap().clusters.push((*d, *t, *r)));
            v.allocations
                .probe_with(&probe)
                .inspect(move |(d, t, r)| s4.lock().unwrap().allocations.push((*d, *t, *r)));
        });
        let mut feeder = Feeder::default();
        for (t, inputs) in &history {
            for i in inputs {
                feeder.apply(&mut sessions, i, *t);
            }
            sessions.advance_to(t + 1);
            worker.step_while(|| probe.less_than(&(t + 1)));
        }
    });
    std::mem::take(&mut *captured.lock().unwrap())
}

/// The collection's contents at `t`: every row with multiplicity exactly 1.
fn at<K: Ord + Clone + std::fmt::Debug>(updates: &[(K, u64, isize)], t: u64) -> Result<BTreeSet<K>, String> {
    let mut acc: BTreeMap<K, isize> = BTreeMap::new();
    for (d, time, r) in updates {
        if *time <= t {
            *acc.entry(d.clone()).or_default() += r;
        }
    }
    acc.retain(|_, r| *r != 0);
    if let Some(bad) = acc.iter().find(|(_, r)| **r != 1) {
        return Err(format!("multiplicity {} of {:?} at {t}", bad.1, bad.0));
    }
    Ok(acc.into_keys().collect())
}

/// The inputs received so far, as the reference reads them.
#[derive(Default, Clone)]
struct State {
    fills: Vec<Fill>,
    /// Every fill ever fed (retracted or not), for the liquidation evidence.
    fed: Vec<Fill>,
    holdings: BTreeMap<Address, BTreeMap<Token, Holding>>,
    values: BTreeMap<Address, Usd>,
    snapshots: Vec<(Address, u64, Usd)>,
    labels: BTreeMap<Address, String>,
    liquidations: Vec<(Address, u64)>,
    last_snapshot: BTreeMap<Address, u64>,
    clock: Option<u64>,
}

impl State {
    fn apply(&mut self, inputs: &[Input]) {
        // Positions reported per wallet in this batch (snapshots are atomic here).
        let mut reported: BTreeMap<Address, BTreeMap<Token, Holding>> = BTreeMap::new();
        for i in inputs {
            match i {
                Input::Fill(f) => {
                    self.fills.push(f.clone());
                    self.fed.push(f.clone());
                }
                Input::FillRetracted(f) => {
                    let at = self.fills.iter().position(|x| x == f).expect("retracting a live fill");
                    self.fills.remove(at);
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
            }
        }
    }

    fn in_window(time: u64, t: u64, width: u64) -> bool {
        time <= t && (t < width || time > t - width)
    }

    fn standings(&self, t: u64) -> BTreeMap<Address, Standing> {
        let mut out = BTreeMap::new();
        let Some(now) = self.clock else { return out };
        let wallets: BTreeSet<Address> = self.fills.iter().map(|f| f.wallet).collect();
        for w in wallets {
            let mut recent: Vec<Fill> = self
                .fills
                .iter()
                .filter(|f| f.wallet == w && Self::in_window(f.time_ms, t, PACE_WINDOW_DAYS * DAY_MS))
                .cloned()
                .collect();
            if recent.is_empty() {
                continue;
            }
            recent.sort();
            let metrics = WINDOWS_DAYS.map(|days| {
                let width = days * DAY_MS;
                let mut trades: Vec<ClosingTrade> = self
                    .fills
                    .iter()
                    .filter(|f| f.wallet == w && Self::in_window(f.time_ms, t, width))
                    .filter_map(|f| ClosingTrade::of(f).unwrap())
                    .collect();
                trades.sort();
                let start = self
                    .snapshots
                    .iter()
                    .filter(|(sw, st, _)| *sw == w && Self::in_window(*st, t, width))
                    .map(|(_, st, v)| (*st, *v))
                    .min()
                    .map(|(_, v)| v);
                let current = self.values.get(&w).copied().unwrap_or(Usd::ZERO);
                window_metrics(&trades, start, current).unwrap()
            });
            let windows = Windows { d7: metrics[0], d30: metrics[1], d90: metrics[2] };
            let Ok(pace) = Pace::of(&activity(&recent), now) else { continue };
            let held: Vec<Holding> = self.holdings.get(&w).map(|h| h.values().copied().collect()).unwrap_or_default();
            let banned = self
                .fills
                .iter()
                .filter(|f| f.liquidation && f.wallet == w)
                .map(|f| f.time_ms)
                .chain(self.liquidations.iter().filter(|(lw, _)| *lw == w).map(|(_, lt)| *lt))
                .any(|lt| Self::in_window(lt, t, BLACKLIST_MS));
            if let Ok(s) = standing(&windows, pace, &held, self.labels.get(&w).map(String::as_str), banned) {
                out.insert(w, s);
            }
        }
        out
    }

    fn clusters(&self, t: u64) -> BTreeMap<Address, Address> {
        let holders = self.holdings.iter().filter(|(_, h)| !h.is_empty()).map(|(w, _)| *w);
        let wallets: BTreeSet<Address> = self.fills.iter().map(|f| f.wallet).chain(holders).collect();
        let entries = |w: Address| -> Vec<Entry> {
            self.fills
                .iter()
                .filter(|f| f.wallet == w && Self::in_window(f.time_ms, t, LOOKBACK_MS))
                .filter_map(Entry::of)
                .collect()
        };
        let held = |w: Address| -> BTreeSet<(Token, PositionSide)> {
            self.holdings.get(&w).map(|h| h.values().map(|x| (x.token, x.side)).collect()).unwrap_or_default()
        };
        let list: Vec<Address> = wallets.iter().copied().collect();
        let mut edges = Vec::new();
        for (i, a) in list.iter().enumerate() {
            for b in &list[i + 1..] {
                let (ea, eb, pa, pb) = (entries(*a), entries(*b), held(*a), held(*b));
                if clusters::correlated((&ea, &pa), (&eb, &pb)).unwrap() {
                    edges.push((*a, *b));
                }
            }
        }
        clusters::components(&wallets, &edges)
    }
}

fn eligible_scores(s: &BTreeMap<Address, Standing>) -> Vec<(Address, Ratio)> {
    s.iter().filter(|(_, x)| x.eligible()).map(|(w, x)| (*w, x.score.final_score)).collect()
}

/// The allocation rows the reference expects after each time it changes.
fn reference_allocations(history: &History) -> Vec<(u64, BTreeMap<Address, Weights>)> {
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

/// What a run covered, so the deterministic scenario can insist on it.
#[derive(Default, Debug)]
struct Coverage {
    standings: usize,
    eligible: usize,
    tiers: usize,
    clustered: usize,
    allocated: usize,
    blacklisted: usize,
}

/// Compares the outputs after every `stride`-th step (and the last).
fn check(history: &History, stride: usize) -> Result<Coverage, String> {
    let got = run_dataflow(history);
    let allocations = reference_allocations(history);
    let mut state = State::default();
    let mut cov = Coverage::default();
    for (n, (t, inputs)) in history.iter().enumerate() {
        state.apply(inputs);
        if n % stride != 0 && n + 1 != history.len() {
            continue;
        }
        let want = state.standings(*t);
        let have: BTreeMap<Address, Standing> = at(&got.standings, *t)?.into_iter().collect();
        if have != want {
            return Err(format!("standings at {t}:\n dataflow  {have:?}\n reference {want:?}"));
        }
        let want_tiers: BTreeMap<Address, Tier> = tiers(&eligible_scores(&want)).into_iter().collect();
        let have_tiers: BTreeMap<Address, Tier> = at(&got.tiers, *t)?.into_iter().collect();
        if have_tiers != want_tiers {
            return Err(format!("tiers at {t}: {have_tiers:?} vs {want_tiers:?}"));
        }
        let want_clusters = state.clusters(*t);
        let have_clusters: BTreeMap<Address, Address> = at(&got.clusters, *t)?.into_iter().collect();
        if have_clusters != want_clusters {
            return Err(format!("clusters at {t}: {have_clusters:?} vs {want_clusters:?}"));
        }
        let want_alloc = allocations.iter().rev().find(|(tau, _)| tau <= t).map(|(_, r)| r.clone()).unwrap_or_default();
        let have_alloc: BTreeMap<Address, Weights> = at(&got.allocations, *t)?.into_iter().collect();
        if have_alloc != want_alloc {
            return Err(format!("allocations at {t}:\n dataflow  {have_alloc:?}\n reference {want_alloc:?}"));
        }
        cov.standings += want.len();
        cov.eligible += want.values().filter(|s| s.eligible()).count();
        cov.blacklisted +=
            want.values().filter(|s| s.gate == Some(dataflows::rules::eligibility::Ineligible::Blacklisted)).count();
        cov.tiers += want_tiers.len();
        cov.clustered += want_clusters.iter().filter(|(w, c)| w != c).count();
        cov.allocated += want_alloc.values().filter(|w| w.final_weight.is_positive()).count();
    }
    Ok(cov)
}

fn act() -> impl Strategy<Value = (u64, Act)> {
    let gap = prop_oneof![3 => 0u64..90, 2 => 0u64..1_440, 1 => 1_440u64..14_400];
    (gap, (0u8..100, 0u8..WALLETS, 0u8..3, any::<bool>(), 1u16..200, 50u16..150, any::<u32>()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn every_output_equals_the_reference_after_every_step(acts in proptest::collection::vec(act(), 1..160)) {
        let history = world(&acts);
        if let Err(e) = check(&history, 1) {
            prop_assert!(false, "{}", e);
        }
    }
}

/// A scripted history that reaches every output: two skilled wallets trading
/// often (one copying the other within minutes), noise wallets, snapshots with
/// a liquidation, labels and a clock ticking every hour for 50 days.
#[test]
fn a_scripted_history_reaches_every_output_and_agrees() {
    let mut acts: Vec<(u64, Act)> = Vec::new();
    for i in 0..1_000u32 {
        // Noise: small random-walk fills (some late) from wallets 2–4.
        acts.push((25, (i as u8 % 60, 2 + (i % 3) as u8, (i % 3) as u8, i % 3 == 0, 3, 90 + (i % 40) as u16, i)));
        if i % 6 == 0 {
            // The leader opens, then closes 6 iterations (≈ 3½ h) later; its exits win 4 times in 5.
            let k = i / 6;
            let long = (k / 4) % 2 == 0;
            let buy = if k % 2 == 0 { long } else { !long };
            let tok = ((k / 2) % 3) as u8;
            acts.push((2, (0, 0, tok, buy, 50, 100, k)));
            // Its follower does the same three minutes later; one of its exits,
            // mid-history, is a liquidation: blacklisted for 14 days.
            let kind = if k == 87 { 50 } else { 0 };
            acts.push((3, (kind, 1, tok, buy, 40, 100, k + 1)));
        }
        if i % 4 == 0 {
            // Snapshots; a noise wallet's positions sometimes vanish (a liquidation).
            let w = (i % 5) as u8;
            let x = if w < 2 { i * 6 + 1 } else { i * 7 + 1 };
            acts.push((1, (64 + (i % 16) as u8, w, (i % 3) as u8, i % 8 == 0, 1, 100, x)));
        }
        if i % 12 == 0 {
            acts.push((1, (80, (i % 5) as u8, 0, false, 1, 100, i)));
        }
        acts.push((2, (95, 0, 0, false, 1, 100, 0)));
    }
    let history = world(&acts);
    let cov = check(&history, 20).unwrap();
    assert!(cov.eligible > 0 && cov.tiers > 0, "{cov:?}");
    assert!(cov.allocated > 0, "{cov:?}");
    assert!(cov.clustered > 0, "{cov:?}");
    assert!(cov.blacklisted > 0, "{cov:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// The replay's outputs are the same with one and two timely workers.
    #[test]
    fn one_and_two_workers_agree(acts in proptest::collection::vec(act(), 1..160)) {
        let inputs: Vec<Input> = world(&acts).into_iter().flat_map(|(_, i)| i).collect();
        let one = dataflows::intel::replay::replay(&inputs, 1).unwrap();
        let two = dataflows::intel::replay::replay(&inputs, 2).unwrap();
        prop_assert_eq!(one, two);
    }
}
