//! Nansen API v1 responses computed from the world: leaderboards from the
//! accounts' daily values, an address's trades and positions, per-token PnL, the
//! smart-money trade tape and the screener — in the real shapes, with real
//! validation errors (422) for malformed requests.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, NaiveDateTime};

use super::ledger::{round_usd, unrealized};
use super::market::DAY_MS;
use super::personas::PersonaKind;
use super::views;
use super::world::World;
use crate::nansen::types::{
    DateRange, Direction, ErrorBody, LeaderboardRequest, LeaderboardRow, NansenAssetPosition, NansenPosition, OrderBy,
    Page, PageInfo, Pagination, PerpPositionsRequest, PerpPositionsResponse, PerpTrade, PerpTradesRequest,
    PositionSnapshot, ScreenerRequest, ScreenerRow, SmartMoneyTrade, SmartMoneyTradesRequest,
    TokenPnlLeaderboardRequest, TokenPnlRow,
};
use crate::wire::Decimal;

/// An error answer: HTTP status and Nansen's error body.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub body: Box<ErrorBody>,
}

impl ApiError {
    pub fn new(status: u16, error: &str, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: Box::new(ErrorBody {
                error: error.into(),
                message: message.into(),
                code: code.into(),
                status: Some(status),
                param: None,
                retry_after: None,
            }),
        }
    }

    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(422, "Invalid field value", "invalid_field_value", message)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Milliseconds of a date or date-time bound. A bare date means the start of that
/// day (`end = false`) or the start of the next (`end = true`).
pub fn parse_bound(text: &str, end: bool, dates_only: bool) -> ApiResult<u64> {
    let invalid = || ApiError::new(422, "Invalid date", "invalid_date_format", format!("cannot parse date {text:?}"));
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let ms = d.and_hms_opt(0, 0, 0).ok_or_else(invalid)?.and_utc().timestamp_millis();
        let ms = u64::try_from(ms).map_err(|_| invalid())?;
        return Ok(if end { ms + DAY_MS } else { ms });
    }
    if dates_only {
        return Err(ApiError::invalid("Time components (T, :, Z, +) are not supported for this endpoint"));
    }
    let ms = DateTime::parse_from_rfc3339(text)
        .map(|d| d.timestamp_millis())
        .or_else(|_| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").map(|d| d.and_utc().timestamp_millis())
        })
        .map_err(|_| invalid())?;
    u64::try_from(ms).map_err(|_| invalid())
}

/// The window `[from, to)` of a date range, defaulting to the world's start and now.
fn window(world: &World, range: &DateRange, dates_only: bool) -> ApiResult<(u64, u64)> {
    let from = match &range.from {
        Some(s) => parse_bound(s, false, dates_only)?,
        None => world.market.start_ms,
    };
    let to = match &range.to {
        Some(s) => parse_bound(s, true, dates_only)?,
        None => world.now_ms + 1,
    };
    if to < from {
        return Err(ApiError::new(422, "Invalid date range", "invalid_date_range", "date.from is after date.to"));
    }
    Ok((from, to.min(world.now_ms + 1)))
}

/// Zone-less ISO time with microseconds, as profiler/perp-trades writes it.
pub fn iso_micros(ms: u64) -> String {
    DateTime::from_timestamp_millis(ms as i64)
        .map(|d| d.naive_utc().format("%Y-%m-%dT%H:%M:%S%.6f").to_string())
        .unwrap_or_default()
}

