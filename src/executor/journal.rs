//! The intent journal: every order intent's lifecycle on the venue, in redb
//! (DESIGN §5). An intent is recorded *before* anything is sent, and each send
//! attempt is marked `Sent` with its cloid before the request leaves, so after
//! a crash the journal says exactly which intents may be on the venue: those
//! `Sent` or `Unknown` are resolved by asking the venue for their cloid, never
//! by sending again. A retry after a definite rejection is a new attempt with
//! a new cloid; a resend of the same attempt cannot happen.

use dataflows::model::{Cloid, IntentId, OrderIntent, Size, TimeMs};
use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError, Table};

const INTENTS: Table<[u8; 16], Record> = Table::new("executor_intents");
const CLOIDS: Table<[u8; 16], [u8; 16]> = Table::new("executor_cloids");

/// Where an intent stands on the venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Recorded; nothing sent yet.
    Recorded,
    /// An attempt is on its way (its cloid is in the record).
    Sent,
    /// The venue's answer was lost (timeout, crash): to be resolved by cloid.
    Unknown,
    /// Resting on the book.
    Resting,
    PartiallyFilled,
    Filled,
    Rejected,
    Cancelled,
}

impl State {
    /// Nothing more will happen to an intent in a final state.
    pub fn is_final(self) -> bool {
        matches!(self, State::Filled | State::Rejected | State::Cancelled)
    }

    /// The lifecycle's edges.
    fn may_become(self, next: State) -> bool {
        use State::*;
        match self {
            Recorded => matches!(next, Sent | Cancelled),
            Sent | Unknown => matches!(next, Unknown | Resting | PartiallyFilled | Filled | Rejected | Cancelled),
            Resting | PartiallyFilled => matches!(next, PartiallyFilled | Filled | Cancelled),
            Filled | Rejected | Cancelled => false,
        }
    }
}

/// One intent and what happened to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub intent: OrderIntent,
    pub state: State,
    /// The current attempt and its cloid.
    pub attempt: u32,
    pub cloid: Cloid,
    /// The venue's order id, once it has one.
    pub oid: Option<u64>,
    pub filled: Size,
    /// Every state it went through, with when.
    pub history: Vec<(TimeMs, State)>,
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("intent {0} is not in the journal")]
    Unknown(IntentId),
    #[error("intent {id}: {from:?} cannot become {to:?}")]
    IllegalTransition { id: IntentId, from: State, to: State },
    #[error("intent {id}: a new attempt needs a definite rejection, not {state:?}")]
    RetryNotAllowed { id: IntentId, state: State },
}

/// The journal over the daemon's state file.
pub struct Journal<'a> {
    store: &'a Store,
}

