//! Hyperliquid WebSocket feed (tokio-tungstenite), built to survive a hostile
//! network: it pings on a heartbeat, reconnects with jittered exponential
//! back-off and resubscribes, fills the gap of every followed user over REST
//! (`userFillsByTime` from the last fill seen) after each reconnect, drops
//! duplicates (a reconnect snapshot overlaps what was seen), counts malformed
//! frames instead of dying on them, and hands events over a bounded queue so a
//! slow consumer slows the feed instead of growing memory.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use super::info::{AllMids, Fill};
use super::info_client::InfoClient;
use crate::wire::{Decimal, dec_str, u64_flex};

/// A trade on the public tape.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WsTrade {
    pub coin: String,
    /// The aggressor's side, `B` or `A`.
    pub side: String,
    #[serde(with = "dec_str")]
    pub px: Decimal,
    #[serde(with = "dec_str")]
    pub sz: Decimal,
    pub hash: String,
    #[serde(with = "u64_flex")]
    pub time: u64,
    #[serde(with = "u64_flex")]
    pub tid: u64,
    /// `[buyer, seller]`.
    pub users: [String; 2],
}

/// An order of `orderUpdates` (`sz` is what remains).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WsOrder {
    pub coin: String,
    pub side: String,
    #[serde(with = "dec_str")]
    pub limit_px: Decimal,
    #[serde(with = "dec_str")]
    pub sz: Decimal,
    #[serde(with = "u64_flex")]
    pub oid: u64,
    #[serde(with = "u64_flex")]
    pub timestamp: u64,
    #[serde(with = "dec_str")]
    pub orig_sz: Decimal,
    #[serde(default)]
    pub cloid: Option<String>,
}

/// One entry of `orderUpdates`: `status` is `open`, `filled`, `canceled`,
/// `triggered`, `rejected`, `marginCanceled`, … (kept as sent).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderUpdate {
    pub order: WsOrder,
    pub status: String,
    #[serde(with = "u64_flex")]
    pub status_timestamp: u64,
}

/// A funding payment of `userEvents`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WsFunding {
    #[serde(with = "u64_flex")]
    pub time: u64,
    pub coin: String,
    #[serde(with = "dec_str")]
    pub usdc: Decimal,
    #[serde(with = "dec_str")]
    pub szi: Decimal,
    #[serde(with = "dec_str")]
    pub funding_rate: Decimal,
}

/// A liquidation notice of `userEvents`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WsLiquidation {
    #[serde(with = "u64_flex")]
    pub lid: u64,
    pub liquidator: String,
    pub liquidated_user: String,
    #[serde(with = "dec_str")]
    pub liquidated_ntl_pos: Decimal,
    #[serde(with = "dec_str")]
    pub liquidated_account_value: Decimal,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WsCancel {
    pub coin: String,
    #[serde(with = "u64_flex")]
    pub oid: u64,
}

/// The `user` channel (`userEvents`): exactly one of these per frame.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserFrame {
    #[serde(default)]
    fills: Option<Vec<Fill>>,
    #[serde(default)]
    funding: Option<WsFunding>,
    #[serde(default)]
    liquidation: Option<WsLiquidation>,
    #[serde(default)]
    non_user_cancel: Option<Vec<WsCancel>>,
}

