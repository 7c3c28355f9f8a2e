//! What the daemon keeps in redb beside the input log (DESIGN §6): its run
//! metadata (the time processed up to, the tracked wallets), the paper
//! executor committed with every step, and the checkpoint record with the
//! inputs folded out of the log by retention.

use std::collections::BTreeMap;

use dataflows::model::{Address, TimeMs, Token};
use serde::{Deserialize, Serialize};

use crate::executor::paper::PaperVenue;
use crate::ingest::{Event, INPUT_LOG, Stamped};
use crate::store::{ReadTxn, Store, StoreError, Table, WriteTxn};

/// The daemon's progress, rewritten with every step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The last step: every logged input up to it has been processed.
    pub processed_to: TimeMs,
    /// Steps taken since the state was created.
    pub steps: u64,
    /// The step before the last (its decisions are the last step's).
    #[serde(default)]
    pub previous: Option<TimeMs>,
    /// The kill switch as last logged.
    #[serde(default)]
    pub kill_switch: bool,
}

/// The wallets followed, fixed by discovery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracked {
    pub wallets: Vec<String>,
    /// When discovery chose them.
    pub discovered_at: TimeMs,
}

/// One checkpoint: what was folded and what the log holds after it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub as_of: TimeMs,
    /// Inputs older than this were folded out of the log.
    pub folded_before: TimeMs,
    pub folded_inputs: u64,
    pub log_inputs: u64,
    pub config_hash: String,
    pub version: String,
}

const PROGRESS: Table<String, Progress> = Table::new("daemon_progress");
const TRACKED: Table<String, Tracked> = Table::new("daemon_tracked");
const PAPER: Table<String, PaperVenue> = Table::new("daemon_paper");
const CHECKPOINT: Table<String, Checkpoint> = Table::new("daemon_checkpoint");
/// Inputs retention folded out of the log, consolidated: the latest of every
/// upserted row (positions, accounts, marks, our own), nothing a window has
/// left behind. Keyed like the log; replayed before it.
pub const FOLDED: Table<(u64, u32), Stamped> = Table::new("daemon_folded");
/// Inputs polled after the last step and not yet in one (our account after
/// an order): kept durably at once, because polling again after a crash would
/// read a venue that has moved on.
const PENDING: Table<u64, Event> = Table::new("daemon_pending");
const KEY: &str = "daemon";

fn key() -> String {
    KEY.to_string()
}

pub fn progress(read: &ReadTxn) -> Result<Option<Progress>, StoreError> {
    read.get(&PROGRESS, &key())
}

pub fn put_progress(txn: &mut WriteTxn, p: &Progress) -> Result<(), StoreError> {
    txn.put(&PROGRESS, &key(), p)
}

pub fn tracked(read: &ReadTxn) -> Result<Option<Tracked>, StoreError> {
    read.get(&TRACKED, &key())
}

pub fn put_tracked(txn: &mut WriteTxn, t: &Tracked) -> Result<(), StoreError> {
    txn.put(&TRACKED, &key(), t)
}

pub fn paper(read: &ReadTxn) -> Result<Option<PaperVenue>, StoreError> {
    read.get(&PAPER, &key())
}

pub fn put_paper(txn: &mut WriteTxn, p: &PaperVenue) -> Result<(), StoreError> {
    txn.put(&PAPER, &key(), p)
}

pub fn checkpoint(read: &ReadTxn) -> Result<Option<Checkpoint>, StoreError> {
    read.get(&CHECKPOINT, &key())
}

/// Every input to replay on recovery: the folded ones, then the log.
pub fn inputs(store: &Store) -> Result<Vec<Stamped>, StoreError> {
    let read = store.read()?;
    let mut out: Vec<Stamped> = read.all(&FOLDED)?.into_iter().map(|(_, v)| v).collect();
    out.extend(read.all(&INPUT_LOG)?.into_iter().map(|(_, v)| v));
    Ok(out)
}

