//! The Nansen client against the simulated venue on 127.0.0.1: complete
//! pagination, surviving 429 bursts and 5xx outages, and failing fast — with a
//! message that says what to fix — on 401, 402 and 403.

use std::sync::atomic::Ordering;
use std::time::Duration;

use connectors::nansen::client::{ApiKey, NansenClient, NansenError, NansenSettings};
use connectors::nansen::types::{DateRange, LeaderboardRequest, PerpTradesRequest, TokenPnlLeaderboardRequest};
use connectors::sim::faults::Faults;
use connectors::sim::{ClockMode, RunningVenue, SimConfig, VenueOptions};

async fn venue() -> RunningVenue {
    connectors::install_tls_provider();
    let options = VenueOptions {
        sim: SimConfig { seed: 51, wallets: 40, tokens: 4, warmup_days: 20, ..SimConfig::default() },
        clock: ClockMode::Stepped,
        nansen_keys: [("nsk_rich".to_string(), 1_000_000), ("nsk_poor".to_string(), 4)].into_iter().collect(),
        nansen_per_second: 1_000,
        nansen_per_minute: 100_000,
        ..VenueOptions::default()
    };
    connectors::sim::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

fn client(v: &RunningVenue, key: Option<&str>, page_size: u32) -> NansenClient {
    let settings = NansenSettings {
        base_url: v.http_url(),
        requests_per_second: 1_000,
        requests_per_minute: 100_000,
        perp_trades_per_minute: 100_000,
        page_size,
        base_delay: Duration::from_millis(10),
        ..NansenSettings::default()
    };
    NansenClient::new(settings, key.map(ApiKey::new)).unwrap()
}

fn leaderboard() -> LeaderboardRequest {
    LeaderboardRequest {
        date: DateRange { from: Some("2025-12-10".into()), to: Some("2025-12-31".into()) },
        ..LeaderboardRequest::default()
    }
}

async fn set_faults(v: &RunningVenue, f: Faults) {
    v.venue.set_faults(f);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_page_is_followed_and_credits_counted() {
    let v = venue().await;
    let c = client(&v, Some("nsk_rich"), 7);
    let rows = c.leaderboard(leaderboard()).await.unwrap();
    assert_eq!(rows.len(), 40);
    let mut addresses: Vec<_> = rows.iter().map(|r| r.trader_address.clone()).collect();
    addresses.sort();
    addresses.dedup();
    assert_eq!(addresses.len(), 40, "no row twice, none lost across pages");
    assert_eq!(c.stats.requests.load(Ordering::Relaxed), 6);
    assert_eq!(c.stats.credits_used.load(Ordering::Relaxed), 30);

    let (busy, expected) = {
        let w = v.venue.world();
        let i = (0..w.accounts.len()).max_by_key(|&i| w.accounts[i].fills.len()).unwrap();
        (w.accounts[i].address_hex(), w.accounts[i].fills.len())
    };
    let c = client(&v, Some("nsk_rich"), 50);
    let trades = c
        .perp_trades(PerpTradesRequest {
            address: busy,
            date: DateRange { from: Some("2025-01-01".into()), to: Some("2026-12-31".into()) },
            ..PerpTradesRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(trades.len(), expected);
    assert!(trades.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    v.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_burst_is_waited_out_and_nothing_is_lost() {
    let v = venue().await;
    let c = client(&v, Some("nsk_rich"), 10);
    set_faults(&v, Faults { rate_limit_burst: 2, ..Faults::default() }).await;
    let rows = c.leaderboard(leaderboard()).await.unwrap();
    assert_eq!(rows.len(), 40);
    assert_eq!(c.stats.rate_limited.load(Ordering::Relaxed), 2);
    assert!(c.stats.rate_limit_wait_ms.load(Ordering::Relaxed) >= 2_000, "waited at least Retry-After each time");
    v.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_are_retried_then_given_up() {
    let v = venue().await;
    let c = client(&v, Some("nsk_rich"), 1_000);
    set_faults(&v, Faults { error_burst: 2, ..Faults::default() }).await;
    assert_eq!(c.leaderboard(leaderboard()).await.unwrap().len(), 40);
    assert_eq!(c.stats.retries.load(Ordering::Relaxed), 2);
    set_faults(&v, Faults { error_burst: 10, ..Faults::default() }).await;
    match c.leaderboard(leaderboard()).await {
        Err(NansenError::GaveUp { attempts, .. }) => assert_eq!(attempts, 4, "1 try + 3 retries"),
        other => panic!("expected to give up, got {other:?}"),
    }
    v.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_and_credit_problems_fail_fast_and_say_what_to_fix() {
    let v = venue().await;
    for (key, check) in [
        (Some("nsk_wrong"), "NANSEN_API_KEY"),
        (None, "no API key was sent"),
        (Some("nsk_poor"), "insufficient_credits"),
    ] {
        let c = client(&v, key, 100);
        let err = c.leaderboard(leaderboard()).await.unwrap_err();
        let text = err.to_string();
        assert!(text.contains(check), "{text}");
        assert!(!text.contains("nsk_"), "the key leaked: {text}");
        assert_eq!(c.stats.requests.load(Ordering::Relaxed), 1, "{key:?}: not retried");
    }
    let c = client(&v, Some("nsk_rich"), 100);
    let err = c
        .token_pnl_leaderboard(TokenPnlLeaderboardRequest {
            token_symbol: "NOPE".into(),
            ..TokenPnlLeaderboardRequest::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, NansenError::Rejected { status: 422, .. }), "{err}");
    assert_eq!(c.account().await.unwrap().plan, "pro");
    v.stop().await;
}
