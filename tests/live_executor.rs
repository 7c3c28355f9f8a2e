//! The live executor against the simulated venue on loopback: an entry sets
//! isolated leverage and fills; deciding the same intent again (a replay after
//! a restart) sends nothing; a lost answer stays `Unknown` until start-up
//! resolves it by cloid — one order on the venue, never two; a reduce-only
//! order with nothing to reduce is a definite rejection, and only then may a
//! new attempt (with a new cloid) go out.

use std::sync::Arc;
use std::time::Duration;

use connectors::hyperliquid::exchange_client::{Clock, ExchangeClient, ExchangeSettings};
use connectors::hyperliquid::info_client::{InfoClient, InfoSettings, WeightBudget};
use connectors::hyperliquid::keys::{Signer, address_of};
use connectors::hyperliquid::nonces::NonceManager;
use connectors::sim::faults::Faults;
use connectors::sim::{ClockMode, RunningVenue, SimConfig, VenueOptions};
use dataflows::model::{
    IntentId, IntentKind, OrderIntent, OrderType, Price, Ratio, Side, Size, Strategy, TimeInForce, Token,
};
use mirrorflow::executor::journal::{Journal, State};
use mirrorflow::executor::live::LiveExecutor;
use mirrorflow::store::Store;
use serde_json::{Value, json};

const KEY: [u8; 32] = [0x33; 32];