/// What identifies an upserted row: its kind, wallet and token.
type UpsertKey = (u8, Option<Address>, Option<Token>);

/// What identifies an upserted row: a later input with the same key replaces it.
fn upsert_key(e: &Event) -> Option<UpsertKey> {
    Some(match e {
        Event::Position(p) => (0, Some(p.wallet), Some(p.token)),
        Event::Account(a) => (1, Some(a.wallet), None),
        Event::Mark(m) => (2, None, Some(m.token)),
        Event::PriceStatus(p) => (3, None, Some(p.token)),
        Event::OwnPosition(p) => (4, None, Some(p.token)),
        Event::OwnAccount { .. } => (5, None, None),
        Event::Tick(_) => (6, None, None),
        Event::Now(_) => (7, None, None),
        Event::Fill(_) | Event::Funding(_) | Event::Leaderboard(_) | Event::Halt { .. } => return None,
    })
}

/// Writes a checkpoint at `as_of` and folds the log's inputs older than
/// `retain_ms` before it. Fills, funding and leaderboards that old have left
/// every window and are dropped — except the fills of a position still open
/// (since it was last flat) and each wallet's last fill; of the upserted rows
/// only the latest per key is kept; halts are kept.
///
/// What this loses: a recovery replays the folded inputs in place of the
/// history they stand for, so the dataflow's path-dependent state — the
/// allocation turnover path, the desk's breakers and trailing stops — is
/// rebuilt from less than the uninterrupted run saw, and later sizes can
/// differ from its by up to ~1.4 parts in 10⁴ (measured over a stepped week). No
/// order is lost or sent twice; exactness across a fold needs that state
/// checkpointed beside the folded inputs.
pub fn write_checkpoint(
    store: &Store,
    as_of: TimeMs,
    retain_ms: u64,
    config_hash: &str,
) -> Result<Checkpoint, StoreError> {
    let cutoff = as_of.saturating_sub(retain_ms);
    let read = store.read()?;
    let old: Vec<((u64, u32), Stamped)> =
        read.all(&INPUT_LOG)?.into_iter().take_while(|((t, _), _)| *t < cutoff).collect();
    let folded_before: Vec<((u64, u32), Stamped)> = read.all(&FOLDED)?;
    let log_total = read.len(&INPUT_LOG)?;
    drop(read);
    let mut txn = store.write()?;
    let mut latest: BTreeMap<UpsertKey, (u64, u32)> = BTreeMap::new();
    let mut keep: BTreeMap<(u64, u32), Stamped> = BTreeMap::new();
    // Fills: a holding is rebuilt from its fills since the position was last
    // flat, and recency reads a wallet's last fill; older ones go.
    let mut since_flat: BTreeMap<(Address, Token), Vec<(u64, u32)>> = BTreeMap::new();
    let mut last_fill: BTreeMap<Address, (u64, u32)> = BTreeMap::new();
    for (k, s) in folded_before.iter().chain(old.iter()) {
        match (&s.event, upsert_key(&s.event)) {
            (Event::Fill(f), _) => {
                let run = since_flat.entry((f.wallet, f.token)).or_default();
                if f.end_position().is_ok_and(|e| e.is_zero()) {
                    run.clear();
                } else {
                    run.push(*k);
                }
                last_fill.insert(f.wallet, *k);
                keep.insert(*k, s.clone());
            }
            (_, Some(u)) => {
                if let Some(prev) = latest.insert(u, *k) {
                    keep.remove(&prev);
                }
                keep.insert(*k, s.clone());
            }
            (Event::Halt { .. }, None) => {
                keep.insert(*k, s.clone());
            }
            _ => {}
        }
    }
    let needed: std::collections::BTreeSet<(u64, u32)> =
        since_flat.into_values().flatten().chain(last_fill.into_values()).collect();
    keep.retain(|k, s| !matches!(s.event, Event::Fill(_)) || needed.contains(k));
    for (k, _) in &folded_before {
        txn.remove(&FOLDED, k)?;
    }
    for (k, s) in &keep {
        txn.put(&FOLDED, k, s)?;
    }
    for (k, _) in &old {
        txn.remove(&INPUT_LOG, k)?;
    }
    let cp = Checkpoint {
        as_of,
        folded_before: cutoff,
        folded_inputs: keep.len() as u64,
        log_inputs: log_total - old.len() as u64,
        config_hash: config_hash.to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    };
    txn.put(&CHECKPOINT, &key(), &cp)?;
    txn.commit()?;
    Ok(cp)
}

