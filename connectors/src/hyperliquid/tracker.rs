//! Live inputs for any number of tracked wallets, within Hyperliquid's limits.
//!
//! Per-wallet WebSocket channels are capped at 10 users per IP, so tracked
//! wallets are followed on the public `trades` tape (every trade names its buyer
//! and seller) and each trade is turned into a full fill — start position,
//! direction, realised PnL, fee from the schedule — by the same position model
//! the venue and the importers use ([`crate::position`]). Around that:
//!
//! * **Seeding.** A wallet's trades are held until its first `clearinghouseState`
//!   is in; the snapshot sets its positions and only later trades apply. Its
//!   fills up to the snapshot's millisecond are fetched with it: the tape's
//!   trades at that very millisecond are told apart by id (the snapshot has
//!   those fetched, not those that come after it), and with `fills_from` they
//!   are passed on — what the wallet did while nobody watched.
//! * **Gaps.** After a reconnect, trades arriving before the new subscriptions are
//!   all acknowledged are held; every seeded wallet's fills since the oldest
//!   per-coin trade seen are fetched over REST (`userFillsByTime`, authoritative),
//!   applied in order, and only then the held trades — de-duplicated by
//!   (user, coin, tid, time). Cost: one call (weight ≥ 20) per tracked wallet per
//!   gap, spread by the shared weight budget.
//! * **Reconciliation.** Every wallet's `clearinghouseState` is polled round-robin;
//!   a snapshot is compared once the tape has passed its time (or after a grace
//!   period), coin by coin where the model has not moved since, and a mismatch is
//!   corrected and counted.
//! * **Prices.** A coin whose socket mid is older than `stale_after` is announced
//!   stale and served from REST `allMids` every `rest_mids_every` until the socket
//!   delivers it again.
//!
//! Tape-derived fills have no `oid`, `cloid` or builder fee (the tape does not
//! carry them): `oid` is 0 and `fee` is the schedule's exchange fee.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::info::{AllMids, ClearinghouseState, Fill};
use super::info_client::InfoClient;
use super::ws_client::{self, FeedEvent, FeedSettings, FeedStats, WsTrade};
use crate::position;
use crate::wire::Decimal;

#[derive(Debug, Clone)]
pub struct TrackerSettings {
    /// The socket: url, the coins whose tapes to follow, back-off, queue. Its
    /// `users` must be empty (tracked wallets never use per-user channels).
    pub feed: FeedSettings,
    /// Tracked wallets (any number; case-insensitive).
    pub wallets: Vec<String>,
    /// Each wallet's `clearinghouseState` is re-polled about this often (the
    /// weight budget permitting: 1,000 wallets cost 2,000 weight per round).
    pub reconcile_every: Duration,
    /// How long a snapshot waits for in-flight trades before it is compared.
    pub reconcile_grace: Duration,
    pub stale_after: Duration,
    pub rest_mids_every: Duration,
    /// Concurrent REST calls of a gap backfill.
    pub backfill_concurrency: usize,
    /// On seeding, the wallet's fills from this time up to its snapshot are
    /// passed on (as `Backfill`, before the `Snapshot`, the positions already
    /// counting them). `None`: none are.
    pub fills_from: Option<u64>,
    /// Capacity of the event queue; a slow consumer slows the tracker.
    pub queue: usize,
}

