//! The venue on loopback: Hyperliquid `POST /info` and the Nansen API on one HTTP
//! port, in virtual time.
//!
//! The venue owns the clock (DESIGN §8): it either runs at a multiple of real time
//! or, stepped, advances only on `POST /sim/advance {"to_ms": …}`; `GET /sim/time`
//! serves it and every response carries it in `x-sim-time`. Nansen requests need
//! an `apiKey` (none → 402, unknown → 401, out of credits → 403) and are rate
//! limited per key (429 with `Retry-After`); `/info` and `/exchange` charge request weight
//! against a per-IP budget per minute (429 when spent). Rate limits run on real
//! time, like the real services'.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::faults::Faults;
use super::market::HOUR_MS;
use super::nansen_views::{self as nv, ApiError};
use super::rng::SimRng;
use super::views;
use super::world::{SimConfig, World};
use super::ws::{self, MAX_USERS_PER_IP, UserClaims};
use crate::hyperliquid::info::InfoRequest;

/// The Nansen key a venue accepts unless told otherwise.
pub const TEST_NANSEN_KEY: &str = "nsk_sim_test_key";
pub const TIME_HEADER: &str = "x-sim-time";

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClockMode {
    /// Advances only on `POST /sim/advance`.
    Stepped,
    /// Virtual time runs at this multiple of real time.
    Speed(f64),
}

#[derive(Debug, Clone)]
pub struct VenueOptions {
    pub sim: SimConfig,
    pub clock: ClockMode,
    /// Accepted Nansen keys and their credits.
    pub nansen_keys: BTreeMap<String, u64>,
    pub nansen_per_second: u32,
    pub nansen_per_minute: u32,
    /// REST weight budget per minute for one IP, `/info` and `/exchange` (Hyperliquid: 1200).
    pub info_weight_per_minute: u32,
    /// Which chain signatures are checked for (`source` "a" mainnet, "b" testnet).
    pub mainnet: bool,
    /// Faults in force from the start.
    pub faults: Faults,
    /// A WebSocket that sends nothing for this long is closed (Hyperliquid: 60 s).
    pub ws_idle_secs: u64,
    /// Stamp trades sent and `/exchange` requests received in real time
    /// (`GET /sim/wire-times`), for the end-to-end benchmark.
    pub record_wire_times: bool,
}

impl Default for VenueOptions {
    fn default() -> Self {
        VenueOptions {
            sim: SimConfig::default(),
            clock: ClockMode::Speed(1.0),
            nansen_keys: [(TEST_NANSEN_KEY.to_string(), 1_000_000)].into_iter().collect(),
            nansen_per_second: 20,
            nansen_per_minute: 600,
            info_weight_per_minute: 1_200,
            mainnet: true,
            faults: Faults::default(),
            ws_idle_secs: 60,
            record_wire_times: false,
        }
    }
}

impl VenueOptions {
    /// Budgets no loopback client exhausts: for the tests and benchmarks
    /// that drive the daemon against the venue as fast as it goes.
    pub fn unthrottled(sim: SimConfig, clock: ClockMode) -> VenueOptions {
        VenueOptions {
            sim,
            clock,
            info_weight_per_minute: 10_000_000,
            nansen_per_second: 100_000,
            nansen_per_minute: 1_000_000,
            ..VenueOptions::default()
        }
    }
}

struct KeyUsage {
    credits: u64,
    recent: VecDeque<Instant>,
}

/// The venue's shared state.
pub struct Venue {
    world: RwLock<World>,
    options: VenueOptions,
    clock_base: Mutex<(u64, Instant)>,
    nansen: Mutex<BTreeMap<String, KeyUsage>>,
    info_budget: Mutex<VecDeque<(Instant, u32)>>,
    stopped: AtomicBool,
    faults: Mutex<Faults>,
    fault_rng: Mutex<SimRng>,
    frozen_mids: Mutex<Option<crate::hyperliquid::info::AllMids>>,
    ws_users: Mutex<UserClaims>,
    wire_times: Option<Mutex<super::wire_times::WireTimes>>,
}

