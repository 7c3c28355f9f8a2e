//! Hyperliquid's early-mainnet history (Feb–May 2023, `hyperliquid-dex/historical_data`):
//! `non_mm_trades.csv` (`time,user,coin,side,px,sz,crossed`), with
//! `liquidations.csv` and `non_mm_ledger_updates.csv` beside it.
//!
//! The trades lack every derived fill field. Positions start at mainnet launch,
//! so the shared position model rebuilds each wallet's position from zero and
//! derives start position, direction, realised PnL and the fee from the schedule.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use chrono::DateTime;

use super::{ImportError, Record, RowError, Summary};
use crate::hyperliquid::info::Fill;
use crate::position::{self, PositionBook};
use crate::wire::{Decimal, parse_decimal};

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

    /// Applies `user`'s transfers up to `until`, each as an account value at its time.
    fn transfers_until(&mut self, user: &str, until: u64, out: &mut impl FnMut(Record)) {
        let Some((list, next)) = self.transfers.get_mut(user) else { return };
        while let Some(t) = list.get(*next).filter(|t| t.time_ms <= until) {
            let v = self.value.entry(user.to_string()).or_insert(Decimal::ZERO);
            *v += t.delta_usd;
            if *v > Decimal::ZERO {
                out(Record::AccountValue { user: user.to_string(), time: t.time_ms, value: *v });
            }
            *next += 1;
        }
    }

    fn fill(&mut self, user: &str, fill: &Fill, out: &mut impl FnMut(Record)) {
        self.transfers_until(user, fill.time, out);
        let v = self.value.entry(user.to_string()).or_insert(Decimal::ZERO);
        *v += fill.closed_pnl - fill.fee;
        if *v > Decimal::ZERO {
            out(Record::AccountValue { user: user.to_string(), time: fill.time, value: *v });
        }
    }

    fn rest(&mut self, out: &mut impl FnMut(Record)) {
        let mut users: Vec<String> = self.transfers.keys().cloned().collect();
        users.sort();
        for u in users {
            self.transfers_until(&u, u64::MAX, out);
        }
    }
}

/// Reads the trades (and counts the liquidations beside them), handing over
/// every fill in file order and, from the ledger beside them, each wallet's
/// account value (net deposits plus realised PnL less fees) at each transfer
/// and after each fill; bad rows are reported to `on_error` and skipped.
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
    let mut values = 0u64;
    let mut emit = |r: Record| {
        values += 1;
        on_record(r);
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
                let fill = to_fill(&row, line_no, &mut book);
                equity.fill(&row.user, &fill, &mut emit);
                emit(Record::Fill { user: row.user.clone(), fill });
            }
            Err(reason) => {
                let kind = reason.split([' ', ':']).next().unwrap_or("row").to_string();
                *summary.skipped.entry(kind).or_default() += 1;
                on_error(RowError { file: name.clone(), line: line_no, reason });
            }
        }
    }
    equity.rest(&mut emit);
    let fills = summary.events.get("fill").copied().unwrap_or(0);
    summary.events.insert("account_value".into(), values - fills);
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
        "account values: net deposits (ledger) plus realised PnL less fees, at each transfer and fill \
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
}
