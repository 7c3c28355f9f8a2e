//! The venue's WebSocket (`/ws`, hyperliquid-api.md §4): subscribe/unsubscribe
//! with acknowledgements, `ping` → `pong`, an idle timeout, and the feeds
//! `allMids` (re-sent every 500 ms of real time), `trades` (with `users: [buyer,
//! seller]`, replaying the coin's last 30 trades on subscribe), `l2Book`, `candle`,
//! `userFills` (a snapshot, then new fills), `orderUpdates` and `userEvents`
//! (channel `user`). User-specific subscriptions may name at most 10 distinct
//! users per IP. Every data frame carries the venue's virtual time in `simTime`.
//!
//! Each connection polls the world for what is new since its cursors every few
//! milliseconds of real time, so a slow client never holds the world's lock.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket};
use serde_json::{Value, json};

use super::market::MINUTE_MS;
use super::rng::SimRng;
use super::server::Venue;
use super::views;
use super::world::World;
use crate::wire::hl_string;

/// Distinct users one IP may follow across user-specific subscriptions.
pub const MAX_USERS_PER_IP: usize = 10;
const POLL: Duration = Duration::from_millis(20);
const SNAPSHOT_FILLS: usize = 100;
/// Recent trades replayed on a `trades` subscription (the reference's ~30).
const REPLAY_TRADES: usize = 30;
/// `allMids` is re-sent at least this often, as Hyperliquid pushes it every block.
const MIDS_EVERY: Duration = Duration::from_millis(500);

#[derive(Debug, Clone)]
enum Feed {
    AllMids { last: Option<u64>, sent: Option<Instant> },
    Trades { token: usize, cursor: usize },
    L2Book { token: usize, last: Option<u64> },
    Candle { token: usize, interval: String, last: Option<u64> },
    UserFills { user: Option<usize>, cursor: usize, snapshot: bool },
    OrderUpdates { user: Option<usize>, cursor: usize },
    UserEvents { user: Option<usize>, fills: usize, funding: usize },
}

#[derive(Debug, Clone)]
struct Sub {
    request: Value,
    feed: Feed,
}

fn frame(channel: &str, data: Value, now: u64) -> String {
    json!({"channel": channel, "data": data, "simTime": now}).to_string()
}

fn error_frame(text: &str) -> String {
    json!({"channel": "error", "data": text}).to_string()
}

/// The user a subscription names, if it is user-specific.
fn user_of(sub: &Value) -> Option<String> {
    match sub["type"].as_str()? {
        "userFills" | "orderUpdates" | "userEvents" => sub["user"].as_str().map(str::to_lowercase),
        _ => None,
    }
}

fn make_feed(world: &World, sub: &Value) -> Result<Feed, String> {
    let token = |s: &Value| {
        let coin = s["coin"].as_str().ok_or("missing coin")?;
        world.token_index(coin).ok_or_else(|| format!("unknown coin {coin}"))
    };
    let user = |s: &Value| s["user"].as_str().and_then(|u| world.wallet_index(u));
    Ok(match sub["type"].as_str().unwrap_or("") {
        "allMids" => Feed::AllMids { last: None, sent: None },
        "trades" => {
            let token = token(sub)?;
            Feed::Trades { token, cursor: replay_start(world, token) }
        }
        "l2Book" => Feed::L2Book { token: token(sub)?, last: None },
        "candle" => {
            let interval = sub["interval"].as_str().ok_or("missing interval")?.to_string();
            views::interval_ms(&interval).ok_or_else(|| format!("unknown interval {interval}"))?;
            Feed::Candle { token: token(sub)?, interval, last: None }
        }
        "userFills" => {
            let u = user(sub);
            Feed::UserFills { user: u, cursor: u.map_or(0, |w| world.accounts[w].fills.len()), snapshot: false }
        }
        "orderUpdates" => Feed::OrderUpdates { user: user(sub), cursor: world.exchange.events.len() },
        "userEvents" => {
            let u = user(sub);
            Feed::UserEvents {
                user: u,
                fills: u.map_or(0, |w| world.accounts[w].fills.len()),
                funding: u.map_or(0, |w| world.accounts[w].funding.len()),
            }
        }
        other => return Err(format!("unsupported subscription type {other:?}")),
    })
}