impl Venue {
    /// Builds the world and simulates its history up to t0.
    pub fn new(options: VenueOptions) -> Venue {
        let mut world = World::new(options.sim.clone());
        world.step_to(options.sim.t0_ms);
        let nansen = options
            .nansen_keys
            .iter()
            .map(|(k, c)| (k.clone(), KeyUsage { credits: *c, recent: VecDeque::new() }))
            .collect();
        let frozen = options.faults.freeze_prices.then(|| views::all_mids(&world));
        Venue {
            wire_times: options.record_wire_times.then(|| Mutex::new(super::wire_times::WireTimes::new())),
            clock_base: Mutex::new((world.now_ms, Instant::now())),
            fault_rng: Mutex::new(SimRng::derive(options.sim.seed, "http-faults", 0)),
            faults: Mutex::new(options.faults.clone()),
            frozen_mids: Mutex::new(frozen),
            world: RwLock::new(world),
            options,
            nansen: Mutex::new(nansen),
            info_budget: Mutex::new(VecDeque::new()),
            stopped: AtomicBool::new(false),
            ws_users: Mutex::new(UserClaims::new()),
        }
    }

    pub fn faults(&self) -> Faults {
        self.faults.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the faults in force; freezing prices captures the mids of now.
    pub fn set_faults(&self, faults: Faults) {
        let mut frozen = self.frozen_mids.lock().unwrap_or_else(|e| e.into_inner());
        *frozen =
            if faults.freeze_prices { frozen.clone().or_else(|| Some(views::all_mids(&self.world()))) } else { None };
        *self.faults.lock().unwrap_or_else(|e| e.into_inner()) = faults;
    }

    pub fn frozen_mids(&self) -> Option<crate::hyperliquid::info::AllMids> {
        self.frozen_mids.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The wire-time recorder, when the options asked for one.
    pub fn wire_times(&self) -> Option<std::sync::MutexGuard<'_, super::wire_times::WireTimes>> {
        self.wire_times.as_ref().map(|m| m.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    pub fn ws_idle(&self) -> Duration {
        Duration::from_secs(self.options.ws_idle_secs)
    }

    /// Follows `user` from `ip`; false when that would exceed 10 distinct users.
    pub fn claim_ws_user(&self, ip: std::net::IpAddr, user: &str) -> bool {
        let mut claims = self.ws_users.lock().unwrap_or_else(|e| e.into_inner());
        let users = claims.entry(ip).or_default();
        if !users.contains_key(user) && users.len() >= MAX_USERS_PER_IP {
            return false;
        }
        *users.entry(user.to_string()).or_default() += 1;
        true
    }

    pub fn release_ws_users(&self, ip: std::net::IpAddr, users: impl IntoIterator<Item = String>) {
        let mut claims = self.ws_users.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(map) = claims.get_mut(&ip) {
            for u in users {
                if let Some(n) = map.get_mut(&u) {
                    *n -= 1;
                    if *n == 0 {
                        map.remove(&u);
                    }
                }
            }
        }
    }

    /// One draw of the HTTP fault stream.
    fn fault_draw(&self) -> f64 {
        self.fault_rng.lock().unwrap_or_else(|e| e.into_inner()).uniform()
    }

    pub fn options(&self) -> &VenueOptions {
        &self.options
    }

    /// Read access to the world (for in-process tests and exports).
    pub fn world(&self) -> RwLockReadGuard<'_, World> {
        self.world.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn now_ms(&self) -> u64 {
        self.world().now_ms
    }

    /// Advances virtual time to `to_ms`, an hour of simulation per lock hold so
    /// readers are not starved.
    pub fn advance_to(&self, to_ms: u64) {
        loop {
            let mut world = self.world.write().unwrap_or_else(|e| e.into_inner());
            if world.now_ms >= to_ms {
                return;
            }
            let chunk = (world.now_ms + HOUR_MS).min(to_ms);
            world.step_to(chunk);
        }
    }

    fn speed_target(&self, speed: f64) -> u64 {
        let (base_virtual, base_real) = *self.clock_base.lock().unwrap_or_else(|e| e.into_inner());
        base_virtual + (base_real.elapsed().as_secs_f64() * 1000.0 * speed) as u64
    }

    /// Spends `weight` of the per-minute REST budget (`/info` and `/exchange`); `false` when spent.
    fn spend_info(&self, weight: u32) -> bool {
        let mut q = self.info_budget.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        while q.front().is_some_and(|(t, _)| now.duration_since(*t) >= Duration::from_secs(60)) {
            q.pop_front();
        }
        let used: u32 = q.iter().map(|(_, w)| w).sum();
        if used + weight > self.options.info_weight_per_minute {
            return false;
        }
        q.push_back((now, weight));
        true
    }

    /// Checks the key, its rate and its credits for a call costing `cost`.
    fn admit_nansen(&self, headers: &HeaderMap, cost: u64) -> Result<String, Box<Response>> {
        let Some(key) = headers.get("apikey").and_then(|v| v.to_str().ok()) else {
            let mut e =
                ApiError::new(402, "Payment Required", "payment_required", "Send your API key in the apiKey header");
            e.body.param = Some("apiKey".into());
            return Err(Box::new(nansen_error(e)));
        };
        let mut keys = self.nansen.lock().unwrap_or_else(|e| e.into_inner());
        let Some(usage) = keys.get_mut(key) else {
            return Err(Box::new(nansen_error(ApiError::new(
                401,
                "Unauthorized",
                "unauthenticated",
                "Invalid API key",
            ))));
        };
        let now = Instant::now();
        while usage.recent.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60)) {
            usage.recent.pop_front();
        }
        let last_second = usage.recent.iter().filter(|t| now.duration_since(**t) < Duration::from_secs(1)).count();
        let (scope, retry) = if last_second >= self.options.nansen_per_second as usize {
            ("second", 1)
        } else if usage.recent.len() >= self.options.nansen_per_minute as usize {
            let oldest = usage.recent.front().map(|t| now.duration_since(*t)).unwrap_or_default();
            ("minute", 60u64.saturating_sub(oldest.as_secs()).max(1))
        } else {
            ("", 0)
        };
        if retry > 0 {
            let mut e = ApiError::new(429, "Too Many Requests", "rate_limit_exceeded", "Rate limit exceeded");
            e.body.retry_after = Some(retry);
            let mut r = nansen_error(e);
            r.headers_mut().insert("retry-after", HeaderValue::from(retry));
            r.headers_mut().insert("x-nansen-ratelimit-scope", HeaderValue::from_static(scope));
            return Err(Box::new(r));
        }
        if usage.credits < cost {
            let mut r = nansen_error(ApiError::new(
                403,
                "Forbidden",
                "insufficient_credits",
                "Insufficient credits: buy more credits to continue",
            ));
            r.headers_mut().insert("x-nansen-credits-remaining", HeaderValue::from(usage.credits));
            return Err(Box::new(r));
        }
        usage.recent.push_back(now);
        Ok(key.to_string())
    }

    fn charge_nansen(&self, key: &str, cost: u64) -> u64 {
        let mut keys = self.nansen.lock().unwrap_or_else(|e| e.into_inner());
        match keys.get_mut(key) {
            Some(u) => {
                u.credits = u.credits.saturating_sub(cost);
                u.credits
            }
            None => 0,
        }
    }
}

fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (status, [("content-type", "application/json")], bytes).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

fn nansen_error(e: ApiError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    json_response(status, &e.body)
}

/// Parses a strict request body; unknown and missing fields are 422 as on Nansen.
fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        let msg = e.to_string();
        let (error, code) = if msg.contains("unknown field") {
            ("Unknown field", "unknown_field")
        } else if msg.contains("missing field") {
            ("Missing field", "missing_field")
        } else {
            ("Invalid field value", "invalid_field_value")
        };
        ApiError::new(422, error, code, msg)
    })
}

