//! Per-update latency of the trader-intelligence dataflow: one tracked
//! wallet's fill at a time, at 1,000 wallets over 50 tokens with 30 days of
//! history loaded, from feeding the fill until the probe has passed it on every
//! output (standings, tiers, allocations, clusters; the first 2 % of the
//! updates are warm-up and not recorded). Beside it, the plain
//! reference recomputation (the test tree's, `tests/reference`) doing the same
//! update: every wallet's standing, the tiers and the allocation target from
//! all inputs. Its copy clusters are left out of the timing — recomputed from
//! scratch they are O(wallets²) and would make the ratio meaningless — so the
//! ratio is a lower bound.
//!
//! Run: `cargo bench -p dataflows --bench intelligence` (`MF_BENCH_WALLETS`,
//! `MF_BENCH_SAMPLES` to change the scale).

use std::collections::BTreeMap;
use std::time::Instant;

use dataflows::feed::{Feeder, Input, Sessions};
use dataflows::intel::metrics::DAY_MS;
use dataflows::intel::{Inputs, intelligence};
use dataflows::model::{
    AccountValue, Address, Fill, LeaderboardRow, LeaderboardWindow, MarginMode, PositionSnapshot, Price, Ratio, Side,
    Size, Token, TxHash, Usd,
};
use dataflows::rules::allocation::allocate;
use dataflows::rules::eligibility::tiers;
use hdrhistogram::Histogram;

#[path = "../tests/reference/mod.rs"]
mod reference;

const HOUR: u64 = 3_600_000;
const T0: u64 = 20_000 * DAY_MS;
const DAYS: u64 = 30;
const TOKENS: usize = 50;

/// splitmix64: a tiny deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Wallets trading random walks on their tokens, with daily snapshots and leaderboard rows.
struct World {
    rng: Rng,
    wallets: Vec<Address>,
    tokens: Vec<Token>,
    positions: BTreeMap<(usize, usize), (i64, i64)>,
    id: u64,
}