/// The tape index from which a new `trades` subscription starts: its coin's
/// last [`REPLAY_TRADES`] trades are replayed first.
fn replay_start(world: &World, token: usize) -> usize {
    let mut seen = 0;
    for (i, t) in world.tape.iter().enumerate().rev() {
        if t.token == token {
            seen += 1;
            if seen == REPLAY_TRADES {
                return i;
            }
        }
    }
    0
}

/// The frames a feed has to send now, advancing its cursor.
fn poll_feed(world: &World, venue: &Venue, feed: &mut Feed, now: u64) -> Vec<String> {
    let minute = now / MINUTE_MS;
    let mut out = Vec::new();
    match feed {
        Feed::AllMids { last, sent } => {
            let due = *last != Some(minute) || sent.is_none_or(|at| at.elapsed() >= MIDS_EVERY);
            if venue.frozen_mids().is_none() && due {
                *last = Some(minute);
                *sent = Some(Instant::now());
                out.push(frame("allMids", json!({"mids": views::all_mids(world)}), now));
            }
        }
        Feed::Trades { token, cursor } => {
            let mut wire = venue.wire_times();
            let new: Vec<Value> = world.tape[*cursor..]
                .iter()
                .filter(|t| t.token == *token)
                .map(|t| {
                    let coin = &world.specs()[t.token].name;
                    let users = [world.accounts[t.buyer].address_hex(), world.accounts[t.seller].address_hex()];
                    if let Some(w) = wire.as_mut() {
                        w.trade_sent(t.tid, coin, t.time, users.clone());
                    }
                    json!({"coin": coin, "side": if t.taker_buy { "B" } else { "A" },
                        "px": hl_string(&t.px), "sz": hl_string(&t.sz), "hash": world.trade_hash(t.tid),
                        "time": t.time, "tid": t.tid, "users": users})
                })
                .collect();
            *cursor = world.tape.len();
            if !new.is_empty() {
                out.push(frame("trades", Value::Array(new), now));
            }
        }
        Feed::L2Book { token, last } => {
            if venue.frozen_mids().is_none() && *last != Some(minute) {
                *last = Some(minute);
                out.push(frame("l2Book", serde_json::to_value(views::l2_book(world, *token)).unwrap_or_default(), now));
            }
        }
        Feed::Candle { token, interval, last } => {
            if *last != Some(minute) {
                *last = Some(minute);
                let len = views::interval_ms(interval).unwrap_or(MINUTE_MS);
                let start = now - now % len;
                if let Some(c) = views::candles(world, *token, interval, start, now).last() {
                    out.push(frame("candle", serde_json::to_value(c).unwrap_or_default(), now));
                }
            }
        }
        Feed::UserFills { user, cursor, snapshot } => {
            let fills = user.map(|w| &world.accounts[w].fills[..]).unwrap_or(&[]);
            let address = user.map(|w| world.accounts[w].address_hex()).unwrap_or_default();
            if !*snapshot {
                *snapshot = true;
                let recent: Vec<Value> = fills[fills.len().saturating_sub(SNAPSHOT_FILLS)..]
                    .iter()
                    .map(|f| serde_json::to_value(views::fill(world, f)).unwrap_or_default())
                    .collect();
                out.push(frame("userFills", json!({"isSnapshot": true, "user": address, "fills": recent}), now));
                *cursor = fills.len();
            } else if fills.len() > *cursor {
                let new: Vec<Value> = fills[*cursor..]
                    .iter()
                    .map(|f| serde_json::to_value(views::fill(world, f)).unwrap_or_default())
                    .collect();
                *cursor = fills.len();
                out.push(frame("userFills", json!({"user": address, "fills": new}), now));
            }
        }
        Feed::OrderUpdates { user, cursor } => {
            let events = &world.exchange.events[*cursor..];
            *cursor = world.exchange.events.len();
            let updates: Vec<Value> = events
                .iter()
                .filter_map(|e| {
                    let o = world.exchange.orders.get(&e.oid)?;
                    (Some(o.account) == *user).then(|| {
                        let mut order = json!({"coin": world.specs()[o.token].name, "side": if o.buy { "B" } else { "A" },
                            "limitPx": hl_string(&o.limit_px), "sz": hl_string(&o.sz), "oid": o.oid,
                            "timestamp": o.timestamp, "origSz": hl_string(&o.orig_sz)});
                        if let Some(c) = &o.cloid {
                            order["cloid"] = json!(c);
                        }
                        json!({"order": order, "status": e.status, "statusTimestamp": e.time})
                    })
                })
                .collect();
            if !updates.is_empty() {
                out.push(frame("orderUpdates", Value::Array(updates), now));
            }
        }
        Feed::UserEvents { user, fills, funding } => {
            let Some(w) = *user else { return out };
            let account = &world.accounts[w];
            if account.fills.len() > *fills {
                let new: Vec<Value> = account.fills[*fills..]
                    .iter()
                    .map(|f| serde_json::to_value(views::fill(world, f)).unwrap_or_default())
                    .collect();
                for f in &account.fills[*fills..] {
                    if f.liquidation.as_ref().is_some_and(|l| l.liquidated == w) {
                        out.push(frame(
                            "user",
                            json!({"liquidation": {"lid": f.tid, "liquidator": "0x0000000000000000000000000000000000000000",
                                "liquidated_user": account.address_hex(),
                                "liquidated_ntl_pos": hl_string(&(f.px * f.sz)),
                                "liquidated_account_value": hl_string(&world.account_value(w))}}),
                            now,
                        ));
                    }
                }
                *fills = account.fills.len();
                out.push(frame("user", json!({"fills": new}), now));
            }
            for f in &account.funding[*funding..] {
                out.push(frame(
                    "user",
                    json!({"funding": {"time": f.time, "coin": world.specs()[f.token].name, "usdc": hl_string(&f.usdc),
                        "szi": hl_string(&f.szi), "fundingRate": hl_string(&f.rate)}}),
                    now,
                ));
            }
            *funding = account.funding.len();
        }
    }
    out
}

