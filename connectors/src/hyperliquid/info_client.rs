//! Hyperliquid `POST /info` client. Every request spends its weight from one
//! [`WeightBudget`] shared by all callers in the process (Hyperliquid allows 1200
//! per minute per IP), so the budget is respected by construction instead of by
//! 429s. Time-range lists are followed page by page until complete; 429, 5xx and
//! timeouts are retried with exponential back-off.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::de::DeserializeOwned;

use super::info::{
    AllMids, Candle, CandleRequest, ClearinghouseState, Fill, FundingHistoryEntry, InfoRequest, Meta, MetaAndAssetCtxs,
    UserFundingEntry,
};

/// The per-IP request-weight budget, shared (clone the `Arc`) by every client.
pub struct WeightBudget {
    limiter: DefaultDirectRateLimiter,
    per_minute: u32,
    /// Weight spent, for metrics.
    pub spent: AtomicU64,
}

impl WeightBudget {
    pub fn per_minute(weight: u32) -> Arc<WeightBudget> {
        let n = NonZeroU32::new(weight.max(1)).unwrap_or(NonZeroU32::MIN);
        Arc::new(WeightBudget {
            limiter: RateLimiter::direct(Quota::per_minute(n)),
            per_minute: weight.max(1),
            spent: AtomicU64::new(0),
        })
    }

    /// Waits until `weight` can be spent, then spends it.
    pub async fn spend(&self, weight: u32) {
        let w = NonZeroU32::new(weight.clamp(1, self.per_minute)).unwrap_or(NonZeroU32::MIN);
        // `w` never exceeds the burst, so this only waits.
        let _ = self.limiter.until_n_ready(w).await;
        self.spent.fetch_add(u64::from(weight), Ordering::Relaxed);
    }

