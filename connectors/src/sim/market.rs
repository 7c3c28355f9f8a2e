//! Price paths and funding: a market factor with volatility regimes, each
//! token's beta to it plus its own noise, and occasional jumps; minute resolution,
//! generated forward on demand from one seeded stream (so looking ahead never
//! changes the path). Funding is hourly, leaning with the last day's move.

use rust_decimal::prelude::*;

use super::rng::SimRng;
use super::tokens::{Round, TokenSpec};
use crate::wire::Decimal;

pub const MINUTE_MS: u64 = 60_000;
pub const HOUR_MS: u64 = 3_600_000;
pub const DAY_MS: u64 = 86_400_000;
/// Daily volatility of the market factor.
const MARKET_DAILY_VOL: f64 = 0.02;
/// Funding's constant interest component per hour (Hyperliquid's 0.01 % / 8 h).
const BASE_FUNDING: f64 = 0.0000125;

pub struct Market {
    pub tokens: Vec<TokenSpec>,
    /// Time of minute 0 (a day boundary).
    pub start_ms: u64,
    prices: Vec<Vec<f64>>,
    /// Funding rate per token, index h = the hour ending at `start_ms + (h+1) h`.
    funding: Vec<Vec<Decimal>>,
    rng: SimRng,
    regime: f64,
}

impl Market {
    pub fn new(seed: u64, tokens: Vec<TokenSpec>, start_ms: u64) -> Market {
        let prices = tokens.iter().map(|t| vec![t.start_price]).collect();
        let funding = tokens.iter().map(|_| Vec::new()).collect();
        Market { tokens, start_ms, prices, funding, rng: SimRng::derive(seed, "market", 0), regime: 1.0 }
    }

    pub fn minute_of(&self, ms: u64) -> usize {
        (ms.saturating_sub(self.start_ms) / MINUTE_MS) as usize
    }

    /// Generates prices through minute `m` (inclusive) and the funding of every
    /// hour that has ended by then.
    pub fn ensure_minute(&mut self, m: usize) {
        while self.prices[0].len() <= m {
            self.step_minute();
        }
    }

    fn step_minute(&mut self) {
        let minute = self.prices[0].len();
        if minute.is_multiple_of(60) && self.rng.chance(1.0 / 48.0) {
            let r = self.rng.uniform();
            self.regime = if r < 0.3 {
                0.6
            } else if r < 0.8 {
                1.0
            } else {
                1.9
            };
        }
        let per_minute = (1.0f64 / 1440.0).sqrt();
        let market = self.rng.normal() * MARKET_DAILY_VOL * per_minute * self.regime
            + if self.rng.chance(1.0 / (30.0 * 1440.0)) { self.rng.normal() * 0.03 } else { 0.0 };
        for (i, spec) in self.tokens.iter().enumerate() {
            let idio_daily = (spec.daily_vol.powi(2) - (spec.beta * MARKET_DAILY_VOL).powi(2)).max(0.0).sqrt();
            let jump =
                if self.rng.chance(1.0 / (20.0 * 1440.0)) { self.rng.normal() * spec.daily_vol * 1.5 } else { 0.0 };
            let r = spec.beta * market + self.rng.normal() * idio_daily * per_minute * self.regime + jump;
            let last = *self.prices[i].last().unwrap_or(&spec.start_price);
            // Keep prices inside a sane band of the start so ticks stay meaningful.
            let next = (last * r.clamp(-0.25, 0.25).exp()).clamp(spec.start_price / 20.0, spec.start_price * 20.0);
            self.prices[i].push(next);
        }
        if (minute + 1).is_multiple_of(60) {
            self.step_funding(minute + 1);
        }
    }

    fn step_funding(&mut self, minute_end: usize) {
        for i in 0..self.tokens.len() {
            let now = self.prices[i][minute_end - 1];
            let day_ago = self.prices[i][minute_end.saturating_sub(1440)];
            let momentum = ((now / day_ago - 1.0) / 0.05).clamp(-1.0, 1.0);
            let rate = BASE_FUNDING + 0.0001 * momentum + self.rng.normal() * 0.00001;
            let rate = Decimal::from_f64(rate.clamp(-0.004, 0.004)).unwrap_or_default().round_dp(8);
            self.funding[i].push(rate);
        }
    }

    /// The raw (unrounded) price at time `ms`.
    pub fn price(&mut self, token: usize, ms: u64) -> f64 {
        let m = self.minute_of(ms);
        self.ensure_minute(m);
        self.prices[token][m]
    }

    /// A price already generated (no generation: for read-only views).
    pub fn price_generated(&self, token: usize, ms: u64) -> f64 {
        let m = self.minute_of(ms).min(self.prices[token].len() - 1);
        self.prices[token][m]
    }

    /// The mark/mid at `ms`, on the tick grid.
    pub fn mark(&self, token: usize, ms: u64) -> Decimal {
        self.tokens[token].round_price(self.price_generated(token, ms), Round::Nearest)
    }

    /// Funding rate applied at the hour boundary `hour_ms`.
    pub fn funding_rate(&self, token: usize, hour_ms: u64) -> Option<Decimal> {
        let h = (hour_ms.checked_sub(self.start_ms)? / HOUR_MS).checked_sub(1)? as usize;
        self.funding[token].get(h).copied()
    }

    /// `[open, high, low, close]` of the minutes in `[from_ms, to_ms)`, generated ones only.
    pub fn ohlc(&self, token: usize, from_ms: u64, to_ms: u64) -> Option<[f64; 4]> {
        let a = self.minute_of(from_ms);
        let b = self.minute_of(to_ms).min(self.prices[token].len());
        if a >= b {
            return None;
        }
        let slice = &self.prices[token][a..b];
        let hi = slice.iter().copied().fold(f64::MIN, f64::max);
        let lo = slice.iter().copied().fold(f64::MAX, f64::min);
        Some([slice[0], hi, lo, slice[slice.len() - 1]])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::tokens::CATALOG;

    #[test]
    fn paths_are_deterministic_and_independent_of_lookahead() {
        let mut a = Market::new(3, CATALOG[..5].to_vec(), 0);
        let mut b = Market::new(3, CATALOG[..5].to_vec(), 0);
        b.ensure_minute(5_000); // look far ahead first
        for m in [0u64, 10, 999, 4_321] {
            assert_eq!(a.price(2, m * MINUTE_MS), b.price(2, m * MINUTE_MS));
        }
        let mut c = Market::new(4, CATALOG[..5].to_vec(), 0);
        assert_ne!(a.price(0, 1_000 * MINUTE_MS), c.price(0, 1_000 * MINUTE_MS));
    }

    #[test]
    fn volatility_and_funding_are_plausible() {
        let mut m = Market::new(11, CATALOG[..3].to_vec(), 0);
        m.ensure_minute(30 * 1440);
        let mut daily = Vec::new();
        for d in 1..30u64 {
            daily.push((m.price(0, d * DAY_MS) / m.price(0, (d - 1) * DAY_MS)).ln());
        }
        let sd = (daily.iter().map(|r| r * r).sum::<f64>() / daily.len() as f64).sqrt();
        assert!(sd > 0.008 && sd < 0.08, "BTC daily vol {sd}");
        let rate = m.funding_rate(0, 5 * HOUR_MS).unwrap();
        assert!(rate.abs() < Decimal::new(5, 3), "{rate}");
        assert!(m.funding_rate(0, 0).is_none());
    }
}
