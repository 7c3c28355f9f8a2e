//! Hyperliquid node output (hyperliquid-api.md §5), one JSON value per line:
//!
//! * `node_fills`: `[user, Fill]` — the API's fill, nothing to derive.
//! * `node_fills_by_block`: `{block_number, block_time, events: [[user, Fill], …]}`.
//! * `node_trades`: `{coin, side, time, px, sz, hash, side_info: [buyer, seller]}`
//!   with each side's `start_pos` and `oid` but no direction, PnL or fee: the
//!   shared position model derives them. A position already open when the data
//!   starts has an unknown entry, so the model is re-based at the first trade
//!   that disagrees with it (entry = that trade's price, counted).

use serde::Deserialize;

use super::Record;
use crate::hyperliquid::info::Fill;
use crate::position::{self, PositionBook};
use crate::wire::{Decimal, dec_str};

/// Which node format a line is in, from its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Fills,
    FillsByBlock,
    Trades,
}

impl Shape {
    pub fn of(first: &serde_json::Value) -> Option<Shape> {
        if first.as_array().is_some_and(|a| a.len() == 2 && a[0].is_string() && a[1].is_object()) {
            Some(Shape::Fills)
        } else if first.get("events").is_some_and(|e| e.is_array()) {
            Some(Shape::FillsByBlock)
        } else if first.get("side_info").is_some_and(|e| e.is_array()) {
            Some(Shape::Trades)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Shape::Fills => "node_fills",
            Shape::FillsByBlock => "node_fills_by_block",
            Shape::Trades => "node_trades",
        }
    }
}

#[derive(Debug, Deserialize)]
struct Block {
    events: Vec<(String, Fill)>,
}

#[derive(Debug, Deserialize)]
struct NodeTrade {
    coin: String,
    /// The aggressor's side.
    side: String,
    time: String,
    #[serde(with = "dec_str")]
    px: Decimal,
    #[serde(with = "dec_str")]
    sz: Decimal,
    hash: String,
    side_info: [SideInfo; 2],
}

#[derive(Debug, Deserialize)]
struct SideInfo {
    user: String,
    #[serde(with = "dec_str")]
    start_pos: Decimal,
    oid: u64,
    #[serde(default)]
    cloid: Option<String>,
    #[serde(default)]
    twap_id: Option<u64>,
}

/// Reads node_trades lines into fills, keeping positions between lines.
#[derive(Debug, Default)]
pub struct TradesReader {
    book: PositionBook,
    /// Positions re-based because the data began with them open.
    pub rebased: u64,
}

impl TradesReader {
    fn fills(&mut self, t: NodeTrade) -> Result<Vec<Record>, String> {
        if t.px <= Decimal::ZERO || t.sz <= Decimal::ZERO {
            return Err(format!("px {} / sz {} must be positive", t.px, t.sz));
        }
        let time = super::parse_time(&t.time)?;
        let mut out = Vec::with_capacity(2);
        for (i, info) in t.side_info.iter().enumerate() {
            let buy = i == 0;
            let user = info.user.to_lowercase();
            let model = self.book.get(&user, &t.coin).map(|(s, _)| s).unwrap_or_default();
            if model != info.start_pos {
                self.rebased += 1;
                self.book.set(&user, &t.coin, info.start_pos, t.px);
            }
            let change = self.book.trade(&user, &t.coin, buy, t.px, t.sz);
            let crossed = (t.side == "B") == buy;
            let fill = Fill {
                coin: t.coin.clone(),
                px: t.px,
                sz: t.sz,
                side: if buy { "B" } else { "A" }.into(),
                time,
                start_position: change.start,
                dir: change.dir.into(),
                closed_pnl: change.closed_pnl,
                hash: t.hash.clone(),
                oid: info.oid,
                crossed,
                fee: position::fee(t.px * t.sz, crossed),
                tid: None,
                fee_token: Some("USDC".into()),
                builder_fee: None,
                cloid: info.cloid.clone(),
                twap_id: info.twap_id,
                liquidation: None,
            };
            out.push(Record::Fill { user, fill });
        }
        Ok(out)
    }
}

/// The records of one line of `shape`; the error says what was wrong.
pub fn parse_line(shape: Shape, line: &str, trades: &mut TradesReader) -> Result<Vec<Record>, String> {
    match shape {
        Shape::Fills => {
            let (user, fill): (String, Fill) = serde_json::from_str(line).map_err(|e| e.to_string())?;
            Ok(vec![Record::Fill { user: user.to_lowercase(), fill }])
        }
        Shape::FillsByBlock => {
            let block: Block = serde_json::from_str(line).map_err(|e| e.to_string())?;
            Ok(block.events.into_iter().map(|(user, fill)| Record::Fill { user: user.to_lowercase(), fill }).collect())
        }
        Shape::Trades => {
            let trade: NodeTrade = serde_json::from_str(line).map_err(|e| e.to_string())?;
            trades.fills(trade)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_trades_become_fills_for_both_sides() {
        let mut r = TradesReader::default();
        let line = |px: &str, sz: &str, start_b: &str, start_s: &str| {
            format!(
                r#"{{"coin":"ETH","side":"B","time":"2025-04-01T08:26:25.899","px":"{px}","sz":"{sz}","hash":"0xab","trade_dir_override":"Na","side_info":[{{"user":"0xAA","start_pos":"{start_b}","oid":1,"twap_id":null,"cloid":null}},{{"user":"0xbb","start_pos":"{start_s}","oid":2,"twap_id":null,"cloid":null}}]}}"#
            )
        };
        let out = parse_line(Shape::Trades, &line("100", "2", "0", "5"), &mut r).unwrap();
        let Record::Fill { user, fill } = &out[0] else { panic!() };
        assert_eq!(
            (user.as_str(), fill.side.as_str(), fill.dir.as_str(), fill.crossed),
            ("0xaa", "B", "Open Long", true)
        );
        let Record::Fill { fill: seller, .. } = &out[1] else { panic!() };
        // The seller was long 5 before the data began: re-based at 100, so closing 2 realises 0.
        assert_eq!((seller.dir.as_str(), seller.closed_pnl, seller.crossed), ("Close Long", Decimal::ZERO, false));
        assert_eq!(r.rebased, 1);
        let out = parse_line(Shape::Trades, &line("110", "2", "2", "3"), &mut r).unwrap();
        let Record::Fill { fill: seller, .. } = &out[1] else { panic!() };
        assert_eq!(seller.closed_pnl, Decimal::from(20));
        assert_eq!(r.rebased, 1, "consistent start positions need no re-basing");
        assert!(parse_line(Shape::Trades, &line("-1", "2", "2", "3"), &mut r).unwrap_err().contains("positive"));
    }
}
