//! The WebSocket feed against the venue dropping its sockets: followed users'
//! fills all arrive exactly once (reconnect, resubscribe, REST gap backfill,
//! dedup), and malformed frames are counted without stopping the feed.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use connectors::hyperliquid::info_client::{InfoClient, InfoSettings, WeightBudget};
use connectors::hyperliquid::ws_client::{FeedEvent, FeedSettings, spawn};
use connectors::sim::faults::Faults;
use connectors::sim::market::MINUTE_MS;
use connectors::sim::personas::PersonaKind;
use connectors::sim::{ClockMode, SimConfig, VenueOptions};

mod common;

#[tokio::test(flavor = "multi_thread")]
async fn followed_fills_survive_dropped_sockets_exactly_once() {
    let options = VenueOptions {
        sim: SimConfig { seed: 81, wallets: 60, tokens: 4, warmup_days: 2, ..SimConfig::default() },
        clock: ClockMode::Stepped,
        info_weight_per_minute: 1_000_000,
        ..VenueOptions::default()
    };
    let v = connectors::sim::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let users: Vec<String> = {
        let w = v.venue.world();
        // Market makers are on the other side of every trade: the busiest accounts.
        let mut busy: Vec<usize> = (0..w.accounts.len())
            .filter(|&i| matches!(w.personas[i].kind, PersonaKind::MarketMaker | PersonaKind::Hft))
            .collect();
        busy.sort_by_key(|&i| std::cmp::Reverse(w.accounts[i].fills.len()));
        busy.into_iter().take(3).map(|i| w.accounts[i].address_hex()).collect()
    };
    let info = Arc::new(
        InfoClient::new(
            InfoSettings { base_url: v.http_url(), ..InfoSettings::default() },
            WeightBudget::per_minute(1_000_000),
        )
        .unwrap(),
    );
    let settings = FeedSettings {
        url: v.ws_url(),
        coins: vec!["BTC".into(), "ETH".into()],
        users: users.clone(),
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(100),
        queue: 64,
        ..FeedSettings::default()
    };
    let (mut rx, stats, task) = spawn(settings, Some(info));
    let start = v.venue.now_ms();
    v.venue.set_faults(Faults { ws_drop_every_ms: 300, malformed_rate: 0.05, ..Faults::default() });
    let got = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = got.clone();
    tokio::spawn(async move {
        while let Some(ev) = rx.recv().await {
            if let FeedEvent::UserFills { user, fills } = ev {
                sink.lock().unwrap().extend(fills.into_iter().map(|f| (user.clone(), f.tid, f.oid, f.time)));
            }
        }
    });
    for _ in 0..60 {
        let to = v.venue.now_ms() + 5 * MINUTE_MS;
        let venue = v.venue.clone();
        tokio::task::spawn_blocking(move || venue.advance_to(to)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    // Faults off: the last reconnect's backfill brings whatever the final gap held.
    v.venue.set_faults(Faults::default());
    let end = v.venue.now_ms();
    let expected: BTreeSet<(String, Option<u64>, u64, u64)> = {
        let w = v.venue.world();
        users
            .iter()
            .flat_map(|u| {
                let i = w.wallet_index(u).unwrap();
                w.accounts[i]
                    .fills
                    .iter()
                    .filter(|f| f.time > start && f.time <= end)
                    .map(|f| (u.clone(), Some(f.tid), f.oid, f.time))
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    // Wait (up to a generous deadline) until the feed has caught up.
    for _ in 0..200 {
        let have: BTreeSet<_> = got.lock().unwrap().iter().filter(|(_, _, _, t)| *t > start).cloned().collect();
        if have.is_superset(&expected) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    task.abort();
    let got = got.lock().unwrap().clone();
    let in_window: Vec<_> = got.iter().filter(|(_, _, _, t)| *t > start).cloned().collect();
    let unique: BTreeSet<_> = in_window.iter().cloned().collect();
    assert!(expected.len() > 20, "only {} fills in five hours", expected.len());
    assert_eq!(unique.len(), in_window.len(), "a fill was delivered twice");
    assert_eq!(unique, expected, "fills lost or invented across reconnects");
    assert!(stats.connects.load(Ordering::Relaxed) >= 3, "the socket was never dropped");
    assert!(stats.malformed.load(Ordering::Relaxed) > 0, "malformed frames are counted, not fatal");
    v.stop().await;
}

/// Our own account over the socket: its order updates (with cloids), its fills
/// (userFills and userEvents, delivered once) and its funding payments.
#[tokio::test(flavor = "multi_thread")]
async fn our_account_sees_its_orders_fills_and_funding() {
    use connectors::hyperliquid::actions::{Action, CancelWire, Grouping, OrderTypeWire, OrderWire, Tif};
    use connectors::hyperliquid::keys::address_of;
    use connectors::hyperliquid::ws_client::AccountEvent;
    use connectors::sim::market::HOUR_MS;
    use connectors::sim::tokens::{CATALOG, Round};

    let sim = SimConfig {
        seed: 82,
        wallets: 20,
        tokens: 4,
        warmup_days: 2,
        external_accounts: vec![(address_of(&common::key(1)).unwrap(), 100_000)],
        ..SimConfig::default()
    };
    let options =
        VenueOptions { sim, clock: ClockMode::Stepped, info_weight_per_minute: 1_000_000, ..VenueOptions::default() };
    let v = connectors::sim::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let mut t = common::Trader::new(&v, common::key(1));
    let settings = FeedSettings {
        url: v.ws_url(),
        all_mids: false,
        account: Some(t.address.to_uppercase().replace("0X", "0x")),
        ..FeedSettings::default()
    };
    let (mut rx, _stats, task) = spawn(settings, None);
    loop {
        if let Some(FeedEvent::Subscribed { .. }) = rx.recv().await {
            break;
        }
    }
    let mid = t.mid("ETH").await;
    let px = |p: f64, r: Round| CATALOG[1].round_price(p, r).to_string();
    let limit = |buy: bool, p: String, s: &str, tif: Tif, cloid: &str| OrderWire {
        a: 1,
        b: buy,
        p,
        s: s.into(),
        r: false,
        t: OrderTypeWire::Limit { tif },
        c: Some(cloid.into()),
    };
    let order = |o: OrderWire| Action::Order { orders: vec![o], grouping: Grouping::Na, builder: None };
    let resting = "0x000000000000000000000000000000a1";
    let taker = "0x000000000000000000000000000000a2";
    let r = t.send(order(limit(true, px(mid * 0.97, Round::Down), "0.1", Tif::Alo, resting))).await;
    let oid = r["response"]["data"]["statuses"][0]["resting"]["oid"].as_u64().unwrap_or_else(|| panic!("{r}"));
    let r = t.send(order(limit(true, px(mid * 1.02, Round::Up), "0.5", Tif::Ioc, taker))).await;
    assert!(r["response"]["data"]["statuses"][0].get("filled").is_some(), "{r}");
    t.send(Action::Cancel { cancels: vec![CancelWire { a: 1, o: oid }] }).await;
    t.advance(2 * HOUR_MS).await;

    let (mut orders, mut fills, mut funding) = (Vec::new(), Vec::new(), Vec::new());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while (orders.len() < 3 || fills.is_empty() || funding.is_empty()) && tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
            Ok(Some(FeedEvent::Account(AccountEvent::Orders(u)))) => {
                orders.extend(u.into_iter().map(|u| (u.order.cloid.unwrap_or_default(), u.status)))
            }
            Ok(Some(FeedEvent::Account(AccountEvent::Funding(f)))) => funding.push(f),
            Ok(Some(FeedEvent::UserFills { user, fills: f })) => {
                assert_eq!(user, t.address.to_lowercase());
                fills.extend(f);
            }
            _ => {}
        }
    }
    task.abort();
    let has = |c: &str, s: &str| orders.iter().any(|(cloid, status)| cloid == c && status == s);
    assert!(has(resting, "open") && has(resting, "canceled") && has(taker, "filled"), "{orders:?}");
    // One fill, though both userFills and userEvents carried it.
    assert_eq!(fills.len(), 1, "{fills:?}");
    assert_eq!((fills[0].cloid.as_deref(), fills[0].coin.as_str()), (Some(taker), "ETH"));
    assert!(funding.iter().all(|f| f.coin == "ETH" && f.szi.to_string() == "0.5"), "{funding:?}");
    assert!(!funding.is_empty());
    v.stop().await;
}
