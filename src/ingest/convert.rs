//! API-shaped records (connectors) into domain events (dataflows::model), with
//! every number parsed exactly and every failure naming its field.

use connectors::hyperliquid::info::{ClearinghouseState, Fill as HlFill, FundingHistoryEntry};
use connectors::nansen::types::LeaderboardRow as NansenRow;
use connectors::wire::Decimal;
use dataflows::model::{
    AccountValue, Address, Fill, Fixed, FundingRate, LeaderboardRow, LeaderboardWindow, MarginMode, MarkPrice,
    PositionSnapshot, Price, Ratio, Side, Size, TimeMs, Token, TxHash, Usd,
};

use super::IngestError;

/// An exact decimal of the wire into the engine's fixed point; the error names the field.
pub fn fixed(field: &'static str, d: &Decimal) -> Result<Fixed, IngestError> {
    crate::decimal::to_fixed(d).map_err(|source| IngestError::Number { field, source })
}

fn address(field: &'static str, text: &str) -> Result<Address, IngestError> {
    Address::parse(text).map_err(|source| IngestError::Id { field, source })
}

fn token(field: &'static str, text: &str) -> Result<Token, IngestError> {
    Token::parse(text).map_err(|source| IngestError::Id { field, source })
}

/// A Hyperliquid fill of `user` (the fill's `hash` may be empty for imported rows).
pub fn fill(user: &str, f: &HlFill) -> Result<Fill, IngestError> {
    let side = match f.side.as_str() {
        "B" => Side::Buy,
        "A" => Side::Sell,
        other => {
            return Err(IngestError::Invalid { field: "fill.side", reason: format!("{other:?} is neither B nor A") });
        }
    };
    let tx_hash = if f.hash.is_empty() {
        TxHash::default()
    } else {
        TxHash::parse(&f.hash).map_err(|source| IngestError::Id { field: "fill.hash", source })?
    };
    Ok(Fill {
        time_ms: f.time,
        wallet: address("fill.user", user)?,
        token: token("fill.coin", &f.coin)?,
        side,
        price: Price::new(fixed("fill.px", &f.px)?),
        size: Size::new(fixed("fill.sz", &f.sz)?),
        start_position: Size::new(fixed("fill.startPosition", &f.start_position)?),
        closed_pnl: Usd::new(fixed("fill.closedPnl", &f.closed_pnl)?),
        fee: Usd::new(fixed("fill.fee", &f.fee)?),
        tx_hash,
        trade_id: f.tid.unwrap_or(f.oid),
        liquidation: f
            .liquidation
            .as_ref()
            .is_some_and(|l| l.liquidated_user.as_deref().is_none_or(|u| u.eq_ignore_ascii_case(user))),
    })
}

/// A `clearinghouseState` at `time` into position snapshots and the account value.
pub fn account(
    user: &str,
    time: TimeMs,
    s: &ClearinghouseState,
) -> Result<(Vec<PositionSnapshot>, AccountValue), IngestError> {
    let wallet = address("clearinghouseState.user", user)?;
    let mut positions = Vec::new();
    for ap in &s.asset_positions {
        let p = &ap.position;
        let margin_mode = match p.leverage.kind.as_str() {
            "cross" => MarginMode::Cross,
            "isolated" => MarginMode::Isolated,
            other => {
                return Err(IngestError::Invalid { field: "position.leverage.type", reason: format!("{other:?}") });
            }
        };
        positions.push(PositionSnapshot {
            time_ms: time,
            wallet,
            token: token("position.coin", &p.coin)?,
            size: Size::new(fixed("position.szi", &p.szi)?),
            entry_price: Price::new(fixed("position.entryPx", &p.entry_px)?),
            position_value: Usd::new(fixed("position.positionValue", &p.position_value)?),
            leverage: Ratio::from_int(p.leverage.value as i64),
            margin_mode,
            liquidation_price: p
                .liquidation_px
                .as_ref()
                .map(|l| fixed("position.liquidationPx", l).map(Price::new))
                .transpose()?,
            margin_used: Usd::new(fixed("position.marginUsed", &p.margin_used)?),
            unrealized_pnl: Usd::new(fixed("position.unrealizedPnl", &p.unrealized_pnl)?),
        });
    }
    let value = AccountValue {
        time_ms: time,
        wallet,
        value: Usd::new(fixed("marginSummary.accountValue", &s.margin_summary.account_value)?),
    };
    Ok((positions, value))
}

/// One coin's mid from `allMids`.
pub fn mark(coin: &str, text: &str, time: TimeMs) -> Result<MarkPrice, IngestError> {
    let price = Price::parse(text).map_err(|source| IngestError::Number { field: "allMids.price", source })?;
    Ok(MarkPrice { time_ms: time, token: token("allMids.coin", coin)?, price })
}

pub fn funding(r: &FundingHistoryEntry) -> Result<FundingRate, IngestError> {
    Ok(FundingRate {
        time_ms: r.time,
        token: token("funding.coin", &r.coin)?,
        rate: Ratio::new(fixed("funding.fundingRate", &r.funding_rate)?),
    })
}

/// A Nansen leaderboard row of `window` as of `time`; an empty label is none.
pub fn leaderboard(r: &NansenRow, window: LeaderboardWindow, time: TimeMs) -> Result<LeaderboardRow, IngestError> {
    Ok(LeaderboardRow {
        time_ms: time,
        window,
        wallet: address("leaderboard.trader_address", &r.trader_address)?,
        roi_percent: Ratio::new(fixed("leaderboard.roi", &r.roi)?),
        pnl: Usd::new(fixed("leaderboard.total_pnl", &r.total_pnl)?),
        account_value: Usd::new(fixed("leaderboard.account_value", &r.account_value)?),
        label: Some(r.trader_address_label.trim().to_string()).filter(|l| !l.is_empty()),
    })
}
