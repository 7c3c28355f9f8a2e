//! One position model — average-entry accounting per wallet and coin — for every
//! place that must turn a trade into a full fill: the simulated venue's ledger,
//! the importer of trade histories that lack Hyperliquid's fill fields (the 2023
//! CSV), and live tracking of wallets seen only on the public `trades` channel.
//! Because they share this code, fills from any source carry the same start
//! position, direction, realised PnL and fee.

use std::collections::BTreeMap;

use rust_decimal::RoundingStrategy;

use crate::wire::Decimal;

/// Hyperliquid's base fee schedule: taker 0.045 %, maker 0.015 % of notional.
pub const TAKER_FEE: Decimal = Decimal::from_parts(45, 0, 0, false, 5);
pub const MAKER_FEE: Decimal = Decimal::from_parts(15, 0, 0, false, 5);
/// Decimal places of USDC amounts.
pub const USD_DP: u32 = 6;
/// Decimal places kept for average entry prices.
pub const ENTRY_DP: u32 = 8;

pub fn round_usd(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(USD_DP, RoundingStrategy::MidpointNearestEven)
}

/// The fee of a fill of `notional` from the schedule.
pub fn fee(notional: Decimal, crossed: bool) -> Decimal {
    round_usd(notional * if crossed { TAKER_FEE } else { MAKER_FEE })
}

/// What one fill does to a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// Signed size before and after.
    pub start: Decimal,
    pub end: Decimal,
    /// Average entry after the fill (zero when flat).
    pub entry: Decimal,
    /// PnL realised by the part of the fill that reduced the position.
    pub closed_pnl: Decimal,
    /// Hyperliquid's display direction (`Open Long`, `Close Short`, `Long > Short`, …).
    pub dir: &'static str,
    /// The fill opened a new position (from flat, or the remainder of a flip).
    pub opened: bool,
}

/// Hyperliquid's `dir` for a fill of `buy` from `start` to `end`.
pub fn direction(start: Decimal, end: Decimal, buy: bool) -> &'static str {
    let was_long = start.is_sign_positive();
    if start.is_zero() || was_long == buy {
        if buy { "Open Long" } else { "Open Short" }
    } else if end.is_zero() || end.is_sign_positive() == was_long {
        if was_long { "Close Long" } else { "Close Short" }
    } else if was_long {
        "Long > Short"
    } else {
        "Short > Long"
    }
}

/// Applies a fill of `sz` at `px` to a position of `start` at average `entry`:
/// adds average the entry, reductions realise `(px − entry) × closed × sign`, a
/// flip closes everything and opens the remainder at `px`.
pub fn apply(start: Decimal, entry: Decimal, buy: bool, px: Decimal, sz: Decimal) -> Change {
    let delta = if buy { sz } else { -sz };
    let end = start + delta;
    let dir = direction(start, end, buy);
    if start.is_zero() {
        return Change { start, end, entry: px, closed_pnl: Decimal::ZERO, dir, opened: true };
    }
    if start.is_sign_positive() == buy {
        let entry = ((entry * start.abs() + px * sz) / end.abs()).round_dp(ENTRY_DP);
        return Change { start, end, entry, closed_pnl: Decimal::ZERO, dir, opened: false };
    }
    let closed = sz.min(start.abs());
    let sign = if start.is_sign_positive() { Decimal::ONE } else { -Decimal::ONE };
    let closed_pnl = round_usd((px - entry) * closed * sign);
    let (entry, opened) = if end.is_zero() {
        (Decimal::ZERO, false)
    } else if end.is_sign_positive() == start.is_sign_positive() {
        (entry, false)
    } else {
        (px, true)
    };
    Change { start, end, entry, closed_pnl, dir, opened }
}

/// Positions of many wallets, rebuilt from their trades.
#[derive(Debug, Default, Clone)]
pub struct PositionBook {
    positions: BTreeMap<(String, String), (Decimal, Decimal)>,
}

impl PositionBook {
    pub fn new() -> PositionBook {
        PositionBook::default()
    }

    /// Applies a trade of `user` and returns what it did.
    pub fn trade(&mut self, user: &str, coin: &str, buy: bool, px: Decimal, sz: Decimal) -> Change {
        let key = (user.to_string(), coin.to_string());
        let (start, entry) = self.positions.get(&key).copied().unwrap_or_default();
        let change = apply(start, entry, buy, px, sz);
        if change.end.is_zero() {
            self.positions.remove(&key);
        } else {
            self.positions.insert(key, (change.end, change.entry));
        }
        change
    }

    /// Sets a position known from elsewhere (a snapshot, a source's start position).
    pub fn set(&mut self, user: &str, coin: &str, size: Decimal, entry: Decimal) {
        let key = (user.to_string(), coin.to_string());
        if size.is_zero() {
            self.positions.remove(&key);
        } else {
            self.positions.insert(key, (size, entry));
        }
    }

    /// Current size and entry of `user` in `coin`.
    pub fn get(&self, user: &str, coin: &str) -> Option<(Decimal, Decimal)> {
        self.positions.get(&(user.to_string(), coin.to_string())).copied()
    }

    /// `user`'s open positions: (coin, size, entry), by coin.
    pub fn of<'a>(&'a self, user: &'a str) -> impl Iterator<Item = (&'a str, Decimal, Decimal)> + 'a {
        self.positions
            .range((user.to_string(), String::new())..)
            .take_while(move |((u, _), _)| u == user)
            .map(|((_, coin), (size, entry))| (coin.as_str(), *size, *entry))
    }

    /// Every open position: ((user, coin), (size, entry)).
    pub fn open(&self) -> impl Iterator<Item = (&(String, String), &(Decimal, Decimal))> {
        self.positions.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        crate::wire::parse_decimal(s).unwrap()
    }

    #[test]
    fn average_entry_accounting() {
        let mut b = PositionBook::new();
        let c = b.trade("u", "ETH", true, d("100"), d("2"));
        assert_eq!((c.dir, c.closed_pnl, c.opened), ("Open Long", Decimal::ZERO, true));
        let c = b.trade("u", "ETH", true, d("110"), d("2"));
        assert_eq!((c.dir, c.entry), ("Open Long", d("105")));
        let c = b.trade("u", "ETH", false, d("120"), d("1"));
        assert_eq!((c.dir, c.closed_pnl, c.end), ("Close Long", d("15"), d("3")));
        let c = b.trade("u", "ETH", false, d("90"), d("5"));
        assert_eq!((c.dir, c.closed_pnl, c.entry, c.opened), ("Long > Short", d("-45"), d("90"), true));
        let c = b.trade("u", "ETH", true, d("80"), d("2"));
        assert_eq!((c.dir, c.closed_pnl, c.end), ("Close Short", d("20"), Decimal::ZERO));
        assert_eq!(b.get("u", "ETH"), None);
        b.trade("u", "BTC", false, d("50"), d("1"));
        b.trade("v", "ETH", true, d("10"), d("1"));
        assert_eq!(b.of("u").collect::<Vec<_>>(), [("BTC", d("-1"), d("50"))]);
        assert_eq!(fee(d("1000"), true), d("0.45"));
        assert_eq!(fee(d("1000"), false), d("0.15"));
    }
}