fn iso_seconds(ms: u64) -> String {
    DateTime::from_timestamp_millis(ms as i64)
        .map(|d| d.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_default()
}

/// Applies `order_by` (on any field of the row) and then the page.
fn page<T: serde::Serialize>(
    mut rows: Vec<T>,
    pagination: Option<Pagination>,
    order_by: Option<&[OrderBy]>,
) -> ApiResult<Page<T>> {
    let p = pagination.unwrap_or(Pagination { page: 1, per_page: 10 });
    if p.page < 1 || p.per_page < 1 || p.per_page > 1000 {
        return Err(ApiError::new(
            422,
            "Value out of range",
            "value_out_of_range",
            "per_page must be 1..1000 and page ≥ 1",
        ));
    }
    if let Some(orders) = order_by.filter(|o| !o.is_empty()) {
        let values: Vec<serde_json::Value> = rows.iter().map(|r| serde_json::to_value(r).unwrap_or_default()).collect();
        let fields: BTreeSet<String> =
            values.first().and_then(|v| v.as_object()).map(|o| o.keys().cloned().collect()).unwrap_or_default();
        for o in orders {
            if !values.is_empty() && !fields.contains(&o.field) {
                return Err(ApiError::invalid(format!(
                    "invalid sort field {:?}; valid fields: {}",
                    o.field,
                    fields.iter().cloned().collect::<Vec<_>>().join(", ")
                )));
            }
        }
        let mut idx: Vec<usize> = (0..rows.len()).collect();
        idx.sort_by(|&a, &b| {
            for o in orders {
                let ord = compare_json(&values[a][&o.field], &values[b][&o.field]);
                let ord = if o.direction == Direction::Desc { ord.reverse() } else { ord };
                if ord != std::cmp::Ordering::Equal {
                    return ord;
                }
            }
            a.cmp(&b)
        });
        let mut taken: Vec<Option<T>> = rows.into_iter().map(Some).collect();
        rows = idx.into_iter().filter_map(|i| taken[i].take()).collect();
    }
    let start = ((p.page - 1) as usize).saturating_mul(p.per_page as usize);
    let end = (start + p.per_page as usize).min(rows.len());
    let is_last_page = end >= rows.len();
    let data = if start < rows.len() { rows.drain(start..end).collect() } else { Vec::new() };
    Ok(Page { data, pagination: PageInfo { page: p.page, per_page: p.per_page, is_last_page } })
}

fn compare_json(a: &serde_json::Value, b: &serde_json::Value) -> std::cmp::Ordering {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
        _ => a.as_str().unwrap_or("").cmp(b.as_str().unwrap_or("")),
    }
}

fn label(world: &World, w: usize) -> String {
    world.personas[w].label.clone().unwrap_or_default()
}

fn wallet(world: &World, address: &str) -> ApiResult<Option<usize>> {
    let ok = address.len() == 42 && address.starts_with("0x") && address[2..].bytes().all(|b| b.is_ascii_hexdigit());
    if !ok {
        let mut e = ApiError::new(422, "Invalid address", "invalid_address_format", "address must be 42-character hex");
        e.body.param = Some("address".into());
        return Err(e);
    }
    Ok(world.wallet_index(address))
}

/// Net transfers of `w` in `(from, to]`, and the deposits among them.
fn transfers(world: &World, w: usize, from: u64, to: u64) -> (Decimal, Decimal) {
    world.accounts[w]
        .transfers
        .iter()
        .filter(|t| t.time > from && t.time <= to)
        .fold((Decimal::ZERO, Decimal::ZERO), |(net, dep), t| (net + t.usdc, dep + t.usdc.max(Decimal::ZERO)))
}

/// PnL over `[from, to)` = value at the end − value at the start − net transfers;
/// ROI = PnL / (start value + deposits) in percent.
pub fn window_pnl(world: &World, w: usize, from: u64, to: u64) -> (Decimal, Decimal) {
    let start = world.value_at_day(w, from).unwrap_or(Decimal::ZERO);
    let end_value = if to > world.now_ms { world.account_value(w) } else { world.value_at_day(w, to).unwrap_or(start) };
    let end_time = to.min(world.now_ms);
    let (net, deposits) = transfers(world, w, from, end_time);
    let pnl = end_value - start - net;
    let base = start + deposits;
    let roi = if base > Decimal::ZERO { (pnl / base * Decimal::ONE_HUNDRED).round_dp(6) } else { Decimal::ZERO };
    (pnl, roi)
}

pub fn leaderboard(world: &World, req: &LeaderboardRequest) -> ApiResult<Page<LeaderboardRow>> {
    let (from, to) = window(world, &req.date, true)?;
    let filters = req.filters.clone().unwrap_or_default();
    let mut rows = Vec::new();
    for w in 0..world.accounts.len() {
        let (pnl, roi) = window_pnl(world, w, from, to);
        let row = LeaderboardRow {
            trader_address: world.accounts[w].address_hex(),
            trader_address_label: label(world, w),
            total_pnl: pnl,
            roi,
            account_value: world.account_value(w),
        };
        let keep = filters.account_value.as_ref().is_none_or(|r| r.contains(row.account_value))
            && filters.total_pnl.as_ref().is_none_or(|r| r.contains(row.total_pnl))
            && filters.trader_address_label.as_ref().is_none_or(|l| row.trader_address_label.contains(l.as_str()));
        if keep {
            rows.push(row);
        }
    }
    let default_order = [OrderBy { field: "total_pnl".into(), direction: Direction::Desc }];
    page(rows, req.pagination, Some(req.order_by.as_deref().unwrap_or(&default_order)))
}