/// Serves one WebSocket connection until it closes, idles out or is dropped.
pub async fn serve_socket(venue: Arc<Venue>, ip: IpAddr, mut socket: WebSocket) {
    let mut subs: Vec<Sub> = Vec::new();
    let mut last_heard = Instant::now();
    let opened = Instant::now();
    let mut held: Option<String> = None;
    let mut rng = SimRng::derive(venue.now_ms(), "ws-faults", ip_seed(&ip));
    let _ = socket.send(Message::Text("Websocket connection established.".into())).await;
    let mut tick = tokio::time::interval(POLL);
    'conn: loop {
        tokio::select! {
            msg = socket.recv() => {
                let text = match msg {
                    Some(Ok(Message::Text(t))) => t.to_string(),
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Binary(_))) => { last_heard = Instant::now(); continue }
                    _ => break 'conn,
                };
                last_heard = Instant::now();
                let replies = handle_message(&venue, ip, &mut subs, &text);
                for r in replies {
                    if socket.send(Message::Text(r.into())).await.is_err() {
                        break 'conn;
                    }
                }
            }
            _ = tick.tick() => {
                if last_heard.elapsed() > venue.ws_idle() || venue.is_stopped() {
                    let _ = socket.send(Message::Close(None)).await;
                    break 'conn;
                }
                let faults = venue.faults();
                if faults.ws_drop_every_ms > 0 && opened.elapsed() >= Duration::from_millis(faults.ws_drop_every_ms) {
                    // Dropped without a close frame, as networks do.
                    break 'conn;
                }
                let frames = {
                    let world = venue.world();
                    let now = world.now_ms;
                    let mut frames = Vec::new();
                    for sub in subs.iter_mut() {
                        frames.extend(poll_feed(&world, &venue, &mut sub.feed, now));
                    }
                    frames
                };
                for f in frames {
                    for out in garble(&faults, &mut rng, f, &mut held) {
                        if socket.send(Message::Text(out.into())).await.is_err() {
                            break 'conn;
                        }
                    }
                }
            }
        }
    }
    venue.release_ws_users(ip, subs.iter().filter_map(|s| user_of(&s.request)));
}

