//! Hyperliquid `/info` responses computed from the world, in the real shapes.
//! Caps follow the real API: `userFills` returns the 2000 most recent fills
//! (newest first), `userFillsByTime` the first 2000 from `startTime` (oldest
//! first), and only an account's 10 000 most recent fills are reachable; time
//! ranges of funding lists return at most 500 rows; candles keep the last 5000.

use super::ledger::{FillRec, FundingRec, TransferRec, maintenance_rate, round_usd, unrealized};
use super::market::{HOUR_MS, MINUTE_MS};
use super::tokens::Round;
use super::world::World;
use crate::hyperliquid::info::{
    AllMids, AssetCtx, AssetMeta, AssetPosition, Candle, ClearinghouseState, CumFunding, Fill, FillLiquidation,
    FundingDelta, FundingHistoryEntry, L2Book, L2Level, LedgerDelta, LedgerUpdate, Leverage, MarginSummary, Meta,
    Position, UserFundingEntry,
};
use crate::wire::{Decimal, hl_string};

pub const FILLS_PAGE: usize = 2_000;
pub const FILLS_REACHABLE: usize = 10_000;
pub const LIST_PAGE: usize = 500;
pub const CANDLES_KEPT: usize = 5_000;

pub fn meta(world: &World) -> Meta {
    Meta {
        universe: world
            .specs()
            .iter()
            .map(|s| AssetMeta {
                name: s.name.to_string(),
                sz_decimals: s.sz_decimals,
                max_leverage: s.max_leverage.into(),
                only_isolated: None,
                is_delisted: None,
            })
            .collect(),
    }
}

pub fn asset_ctxs(world: &World) -> Vec<AssetCtx> {
    let now = world.now_ms;
    let day_ago = now.saturating_sub(24 * HOUR_MS).max(world.market.start_ms);
    (0..world.specs().len())
        .map(|t| {
            let spec = &world.specs()[t];
            let mark = world.mark(t);
            let (base, ntl) = world.tape[world.tape.partition_point(|r| r.time <= day_ago)..]
                .iter()
                .filter(|r| r.token == t)
                .fold((Decimal::ZERO, Decimal::ZERO), |(b, n), r| (b + r.sz, n + r.px * r.sz));
            let oi = world.open_interest(t);
            let funding = world.latest_funding(t).unwrap_or_default();
            let bid =
                spec.round_price(world.market.price_generated(t, now) * (1.0 - spec.half_spread * 3.0), Round::Down);
            let ask =
                spec.round_price(world.market.price_generated(t, now) * (1.0 + spec.half_spread * 3.0), Round::Up);
            AssetCtx {
                day_ntl_vlm: ntl.round_dp(2),
                funding,
                impact_pxs: Some(vec![hl_string(&bid), hl_string(&ask)]),
                mark_px: mark,
                mid_px: Some(mark),
                open_interest: oi,
                oracle_px: mark,
                premium: Some(funding - Decimal::new(125, 7)),
                prev_day_px: world.market.mark(t, day_ago),
                day_base_vlm: base,
            }
        })
        .collect()
}

pub fn all_mids(world: &World) -> AllMids {
    (0..world.specs().len()).map(|t| (world.specs()[t].name.to_string(), hl_string(&world.mark(t)))).collect()
}

