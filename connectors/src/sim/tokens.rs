//! The simulated perp universe: real Hyperliquid names with their real size
//! decimals (from the recorded `meta`), plausible prices, volatilities and market
//! betas, and the venue's tick rules.

use rust_decimal::prelude::*;

use crate::wire::Decimal;

#[derive(Debug, Clone)]
pub struct TokenSpec {
    pub name: &'static str,
    pub sz_decimals: u32,
    pub max_leverage: u32,
    pub start_price: f64,
    /// Daily volatility of returns.
    pub daily_vol: f64,
    /// Exposure to the market factor.
    pub beta: f64,
    /// Half the quoted spread, as a fraction of the mid.
    pub half_spread: f64,
}

const fn t(name: &'static str, sz: u32, lev: u32, px: f64, vol: f64, beta: f64, hs: f64) -> TokenSpec {
    TokenSpec { name, sz_decimals: sz, max_leverage: lev, start_price: px, daily_vol: vol, beta, half_spread: hs }
}

/// Up to 30 markets, most liquid first; a world of N tokens takes the first N.
pub const CATALOG: [TokenSpec; 30] = [
    t("BTC", 5, 50, 64_000.0, 0.025, 1.0, 0.00005),
    t("ETH", 4, 50, 3_100.0, 0.033, 1.1, 0.00007),
    t("SOL", 2, 20, 145.0, 0.048, 1.3, 0.0001),
    t("HYPE", 2, 10, 24.0, 0.065, 1.2, 0.00015),
    t("DOGE", 0, 20, 0.16, 0.055, 1.3, 0.00015),
    t("XRP", 0, 20, 0.62, 0.045, 1.1, 0.00012),
    t("AVAX", 2, 20, 34.0, 0.052, 1.3, 0.00015),
    t("LINK", 1, 20, 15.0, 0.05, 1.2, 0.00015),
    t("ARB", 1, 20, 1.1, 0.058, 1.3, 0.0002),
    t("OP", 1, 20, 2.4, 0.06, 1.3, 0.0002),
    t("SUI", 1, 20, 1.5, 0.065, 1.4, 0.0002),
    t("BNB", 3, 20, 590.0, 0.03, 0.9, 0.0001),
    t("LTC", 2, 20, 82.0, 0.04, 1.0, 0.00015),
    t("BCH", 3, 20, 410.0, 0.045, 1.0, 0.0002),
    t("APT", 2, 20, 8.5, 0.06, 1.3, 0.0002),
    t("ATOM", 2, 20, 8.8, 0.05, 1.1, 0.0002),
    t("INJ", 1, 20, 24.0, 0.065, 1.4, 0.00025),
    t("LDO", 1, 20, 2.0, 0.065, 1.3, 0.00025),
    t("MATIC", 1, 20, 0.72, 0.055, 1.2, 0.0002),
    t("kPEPE", 0, 10, 0.0098, 0.08, 1.6, 0.0003),
    t("WIF", 0, 10, 2.6, 0.09, 1.6, 0.0003),
    t("DYDX", 1, 20, 2.1, 0.065, 1.3, 0.00025),
    t("APE", 1, 20, 1.2, 0.07, 1.3, 0.0003),
    t("CRV", 1, 20, 0.48, 0.07, 1.2, 0.0003),
    t("GMX", 2, 20, 31.0, 0.06, 1.1, 0.0003),
    t("RNDR", 1, 20, 7.2, 0.07, 1.4, 0.0003),
    t("SNX", 1, 20, 2.9, 0.07, 1.2, 0.0003),
    t("STX", 0, 20, 1.9, 0.07, 1.3, 0.0003),
    t("FTM", 0, 20, 0.68, 0.075, 1.4, 0.0003),
    t("CFX", 0, 20, 0.19, 0.08, 1.4, 0.0003),
];

/// How to round a price to the tick grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    Nearest,
    Up,
    Down,
}

