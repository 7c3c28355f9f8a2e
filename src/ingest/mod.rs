//! Ingestion (DESIGN §1, §3): API-shaped records become validated domain
//! events, stamped with a dataflow time that never goes backwards, de-duplicated,
//! and appended to the redb input log — the raw material of checkpoints and of
//! replay-equals-live.
//!
//! Bad input never stops the stream: it is a typed error naming the field,
//! counted by kind, logged once per kind, and the event is dropped.

pub mod convert;
pub mod history;
pub mod live;

use std::collections::{BTreeMap, BTreeSet, HashSet};

use dataflows::feed::Input;
use dataflows::model::{
    AccountValue, Fill, FundingRate, Halt, IdError, LeaderboardRow, MarkPrice, ModelError, NumError, OwnPosition,
    PositionSnapshot, PriceStatus, TimeMs, Token, Usd, Validate,
};
use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError, Table, WriteTxn};

/// One input of the dataflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    Fill(Fill),
    Position(PositionSnapshot),
    Account(AccountValue),
    Mark(MarkPrice),
    Funding(FundingRate),
    Leaderboard(LeaderboardRow),
    PriceStatus(PriceStatus),
    // What the daemon adds to the market's inputs; logged like them, so a
    // recorded log replays our own account and the clocks exactly.
    /// One of our own positions (our snapshot's positions precede its account value).
    OwnPosition(OwnPosition),
    /// Our account value, closing our snapshot.
    OwnAccount {
        time_ms: TimeMs,
        value: Usd,
    },
    /// The scoring clock.
    Tick(TimeMs),
    /// The trading clock.
    Now(TimeMs),
    /// An operator halt of new entries set or lifted.
    Halt {
        time_ms: TimeMs,
        halt: Halt,
        active: bool,
    },
}

impl Event {
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Fill(_) => "fill",
            Event::Position(_) => "position",
            Event::Account(_) => "account",
            Event::Mark(_) => "mark",
            Event::Funding(_) => "funding",
            Event::Leaderboard(_) => "leaderboard",
            Event::PriceStatus(_) => "price status",
            Event::OwnPosition(_) => "own position",
            Event::OwnAccount { .. } => "own account",
            Event::Tick(_) => "scoring clock",
            Event::Now(_) => "trading clock",
            Event::Halt { .. } => "halt",
        }
    }

    /// The dataflow input it is.
    pub fn input(&self) -> Input {
        match self {
            Event::Fill(f) => Input::Fill(f.clone()),
            Event::Position(p) => Input::Position(p.clone()),
            Event::Account(a) => Input::Account(a.clone()),
            Event::Mark(m) => Input::Mark(m.clone()),
            Event::Funding(f) => Input::Funding(f.clone()),
            Event::Leaderboard(r) => Input::Leaderboard(r.clone()),
            Event::PriceStatus(p) => Input::PriceStatus(*p),
            Event::OwnPosition(p) => Input::OwnPosition(*p),
            Event::OwnAccount { time_ms, value } => Input::OwnAccount { time_ms: *time_ms, value: *value },
            Event::Tick(t) => Input::Tick(*t),
            Event::Now(t) => Input::Now(*t),
            Event::Halt { time_ms, halt, active } => Input::Halt { time_ms: *time_ms, halt: *halt, active: *active },
        }
    }

    /// The event an input is (the inverse of [`Event::input`]; a retraction has none).
    pub fn of_input(input: &Input) -> Option<Event> {
        Some(match input {
            Input::Fill(f) => Event::Fill(f.clone()),
            Input::FillRetracted(_) => return None,
            Input::Position(p) => Event::Position(p.clone()),
            Input::Account(a) => Event::Account(a.clone()),
            Input::Leaderboard(r) => Event::Leaderboard(r.clone()),
            Input::Tick(t) => Event::Tick(*t),
            Input::Mark(m) => Event::Mark(m.clone()),
            Input::PriceStatus(p) => Event::PriceStatus(*p),
            Input::Now(t) => Event::Now(*t),
            Input::OwnPosition(p) => Event::OwnPosition(*p),
            Input::OwnAccount { time_ms, value } => Event::OwnAccount { time_ms: *time_ms, value: *value },
            Input::Funding(f) => Event::Funding(f.clone()),
            Input::Halt { time_ms, halt, active } => Event::Halt { time_ms: *time_ms, halt: *halt, active: *active },
        })
    }

    /// The time its source gave it.
    pub fn source_time(&self) -> TimeMs {
        match self {
            Event::Fill(e) => e.time_ms,
            Event::Position(e) => e.time_ms,
            Event::Account(e) => e.time_ms,
            Event::Mark(e) => e.time_ms,
            Event::Funding(e) => e.time_ms,
            Event::Leaderboard(e) => e.time_ms,
            Event::PriceStatus(e) => e.time_ms,
            Event::OwnPosition(e) => e.time_ms,
            Event::OwnAccount { time_ms, .. } | Event::Halt { time_ms, .. } => *time_ms,
            Event::Tick(t) | Event::Now(t) => *t,
        }
    }

    fn token(&self) -> Option<Token> {
        match self {
            Event::Fill(e) => Some(e.token),
            Event::Position(e) => Some(e.token),
            Event::Mark(e) => Some(e.token),
            Event::Funding(e) => Some(e.token),
            Event::PriceStatus(e) => Some(e.token),
            Event::OwnPosition(e) => Some(e.token),
            Event::Account(_)
            | Event::Leaderboard(_)
            | Event::OwnAccount { .. }
            | Event::Tick(_)
            | Event::Now(_)
            | Event::Halt { .. } => None,
        }
    }

    fn validate(&self) -> Result<(), ModelError> {
        match self {
            Event::Fill(e) => e.validate(),
            Event::Position(e) => e.validate(),
            Event::Account(e) => e.validate(),
            Event::Mark(e) => e.validate(),
            Event::Funding(e) => e.validate(),
            Event::Leaderboard(e) => e.validate(),
            Event::PriceStatus(_)
            | Event::OwnPosition(_)
            | Event::OwnAccount { .. }
            | Event::Tick(_)
            | Event::Now(_)
            | Event::Halt { .. } => Ok(()),
        }
    }
}

