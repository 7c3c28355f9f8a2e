//! The venue's books, kept exactly in decimals: each account's cash, positions
//! (average entry price, margin mode, isolated margin), fills with Hyperliquid's
//! semantics (start position, direction, closed PnL, fee), funding payments,
//! transfers and daily account values.
//!
//! Account value = cash + Σ unrealised PnL, where cash moves only by transfers,
//! closed PnL, fees and funding — so the ledger identity holds by construction and
//! the tests check that what the APIs serve obeys it too.

use std::collections::BTreeMap;

use rust_decimal::prelude::*;

use super::tokens::TokenSpec;
use crate::wire::Decimal;

pub use crate::position::{ENTRY_DP, USD_DP, round_usd};

/// One fill of one account.
#[derive(Debug, Clone, PartialEq)]
pub struct FillRec {
    pub time: u64,
    pub token: usize,
    pub buy: bool,
    pub px: Decimal,
    pub sz: Decimal,
    pub start_position: Decimal,
    pub closed_pnl: Decimal,
    /// Total fee, builder fee included.
    pub fee: Decimal,
    pub builder_fee: Option<Decimal>,
    pub oid: u64,
    pub tid: u64,
    pub crossed: bool,
    pub liquidation: Option<LiqInfo>,
    pub cloid: Option<[u8; 16]>,
}

impl FillRec {
    pub fn signed_size(&self) -> Decimal {
        if self.buy { self.sz } else { -self.sz }
    }