async fn stamp_time(State(venue): State<Arc<Venue>>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let now = venue.now_ms();
    resp.headers_mut().insert(TIME_HEADER, HeaderValue::from(now));
    resp
}

/// A JSON request body, or Hyperliquid's 422 naming what did not parse.
fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("Failed to deserialize the JSON body into the target type: {e}"),
            )
                .into_response(),
        )
    })
}

async fn info(State(venue): State<Arc<Venue>>, body: Bytes) -> Response {
    let req: InfoRequest = match json_body(&body) {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    if !venue.spend_info(req.base_weight()) {
        return (StatusCode::TOO_MANY_REQUESTS, "null").into_response();
    }
    let world = venue.world();
    let token = |coin: &str| world.token_index(coin);
    let (response, items) = match &req {
        InfoRequest::Meta { .. } => (json_response(StatusCode::OK, &views::meta(&world)), 0),
        InfoRequest::MetaAndAssetCtxs { .. } => {
            (json_response(StatusCode::OK, &(views::meta(&world), views::asset_ctxs(&world))), 0)
        }
        InfoRequest::AllMids { .. } => {
            let mids = venue.frozen_mids().unwrap_or_else(|| views::all_mids(&world));
            (json_response(StatusCode::OK, &mids), 0)
        }
        InfoRequest::ClearinghouseState { user, .. } => {
            (json_response(StatusCode::OK, &views::clearinghouse_state(&world, world.wallet_index(user))), 0)
        }
        InfoRequest::UserFills { user, .. } => {
            let fills = views::user_fills(&world, world.wallet_index(user));
            (json_response(StatusCode::OK, &fills), fills.len())
        }
        InfoRequest::UserFillsByTime { user, start_time, end_time, .. } => {
            let fills = views::user_fills_by_time(&world, world.wallet_index(user), *start_time, *end_time);
            (json_response(StatusCode::OK, &fills), fills.len())
        }
        InfoRequest::CandleSnapshot { req: c } => match token(&c.coin) {
            Some(t) if views::interval_ms(&c.interval).is_some() => {
                let candles = views::candles(&world, t, &c.interval, c.start_time, c.end_time);
                (json_response(StatusCode::OK, &candles), candles.len())
            }
            _ => (json_response(StatusCode::OK, &Vec::<()>::new()), 0),
        },
        InfoRequest::L2Book { coin, .. } => match token(coin) {
            Some(t) => (json_response(StatusCode::OK, &views::l2_book(&world, t)), 0),
            None => (json_response(StatusCode::OK, &serde_json::Value::Null), 0),
        },
        InfoRequest::FundingHistory { coin, start_time, end_time } => match token(coin) {
            Some(t) => {
                let rows = views::funding_history(&world, t, *start_time, *end_time);
                (json_response(StatusCode::OK, &rows), rows.len())
            }
            None => (json_response(StatusCode::OK, &Vec::<()>::new()), 0),
        },
        InfoRequest::UserFunding { user, start_time, end_time } => {
            let rows = views::user_funding(&world, world.wallet_index(user), *start_time, *end_time);
            (json_response(StatusCode::OK, &rows), rows.len())
        }
        InfoRequest::UserNonFundingLedgerUpdates { user, start_time, end_time } => {
            let rows = views::ledger_updates(&world, world.wallet_index(user), *start_time, *end_time);
            (json_response(StatusCode::OK, &rows), rows.len())
        }
        InfoRequest::OrderStatus { user, oid } => {
            (json_response(StatusCode::OK, &world.order_status(world.wallet_index(user), oid)), 0)
        }
        InfoRequest::OpenOrders { user, .. } => {
            (json_response(StatusCode::OK, &world.open_orders(world.wallet_index(user), false)), 0)
        }
        InfoRequest::FrontendOpenOrders { user, .. } => {
            (json_response(StatusCode::OK, &world.open_orders(world.wallet_index(user), true)), 0)
        }
    };
    drop(world);
    let extra = req.item_weight(items);
    if extra > 0 {
        // The surcharge is charged after the fact, as on Hyperliquid.
        let _ = venue.spend_info(extra);
    }
    response
}

/// One Nansen route: admit, parse, compute, charge.
fn nansen_call<Q: DeserializeOwned, R: Serialize>(
    venue: &Venue,
    headers: &HeaderMap,
    body: &[u8],
    cost: u64,
    compute: impl FnOnce(&World, &Q) -> Result<R, ApiError>,
) -> Response {
    let key = match venue.admit_nansen(headers, cost) {
        Ok(k) => k,
        Err(r) => return *r,
    };
    let req: Q = match parse_body(body) {
        Ok(r) => r,
        Err(e) => return nansen_error(e),
    };
    let result = {
        let world = venue.world();
        compute(&world, &req)
    };
    match result {
        Ok(data) => {
            let remaining = venue.charge_nansen(&key, cost);
            let mut r = json_response(StatusCode::OK, &data);
            let h = r.headers_mut();
            h.insert("x-nansen-credits-cost", HeaderValue::from(cost));
            h.insert("x-nansen-credits-used", HeaderValue::from(cost));
            h.insert("x-nansen-credits-remaining", HeaderValue::from(remaining));
            r
        }
        Err(e) => {
            let mut r = nansen_error(e);
            r.headers_mut().insert("x-nansen-credits-used", HeaderValue::from(0u64));
            r
        }
    }
}

async fn leaderboard(State(v): State<Arc<Venue>>, headers: HeaderMap, body: Bytes) -> Response {
    nansen_call(&v, &headers, &body, 5, nv::leaderboard)
}
async fn perp_trades(State(v): State<Arc<Venue>>, headers: HeaderMap, body: Bytes) -> Response {
    nansen_call(&v, &headers, &body, 1, nv::perp_trades)
}
async fn perp_positions(State(v): State<Arc<Venue>>, headers: HeaderMap, body: Bytes) -> Response {
    nansen_call(&v, &headers, &body, 1, nv::perp_positions)
}
async fn token_pnl(State(v): State<Arc<Venue>>, headers: HeaderMap, body: Bytes) -> Response {
    nansen_call(&v, &headers, &body, 5, nv::token_pnl_leaderboard)
}
async fn smart_money(State(v): State<Arc<Venue>>, headers: HeaderMap, body: Bytes) -> Response {
    nansen_call(&v, &headers, &body, 5, nv::smart_money_trades)
}
async fn screener(State(v): State<Arc<Venue>>, headers: HeaderMap, body: Bytes) -> Response {
    nansen_call(&v, &headers, &body, 1, nv::screener)
}

async fn account(State(v): State<Arc<Venue>>, headers: HeaderMap) -> Response {
    match v.admit_nansen(&headers, 0) {
        Ok(key) => {
            let credits = v.charge_nansen(&key, 0);
            json_response(
                StatusCode::OK,
                &crate::nansen::types::Account { plan: "pro".into(), credits_remaining: credits },
            )
        }
        Err(r) => *r,
    }
}

#[derive(Serialize)]
struct TimeBody {
    time_ms: u64,
    t0_ms: u64,
    stepped: bool,
}

async fn sim_time(State(v): State<Arc<Venue>>) -> Response {
    json_response(
        StatusCode::OK,
        &TimeBody { time_ms: v.now_ms(), t0_ms: v.options.sim.t0_ms, stepped: v.options.clock == ClockMode::Stepped },
    )
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceBody {
    to_ms: u64,
}

async fn sim_advance(State(v): State<Arc<Venue>>, body: Bytes) -> Response {
    if v.options.clock != ClockMode::Stepped {
        return (StatusCode::CONFLICT, "the venue is free-running; /sim/advance needs --stepped").into_response();
    }
    let req: AdvanceBody = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("expected {{\"to_ms\": <ms>}}: {e}")).into_response(),
    };
    let now = v.now_ms();
    if req.to_ms < now {
        return (StatusCode::BAD_REQUEST, format!("to_ms {} is before the venue's time {now}", req.to_ms))
            .into_response();
    }
    let venue = v.clone();
    let _ = tokio::task::spawn_blocking(move || venue.advance_to(req.to_ms)).await;
    sim_time(State(v)).await
}