/// A `clearinghouseState` at `time` as events: each position, then the account value.
pub fn account_events(
    user: &str,
    time: TimeMs,
    state: &connectors::hyperliquid::info::ClearinghouseState,
) -> Result<Vec<Event>, IngestError> {
    let (positions, value) = convert::account(user, time, state)?;
    let mut out: Vec<Event> = positions.into_iter().map(Event::Position).collect();
    out.push(Event::Account(value));
    Ok(out)
}

/// Why an input was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IngestError {
    #[error("{field}: {source}")]
    Number { field: &'static str, source: NumError },
    #[error("{field}: {source}")]
    Id { field: &'static str, source: IdError },
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("unknown token {0}")]
    UnknownToken(Token),
    #[error("{token} price {price} is more than 10× away from the last mark {mark}")]
    AbsurdPrice { token: Token, price: String, mark: String },
}

impl IngestError {
    /// The error's kind, for counting.
    pub fn kind(&self) -> String {
        match self {
            IngestError::Number { field, .. } | IngestError::Id { field, .. } | IngestError::Invalid { field, .. } => {
                format!("invalid {field}")
            }
            IngestError::Model(ModelError::Field { field, .. }) => format!("invalid {field}"),
            IngestError::Model(_) => "invalid record".into(),
            IngestError::UnknownToken(_) => "unknown token".into(),
            IngestError::AbsurdPrice { .. } => "absurd price".into(),
        }
    }
}

/// An accepted event with the dataflow time it was stamped with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamped {
    pub time_ms: TimeMs,
    pub event: Event,
}

/// What happened to an input.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Accepted(Stamped),
    /// Seen before (a fill replayed by a reconnect snapshot or a REST backfill).
    Duplicate,
    Rejected(IngestError),
}

/// Counters by kind, for metrics and summaries.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct IngestStats {
    pub accepted: BTreeMap<&'static str, u64>,
    pub duplicates: u64,
    /// Accepted but older than the frontier: stamped at the frontier.
    pub late: u64,
    pub errors: BTreeMap<String, u64>,
}

/// The input log: every accepted event in stamp order, keyed by (stamp, sequence).
pub const INPUT_LOG: Table<(u64, u32), Stamped> = Table::new("input_log");

/// Validates, de-duplicates and stamps inputs.
#[derive(Debug)]
pub struct Ingestor {
    frontier: TimeMs,
    seq_at_frontier: u32,
    tokens: Option<BTreeSet<Token>>,
    marks: BTreeMap<Token, dataflows::model::Price>,
    seen_fills: HashSet<(dataflows::model::Address, Token, TimeMs, u64)>,
    /// Funding is hourly per token: a second rate for the same hour is a repeat.
    seen_funding: HashSet<(Token, TimeMs)>,
    pub stats: IngestStats,
}

impl Ingestor {
    /// `tokens`: the markets that exist (from `meta`); `None` accepts any symbol.
    pub fn new(tokens: Option<BTreeSet<Token>>) -> Ingestor {
        Ingestor {
            frontier: 0,
            seq_at_frontier: 0,
            tokens,
            marks: BTreeMap::new(),
            seen_fills: HashSet::new(),
            seen_funding: HashSet::new(),
            stats: IngestStats::default(),
        }
    }