/// An account's state at the current time; an unknown address is an empty account.
pub fn clearinghouse_state(world: &World, wallet: Option<usize>) -> ClearinghouseState {
    let zero = Decimal::ZERO;
    let Some(w) = wallet else {
        let empty =
            MarginSummary { account_value: zero, total_ntl_pos: zero, total_raw_usd: zero, total_margin_used: zero };
        return ClearinghouseState {
            asset_positions: Vec::new(),
            margin_summary: empty.clone(),
            cross_margin_summary: empty,
            cross_maintenance_margin_used: Some(zero),
            withdrawable: zero,
            time: Some(world.now_ms),
        };
    };
    let account = &world.accounts[w];
    let account_value = world.account_value(w);
    let mut positions = Vec::new();
    let (mut ntl, mut signed_ntl, mut margin_used) = (zero, zero, zero);
    let (mut cross_ntl, mut cross_signed, mut cross_margin, mut cross_maint, mut isolated_equity) =
        (zero, zero, zero, zero, zero);
    for (&t, p) in &account.positions {
        let spec = &world.specs()[t];
        let mark = world.mark(t);
        let upnl = unrealized(p, mark);
        let value = round_usd(p.szi.abs() * mark);
        let used = if p.isolated {
            round_usd((p.margin + upnl).max(zero))
        } else {
            round_usd(value / Decimal::from(p.leverage))
        };
        let initial = p.entry * p.szi.abs() / Decimal::from(p.leverage);
        let roe = if initial.is_zero() { zero } else { (upnl / initial).round_dp(10) };
        let max_sz = if mark.is_zero() {
            zero
        } else {
            (account_value.max(zero) * Decimal::from(p.leverage) / mark).round_dp(spec.sz_decimals)
        };
        ntl += value;
        signed_ntl += p.szi * mark;
        margin_used += used;
        if p.isolated {
            isolated_equity += p.margin + upnl;
        } else {
            cross_ntl += value;
            cross_signed += p.szi * mark;
            cross_margin += used;
            cross_maint += round_usd(value * maintenance_rate(spec));
        }
        // Hyperliquid reports funding paid as positive.
        let all_time = -account.funding_all_time.get(&t).copied().unwrap_or_default();
        positions.push(AssetPosition {
            kind: "oneWay".into(),
            position: Position {
                coin: spec.name.to_string(),
                szi: p.szi,
                leverage: Leverage {
                    kind: if p.isolated { "isolated" } else { "cross" }.into(),
                    value: p.leverage.into(),
                    raw_usd: p.isolated.then_some(round_usd(p.margin)),
                },
                entry_px: p.entry,
                position_value: value,
                unrealized_pnl: upnl,
                return_on_equity: roe,
                liquidation_px: p.liq,
                margin_used: used,
                max_leverage: Some(spec.max_leverage.into()),
                max_trade_szs: Some(vec![hl_string(&max_sz), hl_string(&max_sz)]),
                cum_funding: Some(CumFunding {
                    all_time,
                    since_open: -p.funding_since_open,
                    since_change: -p.funding_since_change,
                }),
            },
        });
    }
    let cross_value = account_value - isolated_equity;
    ClearinghouseState {
        asset_positions: positions,
        margin_summary: MarginSummary {
            account_value,
            total_ntl_pos: ntl,
            total_raw_usd: account_value - signed_ntl,
            total_margin_used: margin_used,
        },
        cross_margin_summary: MarginSummary {
            account_value: cross_value,
            total_ntl_pos: cross_ntl,
            total_raw_usd: cross_value - cross_signed,
            total_margin_used: cross_margin,
        },
        cross_maintenance_margin_used: Some(cross_maint),
        withdrawable: (account_value - margin_used).max(zero),
        time: Some(world.now_ms),
    }
}

/// A ledger fill in the API's shape.
pub fn fill(world: &World, f: &FillRec) -> Fill {
    Fill {
        coin: world.specs()[f.token].name.to_string(),
        px: f.px,
        sz: f.sz,
        side: if f.buy { "B" } else { "A" }.into(),
        time: f.time,
        start_position: f.start_position,
        dir: f.dir().into(),
        closed_pnl: f.closed_pnl,
        hash: world.trade_hash(f.tid),
        oid: f.oid,
        crossed: f.crossed,
        fee: f.fee,
        tid: Some(f.tid),
        fee_token: Some("USDC".into()),
        builder_fee: f.builder_fee,
        cloid: f.cloid.map(|c| format!("0x{}", hex::encode(c))),
        twap_id: None,
        liquidation: f.liquidation.as_ref().map(|l| FillLiquidation {
            liquidated_user: Some(world.accounts[l.liquidated].address_hex()),
            mark_px: l.mark,
            method: if f.px == l.mark { "market" } else { "backstop" }.into(),
        }),
    }
}

