//! Hyperliquid `POST /info`: requests and responses, shaped exactly like the real
//! API (`shared/reference/hyperliquid-api.md` §3 and the recorded bodies in
//! `shared/fixtures/hyperliquid/recorded/`). The simulated venue serializes these
//! types and the client deserializes them, so both sides agree by construction and
//! the recorded bodies keep them honest.
//!
//! Fields that old recordings lack are optional on read; unknown fields are ignored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::wire::{Decimal, dec_str, dec_str_opt, u64_flex, u64_flex_opt};

/// The body of a `POST /info` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum InfoRequest {
    Meta {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dex: Option<String>,
    },
    MetaAndAssetCtxs {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dex: Option<String>,
    },
    AllMids {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dex: Option<String>,
    },
    ClearinghouseState {
        user: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dex: Option<String>,
    },
    UserFills {
        user: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        aggregate_by_time: Option<bool>,
    },
    UserFillsByTime {
        user: String,
        start_time: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        end_time: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        aggregate_by_time: Option<bool>,
    },
    CandleSnapshot {
        req: CandleRequest,
    },
    L2Book {
        coin: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        n_sig_figs: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mantissa: Option<u32>,
    },
    FundingHistory {
        coin: String,
        start_time: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        end_time: Option<u64>,
    },
    UserFunding {
        user: String,
        start_time: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        end_time: Option<u64>,
    },
    UserNonFundingLedgerUpdates {
        user: String,
        start_time: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        end_time: Option<u64>,
    },
    /// By oid (a number) or cloid (a `0x…` string).
    OrderStatus {
        user: String,
        oid: serde_json::Value,
    },
    OpenOrders {
        user: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dex: Option<String>,
    },
    FrontendOpenOrders {
        user: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dex: Option<String>,
    },
}

impl InfoRequest {
    /// Request weight against the per-IP budget of 1200 per minute, before the
    /// per-item surcharge of list endpoints (hyperliquid-api.md §3).
    pub fn base_weight(&self) -> u32 {
        match self {
            InfoRequest::AllMids { .. }
            | InfoRequest::ClearinghouseState { .. }
            | InfoRequest::L2Book { .. }
            | InfoRequest::OrderStatus { .. } => 2,
            _ => 20,
        }
    }

    /// Extra weight for `items` returned: +1 per 20 for fill and funding lists,
    /// +1 per 60 for candles.
    pub fn item_weight(&self, items: usize) -> u32 {
        let per = match self {
            InfoRequest::UserFills { .. }
            | InfoRequest::UserFillsByTime { .. }
            | InfoRequest::FundingHistory { .. }
            | InfoRequest::UserFunding { .. } => 20,
            InfoRequest::CandleSnapshot { .. } => 60,
            _ => return 0,
        };
        (items / per) as u32
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CandleRequest {
    pub coin: String,
    pub interval: String,
    pub start_time: u64,
    pub end_time: u64,
}

/// `meta`: the perp universe; the array index is the asset id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub universe: Vec<AssetMeta>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetMeta {
    pub name: String,
    pub sz_decimals: u32,
    #[serde(with = "u64_flex")]
    pub max_leverage: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_isolated: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_delisted: Option<bool>,
}

/// One element of `metaAndAssetCtxs`' second array, parallel to the universe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetCtx {
    #[serde(with = "dec_str")]
    pub day_ntl_vlm: Decimal,
    #[serde(with = "dec_str")]
    pub funding: Decimal,
    pub impact_pxs: Option<Vec<String>>,
    #[serde(with = "dec_str")]
    pub mark_px: Decimal,
    #[serde(with = "dec_str_opt")]
    pub mid_px: Option<Decimal>,
    #[serde(with = "dec_str")]
    pub open_interest: Decimal,
    #[serde(with = "dec_str")]
    pub oracle_px: Decimal,
    #[serde(with = "dec_str_opt")]
    pub premium: Option<Decimal>,
    #[serde(with = "dec_str")]
    pub prev_day_px: Decimal,
    #[serde(with = "dec_str")]
    pub day_base_vlm: Decimal,
}