/// What happened to our own account, beyond its fills (which arrive as
/// [`FeedEvent::UserFills`] for the account, de-duplicated across channels).
#[derive(Debug, Clone, PartialEq)]
pub enum AccountEvent {
    Orders(Vec<OrderUpdate>),
    Funding(WsFunding),
    Liquidation(WsLiquidation),
    /// Orders the exchange cancelled (e.g. self-trade prevention, margin).
    Cancelled(Vec<WsCancel>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum FeedEvent {
    Account(AccountEvent),
    Trade(WsTrade),
    /// Mids; `time` is the simulated venue's clock (`simTime`) when the frame has one.
    Mids {
        mids: AllMids,
        time: Option<u64>,
    },
    /// New fills of a followed user (from the stream or a gap backfill), never seen before.
    UserFills {
        user: String,
        fills: Vec<Fill>,
    },
    /// A connection opened (`connection` counts from 1); its subscriptions follow.
    Connected {
        connection: u32,
    },
    /// Every subscription of the connection was acknowledged: from here on the
    /// feed sees everything new, so a gap can be closed over REST.
    Subscribed {
        connection: u32,
    },
    Disconnected {
        reason: String,
    },
    /// A frame could not be read; when [`FrameError::loses_data`], consumers
    /// close the gap it leaves as after a reconnect.
    Rejected(FrameError),
}

#[derive(Debug, Clone)]
pub struct FeedSettings {
    pub url: String,
    pub coins: Vec<String>,
    pub all_mids: bool,
    /// Followed users (`userFills`); Hyperliquid allows 10 per IP, the account included.
    pub users: Vec<String>,
    /// Our own account: its `userFills`, `orderUpdates` and `userEvents`.
    pub account: Option<String>,
    pub ping_every: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Capacity of the event queue.
    pub queue: usize,
}

impl Default for FeedSettings {
    fn default() -> Self {
        FeedSettings {
            url: "wss://api.hyperliquid.xyz/ws".into(),
            coins: Vec::new(),
            all_mids: true,
            users: Vec::new(),
            account: None,
            ping_every: Duration::from_secs(50),
            backoff_base: Duration::from_millis(200),
            backoff_max: Duration::from_secs(10),
            queue: 10_000,
        }
    }
}

/// Why a frame was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FrameError {
    #[error("{} frame is not JSON: {detail}", channel.as_deref().unwrap_or("unnamed"))]
    NotJson { channel: Option<String>, detail: String },
    #[error("{channel} frame does not match its schema: {detail}")]
    Schema { channel: String, detail: String },
    #[error("frame on unknown channel {0:?}")]
    UnknownChannel(String),
}

impl FrameError {
    pub fn kind(&self) -> &'static str {
        match self {
            FrameError::NotJson { .. } => "not json",
            FrameError::Schema { .. } => "schema",
            FrameError::UnknownChannel(_) => "unknown channel",
        }
    }

    /// The channel, when the frame said.
    pub fn channel(&self) -> Option<&str> {
        match self {
            FrameError::NotJson { channel, .. } => channel.as_deref(),
            FrameError::Schema { channel, .. } => Some(channel),
            FrameError::UnknownChannel(c) => Some(c),
        }
    }

    /// Whether `channel`'s data may be gone with the frame: it was on that
    /// channel, or its channel cannot be told.
    pub fn loses(&self, channel: &str) -> bool {
        match self.channel() {
            None => true,
            Some(c) => c == channel,
        }
    }
}

#[derive(Debug, Default)]
pub struct FeedStats {
    pub connects: AtomicU64,
    /// Frames refused, in total and by [`FrameError::kind`].
    pub malformed: AtomicU64,
    pub errors: std::sync::Mutex<std::collections::BTreeMap<&'static str, u64>>,
    pub duplicates: AtomicU64,
    pub backfilled: AtomicU64,
}

/// Remembers the last `cap` keys seen.
struct Recent<K> {
    set: HashSet<K>,
    order: VecDeque<K>,
    cap: usize,
}

impl<K: std::hash::Hash + Eq + Clone> Recent<K> {
    fn new(cap: usize) -> Recent<K> {
        Recent { set: HashSet::new(), order: VecDeque::new(), cap }
    }
    /// True when `k` is new.
    fn insert(&mut self, k: K) -> bool {
        if !self.set.insert(k.clone()) {
            return false;
        }
        self.order.push_back(k);
        if self.order.len() > self.cap
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        true
    }
}

struct State {
    trades: Recent<(String, u64, u64)>,
    fills: Recent<(String, Option<u64>, u64, u64)>,
    last_fill: std::collections::BTreeMap<String, u64>,
}

