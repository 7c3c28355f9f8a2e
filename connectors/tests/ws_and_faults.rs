//! The venue's WebSocket and fault injection, seen by real clients on loopback.

use std::time::Duration;

use connectors::hyperliquid::keys::address_of;
use connectors::sim::faults::Faults;
use connectors::sim::market::MINUTE_MS;
use connectors::sim::{ClockMode, RunningVenue, SimConfig, VenueOptions};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn venue(idle_secs: u64) -> RunningVenue {
    venue_with(idle_secs, false).await
}

async fn venue_with(idle_secs: u64, record_wire_times: bool) -> RunningVenue {
    let sim = SimConfig {
        seed: 41,
        wallets: 30,
        tokens: 3,
        warmup_days: 2,
        external_accounts: vec![(address_of(&[7u8; 32]).unwrap(), 50_000)],
        ..SimConfig::default()
    };
    let options = VenueOptions {
        sim,
        clock: ClockMode::Stepped,
        info_weight_per_minute: 1_000_000,
        ws_idle_secs: idle_secs,
        record_wire_times,
        ..VenueOptions::default()
    };
    connectors::sim::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

async fn connect(v: &RunningVenue) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async(v.ws_url()).await.unwrap();
    let hello = ws.next().await.unwrap().unwrap();
    assert_eq!(hello.into_text().unwrap().as_str(), "Websocket connection established.");
    ws
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

/// The next text frame (with a deadline).
async fn next_text(ws: &mut Ws) -> Option<String> {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return Some(t.to_string()),
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

async fn next_json(ws: &mut Ws) -> Value {
    serde_json::from_str(&next_text(ws).await.expect("a frame")).unwrap()
}

/// True when the server closes (or drops) the socket within `limit`.
async fn closed_within(ws: &mut Ws, limit: Duration) -> bool {
    tokio::time::timeout(limit, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                _ => {}
            }
        }
    })
    .await
    .is_ok()
}