/// Keeps `events` until the next step takes them.
pub fn add_pending(store: &Store, events: &[Event]) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let read = store.read()?;
    let first = read.last(&PENDING)?.map_or(0, |(k, _)| k + 1);
    drop(read);
    let mut txn = store.write()?;
    for (key, e) in (first..).zip(events) {
        txn.put(&PENDING, &key, e)?;
    }
    txn.commit()
}

/// The inputs waiting for the next step, in arrival order.
pub fn pending(store: &Store) -> Result<Vec<Event>, StoreError> {
    Ok(store.read()?.all(&PENDING)?.into_iter().map(|(_, e)| e).collect())
}

/// Drops the pending inputs (the step that took them commits with this).
pub fn clear_pending(store: &Store, txn: &mut WriteTxn) -> Result<(), StoreError> {
    for (k, _) in store.read()?.all(&PENDING)? {
        txn.remove(&PENDING, &k)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataflows::model::{MarkPrice, Price, Side};

    const DAY: u64 = 86_400_000;

    fn fill(t: u64, wallet: Address, start: i64, side: Side, size: i64) -> Event {
        Event::Fill(crate::samples::btc_fill(t, wallet, start, side, size))
    }

    fn mark(t: u64, px: i64) -> Event {
        Event::Mark(MarkPrice { time_ms: t, token: Token::parse("BTC").unwrap(), price: Price::from_int(px) })
    }

    #[test]
    fn retention_folds_what_no_window_needs_and_keeps_open_holdings_and_latest_rows() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("state.redb")).unwrap();
        let closed = Address::parse("0x1111111111111111111111111111111111111111").unwrap();
        let open = Address::parse("0x2222222222222222222222222222222222222222").unwrap();
        let events = [
            fill(DAY, closed, 0, Side::Buy, 1),      // opened …
            fill(2 * DAY, closed, 1, Side::Sell, 1), // … and closed: both go but the last
            fill(3 * DAY, open, 0, Side::Buy, 2),    // opens a holding still open: kept
            mark(DAY, 90),
            mark(2 * DAY, 95),                        // the latest old mark: kept
            fill(100 * DAY, closed, 0, Side::Buy, 1), // recent: stays in the log
            mark(100 * DAY, 99),
        ];
        let mut txn = store.write().unwrap();
        for (i, e) in events.iter().enumerate() {
            let s = Stamped { time_ms: e.source_time(), event: e.clone() };
            txn.put(&INPUT_LOG, &(s.time_ms, i as u32), &s).unwrap();
        }
        txn.commit().unwrap();
        let cp = write_checkpoint(&store, 101 * DAY, 90 * DAY, "hash").unwrap();
        assert_eq!((cp.folded_before, cp.log_inputs), (11 * DAY, 2));
        let folded: Vec<Event> =
            store.read().unwrap().all(&FOLDED).unwrap().into_iter().map(|(_, s)| s.event).collect();
        // In key order: the closed wallet's last fill, the latest old mark, the open holding's fill.
        assert_eq!(folded, vec![events[1].clone(), events[4].clone(), events[2].clone()]);
        // Replay order: folded first, then the log; a second checkpoint folds nothing new.
        let all = inputs(&store).unwrap();
        assert_eq!(all.len(), 5);
        let again = write_checkpoint(&store, 101 * DAY, 90 * DAY, "hash").unwrap();
        assert_eq!(again.folded_inputs, cp.folded_inputs);
    }
}
