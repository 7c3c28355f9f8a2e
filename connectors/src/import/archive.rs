//! Hyperliquid's public S3 archive (hyperliquid-api.md §5):
//!
//! * `asset_ctxs/<YYYYMMDD>.csv(.lz4)`: one row per coin per minute; each row
//!   gives the coin's mark price and its (predicted hourly) funding rate.
//! * `market_data/<date>/<hour>/l2Book/<COIN>.lz4`: one book snapshot per line;
//!   each gives a mid price, (best bid + best ask) / 2, at the exchange time.

use serde::Deserialize;

use super::Record;
use crate::hyperliquid::info::{FundingHistoryEntry, L2Book};
use crate::wire::{Decimal, parse_decimal};

pub const ASSET_CTX_HEADER: &str = "time,coin,funding,open_interest,prev_day_px,day_ntl_vlm,premium,oracle_px,mark_px,mid_px,impact_bid_px,impact_ask_px";

/// Whether `line` is the asset-context CSV header.
pub fn is_asset_ctx_header(line: &str) -> bool {
    line.trim_end_matches('\r') == ASSET_CTX_HEADER
}

fn decimal(field: &str, text: &str) -> Result<Decimal, String> {
    parse_decimal(text).map_err(|e| format!("{field}: {e}"))
}

/// An asset-context row as a mark and a funding observation. Optional columns
/// (`premium`, `mid_px`, impact prices) may be empty or `null`.
pub fn asset_ctx(line: &str) -> Result<Vec<Record>, String> {
    let cols: Vec<&str> = line.trim_end_matches('\r').split(',').collect();
    if cols.len() != 12 {
        return Err(format!("expected 12 columns, found {}", cols.len()));
    }
    let time = super::parse_time(cols[0])?;
    let coin = cols[1].trim();
    if coin.is_empty() {
        return Err("coin is empty".into());
    }
    let mark = decimal("mark_px", cols[8])?;
    if mark <= Decimal::ZERO {
        return Err(format!("mark_px {mark} is not positive"));
    }
    let funding = decimal("funding", cols[2])?;
    let premium = match cols[6].trim() {
        "" | "null" => Decimal::ZERO,
        p => decimal("premium", p)?,
    };
    Ok(vec![
        Record::Mark { coin: coin.to_string(), time, px: mark },
        Record::Funding(FundingHistoryEntry { coin: coin.to_string(), funding_rate: funding, premium, time }),
    ])
}

#[derive(Debug, Deserialize)]
struct Archived {
    raw: Raw,
}

#[derive(Debug, Deserialize)]
struct Raw {
    channel: String,
    data: L2Book,
}

/// Whether a JSON line is an archived l2Book snapshot.
pub fn is_l2_line(v: &serde_json::Value) -> bool {
    v["raw"]["channel"] == "l2Book"
}

/// The mid of an archived book snapshot (exchange time).
pub fn l2_mid(line: &str) -> Result<Vec<Record>, String> {
    let a: Archived = serde_json::from_str(line).map_err(|e| e.to_string())?;
    if a.raw.channel != "l2Book" {
        return Err(format!("channel {:?} is not l2Book", a.raw.channel));
    }
    let book = a.raw.data;
    let best = |side: usize| book.levels.get(side).and_then(|l| l.first()).map(|l| l.px);
    let (Some(bid), Some(ask)) = (best(0), best(1)) else {
        return Err("one side of the book is empty".into());
    };
    if bid <= Decimal::ZERO || ask < bid {
        return Err(format!("crossed or non-positive book: bid {bid}, ask {ask}"));
    }
    Ok(vec![Record::Mark { coin: book.coin, time: book.time, px: (bid + ask) / Decimal::TWO }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_ctx_rows_give_mark_and_funding() {
        let r = asset_ctx("2024-01-01T00:00:00Z,BTC,0.0000125,1,2,3,,42284,42330,,,").unwrap();
        assert_eq!(r[0], Record::Mark { coin: "BTC".into(), time: 1_704_067_200_000, px: Decimal::from(42330) });
        let Record::Funding(f) = &r[1] else { panic!() };
        assert_eq!((f.premium, f.time), (Decimal::ZERO, 1_704_067_200_000));
        assert!(asset_ctx("2024-01-01T00:00:00Z,BTC,x,1,2,3,,4,5,,,").unwrap_err().contains("funding"));
        assert!(asset_ctx("2024-01-01T00:00:00Z,BTC,0,1,2,3,,4,-5,,,").unwrap_err().contains("mark_px"));
        assert!(asset_ctx("2026-04-30 00:00:00,ETH,0,1,2,3,null,4,5,null,null,null").is_ok());
    }
}
