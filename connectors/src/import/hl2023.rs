//! Hyperliquid's early-mainnet history (Feb–May 2023, `hyperliquid-dex/historical_data`):
//! `non_mm_trades.csv` (`time,user,coin,side,px,sz,crossed`), with
//! `liquidations.csv` and `non_mm_ledger_updates.csv` beside it.
//!
//! The trades lack every derived fill field. Positions start at mainnet launch,
//! so the shared position model rebuilds each wallet's position from zero and
//! derives start position, direction, realised PnL and the fee from the schedule.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use chrono::DateTime;

use super::{ImportError, Record, RowError, Summary};
use crate::hyperliquid::info::{AssetPosition, ClearinghouseState, Fill, Leverage, MarginSummary, Position};
use crate::position::{self, PositionBook};
use crate::wire::{Decimal, parse_decimal};
use rust_decimal::prelude::ToPrimitive;

pub const TRADES: &str = "non_mm_trades.csv";
pub const LIQUIDATIONS: &str = "liquidations.csv";
pub const LEDGER: &str = "non_mm_ledger_updates.csv";
const HEADER: &str = "time,user,coin,side,px,sz,crossed";

/// The trades file of `path` (the file itself, or inside the directory).
pub fn trades_file(path: &Path) -> Option<PathBuf> {
    let file = if path.is_dir() { path.join(TRADES) } else { path.to_path_buf() };
    let first = BufReader::new(std::fs::File::open(&file).ok()?).lines().next()?.ok()?;
    (first.trim() == HEADER).then_some(file)
}

/// One row of the trades file.
#[derive(Debug, Clone, PartialEq)]
pub struct TradeRow {
    pub time_ms: u64,
    pub user: String,
    pub coin: String,
    pub buy: bool,
    pub px: Decimal,
    pub sz: Decimal,
    pub crossed: bool,
}

fn parse_time(text: &str) -> Result<u64, String> {
    let t = DateTime::parse_from_rfc3339(text).map_err(|e| format!("time {text:?}: {e}"))?;
    u64::try_from(t.timestamp_millis()).map_err(|_| format!("time {text:?} is before 1970"))
}

/// Parses one data line; the error names the field.
pub fn parse_row(line: &str) -> Result<TradeRow, String> {
    let cols: Vec<&str> = line.trim_end_matches('\r').split(',').collect();
    if cols.len() != 7 {
        return Err(format!("expected 7 columns, found {}", cols.len()));
    }
    let user = cols[1].to_lowercase();
    let ok_user = user.len() == 42 && user.starts_with("0x") && user[2..].bytes().all(|b| b.is_ascii_hexdigit());
    if !ok_user {
        return Err(format!("user {:?} is not an address", cols[1]));
    }
    if cols[2].is_empty() || !cols[2].bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!("coin {:?} is not a perp name", cols[2]));
    }
    let buy = match cols[3] {
        "Bid" => true,
        "Ask" => false,
        other => return Err(format!("side {other:?} is neither Bid nor Ask")),
    };
    let px = parse_decimal(cols[4]).map_err(|e| format!("px: {e}"))?;
    let sz = parse_decimal(cols[5]).map_err(|e| format!("sz: {e}"))?;
    if px <= Decimal::ZERO {
        return Err(format!("px {px} is not positive"));
    }
    if sz <= Decimal::ZERO {
        return Err(format!("sz {sz} is not positive"));
    }
    let crossed = match cols[6] {
        "true" => true,
        "false" => false,
        other => return Err(format!("crossed {other:?} is neither true nor false")),
    };
    Ok(TradeRow { time_ms: parse_time(cols[0])?, user, coin: cols[2].to_string(), buy, px, sz, crossed })
}