#[derive(Serialize)]
struct PersonaRow {
    address: String,
    kind: super::personas::PersonaKind,
    label: Option<String>,
    leader: Option<String>,
}

/// The personas' ground truth (kinds and copy clusters), for tests and demos.
pub fn persona_rows(world: &World) -> Vec<impl Serialize + use<>> {
    world
        .personas
        .iter()
        .enumerate()
        .map(|(i, p)| PersonaRow {
            address: world.accounts[i].address_hex(),
            kind: p.kind,
            label: p.label.clone(),
            leader: p.leader.map(|l| world.accounts[l].address_hex()),
        })
        .collect()
}

async fn exchange(State(v): State<Arc<Venue>>, body: Bytes) -> Response {
    let arrived = v.wire_times().map(|w| w.now_ns());
    let req: crate::hyperliquid::actions::ExchangeRequest = match json_body(&body) {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    // Actions count against the same per-IP weight budget as `/info`.
    if !v.spend_info(crate::hyperliquid::actions::exchange_weight(&req.action)) {
        return (StatusCode::TOO_MANY_REQUESTS, "null").into_response();
    }
    let mainnet = v.options.mainnet;
    let response = {
        let mut world = v.world.write().unwrap_or_else(|e| e.into_inner());
        let response = world.exchange(&req, mainnet);
        if let (Some(ns), Some(mut w), Some(entry)) = (arrived, v.wire_times(), world.exchange.audit.last()) {
            w.request_arrived(entry.seq, ns);
        }
        response
    };
    let lose = {
        let mut f = v.faults.lock().unwrap_or_else(|e| e.into_inner());
        let lose = f.lose_exchange_responses > 0;
        f.lose_exchange_responses = f.lose_exchange_responses.saturating_sub(1);
        lose
    };
    if lose {
        // Executed, but the answer never arrives: hold the request until the venue stops.
        while !v.is_stopped() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    json_response(StatusCode::OK, &response)
}

/// Latency, 429 bursts and 5xx on the API routes (never on `/sim/*`).
async fn inject_faults(State(v): State<Arc<Venue>>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/sim") || req.uri().path() == "/ws" {
        return next.run(req).await;
    }
    let f = v.faults();
    if f.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(f.latency_ms)).await;
    }
    let burst = {
        let mut faults = v.faults.lock().unwrap_or_else(|e| e.into_inner());
        let hit = faults.rate_limit_burst > 0;
        faults.rate_limit_burst = faults.rate_limit_burst.saturating_sub(1);
        hit
    };
    if burst {
        let mut r = (StatusCode::TOO_MANY_REQUESTS, "rate limited (injected)").into_response();
        r.headers_mut().insert("retry-after", HeaderValue::from(1u64));
        return r;
    }
    let outage = {
        let mut faults = v.faults.lock().unwrap_or_else(|e| e.into_inner());
        let hit = faults.error_burst > 0;
        faults.error_burst = faults.error_burst.saturating_sub(1);
        hit
    };
    if outage {
        return (StatusCode::SERVICE_UNAVAILABLE, "service unavailable (injected)").into_response();
    }
    if f.error_rate > 0.0 && v.fault_draw() < f.error_rate {
        return (StatusCode::SERVICE_UNAVAILABLE, "service unavailable (injected)").into_response();
    }
    next.run(req).await
}

