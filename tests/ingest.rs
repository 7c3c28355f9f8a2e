//! Ingestion: venue fills and states become validated domain events with
//! monotonic stamps, duplicates are dropped, bad inputs are typed, counted and
//! skipped while the stream goes on, and the input log keeps every accepted event.

use std::collections::BTreeSet;
use std::path::PathBuf;

use connectors::hyperliquid::info_client::{InfoClient, InfoSettings, WeightBudget};
use connectors::sim::{ClockMode, SimConfig, VenueOptions};
use dataflows::model::{Address, MarkPrice, Price, Size, Token};
use mirrorflow::ingest::{Event, IngestError, Ingestor, Outcome, convert, read_log};
use mirrorflow::store::Store;

fn accepted(o: Outcome) -> mirrorflow::ingest::Stamped {
    match o {
        Outcome::Accepted(s) => s,
        other => panic!("expected acceptance, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn venue_data_is_ingested_deduplicated_and_logged() {
    let options = VenueOptions {
        sim: SimConfig { seed: 71, wallets: 30, tokens: 4, warmup_days: 5, ..SimConfig::default() },
        clock: ClockMode::Stepped,
        info_weight_per_minute: 1_000_000,
        ..VenueOptions::default()
    };
    let v = connectors::sim::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let c = InfoClient::new(
        InfoSettings { base_url: v.http_url(), ..InfoSettings::default() },
        WeightBudget::per_minute(1_000_000),
    )
    .unwrap();
    let meta = c.meta().await.unwrap();
    let tokens: BTreeSet<Token> = meta.universe.iter().map(|a| Token::parse(&a.name).unwrap()).collect();
    let users: Vec<String> = {
        let w = v.venue.world();
        w.accounts.iter().map(|a| a.address_hex()).collect()
    };
    let now = v.venue.now_ms();
    let mut ing = Ingestor::new(Some(tokens));
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("state.redb")).unwrap();
    let mut txn = store.write().unwrap();
    let mut all = Vec::new();
    for u in &users {
        for f in c.user_fills_between(u, 0, now).await.unwrap() {
            all.push(convert::fill(u, &f).unwrap());
        }
    }
    all.sort_by_key(|f| (f.time_ms, f.trade_id, f.wallet));
    let mut last = 0;
    for f in &all {
        let s = accepted(ing.ingest(Event::Fill(f.clone())));
        assert!(s.time_ms >= last, "stamps never go backwards");
        last = s.time_ms;
        ing.log(&mut txn, &s).unwrap();
    }
    // The same fills again (a reconnect snapshot, a REST backfill): all duplicates.
    for f in all.iter().take(50) {
        assert_eq!(ing.ingest(Event::Fill(f.clone())), Outcome::Duplicate);
    }
    for u in users.iter().take(5) {
        let state = c.clearinghouse_state(u).await.unwrap();
        let (positions, value) = convert::account(u, now, &state).unwrap();
        for p in positions {
            let s = accepted(ing.ingest(Event::Position(p)));
            ing.log(&mut txn, &s).unwrap();
        }
        let s = accepted(ing.ingest(Event::Account(value)));
        ing.log(&mut txn, &s).unwrap();
    }
    for (coin, px) in c.all_mids().await.unwrap() {
        let m = convert::mark(&coin, &px, now).unwrap();
        let s = accepted(ing.ingest(Event::Mark(m)));
        ing.log(&mut txn, &s).unwrap();
    }
    txn.commit().unwrap();
    assert_eq!(ing.stats.accepted["fill"], all.len() as u64);
    assert_eq!(ing.stats.duplicates, 50);
    let log = read_log(&store).unwrap();
    assert_eq!(log.len() as u64, ing.stats.accepted.values().sum::<u64>());
    assert!(log.windows(2).all(|w| w[0].time_ms <= w[1].time_ms));
    assert_eq!(log[0].event, Event::Fill(all[0].clone()));
    v.stop().await;
}

#[test]
fn bad_inputs_are_typed_counted_and_the_stream_goes_on() {
    let btc = Token::parse("BTC").unwrap();
    let eth = Token::parse("ETH").unwrap();
    let mut ing = Ingestor::new(Some([btc, eth].into_iter().collect()));
    let mark = |token, px: &str, t| Event::Mark(MarkPrice { time_ms: t, token, price: Price::parse(px).unwrap() });
    accepted(ing.ingest(mark(btc, "60000", 1_000)));
    // Unknown token, absurd price, negative size, NaN on the wire: each refused with its kind.
    let doge = Token::parse("DOGE").unwrap();
    assert_eq!(ing.ingest(mark(doge, "0.1", 1_001)), Outcome::Rejected(IngestError::UnknownToken(doge)));
    assert!(matches!(ing.ingest(mark(btc, "600001", 1_002)), Outcome::Rejected(IngestError::AbsurdPrice { .. })));
    let hl_fill: connectors::hyperliquid::info::Fill = serde_json::from_value(serde_json::json!({
        "coin": "ETH", "px": "3000.5", "sz": "0.5", "side": "B", "time": 2_000, "startPosition": "0.0",
        "dir": "Open Long", "closedPnl": "0.0", "hash": "", "oid": 1, "crossed": true, "fee": "0.1", "tid": 9
    }))
    .unwrap();
    let user = Address::parse("0x7e5f4552091a69125d5dfcb7b8c2659029395bdf").unwrap().canonical();
    let mut fill = convert::fill(&user, &hl_fill).unwrap();
    fill.size = Size::parse("-0.5").unwrap();
    match ing.ingest(Event::Fill(fill.clone())) {
        Outcome::Rejected(e) => assert_eq!(e.kind(), "invalid fill.size"),
        other => panic!("{other:?}"),
    }
    let nan: Result<connectors::hyperliquid::info::Fill, _> = serde_json::from_value(serde_json::json!({
        "coin": "ETH", "px": "NaN", "sz": "0.5", "side": "B", "time": 2_000, "startPosition": "0.0",
        "dir": "Open Long", "closedPnl": "0.0", "hash": "", "oid": 1, "crossed": true, "fee": "0.1"
    }));
    assert!(nan.unwrap_err().to_string().contains("NaN"));
    // The stream goes on: a good fill is accepted; a late one is stamped at the frontier.
    fill.size = Size::parse("0.5").unwrap();
    assert_eq!(accepted(ing.ingest(Event::Fill(fill.clone()))).time_ms, 2_000);
    let late = accepted(ing.ingest(mark(eth, "3001", 1_500)));
    assert_eq!(late.time_ms, 2_000);
    assert_eq!(ing.stats.late, 1);
    assert_eq!(ing.stats.errors.values().sum::<u64>(), 3);
    assert_eq!(ing.frontier(), 2_000);
}

#[test]
fn the_2023_import_ingests_completely() {
    let path = std::env::var_os("MIRRORFLOW_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"))
        .join("data/real/hl-official-2023-non-mm");
    let mut ing = Ingestor::new(None);
    let mut errors = Vec::new();
    let mut values: std::collections::BTreeMap<String, Vec<(u64, f64)>> = Default::default();
    let mut positions = 0;
    connectors::import::hl2023::read(
        &path,
        |r| match r {
            connectors::import::Record::Fill { user, fill } => {
                let fill = convert::fill(&user, &fill).unwrap();
                accepted(ing.ingest(Event::Fill(fill)));
            }
            connectors::import::Record::State { user, time, state } => {
                let (held, value) = convert::account(&user, time, &state).unwrap();
                positions += held.len();
                for p in held {
                    accepted(ing.ingest(Event::Position(p)));
                }
                accepted(ing.ingest(Event::Account(value)));
                values
                    .entry(user)
                    .or_default()
                    .push((time, state.margin_summary.account_value.to_string().parse().unwrap()));
            }
            other => panic!("the 2023 files hold fills and transfers only: {other:?}"),
        },
        |e| errors.push(e),
    )
    .unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(ing.stats.accepted["fill"], 35_691);
    assert_eq!(ing.stats.duplicates, 0);
    // Account states: values from the ledger and the realised PnL: positive, for most
    // wallets, and of the market's size (the largest net deposit is about $14k).
    assert!(values.len() >= 200, "{} wallets with an account value", values.len());
    assert!(values.values().flatten().all(|(_, v)| *v > 0.0));
    let largest = values.values().flatten().map(|(_, v)| *v).fold(0.0, f64::max);
    assert!((10_000.0..1_000_000.0).contains(&largest), "largest account value {largest}");
    // Each state carries the positions the fills left open, valid as snapshots.
    assert!(positions > 10_000, "{positions} positions in the account states");
}