async fn venue() -> RunningVenue {
    connectors::install_tls_provider();
    let sim = SimConfig {
        seed: 43,
        wallets: 20,
        tokens: 4,
        warmup_days: 3,
        external_accounts: vec![(address_of(&KEY).unwrap(), 1_000_000)],
        ..SimConfig::default()
    };
    let options =
        VenueOptions { sim, clock: ClockMode::Stepped, info_weight_per_minute: 1_000_000, ..VenueOptions::default() };
    connectors::sim::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

async fn client(v: &RunningVenue) -> ExchangeClient {
    let info = Arc::new(
        InfoClient::new(
            InfoSettings { base_url: v.http_url(), ..InfoSettings::default() },
            WeightBudget::per_minute(1_000_000),
        )
        .unwrap(),
    );
    let venue = v.venue.clone();
    let clock: Clock = Arc::new(move || venue.now_ms());
    let settings = ExchangeSettings {
        base_url: v.http_url(),
        timeout: Duration::from_millis(800),
        max_leverage: 10,
        ..ExchangeSettings::default()
    };
    ExchangeClient::connect(settings, Signer::from_bytes(KEY).unwrap(), Arc::new(NonceManager::new(0)), clock, info)
        .await
        .unwrap()
}

async fn post(v: &RunningVenue, path: &str, body: Value) -> Value {
    let r = reqwest::Client::new().post(format!("{}{path}", v.http_url())).json(&body).send().await.unwrap();
    r.json().await.unwrap_or(Value::Null)
}

async fn mark(v: &RunningVenue, coin: &str) -> Price {
    let mids = post(v, "/info", json!({"type": "allMids"})).await;
    Price::parse(mids[coin].as_str().unwrap()).unwrap()
}

/// Our orders the venue saw (its audit), by cloid.
async fn audited(v: &RunningVenue, cloid: &str) -> usize {
    let a: Value = reqwest::get(format!("{}/sim/audit", v.http_url())).await.unwrap().json().await.unwrap();
    a.as_array().unwrap().iter().filter(|o| o.to_string().contains(cloid)).count()
}

async fn our_position(v: &RunningVenue, coin: &str) -> Value {
    let s = post(
        v,
        "/info",
        json!({"type": "clearinghouseState", "user": format!("0x{}", hex::encode(address_of(&KEY).unwrap()))}),
    )
    .await;
    s["assetPositions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["position"]["coin"] == coin)
        .cloned()
        .unwrap_or(Value::Null)
}

fn intent(kind: IntentKind, side: Side, size: &str, order_type: OrderType, t: u64) -> OrderIntent {
    let eth = Token::parse("ETH").unwrap();
    OrderIntent {
        id: IntentId::derive(Strategy::Entry, eth, t, kind),
        time_ms: t,
        strategy: Strategy::Entry,
        token: eth,
        kind,
        side,
        size: Size::parse(size).unwrap(),
        price: Price::from_int(3_000),
        order_type,
        reduce_only: matches!(kind, IntentKind::Close | IntentKind::Decrease | IntentKind::StopLoss),
        leverage: Ratio::from_int(3),
        reason: "test".into(),
        attribution: vec![],
    }
}

fn market() -> OrderType {
    OrderType::Market { max_slippage_percent: Ratio::from_int(1) }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_entry_fills_once_and_a_replay_sends_nothing() {
    let v = venue().await;
    let c = client(&v).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("state.redb")).unwrap();
    let ex = LiveExecutor::new(&c, Journal::new(&store));
    let now = v.venue.now_ms();
    let entry = intent(IntentKind::Open, Side::Buy, "0.5", market(), now);
    let px = mark(&v, "ETH").await;
    let r = ex.execute(&entry, px, now).await.unwrap();
    assert_eq!(r.state, State::Filled, "{r:?}");
    assert_eq!(r.filled, Size::parse("0.5").unwrap());
    assert!(r.oid.is_some());
    let states: Vec<State> = r.history.iter().map(|h| h.1).collect();
    assert_eq!(states, [State::Recorded, State::Sent, State::Filled]);
    let cloid = r.cloid.to_string();
    assert_eq!(audited(&v, &cloid).await, 1);
    let p = our_position(&v, "ETH").await;
    assert_eq!(p["position"]["szi"], "0.5", "{p}");
    assert_eq!(p["position"]["leverage"]["type"], "isolated", "{p}");
    assert_eq!(p["position"]["leverage"]["value"], 3, "{p}");

    // The same decision again (a restart replays the tail): nothing is sent.
    let again = ex.execute(&entry, px, now + 5).await.unwrap();
    assert_eq!(again.state, State::Filled);
    assert_eq!(audited(&v, &cloid).await, 1, "never a second order for one intent");
    assert_eq!(our_position(&v, "ETH").await["position"]["szi"], "0.5");

    // A protective stop rests on the venue, reduce-only.
    let stop_px = Price::parse(&format!("{}", (px.to_f64() * 0.9).round())).unwrap();
    let stop = intent(IntentKind::StopLoss, Side::Sell, "0.5", OrderType::StopMarket { trigger_price: stop_px }, now);
    let r = ex.execute(&stop, px, now).await.unwrap();
    assert_eq!(r.state, State::Resting, "{r:?}");
    let user = format!("0x{}", hex::encode(address_of(&KEY).unwrap()));
    let open = post(&v, "/info", json!({"type": "frontendOpenOrders", "user": user})).await;
    let resting = open.as_array().unwrap();
    assert!(resting.iter().any(|o| o["cloid"] == r.cloid.to_string() && o["reduceOnly"] == true), "{open}");
    v.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_answer_is_resolved_by_cloid_not_resent() {
    let v = venue().await;
    let c = client(&v).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let now = v.venue.now_ms();
    let px = mark(&v, "ETH").await;
    // A close (no leverage update before it) whose answer is lost.
    let close = intent(IntentKind::Close, Side::Buy, "0.2", market(), now + 1);
    {
        let store = Store::open(&path).unwrap();
        let ex = LiveExecutor::new(&c, Journal::new(&store));
        let open = ex.execute(&intent(IntentKind::Open, Side::Sell, "0.2", market(), now), px, now).await.unwrap();
        assert_eq!(open.state, State::Filled, "{open:?}");
        let faults = Faults { lose_exchange_responses: 1, ..Faults::default() };
        let r = reqwest::Client::new().post(format!("{}/sim/faults", v.http_url())).json(&faults).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let r = ex.execute(&close, px, now + 1).await.unwrap();
        assert_eq!(r.state, State::Unknown, "{r:?}");
    }
    // "Restart": a new handle on the same file, the same decision replayed.
    let store = Store::open(&path).unwrap();
    let ex = LiveExecutor::new(&c, Journal::new(&store));
    let replayed = ex.execute(&close, px, now + 10).await.unwrap();
    assert_eq!(replayed.state, State::Unknown, "not sent again while unknown");
    let resolved = ex.resolve_unknown(now + 20).await.unwrap();
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].state, State::Filled, "{:?}", resolved[0]);
    assert_eq!(audited(&v, &resolved[0].cloid.to_string()).await, 1, "one order on the venue");
    assert_eq!(our_position(&v, "ETH").await, Value::Null, "closed once, not flipped by a resend");
    assert!(ex.journal().unresolved().unwrap().is_empty());
    v.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_definite_rejection_allows_a_new_attempt_with_a_new_cloid() {
    let v = venue().await;
    let c = client(&v).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("state.redb")).unwrap();
    let ex = LiveExecutor::new(&c, Journal::new(&store));
    let now = v.venue.now_ms();
    let px = mark(&v, "ETH").await;
    // Nothing to reduce: the venue refuses a reduce-only IOC.
    let close = intent(IntentKind::Close, Side::Sell, "0.3", market(), now);
    let r = ex.execute(&close, px, now).await.unwrap();
    assert_eq!(r.state, State::Rejected, "{r:?}");
    let first = r.cloid;
    let retry = ex.journal().retry(close.id, now + 1).unwrap();
    assert_ne!(retry.cloid, first);
    // A resting limit far from the market, as the retried attempt.
    let limit = OrderType::Limit { price: Price::from_int(1_000), tif: TimeInForce::Gtc };
    let buy = intent(IntentKind::Open, Side::Buy, "0.1", limit, now);
    let r = ex.execute(&buy, px, now).await.unwrap();
    assert_eq!(r.state, State::Resting, "{r:?}");
    assert_eq!(ex.journal().open().unwrap().len(), 2, "the retried close waits to be sent; the limit rests");
    v.stop().await;
}
