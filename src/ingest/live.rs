//! The live path: what the wallet tracker reports becomes domain events, which
//! are ingested and appended to the input log in one redb transaction per
//! batch — so a crash loses at most the batch in flight, which the tracker's
//! next snapshot and backfill bring back.

use connectors::hyperliquid::tracker::TrackerEvent;
use dataflows::model::{PriceStatus, TimeMs, Token};

use super::{Event, IngestError, Ingestor, Outcome, Stamped, convert};
use crate::store::{Store, StoreError};

/// The domain events in one tracker event (errors name the field at fault).
/// Corrections and link changes carry no input of their own: the snapshot that
/// follows a correction does.
pub fn events(ev: &TrackerEvent, now: TimeMs) -> Vec<Result<Event, IngestError>> {
    match ev {
        TrackerEvent::Fill { user, fill, .. } => vec![convert::fill(user, fill).map(Event::Fill)],
        TrackerEvent::Snapshot { user, state } => match super::account_events(user, state.time.unwrap_or(now), state) {
            Ok(events) => events.into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        },
        TrackerEvent::Mids { mids, time, .. } => {
            mids.iter().map(|(coin, px)| convert::mark(coin, px, *time).map(Event::Mark)).collect()
        }
        TrackerEvent::Stale { coin } | TrackerEvent::Fresh { coin } => {
            let stale = matches!(ev, TrackerEvent::Stale { .. });
            vec![
                Token::parse(coin)
                    .map(|token| Event::PriceStatus(PriceStatus { time_ms: now, token, stale }))
                    .map_err(|source| IngestError::Id { field: "price.coin", source }),
            ]
        }
        TrackerEvent::Corrected { .. } | TrackerEvent::Link { .. } => Vec::new(),
    }
}

/// Ingests tracker events and logs what is accepted.
pub struct LiveIngest<'s> {
    pub ingestor: Ingestor,
    store: &'s Store,
    /// The latest venue time seen (stamps status events, which carry none).
    now: TimeMs,
}

impl<'s> LiveIngest<'s> {
    /// Continues after whatever the store's input log already holds.
    pub fn new(mut ingestor: Ingestor, store: &'s Store) -> Result<LiveIngest<'s>, StoreError> {
        ingestor.resume(store)?;
        let now = ingestor.frontier();
        Ok(LiveIngest { ingestor, store, now })
    }

    /// Ingests a batch and commits the accepted events to the log together.
    /// Refused inputs are counted in `ingestor.stats` and skipped.
    pub fn accept(&mut self, batch: &[TrackerEvent]) -> Result<Vec<Stamped>, StoreError> {
        let mut txn = self.store.write()?;
        let mut accepted = Vec::new();
        for ev in batch {
            for event in events(ev, self.now) {
                let event = match event {
                    Ok(e) => e,
                    Err(e) => {
                        self.ingestor.refuse(&e);
                        continue;
                    }
                };
                self.now = self.now.max(event.source_time());
                if let Outcome::Accepted(stamped) = self.ingestor.ingest(event) {
                    self.ingestor.log(&mut txn, &stamped)?;
                    accepted.push(stamped);
                }
            }
        }
        txn.commit()?;
        Ok(accepted)
    }
}