fn perp_trade(world: &World, w: usize, f: &super::ledger::FillRec) -> PerpTrade {
    let action = f.action();
    // The side of the position the fill affects.
    let long = if matches!(action, "Open" | "Add") { f.buy } else { !f.buy };
    PerpTrade {
        action: action.to_string(),
        block_number: 700_000_000 + (f.time - world.market.start_ms) / 1000,
        closed_pnl: f.closed_pnl,
        crossed: f.crossed,
        fee_token_symbol: "USDC".into(),
        fee_usd: f.fee,
        oid: f.oid,
        price: f.px,
        side: if long { "Long" } else { "Short" }.into(),
        size: f.sz,
        start_position: f.start_position,
        timestamp: iso_micros(f.time),
        token_symbol: world.specs()[f.token].name.to_string(),
        transaction_hash: world.trade_hash(f.tid),
        user: world.accounts[w].address_hex(),
        value_usd: f.px * f.sz,
    }
}

pub fn perp_trades(world: &World, req: &PerpTradesRequest) -> ApiResult<Page<PerpTrade>> {
    let w = wallet(world, &req.address)?;
    let (from, to) = window(world, &req.date, false)?;
    let filters = req.filters.clone().unwrap_or_default();
    let rows = match w {
        Some(w) => world.accounts[w]
            .fills
            .iter()
            .filter(|f| f.time >= from && f.time < to)
            .map(|f| perp_trade(world, w, f))
            .filter(|t| {
                filters.size.as_ref().is_none_or(|r| r.contains(t.size))
                    && filters.value_usd.as_ref().is_none_or(|r| r.contains(t.value_usd))
                    && filters.token_symbol.as_ref().is_none_or(|s| *s == t.token_symbol)
            })
            .collect(),
        None => Vec::new(),
    };
    // Without order_by rows come oldest first (as observed on the real API).
    page(rows, req.pagination, req.order_by.as_deref())
}

pub fn perp_positions(world: &World, req: &PerpPositionsRequest) -> ApiResult<PerpPositionsResponse> {
    let w = wallet(world, &req.address)?;
    let state = views::clearinghouse_state(world, w);
    let filters = req.filters.clone().unwrap_or_default();
    let positions = state
        .asset_positions
        .iter()
        .map(|ap| {
            let p = &ap.position;
            let cum = p.cum_funding.clone();
            NansenAssetPosition {
                position: NansenPosition {
                    token_symbol: p.coin.clone(),
                    size: p.szi,
                    entry_price_usd: p.entry_px,
                    position_value_usd: p.position_value,
                    unrealized_pnl_usd: p.unrealized_pnl,
                    return_on_equity: p.return_on_equity,
                    liquidation_price_usd: p.liquidation_px,
                    margin_used_usd: p.margin_used,
                    leverage_type: p.leverage.kind.clone(),
                    leverage_value: p.leverage.value,
                    max_leverage_value: p.max_leverage.unwrap_or(p.leverage.value),
                    cumulative_funding_all_time_usd: cum.as_ref().map(|c| c.all_time).unwrap_or_default(),
                    cumulative_funding_since_open_usd: cum.as_ref().map(|c| c.since_open).unwrap_or_default(),
                    cumulative_funding_since_change_usd: cum.as_ref().map(|c| c.since_change).unwrap_or_default(),
                },
                position_type: ap.kind.clone(),
            }
        })
        .filter(|ap| {
            filters.token_symbol.as_ref().is_none_or(|s| *s == ap.position.token_symbol)
                && filters.position_value_usd.as_ref().is_none_or(|r| r.contains(ap.position.position_value_usd))
                && filters.unrealized_pnl_usd.as_ref().is_none_or(|r| r.contains(ap.position.unrealized_pnl_usd))
        })
        .collect();
    let (m, c) = (&state.margin_summary, &state.cross_margin_summary);
    Ok(PerpPositionsResponse {
        data: PositionSnapshot {
            asset_positions: positions,
            margin_summary_account_value_usd: m.account_value,
            margin_summary_total_margin_used_usd: m.total_margin_used,
            margin_summary_total_net_liquidation_position_usd: m.total_ntl_pos,
            margin_summary_total_raw_usd: m.total_raw_usd,
            cross_margin_summary_account_value_usd: c.account_value,
            cross_margin_summary_total_margin_used_usd: c.total_margin_used,
            cross_margin_summary_total_net_liquidation_position_on_usd: c.total_ntl_pos,
            cross_margin_summary_total_raw_usd: c.total_raw_usd,
            cross_maintenance_margin_used_usd: state.cross_maintenance_margin_used.unwrap_or_default(),
            withdrawable_usd: state.withdrawable,
            timestamp: world.now_ms,
        },
    })
}