fn reachable(world: &World, wallet: Option<usize>) -> &[FillRec] {
    match wallet {
        Some(w) => {
            let fills = &world.accounts[w].fills;
            &fills[fills.len().saturating_sub(FILLS_REACHABLE)..]
        }
        None => &[],
    }
}

/// `userFills`: the most recent fills, newest first.
pub fn user_fills(world: &World, wallet: Option<usize>) -> Vec<Fill> {
    reachable(world, wallet).iter().rev().take(FILLS_PAGE).map(|f| fill(world, f)).collect()
}

/// `userFillsByTime`: the first 2000 fills in `[start, end]`, oldest first.
pub fn user_fills_by_time(world: &World, wallet: Option<usize>, start: u64, end: Option<u64>) -> Vec<Fill> {
    let end = end.unwrap_or(u64::MAX);
    reachable(world, wallet)
        .iter()
        .filter(|f| f.time >= start && f.time <= end)
        .take(FILLS_PAGE)
        .map(|f| fill(world, f))
        .collect()
}

/// Interval lengths the venue serves.
pub fn interval_ms(interval: &str) -> Option<u64> {
    Some(match interval {
        "1m" => MINUTE_MS,
        "3m" => 3 * MINUTE_MS,
        "5m" => 5 * MINUTE_MS,
        "15m" => 15 * MINUTE_MS,
        "30m" => 30 * MINUTE_MS,
        "1h" => HOUR_MS,
        "2h" => 2 * HOUR_MS,
        "4h" => 4 * HOUR_MS,
        "8h" => 8 * HOUR_MS,
        "12h" => 12 * HOUR_MS,
        "1d" => 24 * HOUR_MS,
        "3d" => 72 * HOUR_MS,
        "1w" => 168 * HOUR_MS,
        _ => return None,
    })
}

/// Candles of `token` covering `[start, end]`, up to now; the last 5000 at most.
pub fn candles(world: &World, token: usize, interval: &str, start: u64, end: u64) -> Vec<Candle> {
    let Some(len) = interval_ms(interval) else { return Vec::new() };
    let spec = &world.specs()[token];
    let first = (start.max(world.market.start_ms) / len) * len;
    let last = end.min(world.now_ms);
    let mut out = Vec::new();
    let mut t = first;
    while t <= last {
        let close_at = (t + len).min(world.now_ms.max(t + MINUTE_MS));
        if let Some([o, h, l, c]) = world.market.ohlc(token, t, close_at) {
            let lo = world.tape.partition_point(|r| r.time < t);
            let hi = world.tape.partition_point(|r| r.time < t + len);
            let (v, n) = world.tape[lo..hi]
                .iter()
                .filter(|r| r.token == token)
                .fold((Decimal::ZERO, 0u64), |(v, n), r| (v + r.sz, n + 1));
            out.push(Candle {
                t,
                close_time: t + len - 1,
                s: spec.name.to_string(),
                i: interval.to_string(),
                o: spec.round_price(o, Round::Nearest),
                c: spec.round_price(c, Round::Nearest),
                h: spec.round_price(h, Round::Nearest),
                l: spec.round_price(l, Round::Nearest),
                v,
                n,
            });
        }
        t += len;
    }
    let skip = out.len().saturating_sub(CANDLES_KEPT);
    out.split_off(skip)
}