/// The live path end to end: the tracker follows wallets on the venue's tape,
/// every event it reports is ingested and logged; a restart resumes the log
/// without overwriting it and treats logged fills as seen; bad values in a
/// batch are counted while the rest of the batch lands.
#[tokio::test(flavor = "multi_thread")]
async fn tracked_wallets_flow_into_the_input_log_and_resume_after_restart() {
    use connectors::hyperliquid::tracker::{self, TrackerEvent, TrackerSettings};
    use connectors::hyperliquid::ws_client::FeedSettings;
    use mirrorflow::ingest::live::LiveIngest;

    let options = VenueOptions {
        sim: SimConfig { seed: 72, wallets: 40, tokens: 3, warmup_days: 1, ..SimConfig::default() },
        clock: ClockMode::Stepped,
        info_weight_per_minute: 1_000_000,
        ..VenueOptions::default()
    };
    let v = connectors::sim::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let info = std::sync::Arc::new(
        InfoClient::new(
            InfoSettings { base_url: v.http_url(), ..InfoSettings::default() },
            WeightBudget::per_minute(1_000_000),
        )
        .unwrap(),
    );
    let (coins, users): (Vec<String>, Vec<String>) = {
        let w = v.venue.world();
        (w.specs().iter().map(|s| s.name.to_string()).collect(), w.accounts.iter().map(|a| a.address_hex()).collect())
    };
    let settings = TrackerSettings {
        feed: FeedSettings { url: v.ws_url(), coins: coins.clone(), ..FeedSettings::default() },
        wallets: users.clone(),
        ..TrackerSettings::default()
    };
    let (mut rx, stats, _feed, task) = tracker::spawn(settings, info);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("state.redb")).unwrap();
    let tokens: BTreeSet<Token> = coins.iter().map(|c| Token::parse(c).unwrap()).collect();
    let mut live = LiveIngest::new(Ingestor::new(Some(tokens.clone())), &store).unwrap();
    let mut seen = Vec::new();
    let mut fills = 0usize;
    let mut advanced = 0;
    while advanced < 12 || stats.snapshots.load(std::sync::atomic::Ordering::Relaxed) < users.len() as u64 {
        let mut batch = Vec::new();
        while let Ok(Some(ev)) = tokio::time::timeout(std::time::Duration::from_millis(20), rx.recv()).await {
            batch.push(ev);
            if batch.len() == 64 {
                break;
            }
        }
        fills += batch.iter().filter(|e| matches!(e, TrackerEvent::Fill { .. })).count();
        live.accept(&batch).unwrap();
        seen.extend(batch);
        if stats.snapshots.load(std::sync::atomic::Ordering::Relaxed) >= users.len() as u64 {
            let to = v.venue.now_ms() + 10 * connectors::sim::market::MINUTE_MS;
            let venue = v.venue.clone();
            tokio::task::spawn_blocking(move || venue.advance_to(to)).await.unwrap();
            advanced += 1;
        }
    }
    task.abort();
    let log = read_log(&store).unwrap();
    let count = |kind: &str| log.iter().filter(|s| s.event.kind() == kind).count();
    assert!(fills > 20, "only {fills} fills in two hours");
    assert_eq!(count("fill"), fills, "every tracked fill is in the log");
    assert!(count("position") > 0 && count("account") >= users.len() && count("mark") > 0);
    assert!(log.windows(2).all(|w| w[0].time_ms <= w[1].time_ms));
    let before = log.len();
    drop(live);

    // A restart: the same events again are duplicates (fills) or new stamps after the log.
    let mut live = LiveIngest::new(Ingestor::new(Some(tokens)), &store).unwrap();
    let again: Vec<TrackerEvent> = seen.iter().filter(|e| matches!(e, TrackerEvent::Fill { .. })).cloned().collect();
    assert!(live.accept(&again).unwrap().is_empty());
    assert_eq!(live.ingestor.stats.duplicates as usize, fills);
    // A batch with a NaN mid and an unknown coin: both counted, the good mid lands.
    let last_mark = log
        .iter()
        .rev()
        .find_map(|s| match &s.event {
            Event::Mark(m) if m.token.as_str() == coins[0] => Some(m.price.to_string()),
            _ => None,
        })
        .unwrap();
    let mids = [(coins[1].as_str(), "NaN"), ("NOPE", "1.0"), (coins[0].as_str(), last_mark.as_str())];
    let batch = [TrackerEvent::Mids {
        mids: mids.iter().map(|(c, p)| (c.to_string(), p.to_string())).collect(),
        time: v.venue.now_ms(),
        source: tracker::PriceSource::Socket,
    }];
    let landed = live.accept(&batch).unwrap();
    assert_eq!(landed.len(), 1);
    let errors = &live.ingestor.stats.errors;
    assert_eq!((errors.get("invalid allMids.price"), errors.get("unknown token")), (Some(&1), Some(&1)), "{errors:?}");
    let log = read_log(&store).unwrap();
    assert_eq!(log.len(), before + 1, "the resumed log appended, overwriting nothing");
    v.stop().await;
}