pub fn token_pnl_leaderboard(world: &World, req: &TokenPnlLeaderboardRequest) -> ApiResult<Page<TokenPnlRow>> {
    let token = world
        .token_index(&req.token_symbol)
        .ok_or_else(|| ApiError::invalid(format!("unknown token_symbol {:?}", req.token_symbol)))?;
    let (from, to) = window(world, &req.date, false)?;
    let mark = world.mark(token);
    let filters = req.filters.clone().unwrap_or_default();
    let mut rows = Vec::new();
    for (w, account) in world.accounts.iter().enumerate() {
        let fills: Vec<_> =
            account.fills.iter().filter(|f| f.token == token && f.time >= from && f.time < to).collect();
        let position = account.positions.get(&token);
        if fills.is_empty() && position.is_none() {
            continue;
        }
        let realised: Decimal = fills.iter().map(|f| f.closed_pnl).sum();
        let unrealised = position.map(|p| unrealized(p, mark)).unwrap_or_default();
        let holding = position.map(|p| p.szi).unwrap_or_default();
        let max_held = fills
            .iter()
            .map(|f| (f.start_position + f.signed_size()).abs().max(f.start_position.abs()))
            .chain(std::iter::once(holding.abs()))
            .max()
            .unwrap_or_default();
        let max_held_usd = round_usd(max_held * mark);
        let netflow: Decimal = fills.iter().map(|f| f.signed_size()).sum();
        let pct = |x: Decimal| {
            if max_held_usd.is_zero() { Decimal::ZERO } else { (x / max_held_usd * Decimal::ONE_HUNDRED).round_dp(4) }
        };
        let row = TokenPnlRow {
            trader_address: account.address_hex(),
            trader_address_label: label(world, w),
            price_usd: mark,
            pnl_usd_realised: realised,
            pnl_usd_unrealised: unrealised,
            pnl_usd_total: realised + unrealised,
            roi_percent_realised: pct(realised),
            roi_percent_unrealised: pct(unrealised),
            roi_percent_total: pct(realised + unrealised),
            holding_amount: holding,
            position_value_usd: round_usd(holding.abs() * mark),
            max_balance_held: max_held,
            max_balance_held_usd: max_held_usd,
            still_holding_balance_ratio: if max_held.is_zero() {
                Decimal::ZERO
            } else {
                (holding.abs() / max_held).round_dp(6)
            },
            netflow_amount: netflow,
            netflow_amount_usd: round_usd(netflow * mark),
            nof_trades: fills.len() as u64,
        };
        let keep = filters.pnl_usd_realised.as_ref().is_none_or(|r| r.contains(row.pnl_usd_realised))
            && filters.position_value_usd.as_ref().is_none_or(|r| r.contains(row.position_value_usd))
            && filters.trader_address_label.as_ref().is_none_or(|l| row.trader_address_label.contains(l.as_str()));
        if keep {
            rows.push(row);
        }
    }
    let default_order = [OrderBy { field: "pnl_usd_total".into(), direction: Direction::Desc }];
    page(rows, req.pagination, Some(req.order_by.as_deref().unwrap_or(&default_order)))
}