    /// Spends `weight` now if the budget allows; false otherwise.
    pub fn try_spend(&self, weight: u32) -> bool {
        let w = NonZeroU32::new(weight.max(1)).unwrap_or(NonZeroU32::MIN);
        let ok = matches!(self.limiter.check_n(w), Ok(Ok(())));
        if ok {
            self.spent.fetch_add(u64::from(weight), Ordering::Relaxed);
        }
        ok
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InfoError {
    #[error("/info {request}: still failing after {attempts} attempts: {last}")]
    GaveUp { request: String, attempts: u32, last: String },
    #[error("/info {request}: refused with HTTP {status}: {body}")]
    Refused { request: String, status: u16, body: String },
    #[error("/info {request}: cannot decode the response: {message}")]
    Decode { request: String, message: String },
}

#[derive(Debug, Clone)]
pub struct InfoSettings {
    pub base_url: String,
    pub max_retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    pub timeout: Duration,
}

impl Default for InfoSettings {
    fn default() -> Self {
        InfoSettings {
            base_url: "https://api.hyperliquid.xyz".into(),
            max_retries: 3,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            timeout: Duration::from_secs(30),
        }
    }
}

/// Most fills one `userFillsByTime` call returns.
pub const FILLS_PER_CALL: usize = 2_000;
/// Most rows one funding call returns.
pub const ROWS_PER_CALL: usize = 500;

pub struct InfoClient {
    http: reqwest::Client,
    settings: InfoSettings,
    budget: Arc<WeightBudget>,
    pub retries: AtomicU64,
}

fn kind(req: &InfoRequest) -> String {
    serde_json::to_value(req).ok().and_then(|v| v["type"].as_str().map(str::to_string)).unwrap_or_default()
}

impl InfoClient {
    pub fn new(settings: InfoSettings, budget: Arc<WeightBudget>) -> Result<InfoClient, reqwest::Error> {
        crate::install_tls_provider();
        let http = reqwest::Client::builder().timeout(settings.timeout).build()?;
        Ok(InfoClient { http, settings, budget, retries: AtomicU64::new(0) })
    }

    /// The weight budget this client spends from (the `/exchange` client
    /// spends from the same one: the venue counts both against one IP).
    pub fn budget(&self) -> &Arc<WeightBudget> {
        &self.budget
    }

    /// One request: its weight first, then retries on 429, 5xx and timeouts.
    pub async fn request<R: DeserializeOwned>(&self, req: &InfoRequest) -> Result<R, InfoError> {
        let name = kind(req);
        let url = format!("{}/info", self.settings.base_url.trim_end_matches('/'));
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.budget.spend(req.base_weight()).await;
            let failure = match self.http.post(&url).json(req).send().await {
                Ok(resp) if resp.status().is_success() => {
                    let bytes = resp
                        .bytes()
                        .await
                        .map_err(|e| InfoError::Decode { request: name.clone(), message: e.to_string() })?;
                    let value: serde_json::Value = serde_json::from_slice(&bytes)
                        .map_err(|e| InfoError::Decode { request: name.clone(), message: e.to_string() })?;
                    // The per-item surcharge, charged after the fact as the venue does.
                    let items = value.as_array().map_or(0, Vec::len);
                    let extra = req.item_weight(items);
                    if extra > 0 {
                        self.budget.spend(extra).await;
                    }
                    return serde_json::from_value(value)
                        .map_err(|e| InfoError::Decode { request: name, message: e.to_string() });
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    if status != 429 && status < 500 {
                        let body = resp.text().await.unwrap_or_default();
                        return Err(InfoError::Refused {
                            request: name,
                            status,
                            body: body.chars().take(200).collect(),
                        });
                    }
                    format!("HTTP {status}")
                }
                Err(e) if e.is_timeout() => "timeout".into(),
                Err(e) => format!("network: {e}"),
            };
            if attempt > self.settings.max_retries {
                return Err(InfoError::GaveUp { request: name, attempts: attempt, last: failure });
            }
            self.retries.fetch_add(1, Ordering::Relaxed);
            let delay = (self.settings.base_delay * 2u32.saturating_pow(attempt - 1)).min(self.settings.max_delay);
            tracing::warn!(request = %name, %failure, retry_in_ms = delay.as_millis() as u64, "info request failed");
            tokio::time::sleep(delay).await;
        }
    }

    pub async fn meta(&self) -> Result<Meta, InfoError> {
        self.request(&InfoRequest::Meta { dex: None }).await
    }

    pub async fn meta_and_asset_ctxs(&self) -> Result<MetaAndAssetCtxs, InfoError> {
        self.request(&InfoRequest::MetaAndAssetCtxs { dex: None }).await
    }

    pub async fn all_mids(&self) -> Result<AllMids, InfoError> {
        self.request(&InfoRequest::AllMids { dex: None }).await
    }

    pub async fn clearinghouse_state(&self, user: &str) -> Result<ClearinghouseState, InfoError> {
        self.request(&InfoRequest::ClearinghouseState { user: user.to_lowercase(), dex: None }).await
    }

    /// The most recent fills (newest first, up to 2000).
    pub async fn user_fills(&self, user: &str) -> Result<Vec<Fill>, InfoError> {
        self.request(&InfoRequest::UserFills { user: user.to_lowercase(), aggregate_by_time: None }).await
    }

    /// Every fill of `user` in `[start, end]` (oldest first), following 2000-fill
    /// pages from the last time seen and dropping the overlap by (tid, oid, time).
    pub async fn user_fills_between(&self, user: &str, start: u64, end: u64) -> Result<Vec<Fill>, InfoError> {
        let mut out: Vec<Fill> = Vec::new();
        if start > end {
            return Ok(out);
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut from = start;
        loop {
            let req = InfoRequest::UserFillsByTime {
                user: user.to_lowercase(),
                start_time: from,
                end_time: Some(end),
                aggregate_by_time: None,
            };
            let page: Vec<Fill> = self.request(&req).await?;
            let full = page.len() >= FILLS_PER_CALL;
            let last = page.iter().map(|f| f.time).max();
            for f in page {
                if seen.insert((f.tid, f.oid, f.time)) {
                    out.push(f);
                }
            }
            // Pages move forward or stop: a venue answering outside the
            // window cannot hold the loop.
            match last {
                Some(t) if full && t > from && t <= end => from = t,
                Some(t) if full && t == from && from < end => from = t + 1,
                _ => break,
            }
        }
        out.sort_by_key(|f| (f.time, f.tid));
        Ok(out)
    }

    pub async fn candles(&self, coin: &str, interval: &str, start: u64, end: u64) -> Result<Vec<Candle>, InfoError> {
        let req = CandleRequest { coin: coin.into(), interval: interval.into(), start_time: start, end_time: end };
        self.request(&InfoRequest::CandleSnapshot { req }).await
    }

    /// Hourly funding of `coin` in `[start, end]`, every page.
    pub async fn funding_history(
        &self,
        coin: &str,
        start: u64,
        end: u64,
    ) -> Result<Vec<FundingHistoryEntry>, InfoError> {
        let mut out: Vec<FundingHistoryEntry> = Vec::new();
        let mut from = start;
        loop {
            let page: Vec<FundingHistoryEntry> = self
                .request(&InfoRequest::FundingHistory { coin: coin.into(), start_time: from, end_time: Some(end) })
                .await?;
            let full = page.len() >= ROWS_PER_CALL;
            let last = page.last().map(|r| r.time);
            let newest = out.last().map(|l| l.time);
            out.extend(page.into_iter().filter(|r| newest.is_none_or(|t| r.time > t)));
            match last {
                Some(t) if full => from = t + 1,
                _ => return Ok(out),
            }
        }
    }

    /// Funding payments of `user` in `[start, end]`, every page.
    pub async fn user_funding(&self, user: &str, start: u64, end: u64) -> Result<Vec<UserFundingEntry>, InfoError> {
        let mut out: Vec<UserFundingEntry> = Vec::new();
        let mut from = start;
        loop {
            let req = InfoRequest::UserFunding { user: user.to_lowercase(), start_time: from, end_time: Some(end) };
            let page: Vec<UserFundingEntry> = self.request(&req).await?;
            let full = page.len() >= ROWS_PER_CALL;
            let last = page.last().map(|r| r.time);
            for r in page {
                if !out.contains(&r) {
                    out.push(r);
                }
            }
            match last {
                Some(t) if full => from = t,
                _ => return Ok(out),
            }
        }
    }

    /// An order's status by oid (number) or cloid (`0x…`).
    pub async fn order_status(&self, user: &str, oid: serde_json::Value) -> Result<serde_json::Value, InfoError> {
        self.request(&InfoRequest::OrderStatus { user: user.to_lowercase(), oid }).await
    }

    pub async fn open_orders(&self, user: &str) -> Result<serde_json::Value, InfoError> {
        self.request(&InfoRequest::OpenOrders { user: user.to_lowercase(), dex: None }).await
    }
}