async fn sim_faults(State(v): State<Arc<Venue>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(f) => {
            v.set_faults(f);
            json_response(StatusCode::OK, &v.faults())
        }
        Err(e) => (StatusCode::BAD_REQUEST, format!("faults: {e}")).into_response(),
    }
}

async fn sim_faults_get(State(v): State<Arc<Venue>>) -> Response {
    json_response(StatusCode::OK, &v.faults())
}

async fn ws_upgrade(
    State(v): State<Arc<Venue>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade.on_upgrade(move |socket| ws::serve_socket(v, addr.ip(), socket))
}

async fn sim_wire_times(State(v): State<Arc<Venue>>) -> Response {
    let base = *v.clock_base.lock().unwrap_or_else(|e| e.into_inner());
    match v.wire_times() {
        Some(w) => {
            let mut view = w.view();
            if let ClockMode::Speed(speed) = v.options.clock {
                view.clock = Some(super::wire_times::ClockBase { virtual_ms: base.0, at_ns: w.ns_at(base.1), speed });
            }
            json_response(StatusCode::OK, &view)
        }
        None => (StatusCode::NOT_FOUND, "the venue was started without record_wire_times").into_response(),
    }
}

async fn sim_audit(State(v): State<Arc<Venue>>) -> Response {
    let audit = v.world().exchange.audit.clone();
    json_response(StatusCode::OK, &audit)
}

