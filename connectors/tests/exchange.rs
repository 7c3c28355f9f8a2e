//! The venue's `/exchange` over real HTTP: every order type behaves as on
//! Hyperliquid, and bad requests are refused with the real error text. The test
//! signs with a minimal client of its own (the full exchange client comes later).

use connectors::hyperliquid::actions::{
    Action, CancelByCloidWire, CancelWire, Grouping, ModifyWire, OidOrCloid, OrderTypeWire, OrderWire, SignatureWire,
    Tif, TpSl, TriggerWire,
};
use connectors::hyperliquid::keys::address_of;
use connectors::hyperliquid::signing::{sign_digest, user_signed_digest};
use connectors::sim::exchange::{ERR_CANCEL_MISSING, ERR_DUPLICATE_CLOID, ERR_MIN_NOTIONAL, ERR_REDUCE_ONLY, ERR_TICK};
use connectors::sim::market::{HOUR_MS, MINUTE_MS};
use connectors::sim::tokens::{CATALOG, Round};
use connectors::sim::{ClockMode, RunningVenue, SimConfig, VenueOptions};
use serde_json::{Value, json};

mod common;
use common::{Trader, key};

const ETH: u32 = 1;

fn px(price: f64, mode: Round) -> String {
    CATALOG[ETH as usize].round_price(price, mode).to_string()
}

fn limit(buy: bool, p: String, s: &str, tif: Tif, reduce_only: bool, cloid: Option<&str>) -> OrderWire {
    OrderWire {
        a: ETH,
        b: buy,
        p,
        s: s.into(),
        r: reduce_only,
        t: OrderTypeWire::Limit { tif },
        c: cloid.map(str::to_string),
    }
}

fn order(orders: Vec<OrderWire>) -> Action {
    Action::Order { orders, grouping: Grouping::Na, builder: None }
}

fn status(resp: &Value, i: usize) -> &Value {
    &resp["response"]["data"]["statuses"][i]
}

