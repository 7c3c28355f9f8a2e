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
    connectors::import::hl2023::read(
        &path,
        |user, f| {
            let fill = convert::fill(user, &f).unwrap();
            accepted(ing.ingest(Event::Fill(fill)));
        },
        |e| errors.push(e),
    )
    .unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(ing.stats.accepted["fill"], 35_691);
    assert_eq!(ing.stats.duplicates, 0);
}
