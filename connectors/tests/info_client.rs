//! The Hyperliquid /info client against the simulated venue on 127.0.0.1: every
//! endpoint round-trips, multi-page results are complete, 5xx are retried, and
//! the shared weight budget is spent as the venue counts it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use connectors::hyperliquid::info_client::{InfoClient, InfoSettings, WeightBudget};
use connectors::sim::faults::Faults;
use connectors::sim::market::{DAY_MS, HOUR_MS};
use connectors::sim::{ClockMode, RunningVenue, SimConfig, VenueOptions};

async fn venue() -> RunningVenue {
    let options = VenueOptions {
        sim: SimConfig { seed: 61, wallets: 100, tokens: 4, warmup_days: 20, ..SimConfig::default() },
        clock: ClockMode::Stepped,
        info_weight_per_minute: 1_000_000,
        ..VenueOptions::default()
    };
    connectors::sim::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

fn client(v: &RunningVenue, budget: Arc<WeightBudget>) -> InfoClient {
    let settings =
        InfoSettings { base_url: v.http_url(), base_delay: Duration::from_millis(10), ..InfoSettings::default() };
    InfoClient::new(settings, budget).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_endpoint_round_trips_and_long_histories_are_complete() {
    let v = venue().await;
    let c = client(&v, WeightBudget::per_minute(1_000_000));
    assert_eq!(c.meta().await.unwrap().universe.len(), 4);
    assert_eq!(c.meta_and_asset_ctxs().await.unwrap().1.len(), 4);
    assert!(c.all_mids().await.unwrap().contains_key("BTC"));
    let now = v.venue.now_ms();
    // The busiest account (a market maker) has far more than one page of fills.
    let (user, expected) = {
        let w = v.venue.world();
        let i = (0..w.accounts.len()).max_by_key(|&i| w.accounts[i].fills.len()).unwrap();
        let from = now - 20 * DAY_MS;
        let n = w.accounts[i].fills.iter().filter(|f| f.time >= from).count();
        (w.accounts[i].address_hex(), n)
    };
    assert!(expected > 2_000, "{expected} fills: not a multi-page history");
    let fills = c.user_fills_between(&user, now - 20 * DAY_MS, now).await.unwrap();
    assert_eq!(fills.len(), expected);
    assert!(fills.windows(2).all(|w| (w[0].time, w[0].tid) < (w[1].time, w[1].tid)));
    assert_eq!(c.user_fills(&user).await.unwrap().len(), 2_000);
    let state = c.clearinghouse_state(&user).await.unwrap();
    assert!(state.margin_summary.account_value > connectors::wire::Decimal::ZERO);
    let funding = c.funding_history("ETH", now - 30 * DAY_MS, now).await.unwrap();
    assert_eq!(funding.len(), 20 * 24, "every hour of the 20-day history, across two pages");
    assert!(funding.windows(2).all(|w| w[1].time == w[0].time + HOUR_MS));
    let paid = c.user_funding(&user, now - 20 * DAY_MS, now).await.unwrap();
    assert_eq!(paid.len(), {
        v.venue.world().accounts.iter().find(|a| a.address_hex() == user).unwrap().funding.len()
    });
    let candles = c.candles("SOL", "1h", now - DAY_MS, now).await.unwrap();
    assert!(candles.len() >= 24);
    let status = c.order_status(&user, serde_json::json!(1)).await.unwrap();
    assert_eq!(status["status"], "unknownOid");
    v.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn outages_are_retried_and_the_budget_is_shared() {
    let v = venue().await;
    let budget = WeightBudget::per_minute(1_000_000);
    let a = client(&v, budget.clone());
    let b = client(&v, budget.clone());
    v.venue.set_faults(Faults { error_burst: 2, ..Faults::default() });
    assert!(a.all_mids().await.is_ok());
    assert_eq!(a.retries.load(Ordering::Relaxed), 2);
    b.meta().await.unwrap();
    // allMids weighs 2 per attempt (3 attempts), meta 20: both clients spent from one budget.
    assert_eq!(budget.spent.load(Ordering::Relaxed), 3 * 2 + 20);
    v.venue.set_faults(Faults { error_burst: 10, ..Faults::default() });
    assert!(a.all_mids().await.is_err());
    v.venue.set_faults(Faults::default());
    // A small budget refuses what it cannot afford right now.
    let small = WeightBudget::per_minute(60);
    assert!(small.try_spend(20) && small.try_spend(20) && small.try_spend(20));
    assert!(!small.try_spend(20), "a fourth meta would exceed 60 per minute");
    v.stop().await;
}