async fn venue() -> RunningVenue {
    let sim = SimConfig {
        seed: 31,
        wallets: 20,
        tokens: 4,
        warmup_days: 3,
        external_accounts: vec![(address_of(&key(1)).unwrap(), 100_000)],
        ..SimConfig::default()
    };
    let options =
        VenueOptions { sim, clock: ClockMode::Stepped, info_weight_per_minute: 1_000_000, ..VenueOptions::default() };
    connectors::sim::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn limit_orders_rest_fill_and_cancel_like_hyperliquid() {
    let v = venue().await;
    let mut t = Trader::new(&v, key(1));
    let mid = t.mid("ETH").await;
    let cloid = "0x0000000000000000000000000000abcd";

    // GTC far below: rests; visible in open orders and orderStatus (by oid and cloid).
    let r = t.send(order(vec![limit(true, px(mid * 0.9, Round::Down), "0.1", Tif::Gtc, false, Some(cloid))])).await;
    let oid = status(&r, 0)["resting"]["oid"].as_u64().unwrap_or_else(|| panic!("{r}"));
    let open = t.info(json!({"type": "openOrders", "user": t.address})).await;
    assert_eq!(open[0]["oid"], oid);
    let fe = t.info(json!({"type": "frontendOpenOrders", "user": t.address})).await;
    assert_eq!((fe[0]["orderType"].as_str(), fe[0]["tif"].as_str()), (Some("Limit"), Some("Gtc")));
    for by in [json!(oid), json!(cloid)] {
        let s = t.info(json!({"type": "orderStatus", "user": t.address, "oid": by})).await;
        assert_eq!(s["order"]["status"], "open", "{s}");
    }
    // Batch-modify it by cloid to a new price: still open, new price.
    let mut moved = limit(true, px(mid * 0.8, Round::Down), "0.1", Tif::Gtc, false, None);
    moved.c = None;
    let r = t
        .send(Action::BatchModify { modifies: vec![ModifyWire { oid: OidOrCloid::Cloid(cloid.into()), order: moved }] })
        .await;
    assert!(status(&r, 0).get("resting").is_some(), "{r}");
    let s = t.info(json!({"type": "orderStatus", "user": t.address, "oid": cloid})).await;
    assert_eq!(s["order"]["order"]["limitPx"], px(mid * 0.8, Round::Down), "{s}");
    // Cancel by cloid; a second cancel finds nothing.
    let r =
        t.send(Action::CancelByCloid { cancels: vec![CancelByCloidWire { asset: ETH, cloid: cloid.into() }] }).await;
    assert_eq!(status(&r, 0), "success");
    let r = t.send(Action::Cancel { cancels: vec![CancelWire { a: ETH, o: oid }] }).await;
    assert_eq!(status(&r, 0)["error"], ERR_CANCEL_MISSING);

    // IOC through the book: filled at once with the fill's size and price.
    let r = t
        .send(order(vec![limit(
            true,
            px(mid * 1.02, Round::Up),
            "0.5",
            Tif::Ioc,
            false,
            Some("0x00000000000000000000000000000002"),
        )]))
        .await;
    let filled = &status(&r, 0)["filled"];
    assert_eq!(filled["totalSz"], "0.5", "{r}");
    let avg: f64 = filled["avgPx"].as_str().unwrap().parse().unwrap();
    assert!(avg > mid && avg < mid * 1.02, "{avg} vs mid {mid}");
    assert!((t.position("ETH").await - 0.5).abs() < 1e-9);
    let fills = t.info(json!({"type": "userFills", "user": t.address})).await;
    assert_eq!(fills[0]["cloid"], "0x00000000000000000000000000000002");
    assert_eq!(fills[0]["crossed"], true);

    // IOC that cannot match, ALO that would match: refused with the real texts.
    let r = t.send(order(vec![limit(true, px(mid * 0.9, Round::Down), "0.1", Tif::Ioc, false, None)])).await;
    assert!(
        status(&r, 0)["error"]
            .as_str()
            .unwrap()
            .starts_with("Order could not immediately match against any resting orders.")
    );
    let r = t.send(order(vec![limit(true, px(mid * 1.02, Round::Up), "0.1", Tif::Alo, false, None)])).await;
    assert!(
        status(&r, 0)["error"]
            .as_str()
            .unwrap()
            .starts_with("Post only order would have immediately matched, bbo was ")
    );
    let r = t.send(order(vec![limit(true, px(mid * 0.97, Round::Down), "0.1", Tif::Alo, false, None)])).await;
    assert!(status(&r, 0).get("resting").is_some(), "{r}");

    // A resting GTC sell just above the market fills as maker once the market trades through it.
    let r = t.send(order(vec![limit(false, px(mid * 1.0005, Round::Up), "0.2", Tif::Gtc, true, None)])).await;
    let sell = status(&r, 0)["resting"]["oid"].as_u64().unwrap_or_else(|| panic!("{r}"));
    let mut state = Value::Null;
    for _ in 0..72 {
        t.advance(HOUR_MS).await;
        state = t.info(json!({"type": "orderStatus", "user": t.address, "oid": sell})).await;
        if state["order"]["status"] != "open" {
            break;
        }
    }
    assert_eq!(state["order"]["status"], "filled", "{state}");
    let fills = t.info(json!({"type": "userFills", "user": t.address})).await;
    assert_eq!(fills[0]["crossed"], false, "a resting fill is a maker fill");
    v.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn triggers_fire_when_the_mark_crosses_and_reduce_only_never_increases() {
    let v = venue().await;
    let mut t = Trader::new(&v, key(1));
    let mid = t.mid("ETH").await;
    // Reduce-only with no position would increase it.
    let r = t.send(order(vec![limit(false, px(mid * 0.98, Round::Down), "0.1", Tif::Ioc, true, None)])).await;
    assert_eq!(status(&r, 0)["error"], ERR_REDUCE_ONLY);
    // Open long with a stop-loss and a take-profit as a normalTpsl group.
    let sl = TriggerWire { is_market: true, trigger_px: px(mid * 0.998, Round::Down), tpsl: TpSl::Sl };
    let tp = TriggerWire { is_market: true, trigger_px: px(mid * 1.002, Round::Up), tpsl: TpSl::Tp };
    let r = t
        .send(Action::Order {
            orders: vec![
                limit(true, px(mid * 1.02, Round::Up), "1", Tif::Ioc, false, None),
                OrderWire {
                    a: ETH,
                    b: false,
                    p: px(mid * 0.99, Round::Down),
                    s: "1".into(),
                    r: true,
                    t: OrderTypeWire::Trigger(sl),
                    c: None,
                },
                OrderWire {
                    a: ETH,
                    b: false,
                    p: px(mid * 0.99, Round::Down),
                    s: "1".into(),
                    r: true,
                    t: OrderTypeWire::Trigger(tp),
                    c: None,
                },
            ],
            grouping: Grouping::NormalTpsl,
            builder: None,
        })
        .await;
    assert!(status(&r, 0).get("filled").is_some(), "{r}");
    assert_eq!(status(&r, 1), "waitingForTrigger");
    assert_eq!(status(&r, 2), "waitingForTrigger");
    let fe = t.info(json!({"type": "frontendOpenOrders", "user": t.address})).await;
    let kinds: Vec<&str> = fe.as_array().unwrap().iter().map(|o| o["orderType"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"Stop Market") && kinds.contains(&"Take Profit Market"), "{kinds:?}");
    // Within a few hours one of the ±0.2 % triggers fires and closes the position;
    // the other is then refused as reduce-only with nothing to reduce.
    let mut pos = 1.0;
    for _ in 0..(48 * 60) {
        t.advance(MINUTE_MS).await;
        pos = t.position("ETH").await;
        if pos == 0.0 {
            break;
        }
    }
    assert_eq!(pos, 0.0, "no trigger fired in 48 hours");
    t.advance(5 * MINUTE_MS).await;
    let fe = t.info(json!({"type": "frontendOpenOrders", "user": t.address})).await;
    let still: Vec<&Value> = fe.as_array().unwrap().iter().collect();
    assert!(still.len() <= 1, "{fe}");
    // Every fill of the account reduced or opened exactly as ordered: never a short.
    let fills = t.info(json!({"type": "userFills", "user": t.address})).await;
    for f in fills.as_array().unwrap() {
        assert!(f["dir"] != "Open Short" && f["dir"] != "Long > Short", "{f}");
    }
    v.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_are_refused_with_the_real_texts() {
    let v = venue().await;
    let mut t = Trader::new(&v, key(1));
    let mid = t.mid("ETH").await;
    // Sub-$10 and off-tick orders.
    let r = t.send(order(vec![limit(true, px(mid * 0.9, Round::Down), "0.001", Tif::Gtc, false, None)])).await;
    assert_eq!(status(&r, 0)["error"], ERR_MIN_NOTIONAL);
    let off_tick = format!("{:.3}", mid * 0.9);
    let r = t.send(order(vec![limit(true, off_tick, "0.1", Tif::Gtc, false, None)])).await;
    assert_eq!(status(&r, 0)["error"], ERR_TICK, "{r}");
    // A reused cloid.
    let c = "0x000000000000000000000000000000ff";
    let r = t.send(order(vec![limit(true, px(mid * 0.9, Round::Down), "0.1", Tif::Gtc, false, Some(c))])).await;
    assert!(status(&r, 0).get("resting").is_some());
    let r = t.send(order(vec![limit(true, px(mid * 0.9, Round::Down), "0.1", Tif::Gtc, false, Some(c))])).await;
    assert_eq!(status(&r, 0)["error"], ERR_DUPLICATE_CLOID);
    // A reused nonce.
    let action = order(vec![limit(true, px(mid * 0.9, Round::Down), "0.1", Tif::Gtc, false, None)]);
    let nonce = t.next_nonce();
    let body = t.body(&action, nonce);
    assert_eq!(t.post(&body).await["status"], "ok");
    let again = t.post(&body).await;
    let duplicate = format!("Invalid nonce: duplicate nonce {nonce}");
    assert_eq!(again, json!({"status": "err", "response": duplicate}));
    // A tampered signature recovers another address, which does not exist.
    let nonce = t.next_nonce();
    let mut body = t.body(&action, nonce);
    let s = body["signature"]["s"].as_str().unwrap().to_string();
    let flipped = format!("{}{}", &s[..10], if &s[10..11] == "0" { "1" } else { "0" }) + &s[11..];
    body["signature"]["s"] = json!(flipped);
    let r = t.post(&body).await;
    assert!(r["response"].as_str().unwrap().ends_with("does not exist."), "{r}");
    assert!(!r["response"].as_str().unwrap().contains(&t.address));
    // An unknown signer, until the account approves it as its agent.
    let mut agent = Trader::new(&v, key(9));
    agent.nonce = t.nonce + 1_000;
    let r = agent.send(action.clone()).await;
    assert_eq!(r["response"], format!("User or API Wallet {} does not exist.", agent.address));
    let approve_nonce = t.next_nonce();
    let approve = json!({"type": "approveAgent", "signatureChainId": "0x66eee", "hyperliquidChain": "Mainnet",
                         "agentAddress": agent.address, "agentName": "mirrorflow", "nonce": approve_nonce});
    let sig: SignatureWire = sign_digest(&t.key, &user_signed_digest(&approve).unwrap()).unwrap();
    let r = t.post(&json!({"action": approve, "nonce": approve_nonce, "signature": sig, "vaultAddress": null})).await;
    assert_eq!(r, json!({"status": "ok", "response": {"type": "default"}}));
    let r = agent.send(action.clone()).await;
    assert!(status(&r, 0).get("resting").is_some(), "{r}");
    let open = agent.info(json!({"type": "openOrders", "user": t.address})).await;
    assert!(open.as_array().unwrap().len() >= 3, "the agent's order belongs to the account");

    // The audit has one entry per request, with signer, nonce, cloids and outcome.
    let audit: Value = t.http.get(format!("{}/sim/audit", t.base)).send().await.unwrap().json().await.unwrap();
    let audit = audit.as_array().unwrap();
    assert_eq!(audit.len(), 10);
    assert_eq!(audit[0]["outcome"][0], ERR_MIN_NOTIONAL);
    assert_eq!(audit[2]["cloids"][0], c);
    assert_eq!(audit[3]["outcome"][0], ERR_DUPLICATE_CLOID);
    assert_eq!(audit[5]["outcome"][0], duplicate);
    assert!(audit[6]["outcome"][0].as_str().unwrap().ends_with("does not exist."));
    assert_eq!(audit[8]["action_type"], "approveAgent");
    assert_eq!(audit[9]["signer"], agent.address);
    assert!(audit.windows(2).all(|w| w[0]["seq"].as_u64() < w[1]["seq"].as_u64()));
    v.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn leverage_margin_and_the_dead_man_switch() {
    let v = venue().await;
    let mut t = Trader::new(&v, key(1));
    let mid = t.mid("ETH").await;
    let r = t.send(Action::UpdateLeverage { asset: ETH, is_cross: false, leverage: 3 }).await;
    assert_eq!(r["status"], "ok", "{r}");
    let r = t.send(Action::UpdateLeverage { asset: ETH, is_cross: false, leverage: 80 }).await;
    assert_eq!(r["status"], "err");
    t.send(order(vec![limit(true, px(mid * 1.02, Round::Up), "2", Tif::Ioc, false, None)])).await;
    let s = t.info(json!({"type": "clearinghouseState", "user": t.address})).await;
    let p = &s["assetPositions"][0]["position"];
    assert_eq!((p["leverage"]["type"].as_str(), p["leverage"]["value"].as_u64()), (Some("isolated"), Some(3)));
    let liq_before: f64 = p["liquidationPx"].as_str().unwrap().parse().unwrap();
    let r = t.send(Action::UpdateIsolatedMargin { asset: ETH, is_buy: true, ntli: 500_000_000 }).await;
    assert_eq!(r["status"], "ok", "{r}");
    let s = t.info(json!({"type": "clearinghouseState", "user": t.address})).await;
    let liq_after: f64 = s["assetPositions"][0]["position"]["liquidationPx"].as_str().unwrap().parse().unwrap();
    assert!(liq_after < liq_before, "adding margin lowers a long's liquidation price: {liq_before} → {liq_after}");

    // Dead-man switch: resting orders are cancelled at the scheduled time.
    let r = t.send(order(vec![limit(true, px(mid * 0.8, Round::Down), "0.1", Tif::Gtc, false, None)])).await;
    let oid = status(&r, 0)["resting"]["oid"].as_u64().unwrap();
    let now = v.venue.now_ms();
    let r = t.send(Action::ScheduleCancel { time: Some(now + 1_000) }).await;
    assert_eq!(r["status"], "err", "less than 5 s ahead is refused");
    t.send(Action::ScheduleCancel { time: Some(now + 30_000) }).await;
    t.advance(2 * MINUTE_MS).await;
    let s = t.info(json!({"type": "orderStatus", "user": t.address, "oid": oid})).await;
    assert_eq!(s["order"]["status"], "scheduledCancel");
    v.stop().await;
}

/// The official SDK's own signed request, posted unchanged, is accepted; with one
/// byte of its signature flipped it is refused.
#[tokio::test(flavor = "multi_thread")]
async fn a_vector_with_a_flipped_signature_byte_is_refused() {
    let path = std::env::var_os("HL_SIGNING_VECTORS").map(std::path::PathBuf::from).unwrap_or_else(|| {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/fixtures/hyperliquid/signing_vectors.jsonl")
    });
    let text = std::fs::read_to_string(path).unwrap();
    let vector: Value = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["id"] == "shared-001-order-limit-gtc-buy-mainnet")
        .unwrap();
    let signer = connectors::hyperliquid::signing::address_bytes(vector["signer_address"].as_str().unwrap()).unwrap();
    let nonce = vector["nonce"].as_u64().unwrap();
    // A venue whose clock sits at the vector's time and that holds its signer's account.
    let sim = SimConfig {
        seed: 32,
        wallets: 20,
        tokens: 4,
        warmup_days: 1,
        t0_ms: nonce - 60_000,
        external_accounts: vec![(signer, 100_000)],
    };
    let options = VenueOptions { sim, clock: ClockMode::Stepped, ..VenueOptions::default() };
    let v = connectors::sim::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    connectors::install_tls_provider();
    let http = reqwest::Client::new();
    let post = |body: Value| {
        let http = http.clone();
        let url = format!("{}/exchange", v.http_url());
        async move { http.post(url).json(&body).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let mut tampered = vector["request_body"].clone();
    let s = tampered["signature"]["s"].as_str().unwrap().to_string();
    let mut bytes = hex::decode(format!("{:0>64}", &s[2..])).unwrap();
    bytes[7] ^= 0x80;
    tampered["signature"]["s"] = json!(format!("0x{}", hex::encode(bytes)));
    let r = post(tampered).await;
    assert_eq!(r["status"], "err", "{r}");
    assert!(r["response"].as_str().unwrap().ends_with("does not exist."), "{r}");
    let r = post(vector["request_body"].clone()).await;
    assert_eq!(r["status"], "ok", "the untouched vector is accepted: {r}");
    let audit: Value = http.get(format!("{}/sim/audit", v.http_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(audit[1]["signer"], vector["signer_address"].as_str().unwrap().to_lowercase());
    assert_ne!(audit[0]["signer"], audit[1]["signer"]);
    v.stop().await;
}