/// Starts the feed; events arrive on the returned receiver until it is dropped.
pub fn spawn(
    settings: FeedSettings,
    info: Option<Arc<InfoClient>>,
) -> (mpsc::Receiver<FeedEvent>, Arc<FeedStats>, tokio::task::JoinHandle<()>) {
    crate::install_tls_provider();
    let (tx, rx) = mpsc::channel(settings.queue.max(1));
    let stats = Arc::new(FeedStats::default());
    let task = tokio::spawn(run(settings, info, tx, stats.clone()));
    (rx, stats, task)
}

async fn run(
    settings: FeedSettings,
    info: Option<Arc<InfoClient>>,
    tx: mpsc::Sender<FeedEvent>,
    stats: Arc<FeedStats>,
) {
    let mut state = State { trades: Recent::new(200_000), fills: Recent::new(200_000), last_fill: Default::default() };
    let mut attempt: u32 = 0;
    loop {
        let reason = match tokio_tungstenite::connect_async(settings.url.as_str()).await {
            Ok((ws, _)) => {
                attempt = 0;
                stats.connects.fetch_add(1, Ordering::Relaxed);
                let n = stats.connects.load(Ordering::Relaxed) as u32;
                if tx.send(FeedEvent::Connected { connection: n }).await.is_err() {
                    return;
                }
                match session(ws, n, &settings, info.as_deref(), &mut state, &tx, &stats).await {
                    Some(reason) => reason,
                    None => return, // the consumer went away
                }
            }
            Err(e) => format!("connect: {e}"),
        };
        if tx.send(FeedEvent::Disconnected { reason }).await.is_err() {
            return;
        }
        attempt = attempt.saturating_add(1);
        let exp =
            settings.backoff_base.saturating_mul(2u32.saturating_pow(attempt.min(16) - 1)).min(settings.backoff_max);
        // Jitter in [0.5, 1.0) of the delay, so many clients do not reconnect in step.
        let jitter =
            0.5 + ((attempt as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) as f64 / (1u64 << 53) as f64 * 0.5;
        tokio::time::sleep(exp.mul_f64(jitter)).await;
    }
}

/// The users whose fills the feed follows: `users` and the account, lower-case, once each.
fn followed(settings: &FeedSettings) -> Vec<String> {
    let mut users: Vec<String> = settings.users.iter().map(|u| u.to_lowercase()).collect();
    if let Some(a) = &settings.account {
        users.push(a.to_lowercase());
    }
    users.sort();
    users.dedup();
    users
}

/// Every subscription is live: after a reconnect, the followed users' gap is
/// filled over REST (only now, so nothing falls between the query and the
/// subscription), then the consumer is told. False when the consumer is gone.
async fn subscribed(
    connection: u32,
    since: &std::collections::BTreeMap<String, u64>,
    settings: &FeedSettings,
    info: Option<&InfoClient>,
    state: &mut State,
    tx: &mpsc::Sender<FeedEvent>,
    stats: &FeedStats,
) -> bool {
    if connection > 1
        && let Some(info) = info
        && !backfill(info, since, settings, state, tx, stats).await
    {
        return false;
    }
    tx.send(FeedEvent::Subscribed { connection }).await.is_ok()
}

/// REST fills of each followed user since the last one seen, de-duplicated.
async fn backfill(
    info: &InfoClient,
    since: &std::collections::BTreeMap<String, u64>,
    settings: &FeedSettings,
    state: &mut State,
    tx: &mpsc::Sender<FeedEvent>,
    stats: &FeedStats,
) -> bool {
    for user in &followed(settings) {
        let Some(&since) = since.get(user) else { continue };
        let Ok(fills) = info.user_fills_between(user, since, u64::MAX / 2).await else { continue };
        let new = fresh_fills(state, stats, user, fills);
        stats.backfilled.fetch_add(new.len() as u64, Ordering::Relaxed);
        if !new.is_empty() && tx.send(FeedEvent::UserFills { user: user.clone(), fills: new }).await.is_err() {
            return false;
        }
    }
    true
}

fn fresh_fills(state: &mut State, stats: &FeedStats, user: &str, fills: Vec<Fill>) -> Vec<Fill> {
    let mut new = Vec::new();
    for f in fills {
        if state.fills.insert((user.to_string(), f.tid, f.oid, f.time)) {
            let last = state.last_fill.entry(user.to_string()).or_insert(0);
            *last = (*last).max(f.time);
            new.push(f);
        } else {
            stats.duplicates.fetch_add(1, Ordering::Relaxed);
        }
    }
    new
}

/// One connection; `Some(reason)` when it ends, `None` when the consumer is gone.
async fn session(
    ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    connection: u32,
    settings: &FeedSettings,
    info: Option<&InfoClient>,
    state: &mut State,
    tx: &mpsc::Sender<FeedEvent>,
    stats: &FeedStats,
) -> Option<String> {
    let (mut sink, mut stream) = ws.split();
    let mut subs: Vec<Value> = settings.coins.iter().map(|c| json!({"type": "trades", "coin": c})).collect();
    if settings.all_mids {
        subs.push(json!({"type": "allMids"}));
    }
    subs.extend(followed(settings).iter().map(|u| json!({"type": "userFills", "user": u})));
    if let Some(account) = &settings.account {
        let account = account.to_lowercase();
        subs.push(json!({"type": "orderUpdates", "user": account}));
        subs.push(json!({"type": "userEvents", "user": account}));
    }
    // Where each followed user's gap starts: before this connection's snapshots.
    let gap_since = state.last_fill.clone();
    let mut unacknowledged = subs.len();
    if unacknowledged == 0 && !subscribed(connection, &gap_since, settings, info, state, tx, stats).await {
        return None;
    }
    for s in subs {
        let msg = json!({"method": "subscribe", "subscription": s}).to_string();
        if let Err(e) = sink.send(Message::Text(msg.into())).await {
            return Some(format!("subscribe: {e}"));
        }
    }
    let mut ping = tokio::time::interval(settings.ping_every);
    ping.tick().await;
    loop {
        tokio::select! {
            _ = ping.tick() => {
                if let Err(e) = sink.send(Message::Text(json!({"method": "ping"}).to_string().into())).await {
                    return Some(format!("ping: {e}"));
                }
            }
            msg = stream.next() => {
                let text = match msg {
                    Some(Ok(Message::Text(t))) => t.to_string(),
                    Some(Ok(Message::Close(_))) | None => return Some("closed".into()),
                    Some(Err(e)) => return Some(format!("socket: {e}")),
                    Some(Ok(_)) => continue,
                };
                let (events, ack) = decode(&text, settings.account.as_deref(), state, stats);
                for event in events {
                    let lost_user_fills = matches!(&event, FeedEvent::Rejected(e) if e.loses("userFills"));
                    if tx.send(event).await.is_err() {
                        return None;
                    }
                    if lost_user_fills && unacknowledged == 0 && let Some(info) = info {
                        let since = state.last_fill.clone();
                        if !backfill(info, &since, settings, state, tx, stats).await {
                            return None;
                        }
                    }
                }
                if ack && unacknowledged > 0 {
                    unacknowledged -= 1;
                    if unacknowledged == 0
                        && !subscribed(connection, &gap_since, settings, info, state, tx, stats).await
                    {
                        return None;
                    }
                }
            }
        }
    }
}

/// Events in one frame, and whether it acknowledged a subscription; a malformed
/// frame is counted and yields nothing.
fn decode(text: &str, account: Option<&str>, state: &mut State, stats: &FeedStats) -> (Vec<FeedEvent>, bool) {
    if text == "Websocket connection established." {
        return (Vec::new(), false);
    }
    let frame = match serde_json::from_str::<Value>(text) {
        Ok(frame) => frame,
        Err(e) => {
            let error = FrameError::NotJson { channel: sniff_channel(text), detail: e.to_string() };
            return (lost(error, stats), false);
        }
    };
    if frame["channel"] == "subscriptionResponse" {
        return (Vec::new(), frame["data"]["method"] == "subscribe");
    }
    (decode_data(&frame, account, state, stats), false)
}

/// A frame that could not be read: counted by kind (logged the first time of
/// each kind) and passed on, so consumers can close the gap it leaves.
fn lost(error: FrameError, stats: &FeedStats) -> Vec<FeedEvent> {
    stats.malformed.fetch_add(1, Ordering::Relaxed);
    let mut by_kind = stats.errors.lock().unwrap_or_else(|e| e.into_inner());
    let n = by_kind.entry(error.kind()).or_default();
    *n += 1;
    if *n == 1 {
        tracing::warn!(kind = error.kind(), %error, "unreadable websocket frame (logged once per kind)");
    }
    vec![FeedEvent::Rejected(error)]
}

/// The `channel` named at the start of a frame too broken to parse.
fn sniff_channel(text: &str) -> Option<String> {
    let rest = text.split_once("\"channel\"")?.1.trim_start().strip_prefix(':')?.trim_start();
    let name = rest.strip_prefix('"')?.split('"').next()?;
    Some(name.to_string())
}

fn decode_data(frame: &Value, account: Option<&str>, state: &mut State, stats: &FeedStats) -> Vec<FeedEvent> {
    let channel = frame["channel"].as_str().unwrap_or_default();
    let schema =
        |e: serde_json::Error| lost(FrameError::Schema { channel: channel.into(), detail: e.to_string() }, stats);
    match channel {
        "trades" => {
            let trades = match serde_json::from_value::<Vec<WsTrade>>(frame["data"].clone()) {
                Ok(t) => t,
                Err(e) => return schema(e),
            };
            trades
                .into_iter()
                .filter(|t| {
                    let new = state.trades.insert((t.coin.clone(), t.tid, t.time));
                    if !new {
                        stats.duplicates.fetch_add(1, Ordering::Relaxed);
                    }
                    new
                })
                .map(FeedEvent::Trade)
                .collect()
        }
        "allMids" => match serde_json::from_value::<AllMids>(frame["data"]["mids"].clone()) {
            Ok(mids) => vec![FeedEvent::Mids { mids, time: frame["simTime"].as_u64() }],
            Err(e) => schema(e),
        },
        "userFills" => {
            let user = frame["data"]["user"].as_str().unwrap_or_default().to_lowercase();
            let fills = match serde_json::from_value::<Vec<Fill>>(frame["data"]["fills"].clone()) {
                Ok(f) => f,
                Err(e) => return schema(e),
            };
            let new = fresh_fills(state, stats, &user, fills);
            if new.is_empty() { Vec::new() } else { vec![FeedEvent::UserFills { user, fills: new }] }
        }
        "orderUpdates" => match serde_json::from_value::<Vec<OrderUpdate>>(frame["data"].clone()) {
            Ok(updates) => vec![FeedEvent::Account(AccountEvent::Orders(updates))],
            Err(e) => schema(e),
        },
        // `userEvents` frames name no user: they are the account's (the only one subscribed).
        "user" => {
            let user = match serde_json::from_value::<UserFrame>(frame["data"].clone()) {
                Ok(u) => u,
                Err(e) => return schema(e),
            };
            let account = account.unwrap_or_default().to_lowercase();
            let mut out = Vec::new();
            if let Some(fills) = user.fills {
                let new = fresh_fills(state, stats, &account, fills);
                if !new.is_empty() {
                    out.push(FeedEvent::UserFills { user: account, fills: new });
                }
            }
            if let Some(f) = user.funding {
                out.push(FeedEvent::Account(AccountEvent::Funding(f)));
            }
            if let Some(l) = user.liquidation {
                out.push(FeedEvent::Account(AccountEvent::Liquidation(l)));
            }
            if let Some(c) = user.non_user_cancel {
                out.push(FeedEvent::Account(AccountEvent::Cancelled(c)));
            }
            out
        }
        "pong" => Vec::new(),
        "error" => {
            tracing::warn!(error = %frame["data"], "websocket error frame");
            Vec::new()
        }
        other => lost(FrameError::UnknownChannel(other.to_string()), stats),
    }
}
