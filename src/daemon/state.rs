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