impl<'a> Journal<'a> {
    pub fn new(store: &'a Store) -> Journal<'a> {
        Journal { store }
    }

    /// Records an intent before it is sent. Recording one already known (a
    /// replay after a restart decides it again) changes nothing and returns
    /// the record as it stands, so it is never sent twice.
    pub fn record(&self, intent: &OrderIntent, now: TimeMs) -> Result<(Record, bool), JournalError> {
        let mut w = self.store.write()?;
        if let Some(existing) = w.get(&INTENTS, intent.id.bytes())? {
            return Ok((existing, false));
        }
        let cloid = intent.id.cloid(0);
        let record = Record {
            intent: intent.clone(),
            state: State::Recorded,
            attempt: 0,
            cloid,
            oid: None,
            filled: Size::ZERO,
            history: vec![(now, State::Recorded)],
        };
        w.put(&INTENTS, intent.id.bytes(), &record)?;
        w.put(&CLOIDS, cloid.bytes(), intent.id.bytes())?;
        w.commit()?;
        Ok((record, true))
    }

    /// Moves an intent along its lifecycle, durably; a move the lifecycle
    /// does not have is refused and changes nothing.
    pub fn advance(
        &self,
        id: IntentId,
        to: State,
        oid: Option<u64>,
        filled: Option<Size>,
        now: TimeMs,
    ) -> Result<Record, JournalError> {
        let mut w = self.store.write()?;
        let mut r = w.get(&INTENTS, id.bytes())?.ok_or(JournalError::Unknown(id))?;
        if !r.state.may_become(to) {
            return Err(JournalError::IllegalTransition { id, from: r.state, to });
        }
        r.state = to;
        r.oid = oid.or(r.oid);
        r.filled = filled.unwrap_or(r.filled);
        r.history.push((now, to));
        w.put(&INTENTS, id.bytes(), &r)?;
        w.commit()?;
        Ok(r)
    }

    /// After a definite rejection: the next attempt, with its own cloid,
    /// back to `Recorded` (to be marked `Sent` before it leaves).
    pub fn retry(&self, id: IntentId, now: TimeMs) -> Result<Record, JournalError> {
        let mut w = self.store.write()?;
        let mut r = w.get(&INTENTS, id.bytes())?.ok_or(JournalError::Unknown(id))?;
        if r.state != State::Rejected {
            return Err(JournalError::RetryNotAllowed { id, state: r.state });
        }
        r.attempt += 1;
        r.cloid = id.cloid(r.attempt);
        r.state = State::Recorded;
        r.history.push((now, State::Recorded));
        w.put(&INTENTS, id.bytes(), &r)?;
        w.put(&CLOIDS, r.cloid.bytes(), id.bytes())?;
        w.commit()?;
        Ok(r)
    }

    pub fn get(&self, id: IntentId) -> Result<Option<Record>, JournalError> {
        Ok(self.store.read()?.get(&INTENTS, id.bytes())?)
    }

    /// The intent an order of ours on the venue belongs to.
    pub fn by_cloid(&self, cloid: &Cloid) -> Result<Option<Record>, JournalError> {
        let r = self.store.read()?;
        let Some(id) = r.get(&CLOIDS, cloid.bytes())? else { return Ok(None) };
        Ok(r.get(&INTENTS, &id)?)
    }

    /// Intents that may be on the venue without our knowing their fate
    /// (`Sent`, `Unknown`): at start-up each is asked about by cloid.
    pub fn unresolved(&self) -> Result<Vec<Record>, JournalError> {
        Ok(self.open()?.into_iter().filter(|r| matches!(r.state, State::Sent | State::Unknown)).collect())
    }

    /// Every intent recorded, by id.
    pub fn all(&self) -> Result<Vec<Record>, JournalError> {
        Ok(self.store.read()?.all(&INTENTS)?.into_iter().map(|(_, r)| r).collect())
    }

    /// Every intent not in a final state.
    pub fn open(&self) -> Result<Vec<Record>, JournalError> {
        Ok(self.store.read()?.all(&INTENTS)?.into_iter().map(|(_, r)| r).filter(|r| !r.state.is_final()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataflows::model::{IntentKind, OrderType, Price, Ratio, Side, Strategy, Token};

    fn intent(t: TimeMs) -> OrderIntent {
        let btc = Token::parse("BTC").unwrap();
        OrderIntent {
            id: IntentId::derive(Strategy::Consensus, btc, t, IntentKind::Open),
            time_ms: t,
            strategy: Strategy::Consensus,
            token: btc,
            kind: IntentKind::Open,
            side: Side::Buy,
            size: Size::from_int(1),
            price: Price::from_int(100),
            order_type: OrderType::Market { max_slippage_percent: Ratio::lit(5, 1) },
            reduce_only: false,
            leverage: Ratio::from_int(3),
            reason: "consensus".into(),
            attribution: vec![],
        }
    }

    #[test]
    fn an_intent_is_recorded_once_and_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        let i = intent(1_000);
        {
            let store = Store::open(&path).unwrap();
            let j = Journal::new(&store);
            let (r, new) = j.record(&i, 1_000).unwrap();
            assert!(new);
            assert_eq!((r.state, r.attempt, r.cloid), (State::Recorded, 0, i.id.cloid(0)));
            j.advance(i.id, State::Sent, None, None, 1_001).unwrap();
        }
        let store = Store::open(&path).unwrap();
        let j = Journal::new(&store);
        // The replay after a restart decides the same intent again: nothing new.
        let (r, new) = j.record(&i, 2_000).unwrap();
        assert!(!new);
        assert_eq!(r.state, State::Sent, "the state on disk, not a fresh record");
        assert_eq!(j.unresolved().unwrap().len(), 1, "sent before the crash: ask the venue");
        assert_eq!(j.by_cloid(&i.id.cloid(0)).unwrap().unwrap().intent, i);
    }

    #[test]
    fn the_lifecycle_refuses_moves_it_does_not_have() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        let j = Journal::new(&store);
        let i = intent(5);
        j.record(&i, 5).unwrap();
        let e = j.advance(i.id, State::Filled, None, None, 6).unwrap_err();
        assert!(matches!(e, JournalError::IllegalTransition { from: State::Recorded, to: State::Filled, .. }), "{e}");
        j.advance(i.id, State::Sent, None, None, 6).unwrap();
        j.advance(i.id, State::Unknown, None, None, 7).unwrap();
        let r = j.advance(i.id, State::Filled, Some(42), Some(Size::from_int(1)), 8).unwrap();
        assert_eq!((r.oid, r.filled), (Some(42), Size::from_int(1)));
        assert_eq!(
            r.history.iter().map(|h| h.1).collect::<Vec<_>>(),
            [State::Recorded, State::Sent, State::Unknown, State::Filled]
        );
        assert!(j.advance(i.id, State::Cancelled, None, None, 9).is_err(), "final is final");
        assert!(j.open().unwrap().is_empty());
        let missing = intent(6);
        assert!(matches!(j.advance(missing.id, State::Sent, None, None, 9), Err(JournalError::Unknown(_))));
    }

    #[test]
    fn only_a_definite_rejection_earns_a_new_cloid() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        let j = Journal::new(&store);
        let i = intent(9);
        j.record(&i, 9).unwrap();
        j.advance(i.id, State::Sent, None, None, 10).unwrap();
        j.advance(i.id, State::Unknown, None, None, 11).unwrap();
        assert!(matches!(j.retry(i.id, 12), Err(JournalError::RetryNotAllowed { state: State::Unknown, .. })));
        j.advance(i.id, State::Rejected, None, None, 12).unwrap();
        let r = j.retry(i.id, 13).unwrap();
        assert_eq!((r.attempt, r.state), (1, State::Recorded));
        assert_eq!(r.cloid, i.id.cloid(1));
        assert_ne!(r.cloid, i.id.cloid(0));
        // Both cloids lead back to the intent (an old attempt's fill is still ours).
        assert_eq!(j.by_cloid(&i.id.cloid(0)).unwrap().unwrap().intent.id, i.id);
        assert_eq!(j.by_cloid(&i.id.cloid(1)).unwrap().unwrap().attempt, 1);
    }
}