async fn sim_personas(State(v): State<Arc<Venue>>) -> Response {
    let rows = persona_rows(&v.world());
    json_response(StatusCode::OK, &rows)
}

pub fn router(venue: Arc<Venue>) -> Router {
    Router::new()
        .route("/info", post(info))
        .route("/exchange", post(exchange))
        .route("/sim/audit", get(sim_audit))
        .route("/sim/wire-times", get(sim_wire_times))
        .route("/api/v1/perp-leaderboard", post(leaderboard))
        .route("/api/v1/profiler/perp-trades", post(perp_trades))
        .route("/api/v1/profiler/perp-positions", post(perp_positions))
        .route("/api/v1/tgm/perp-pnl-leaderboard", post(token_pnl))
        .route("/api/v1/smart-money/perp-trades", post(smart_money))
        .route("/api/v1/perp-screener", post(screener))
        .route("/api/v1/account", get(account))
        .route("/sim/time", get(sim_time))
        .route("/sim/advance", post(sim_advance))
        .route("/sim/personas", get(sim_personas))
        .route("/sim/faults", post(sim_faults).get(sim_faults_get))
        .route("/ws", get(ws_upgrade))
        .layer(middleware::from_fn_with_state(venue.clone(), inject_faults))
        .layer(middleware::from_fn_with_state(venue.clone(), stamp_time))
        .with_state(venue)
}

