//! The simulated venue over real HTTP on 127.0.0.1: every read endpoint, the
//! ledger identities as seen through the served data, auth, credits and rate
//! limits, and virtual time.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use connectors::hyperliquid::info::{
    AllMids, Candle, ClearinghouseState, Fill, FundingHistoryEntry, L2Book, LedgerUpdate, Meta, UserFundingEntry,
};
use connectors::nansen::types::{
    LeaderboardRow, Page, PerpPositionsResponse, PerpTrade, ScreenerRow, SmartMoneyTrade, TokenPnlRow,
};
use connectors::sim::market::{DAY_MS, HOUR_MS};
use connectors::sim::{ClockMode, RunningVenue, SimConfig, TEST_NANSEN_KEY, VenueOptions, World};
use connectors::wire::Decimal;
use serde_json::{Value, json};

fn small_world(seed: u64) -> SimConfig {
    SimConfig { seed, wallets: 40, tokens: 6, warmup_days: 30, ..SimConfig::default() }
}

async fn venue(sim: SimConfig) -> RunningVenue {
    let options = VenueOptions {
        sim,
        clock: ClockMode::Stepped,
        info_weight_per_minute: 10_000_000,
        nansen_per_second: 10_000,
        nansen_per_minute: 1_000_000,
        ..VenueOptions::default()
    };
    connectors::sim::start(options, "127.0.0.1:0".parse::<SocketAddr>().unwrap()).await.unwrap()
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    fn new(v: &RunningVenue) -> Client {
        connectors::install_tls_provider();
        Client { http: reqwest::Client::new(), base: v.http_url() }
    }

    async fn info<T: serde::de::DeserializeOwned>(&self, body: Value) -> T {
        let r = self.http.post(format!("{}/info", self.base)).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 200, "{body}");
        r.json().await.unwrap()
    }

    async fn nansen(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1/{path}", self.base))
            .header("apiKey", TEST_NANSEN_KEY)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn advance(&self, to_ms: u64) {
        let r =
            self.http.post(format!("{}/sim/advance", self.base)).json(&json!({"to_ms": to_ms})).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }

    async fn now(&self) -> u64 {
        let v: Value = self.http.get(format!("{}/sim/time", self.base)).send().await.unwrap().json().await.unwrap();
        v["time_ms"].as_u64().unwrap()
    }

    async fn addresses(&self) -> Vec<String> {
        let v: Vec<Value> =
            self.http.get(format!("{}/sim/personas", self.base)).send().await.unwrap().json().await.unwrap();
        v.iter().map(|p| p["address"].as_str().unwrap().to_string()).collect()
    }

    /// Every fill of `user` in `[start, end]`, following the 2000-row pages.
    async fn fills_between(&self, user: &str, start: u64, end: u64) -> Vec<Fill> {
        let mut out: Vec<Fill> = Vec::new();
        let mut from = start;
        loop {
            let page: Vec<Fill> =
                self.info(json!({"type": "userFillsByTime", "user": user, "startTime": from, "endTime": end})).await;
            let full = page.len() == 2000;
            let last_time = page.last().map(|f| f.time);
            for f in page {
                if !out.iter().any(|o| o.tid == f.tid && o.oid == f.oid) {
                    out.push(f);
                }
            }
            match last_time {
                Some(t) if full => from = t,
                _ => return out,
            }
        }
    }

    async fn funding_between(&self, user: &str, start: u64, end: u64) -> Vec<UserFundingEntry> {
        let mut out = Vec::new();
        let mut from = start;
        loop {
            let page: Vec<UserFundingEntry> =
                self.info(json!({"type": "userFunding", "user": user, "startTime": from, "endTime": end})).await;
            let n = page.len();
            let last = page.last().map(|e| e.time);
            for e in page {
                if !out.contains(&e) {
                    out.push(e);
                }
            }
            match last {
                Some(t) if n == 500 => from = t,
                _ => return out,
            }
        }
    }
}