impl TokenSpec {
    /// Most decimals a price may have: 6 − szDecimals (perps).
    pub fn price_decimals(&self) -> u32 {
        6u32.saturating_sub(self.sz_decimals)
    }

    /// A valid order price: ≤ 5 significant figures (integers always valid) and
    /// ≤ `price_decimals` decimals, rounded as asked.
    pub fn round_price(&self, px: f64, mode: Round) -> Decimal {
        if !px.is_finite() || px <= 0.0 {
            return Decimal::ZERO;
        }
        let magnitude = px.log10().floor() as i32; // 10^magnitude ≤ px
        let sig_decimals = (4 - magnitude).max(0) as u32;
        let decimals = sig_decimals.min(self.price_decimals());
        let scale = 10f64.powi(decimals as i32);
        let scaled = px * scale;
        let r = match mode {
            Round::Nearest => scaled.round(),
            Round::Up => (scaled - 1e-9).ceil(),
            Round::Down => (scaled + 1e-9).floor(),
        };
        let r = r.max(1.0);
        Decimal::from_i128_with_scale(r as i128, decimals).normalize()
    }

    /// A size truncated to the lot (szDecimals).
    pub fn round_size_down(&self, sz: f64) -> Decimal {
        if !sz.is_finite() || sz <= 0.0 {
            return Decimal::ZERO;
        }
        let scale = 10f64.powi(self.sz_decimals as i32);
        let units = (sz * scale + 1e-9).floor();
        Decimal::from_i128_with_scale(units as i128, self.sz_decimals).normalize()
    }

    /// Whether `px` is on the tick grid (what the exchange checks).
    pub fn is_valid_price(&self, px: Decimal) -> bool {
        if px <= Decimal::ZERO {
            return false;
        }
        let n = px.normalize();
        if n.scale() == 0 {
            return true;
        }
        let digits = n.mantissa().unsigned_abs().to_string().trim_start_matches('0').len();
        n.scale() <= self.price_decimals() && digits <= 5
    }

    pub fn is_valid_size(&self, sz: Decimal) -> bool {
        sz > Decimal::ZERO && sz.normalize().scale() <= self.sz_decimals
    }
}

pub fn to_f64(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str) -> &'static TokenSpec {
        CATALOG.iter().find(|t| t.name == name).unwrap()
    }

    #[test]
    fn prices_follow_the_tick_rules() {
        let btc = spec("BTC");
        assert_eq!(btc.round_price(64_123.456, Round::Nearest).to_string(), "64123");
        assert_eq!(btc.round_price(64_123.456, Round::Up).to_string(), "64124");
        assert_eq!(spec("ETH").round_price(3_101.234, Round::Nearest).to_string(), "3101.2");
        assert_eq!(spec("SOL").round_price(145.678, Round::Nearest).to_string(), "145.68");
        assert_eq!(spec("kPEPE").round_price(0.009876543, Round::Nearest).to_string(), "0.009877");
        assert_eq!(spec("DOGE").round_price(0.16234567, Round::Down).to_string(), "0.16234");
        for name in ["BTC", "ETH", "SOL", "kPEPE", "BCH"] {
            let s = spec(name);
            let p = s.round_price(s.start_price * 1.2345, Round::Nearest);
            assert!(s.is_valid_price(p), "{name} {p}");
        }
        assert!(!btc.is_valid_price(Decimal::new(6412345, 1)));
        assert!(btc.is_valid_price(Decimal::from(123_456)));
    }

    #[test]
    fn sizes_truncate_to_the_lot() {
        assert_eq!(spec("BTC").round_size_down(0.123456789).to_string(), "0.12345");
        assert_eq!(spec("DOGE").round_size_down(1234.9).to_string(), "1234");
        assert!(spec("ETH").is_valid_size(Decimal::new(12, 4)));
        assert!(!spec("ETH").is_valid_size(Decimal::new(12, 5)));
    }
}
