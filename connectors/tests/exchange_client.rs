//! The exchange client against the venue on loopback: an agent key trading for
//! its master account places every order type and management action with the
//! right signer; a tampered signature, a reused nonce and a reused cloid are
//! refused; a request whose answer is lost is resolved through `orderStatus`
//! without a second order.

use std::sync::Arc;
use std::time::Duration;

use connectors::hyperliquid::actions::{Grouping, OidOrCloid, Tif, TpSl};
use connectors::hyperliquid::builders::{OrderKind, OrderRequest};
use connectors::hyperliquid::exchange_client::{
    Clock, ExchangeClient, ExchangeError, ExchangeSettings, MarketOrder, OrderOutcome, RejectReason, Resolution,
};
use connectors::hyperliquid::info_client::{InfoClient, InfoSettings, WeightBudget};
use connectors::hyperliquid::keys::{Signer, address_of};
use connectors::hyperliquid::nonces::NonceManager;
use connectors::sim::faults::Faults;
use connectors::sim::{ClockMode, RunningVenue, SimConfig, VenueOptions};
use connectors::wire::{Decimal, parse_decimal};
use serde_json::Value;

mod common;

fn key(n: u8) -> [u8; 32] {
    let mut k = [0x22u8; 32];
    k[31] = n;
    k
}

fn d(s: &str) -> Decimal {
    parse_decimal(s).unwrap()
}

async fn venue() -> RunningVenue {
    venue_with_budget(1_000_000).await
}