/// A trade as a full fill: the position model supplies what the CSV lacks. The
/// file has no ids, so `oid`/`tid` are the row's line number and `hash` is empty.
pub fn to_fill(row: &TradeRow, line: u64, book: &mut PositionBook) -> Fill {
    let change = book.trade(&row.user, &row.coin, row.buy, row.px, row.sz);
    Fill {
        coin: row.coin.clone(),
        px: row.px,
        sz: row.sz,
        side: if row.buy { "B" } else { "A" }.into(),
        time: row.time_ms,
        start_position: change.start,
        dir: change.dir.into(),
        closed_pnl: change.closed_pnl,
        hash: String::new(),
        oid: line,
        crossed: row.crossed,
        fee: position::fee(row.px * row.sz, row.crossed),
        tid: Some(line),
        fee_token: Some("USDC".into()),
        builder_fee: None,
        cloid: None,
        twap_id: None,
        liquidation: None,
    }
}

/// One row of the ledger: a deposit (positive) or withdrawal (negative).
#[derive(Debug, Clone, PartialEq)]
pub struct Transfer {
    pub time_ms: u64,
    pub user: String,
    pub delta_usd: Decimal,
}

/// Parses one line of `non_mm_ledger_updates.csv` (`time,user,delta_usd`).
pub fn parse_transfer(line: &str) -> Result<Transfer, String> {
    let cols: Vec<&str> = line.trim_end_matches('\r').split(',').collect();
    if cols.len() != 3 {
        return Err(format!("expected 3 columns, found {}", cols.len()));
    }
    let user = cols[1].to_lowercase();
    if !(user.len() == 42 && user.starts_with("0x") && user[2..].bytes().all(|b| b.is_ascii_hexdigit())) {
        return Err(format!("user {:?} is not an address", cols[1]));
    }
    let delta_usd = parse_decimal(cols[2]).map_err(|e| format!("delta_usd: {e}"))?;
    Ok(Transfer { time_ms: parse_time(cols[0])?, user, delta_usd })
}

/// Each wallet's account value as the data allows: net deposits plus realised
/// PnL less fees (the file has no account states; unrealised PnL is left out).
#[derive(Default)]
struct Equity {
    /// Per wallet, its transfers in time order, and how many are applied.
    transfers: std::collections::HashMap<String, (Vec<Transfer>, usize)>,
    value: std::collections::HashMap<String, Decimal>,
}

impl Equity {
    fn new(transfers: Vec<Transfer>) -> Equity {
        let mut e = Equity::default();
        for t in transfers {
            e.transfers.entry(t.user.clone()).or_default().0.push(t);
        }
        for (v, _) in e.transfers.values_mut() {
            v.sort_by_key(|t| t.time_ms);
        }
        e
    }

    /// Applies `user`'s transfers up to `until`: the account value after each, at its time.
    fn transfers_until(&mut self, user: &str, until: u64) -> Vec<(u64, Decimal)> {
        let mut out = Vec::new();
        let Some((list, next)) = self.transfers.get_mut(user) else { return out };
        while let Some(t) = list.get(*next).filter(|t| t.time_ms <= until) {
            let v = self.value.entry(user.to_string()).or_insert(Decimal::ZERO);
            *v += t.delta_usd;
            if *v > Decimal::ZERO {
                out.push((t.time_ms, *v));
            }
            *next += 1;
        }
        out
    }

    /// The account value after `fill` (its transfers up to it applied first).
    fn fill(&mut self, user: &str, fill: &Fill) -> Vec<(u64, Decimal)> {
        let mut out = self.transfers_until(user, fill.time);
        let v = self.value.entry(user.to_string()).or_insert(Decimal::ZERO);
        *v += fill.closed_pnl - fill.fee;
        if *v > Decimal::ZERO {
            out.push((fill.time, *v));
        }
        out
    }

    /// The transfers after every fill: (user, time, value).
    fn rest(&mut self) -> Vec<(String, u64, Decimal)> {
        let mut users: Vec<String> = self.transfers.keys().cloned().collect();
        users.sort();
        let mut out = Vec::new();
        for u in users {
            out.extend(self.transfers_until(&u, u64::MAX).into_iter().map(|(t, v)| (u.clone(), t, v)));
        }
        out
    }
}