pub fn smart_money_trades(world: &World, req: &SmartMoneyTradesRequest) -> ApiResult<Page<SmartMoneyTrade>> {
    let filters = req.filters.clone().unwrap_or_default();
    let only_new = req.only_new_positions.unwrap_or(false);
    let mut rows: Vec<(u64, SmartMoneyTrade)> = Vec::new();
    for (w, account) in world.accounts.iter().enumerate() {
        if !world.personas[w].is_smart_money() || world.personas[w].kind == PersonaKind::MarketMaker {
            continue;
        }
        for f in &account.fills {
            let action = f.action();
            if only_new && action != "Open" {
                continue;
            }
            let long = if matches!(action, "Open" | "Add") { f.buy } else { !f.buy };
            let t = SmartMoneyTrade {
                trader_address: Some(account.address_hex()),
                trader_address_label: Some(label(world, w)),
                token_symbol: world.specs()[f.token].name.to_string(),
                side: if long { "Long" } else { "Short" }.into(),
                action: Some(action.into()),
                token_amount: f.sz,
                price_usd: f.px,
                value_usd: f.px * f.sz,
                kind: Some(if f.crossed { "Market" } else { "Limit" }.into()),
                block_timestamp: Some(iso_seconds(f.time)),
                transaction_hash: Some(world.trade_hash(f.tid)),
            };
            let keep = filters.token_symbol.as_ref().is_none_or(|s| *s == t.token_symbol)
                && filters.side.as_ref().is_none_or(|s| *s == t.side)
                && filters
                    .trader_address
                    .as_ref()
                    .is_none_or(|a| t.trader_address.as_ref().is_some_and(|x| x.eq_ignore_ascii_case(a)))
                && filters.value_usd.as_ref().is_none_or(|r| r.contains(t.value_usd));
            if keep {
                rows.push((f.time, t));
            }
        }
    }
    // A recent-activity tape: newest first unless asked otherwise.
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    page(rows.into_iter().map(|(_, t)| t).collect(), req.pagination, req.order_by.as_deref())
}

pub fn screener(world: &World, req: &ScreenerRequest) -> ApiResult<Page<ScreenerRow>> {
    let (from, to) = window(world, &req.date, false)?;
    let filters = req.filters.clone().unwrap_or_default();
    let lo = world.tape.partition_point(|r| r.time < from);
    let hi = world.tape.partition_point(|r| r.time < to);
    let mut per_token: BTreeMap<usize, (Decimal, Decimal, BTreeSet<usize>)> = BTreeMap::new();
    for r in &world.tape[lo..hi] {
        let e = per_token.entry(r.token).or_insert_with(|| (Decimal::ZERO, Decimal::ZERO, BTreeSet::new()));
        let ntl = r.px * r.sz;
        if r.taker_buy {
            e.0 += ntl;
        } else {
            e.1 += ntl;
        }
        for party in [r.buyer, r.seller] {
            if world.personas[party].kind != PersonaKind::MarketMaker {
                e.2.insert(party);
            }
        }
    }
    let mut rows = Vec::new();
    for t in 0..world.specs().len() {
        let (buy, sell, traders) = per_token.remove(&t).unwrap_or_default();
        let mark = world.mark(t);
        let oi = world.open_interest(t);
        let row = ScreenerRow {
            token_symbol: world.specs()[t].name.to_string(),
            volume: Some(buy + sell),
            buy_volume: Some(buy),
            sell_volume: Some(sell),
            buy_sell_pressure: Some(buy - sell),
            trader_count: Some(traders.len() as u64),
            mark_price: Some(mark),
            funding: world.latest_funding(t),
            open_interest: Some(round_usd(oi * mark)),
            previous_price_usd: Some(world.market.mark(t, from.max(world.market.start_ms))),
        };
        let keep = filters.token_symbol.as_ref().is_none_or(|s| *s == row.token_symbol)
            && filters.volume.as_ref().is_none_or(|r| r.contains(row.volume.unwrap_or_default()));
        if keep {
            rows.push(row);
        }
    }
    let default_order = [OrderBy { field: "buy_sell_pressure".into(), direction: Direction::Desc }];
    page(rows, req.pagination, Some(req.order_by.as_deref().unwrap_or(&default_order)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_as_the_api_accepts_them() {
        assert_eq!(parse_bound("2026-01-01", false, true).unwrap(), 1_767_225_600_000);
        assert_eq!(parse_bound("2026-01-01", true, true).unwrap(), 1_767_225_600_000 + DAY_MS);
        assert!(parse_bound("2026-01-01T00:00:00Z", false, true).is_err());
        assert_eq!(parse_bound("2026-01-01T00:00:01Z", false, false).unwrap(), 1_767_225_601_000);
        assert_eq!(parse_bound("2026-01-01T00:00:01.500000", false, false).unwrap(), 1_767_225_601_500);
        assert_eq!(parse_bound("yesterday", false, false).unwrap_err().status, 422);
        assert_eq!(iso_micros(1_767_225_601_500), "2026-01-01T00:00:01.500000");
    }
}