impl Default for TrackerSettings {
    fn default() -> Self {
        TrackerSettings {
            feed: FeedSettings { users: Vec::new(), ..FeedSettings::default() },
            wallets: Vec::new(),
            reconcile_every: Duration::from_secs(300),
            reconcile_grace: Duration::from_secs(5),
            stale_after: Duration::from_secs(30),
            rest_mids_every: Duration::from_secs(5),
            backfill_concurrency: 8,
            fills_from: None,
            queue: 10_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FillSource {
    /// Derived from a public trade by the position model.
    Tape,
    /// Fetched over REST to close a gap (the venue's own fill).
    Backfill,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceSource {
    Socket,
    /// The REST fallback of stale coins.
    Rest,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TrackerEvent {
    /// A new fill of a tracked wallet (lower-case address).
    Fill {
        user: String,
        fill: Fill,
        source: FillSource,
    },
    /// A polled account state (positions and account value) at `state.time`.
    Snapshot {
        user: String,
        state: ClearinghouseState,
    },
    /// The model disagreed with a snapshot and was set to it: (size, entry) each.
    Corrected {
        user: String,
        coin: String,
        model: (Decimal, Decimal),
        venue: (Decimal, Decimal),
    },
    Mids {
        mids: AllMids,
        time: u64,
        source: PriceSource,
    },
    /// No socket price for `coin` for `stale_after`; REST polling takes over.
    Stale {
        coin: String,
    },
    /// The socket delivers `coin` again.
    Fresh {
        coin: String,
    },
    Link {
        up: bool,
        detail: String,
    },
}

#[derive(Debug, Default)]
pub struct TrackerStats {
    pub tape_fills: AtomicU64,
    pub backfilled_fills: AtomicU64,
    pub duplicates: AtomicU64,
    pub gaps: AtomicU64,
    pub backfill_errors: AtomicU64,
    pub snapshots: AtomicU64,
    pub corrections: AtomicU64,
    pub stale_marks: AtomicU64,
    pub rest_mid_polls: AtomicU64,
    /// Trades of unseeded wallets dropped because their hold queue was full.
    pub held_overflow: AtomicU64,
}

fn bump(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

/// Trades held per unseeded wallet before the oldest are dropped (and the
/// wallet's snapshot corrects it).
const HOLD_CAP: usize = 50_000;
/// Fill keys remembered for de-duplication.
const SEEN_CAP: usize = 500_000;

/// Starts tracking; events arrive on the receiver until it is dropped.
pub fn spawn(
    settings: TrackerSettings,
    info: Arc<InfoClient>,
) -> (mpsc::Receiver<TrackerEvent>, Arc<TrackerStats>, Arc<FeedStats>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(settings.queue.max(1));
    let stats = Arc::new(TrackerStats::default());
    let feed_settings = FeedSettings { users: Vec::new(), account: None, ..settings.feed.clone() };
    let (feed, feed_stats, feed_task) = ws_client::spawn(feed_settings, None);
    let tracker = Tracker::new(settings, info, tx, stats.clone());
    let task = tokio::spawn(async move {
        // Aborting the tracker (a restart, a stop) stops its feed and poller too.
        let _feed = AbortOnDrop(feed_task);
        tracker.run(feed).await;
    });
    (rx, stats, feed_stats, task)
}

/// A task that ends with its owner: dropped (the tracker's own task aborted
/// mid-await included), it aborts the task.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Pos {
    size: Decimal,
    entry: Decimal,
    /// Venue time of the last change (a fill or a correction).
    changed: u64,
}

struct Tracker {
    settings: TrackerSettings,
    info: Arc<InfoClient>,
    tx: mpsc::Sender<TrackerEvent>,
    stats: Arc<TrackerStats>,
    tracked: HashSet<String>,
    /// Wallet → the venue time of the snapshot that seeded it.
    seeded_at: HashMap<String, u64>,
    held: HashMap<String, VecDeque<WsTrade>>,
    positions: HashMap<(String, String), Pos>,
    seen: HashSet<(String, String, u64, u64)>,
    seen_order: VecDeque<(String, String, u64, u64)>,
    /// Coin → time of the last trade seen on the tape.
    last_trade: HashMap<String, u64>,
    watermark: u64,
    /// Set between a reconnect and the end of its gap backfill.
    gap_open: bool,
    /// Where the open gap starts: the oldest per-coin last trade at the drop.
    gap_since: u64,
    gap_trades: Vec<WsTrade>,
    checks: VecDeque<(Instant, String, ClearinghouseState)>,
    mid_seen: HashMap<String, Instant>,
    stale: BTreeSet<String>,
    last_rest_poll: Option<Instant>,
    poller: Option<AbortOnDrop>,
}

impl Tracker {
    fn new(
        settings: TrackerSettings,
        info: Arc<InfoClient>,
        tx: mpsc::Sender<TrackerEvent>,
        stats: Arc<TrackerStats>,
    ) -> Tracker {
        let tracked = settings.wallets.iter().map(|w| w.to_lowercase()).collect();
        let now = Instant::now();
        let mid_seen = settings.feed.coins.iter().map(|c| (c.clone(), now)).collect();
        Tracker {
            settings,
            info,
            tx,
            stats,
            tracked,
            seeded_at: HashMap::new(),
            held: HashMap::new(),
            positions: HashMap::new(),
            seen: HashSet::new(),
            seen_order: VecDeque::new(),
            last_trade: HashMap::new(),
            watermark: 0,
            gap_open: false,
            gap_since: 0,
            gap_trades: Vec::new(),
            checks: VecDeque::new(),
            mid_seen,
            stale: BTreeSet::new(),
            last_rest_poll: None,
            poller: None,
        }
    }

    async fn run(mut self, mut feed: mpsc::Receiver<FeedEvent>) {
        let (snap_tx, mut snapshots) = mpsc::channel::<(String, ClearinghouseState)>(256);
        let tick = (self.settings.stale_after.min(self.settings.rest_mids_every) / 4).max(Duration::from_millis(10));
        let mut ticker = tokio::time::interval(tick);
        loop {
            let alive = tokio::select! {
                ev = feed.recv() => match ev {
                    Some(ev) => self.on_feed(ev, &snap_tx).await,
                    None => false,
                },
                Some((user, state)) = snapshots.recv() => self.on_snapshot(user, state).await,
                _ = ticker.tick() => self.on_tick().await,
            };
            if !alive {
                break;
            }
        }
        self.poller = None;
    }

    async fn emit(&self, event: TrackerEvent) -> bool {
        self.tx.send(event).await.is_ok()
    }

    async fn on_feed(&mut self, ev: FeedEvent, snap_tx: &mpsc::Sender<(String, ClearinghouseState)>) -> bool {
        match ev {
            FeedEvent::Trade(t) => {
                let t_time = t.time;
                self.watermark = self.watermark.max(t_time);
                let last = self.last_trade.entry(t.coin.clone()).or_default();
                *last = (*last).max(t_time);
                if self.gap_open {
                    self.gap_trades.push(t);
                    true
                } else {
                    self.on_trade(t).await && self.process_checks().await
                }
            }
            FeedEvent::Mids { mids, time } => self.on_socket_mids(mids, time).await,
            FeedEvent::UserFills { .. } | FeedEvent::Account(_) => true,
            FeedEvent::Rejected(error) => {
                if !error.loses("trades") || self.poller.is_none() {
                    return true;
                }
                if self.gap_open {
                    return true; // the reconnect's backfill covers it
                }
                // The frame's trades are gone: close the gap now, the socket is fine.
                self.gap_open = true;
                self.gap_since = self.oldest_last_trade();
                bump(&self.stats.gaps, 1);
                self.close_gap().await
            }
            FeedEvent::Connected { connection } => {
                if connection > 1 && !self.gap_open {
                    self.gap_open = true;
                    self.gap_since = self.oldest_last_trade();
                    bump(&self.stats.gaps, 1);
                }
                self.emit(TrackerEvent::Link { up: true, detail: format!("connection {connection}") }).await
            }
            FeedEvent::Disconnected { reason } => self.emit(TrackerEvent::Link { up: false, detail: reason }).await,
            FeedEvent::Subscribed { .. } => {
                if self.poller.is_none() {
                    // Seeding starts only once the tape is live, so no trade falls
                    // between a wallet's snapshot and the first trade applied after it.
                    self.poller = Some(AbortOnDrop(tokio::spawn(poll_states(
                        self.settings.wallets.clone(),
                        self.settings.reconcile_every,
                        self.info.clone(),
                        snap_tx.clone(),
                        self.stats.clone(),
                    ))));
                }
                if self.gap_open { self.close_gap().await } else { true }
            }
        }
    }

    /// Applies one tape trade to each tracked side.
    async fn on_trade(&mut self, t: WsTrade) -> bool {
        for (user, buyer) in [(t.users[0].to_lowercase(), true), (t.users[1].to_lowercase(), false)] {
            if !self.tracked.contains(&user) {
                continue;
            }
            let Some(&seeded) = self.seeded_at.get(&user) else {
                let q = self.held.entry(user).or_default();
                if q.len() >= HOLD_CAP {
                    q.pop_front();
                    bump(&self.stats.held_overflow, 1);
                }
                q.push_back(t.clone());
                continue;
            };
            if t.time < seeded {
                continue; // already in the seeding snapshot
            }
            // At the snapshot's millisecond, those fetched with it are known.
            if !self.remember((user.clone(), t.coin.clone(), t.tid, t.time)) {
                continue;
            }
            let crossed = (t.side == "B") == buyer;
            let change = self.apply(&user, &t.coin, buyer, t.px, t.sz, t.time);
            let fill = Fill {
                coin: t.coin.clone(),
                px: t.px,
                sz: t.sz,
                side: if buyer { "B" } else { "A" }.into(),
                time: t.time,
                start_position: change.start,
                dir: change.dir.into(),
                closed_pnl: change.closed_pnl,
                hash: t.hash.clone(),
                oid: 0,
                crossed,
                fee: position::fee(t.px * t.sz, crossed),
                tid: Some(t.tid),
                fee_token: Some("USDC".into()),
                builder_fee: None,
                cloid: None,
                twap_id: None,
                liquidation: None,
            };
            bump(&self.stats.tape_fills, 1);
            if !self.emit(TrackerEvent::Fill { user, fill, source: FillSource::Tape }).await {
                return false;
            }
        }
        true
    }

    /// True when the fill key is new.
    fn remember(&mut self, key: (String, String, u64, u64)) -> bool {
        if !self.seen.insert(key.clone()) {
            bump(&self.stats.duplicates, 1);
            return false;
        }
        self.seen_order.push_back(key);
        if self.seen_order.len() > SEEN_CAP
            && let Some(old) = self.seen_order.pop_front()
        {
            self.seen.remove(&old);
        }
        true
    }

    fn apply(&mut self, user: &str, coin: &str, buy: bool, px: Decimal, sz: Decimal, time: u64) -> position::Change {
        let key = (user.to_string(), coin.to_string());
        let p = self.positions.get(&key).copied().unwrap_or_default();
        let change = position::apply(p.size, p.entry, buy, px, sz);
        if change.end.is_zero() {
            self.positions.insert(key, Pos { changed: time, ..Pos::default() });
        } else {
            self.positions.insert(key, Pos { size: change.end, entry: change.entry, changed: time });
        }
        change
    }

    /// The oldest of the coins' last trades (a coin without any: the earliest seed).
    fn oldest_last_trade(&self) -> u64 {
        let floor = self.seeded_at.values().copied().min().unwrap_or(0);
        let coins = &self.settings.feed.coins;
        coins.iter().map(|c| self.last_trade.get(c).copied().unwrap_or(floor)).min().unwrap_or(floor)
    }

    /// Fetches every seeded wallet's fills since the oldest per-coin trade seen,
    /// applies the new ones, then the trades held during the gap.
    async fn close_gap(&mut self) -> bool {
        let since = self.gap_since;
        let wallets: Vec<(String, u64)> =
            self.seeded_at.iter().map(|(w, &seeded)| (w.clone(), since.max(seeded))).collect();
        let info = self.info.clone();
        let mut results = futures_util::stream::iter(wallets.into_iter().map(|(user, from)| {
            let info = info.clone();
            async move {
                let fills = info.user_fills_between(&user, from, u64::MAX / 2).await;
                (user, fills)
            }
        }))
        .buffer_unordered(self.settings.backfill_concurrency.max(1));
        let mut fetched = Vec::new();
        while let Some(r) = results.next().await {
            fetched.push(r);
        }
        for (user, fills) in fetched {
            match fills {
                Ok(fills) => {
                    for f in chain_order(fills) {
                        if !self.backfilled(&user, f).await {
                            return false;
                        }
                    }
                }
                Err(e) => {
                    bump(&self.stats.backfill_errors, 1);
                    tracing::warn!(user = %user, error = %e, "gap backfill failed; reconciliation will correct the wallet");
                }
            }
        }
        self.gap_open = false;
        for t in std::mem::take(&mut self.gap_trades) {
            if !self.on_trade(t).await {
                return false;
            }
        }
        true
    }

    /// One REST fill of a gap: applied to the model (its start position wins
    /// over the model's) and passed on as the venue reported it.
    async fn backfilled(&mut self, user: &str, f: Fill) -> bool {
        let key = (user.to_string(), f.coin.clone(), f.tid.unwrap_or(f.oid), f.time);
        if !self.remember(key) {
            return true;
        }
        let pk = (user.to_string(), f.coin.clone());
        let model = self.positions.get(&pk).copied().unwrap_or_default();
        if model.size != f.start_position {
            bump(&self.stats.corrections, 1);
            let entry = if model.size.is_zero() || model.size.is_sign_positive() != f.start_position.is_sign_positive()
            {
                f.px
            } else {
                model.entry
            };
            self.positions.insert(pk, Pos { size: f.start_position, entry, changed: f.time });
        }
        self.apply(user, &f.coin, f.side == "B", f.px, f.sz, f.time);
        bump(&self.stats.backfilled_fills, 1);
        self.emit(TrackerEvent::Fill { user: user.to_string(), fill: f, source: FillSource::Backfill }).await
    }

    /// The fills a seeding snapshot at `time` already counts: remembered (so
    /// the tape's copies at that millisecond are dropped) and, from
    /// `fills_from`, passed on. Marks the wallet seeded when they are in; a
    /// failed fetch leaves it unseeded. False when the receiver is gone.
    async fn seed_fills(&mut self, user: &str, time: u64) -> bool {
        let from = self.settings.fills_from.map_or(time, |f| f.min(time));
        let fills = match self.info.user_fills_between(user, from, time).await {
            Ok(f) => f,
            Err(e) => {
                bump(&self.stats.backfill_errors, 1);
                tracing::warn!(user = %user, error = %e, "seeding fills fetch failed; the next snapshot retries");
                return true;
            }
        };
        self.seeded_at.insert(user.to_string(), time);
        for f in chain_order(fills) {
            let key = (user.to_string(), f.coin.clone(), f.tid.unwrap_or(f.oid), f.time);
            if !self.remember(key) || self.settings.fills_from.is_none() {
                continue;
            }
            bump(&self.stats.backfilled_fills, 1);
            if !self.emit(TrackerEvent::Fill { user: user.to_string(), fill: f, source: FillSource::Backfill }).await {
                return false;
            }
        }
        true
    }

    async fn on_snapshot(&mut self, user: String, state: ClearinghouseState) -> bool {
        bump(&self.stats.snapshots, 1);
        let time = state.time.unwrap_or(self.watermark);
        if !self.seeded_at.contains_key(&user) {
            if !self.seed_fills(&user, time).await {
                return false;
            }
            if !self.seeded_at.contains_key(&user) {
                return true; // the fetch failed: the next poll round seeds it
            }
            for ap in &state.asset_positions {
                let p = &ap.position;
                self.positions
                    .insert((user.clone(), p.coin.clone()), Pos { size: p.szi, entry: p.entry_px, changed: time });
            }
            if !self.emit(TrackerEvent::Snapshot { user: user.clone(), state }).await {
                return false;
            }
            for t in self.held.remove(&user).unwrap_or_default() {
                if !self.on_trade(t).await {
                    return false;
                }
            }
            return true;
        }
        self.checks.push_back((Instant::now(), user, state));
        self.process_checks().await
    }

    /// Compares the snapshots whose time the tape has passed (or that waited
    /// out the grace period) with the model.
    async fn process_checks(&mut self) -> bool {
        while let Some((at, _, state)) = self.checks.front() {
            let time = state.time.unwrap_or(0);
            if self.gap_open || (time > self.watermark && at.elapsed() < self.settings.reconcile_grace) {
                break;
            }
            let Some((_, user, state)) = self.checks.pop_front() else { break };
            if !self.reconcile(&user, time, &state).await || !self.emit(TrackerEvent::Snapshot { user, state }).await {
                return false;
            }
        }
        true
    }

    async fn reconcile(&mut self, user: &str, time: u64, state: &ClearinghouseState) -> bool {
        let mut venue: HashMap<&str, (Decimal, Decimal)> = HashMap::new();
        for ap in &state.asset_positions {
            venue.insert(ap.position.coin.as_str(), (ap.position.szi, ap.position.entry_px));
        }
        let mut coins: BTreeSet<String> = venue.keys().map(|c| c.to_string()).collect();
        coins.extend(self.positions.keys().filter(|(u, _)| u == user).map(|(_, c)| c.clone()));
        for coin in coins {
            let key = (user.to_string(), coin.clone());
            let model = self.positions.get(&key).copied().unwrap_or_default();
            if model.changed > time {
                continue; // moved since the snapshot: nothing to compare against
            }
            let v = venue.get(coin.as_str()).copied().unwrap_or_default();
            if model.size == v.0 && (v.0.is_zero() || same_entry(model.entry, v.1)) {
                continue;
            }
            bump(&self.stats.corrections, 1);
            tracing::info!(user, coin = %coin, model = %model.size, venue = %v.0, "position corrected from clearinghouseState");
            self.positions.insert(key, Pos { size: v.0, entry: v.1, changed: time });
            let event =
                TrackerEvent::Corrected { user: user.to_string(), coin, model: (model.size, model.entry), venue: v };
            if !self.emit(event).await {
                return false;
            }
        }
        true
    }

    async fn on_socket_mids(&mut self, mids: AllMids, time: Option<u64>) -> bool {
        let now = Instant::now();
        let mut fresh = Vec::new();
        for coin in mids.keys() {
            if let Some(seen) = self.mid_seen.get_mut(coin) {
                *seen = now;
                if self.stale.remove(coin) {
                    fresh.push(coin.clone());
                }
            }
        }
        for coin in fresh {
            if !self.emit(TrackerEvent::Fresh { coin }).await {
                return false;
            }
        }
        let time = time.unwrap_or_else(wall_ms);
        self.emit(TrackerEvent::Mids { mids, time, source: PriceSource::Socket }).await
    }

    async fn on_tick(&mut self) -> bool {
        let now = Instant::now();
        let newly: Vec<String> = self
            .mid_seen
            .iter()
            .filter(|(c, seen)| now.duration_since(**seen) > self.settings.stale_after && !self.stale.contains(*c))
            .map(|(c, _)| c.clone())
            .collect();
        for coin in newly {
            self.stale.insert(coin.clone());
            bump(&self.stats.stale_marks, 1);
            tracing::warn!(coin = %coin, "price stale on the socket; polling REST allMids");
            if !self.emit(TrackerEvent::Stale { coin }).await {
                return false;
            }
        }
        if !self.stale.is_empty() && self.last_rest_poll.is_none_or(|t| t.elapsed() >= self.settings.rest_mids_every) {
            self.last_rest_poll = Some(now);
            bump(&self.stats.rest_mid_polls, 1);
            match self.info.all_mids().await {
                Ok(all) => {
                    let mids: AllMids = all.into_iter().filter(|(c, _)| self.stale.contains(c)).collect();
                    let time = if self.watermark == 0 { wall_ms() } else { self.watermark };
                    if !mids.is_empty()
                        && !self.emit(TrackerEvent::Mids { mids, time, source: PriceSource::Rest }).await
                    {
                        return false;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "REST allMids fallback failed"),
            }
        }
        self.process_checks().await
    }
}

/// Entries agree to a part in a million (the venue may round differently).
fn same_entry(a: Decimal, b: Decimal) -> bool {
    let tol = b.abs() * Decimal::new(1, 6);
    (a - b).abs() <= tol
}

fn wall_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Fills in the order they happened: by time, and within one millisecond of a
/// coin by chaining start positions (ids do not order fills).
fn chain_order(mut fills: Vec<Fill>) -> Vec<Fill> {
    fills.sort_by_key(|f| f.time);
    let mut out = Vec::with_capacity(fills.len());
    let mut size: HashMap<String, Decimal> = HashMap::new();
    let mut i = 0;
    while i < fills.len() {
        let mut j = i;
        while j < fills.len() && fills[j].time == fills[i].time {
            j += 1;
        }
        let mut group: Vec<Fill> = fills[i..j].to_vec();
        while !group.is_empty() {
            let pick = group.iter().position(|f| size.get(&f.coin).is_none_or(|s| *s == f.start_position)).unwrap_or(0);
            let f = group.remove(pick);
            let delta = if f.side == "B" { f.sz } else { -f.sz };
            size.insert(f.coin.clone(), f.start_position + delta);
            out.push(f);
        }
        i = j;
    }
    out
}

/// Polls every wallet's `clearinghouseState`: the first round as fast as the
/// budget allows (it seeds the model), then one wallet every
/// `every / wallets`.
async fn poll_states(
    wallets: Vec<String>,
    every: Duration,
    info: Arc<InfoClient>,
    out: mpsc::Sender<(String, ClearinghouseState)>,
    stats: Arc<TrackerStats>,
) {
    if wallets.is_empty() {
        return;
    }
    let pause = every / wallets.len() as u32;
    let mut first = true;
    loop {
        for w in &wallets {
            let user = w.to_lowercase();
            match info.clearinghouse_state(&user).await {
                Ok(state) => {
                    if out.send((user, state)).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    bump(&stats.backfill_errors, 1);
                    tracing::warn!(user = %user, error = %e, "clearinghouseState poll failed");
                }
            }
            if !first {
                tokio::time::sleep(pause).await;
            }
        }
        first = false;
    }
}