/// A book of 10 levels a side around the mark, deeper away from it.
pub fn l2_book(world: &World, token: usize) -> L2Book {
    let spec = &world.specs()[token];
    let mid = world.market.price_generated(token, world.now_ms);
    let depth_usd = 250_000.0 / (1.0 + token as f64 * 0.3);
    let level = |i: usize, bid: bool| {
        let offset = spec.half_spread * (1.0 + 2.0 * i as f64);
        let px = if bid {
            spec.round_price(mid * (1.0 - offset), Round::Down)
        } else {
            spec.round_price(mid * (1.0 + offset), Round::Up)
        };
        let sz = spec.round_size_down(depth_usd * (1.0 + i as f64) / mid).max(Decimal::ONE);
        L2Level { px, sz, n: 1 + (i as u64 % 3) }
    };
    L2Book {
        coin: spec.name.to_string(),
        time: world.now_ms,
        levels: vec![(0..10).map(|i| level(i, true)).collect(), (0..10).map(|i| level(i, false)).collect()],
    }
}

/// `fundingHistory`: hourly rates in `[start, end]`, oldest first, 500 at most.
pub fn funding_history(world: &World, token: usize, start: u64, end: Option<u64>) -> Vec<FundingHistoryEntry> {
    let end = end.unwrap_or(u64::MAX).min(world.now_ms);
    let mut out = Vec::new();
    let mut h = (start.max(world.market.start_ms + HOUR_MS)).div_ceil(HOUR_MS) * HOUR_MS;
    while h <= end && out.len() < LIST_PAGE {
        if let Some(rate) = world.market.funding_rate(token, h) {
            out.push(FundingHistoryEntry {
                coin: world.specs()[token].name.to_string(),
                funding_rate: rate,
                premium: rate - Decimal::new(125, 7),
                time: h,
            });
        }
        h += HOUR_MS;
    }
    out
}

/// One funding payment in the API's shape.
pub fn funding_entry(world: &World, w: usize, f: &FundingRec) -> UserFundingEntry {
    UserFundingEntry {
        time: f.time,
        hash: world.ledger_hash("funding", f.time, w),
        delta: FundingDelta {
            kind: "funding".into(),
            coin: world.specs()[f.token].name.to_string(),
            usdc: f.usdc,
            szi: f.szi,
            funding_rate: f.rate,
            n_samples: Some(1),
        },
    }
}

/// `userFunding`: the account's funding payments in `[start, end]`, 500 at most.
pub fn user_funding(world: &World, wallet: Option<usize>, start: u64, end: Option<u64>) -> Vec<UserFundingEntry> {
    let Some(w) = wallet else { return Vec::new() };
    let end = end.unwrap_or(u64::MAX);
    world.accounts[w]
        .funding
        .iter()
        .filter(|f| f.time >= start && f.time <= end)
        .take(LIST_PAGE)
        .map(|f| funding_entry(world, w, f))
        .collect()
}

/// One deposit or withdrawal in the API's shape.
pub fn ledger_update(world: &World, w: usize, t: &TransferRec) -> LedgerUpdate {
    LedgerUpdate {
        time: t.time,
        hash: world.ledger_hash("transfer", t.time, w),
        delta: if t.usdc >= Decimal::ZERO {
            LedgerDelta { kind: "deposit".into(), usdc: Some(t.usdc), nonce: None, fee: None }
        } else {
            LedgerDelta { kind: "withdraw".into(), usdc: Some(-t.usdc), nonce: Some(t.time), fee: Some(Decimal::ZERO) }
        },
    }
}

/// `userNonFundingLedgerUpdates`: deposits and withdrawals in `[start, end]`.
pub fn ledger_updates(world: &World, wallet: Option<usize>, start: u64, end: Option<u64>) -> Vec<LedgerUpdate> {
    let Some(w) = wallet else { return Vec::new() };
    let end = end.unwrap_or(u64::MAX);
    world.accounts[w]
        .transfers
        .iter()
        .filter(|t| t.time >= start && t.time <= end)
        .take(LIST_PAGE)
        .map(|t| ledger_update(world, w, t))
        .collect()
}