/// The account state the data implies for `user` at `time`: its open
/// positions from the book, valued at each coin's last trade price, and the
/// account value `value`. The file says neither the margin mode nor the
/// leverage: cross at the account's effective leverage (notional over value,
/// rounded up, at least 1×), no liquidation price. A bare account value would
/// read as a snapshot of a flat account and close what the fills opened.
fn state(user: &str, time: u64, value: Decimal, book: &PositionBook, prices: &HashMap<String, Decimal>) -> Record {
    let held: Vec<(&str, Decimal, Decimal, Decimal)> = book
        .of(user)
        .map(|(coin, size, entry)| (coin, size, entry, prices.get(coin).copied().unwrap_or(entry)))
        .collect();
    let notional: Decimal = held.iter().map(|(_, size, _, px)| (size * px).abs()).sum();
    let leverage = if value > Decimal::ZERO { (notional / value).ceil().to_u64().unwrap_or(1).max(1) } else { 1 };
    let lev = Decimal::from(leverage);
    let asset_positions: Vec<AssetPosition> = held
        .iter()
        .map(|(coin, size, entry, px)| {
            let position_value = position::round_usd((size * px).abs());
            let margin_used = position::round_usd(position_value / lev);
            let unrealized_pnl = position::round_usd((px - entry) * size);
            let return_on_equity =
                if margin_used.is_zero() { Decimal::ZERO } else { (unrealized_pnl / margin_used).round_dp(8) };
            AssetPosition {
                kind: "oneWay".into(),
                position: Position {
                    coin: coin.to_string(),
                    szi: *size,
                    leverage: Leverage { kind: "cross".into(), value: leverage, raw_usd: None },
                    entry_px: *entry,
                    position_value,
                    unrealized_pnl,
                    return_on_equity,
                    liquidation_px: None,
                    margin_used,
                    max_leverage: None,
                    max_trade_szs: None,
                    cum_funding: None,
                },
            }
        })
        .collect();
    let margin: Decimal = asset_positions.iter().map(|a| a.position.margin_used).sum();
    let summary = MarginSummary {
        account_value: value,
        total_ntl_pos: position::round_usd(notional),
        total_raw_usd: value,
        total_margin_used: margin,
    };
    Record::State {
        user: user.to_string(),
        time,
        state: ClearinghouseState {
            asset_positions,
            margin_summary: summary.clone(),
            cross_margin_summary: summary,
            cross_maintenance_margin_used: None,
            withdrawable: (value - margin).max(Decimal::ZERO),
            time: Some(time),
        },
    }
}

