//! Nansen API v1 requests and responses for the Hyperliquid endpoints mirrorflow
//! uses (`shared/reference/nansen-api.md` §5–§10). Request bodies are strict on the
//! real API (unknown fields → 422), so request types deny unknown fields and omit
//! empty options; response types ignore unknown fields and accept numbers as
//! strings or JSON numbers.

use serde::{Deserialize, Serialize};

use crate::wire::{Decimal, dec_num, dec_num_opt, dec_str, dec_str_opt, u64_flex};

/// `date: {from, to}`: dates (`YYYY-MM-DD`) or ISO date-times, both optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateRange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pagination {
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PageInfo {
    pub page: u32,
    pub per_page: u32,
    pub is_last_page: bool,
}

/// Sort direction: upper case on the wire (`desc` is rejected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    #[serde(rename = "ASC")]
    Asc,
    #[serde(rename = "DESC")]
    Desc,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderBy {
    pub field: String,
    pub direction: Direction,
}

/// An inclusive numeric range filter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    #[serde(default, with = "dec_num_opt", skip_serializing_if = "Option::is_none")]
    pub min: Option<Decimal>,
    #[serde(default, with = "dec_num_opt", skip_serializing_if = "Option::is_none")]
    pub max: Option<Decimal>,
}

impl Range {
    pub fn contains(&self, v: Decimal) -> bool {
        self.min.is_none_or(|m| v >= m) && self.max.is_none_or(|m| v <= m)
    }
}

/// A page of rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub pagination: PageInfo,
}

