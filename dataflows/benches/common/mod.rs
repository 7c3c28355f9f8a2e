//! The benchmarks' simulated world: wallets trading random walks on their
//! tokens, daily account snapshots with leaderboard rows, and (for the
//! trading benchmarks) hourly marks and our own account. Deterministic, so
//! every run measures the same inputs.

#![allow(dead_code)] // each benchmark uses its part

use std::collections::BTreeMap;
use std::time::Duration;

use dataflows::feed::{Feeder, Input, Sessions};
use dataflows::intel::metrics::DAY_MS;
use dataflows::model::{
    AccountValue, Address, Fill, LeaderboardRow, LeaderboardWindow, MarginMode, MarkPrice, Origin, OwnPosition,
    PositionSnapshot, Price, Ratio, Side, Size, Strategy, Token, TxHash, Usd,
};
use hdrhistogram::Histogram;
use timely::dataflow::ProbeHandle;

pub const HOUR: u64 = 3_600_000;
pub const T0: u64 = 20_000 * DAY_MS;

/// A numeric setting from the environment, or its default.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// splitmix64: a tiny deterministic generator.
pub struct Rng(u64);

impl Rng {
    pub fn seeded(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub struct World {
    pub rng: Rng,
    pub wallets: Vec<Address>,
    pub tokens: Vec<Token>,
    /// (wallet, token) → (lots, entry price).
    positions: BTreeMap<(usize, usize), (i64, i64)>,
    /// Each token's mark, in hundredths around 100.
    marks: Vec<i64>,
    id: u64,
}

impl World {
    pub fn new(wallets: usize, tokens: usize) -> World {
        let tokens = (0..tokens).map(|i| Token::parse(&format!("T{i}")).expect("token")).collect();
        let wallets = (0..wallets)
            .map(|i| {
                let mut b = [0u8; 20];
                b[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
                Address::from_bytes(b)
            })
            .collect();
        World { rng: Rng(7), wallets, tokens, positions: BTreeMap::new(), marks: Vec::new(), id: 0 }
    }

    /// One fill of wallet `w`: opens, adds to, reduces or flips one of its
    /// three tokens; one wallet in ten closes mostly at a profit.
    pub fn fill(&mut self, w: usize, t: u64) -> Fill {
        let n = self.tokens.len();
        let tok = (w * 7 + self.rng.below(3) as usize) % n;
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

    /// Wallet `w`'s account snapshot: its positions, then its account value.
    pub fn snapshot(&mut self, w: usize, t: u64) -> Vec<Input> {
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
        out
    }

    /// The snapshot and the wallet's leaderboard row.
    fn snapshot_and_rank(&mut self, w: usize, t: u64) -> Vec<Input> {
        let mut out = self.snapshot(w, t);
        let value = match out.last() {
            Some(Input::Account(a)) => a.value,
            _ => Usd::ZERO,
        };
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

    /// Token `k`'s next mark: a ±1 % random walk kept within 90–110.
    pub fn mark(&mut self, k: usize, t: u64) -> Input {
        if self.marks.len() < self.tokens.len() {
            self.marks = vec![10_000; self.tokens.len()];
        }
        let step = self.rng.below(201) as i64 - 100;
        self.marks[k] = (self.marks[k] + step).clamp(9_000, 11_000);
        Input::Mark(MarkPrice { time_ms: t, token: self.tokens[k], price: Price::lit(self.marks[k], 2) })
    }

    /// `days` of history: about four fills a wallet a day, a daily snapshot
    /// and leaderboard row per wallet, the scoring clock hourly.
    pub fn history(&mut self, days: u64) -> Vec<(u64, Vec<Input>)> {
        self.history_with(days, false)
    }

    /// The history plus what the strategies read: hourly marks of every
    /// token, the trading clock every 15 minutes, and our own account with
    /// a position on every tenth token (so the exits have work on every mark).
    pub fn trading_history(&mut self, days: u64) -> Vec<(u64, Vec<Input>)> {
        self.history_with(days, true)
    }

    fn history_with(&mut self, days: u64, trading: bool) -> Vec<(u64, Vec<Input>)> {
        let n = self.wallets.len();
        let mut by_time: BTreeMap<u64, Vec<Input>> = BTreeMap::new();
        for h in 0..days * 24 {
            let t = T0 + h * HOUR;
            by_time.entry(t).or_default().push(Input::Tick(t));
            if trading {
                for k in 0..self.tokens.len() {
                    let m = self.mark(k, t);
                    by_time.entry(t).or_default().push(m);
                }
                for q in 0..4 {
                    by_time.entry(t + q * HOUR / 4).or_default().push(Input::Now(t + q * HOUR / 4));
                }
            }
            for w in 0..n {
                if self.rng.below(6) == 0 {
                    let at = t + 1 + self.rng.below(HOUR - 2);
                    let f = self.fill(w, at);
                    by_time.entry(at).or_default().push(Input::Fill(f));
                }
                if h % 24 == (w as u64 % 24) {
                    let at = t + 1 + w as u64;
                    let s = self.snapshot_and_rank(w, at);
                    by_time.entry(at).or_default().extend(s);
                }
            }
        }
        if trading {
            let at = T0 + 1;
            let own = self.own_account(at);
            by_time.entry(at).or_default().extend(own);
        }
        by_time.into_iter().collect()
    }

    /// Our account: $1M, with a small long or short on every tenth token.
    fn own_account(&mut self, t: u64) -> Vec<Input> {
        let n = self.wallets.len().max(1);
        let mut out: Vec<Input> = (0..self.tokens.len())
            .step_by(10)
            .map(|k| {
                let units = if k % 20 == 0 { 50 } else { -50 };
                Input::OwnPosition(OwnPosition {
                    time_ms: t,
                    token: self.tokens[k],
                    size: Size::from_int(units),
                    entry_price: Price::from_int(100),
                    liquidation_price: Some(Price::from_int(if units > 0 { 70 } else { 130 })),
                    leverage: Ratio::from_int(3),
                    opened_at: t,
                    origin: Origin { strategy: Strategy::ALL[k / 10 % 3], wallet: Some(self.wallets[k % n]) },
                })
            })
            .collect();
        out.push(Input::OwnAccount { time_ms: t, value: Usd::from_int(1_000_000) });
        out
    }
}

/// One figure for `scripts/benchmarks` to collect: a tab-separated line
/// `FIGURE key value unit` (the human lines beside it are for people).
pub fn figure(key: &str, value: f64, unit: &str) {
    if value.fract() == 0.0 {
        println!("FIGURE\t{key}\t{value:.0}\t{unit}");
    } else {
        println!("FIGURE\t{key}\t{value:.3}\t{unit}");
    }
}

/// A latency histogram's p50, p99, p99.9 and max as figures `key.p50` … in µs.
pub fn latency_figures(key: &str, h: &Histogram<u64>) {
    let us = |q: f64| h.value_at_quantile(q) as f64 / 1_000.0;
    figure(&format!("{key}.p50"), us(0.5), "µs");
    figure(&format!("{key}.p99"), us(0.99), "µs");
    figure(&format!("{key}.p99_9"), us(0.999), "µs");
    figure(&format!("{key}.max"), h.max() as f64 / 1_000.0, "µs");
}

/// Prints one latency line; returns the median in µs.
pub fn report(name: &str, h: &Histogram<u64>) -> f64 {
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

/// Records one latency.
pub fn record(h: &mut Histogram<u64>, d: Duration) {
    h.record(d.as_nanos() as u64).expect("record");
}

/// A line of `/proc/self/status` (`VmRSS`, `VmHWM`) in MiB; `None` off Linux.
pub fn status_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Feeds `history` in hourly epochs (as the daemon's steps would), waiting
/// for the probe after each; `after_hour` sees each epoch's end.
pub fn feed_hourly(
    worker: &mut timely::worker::Worker,
    feeder: &mut Feeder,
    sessions: &mut Sessions,
    probe: &ProbeHandle<u64>,
    history: &[(u64, Vec<Input>)],
    mut after_hour: impl FnMut(u64),
) {
    let mut i = 0;
    while i < history.len() {
        let until = history[i].0 / HOUR * HOUR + HOUR;
        while i < history.len() && history[i].0 < until {
            for input in &history[i].1 {
                feeder.apply(sessions, input, history[i].0);
            }
            i += 1;
        }
        feeder.advance_to(sessions, until);
        worker.step_while(|| probe.less_than(&until));
        after_hour(until);
    }
}
