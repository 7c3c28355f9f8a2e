//! The backfill path: a dataset's records become domain events, validated and
//! de-duplicated by the same [`Ingestor`] as live inputs, in one time-ordered
//! stream — so a backfill sees what the daemon would have seen.
//!
//! Records are gathered and sorted in memory (a 90-day, 300-wallet export is
//! about 0.5 M fills); the order within one millisecond is the kind order below
//! (prices before fills), then file order.

use std::collections::BTreeMap;
use std::path::Path;

use connectors::import::{self, Format, ImportError, Record, RowError, Summary};
use dataflows::model::{AccountValue, Address, LeaderboardWindow, MarkPrice, Price, Token, Usd};

use super::{Event, IngestError, IngestStats, Ingestor, Outcome, Stamped, convert};

/// One record as domain events (a refusal names the field at fault): an
/// account state is its positions and account value; everything else is one.
pub fn events(record: &Record) -> Result<Vec<Event>, IngestError> {
    let token = |coin: &str| Token::parse(coin).map_err(|source| IngestError::Id { field: "coin", source });
    let one = match record {
        Record::State { user, time, state } => return super::account_events(user, *time, state),
        Record::Fill { user, fill } => Event::Fill(convert::fill(user, fill)?),
        Record::Candle(c) => Event::Mark(MarkPrice {
            time_ms: c.close_time,
            token: token(&c.s)?,
            price: Price::new(convert::fixed("candle.c", &c.c)?),
        }),
        Record::Funding(f) => Event::Funding(convert::funding(f)?),
        Record::Mark { coin, time, px } => Event::Mark(MarkPrice {
            time_ms: *time,
            token: token(coin)?,
            price: Price::new(convert::fixed("mark.px", px)?),
        }),
        Record::AccountValue { user, time, value } => Event::Account(AccountValue {
            time_ms: *time,
            wallet: Address::parse(user).map_err(|source| IngestError::Id { field: "accountValue.user", source })?,
            value: Usd::new(convert::fixed("accountValue", value)?),
        }),
        Record::Leaderboard { window, time, row } => {
            let days = window.trim_end_matches('d').parse::<u64>().ok();
            let w = days.and_then(LeaderboardWindow::from_days).ok_or_else(|| IngestError::Invalid {
                field: "leaderboard.window",
                reason: format!("{window:?} is not one of 1d, 7d, 30d, 90d"),
            })?;
            Event::Leaderboard(convert::leaderboard(row, w, *time)?)
        }
    };
    Ok(vec![one])
}

fn rank(e: &Event) -> u8 {
    match e {
        Event::Mark(_) | Event::PriceStatus(_) => 0,
        Event::Funding(_) => 1,
        Event::Fill(_) => 2,
        Event::Position(_) => 3,
        Event::Account(_) => 4,
        Event::Leaderboard(_) => 5,
        // Datasets hold none of the daemon's own inputs; after the market's if they did.
        Event::OwnPosition(_) => 6,
        Event::OwnAccount { .. } => 7,
        Event::Halt { .. } => 8,
        Event::Tick(_) | Event::Now(_) => 9,
    }
}

/// A dataset read into the engine's inputs.
#[derive(Debug)]
pub struct History {
    /// Accepted events, stamped, in time order.
    pub events: Vec<Stamped>,
    /// What the importer read and skipped.
    pub summary: Summary,
    /// What ingestion accepted, refused (by kind) and dropped as duplicates.
    pub ingest: IngestStats,
}

/// Reads `path` (as `format`, or detected) into one time-ordered stream.
/// `on_error` sees every bad row; `on_file` each file before it is read.
pub fn load(
    path: &Path,
    format: Option<Format>,
    tokens: Option<std::collections::BTreeSet<Token>>,
    on_error: impl FnMut(RowError),
    on_file: impl FnMut(&Path, u64),
) -> Result<History, ImportError> {
    let format = match format {
        Some(f) => f,
        None => import::detect(path)?,
    };
    let mut ingestor = Ingestor::new(tokens);
    let mut events: Vec<Event> = Vec::new();
    let summary = import::read(
        path,
        format,
        |record| match self::events(&record) {
            Ok(e) => events.extend(e),
            Err(e) => ingestor.refuse(&e),
        },
        on_error,
        on_file,
    )?;
    // Stable: file order survives within a millisecond and kind.
    events.sort_by_key(|e| (e.source_time(), rank(e)));
    let mut stamped = Vec::with_capacity(events.len());
    for e in events {
        if let Outcome::Accepted(s) = ingestor.ingest(e) {
            stamped.push(s);
        }
    }
    Ok(History { events: stamped, summary, ingest: ingestor.stats })
}

/// Events by kind, for summaries.
pub fn count_by_kind(events: &[Stamped]) -> BTreeMap<&'static str, u64> {
    let mut out = BTreeMap::new();
    for s in events {
        *out.entry(s.event.kind()).or_default() += 1;
    }
    out
}

/// A history's events with each trade's price also taken as its token's mark
/// at that time — a dataset's candles are hourly, and a decision on a fill
/// needs the market it happened in (the fill assumption of backfill and of
/// the daemon's start-up history alike).
pub fn with_trade_marks(events: impl IntoIterator<Item = Event>) -> Vec<Event> {
    let mut out = Vec::new();
    for e in events {
        if let Event::Fill(f) = &e {
            let mark = Event::Mark(MarkPrice { time_ms: f.time_ms, token: f.token, price: f.price });
            out.push(e);
            out.push(mark);
        } else {
            out.push(e);
        }
    }
    out
}
