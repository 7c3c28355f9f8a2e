//! Tracking wallets over the public `trades` tape against the venue: fills of
//! 1,000 wallets carry the ledger's direction, start position, realised PnL and
//! fee; dropped sockets lose and duplicate nothing; positions invisible on the
//! tape are corrected from `clearinghouseState`; stale prices fall back to REST.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use connectors::hyperliquid::info_client::{InfoClient, InfoSettings, WeightBudget};
use connectors::hyperliquid::tracker::{self, FillSource, PriceSource, TrackerEvent, TrackerSettings, TrackerStats};
use connectors::hyperliquid::ws_client::FeedSettings;
use connectors::sim::faults::Faults;
use connectors::sim::market::MINUTE_MS;
use connectors::sim::personas::PersonaKind;
use connectors::sim::{ClockMode, RunningVenue, SimConfig, VenueOptions, views};
use connectors::wire::Decimal;

async fn venue(seed: u64, wallets: usize, tokens: usize) -> RunningVenue {
    let options = VenueOptions {
        sim: SimConfig { seed, wallets, tokens, warmup_days: 1, ..SimConfig::default() },
        clock: ClockMode::Stepped,
        info_weight_per_minute: 10_000_000,
        ..VenueOptions::default()
    };
    connectors::sim::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

fn info(v: &RunningVenue) -> Arc<InfoClient> {
    Arc::new(
        InfoClient::new(
            InfoSettings { base_url: v.http_url(), ..InfoSettings::default() },
            WeightBudget::per_minute(10_000_000),
        )
        .unwrap(),
    )
}

fn coins(v: &RunningVenue) -> Vec<String> {
    v.venue.world().specs().iter().map(|s| s.name.to_string()).collect()
}

fn settings(v: &RunningVenue, coins: Vec<String>, wallets: Vec<String>) -> TrackerSettings {
    TrackerSettings {
        feed: FeedSettings {
            url: v.ws_url(),
            coins,
            backoff_base: Duration::from_millis(20),
            backoff_max: Duration::from_millis(100),
            queue: 256,
            ..FeedSettings::default()
        },
        wallets,
        reconcile_every: Duration::from_secs(3600),
        reconcile_grace: Duration::from_millis(200),
        queue: 256,
        ..TrackerSettings::default()
    }
}

/// Collects every event the tracker emits.
fn collect(mut rx: tokio::sync::mpsc::Receiver<TrackerEvent>) -> Arc<Mutex<Vec<TrackerEvent>>> {
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = got.clone();
    tokio::spawn(async move {
        while let Some(ev) = rx.recv().await {
            sink.lock().unwrap().push(ev);
        }
    });
    got
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..600 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Advances the stepped venue in `step`-long chunks, giving the feed real time between.
async fn advance(v: &RunningVenue, steps: usize, step: u64, pause: Duration) {
    for _ in 0..steps {
        let to = v.venue.now_ms() + step;
        let venue = v.venue.clone();
        tokio::task::spawn_blocking(move || venue.advance_to(to)).await.unwrap();
        tokio::time::sleep(pause).await;
    }
}

/// What a fill says about a position, keyed by (user, coin, tid, time).
type Key = (String, String, u64, u64);
#[derive(Debug, Clone, PartialEq)]
struct Facts {
    side: String,
    px: Decimal,
    sz: Decimal,
    start: Decimal,
    dir: String,
    closed_pnl: Decimal,
    /// The exchange fee (the tape cannot show a builder fee).
    fee: Decimal,
}

fn ledger(v: &RunningVenue, users: &[String], after: u64, until: u64) -> BTreeMap<Key, Facts> {
    let w = v.venue.world();
    let mut out = BTreeMap::new();
    for u in users {
        let i = w.wallet_index(u).unwrap();
        for f in w.accounts[i].fills.iter().filter(|f| f.time > after && f.time <= until) {
            let api = views::fill(&w, f);
            let facts = Facts {
                side: api.side.clone(),
                px: api.px,
                sz: api.sz,
                start: api.start_position,
                dir: api.dir.clone(),
                closed_pnl: api.closed_pnl,
                fee: api.fee - api.builder_fee.unwrap_or_default(),
            };
            out.insert((u.clone(), api.coin.clone(), f.tid, f.time), facts);
        }
    }
    out
}

/// The fills delivered, each key once (a second delivery fails the test).
fn delivered(events: &[TrackerEvent], after: u64) -> (BTreeMap<Key, Facts>, BTreeMap<FillSource, usize>) {
    let mut out = BTreeMap::new();
    let mut by_source = BTreeMap::new();
    for ev in events {
        let TrackerEvent::Fill { user, fill: f, source } = ev else { continue };
        if f.time <= after {
            continue;
        }
        *by_source.entry(*source).or_default() += 1;
        let facts = Facts {
            side: f.side.clone(),
            px: f.px,
            sz: f.sz,
            start: f.start_position,
            dir: f.dir.clone(),
            closed_pnl: f.closed_pnl,
            fee: f.fee - f.builder_fee.unwrap_or_default(),
        };
        let key = (user.clone(), f.coin.clone(), f.tid.unwrap(), f.time);
        assert!(out.insert(key.clone(), facts).is_none(), "fill {key:?} delivered twice");
    }
    (out, by_source)
}

fn assert_same(expected: &BTreeMap<Key, Facts>, got: &BTreeMap<Key, Facts>) {
    let missing: Vec<_> = expected.keys().filter(|k| !got.contains_key(*k)).take(5).collect();
    let invented: Vec<_> = got.keys().filter(|k| !expected.contains_key(*k)).take(5).collect();
    assert!(missing.is_empty(), "{} fills missing, e.g. {missing:?}", expected.len() - got.len().min(expected.len()));
    assert!(invented.is_empty(), "fills the ledger does not have, e.g. {invented:?}");
    for (k, e) in expected {
        assert_eq!(&got[k], e, "fill {k:?} differs from the ledger");
    }
}

/// Every wallet but the market makers (who are on the other side of every trade).
fn traders(v: &RunningVenue) -> Vec<String> {
    let w = v.venue.world();
    (0..w.accounts.len())
        .filter(|&i| !matches!(w.personas[i].kind, PersonaKind::MarketMaker))
        .map(|i| w.accounts[i].address_hex())
        .collect()
}

async fn seeded(stats: &TrackerStats, n: u64) {
    wait_until("every wallet's seeding snapshot", || stats.snapshots.load(Ordering::Relaxed) >= n).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_wallets_followed_on_the_tape_match_the_ledger() {
    let v = venue(91, 1_060, 5).await;
    let users = traders(&v);
    assert!(users.len() >= 1_000, "only {} wallets to track", users.len());
    let (rx, stats, feed_stats, task) = tracker::spawn(settings(&v, coins(&v), users.clone()), info(&v));
    let got = collect(rx);
    seeded(&stats, users.len() as u64).await;
    let start = v.venue.now_ms();
    advance(&v, 24, 5 * MINUTE_MS, Duration::from_millis(30)).await;
    let end = v.venue.now_ms();
    let expected = ledger(&v, &users, start, end);
    wait_until("the tape to deliver two hours of fills", || {
        delivered(&got.lock().unwrap(), start).0.len() >= expected.len()
    })
    .await;
    task.abort();
    let (fills, by_source) = delivered(&got.lock().unwrap(), start);
    assert!(expected.len() > 200, "only {} fills in two hours", expected.len());
    assert_same(&expected, &fills);
    assert_eq!(by_source.get(&FillSource::Backfill), None, "no gap, so nothing came over REST");
    let wallets_seen: BTreeSet<&String> = fills.keys().map(|k| &k.0).collect();
    assert!(wallets_seen.len() > 100, "fills of only {} wallets", wallets_seen.len());
    assert_eq!(stats.corrections.load(Ordering::Relaxed), 0);
    assert_eq!(feed_stats.connects.load(Ordering::Relaxed), 1);
    v.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tracked_fills_survive_hours_of_dropped_sockets_exactly_once() {
    let v = venue(92, 80, 4).await;
    let users: Vec<String> = {
        let w = v.venue.world();
        let mut busy: Vec<usize> =
            (0..w.accounts.len()).filter(|&i| !matches!(w.personas[i].kind, PersonaKind::MarketMaker)).collect();
        busy.sort_by_key(|&i| std::cmp::Reverse(w.accounts[i].fills.len()));
        busy.into_iter().take(40).map(|i| w.accounts[i].address_hex()).collect()
    };
    let (rx, stats, feed_stats, task) = tracker::spawn(settings(&v, coins(&v), users.clone()), info(&v));
    let got = collect(rx);
    seeded(&stats, users.len() as u64).await;
    let start = v.venue.now_ms();
    v.venue.set_faults(Faults {
        ws_drop_every_ms: 250,
        malformed_rate: 0.02,
        truncated_rate: 0.02,
        nan_price_rate: 0.02,
        duplicate_rate: 0.05,
        ..Faults::default()
    });
    // Four simulated hours, a drop every 250 ms of real time (about every 8 simulated minutes).
    advance(&v, 120, 2 * MINUTE_MS, Duration::from_millis(30)).await;
    v.venue.set_faults(Faults::default());
    let end = v.venue.now_ms();
    let expected = ledger(&v, &users, start, end);
    wait_until("the feed to catch up after the last drop", || {
        delivered(&got.lock().unwrap(), start).0.len() >= expected.len()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    task.abort();
    let (fills, by_source) = delivered(&got.lock().unwrap(), start);
    assert!(expected.len() > 40, "only {} fills in four hours", expected.len());
    assert_same(&expected, &fills);
    assert!(feed_stats.connects.load(Ordering::Relaxed) >= 5, "the socket was not dropped often");
    assert!(stats.gaps.load(Ordering::Relaxed) >= 4);
    assert!(by_source.get(&FillSource::Backfill).copied().unwrap_or(0) > 0, "no gap needed REST: the test is too easy");
    // Broken JSON (malformed, truncated) and a NaN price are typed, counted errors.
    let kinds = feed_stats.errors.lock().unwrap().clone();
    assert!(kinds.get("not json").is_some_and(|n| *n > 0) && kinds.get("schema").is_some_and(|n| *n > 0), "{kinds:?}");
    v.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn positions_invisible_on_the_tape_are_corrected_from_snapshots() {
    let v = venue(93, 60, 4).await;
    let all = coins(&v);
    let followed = all[..2].to_vec();
    let users = traders(&v);
    let mut s = settings(&v, followed.clone(), users.clone());
    s.reconcile_every = Duration::from_millis(400);
    let (rx, stats, _feed, task) = tracker::spawn(s, info(&v));
    let got = collect(rx);
    seeded(&stats, users.len() as u64).await;
    advance(&v, 24, 5 * MINUTE_MS, Duration::from_millis(40)).await;
    wait_until("a correction", || stats.corrections.load(Ordering::Relaxed) > 0).await;
    // Let a full reconciliation round pass after the last move.
    tokio::time::sleep(Duration::from_millis(900)).await;
    task.abort();
    let events = got.lock().unwrap().clone();
    let corrected: Vec<(String, String, (Decimal, Decimal))> = events
        .iter()
        .filter_map(|e| match e {
            TrackerEvent::Corrected { user, coin, venue, .. } => Some((user.clone(), coin.clone(), *venue)),
            _ => None,
        })
        .collect();
    assert!(!corrected.is_empty());
    assert!(
        corrected.iter().all(|(_, coin, _)| !followed.contains(coin)),
        "a coin on the followed tape needed correcting: {:?}",
        corrected.iter().filter(|(_, c, _)| followed.contains(c)).take(3).collect::<Vec<_>>()
    );
    // The last correction of each (wallet, coin) is the venue's position now.
    {
        let w = v.venue.world();
        let mut last: BTreeMap<(String, String), (Decimal, Decimal)> = BTreeMap::new();
        for (u, c, p) in corrected {
            last.insert((u, c), p);
        }
        for ((u, c), (size, entry)) in last {
            let i = w.wallet_index(&u).unwrap();
            let t = w.token_index(&c).unwrap();
            let (vs, ve) = w.accounts[i].positions.get(&t).map(|p| (p.szi, p.entry)).unwrap_or_default();
            assert_eq!((size, if size.is_zero() { Decimal::ZERO } else { entry }), (vs, ve), "{u} {c}");
        }
    }
    v.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn stale_prices_fall_back_to_rest_until_the_socket_recovers() {
    let v = venue(94, 30, 3).await;
    let all = coins(&v);
    let mut s = settings(&v, all.clone(), Vec::new());
    s.stale_after = Duration::from_millis(400);
    s.rest_mids_every = Duration::from_millis(100);
    let (rx, stats, _feed, task) = tracker::spawn(s, info(&v));
    let got = collect(rx);
    let has = |f: &dyn Fn(&TrackerEvent) -> bool| got.lock().unwrap().iter().any(f);
    wait_until("socket mids", || has(&|e| matches!(e, TrackerEvent::Mids { source: PriceSource::Socket, .. }))).await;
    assert!(!has(&|e| matches!(e, TrackerEvent::Stale { .. })), "fresh prices were called stale");
    v.venue.set_faults(Faults { freeze_prices: true, ..Faults::default() });
    wait_until("every coin marked stale", || stats.stale_marks.load(Ordering::Relaxed) >= all.len() as u64).await;
    wait_until("three REST polls", || stats.rest_mid_polls.load(Ordering::Relaxed) >= 3).await;
    let rest: Vec<BTreeSet<String>> = got
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            TrackerEvent::Mids { mids, source: PriceSource::Rest, .. } => Some(mids.keys().cloned().collect()),
            _ => None,
        })
        .collect();
    assert!(rest.len() >= 2, "REST fallback delivered {} times", rest.len());
    assert!(rest.iter().all(|coins| coins.iter().all(|c| all.contains(c))));
    v.venue.set_faults(Faults::default());
    let polls = stats.rest_mid_polls.load(Ordering::Relaxed);
    wait_until("every coin fresh again", || {
        let events = got.lock().unwrap();
        all.iter().all(|c| events.iter().any(|e| matches!(e, TrackerEvent::Fresh { coin } if coin == c)))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(stats.rest_mid_polls.load(Ordering::Relaxed) <= polls + 2, "REST polling went on after recovery");
    task.abort();
    v.stop().await;
}