// ---------------------------------------------------------------- perp-leaderboard

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaderboardRequest {
    pub date: DateRange,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<LeaderboardFilters>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub premium_labels: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_by: Option<Vec<OrderBy>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaderboardFilters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_value: Option<Range>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_pnl: Option<Range>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trader_address_label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaderboardRow {
    pub trader_address: String,
    /// May be empty.
    #[serde(default)]
    pub trader_address_label: String,
    #[serde(with = "dec_num")]
    pub total_pnl: Decimal,
    /// Percent (15.5 = 15.5 %).
    #[serde(with = "dec_num")]
    pub roi: Decimal,
    #[serde(with = "dec_num")]
    pub account_value: Decimal,
}

// ---------------------------------------------------------------- profiler/perp-trades

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerpTradesRequest {
    pub address: String,
    pub date: DateRange,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<PerpTradesFilters>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_by: Option<Vec<OrderBy>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerpTradesFilters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<Range>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_usd: Option<Range>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_symbol: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerpTrade {
    /// `Open`, `Add`, `Reduce`, `Close` (kept as text: the set is open).
    pub action: String,
    #[serde(with = "u64_flex")]
    pub block_number: u64,
    #[serde(with = "dec_num")]
    pub closed_pnl: Decimal,
    pub crossed: bool,
    pub fee_token_symbol: String,
    #[serde(with = "dec_num")]
    pub fee_usd: Decimal,
    #[serde(with = "u64_flex")]
    pub oid: u64,
    #[serde(with = "dec_num")]
    pub price: Decimal,
    /// The side of the position affected: `Long` or `Short`.
    pub side: String,
    /// Unsigned fill size.
    #[serde(with = "dec_num")]
    pub size: Decimal,
    /// Signed position before the fill.
    #[serde(with = "dec_num")]
    pub start_position: Decimal,
    /// ISO 8601 without a zone, microseconds: `2025-10-08T18:46:11.452000` (UTC).
    pub timestamp: String,
    pub token_symbol: String,
    pub transaction_hash: String,
    pub user: String,
    #[serde(with = "dec_num")]
    pub value_usd: Decimal,
}

// ---------------------------------------------------------------- profiler/perp-positions

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerpPositionsRequest {
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<PerpPositionsFilters>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_by: Option<Vec<OrderBy>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerpPositionsFilters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_symbol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position_value_usd: Option<Range>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unrealized_pnl_usd: Option<Range>,
}

/// `{"data": PositionSnapshot}` — an object, no pagination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerpPositionsResponse {
    pub data: PositionSnapshot,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionSnapshot {
    #[serde(alias = "assetPositions")]
    pub asset_positions: Vec<NansenAssetPosition>,
    #[serde(with = "dec_str")]
    pub margin_summary_account_value_usd: Decimal,
    #[serde(with = "dec_str")]
    pub margin_summary_total_margin_used_usd: Decimal,
    #[serde(with = "dec_str")]
    pub margin_summary_total_net_liquidation_position_usd: Decimal,
    #[serde(with = "dec_str")]
    pub margin_summary_total_raw_usd: Decimal,
    #[serde(with = "dec_str")]
    pub cross_margin_summary_account_value_usd: Decimal,
    #[serde(with = "dec_str")]
    pub cross_margin_summary_total_margin_used_usd: Decimal,
    #[serde(with = "dec_str")]
    pub cross_margin_summary_total_net_liquidation_position_on_usd: Decimal,
    #[serde(with = "dec_str")]
    pub cross_margin_summary_total_raw_usd: Decimal,
    #[serde(alias = "crossMaintenanceMarginUsed", with = "dec_str")]
    pub cross_maintenance_margin_used_usd: Decimal,
    #[serde(alias = "withdrawable", with = "dec_str")]
    pub withdrawable_usd: Decimal,
    #[serde(alias = "time", with = "u64_flex")]
    pub timestamp: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NansenAssetPosition {
    pub position: NansenPosition,
    /// `"oneWay"`.
    pub position_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NansenPosition {
    #[serde(alias = "coin")]
    pub token_symbol: String,
    /// Signed: negative is short.
    #[serde(alias = "szi", with = "dec_str")]
    pub size: Decimal,
    #[serde(alias = "entryPx", alias = "entry_px", with = "dec_str")]
    pub entry_price_usd: Decimal,
    #[serde(with = "dec_str")]
    pub position_value_usd: Decimal,
    #[serde(with = "dec_str")]
    pub unrealized_pnl_usd: Decimal,
    #[serde(with = "dec_str")]
    pub return_on_equity: Decimal,
    #[serde(default, with = "dec_str_opt")]
    pub liquidation_price_usd: Option<Decimal>,
    #[serde(with = "dec_str")]
    pub margin_used_usd: Decimal,
    /// `cross` or `isolated`.
    pub leverage_type: String,
    #[serde(with = "u64_flex")]
    pub leverage_value: u64,
    #[serde(with = "u64_flex")]
    pub max_leverage_value: u64,
    #[serde(with = "dec_str")]
    pub cumulative_funding_all_time_usd: Decimal,
    #[serde(with = "dec_str")]
    pub cumulative_funding_since_open_usd: Decimal,
    #[serde(with = "dec_str")]
    pub cumulative_funding_since_change_usd: Decimal,
}

// ---------------------------------------------------------------- tgm/perp-pnl-leaderboard

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenPnlLeaderboardRequest {
    pub token_symbol: String,
    pub date: DateRange,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<TokenPnlFilters>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub premium_labels: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_by: Option<Vec<OrderBy>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenPnlFilters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pnl_usd_realised: Option<Range>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position_value_usd: Option<Range>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trader_address_label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenPnlRow {
    pub trader_address: String,
    #[serde(default)]
    pub trader_address_label: String,
    #[serde(with = "dec_num")]
    pub price_usd: Decimal,
    #[serde(with = "dec_num")]
    pub pnl_usd_realised: Decimal,
    #[serde(with = "dec_num")]
    pub pnl_usd_unrealised: Decimal,
    #[serde(with = "dec_num")]
    pub pnl_usd_total: Decimal,
    #[serde(with = "dec_num")]
    pub roi_percent_realised: Decimal,
    #[serde(with = "dec_num")]
    pub roi_percent_unrealised: Decimal,
    #[serde(with = "dec_num")]
    pub roi_percent_total: Decimal,
    #[serde(with = "dec_num")]
    pub holding_amount: Decimal,
    #[serde(with = "dec_num")]
    pub position_value_usd: Decimal,
    #[serde(with = "dec_num")]
    pub max_balance_held: Decimal,
    #[serde(with = "dec_num")]
    pub max_balance_held_usd: Decimal,
    #[serde(with = "dec_num")]
    pub still_holding_balance_ratio: Decimal,
    #[serde(with = "dec_num")]
    pub netflow_amount: Decimal,
    #[serde(with = "dec_num")]
    pub netflow_amount_usd: Decimal,
    pub nof_trades: u64,
}

// ---------------------------------------------------------------- smart-money/perp-trades

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmartMoneyTradesRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<SmartMoneyFilters>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_new_positions: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub premium_labels: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_by: Option<Vec<OrderBy>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmartMoneyFilters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_symbol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trader_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_usd: Option<Range>,
}

/// A smart-money trade. Fields not seen in a live capture are optional on read
/// (nansen-api.md §13); the venue always sends them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmartMoneyTrade {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trader_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trader_address_label: Option<String>,
    pub token_symbol: String,
    pub side: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(with = "dec_num")]
    pub token_amount: Decimal,
    /// Per-token price; `value_usd / price_usd == token_amount`.
    #[serde(with = "dec_num")]
    pub price_usd: Decimal,
    #[serde(with = "dec_num")]
    pub value_usd: Decimal,
    /// `Market` or `Limit`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_hash: Option<String>,
}

// ---------------------------------------------------------------- perp-screener

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreenerRequest {
    pub date: DateRange,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<ScreenerFilters>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_by: Option<Vec<OrderBy>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreenerFilters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_symbol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<Range>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trader_type: Option<String>,
}

/// All-trader mode row. Only `token_symbol` is guaranteed on the real API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScreenerRow {
    pub token_symbol: String,
    #[serde(default, with = "dec_num_opt", skip_serializing_if = "Option::is_none")]
    pub volume: Option<Decimal>,
    #[serde(default, with = "dec_num_opt", skip_serializing_if = "Option::is_none")]
    pub buy_volume: Option<Decimal>,
    #[serde(default, with = "dec_num_opt", skip_serializing_if = "Option::is_none")]
    pub sell_volume: Option<Decimal>,
    #[serde(default, with = "dec_num_opt", skip_serializing_if = "Option::is_none")]
    pub buy_sell_pressure: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trader_count: Option<u64>,
    #[serde(default, with = "dec_num_opt", skip_serializing_if = "Option::is_none")]
    pub mark_price: Option<Decimal>,
    #[serde(default, with = "dec_num_opt", skip_serializing_if = "Option::is_none")]
    pub funding: Option<Decimal>,
    #[serde(default, with = "dec_num_opt", skip_serializing_if = "Option::is_none")]
    pub open_interest: Option<Decimal>,
    #[serde(default, with = "dec_num_opt", skip_serializing_if = "Option::is_none")]
    pub previous_price_usd: Option<Decimal>,
}

// ---------------------------------------------------------------- errors, account

/// The error body of every endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// `GET /api/v1/account`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub plan: String,
    pub credits_remaining: u64,
}
