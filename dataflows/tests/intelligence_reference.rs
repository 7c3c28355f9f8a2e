//! The whole trader-intelligence dataflow against a plain-Rust reference that
//! recomputes everything from all inputs, written for clarity, not speed. After
//! every step of a random history — fills (some late, some liquidations),
//! retracted fills, account snapshots (some with positions that vanished
//! without a fill), leaderboard rows with labels, and clock ticks, with gaps
//! from seconds to days so rows leave their windows — the dataflow's standings,
//! window metrics, standings, tiers, clusters and allocations equal the
//! reference's.
//!
//! The reference calls the same rule functions; what it does not share is the
//! incremental machinery: windows, joins, reductions, sampling on the cadence,
//! the allocation operator and the label propagation.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use dataflows::feed::{Feeder, Input, Sessions};
use dataflows::intel::allocations::{CADENCE_MS, next_cadence};
use dataflows::intel::metrics::DAY_MS;
use dataflows::intel::{Inputs, intelligence};
use dataflows::model::{
    AccountValue, Address, Fill, LeaderboardRow, LeaderboardWindow, MarginMode, PositionSnapshot, Price, Ratio, Side,
    Size, Token, TxHash, Usd,
};
use dataflows::rules::allocation::Weights;
use dataflows::rules::clusters::Overlap;
use dataflows::rules::eligibility::{Tier, tiers};
use dataflows::rules::metrics::WindowMetrics;
use dataflows::rules::trader::Standing;
use proptest::prelude::*;

mod reference;
use reference::{ClusterView, History, State, eligible_scores, reference_allocations};

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

/// A row's change: (row, time, diff).
type Update<R> = (R, u64, isize);

/// Everything the dataflow produced, as (row, time, diff).
#[derive(Default)]
struct Captured {
    metrics: Vec<Update<((Address, u64), WindowMetrics)>>,
    standings: Vec<((Address, Standing), u64, isize)>,
    tiers: Vec<((Address, Tier), u64, isize)>,
    clusters: Vec<((Address, Address), u64, isize)>,
    pairs: Vec<Update<((Address, Address), Overlap)>>,
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
            let v = intelligence(Inputs::of(scope, &mut sessions), Default::default());
            let (s0, s1, s2, s3, s4) = (sink.clone(), sink.clone(), sink.clone(), sink.clone(), sink.clone());
            let s5 = sink.clone();
            v.pairs.probe_with(&probe).inspect(move |(d, t, r)| s5.lock().unwrap().pairs.push((*d, *t, *r)));
            v.metrics.probe_with(&probe).inspect(move |(d, t, r)| s0.lock().unwrap().metrics.push((*d, *t, *r)));
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
            feeder.advance_to(&mut sessions, t + 1);
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

/// What a run covered, so the deterministic scenario can insist on it.
#[derive(Default, Debug)]
struct Coverage {
    standings: usize,
    eligible: usize,
    tiers: usize,
    clustered: usize,
    pairs_by_entries: usize,
    pairs_by_positions: usize,
    allocated: usize,
    blacklisted: usize,
}

/// Compares the outputs after every `stride`-th step (and the last).
fn check(history: &History, stride: usize) -> Result<Coverage, String> {
    let got = run_dataflow(history);
    let allocations = reference_allocations(history);
    let mut state = State::default();
    let mut cov = Coverage::default();
    // Clusters as of the latest cadence boundary: (boundary, clusters there).
    let mut clusters_at: Option<(u64, ClusterView)> = None;
    for (n, (t, inputs)) in history.iter().enumerate() {
        // Boundaries passed since the previous step see the state before this one;
        // the latest of them is the one the dataflow shows at `t`.
        let previous = n.checked_sub(1).map(|p| history[p].0);
        if let Some(p) = previous {
            let b = next_cadence(p + 1);
            if b < *t {
                let last = (*t - 1) / CADENCE_MS * CADENCE_MS;
                clusters_at = Some((last, state.clusters(last)));
            }
        }
        state.apply(inputs);
        if t % CADENCE_MS == 0 {
            clusters_at = Some((*t, state.clusters(*t)));
        }
        if n % stride != 0 && n + 1 != history.len() {
            continue;
        }
        let want_metrics = state.metrics(*t);
        let have_metrics: BTreeMap<(Address, u64), WindowMetrics> = at(&got.metrics, *t)?.into_iter().collect();
        if have_metrics != want_metrics {
            return Err(format!("metrics at {t}:\n dataflow  {have_metrics:?}\n reference {want_metrics:?}"));
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
        let (want_clusters, want_pairs) = clusters_at.as_ref().map(|(_, c)| c.clone()).unwrap_or_default();
        let have_pairs = at(&got.pairs, *t)?;
        if have_pairs != want_pairs {
            return Err(format!("cluster pairs at {t}: {have_pairs:?} vs {want_pairs:?}"));
        }
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
        cov.pairs_by_entries += want_pairs.iter().filter(|(_, o)| matches!(o, Overlap::Entries { .. })).count();
        cov.pairs_by_positions += want_pairs.iter().filter(|(_, o)| matches!(o, Overlap::Positions { .. })).count();
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
    assert!(cov.clustered > 0 && cov.pairs_by_entries > 0 && cov.pairs_by_positions > 0, "{cov:?}");
    assert!(cov.blacklisted > 0, "{cov:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// The replay's outputs are the same with one and two timely workers.
    #[test]
    fn one_and_two_workers_agree(acts in proptest::collection::vec(act(), 1..160)) {
        let inputs: Vec<Input> = world(&acts).into_iter().flat_map(|(_, i)| i).collect();
        let one = dataflows::replay::replay(&inputs, 1, &Default::default()).unwrap();
        let two = dataflows::replay::replay(&inputs, 2, &Default::default()).unwrap();
        prop_assert_eq!(one, two);
    }
}