/// A venue serving on a socket, stopped when dropped or on [`RunningVenue::stop`].
pub struct RunningVenue {
    pub addr: SocketAddr,
    pub venue: Arc<Venue>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl RunningVenue {
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Stops serving and the clock; waits for the server task.
    pub async fn stop(mut self) {
        self.halt();
        if let Some(task) = self.server.take() {
            let _ = task.await;
        }
    }

    fn halt(&mut self) {
        self.venue.stopped.store(true, Ordering::SeqCst);
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for RunningVenue {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Builds the venue (history up to t0 included), binds `listen` and serves. A
/// free-running clock advances on a thread of its own.
pub async fn start(options: VenueOptions, listen: SocketAddr) -> std::io::Result<RunningVenue> {
    let clock = options.clock;
    let venue =
        tokio::task::spawn_blocking(move || Arc::new(Venue::new(options))).await.map_err(std::io::Error::other)?;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    if let ClockMode::Speed(speed) = clock {
        *venue.clock_base.lock().unwrap_or_else(|e| e.into_inner()) = (venue.now_ms(), Instant::now());
        let ticker = venue.clone();
        std::thread::Builder::new().name("sim-clock".into()).spawn(move || {
            while !ticker.stopped.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
                ticker.advance_to(ticker.speed_target(speed));
            }
        })?;
    }
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = router(venue.clone());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(RunningVenue { addr, venue, shutdown: Some(tx), server: Some(server) })
}