/// `metaAndAssetCtxs`: `[meta, [ctx…]]`.
pub type MetaAndAssetCtxs = (Meta, Vec<AssetCtx>);

/// `allMids`: coin → mid price (as strings).
pub type AllMids = BTreeMap<String, String>;

/// `clearinghouseState`: a wallet's perp account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClearinghouseState {
    pub asset_positions: Vec<AssetPosition>,
    pub margin_summary: MarginSummary,
    pub cross_margin_summary: MarginSummary,
    #[serde(default, with = "dec_str_opt", skip_serializing_if = "Option::is_none")]
    pub cross_maintenance_margin_used: Option<Decimal>,
    #[serde(with = "dec_str")]
    pub withdrawable: Decimal,
    #[serde(default, with = "u64_flex_opt", skip_serializing_if = "Option::is_none")]
    pub time: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarginSummary {
    #[serde(with = "dec_str")]
    pub account_value: Decimal,
    #[serde(with = "dec_str")]
    pub total_ntl_pos: Decimal,
    #[serde(with = "dec_str")]
    pub total_raw_usd: Decimal,
    #[serde(with = "dec_str")]
    pub total_margin_used: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetPosition {
    /// Always `"oneWay"` on perps.
    #[serde(rename = "type")]
    pub kind: String,
    pub position: Position,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Position {
    pub coin: String,
    /// Signed size: negative is short.
    #[serde(with = "dec_str")]
    pub szi: Decimal,
    pub leverage: Leverage,
    #[serde(with = "dec_str")]
    pub entry_px: Decimal,
    #[serde(with = "dec_str")]
    pub position_value: Decimal,
    #[serde(with = "dec_str")]
    pub unrealized_pnl: Decimal,
    #[serde(with = "dec_str")]
    pub return_on_equity: Decimal,
    /// `null` when nothing can be liquidated.
    #[serde(with = "dec_str_opt")]
    pub liquidation_px: Option<Decimal>,
    #[serde(with = "dec_str")]
    pub margin_used: Decimal,
    #[serde(default, with = "u64_flex_opt", skip_serializing_if = "Option::is_none")]
    pub max_leverage: Option<u64>,
    /// `[max buy, max sell]` sizes (2023 responses; kept for completeness).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_trade_szs: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cum_funding: Option<CumFunding>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Leverage {
    /// `"cross"` or `"isolated"`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(with = "u64_flex")]
    pub value: u64,
    #[serde(default, with = "dec_str_opt", skip_serializing_if = "Option::is_none")]
    pub raw_usd: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CumFunding {
    #[serde(with = "dec_str")]
    pub all_time: Decimal,
    #[serde(with = "dec_str")]
    pub since_open: Decimal,
    #[serde(with = "dec_str")]
    pub since_change: Decimal,
}

/// One fill (`userFills`, `userFillsByTime`, WebSocket `userFills`, node_fills).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fill {
    pub coin: String,
    #[serde(with = "dec_str")]
    pub px: Decimal,
    #[serde(with = "dec_str")]
    pub sz: Decimal,
    /// `"B"` (buy) or `"A"` (sell): the user's own side.
    pub side: String,
    #[serde(with = "u64_flex")]
    pub time: u64,
    #[serde(with = "dec_str")]
    pub start_position: Decimal,
    /// Display only (`Open Long`, `Close Short`, `Long > Short`, …).
    pub dir: String,
    #[serde(with = "dec_str")]
    pub closed_pnl: Decimal,
    pub hash: String,
    #[serde(with = "u64_flex")]
    pub oid: u64,
    pub crossed: bool,
    /// Fee paid, builder fee included; negative is a rebate.
    #[serde(with = "dec_str")]
    pub fee: Decimal,
    #[serde(default, with = "u64_flex_opt", skip_serializing_if = "Option::is_none")]
    pub tid: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_token: Option<String>,
    /// Absent when zero.
    #[serde(default, with = "dec_str_opt", skip_serializing_if = "Option::is_none")]
    pub builder_fee: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloid: Option<String>,
    /// `null` unless a TWAP slice.
    #[serde(default, with = "u64_flex_opt")]
    pub twap_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liquidation: Option<FillLiquidation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FillLiquidation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liquidated_user: Option<String>,
    #[serde(with = "dec_str")]
    pub mark_px: Decimal,
    /// `"market"` or `"backstop"`.
    pub method: String,
}

/// One candle of `candleSnapshot` (prices as strings, counts and times as numbers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candle {
    /// Open time (ms).
    #[serde(with = "u64_flex")]
    pub t: u64,
    /// Close time (ms, inclusive).
    #[serde(rename = "T", with = "u64_flex")]
    pub close_time: u64,
    /// Coin.
    pub s: String,
    /// Interval (`1h`, …).
    pub i: String,
    #[serde(with = "dec_str")]
    pub o: Decimal,
    #[serde(with = "dec_str")]
    pub c: Decimal,
    #[serde(with = "dec_str")]
    pub h: Decimal,
    #[serde(with = "dec_str")]
    pub l: Decimal,
    /// Base volume.
    #[serde(with = "dec_str")]
    pub v: Decimal,
    /// Number of trades.
    pub n: u64,
}

/// `l2Book`: bids then asks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct L2Book {
    pub coin: String,
    #[serde(with = "u64_flex")]
    pub time: u64,
    pub levels: Vec<Vec<L2Level>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct L2Level {
    #[serde(with = "dec_str")]
    pub px: Decimal,
    #[serde(with = "dec_str")]
    pub sz: Decimal,
    pub n: u64,
}

/// One hourly funding of `fundingHistory`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FundingHistoryEntry {
    pub coin: String,
    #[serde(with = "dec_str")]
    pub funding_rate: Decimal,
    #[serde(with = "dec_str")]
    pub premium: Decimal,
    #[serde(with = "u64_flex")]
    pub time: u64,
}