async fn advance(v: &RunningVenue, by: u64) {
    let to = v.venue.now_ms() + by;
    let venue = v.venue.clone();
    tokio::task::spawn_blocking(move || venue.advance_to(to)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn subscriptions_are_acknowledged_and_pings_answered() {
    let v = venue(60).await;
    let mut ws = connect(&v).await;
    send(&mut ws, json!({"method": "ping"})).await;
    assert_eq!(next_json(&mut ws).await, json!({"channel": "pong"}));
    let sub = json!({"type": "allMids"});
    send(&mut ws, json!({"method": "subscribe", "subscription": sub})).await;
    let ack = next_json(&mut ws).await;
    assert_eq!(ack, json!({"channel": "subscriptionResponse", "data": {"method": "subscribe", "subscription": sub}}));
    let mids = next_json(&mut ws).await;
    assert_eq!(mids["channel"], "allMids");
    assert!(mids["data"]["mids"]["BTC"].is_string());
    assert_eq!(mids["simTime"].as_u64(), Some(v.venue.now_ms()), "frames carry virtual time");
    send(&mut ws, json!({"method": "unsubscribe", "subscription": sub})).await;
    assert_eq!(next_json(&mut ws).await["data"]["method"], "unsubscribe");
    send(&mut ws, json!({"method": "subscribe", "subscription": {"type": "trades", "coin": "NOPE"}})).await;
    assert_eq!(next_json(&mut ws).await["channel"], "error");
    v.stop().await;
}

/// Every fill of every wallet appears on `trades` with the right buyer and seller.
#[tokio::test(flavor = "multi_thread")]
async fn the_trades_channel_shows_every_fill_with_both_parties() {
    let v = venue(60).await;
    let mut ws = connect(&v).await;
    let tape_before = v.venue.world().tape.len();
    let coins = ["BTC", "ETH", "SOL"];
    let mut frames = Vec::new();
    for coin in coins {
        send(&mut ws, json!({"method": "subscribe", "subscription": {"type": "trades", "coin": coin}})).await;
        loop {
            let f = next_json(&mut ws).await;
            if f["channel"] == "subscriptionResponse" {
                break;
            }
            frames.push(f);
        }
    }
    let start = v.venue.now_ms();
    advance(&v, 6 * 60 * MINUTE_MS).await;
    let (expected, replay): (Vec<(u64, String, String)>, Vec<u64>) = {
        let w = v.venue.world();
        let tokens: Vec<usize> = coins.iter().map(|c| w.token_index(c).unwrap()).collect();
        let new = w.tape[tape_before..]
            .iter()
            .filter(|t| tokens.contains(&t.token))
            .map(|t| (t.tid, w.accounts[t.buyer].address_hex(), w.accounts[t.seller].address_hex()))
            .collect();
        // A subscription replays its coin's last 30 trades.
        let mut replay: Vec<u64> = tokens
            .iter()
            .flat_map(|&k| {
                let old: Vec<u64> = w.tape[..tape_before].iter().filter(|t| t.token == k).map(|t| t.tid).collect();
                old[old.len().saturating_sub(30)..].to_vec()
            })
            .collect();
        replay.sort();
        (new, replay)
    };
    assert!(expected.len() > 20, "{} trades in 6 hours", expected.len());
    assert!(replay.len() > 30, "only {} trades to replay", replay.len());
    let (mut seen, mut replayed) = (Vec::new(), Vec::new());
    while seen.len() < expected.len() || replayed.len() < replay.len() {
        let f = match frames.pop() {
            Some(f) => f,
            None => next_json(&mut ws).await,
        };
        assert_eq!(f["channel"], "trades", "{f}");
        for t in f["data"].as_array().unwrap() {
            let tid = t["tid"].as_u64().unwrap();
            if t["time"].as_u64().unwrap() <= start && replay.contains(&tid) {
                replayed.push(tid);
                continue;
            }
            seen.push((tid, t["users"][0].as_str().unwrap().to_string(), t["users"][1].as_str().unwrap().to_string()));
        }
    }
    seen.sort();
    replayed.sort();
    let mut expected = expected;
    expected.sort();
    assert_eq!(seen, expected);
    assert_eq!(replayed, replay);
    v.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn user_fills_are_limited_to_ten_users_per_ip() {
    let v = venue(60).await;
    let users: Vec<String> = {
        let w = v.venue.world();
        (0..11).map(|i| w.accounts[i].address_hex()).collect()
    };
    let mut ws = connect(&v).await;
    for u in &users[..10] {
        send(&mut ws, json!({"method": "subscribe", "subscription": {"type": "userFills", "user": u}})).await;
        assert_eq!(next_json(&mut ws).await["channel"], "subscriptionResponse");
        let snap = next_json(&mut ws).await;
        assert_eq!((snap["channel"].as_str(), snap["data"]["isSnapshot"].as_bool()), (Some("userFills"), Some(true)));
    }
    // The 11th user is refused, on this connection and on a second one from the same IP.
    send(&mut ws, json!({"method": "subscribe", "subscription": {"type": "userFills", "user": users[10]}})).await;
    let refused = next_json(&mut ws).await;
    assert_eq!(refused, json!({"channel": "error", "data": "Cannot track more than 10 total users."}));
    let mut second = connect(&v).await;
    send(&mut second, json!({"method": "subscribe", "subscription": {"type": "orderUpdates", "user": users[10]}}))
        .await;
    assert_eq!(next_json(&mut second).await["channel"], "error");
    // A user already followed may be followed again; unsubscribing frees a place.
    send(&mut second, json!({"method": "subscribe", "subscription": {"type": "userEvents", "user": users[0]}})).await;
    assert_eq!(next_json(&mut second).await["channel"], "subscriptionResponse");
    send(&mut ws, json!({"method": "unsubscribe", "subscription": {"type": "userFills", "user": users[9]}})).await;
    let mut acked = false;
    for _ in 0..5 {
        if next_json(&mut ws).await["channel"] == "subscriptionResponse" {
            acked = true;
            break;
        }
    }
    assert!(acked);
    send(&mut second, json!({"method": "subscribe", "subscription": {"type": "orderUpdates", "user": users[10]}}))
        .await;
    assert_eq!(next_json(&mut second).await["channel"], "subscriptionResponse");
    v.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_socket_is_closed() {
    let v = venue(1).await;
    let mut ws = connect(&v).await;
    assert!(closed_within(&mut ws, Duration::from_secs(5)).await);
    v.stop().await;
}

async fn set_faults(v: &RunningVenue, f: &Faults) {
    let r = reqwest::Client::new().post(format!("{}/sim/faults", v.http_url())).json(f).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

/// Each fault is observable by a client, and stops when switched off.
#[tokio::test(flavor = "multi_thread")]
async fn every_fault_is_observable_and_stops_when_off() {
    connectors::install_tls_provider();
    let v = venue(60).await;
    let http = reqwest::Client::new();
    let info = || http.post(format!("{}/info", v.http_url())).json(&json!({"type": "allMids"})).send();

    // Latency.
    set_faults(&v, &Faults { latency_ms: 300, ..Faults::default() }).await;
    let t = std::time::Instant::now();
    assert_eq!(info().await.unwrap().status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    set_faults(&v, &Faults::default()).await;
    let state: Faults = http.get(format!("{}/sim/faults", v.http_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(state.latency_ms, 0);

    // A 429 burst of exactly N requests, with Retry-After.
    set_faults(&v, &Faults { rate_limit_burst: 3, ..Faults::default() }).await;
    let mut codes = Vec::new();
    for _ in 0..5 {
        let r = info().await.unwrap();
        if r.status() == 429 {
            assert_eq!(r.headers()["retry-after"], "1");
        }
        codes.push(r.status().as_u16());
    }
    assert_eq!(codes, [429, 429, 429, 200, 200]);

    // 5xx at a rate; none once off.
    set_faults(&v, &Faults { error_rate: 0.5, ..Faults::default() }).await;
    let mut errors = 0;
    for _ in 0..40 {
        if info().await.unwrap().status() == 503 {
            errors += 1;
        }
    }
    assert!((8..=32).contains(&errors), "{errors} of 40");
    set_faults(&v, &Faults::default()).await;
    for _ in 0..10 {
        assert_eq!(info().await.unwrap().status(), 200);
    }

    // A frozen price feed: REST mids stop moving, WebSocket allMids go silent.
    set_faults(&v, &Faults { freeze_prices: true, ..Faults::default() }).await;
    let before: Value = info().await.unwrap().json().await.unwrap();
    advance(&v, 120 * MINUTE_MS).await;
    let after: Value = info().await.unwrap().json().await.unwrap();
    assert_eq!(before, after);
    let mut ws = connect(&v).await;
    send(&mut ws, json!({"method": "subscribe", "subscription": {"type": "allMids"}})).await;
    assert_eq!(next_json(&mut ws).await["channel"], "subscriptionResponse");
    let silent = tokio::time::timeout(Duration::from_millis(300), ws.next()).await;
    assert!(silent.is_err(), "no allMids while frozen");
    set_faults(&v, &Faults::default()).await;
    assert_eq!(next_json(&mut ws).await["channel"], "allMids");
    let thawed: Value = info().await.unwrap().json().await.unwrap();
    assert_ne!(before, thawed);

    // Malformed and truncated frames, then clean ones.
    send(&mut ws, json!({"method": "subscribe", "subscription": {"type": "trades", "coin": "BTC"}})).await;
    set_faults(&v, &Faults { malformed_rate: 0.5, truncated_rate: 0.5, ..Faults::default() }).await;
    let mut bad = 0;
    for _ in 0..20 {
        advance(&v, 10 * MINUTE_MS).await;
        if let Ok(Some(Ok(Message::Text(t)))) = tokio::time::timeout(Duration::from_secs(2), ws.next()).await
            && serde_json::from_str::<Value>(&t).is_err()
        {
            bad += 1;
        }
    }
    assert!(bad > 0, "no malformed frame seen");
    set_faults(&v, &Faults::default()).await;
    for _ in 0..10 {
        advance(&v, 10 * MINUTE_MS).await;
        if let Ok(Some(Ok(Message::Text(t)))) = tokio::time::timeout(Duration::from_secs(2), ws.next()).await {
            assert!(serde_json::from_str::<Value>(&t).is_ok(), "garbled after faults off: {t}");
        }
    }

    // Duplicated and reordered frames.
    set_faults(&v, &Faults { duplicate_rate: 1.0, ..Faults::default() }).await;
    advance(&v, 30 * MINUTE_MS).await;
    let a = next_text(&mut ws).await.unwrap();
    let b = next_text(&mut ws).await.unwrap();
    assert_eq!(a, b, "duplicated frame");
    set_faults(&v, &Faults::default()).await;

    // Reordered frames: virtual time goes backwards between consecutive frames.
    let mut clock = connect(&v).await;
    send(&mut clock, json!({"method": "subscribe", "subscription": {"type": "allMids"}})).await;
    assert_eq!(next_json(&mut clock).await["channel"], "subscriptionResponse");
    set_faults(&v, &Faults { reorder_rate: 1.0, ..Faults::default() }).await;
    let mut times = Vec::new();
    for _ in 0..6 {
        advance(&v, MINUTE_MS).await;
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    while let Ok(Some(Ok(Message::Text(t)))) = tokio::time::timeout(Duration::from_millis(300), clock.next()).await {
        if let Some(ms) = serde_json::from_str::<Value>(&t).ok().and_then(|f| f["simTime"].as_u64()) {
            times.push(ms);
        }
    }
    assert!(times.windows(2).any(|w| w[1] < w[0]), "no out-of-order frame in {times:?}");
    set_faults(&v, &Faults::default()).await;

    // Dropped connections: the socket is cut, and stays up once the fault is off.
    set_faults(&v, &Faults { ws_drop_every_ms: 200, ..Faults::default() }).await;
    let mut dropping = connect(&v).await;
    assert!(closed_within(&mut dropping, Duration::from_secs(3)).await, "the socket was not dropped");
    set_faults(&v, &Faults::default()).await;
    let mut steady = connect(&v).await;
    send(&mut steady, json!({"method": "ping"})).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(next_json(&mut steady).await, json!({"channel": "pong"}));
    v.stop().await;
}

/// A lost response: the order executes, the answer never comes, the audit shows one order.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_exchange_response_still_executes() {
    use connectors::hyperliquid::actions::{Action, Grouping, OrderTypeWire, OrderWire, Tif};
    use connectors::hyperliquid::signing::{l1_digest, sign_digest};
    connectors::install_tls_provider();
    let v = venue(60).await;
    set_faults(&v, &Faults { lose_exchange_responses: 1, ..Faults::default() }).await;
    let key = [7u8; 32];
    let mid: f64 = {
        let w = v.venue.world();
        w.market.price_generated(1, w.now_ms)
    };
    let p =
        connectors::sim::tokens::CATALOG[1].round_price(mid * 0.9, connectors::sim::tokens::Round::Down).to_string();
    let action = Action::Order {
        orders: vec![OrderWire {
            a: 1,
            b: true,
            p,
            s: "0.1".into(),
            r: false,
            t: OrderTypeWire::Limit { tif: Tif::Gtc },
            c: Some("0x000000000000000000000000000000aa".into()),
        }],
        grouping: Grouping::Na,
        builder: None,
    };
    let nonce = v.venue.now_ms() + 1;
    let sig = sign_digest(&key, &l1_digest(&action, nonce, None, None, true).unwrap()).unwrap();
    let body = json!({"action": action, "nonce": nonce, "signature": sig, "vaultAddress": null});
    let client = reqwest::Client::builder().timeout(Duration::from_millis(500)).build().unwrap();
    let r = client.post(format!("{}/exchange", v.http_url())).json(&body).send().await;
    assert!(r.is_err_and(|e| e.is_timeout()), "the answer must never arrive");
    let user = format!("0x{}", hex::encode(address_of(&key).unwrap()));
    let status: Value = client
        .post(format!("{}/info", v.http_url()))
        .json(&json!({"type": "orderStatus", "user": user, "oid": "0x000000000000000000000000000000aa"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["order"]["status"], "open", "the order was executed: {status}");
    let audit: Value = client.get(format!("{}/sim/audit", v.http_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(audit.as_array().unwrap().len(), 1);
    // The fault was for one response: the next request is answered.
    let nonce = nonce + 1;
    let cancel = Action::CancelByCloid {
        cancels: vec![connectors::hyperliquid::actions::CancelByCloidWire {
            asset: 1,
            cloid: "0x000000000000000000000000000000aa".into(),
        }],
    };
    let sig = sign_digest(&key, &l1_digest(&cancel, nonce, None, None, true).unwrap()).unwrap();
    let body = json!({"action": cancel, "nonce": nonce, "signature": sig, "vaultAddress": null});
    let r: Value =
        client.post(format!("{}/exchange", v.http_url())).json(&body).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["response"]["data"]["statuses"][0], "success", "{r}");
    v.stop().await;
}

/// The externally traded account's orders and fills come back on the WebSocket
/// like any wallet's: `orderUpdates` and `userFills` with the order's cloid.
#[tokio::test(flavor = "multi_thread")]
async fn the_traded_accounts_orders_and_fills_stream_back() {
    use connectors::hyperliquid::actions::{Action, Grouping, OrderTypeWire, OrderWire, Tif};
    use connectors::hyperliquid::signing::{l1_digest, sign_digest};
    connectors::install_tls_provider();
    let v = venue(60).await;
    let key = [7u8; 32];
    let user = format!("0x{}", hex::encode(address_of(&key).unwrap()));
    let mut ws = connect(&v).await;
    for kind in ["userFills", "orderUpdates"] {
        send(&mut ws, json!({"method": "subscribe", "subscription": {"type": kind, "user": user}})).await;
    }
    // Two acks and the (empty) fills snapshot, in whatever order the socket interleaves them.
    let (mut acks, mut snapshot) = (0, None);
    while acks < 2 || snapshot.is_none() {
        let f = next_json(&mut ws).await;
        match f["channel"].as_str() {
            Some("subscriptionResponse") => acks += 1,
            Some("userFills") => snapshot = Some(f),
            other => panic!("unexpected frame {other:?}"),
        }
    }
    let snapshot = snapshot.unwrap();
    assert_eq!(
        (snapshot["data"]["isSnapshot"].as_bool(), snapshot["data"]["fills"].as_array().map(Vec::len)),
        (Some(true), Some(0))
    );
    let mid: f64 = {
        let w = v.venue.world();
        w.market.price_generated(1, w.now_ms)
    };
    let p = connectors::sim::tokens::CATALOG[1].round_price(mid * 1.02, connectors::sim::tokens::Round::Up).to_string();
    let cloid = "0x000000000000000000000000000000bb";
    let action = Action::Order {
        orders: vec![OrderWire {
            a: 1,
            b: true,
            p,
            s: "0.2".into(),
            r: false,
            t: OrderTypeWire::Limit { tif: Tif::Ioc },
            c: Some(cloid.into()),
        }],
        grouping: Grouping::Na,
        builder: None,
    };
    let nonce = v.venue.now_ms() + 1;
    let sig = sign_digest(&key, &l1_digest(&action, nonce, None, None, true).unwrap()).unwrap();
    let r: Value = reqwest::Client::new()
        .post(format!("{}/exchange", v.http_url()))
        .json(&json!({"action": action, "nonce": nonce, "signature": sig, "vaultAddress": null}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r["response"]["data"]["statuses"][0].get("filled").is_some(), "{r}");
    let (mut fill, mut statuses) = (None, Vec::new());
    for _ in 0..6 {
        let Some(text) = next_text(&mut ws).await else { break };
        let f: Value = serde_json::from_str(&text).unwrap();
        match f["channel"].as_str() {
            Some("userFills") => fill = Some(f["data"]["fills"][0].clone()),
            Some("orderUpdates") => statuses.extend(
                f["data"].as_array().unwrap().iter().map(|u| (u["status"].clone(), u["order"]["cloid"].clone())),
            ),
            _ => {}
        }
        if fill.is_some() && statuses.iter().any(|(s, _)| s == "filled") {
            break;
        }
    }
    let fill = fill.expect("no userFills frame for the account");
    assert_eq!(
        (fill["cloid"].as_str(), fill["coin"].as_str(), fill["sz"].as_str()),
        (Some(cloid), Some("ETH"), Some("0.2"))
    );
    assert!(
        statuses.contains(&(json!("open"), json!(cloid))) && statuses.contains(&(json!("filled"), json!(cloid))),
        "{statuses:?}"
    );
    v.stop().await;
}

/// `/sim/wire-times` (the end-to-end benchmark's clock): off by default; on,
/// every trade sent on `trades` is stamped once, no later than the frame's
/// arrival, and each `/exchange` request is stamped on arrival with its audit seq.
#[tokio::test(flavor = "multi_thread")]
async fn wire_times_stamp_trades_sent_and_exchange_requests() {
    use connectors::hyperliquid::actions::{Action, CancelByCloidWire};
    use connectors::hyperliquid::signing::{l1_digest, sign_digest};
    connectors::install_tls_provider();
    let off = venue(60).await;
    let r = reqwest::get(format!("{}/sim/wire-times", off.http_url())).await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::NOT_FOUND);
    off.stop().await;

    let v = venue_with(60, true).await;
    let wire = || async {
        reqwest::get(format!("{}/sim/wire-times", v.http_url())).await.unwrap().json::<Value>().await.unwrap()
    };
    let mut ws = connect(&v).await;
    send(&mut ws, json!({"method": "subscribe", "subscription": {"type": "trades", "coin": "BTC"}})).await;
    let start = v.venue.now_ms();
    advance(&v, 6 * 60 * MINUTE_MS).await;
    // A new trade's frame, and what the venue stamped before it arrived here.
    let (tid, received_ns) = loop {
        let f = next_json(&mut ws).await;
        let newest =
            f["data"].as_array().and_then(|d| d.iter().rev().find(|t| t["time"].as_u64() > Some(start)).cloned());
        if let Some(t) = newest {
            break (t["tid"].as_u64().unwrap(), wire().await["now_ns"].as_u64().unwrap());
        }
    };
    let w = wire().await;
    assert!(w["clock"].is_null(), "a stepped clock has no real-time reference: {}", w["clock"]);
    let stamped = w["trades"].as_array().unwrap().iter().find(|t| t["tid"].as_u64() == Some(tid)).cloned();
    let stamped = stamped.unwrap_or_else(|| panic!("trade {tid} sent but not stamped"));
    assert_eq!(stamped["coin"], "BTC");
    assert!(stamped["sent_ns"].as_u64().unwrap() <= received_ns);

    // One /exchange request (a cancel of nothing is refused, and still audited).
    let key = [7u8; 32];
    let cancel = Action::CancelByCloid {
        cancels: vec![CancelByCloidWire { asset: 1, cloid: "0x000000000000000000000000000000bb".into() }],
    };
    let nonce = v.venue.now_ms() + 1;
    let sig = sign_digest(&key, &l1_digest(&cancel, nonce, None, None, true).unwrap()).unwrap();
    let body = json!({"action": cancel, "nonce": nonce, "signature": sig, "vaultAddress": null});
    let before = wire().await["now_ns"].as_u64().unwrap();
    reqwest::Client::new().post(format!("{}/exchange", v.http_url())).json(&body).send().await.unwrap();
    let w = wire().await;
    let requests = w["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0]["seq"], 1);
    let arrived = requests[0]["arrived_ns"].as_u64().unwrap();
    assert!(before <= arrived && arrived <= w["now_ns"].as_u64().unwrap());
    v.stop().await;
}