    /// Hyperliquid's display direction.
    pub fn dir(&self) -> &'static str {
        crate::position::direction(self.start_position, self.start_position + self.signed_size(), self.buy)
    }

    /// Nansen's action: Open / Add / Reduce / Close (a flip reports Close).
    pub fn action(&self) -> &'static str {
        let start = self.start_position;
        let end = start + self.signed_size();
        if start.is_zero() {
            "Open"
        } else if start.is_sign_positive() == self.buy {
            "Add"
        } else if end.is_zero() || end.is_sign_positive() != start.is_sign_positive() {
            "Close"
        } else {
            "Reduce"
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LiqInfo {
    pub liquidated: usize,
    pub mark: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FundingRec {
    pub time: u64,
    pub token: usize,
    /// Received (negative: paid).
    pub usdc: Decimal,
    pub szi: Decimal,
    pub rate: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TransferRec {
    pub time: u64,
    /// Positive: deposit; negative: withdrawal.
    pub usdc: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pos {
    pub szi: Decimal,
    pub entry: Decimal,
    pub leverage: u32,
    pub isolated: bool,
    /// Margin backing the position: the isolated margin, or its share of cross equity.
    pub margin: Decimal,
    pub liq: Option<Decimal>,
    /// `liq` as a float, for the per-minute crossing check.
    pub liq_f: f64,
    pub opened_ms: u64,
    pub funding_since_open: Decimal,
    pub funding_since_change: Decimal,
}

/// A liquidation as it happened, for the audit of liquidation prices.
#[derive(Debug, Clone, PartialEq)]
pub struct LiquidationRec {
    pub time: u64,
    pub wallet: usize,
    pub token: usize,
    pub szi: Decimal,
    pub liquidation_px: Decimal,
    pub mark: Decimal,
    pub fill_px: Decimal,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub address: [u8; 20],
    pub cash: Decimal,
    pub positions: BTreeMap<usize, Pos>,
    pub fills: Vec<FillRec>,
    pub funding: Vec<FundingRec>,
    pub transfers: Vec<TransferRec>,
    /// Account value at each day boundary.
    pub daily_value: Vec<(u64, Decimal)>,
    pub funding_all_time: BTreeMap<usize, Decimal>,
}

/// Maintenance margin rate: half the initial margin at the market's max leverage.
pub fn maintenance_rate(spec: &TokenSpec) -> Decimal {
    Decimal::ONE / Decimal::from(2 * spec.max_leverage)
}

/// `(mark − entry) × szi`, to the cent's ten-thousandth.
pub fn unrealized(pos: &Pos, mark: Decimal) -> Decimal {
    round_usd((mark - pos.entry) * pos.szi)
}

impl Account {
    pub fn new(address: [u8; 20]) -> Account {
        Account {
            address,
            cash: Decimal::ZERO,
            positions: BTreeMap::new(),
            fills: Vec::new(),
            funding: Vec::new(),
            transfers: Vec::new(),
            daily_value: Vec::new(),
            funding_all_time: BTreeMap::new(),
        }
    }

    pub fn address_hex(&self) -> String {
        format!("0x{}", hex::encode(self.address))
    }

    pub fn transfer(&mut self, time: u64, usdc: Decimal) {
        self.cash += usdc;
        self.transfers.push(TransferRec { time, usdc });
    }

    /// Account value at the given marks: cash + Σ unrealised PnL.
    pub fn value(&self, mark: impl Fn(usize) -> Decimal) -> Decimal {
        self.cash + self.positions.iter().map(|(t, p)| unrealized(p, mark(*t))).sum::<Decimal>()
    }

    /// Sum of isolated margins (part of cash set aside for isolated positions).
    pub fn isolated_margin(&self) -> Decimal {
        self.positions.values().filter(|p| p.isolated).map(|p| p.margin).sum()
    }

    /// Applies one fill: position, average entry, margin, cash. Returns the record.
    #[allow(clippy::too_many_arguments)]
    pub fn apply_fill(
        &mut self,
        specs: &[TokenSpec],
        token: usize,
        buy: bool,
        px: Decimal,
        sz: Decimal,
        time: u64,
        fee: Decimal,
        builder_fee: Option<Decimal>,
        leverage: u32,
        isolated: bool,
        ids: (u64, u64),
        crossed: bool,
        liquidation: Option<LiqInfo>,
    ) -> FillRec {
        let existing = self.positions.remove(&token);
        let start = existing.as_ref().map(|p| p.szi).unwrap_or(Decimal::ZERO);
        let entry = existing.as_ref().map(|p| p.entry).unwrap_or(Decimal::ZERO);
        let change = crate::position::apply(start, entry, buy, px, sz);
        let closed_pnl = change.closed_pnl;
        let new_pos = match existing {
            _ if change.end.is_zero() => None,
            None => Some(self.opened(change.end, px, leverage, isolated, time)),
            Some(p) if change.opened => Some(self.opened(change.end, px, p.leverage, p.isolated, time)),
            Some(p) if change.end.abs() > p.szi.abs() => {
                // Add: isolated margin grows with the notional added.
                let margin = if p.isolated { p.margin + px * sz / Decimal::from(p.leverage) } else { p.margin };
                Some(Pos { szi: change.end, entry: change.entry, margin, funding_since_change: Decimal::ZERO, ..p })
            }
            Some(p) => {
                // Reduce: entry unchanged, isolated margin released pro rata.
                let margin = (p.margin * change.end.abs() / p.szi.abs()).round_dp(USD_DP);
                Some(Pos { szi: change.end, margin, funding_since_change: Decimal::ZERO, ..p })
            }
        };
        if let Some(p) = new_pos {
            self.positions.insert(token, p);
        }
        self.cash += closed_pnl - fee;
        self.refresh_liquidation_prices(specs);
        let rec = FillRec {
            time,
            token,
            buy,
            px,
            sz,
            start_position: start,
            closed_pnl,
            fee,
            builder_fee,
            oid: ids.0,
            tid: ids.1,
            crossed,
            liquidation,
            cloid: None,
        };
        self.fills.push(rec.clone());
        rec
    }

    fn opened(&self, szi: Decimal, px: Decimal, leverage: u32, isolated: bool, time: u64) -> Pos {
        let margin = if isolated { round_usd(px * szi.abs() / Decimal::from(leverage.max(1))) } else { Decimal::ZERO };
        Pos {
            szi,
            entry: px,
            leverage: leverage.max(1),
            isolated,
            margin,
            liq: None,
            liq_f: 0.0,
            opened_ms: time,
            funding_since_open: Decimal::ZERO,
            funding_since_change: Decimal::ZERO,
        }
    }

    /// Pays or receives one hour's funding on every open position.
    pub fn apply_funding(
        &mut self,
        specs: &[TokenSpec],
        time: u64,
        rate_and_mark: impl Fn(usize) -> (Decimal, Decimal),
    ) {
        let mut paid = Vec::new();
        for (token, pos) in self.positions.iter_mut() {
            let (rate, mark) = rate_and_mark(*token);
            let usdc = round_usd(-pos.szi * mark * rate);
            if usdc.is_zero() {
                continue;
            }
            if pos.isolated {
                pos.margin += usdc;
            }
            pos.funding_since_open += usdc;
            pos.funding_since_change += usdc;
            paid.push(FundingRec { time, token: *token, usdc, szi: pos.szi, rate });
        }
        for f in paid {
            self.cash += f.usdc;
            *self.funding_all_time.entry(f.token).or_default() += f.usdc;
            self.funding.push(f);
        }
        self.refresh_liquidation_prices(specs);
    }

    /// Recomputes every position's liquidation price. Isolated positions are backed
    /// by their own margin; cross positions share the cross equity (cash outside
    /// isolated margins) in proportion to their entry notional.
    pub fn refresh_liquidation_prices(&mut self, specs: &[TokenSpec]) {
        let cross_equity = self.cash - self.isolated_margin();
        let cross_notional: Decimal =
            self.positions.values().filter(|p| !p.isolated).map(|p| p.entry * p.szi.abs()).sum();
        for (token, pos) in self.positions.iter_mut() {
            if !pos.isolated {
                pos.margin = if cross_notional.is_zero() {
                    Decimal::ZERO
                } else {
                    round_usd(cross_equity * pos.entry * pos.szi.abs() / cross_notional)
                };
            }
            pos.liq = liquidation_price(pos, &specs[*token]);
            pos.liq_f = pos.liq.and_then(|l| l.to_f64()).unwrap_or(0.0);
        }
    }
}

/// The mark at which margin + unrealised PnL falls to maintenance margin:
/// long `(e·s − m) / (s·(1 − r))`, short `(e·s + m) / (s·(1 + r))`. `None` when a
/// long could never be liquidated (the price would be ≤ 0).
pub fn liquidation_price(pos: &Pos, spec: &TokenSpec) -> Option<Decimal> {
    let s = pos.szi.abs();
    if s.is_zero() {
        return None;
    }
    let r = maintenance_rate(spec);
    let e = pos.entry;
    let m = pos.margin;
    let px = if pos.szi.is_sign_positive() {
        (e * s - m) / (s * (Decimal::ONE - r))
    } else {
        (e * s + m) / (s * (Decimal::ONE + r))
    };
    (px > Decimal::ZERO).then(|| px.round_dp(ENTRY_DP))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::tokens::CATALOG;

    fn d(s: &str) -> Decimal {
        crate::wire::parse_decimal(s).unwrap()
    }

    fn fill(a: &mut Account, buy: bool, px: &str, sz: &str) -> FillRec {
        a.apply_fill(&CATALOG, 0, buy, d(px), d(sz), 1, d("1"), None, 5, true, (1, 1), true, None)
    }

    #[test]
    fn fills_follow_hyperliquid_semantics() {
        let mut a = Account::new([1; 20]);
        a.transfer(0, d("100000"));
        let f = fill(&mut a, true, "100", "2");
        assert_eq!((f.dir(), f.action(), f.start_position), ("Open Long", "Open", Decimal::ZERO));
        let f = fill(&mut a, true, "110", "2");
        assert_eq!((f.dir(), f.action()), ("Open Long", "Add"));
        assert_eq!(a.positions[&0].entry, d("105"));
        let f = fill(&mut a, false, "120", "1");
        assert_eq!((f.dir(), f.action(), f.closed_pnl), ("Close Long", "Reduce", d("15")));
        let f = fill(&mut a, false, "90", "5");
        assert_eq!((f.dir(), f.action(), f.closed_pnl), ("Long > Short", "Close", d("-45")));
        assert_eq!(a.positions[&0].szi, d("-2"));
        assert_eq!(a.positions[&0].entry, d("90"));
        let f = fill(&mut a, true, "80", "2");
        assert_eq!((f.dir(), f.action(), f.closed_pnl), ("Close Short", "Close", d("20")));
        assert!(a.positions.is_empty());
        // cash = deposit + Σ closed PnL − Σ fees
        assert_eq!(a.cash, d("100000") + d("15") - d("45") + d("20") - d("5"));
    }

    #[test]
    fn liquidation_prices_sit_where_margin_runs_out() {
        let mut a = Account::new([2; 20]);
        a.transfer(0, d("10000"));
        fill(&mut a, true, "100", "10"); // 1000 notional, 5x isolated → margin 200
        let p = &a.positions[&0];
        assert_eq!(p.margin, d("200"));
        let liq = p.liq.unwrap();
        // At the liquidation price, margin + uPnL = maintenance (r = 1/100 for BTC's 50x).
        let equity = p.margin + (liq - p.entry) * p.szi;
        let maintenance = liq * p.szi.abs() * maintenance_rate(&CATALOG[0]);
        assert!((equity - maintenance).abs() < d("0.000001"), "{equity} vs {maintenance}");
        assert!(liq < d("100") && liq > d("75"));
    }
}