/// One entry of `userFunding`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserFundingEntry {
    #[serde(with = "u64_flex")]
    pub time: u64,
    pub hash: String,
    pub delta: FundingDelta,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FundingDelta {
    /// Always `"funding"`.
    #[serde(rename = "type")]
    pub kind: String,
    pub coin: String,
    /// USDC received (negative: paid).
    #[serde(with = "dec_str")]
    pub usdc: Decimal,
    #[serde(with = "dec_str")]
    pub szi: Decimal,
    #[serde(with = "dec_str")]
    pub funding_rate: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_samples: Option<u64>,
}

/// One entry of `userNonFundingLedgerUpdates` (deposits and withdrawals here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerUpdate {
    #[serde(with = "u64_flex")]
    pub time: u64,
    pub hash: String,
    pub delta: LedgerDelta,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerDelta {
    /// `"deposit"` or `"withdraw"` (other kinds exist on the real API).
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, with = "dec_str_opt", skip_serializing_if = "Option::is_none")]
    pub usdc: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<u64>,
    #[serde(default, with = "dec_str_opt", skip_serializing_if = "Option::is_none")]
    pub fee: Option<Decimal>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_use_the_real_field_names() {
        let r = InfoRequest::UserFillsByTime {
            user: "0xab".into(),
            start_time: 1,
            end_time: None,
            aggregate_by_time: None,
        };
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"type":"userFillsByTime","user":"0xab","startTime":1}"#);
        let r: InfoRequest = serde_json::from_str(
            r#"{"type":"candleSnapshot","req":{"coin":"kPEPE","interval":"1h","startTime":1,"endTime":2}}"#,
        )
        .unwrap();
        assert!(matches!(r, InfoRequest::CandleSnapshot { .. }));
        assert!(serde_json::from_str::<InfoRequest>(r#"{"type":"bogus"}"#).is_err());
    }
}