    /// The time up to which inputs have been stamped.
    pub fn frontier(&self) -> TimeMs {
        self.frontier
    }

    /// Holds stamps at `floor` or later: the daemon has processed the time
    /// before it, so anything older is late from here on.
    pub fn raise_frontier(&mut self, floor: TimeMs) {
        if floor > self.frontier {
            self.frontier = floor;
            self.seq_at_frontier = 0;
        }
    }

    /// Accepts or refuses one event.
    pub fn ingest(&mut self, event: Event) -> Outcome {
        if let Err(e) = self.check(&event) {
            self.refuse(&e);
            return Outcome::Rejected(e);
        }
        if let Event::Fill(f) = &event
            && !self.seen_fills.insert(f.dedup_key())
        {
            self.stats.duplicates += 1;
            return Outcome::Duplicate;
        }
        if let Event::Funding(f) = &event
            && !self.seen_funding.insert((f.token, f.time_ms))
        {
            self.stats.duplicates += 1;
            return Outcome::Duplicate;
        }
        if let Event::Mark(m) = &event {
            self.marks.insert(m.token, m.price);
        }
        let source = event.source_time();
        let stamp = if source < self.frontier {
            self.stats.late += 1;
            self.frontier
        } else {
            source
        };
        if stamp > self.frontier {
            self.frontier = stamp;
            self.seq_at_frontier = 0;
        }
        *self.stats.accepted.entry(event.kind()).or_default() += 1;
        Outcome::Accepted(Stamped { time_ms: stamp, event })
    }

    /// Counts an input refused here or before it became an event (a field that
    /// did not convert); the first of each kind is logged.
    pub fn refuse(&mut self, e: &IngestError) {
        let kind = e.kind();
        let count = self.stats.errors.entry(kind.clone()).or_default();
        *count += 1;
        if *count == 1 {
            tracing::warn!(kind = %kind, error = %e, "input refused (logged once per kind)");
        }
    }

    fn check(&self, event: &Event) -> Result<(), IngestError> {
        event.validate()?;
        if let Event::OwnAccount { value, .. } = event
            && *value < Usd::ZERO
        {
            return Err(IngestError::Invalid { field: "own account value", reason: format!("{value} is negative") });
        }
        if let (Some(token), Some(known)) = (event.token(), &self.tokens)
            && !known.contains(&token)
        {
            return Err(IngestError::UnknownToken(token));
        }
        let priced = match event {
            Event::Fill(f) => Some((f.token, f.price)),
            Event::Mark(m) => Some((m.token, m.price)),
            _ => None,
        };
        if let Some((token, price)) = priced
            && let Some(mark) = self.marks.get(&token)
        {
            let ten = dataflows::model::Ratio::from_int(10);
            let high = mark.checked_mul_ratio(ten).unwrap_or(*mark);
            let low = mark.checked_div_ratio(ten).unwrap_or(*mark);
            if price > high || price < low {
                return Err(IngestError::AbsurdPrice { token, price: price.to_string(), mark: mark.to_string() });
            }
        }
        Ok(())
    }

    /// Continues after the input log in `store`: stamps resume after its last
    /// entry (so nothing is overwritten), the fills in it count as seen, and the
    /// last marks guard against absurd prices again.
    pub fn resume(&mut self, store: &Store) -> Result<(), StoreError> {
        let read = store.read()?;
        if let Some(((time, seq), _)) = read.last(&INPUT_LOG)? {
            self.frontier = self.frontier.max(time);
            self.seq_at_frontier = seq + 1;
        }
        for (_, stamped) in read.all(&INPUT_LOG)? {
            match stamped.event {
                Event::Fill(f) => {
                    self.seen_fills.insert(f.dedup_key());
                }
                Event::Mark(m) => {
                    self.marks.insert(m.token, m.price);
                }
                Event::Funding(f) => {
                    self.seen_funding.insert((f.token, f.time_ms));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Appends an accepted event to the input log inside `txn`.
    pub fn log(&mut self, txn: &mut WriteTxn, stamped: &Stamped) -> Result<(), StoreError> {
        let key = (stamped.time_ms, self.seq_at_frontier);
        self.seq_at_frontier += 1;
        txn.put(&INPUT_LOG, &key, stamped)
    }
}

/// Every logged event, in stamp order.
pub fn read_log(store: &Store) -> Result<Vec<Stamped>, StoreError> {
    Ok(store.read()?.all(&INPUT_LOG)?.into_iter().map(|(_, v)| v).collect())
}
