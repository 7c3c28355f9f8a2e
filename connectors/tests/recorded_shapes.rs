//! The venue speaks the real APIs: every recorded real response of an endpoint it
//! serves (shared/fixtures/…/recorded/) deserialises with the very types the venue
//! serialises, and the venue's responses carry every field the real ones have.
//!
//! Recordings of endpoints the venue does not serve (tgm/perp-positions,
//! position- and flow-intelligence, openOrders, portfolio, …) are out of scope
//! here; the exchange responses and orderStatus arrive with the exchange endpoint.

use std::collections::BTreeSet;
use std::path::PathBuf;

use connectors::hyperliquid::info::{
    AllMids, Candle, ClearinghouseState, Fill, FundingHistoryEntry, L2Book, LedgerUpdate, Meta, UserFundingEntry,
};
use connectors::nansen::types::{Page, ScreenerRow, SmartMoneyTrade};
use connectors::sim::market::DAY_MS;
use connectors::sim::{ClockMode, SimConfig, TEST_NANSEN_KEY, VenueOptions};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn shared() -> PathBuf {
    std::env::var_os("MIRRORFLOW_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

fn recorded(rel: &str) -> Value {
    let path = shared().join("fixtures").join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Dotted key paths of a JSON value; array elements share the path `[]`.
fn paths(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                out.insert(p.clone());
                paths(x, &p, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| paths(x, &format!("{prefix}[]"), out)),
        _ => {}
    }
}

fn all_paths<'a>(values: impl IntoIterator<Item = &'a Value>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for v in values {
        paths(v, "", &mut out);
    }
    out
}

/// The recorded body parses as `T`; returns it as JSON for the field comparison.
fn parses_as<T: DeserializeOwned>(rel: &str) -> Value {
    let v = recorded(rel);
    if let Err(e) = serde_json::from_value::<T>(v.clone()) {
        panic!("{rel} does not deserialise as {}: {e}", std::any::type_name::<T>());
    }
    v
}

fn assert_superset(what: &str, real: &BTreeSet<String>, served: &BTreeSet<String>) {
    let missing: Vec<_> = real.difference(served).collect();
    assert!(missing.is_empty(), "{what}: the venue never serves {missing:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn recorded_responses_fit_the_venues_types_and_fields() {
    connectors::install_tls_provider();
    let sim = SimConfig { seed: 18, wallets: 120, tokens: 10, warmup_days: 30, ..SimConfig::default() };
    let options =
        VenueOptions { sim, clock: ClockMode::Stepped, info_weight_per_minute: 10_000_000, ..VenueOptions::default() };
    let v = connectors::sim::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    // Wallets whose responses show every optional field: a liquidated one, a
    // builder-fee payer, and accounts holding isolated and cross positions.
    let (liquidated, builder, holders) = {
        let w = v.venue.world();
        let liquidated = w.accounts[w.liquidations[0].wallet].address_hex();
        let builder = (0..w.accounts.len())
            .find(|&i| w.personas[i].builder && !w.accounts[i].fills.is_empty())
            .map(|i| w.accounts[i].address_hex())
            .unwrap();
        let isolated = (0..w.accounts.len()).find(|&i| w.accounts[i].positions.values().any(|p| p.isolated));
        let cross = (0..w.accounts.len()).find(|&i| w.accounts[i].positions.values().any(|p| !p.isolated));
        let holders: Vec<String> = isolated.into_iter().chain(cross).map(|i| w.accounts[i].address_hex()).collect();
        (liquidated, builder, holders)
    };
    let now = v.venue.now_ms();
    let http = reqwest::Client::new();
    let info = |body: Value| {
        let http = http.clone();
        let url = format!("{}/info", v.http_url());
        async move { http.post(url).json(&body).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let served_as =
        |value: &Value, ty: &str, ok: bool| assert!(ok, "the venue's own {ty} response does not parse back: {value}");

    // meta
    let real = parses_as::<Meta>("hyperliquid/recorded/info_meta.json");
    let served = info(json!({"type": "meta"})).await;
    served_as(&served, "meta", serde_json::from_value::<Meta>(served.clone()).is_ok());
    assert_superset("meta", &all_paths([&real]), &all_paths([&served]));

    // allMids: coin → price string (the keys are coins, not fields).
    let real = parses_as::<AllMids>("hyperliquid/recorded/info_allMids.json");
    assert!(real.as_object().unwrap().values().all(Value::is_string));
    let served = info(json!({"type": "allMids"})).await;
    assert!(serde_json::from_value::<AllMids>(served.clone()).is_ok());
    assert!(served.as_object().unwrap().values().all(Value::is_string));

    // candleSnapshot
    let real = parses_as::<Vec<Candle>>("hyperliquid/recorded/info_candleSnapshot_kPEPE_1h.json");
    let served = info(json!({"type": "candleSnapshot", "req": {"coin": "BTC", "interval": "1h", "startTime": now - DAY_MS, "endTime": now}})).await;
    assert!(serde_json::from_value::<Vec<Candle>>(served.clone()).is_ok());
    assert_superset("candleSnapshot", &all_paths([&real]), &all_paths([&served]));

    // l2Book
    let real = parses_as::<L2Book>("hyperliquid/recorded/info_l2Book_DYDX.json");
    let served = info(json!({"type": "l2Book", "coin": "ETH"})).await;
    assert!(serde_json::from_value::<L2Book>(served.clone()).is_ok());
    assert_superset("l2Book", &all_paths([&real]), &all_paths([&served]));

    // fundingHistory
    let a = parses_as::<Vec<FundingHistoryEntry>>("hyperliquid/recorded/info_fundingHistory_BTC_with_endTime.json");
    let b = parses_as::<Vec<FundingHistoryEntry>>("hyperliquid/recorded/info_fundingHistory_BTC_no_endTime.json");
    let served = info(json!({"type": "fundingHistory", "coin": "BTC", "startTime": now - DAY_MS})).await;
    assert!(serde_json::from_value::<Vec<FundingHistoryEntry>>(served.clone()).is_ok());
    assert_superset("fundingHistory", &all_paths([&a, &b]), &all_paths([&served]));

    // userFills / userFillsByTime (2023 recordings and a 2025 one with liquidation + builder fee)
    let mut real = Vec::new();
    for rel in [
        "hyperliquid/recorded/info_userFills.json",
        "hyperliquid/recorded/info_userFillsByTime.json",
        "hyperliquid/recorded/ccxt_static/info_userFills_liquidation_builderFee.json",
    ] {
        real.push(parses_as::<Vec<Fill>>(rel));
    }
    let mut served = Vec::new();
    for user in [&liquidated, &builder] {
        served.push(info(json!({"type": "userFills", "user": user})).await);
        served.push(info(json!({"type": "userFillsByTime", "user": user, "startTime": 0})).await);
    }
    for s in &served {
        assert!(serde_json::from_value::<Vec<Fill>>(s.clone()).is_ok());
    }
    assert_superset("userFills", &all_paths(&real), &all_paths(&served));

    // clearinghouseState (2023 with maxTradeSzs, 2025 isolated with cumFunding/rawUsd)
    let real = [
        parses_as::<ClearinghouseState>("hyperliquid/recorded/info_clearinghouseState.json"),
        parses_as::<ClearinghouseState>("hyperliquid/recorded/ccxt_static/info_clearinghouseState_isolated_short.json"),
    ];
    let mut served = Vec::new();
    for user in &holders {
        served.push(info(json!({"type": "clearinghouseState", "user": user})).await);
    }
    for s in &served {
        assert!(serde_json::from_value::<ClearinghouseState>(s.clone()).is_ok());
    }
    assert_superset("clearinghouseState", &all_paths(&real), &all_paths(&served));

    // userFunding
    let real = [
        parses_as::<Vec<UserFundingEntry>>("hyperliquid/recorded/info_userFunding_with_endTime.json"),
        parses_as::<Vec<UserFundingEntry>>("hyperliquid/recorded/info_userFunding_no_endTime.json"),
    ];
    let served = info(json!({"type": "userFunding", "user": holders[0], "startTime": now - 5 * DAY_MS})).await;
    assert!(serde_json::from_value::<Vec<UserFundingEntry>>(served.clone()).is_ok());
    assert_superset("userFunding", &all_paths(&real), &all_paths([&served]));

    // Ledger updates: the real ones parse (the venue only produces deposits and withdrawals).
    parses_as::<Vec<LedgerUpdate>>("hyperliquid/recorded/info_userNonFundingLedgerUpdates_no_endTime.json");
    parses_as::<Vec<LedgerUpdate>>("hyperliquid/recorded/info_userNonFundingLedgerUpdates_with_endTime.json");

    // Nansen: the live partial rows of the endpoints the venue serves.
    let samples = recorded("nansen/recorded/undertaker_article_live_samples_2026-09-27.json");
    let nansen = |path: &str, body: Value| {
        let http = http.clone();
        let url = format!("{}/api/v1/{path}", v.http_url());
        async move {
            http.post(url)
                .header("apiKey", TEST_NANSEN_KEY)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let real_sm = samples["smart_money_perp_trades_rows_partial_2026-09-27"].clone();
    serde_json::from_value::<Vec<SmartMoneyTrade>>(real_sm.clone()).unwrap();
    let served = nansen("smart-money/perp-trades", json!({"pagination": {"page": 1, "per_page": 50}})).await;
    serde_json::from_value::<Page<SmartMoneyTrade>>(served.clone()).unwrap();
    assert_superset("smart-money/perp-trades", &all_paths([&real_sm]), &all_paths([&served["data"]]));
    let real_screen = samples["perp_screener_rows_partial_2026-09-27"].clone();
    serde_json::from_value::<Vec<ScreenerRow>>(real_screen.clone()).unwrap();
    let served = nansen("perp-screener", json!({"date": {"from": "2025-12-20"}})).await;
    serde_json::from_value::<Page<ScreenerRow>>(served.clone()).unwrap();
    assert_superset("perp-screener", &all_paths([&real_screen]), &all_paths([&served["data"]]));
    v.stop().await;
}