/// Reads the trades (and counts the liquidations beside them), handing over
/// every fill in file order and, from the ledger beside them, each wallet's
/// account state (see [`state`]) at each transfer and after each fill; bad
/// rows are reported to `on_error` and skipped.
pub fn read(
    path: &Path,
    mut on_record: impl FnMut(Record),
    mut on_error: impl FnMut(RowError),
) -> Result<Summary, ImportError> {
    let file = trades_file(path).ok_or_else(|| ImportError::Unrecognised(path.to_path_buf()))?;
    let io = |source| ImportError::Io { path: file.clone(), source };
    let reader = BufReader::new(std::fs::File::open(&file).map_err(io)?);
    let mut book = PositionBook::new();
    let mut summary = Summary { format: super::Format::Hyperliquid2023.name().into(), ..Summary::default() };
    let (mut wallets, mut tokens) = (BTreeSet::new(), BTreeSet::new());
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut transfers = Vec::new();
    if let Ok(f) = std::fs::File::open(dir.join(LEDGER)) {
        for (i, line) in BufReader::new(f).lines().enumerate().skip(1) {
            let line = line.map_err(|source| ImportError::Io { path: dir.join(LEDGER), source })?;
            if line.trim().is_empty() {
                continue;
            }
            match parse_transfer(&line) {
                Ok(t) => transfers.push(t),
                Err(reason) => {
                    *summary.skipped.entry("transfer".into()).or_default() += 1;
                    on_error(RowError { file: LEDGER.into(), line: i as u64 + 1, reason });
                }
            }
        }
    }
    summary.events.insert("transfer".into(), transfers.len() as u64);
    let mut equity = Equity::new(transfers);
    let mut states = 0u64;
    let mut prices: HashMap<String, Decimal> = HashMap::new();
    // One state per wallet and millisecond, the last: two would read as two
    // snapshots, the second omitting (closing) what the first reported.
    let mut latest: HashMap<String, (u64, Record)> = HashMap::new();
    let mut on_state = |user: &str, time: u64, r: Record, on_record: &mut dyn FnMut(Record)| {
        if let Some((t, old)) = latest.insert(user.to_string(), (time, r))
            && t != time
        {
            states += 1;
            on_record(old);
        }
    };
    for (i, line) in reader.lines().enumerate().skip(1) {
        let line_no = i as u64 + 1;
        let line = line.map_err(io)?;
        if line.trim().is_empty() {
            continue;
        }
        summary.rows += 1;
        match parse_row(&line) {
            Ok(row) => {
                wallets.insert(row.user.clone());
                tokens.insert(row.coin.clone());
                summary.first_ms = Some(summary.first_ms.map_or(row.time_ms, |t| t.min(row.time_ms)));
                summary.last_ms = Some(summary.last_ms.map_or(row.time_ms, |t| t.max(row.time_ms)));
                *summary.events.entry("fill".into()).or_default() += 1;
                // The transfers before this fill see the positions before it.
                for (t, v) in equity.transfers_until(&row.user, row.time_ms.saturating_sub(1)) {
                    on_state(&row.user, t, state(&row.user, t, v, &book, &prices), &mut on_record);
                }
                let fill = to_fill(&row, line_no, &mut book);
                prices.insert(row.coin.clone(), row.px);
                let after = equity.fill(&row.user, &fill);
                on_record(Record::Fill { user: row.user.clone(), fill });
                for (t, v) in after {
                    on_state(&row.user, t, state(&row.user, t, v, &book, &prices), &mut on_record);
                }
            }
            Err(reason) => {
                let kind = reason.split([' ', ':']).next().unwrap_or("row").to_string();
                *summary.skipped.entry(kind).or_default() += 1;
                on_error(RowError { file: name.clone(), line: line_no, reason });
            }
        }
    }
    for (user, t, v) in equity.rest() {
        on_state(&user, t, state(&user, t, v, &book, &prices), &mut on_record);
    }
    let mut last: Vec<(String, (u64, Record))> = latest.into_iter().collect();
    last.sort_by(|a, b| a.0.cmp(&b.0));
    summary.events.insert("account_state".into(), states + last.len() as u64);
    for (_, (_, r)) in last {
        on_record(r);
    }
    if let Ok(f) = std::fs::File::open(dir.join(LIQUIDATIONS)) {
        let n = BufReader::new(f).lines().skip(1).filter(|l| l.as_ref().is_ok_and(|l| !l.trim().is_empty())).count();
        summary.events.insert("liquidation".into(), n as u64);
    }
    summary.wallets = wallets.len() as u64;
    summary.tokens = tokens.into_iter().collect();
    summary.derived = vec![
        "startPosition, dir and closedPnl rebuilt from zero with average-entry accounting".into(),
        "fee from the base schedule (taker 0.045 %, maker 0.015 %)".into(),
        format!("{} positions still open at the end", book.open().count()),
        "account states at each transfer and fill: the open positions (cross, at the account's effective \
         leverage, valued at the last trade price) and the account value, net deposits (ledger) plus \
         realised PnL less fees \
         (no unrealised PnL; none while not positive)"
            .into(),
    ];
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_parse_or_name_the_bad_field() {
        let r = parse_row("2023-02-27T15:02:26Z,0x3b6996b7aa8371b0301167eefca33efca13307d6,ETH,Ask,1655.5,0.0452,true")
            .unwrap();
        assert_eq!((r.time_ms, r.buy, r.crossed), (1_677_510_146_000, false, true));
        for (line, field) in [
            ("2023-02-27T15:02:26Z,0x3b69,ETH,Ask,1655.5,0.0452,true", "user"),
            ("2023-02-27T15:02:26Z,0x3b6996b7aa8371b0301167eefca33efca13307d6,ETH,Sell,1655.5,0.0452,true", "side"),
            ("2023-02-27T15:02:26Z,0x3b6996b7aa8371b0301167eefca33efca13307d6,ETH,Ask,NaN,0.0452,true", "px"),
            ("2023-02-27T15:02:26Z,0x3b6996b7aa8371b0301167eefca33efca13307d6,ETH,Ask,1655.5,-1,true", "sz"),
            ("yesterday,0x3b6996b7aa8371b0301167eefca33efca13307d6,ETH,Ask,1655.5,1,true", "time"),
            ("2023-02-27T15:02:26Z,0x3b6996b7aa8371b0301167eefca33efca13307d6,ETH", "columns"),
        ] {
            let e = parse_row(line).unwrap_err();
            assert!(e.contains(field), "{field}: {e}");
        }
    }

    /// Each fill is followed by the account state it leaves: the open
    /// positions with the value (so an account value never reads as a flat
    /// account), the leverage the notional implies; a transfer before a fill
    /// sees the positions before it; fills in one millisecond leave one state.
    #[test]
    fn account_states_carry_the_positions_the_fills_left() {
        let dir = tempfile::tempdir().unwrap();
        let w = "0x3b6996b7aa8371b0301167eefca33efca13307d6";
        std::fs::write(
            dir.path().join(TRADES),
            format!(
                "{HEADER}\n2023-03-01T00:00:00Z,{w},ETH,Bid,1000,3,true\n\
                 2023-03-01T02:00:00Z,{w},ETH,Ask,1100,1,true\n2023-03-01T02:00:00Z,{w},ETH,Ask,1100,2,true\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path().join(LEDGER),
            format!("time,user,delta_usd\n2023-02-28T00:00:00Z,{w},1000\n2023-03-01T01:00:00Z,{w},500\n"),
        )
        .unwrap();
        let mut states = Vec::new();
        let summary = read(
            dir.path(),
            |r| {
                if let Record::State { time, state, .. } = r {
                    states.push((time, state));
                }
            },
            |e| panic!("{e:?}"),
        )
        .unwrap();
        let sizes = |s: &ClearinghouseState| -> Vec<(String, Decimal, u64)> {
            s.asset_positions
                .iter()
                .map(|a| (a.position.coin.clone(), a.position.szi, a.position.leverage.value))
                .collect()
        };
        let d = |x: &str| parse_decimal(x).unwrap();
        // The close is two fills in one second: one state, after both.
        assert_eq!(states.len(), 4, "deposit, open, deposit, close: {states:?}");
        assert!(sizes(&states[0].1).is_empty());
        assert_eq!(states[0].1.margin_summary.account_value, d("1000"));
        // Long 3 ETH ($3,000) on a $998.65 account (less the taker fee): 4× cross.
        assert_eq!(sizes(&states[1].1), [("ETH".to_string(), d("3"), 4)]);
        assert_eq!(states[1].1.margin_summary.account_value, d("998.65"));
        // The deposit an hour later still sees the position.
        assert_eq!(sizes(&states[2].1), [("ETH".to_string(), d("3"), 3)]);
        // Closed at +$300 less $1.485 fee: flat.
        assert!(sizes(&states[3].1).is_empty());
        assert_eq!(states[3].1.margin_summary.account_value, d("1797.165"));
        assert_eq!(summary.events["account_state"], 4);
    }
}
