//! Round trips from fills: a trade opens when a token's position leaves
//! zero and closes when it is back at zero (a flip closes one and opens the
//! next). Its PnL is exact — the fills' realised PnL less their fees; funding
//! is reported for the account, not per trade.

use std::collections::BTreeMap;

use dataflows::model::{NumError, Side, Size, TimeMs, Token, Usd};

use super::stats::ClosedTrade;

/// One fill of ours.
#[derive(Debug, Clone, PartialEq)]
pub struct Leg {
    pub token: Token,
    pub time_ms: TimeMs,
    pub side: Side,
    pub size: Size,
    /// Realised by this fill (its closing part), before fees.
    pub closed_pnl: Usd,
    pub fee: Usd,
}

/// One round trip.
#[derive(Debug, Clone, PartialEq)]
pub struct Trade {
    pub token: Token,
    pub opened_at: TimeMs,
    pub closed_at: TimeMs,
    /// Realised PnL less fees.
    pub pnl: Usd,
    pub fees: Usd,
}

impl Trade {
    pub fn closed(&self) -> ClosedTrade {
        ClosedTrade { pnl: self.pnl.to_f64(), hold_ms: self.closed_at.saturating_sub(self.opened_at) }
    }
}

#[derive(Default)]
struct Open {
    size: Size,
    opened_at: TimeMs,
    pnl: Usd,
    fees: Usd,
}

/// The closed round trips of `legs` (in time order), and the trades still
/// open at the end (their realised part so far).
pub fn round_trips(legs: &[Leg]) -> Result<(Vec<Trade>, Vec<Trade>), NumError> {
    let mut open: BTreeMap<Token, Open> = BTreeMap::new();
    let mut closed = Vec::new();
    for leg in legs {
        let o = open.entry(leg.token).or_default();
        if o.size.is_zero() {
            *o = Open { opened_at: leg.time_ms, ..Open::default() };
        }
        let delta = if leg.side == Side::Buy { leg.size } else { leg.size.neg() };
        let end = o.size.checked_add(delta)?;
        o.pnl = o.pnl.checked_add(leg.closed_pnl)?.checked_sub(leg.fee)?;
        o.fees = o.fees.checked_add(leg.fee)?;
        let flipped = !o.size.is_zero() && !end.is_zero() && end.signum() != o.size.signum();
        if end.is_zero() || flipped {
            closed.push(Trade {
                token: leg.token,
                opened_at: o.opened_at,
                closed_at: leg.time_ms,
                pnl: o.pnl,
                fees: o.fees,
            });
            // What is left of a flip opens the next trade (its fee was the closing one's).
            *o = Open { size: end, opened_at: leg.time_ms, ..Open::default() };
        } else {
            o.size = end;
        }
    }
    let still_open = open
        .into_iter()
        .filter(|(_, o)| !o.size.is_zero())
        .map(|(token, o)| Trade { token, opened_at: o.opened_at, closed_at: o.opened_at, pnl: o.pnl, fees: o.fees })
        .collect();
    Ok((closed, still_open))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leg(token: &str, t: TimeMs, side: Side, size: i64, pnl: &str, fee: &str) -> Leg {
        Leg {
            token: Token::parse(token).unwrap(),
            time_ms: t,
            side,
            size: Size::from_int(size),
            closed_pnl: Usd::parse(pnl).unwrap(),
            fee: Usd::parse(fee).unwrap(),
        }
    }

    #[test]
    fn a_round_trip_nets_its_fills_pnl_and_fees() {
        // Buy 2 BTC, add 1, sell 3: realised 45, fees 0.5 + 0.25 + 0.75.
        let legs = [
            leg("BTC", 10, Side::Buy, 2, "0", "0.5"),
            leg("ETH", 15, Side::Sell, 1, "0", "0.1"),
            leg("BTC", 20, Side::Buy, 1, "0", "0.25"),
            leg("BTC", 30, Side::Sell, 3, "45", "0.75"),
        ];
        let (closed, open) = round_trips(&legs).unwrap();
        assert_eq!(closed.len(), 1);
        let t = &closed[0];
        assert_eq!((t.opened_at, t.closed_at), (10, 30));
        assert_eq!(t.pnl, Usd::parse("43.5").unwrap());
        assert_eq!(t.fees, Usd::parse("1.5").unwrap());
        assert_eq!(open.len(), 1, "ETH is still open");
        assert_eq!(open[0].pnl, Usd::parse("-0.1").unwrap());
    }

    #[test]
    fn a_flip_closes_one_trade_and_opens_the_next() {
        let legs = [
            leg("SOL", 1, Side::Buy, 5, "0", "1"),
            leg("SOL", 2, Side::Sell, 8, "-10", "2"),
            leg("SOL", 3, Side::Buy, 3, "6", "1"),
        ];
        let (closed, open) = round_trips(&legs).unwrap();
        assert_eq!(closed.len(), 2);
        assert_eq!((closed[0].opened_at, closed[0].closed_at, closed[0].pnl), (1, 2, Usd::parse("-13").unwrap()));
        assert_eq!((closed[1].opened_at, closed[1].closed_at, closed[1].pnl), (2, 3, Usd::parse("5").unwrap()));
        assert!(open.is_empty());
    }
}
