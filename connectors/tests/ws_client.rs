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