fn upnl(state: &ClearinghouseState) -> Decimal {
    state.asset_positions.iter().map(|p| p.position.unrealized_pnl).sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn read_endpoints_serve_the_real_shapes() {
    let v = venue(small_world(11)).await;
    let c = Client::new(&v);
    let meta: Meta = c.info(json!({"type": "meta"})).await;
    assert_eq!(meta.universe.len(), 6);
    assert_eq!(meta.universe[0].name, "BTC");
    let mids: AllMids = c.info(json!({"type": "allMids"})).await;
    assert!(mids.contains_key("ETH"));
    let ctxs: Value = c.info(json!({"type": "metaAndAssetCtxs"})).await;
    assert_eq!(ctxs[1].as_array().unwrap().len(), 6);
    let now = c.now().await;
    let candles: Vec<Candle> = c
        .info(json!({"type": "candleSnapshot", "req": {"coin": "ETH", "interval": "1h", "startTime": now - DAY_MS, "endTime": now}}))
        .await;
    assert!(candles.len() >= 24 && candles.iter().all(|k| k.l <= k.o && k.o <= k.h && k.l <= k.c && k.c <= k.h));
    let book: L2Book = c.info(json!({"type": "l2Book", "coin": "SOL"})).await;
    assert!(book.levels[0][0].px < book.levels[1][0].px);
    let funding: Vec<FundingHistoryEntry> =
        c.info(json!({"type": "fundingHistory", "coin": "BTC", "startTime": now - DAY_MS + 1})).await;
    assert_eq!(funding.len(), 24);
    // Unknown addresses are empty accounts, unknown types are 422.
    let empty: ClearinghouseState =
        c.info(json!({"type": "clearinghouseState", "user": "0x0000000000000000000000000000000000000001"})).await;
    assert!(empty.asset_positions.is_empty());
    let r = c.http.post(format!("{}/info", c.base)).json(&json!({"type": "nope"})).send().await.unwrap();
    assert_eq!(r.status(), 422);
    // Every response is stamped with virtual time.
    let r = c.http.post(format!("{}/info", c.base)).json(&json!({"type": "allMids"})).send().await.unwrap();
    assert_eq!(r.headers()["x-sim-time"].to_str().unwrap(), now.to_string());
    v.stop().await;
}

/// Over a 30-day world: Δ account value = Σ closedPnl − Σ fees + Σ funding +
/// Δ unrealised PnL + net transfers, for every wallet, from the served data
/// alone — and positions rebuilt from the served fills equal the served positions.
#[tokio::test(flavor = "multi_thread")]
async fn the_served_ledger_balances_for_every_wallet() {
    // No warm-up: the venue starts at t0 and the test steps it through 30 days.
    let cfg = SimConfig { warmup_days: 0, ..small_world(12) };
    let t0 = cfg.t0_ms;
    let v = venue(cfg.clone()).await;
    let c = Client::new(&v);
    let users = c.addresses().await;
    let t1 = t0 + 12_345; // not a minute boundary: events at t1 are inside the first state
    c.advance(t1).await;
    let mut before = BTreeMap::new();
    for u in &users {
        before.insert(u.clone(), c.info::<ClearinghouseState>(json!({"type": "clearinghouseState", "user": u})).await);
    }
    let t2 = t1 + 30 * DAY_MS + 7 * HOUR_MS;
    c.advance(t2).await;
    let mut checked_fills = 0;
    for u in &users {
        let after: ClearinghouseState = c.info(json!({"type": "clearinghouseState", "user": u})).await;
        let fills = c.fills_between(u, t1 + 1, t2).await;
        let funding = c.funding_between(u, t1 + 1, t2).await;
        let transfers: Vec<LedgerUpdate> =
            c.info(json!({"type": "userNonFundingLedgerUpdates", "user": u, "startTime": t1 + 1, "endTime": t2})).await;
        let closed: Decimal = fills.iter().map(|f| f.closed_pnl).sum();
        let fees: Decimal = fills.iter().map(|f| f.fee).sum();
        let funded: Decimal = funding.iter().map(|f| f.delta.usdc).sum();
        let net: Decimal = transfers
            .iter()
            .map(|t| {
                let x = t.delta.usdc.unwrap_or_default();
                if t.delta.kind == "deposit" { x } else { -x }
            })
            .sum();
        let b = &before[u];
        let lhs = after.margin_summary.account_value - b.margin_summary.account_value;
        let rhs = closed - fees + funded + (upnl(&after) - upnl(b)) + net;
        assert_eq!(lhs, rhs, "{u}: ΔAV {lhs} vs ledger {rhs}");
        checked_fills += fills.len();

        // Positions rebuilt from every fill since the start.
        let all = c.fills_between(u, 0, t2).await;
        let mut pos: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
        for f in &all {
            let e = pos.entry(f.coin.clone()).or_insert((Decimal::ZERO, Decimal::ZERO));
            assert_eq!(e.0, f.start_position, "{u} {} startPosition", f.coin);
            let delta = if f.side == "B" { f.sz } else { -f.sz };
            let end = e.0 + delta;
            e.1 = if e.0.is_zero() || (end.is_sign_positive() != e.0.is_sign_positive() && !end.is_zero()) {
                f.px
            } else if e.0.is_sign_positive() == (f.side == "B") {
                ((e.1 * e.0.abs() + f.px * f.sz) / end.abs()).round_dp(8)
            } else {
                e.1
            };
            e.0 = end;
        }
        pos.retain(|_, p| !p.0.is_zero());
        let served: BTreeMap<String, (Decimal, Decimal)> = after
            .asset_positions
            .iter()
            .map(|ap| (ap.position.coin.clone(), (ap.position.szi, ap.position.entry_px)))
            .collect();
        assert_eq!(pos, served, "{u}: positions rebuilt from fills differ from clearinghouseState");
    }
    assert!(checked_fills > 1_000, "only {checked_fills} fills in the window");
    v.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn leaderboards_match_the_ledger() {
    let cfg = small_world(13);
    let d1 = cfg.t0_ms - cfg.t0_ms % DAY_MS + DAY_MS;
    let v = venue(cfg).await;
    let c = Client::new(&v);
    c.advance(d1).await;
    let users = c.addresses().await;
    let mut at_d1 = BTreeMap::new();
    for u in &users {
        let s: ClearinghouseState = c.info(json!({"type": "clearinghouseState", "user": u})).await;
        at_d1.insert(u.clone(), s.margin_summary.account_value);
    }
    let now = d1 + 2 * DAY_MS + 5 * HOUR_MS;
    c.advance(now).await;
    let day = |ms: u64| chrono::DateTime::from_timestamp_millis(ms as i64).unwrap().format("%Y-%m-%d").to_string();
    let r = c
        .nansen(
            "perp-leaderboard",
            json!({"date": {"from": day(d1), "to": day(now)}, "pagination": {"page": 1, "per_page": 1000},
                   "order_by": [{"field": "total_pnl", "direction": "DESC"}]}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let page: Page<LeaderboardRow> = r.json().await.unwrap();
    assert_eq!(page.data.len(), users.len());
    assert!(page.data.windows(2).all(|w| w[0].total_pnl >= w[1].total_pnl));
    for row in &page.data {
        let s: ClearinghouseState = c.info(json!({"type": "clearinghouseState", "user": row.trader_address})).await;
        let transfers: Vec<LedgerUpdate> = c
            .info(json!({"type": "userNonFundingLedgerUpdates", "user": row.trader_address, "startTime": d1 + 1}))
            .await;
        let net: Decimal = transfers
            .iter()
            .map(|t| {
                if t.delta.kind == "deposit" {
                    t.delta.usdc.unwrap_or_default()
                } else {
                    -t.delta.usdc.unwrap_or_default()
                }
            })
            .sum();
        let pnl = s.margin_summary.account_value - at_d1[&row.trader_address] - net;
        // JSON numbers are floats: equal to 1e-9 relative.
        let tolerance = pnl.abs().max(Decimal::ONE) * Decimal::new(1, 9);
        assert!((row.total_pnl - pnl).abs() <= tolerance, "{}: {} vs {pnl}", row.trader_address, row.total_pnl);
        let deposits: Decimal =
            transfers.iter().filter(|t| t.delta.kind == "deposit").map(|t| t.delta.usdc.unwrap_or_default()).sum();
        let base = at_d1[&row.trader_address] + deposits;
        if base > Decimal::ZERO {
            let roi = pnl / base * Decimal::ONE_HUNDRED;
            assert!((row.roi - roi).abs() <= Decimal::new(1, 5), "{}: roi {} vs {roi}", row.trader_address, row.roi);
        }
        assert_eq!(row.account_value.round_dp(4), s.margin_summary.account_value.round_dp(4));
    }
    v.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn nansen_endpoints_answer_with_real_rows() {
    let v = venue(small_world(14)).await;
    let c = Client::new(&v);
    let users = c.addresses().await;
    let busy = {
        let world = v.venue.world();
        (0..world.accounts.len()).max_by_key(|&i| world.accounts[i].fills.len()).map(|i| users[i].clone()).unwrap()
    };
    let r = c
        .nansen(
            "profiler/perp-trades",
            json!({"address": busy, "date": {"from": "2025-01-01", "to": "2026-12-31"},
                "pagination": {"page": 1, "per_page": 100}}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-nansen-credits-used"], "1");
    let page: Page<PerpTrade> = r.json().await.unwrap();
    assert_eq!(page.data.len(), 100);
    assert!(!page.pagination.is_last_page);
    assert!(page.data.windows(2).all(|w| w[0].timestamp <= w[1].timestamp), "oldest first by default");
    let r = c.nansen("profiler/perp-positions", json!({"address": busy})).await;
    let positions: PerpPositionsResponse = r.json().await.unwrap();
    assert!(positions.data.margin_summary_account_value_usd > Decimal::ZERO);
    let r = c.nansen("tgm/perp-pnl-leaderboard", json!({"token_symbol": "BTC", "date": {"from": "2025-12-01"}})).await;
    assert_eq!(r.status(), 200);
    let _: Page<TokenPnlRow> = r.json().await.unwrap();
    let r = c.nansen("smart-money/perp-trades", json!({"only_new_positions": true})).await;
    let sm: Page<SmartMoneyTrade> = r.json().await.unwrap();
    assert!(sm.data.iter().all(|t| t.action.as_deref() == Some("Open")));
    assert!(!sm.data.is_empty());
    let r = c.nansen("perp-screener", json!({"date": {"from": "2025-12-25T00:00:00Z"}})).await;
    let screen: Page<ScreenerRow> = r.json().await.unwrap();
    assert_eq!(screen.data.len(), 6);
    v.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn nansen_auth_credits_limits_and_validation() {
    let options = VenueOptions {
        sim: small_world(15),
        clock: ClockMode::Stepped,
        nansen_keys: [("nsk_rich".to_string(), 1_000), ("nsk_poor".to_string(), 4)].into_iter().collect(),
        nansen_per_second: 3,
        nansen_per_minute: 1_000,
        ..VenueOptions::default()
    };
    let v = connectors::sim::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    connectors::install_tls_provider();
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/perp-leaderboard", v.http_url());
    let body = json!({"date": {"from": "2025-12-01", "to": "2025-12-31"}});
    let r = http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 402);
    let r = http.post(&url).header("apiKey", "nsk_wrong").json(&body).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = http.post(&url).header("apikey", "nsk_poor").json(&body).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["code"], "insufficient_credits");
    let r = http.post(&url).header("apiKey", "nsk_rich").json(&json!({"date": {}, "bogus": 1})).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["code"], "unknown_field");
    let r = http
        .post(&url)
        .header("apiKey", "nsk_rich")
        .json(&json!({"date": {"from": "2025-12-01T00:00:00Z"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "the leaderboard takes dates only");
    // Burst past 3 per second: a 429 with Retry-After.
    let mut limited = None;
    for _ in 0..10 {
        let r = http.post(&url).header("apiKey", "nsk_rich").json(&body).send().await.unwrap();
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("no 429 in a burst of 10 at 3/s");
    assert_eq!(r.headers()["retry-after"], "1");
    v.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn info_weight_budget_is_enforced() {
    let options = VenueOptions {
        sim: small_world(16),
        clock: ClockMode::Stepped,
        info_weight_per_minute: 100,
        ..VenueOptions::default()
    };
    let v = connectors::sim::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    connectors::install_tls_provider();
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..6 {
        // meta weighs 20: five fit in 100, the sixth is refused.
        let r = http.post(format!("{}/info", v.http_url())).json(&json!({"type": "meta"})).send().await.unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429]);
    v.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn virtual_time_steps_or_runs() {
    let v = venue(small_world(17)).await;
    let c = Client::new(&v);
    let t0 = c.now().await;
    assert_eq!(t0, small_world(17).t0_ms);
    c.advance(t0 + HOUR_MS).await;
    assert_eq!(c.now().await, t0 + HOUR_MS);
    let r = c.http.post(format!("{}/sim/advance", c.base)).json(&json!({"to_ms": t0})).send().await.unwrap();
    assert_eq!(r.status(), 400, "time never goes backwards");
    v.stop().await;

    let options = VenueOptions { sim: small_world(17), clock: ClockMode::Speed(3_600.0), ..VenueOptions::default() };
    let v = connectors::sim::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let c = Client::new(&v);
    let a = c.now().await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let b = c.now().await;
    assert!(b > a + 5 * 60_000, "at 3600x, 0.4 s should be over 5 virtual minutes: {a} → {b}");
    let r = c.http.post(format!("{}/sim/advance", c.base)).json(&json!({"to_ms": b + 1})).send().await.unwrap();
    assert_eq!(r.status(), 409);
    v.stop().await;
}

/// In-process: every liquidation happened at a mark that crossed the position's
/// liquidation price, and never lost more than the position's margin.
#[test]
fn liquidations_happen_only_past_the_liquidation_price() {
    let cfg = SimConfig { seed: 18, wallets: 120, tokens: 10, warmup_days: 30, ..SimConfig::default() };
    let mut world = World::new(cfg.clone());
    world.step_to(cfg.t0_ms);
    assert!(world.liquidations.len() >= 3, "{} liquidations", world.liquidations.len());
    for l in &world.liquidations {
        if l.szi.is_sign_positive() {
            assert!(l.mark <= l.liquidation_px, "long liquidated at mark {} above {}", l.mark, l.liquidation_px);
        } else {
            assert!(l.mark >= l.liquidation_px, "short liquidated at mark {} below {}", l.mark, l.liquidation_px);
        }
        let fill = world.accounts[l.wallet].fills.iter().find(|f| f.time == l.time && f.liquidation.is_some()).unwrap();
        assert_eq!(fill.px, l.fill_px);
        assert_eq!(fill.start_position, l.szi);
    }
}