fn ip_seed(ip: &IpAddr) -> u64 {
    match ip {
        IpAddr::V4(v4) => u32::from(*v4) as u64,
        IpAddr::V6(v6) => u128::from(*v6) as u64,
    }
}

/// Applies the frame faults: malformed, truncated, reordered (held back behind
/// the next frame) and duplicated frames.
fn garble(f: &super::faults::Faults, rng: &mut SimRng, frame: String, held: &mut Option<String>) -> Vec<String> {
    let mut frame = frame;
    if rng.chance(f.malformed_rate) {
        // The header survives (as corruption usually leaves it); the body does not.
        let channel = serde_json::from_str::<Value>(&frame).ok().and_then(|v| v["channel"].as_str().map(String::from));
        frame = format!(
            "{{\"channel\": \"{}\", \"data\": [{{\"px\": NaN, {}",
            channel.unwrap_or_default(),
            &frame[..frame.len().min(20)]
        );
    } else if rng.chance(f.truncated_rate) {
        frame.truncate(frame.len() / 2);
    } else if rng.chance(f.nan_price_rate) {
        frame = nan_price(frame);
    }
    if rng.chance(f.reorder_rate) && held.is_none() {
        *held = Some(frame);
        return Vec::new();
    }
    let mut out = vec![frame];
    if let Some(h) = held.take() {
        out.push(h);
    }
    if rng.chance(f.duplicate_rate) {
        out.push(out[0].clone());
    }
    out
}

/// The frame with its first `"px"` value replaced by `"NaN"` (valid JSON, bad number).
fn nan_price(frame: String) -> String {
    const KEY: &str = "\"px\":\"";
    let Some(at) = frame.find(KEY).map(|i| i + KEY.len()) else { return frame };
    let Some(len) = frame[at..].find('"') else { return frame };
    format!("{}NaN{}", &frame[..at], &frame[at + len..])
}

fn handle_message(venue: &Venue, ip: IpAddr, subs: &mut Vec<Sub>, text: &str) -> Vec<String> {
    let Ok(msg) = serde_json::from_str::<Value>(text) else {
        return vec![error_frame(&format!("Invalid message: {text}"))];
    };
    match msg["method"].as_str() {
        Some("ping") => vec![json!({"channel": "pong"}).to_string()],
        Some("subscribe") => {
            let sub = msg["subscription"].clone();
            if subs.iter().any(|s| s.request == sub) {
                return vec![error_frame(&format!("Already subscribed: {sub}"))];
            }
            if let Some(user) = user_of(&sub)
                && !venue.claim_ws_user(ip, &user)
            {
                return vec![error_frame(&format!("Cannot track more than {MAX_USERS_PER_IP} total users."))];
            }
            let feed = {
                let world = venue.world();
                make_feed(&world, &sub)
            };
            match feed {
                Ok(feed) => {
                    subs.push(Sub { request: sub.clone(), feed });
                    vec![json!({"channel": "subscriptionResponse", "data": {"method": "subscribe", "subscription": sub}})
                        .to_string()]
                }
                Err(e) => {
                    venue.release_ws_users(ip, user_of(&sub));
                    vec![error_frame(&e)]
                }
            }
        }
        Some("unsubscribe") => {
            let sub = msg["subscription"].clone();
            match subs.iter().position(|s| s.request == sub) {
                Some(i) => {
                    let removed = subs.remove(i);
                    venue.release_ws_users(ip, user_of(&removed.request));
                    vec![json!({"channel": "subscriptionResponse", "data": {"method": "unsubscribe", "subscription": sub}})
                        .to_string()]
                }
                None => vec![error_frame(&format!("Not subscribed: {sub}"))],
            }
        }
        _ => vec![error_frame(&format!("Unknown method in {text}"))],
    }
}

/// Per-IP reference counts of followed users.
pub type UserClaims = BTreeMap<IpAddr, BTreeMap<String, usize>>;