impl World {
    fn new(n: usize) -> World {
        let tokens = (0..TOKENS).map(|i| Token::parse(&format!("T{i}")).expect("token")).collect();
        let wallets = (0..n)
            .map(|i| {
                let mut b = [0u8; 20];
                b[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
                Address::from_bytes(b)
            })
            .collect();
        World { rng: Rng(7), wallets, tokens, positions: BTreeMap::new(), id: 0 }
    }

    fn fill(&mut self, w: usize, t: u64) -> Fill {
        let tok = (w * 7 + self.rng.below(3) as usize) % TOKENS;
        let (start, entry) = self.positions.get(&(w, tok)).copied().unwrap_or((0, 100));
        let lots = 1 + self.rng.below(5) as i64;
        let buy = if start == 0 { self.rng.below(2) == 0 } else { start < 0 };
        let delta = if buy { lots } else { -lots };
        let skilled = w.is_multiple_of(10);
        let px = if start != 0 && skilled && self.rng.below(5) != 0 {
            entry + 3 * start.signum()
        } else {
            95 + self.rng.below(10) as i64
        };
        let reduced = if start != 0 && start.signum() != delta.signum() { lots.min(start.abs()) } else { 0 };
        let pnl = reduced * (px - entry) * start.signum() * 100;
        let end = start + delta;
        if end == 0 {
            self.positions.remove(&(w, tok));
        } else {
            let e = if start == 0 || start.signum() != end.signum() { px } else { entry };
            self.positions.insert((w, tok), (end, e));
        }
        self.id += 1;
        Fill {
            time_ms: t,
            wallet: self.wallets[w],
            token: self.tokens[tok],
            side: if buy { Side::Buy } else { Side::Sell },
            price: Price::from_int(px),
            size: Size::from_int(lots * 100),
            start_position: Size::from_int(start * 100),
            closed_pnl: Usd::from_int(pnl),
            fee: Usd::ZERO,
            tx_hash: TxHash::default(),
            trade_id: self.id,
            liquidation: false,
        }
    }

    fn snapshot(&mut self, w: usize, t: u64) -> Vec<Input> {
        let mut out: Vec<Input> = self
            .positions
            .range((w, 0)..=(w, usize::MAX))
            .map(|(&(_, tok), &(size, entry))| {
                Input::Position(PositionSnapshot {
                    time_ms: t,
                    wallet: self.wallets[w],
                    token: self.tokens[tok],
                    size: Size::from_int(size * 100),
                    entry_price: Price::from_int(entry),
                    position_value: Usd::from_int(size.abs() * 100 * entry),
                    leverage: Ratio::from_int(3),
                    margin_mode: MarginMode::Cross,
                    liquidation_price: None,
                    margin_used: Usd::ZERO,
                    unrealized_pnl: Usd::ZERO,
                })
            })
            .collect();
        let value = Usd::from_int(50_000 + self.rng.below(100_000) as i64);
        out.push(Input::Account(AccountValue { time_ms: t, wallet: self.wallets[w], value }));
        out.push(Input::Leaderboard(LeaderboardRow {
            time_ms: t,
            window: LeaderboardWindow::Day30,
            wallet: self.wallets[w],
            roi_percent: Ratio::ZERO,
            pnl: Usd::ZERO,
            account_value: value,
            label: w.is_multiple_of(3).then(|| "Smart Money".to_string()),
        }));
        out
    }

    /// 30 days: about four fills a wallet a day, a daily snapshot, hourly ticks.
    fn history(&mut self) -> Vec<(u64, Vec<Input>)> {
        let n = self.wallets.len();
        let mut by_time: BTreeMap<u64, Vec<Input>> = BTreeMap::new();
        for h in 0..DAYS * 24 {
            let t = T0 + h * HOUR;
            by_time.entry(t).or_default().push(Input::Tick(t));
            for w in 0..n {
                if self.rng.below(6) == 0 {
                    let at = t + 1 + self.rng.below(HOUR - 2);
                    let f = self.fill(w, at);
                    by_time.entry(at).or_default().push(Input::Fill(f));
                }
                if h % 24 == (w as u64 % 24) {
                    let at = t + 1 + w as u64;
                    let s = self.snapshot(w, at);
                    by_time.entry(at).or_default().extend(s);
                }
            }
        }
        by_time.into_iter().collect()
    }
}

fn report(name: &str, h: &Histogram<u64>) -> f64 {
    let us = |q: f64| h.value_at_quantile(q) as f64 / 1_000.0;
    println!(
        "{name:<34} n {:>5}  p50 {:>9.1} µs  p99 {:>9.1} µs  p99.9 {:>9.1} µs  max {:>9.1} µs",
        h.len(),
        us(0.5),
        us(0.99),
        us(0.999),
        h.max() as f64 / 1_000.0
    );
    us(0.5)
}

fn main() {
    let wallets: usize = std::env::var("MF_BENCH_WALLETS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000);
    let samples: u64 = std::env::var("MF_BENCH_SAMPLES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000);
    let mut world = World::new(wallets);
    let history = world.history();
    let events: usize = history.iter().map(|(_, i)| i.len()).sum();
    // The history loads in hourly epochs: the updates start after the last.
    let end = history.last().map(|(t, _)| *t / HOUR * HOUR + HOUR).unwrap_or(T0);
    // The updates measured: single fills of wallets in turn, one a second after the history.
    let updates: Vec<Fill> =
        (0..samples).map(|i| world.fill((i as usize * 37) % wallets, end + (i + 1) * 1_000)).collect();
    println!(
        "intelligence: {wallets} wallets, {TOKENS} tokens, {DAYS} days, {events} input events; {samples} single-fill updates"
    );

    let (load_s, dd) = {
        let history = history.clone();
        let updates = updates.clone();
        timely::execute_directly(move |worker| {
            let mut sessions = Sessions::default();
            let probe = timely::dataflow::ProbeHandle::<u64>::new();
            worker.dataflow::<u64, _, _>(|scope| {
                let v = intelligence(Inputs::of(scope, &mut sessions));
                v.standings.probe_with(&probe);
                v.tiers.probe_with(&probe);
                v.allocations.probe_with(&probe);
                v.clusters.probe_with(&probe);
                v.blacklist.probe_with(&probe);
            });
            let mut feeder = Feeder::default();
            let started = Instant::now();
            // Load in hourly epochs.
            let mut i = 0;
            while i < history.len() {
                let until = history[i].0 / HOUR * HOUR + HOUR;
                while i < history.len() && history[i].0 < until {
                    for input in &history[i].1 {
                        feeder.apply(&mut sessions, input, history[i].0);
                    }
                    i += 1;
                }
                feeder.advance_to(&mut sessions, until);
                worker.step_while(|| probe.less_than(&until));
            }
            let load = started.elapsed().as_secs_f64();
            let mut hist = Histogram::<u64>::new(3).expect("histogram");
            for (n, f) in updates.iter().enumerate() {
                let t = f.time_ms;
                let started = Instant::now();
                feeder.apply(&mut sessions, &Input::Fill(f.clone()), t);
                feeder.advance_to(&mut sessions, t + 1);
                worker.step_while(|| probe.less_than(&(t + 1)));
                // The first 2 % warm up (the load's last merges land on them).
                if n >= updates.len() / 50 {
                    hist.record(started.elapsed().as_nanos() as u64).expect("record");
                }
            }
            (load, hist)
        })
    };
    println!("dataflow load: {load_s:.1} s ({:.0} events/s)", events as f64 / load_s);
    let dd_p50 = report("dataflow, one fill", &dd);

    let mut state = reference::State::default();
    for (_, inputs) in &history {
        state.apply(inputs);
    }
    let mut refh = Histogram::<u64>::new(3).expect("histogram");
    let reference_samples = (samples as usize).min(40);
    for f in updates.iter().take(reference_samples) {
        let started = Instant::now();
        state.apply(&[Input::Fill(f.clone())]);
        let standings = state.standings(f.time_ms);
        let eligible = reference::eligible_scores(&standings);
        let ranked = tiers(&eligible);
        let scores = eligible.into_iter().collect();
        let roi_tiers = standings.iter().map(|(w, s)| (*w, s.score.roi_tier)).collect();
        let target = allocate(&scores, &roi_tiers, &BTreeMap::new()).ok();
        std::hint::black_box((ranked, target));
        refh.record(started.elapsed().as_nanos() as u64).expect("record");
    }
    let ref_p50 = report("reference recompute (no clusters)", &refh);
    println!("ratio of medians, reference / dataflow: {:.0}x", ref_p50 / dd_p50);
}