/// The venue with `weight` of REST weight per minute for our IP.
async fn venue_with_budget(weight: u32) -> RunningVenue {
    let sim = SimConfig {
        seed: 41,
        wallets: 20,
        tokens: 4,
        warmup_days: 3,
        external_accounts: vec![(address_of(&key(1)).unwrap(), 1_000_000)],
        ..SimConfig::default()
    };
    let options =
        VenueOptions { sim, clock: ClockMode::Stepped, info_weight_per_minute: weight, ..VenueOptions::default() };
    connectors::sim::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

async fn client(v: &RunningVenue, signer: [u8; 32], account: Option<String>, timeout: Duration) -> ExchangeClient {
    let info = Arc::new(
        InfoClient::new(
            InfoSettings { base_url: v.http_url(), ..InfoSettings::default() },
            WeightBudget::per_minute(1_000_000),
        )
        .unwrap(),
    );
    let venue = v.venue.clone();
    let clock: Clock = Arc::new(move || venue.now_ms());
    let settings =
        ExchangeSettings { base_url: v.http_url(), account, timeout, max_leverage: 10, ..ExchangeSettings::default() };
    ExchangeClient::connect(settings, Signer::from_bytes(signer).unwrap(), Arc::new(NonceManager::new(0)), clock, info)
        .await
        .unwrap()
}

async fn mid(v: &RunningVenue, coin: &str) -> Decimal {
    let body = common::info(&v.http_url(), serde_json::json!({"type": "allMids"})).await;
    d(body[coin].as_str().unwrap())
}

async fn audit(v: &RunningVenue) -> Vec<Value> {
    let a: Value = reqwest::get(format!("{}/sim/audit", v.http_url())).await.unwrap().json().await.unwrap();
    a.as_array().unwrap().clone()
}

/// A fresh cloid for orders the test does not refer to again.
fn next_cloid() -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0x100);
    format!("0x{:032x}", N.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

fn limit(coin: &str, is_buy: bool, px: Decimal, sz: &str, tif: Tif, cloid: Option<&str>) -> OrderRequest {
    OrderRequest {
        coin: coin.into(),
        is_buy,
        sz: d(sz),
        limit_px: px,
        kind: OrderKind::Limit(tif),
        reduce_only: false,
        cloid: Some(cloid.map(str::to_string).unwrap_or_else(next_cloid)),
    }
}

fn trigger(coin: &str, px: Decimal, sz: &str, is_market: bool, tpsl: TpSl) -> OrderRequest {
    OrderRequest {
        coin: coin.into(),
        is_buy: false,
        sz: d(sz),
        limit_px: px,
        kind: OrderKind::Trigger { trigger_px: px, is_market, tpsl },
        reduce_only: true,
        cloid: Some(next_cloid()),
    }
}

fn pct(x: Decimal, p: &str) -> Decimal {
    x * d(p)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_places_every_order_type_for_its_master() {
    let v = venue().await;
    let master = client(&v, key(1), None, Duration::from_secs(5)).await;
    let agent_address = format!("0x{}", hex::encode(address_of(&key(2)).unwrap()));
    master.approve_agent(&agent_address, Some("copybot")).await.unwrap();
    let agent = client(&v, key(2), Some(master.account()), Duration::from_secs(5)).await;
    assert!(!format!("{agent:?}").contains(&hex::encode(key(2))), "Debug shows no key");
    let m = &agent.market;
    let eth = mid(&v, "ETH").await;
    let r = |o: OrderRequest| m.round(o).unwrap();

    // Limits: GTC and ALO rest below the market, IOC takes.
    let out = agent
        .place(
            &[
                r(limit("ETH", true, pct(eth, "0.97"), "0.1", Tif::Gtc, Some("0x000000000000000000000000000000c1"))),
                r(limit("ETH", true, pct(eth, "0.96"), "0.1", Tif::Alo, Some("0x000000000000000000000000000000c2"))),
                r(limit("ETH", true, pct(eth, "1.02"), "1", Tif::Ioc, None)),
            ],
            Grouping::Na,
        )
        .await
        .unwrap();
    let resting = match out[0] {
        OrderOutcome::Resting { oid } => oid,
        ref other => panic!("{other:?}"),
    };
    assert!(matches!(out[1], OrderOutcome::Resting { .. }), "{out:?}");
    assert!(matches!(out[2], OrderOutcome::Filled { total_sz, .. } if total_sz == d("1")), "{out:?}");
    // A market order bounded by 1 % slippage.
    let sold = agent
        .market(&MarketOrder {
            coin: "ETH".into(),
            is_buy: false,
            sz: d("0.2"),
            mid: eth,
            slippage: d("0.01"),
            reduce_only: true,
            cloid: Some(next_cloid()),
        })
        .await
        .unwrap();
    assert!(matches!(sold, OrderOutcome::Filled { avg_px, .. } if avg_px >= pct(eth, "0.99")), "{sold:?}");
    // Triggers: a market stop-loss and a limit take-profit, reduce-only.
    let out = agent
        .place(
            &[
                r(trigger("ETH", pct(eth, "0.9"), "0.3", true, TpSl::Sl)),
                r(trigger("ETH", pct(eth, "1.1"), "0.3", false, TpSl::Tp)),
            ],
            Grouping::Na,
        )
        .await
        .unwrap();
    assert!(out.iter().all(|o| matches!(o, OrderOutcome::Resting { .. })), "{out:?}");
    // An entry with its TP/SL (normalTpsl), and TP/SL on the whole position (positionTpsl).
    let out = agent
        .place(
            &[
                r(limit("ETH", true, pct(eth, "1.02"), "0.5", Tif::Ioc, None)),
                r(trigger("ETH", pct(eth, "1.2"), "0.5", true, TpSl::Tp)),
                r(trigger("ETH", pct(eth, "0.8"), "0.5", true, TpSl::Sl)),
            ],
            Grouping::NormalTpsl,
        )
        .await
        .unwrap();
    assert!(matches!(out[0], OrderOutcome::Filled { .. }), "{out:?}");
    let out = agent
        .place(
            &[
                r(trigger("ETH", pct(eth, "1.3"), "1.3", true, TpSl::Tp)),
                r(trigger("ETH", pct(eth, "0.7"), "1.3", true, TpSl::Sl)),
            ],
            Grouping::PositionTpsl,
        )
        .await
        .unwrap();
    assert!(out.iter().all(|o| matches!(o, OrderOutcome::Resting { .. })), "{out:?}");
    // Modify, cancel by cloid and by oid.
    let moved = r(limit("ETH", true, pct(eth, "0.95"), "0.2", Tif::Gtc, Some("0x000000000000000000000000000000c3")));
    let out = agent.modify(&[(OidOrCloid::Oid(resting), moved)]).await.unwrap();
    let resting = match out[0] {
        // The modified order rests under its (new) oid.
        OrderOutcome::Resting { oid } => oid,
        ref other => panic!("{other:?}"),
    };
    let out = agent.cancel_by_cloid(&[("ETH", "0x000000000000000000000000000000c2")]).await.unwrap();
    assert_eq!(out, vec![OrderOutcome::Done]);
    let out = agent.cancel(&[("ETH", resting)]).await.unwrap();
    assert_eq!(out, vec![OrderOutcome::Done]);
    let out = agent.cancel(&[("ETH", resting)]).await.unwrap();
    assert!(matches!(out[0], OrderOutcome::Rejected { reason: RejectReason::NotFound, .. }), "{out:?}");
    // Leverage (isolated), capped locally; isolated margin; the dead-man switch.
    agent.update_leverage("BTC", 3, false).await.unwrap();
    assert!(matches!(agent.update_leverage("BTC", 50, false).await, Err(ExchangeError::LeverageCap { .. })));
    let btc = mid(&v, "BTC").await;
    agent.place(&[r(limit("BTC", true, pct(btc, "1.02"), "0.01", Tif::Ioc, None))], Grouping::Na).await.unwrap();
    agent.update_isolated_margin("BTC", d("10")).await.unwrap();
    agent.schedule_cancel(Some(v.venue.now_ms() + 60_000)).await.unwrap();
    agent.schedule_cancel(None).await.unwrap();

    // Every action was signed by the agent, and the venue took each.
    let entries = audit(&v).await;
    let kinds: Vec<&str> = entries.iter().map(|e| e["action_type"].as_str().unwrap()).collect();
    for k in [
        "approveAgent",
        "order",
        "batchModify",
        "cancelByCloid",
        "cancel",
        "updateLeverage",
        "updateIsolatedMargin",
        "scheduleCancel",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    for e in entries.iter().skip(1) {
        assert_eq!(e["signer"], agent_address, "{e}");
        let outcomes: Vec<&str> = e["outcome"].as_array().unwrap().iter().map(|o| o.as_str().unwrap()).collect();
        assert!(
            outcomes.iter().all(|o| ["ok", "resting", "filled", "waitingForTrigger", "success"].contains(o)
                || o.starts_with("Order was never placed")),
            "{e}"
        );
    }
    v.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tampering_reuse_and_lost_answers_are_handled_safely() {
    let v = venue().await;
    let c = client(&v, key(1), None, Duration::from_millis(800)).await;
    let eth = mid(&v, "ETH").await;
    let order =
        |cloid: &str| c.market.round(limit("ETH", true, pct(eth, "0.95"), "0.1", Tif::Gtc, Some(cloid))).unwrap();
    let action = connectors::hyperliquid::builders::order(
        &[order("0x000000000000000000000000000000d1")],
        Grouping::Na,
        None,
        &c.market,
    )
    .unwrap();

    // A flipped signature byte: refused (it recovers someone who is not a user).
    let mut req = c.signed(&action).unwrap();
    let mut s = hex::decode(req.signature.s.trim_start_matches("0x")).unwrap();
    s[7] ^= 0x10;
    req.signature.s = format!("0x{}", hex::encode(s));
    assert!(matches!(c.post("order", &req).await, Err(ExchangeError::Refused { .. })));
    // The same signed request twice: the nonce is spent the first time.
    let req = c.signed(&action).unwrap();
    c.post("order", &req).await.unwrap();
    match c.post("order", &req).await {
        Err(ExchangeError::Refused { text, .. }) => assert!(text.contains("nonce"), "{text}"),
        other => panic!("{other:?}"),
    }
    // An order without a cloid is never sent.
    let mut bare = order("0x000000000000000000000000000000d9");
    bare.cloid = None;
    assert!(matches!(c.place(&[bare], Grouping::Na).await, Err(ExchangeError::MissingCloid(_))));
    // A cloid used again: that order is refused, typed.
    let out = c.place(&[order("0x000000000000000000000000000000d1")], Grouping::Na).await.unwrap();
    assert!(matches!(out[0], OrderOutcome::Rejected { reason: RejectReason::DuplicateCloid, .. }), "{out:?}");

    // The answer is lost: unknown, then resolved by cloid — one order on the venue.
    v.venue.set_faults(Faults { lose_exchange_responses: 1, ..Faults::default() });
    let lost = "0x000000000000000000000000000000d2";
    let r = c.place(&[order(lost)], Grouping::Na).await;
    assert!(matches!(r, Err(ExchangeError::Unknown { .. })), "{r:?}");
    match c.resolve(lost).await.unwrap() {
        Resolution::Found { status, .. } => assert_eq!(status, "open"),
        other => panic!("{other:?}"),
    }
    assert_eq!(c.resolve("0x000000000000000000000000000000d3").await.unwrap(), Resolution::NotPlaced);
    let with_cloid =
        audit(&v).await.iter().filter(|e| e["cloids"].as_array().unwrap().iter().any(|x| x == lost)).count();
    assert_eq!(with_cloid, 1, "the lost order was sent once");
    v.stop().await;
}

/// Actions spend the per-IP REST weight budget (`1 + floor(batch / 40)`, from
/// the same budget as `/info`), and the venue counts them against the IP: a
/// caller that does not budget is refused with 429 once the minute is spent.
#[tokio::test(flavor = "multi_thread")]
async fn actions_spend_the_shared_weight_budget() {
    let v = venue_with_budget(100).await;
    // One account, one nonce sequence (the venue's clock does not move).
    let nonces = Arc::new(NonceManager::new(0));
    let budgeted = |per_minute| {
        let info = Arc::new(
            InfoClient::new(
                InfoSettings { base_url: v.http_url(), ..InfoSettings::default() },
                WeightBudget::per_minute(per_minute),
            )
            .unwrap(),
        );
        let venue = v.venue.clone();
        let clock: Clock = Arc::new(move || venue.now_ms());
        let settings = ExchangeSettings { base_url: v.http_url(), ..ExchangeSettings::default() };
        let budget = info.budget().clone();
        let signer = Signer::from_bytes(key(1)).unwrap();
        (ExchangeClient::connect(settings, signer, nonces.clone(), clock, info), budget)
    };
    let (client, budget) = budgeted(100);
    let client = client.await.unwrap();
    let meta = budget.spent.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(meta, 20, "meta costs 20");
    // 45 orders in one batch weigh 1 + 45 / 40 = 2.
    let eth = mid(&v, "ETH").await;
    let far = client.market.round(limit("ETH", true, pct(eth, "0.5"), "0.01", Tif::Alo, None)).unwrap();
    let batch: Vec<OrderRequest> = (0..45).map(|_| OrderRequest { cloid: Some(next_cloid()), ..far.clone() }).collect();
    let placed = client.place(&batch, Grouping::Na).await.unwrap();
    assert_eq!(placed.len(), 45);
    assert_eq!(budget.spent.load(std::sync::atomic::Ordering::Relaxed), meta + 2);

    // Another caller on the same IP with no budget of its own: 20 (meta) +
    // 2 (allMids) + 2 (the batch) + 20 = 44 spent; its cancels of 1 each run
    // the minute's 100 out and the venue refuses it with 429.
    let (reckless, _) = budgeted(1_000_000);
    let reckless = reckless.await.unwrap();
    let mut refused = None;
    for n in 0..100u64 {
        match reckless.cancel(&[("ETH", 1 + n)]).await {
            Ok(_) => {}
            Err(ExchangeError::Http { status, .. }) => {
                refused = Some((n, status));
                break;
            }
            Err(e) => panic!("{e}"),
        }
    }
    let (n, status) = refused.expect("the venue never refused an over-budget caller");
    assert_eq!(status, 429);
    assert_eq!(n, 100 - 44, "every action weighed 1 against the same minute as /info");
}
