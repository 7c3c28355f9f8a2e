//! The Nansen API client: typed requests, every page, and manners.
//!
//! - A client-side budget (per second and per minute, and a stricter one for the
//!   slow `profiler/perp-trades`) so the engine does not provoke 429s.
//! - On 429 it waits at least `Retry-After`; on 5xx and timeouts it retries with
//!   exponential back-off (seed 002: 3 retries, 1 s / 2 s / 4 s by default).
//! - 401/402/403 fail at once with what to fix: they are configuration or credit
//!   problems, and retrying cannot help.
//! - The key never appears in logs or `Debug` output; credits charged are counted
//!   from `X-Nansen-Credits-Used`.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::types::{
    Account, ErrorBody, LeaderboardRequest, LeaderboardRow, Page, Pagination, PerpPositionsRequest,
    PerpPositionsResponse, PerpTrade, PerpTradesRequest, ScreenerRequest, ScreenerRow, SmartMoneyTrade,
    SmartMoneyTradesRequest, TokenPnlLeaderboardRequest, TokenPnlRow,
};

/// The API key; `Debug` and `Display` never show it.
#[derive(Clone)]
pub struct ApiKey(Arc<str>);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> ApiKey {
        ApiKey(key.into().into())
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// Budgets and retries, from `[nansen]` in the configuration.
#[derive(Debug, Clone)]
pub struct NansenSettings {
    pub base_url: String,
    pub requests_per_second: u32,
    pub requests_per_minute: u32,
    pub perp_trades_per_minute: u32,
    pub page_size: u32,
    pub max_retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    pub timeout: Duration,
    /// Stop following pages after this many (a guard against a server that never says last).
    pub max_pages: u32,
}

impl Default for NansenSettings {
    fn default() -> Self {
        NansenSettings {
            base_url: "https://api.nansen.ai".into(),
            requests_per_second: 5,
            requests_per_minute: 120,
            perp_trades_per_minute: 9,
            page_size: 1000,
            max_retries: 3,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            timeout: Duration::from_secs(30),
            max_pages: 1000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NansenError {
    #[error(
        "Nansen answered 401 to {endpoint}: the API key is invalid — check NANSEN_API_KEY or keys.nansen_api_key_file"
    )]
    Unauthorized { endpoint: String },
    #[error("Nansen answered 402 to {endpoint}: no API key was sent — set NANSEN_API_KEY or keys.nansen_api_key_file")]
    PaymentRequired { endpoint: String },
    #[error("Nansen answered 403 to {endpoint} ({code}): {message} — buy credits or upgrade the plan")]
    Forbidden { endpoint: String, code: String, message: String },
    #[error("Nansen refused the request to {endpoint} ({status}, {code}): {message}")]
    Rejected { endpoint: String, status: u16, code: String, message: String },
    #[error("Nansen {endpoint} still failing after {attempts} attempts: {last}")]
    GaveUp { endpoint: String, attempts: u32, last: String },
    #[error("Nansen {endpoint}: cannot decode the response: {message}")]
    Decode { endpoint: String, message: String },
}

/// What the client did, for metrics and tests.
#[derive(Debug, Default)]
pub struct NansenStats {
    pub requests: AtomicU64,
    pub credits_used: AtomicU64,
    pub rate_limited: AtomicU64,
    /// Total time spent waiting on `Retry-After`, in ms.
    pub rate_limit_wait_ms: AtomicU64,
    pub retries: AtomicU64,
}

pub struct NansenClient {
    http: reqwest::Client,
    key: Option<ApiKey>,
    settings: NansenSettings,
    per_second: DefaultDirectRateLimiter,
    per_minute: DefaultDirectRateLimiter,
    perp_trades: DefaultDirectRateLimiter,
    pub stats: NansenStats,
}

impl fmt::Debug for NansenClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NansenClient").field("base_url", &self.settings.base_url).field("key", &self.key).finish()
    }
}

fn quota_per_second(n: u32) -> Quota {
    Quota::per_second(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

fn quota_per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

/// Seconds of a `Retry-After` header (delta-seconds; an HTTP date is read as 1 s).
fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    let v = resp.headers().get("retry-after")?.to_str().ok()?;
    Some(Duration::from_secs(v.trim().parse::<u64>().unwrap_or(1)))
}

impl NansenClient {
    pub fn new(settings: NansenSettings, key: Option<ApiKey>) -> Result<NansenClient, reqwest::Error> {
        crate::install_tls_provider();
        let http = reqwest::Client::builder().timeout(settings.timeout).build()?;
        Ok(NansenClient {
            per_second: RateLimiter::direct(quota_per_second(settings.requests_per_second)),
            per_minute: RateLimiter::direct(quota_per_minute(settings.requests_per_minute)),
            perp_trades: RateLimiter::direct(quota_per_minute(settings.perp_trades_per_minute)),
            http,
            key,
            settings,
            stats: NansenStats::default(),
        })
    }

    /// One call with budget, retries and error mapping.
    async fn call<B: Serialize, R: DeserializeOwned>(&self, path: &str, body: Option<&B>) -> Result<R, NansenError> {
        let endpoint = path.to_string();
        let url = format!("{}/api/v1/{path}", self.settings.base_url.trim_end_matches('/'));
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            self.per_second.until_ready().await;
            self.per_minute.until_ready().await;
            if path == "profiler/perp-trades" {
                self.perp_trades.until_ready().await;
            }
            let mut req = match body {
                Some(b) => self.http.post(&url).json(b),
                None => self.http.get(&url),
            };
            if let Some(key) = &self.key {
                req = req.header("apiKey", &*key.0);
            }
            tracing::debug!(endpoint = %endpoint, attempt, "nansen request");
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let failure = match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    if status.is_success() {
                        let used = resp
                            .headers()
                            .get("x-nansen-credits-used")
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.parse::<u64>().ok())
                            .unwrap_or(0);
                        self.stats.credits_used.fetch_add(used, Ordering::Relaxed);
                        let bytes = resp
                            .bytes()
                            .await
                            .map_err(|e| NansenError::Decode { endpoint: endpoint.clone(), message: e.to_string() })?;
                        return serde_json::from_slice(&bytes)
                            .map_err(|e| NansenError::Decode { endpoint: endpoint.clone(), message: e.to_string() });
                    }
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        let wait = retry_after(&resp).unwrap_or(self.settings.base_delay).min(self.settings.max_delay);
                        self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
                        self.stats.rate_limit_wait_ms.fetch_add(wait.as_millis() as u64, Ordering::Relaxed);
                        tracing::warn!(endpoint = %endpoint, wait_ms = wait.as_millis() as u64, "nansen rate limited");
                        if attempt > self.settings.max_retries + 1 {
                            return Err(NansenError::GaveUp { endpoint, attempts: attempt, last: "429".into() });
                        }
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    let error: ErrorBody = resp.json().await.unwrap_or(ErrorBody {
                        error: String::new(),
                        message: String::new(),
                        code: String::new(),
                        status: None,
                        param: None,
                        retry_after: None,
                    });
                    let message = if error.message.is_empty() { error.error.clone() } else { error.message.clone() };
                    match status.as_u16() {
                        401 => return Err(NansenError::Unauthorized { endpoint }),
                        402 => return Err(NansenError::PaymentRequired { endpoint }),
                        403 => return Err(NansenError::Forbidden { endpoint, code: error.code, message }),
                        s if (400..500).contains(&s) => {
                            return Err(NansenError::Rejected { endpoint, status: s, code: error.code, message });
                        }
                        s => format!("HTTP {s}"),
                    }
                }
                Err(e) if e.is_timeout() => "timeout".to_string(),
                Err(e) => format!("network: {e}"),
            };
            if attempt > self.settings.max_retries {
                return Err(NansenError::GaveUp { endpoint, attempts: attempt, last: failure });
            }
            let delay = (self.settings.base_delay * 2u32.saturating_pow(attempt - 1)).min(self.settings.max_delay);
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(endpoint = %endpoint, %failure, retry_in_ms = delay.as_millis() as u64, "nansen request failed");
            tokio::time::sleep(delay).await;
        }
    }

    /// Follows pages until `is_last_page` (or an empty page), `page_size` rows each.
    async fn all_pages<Q, R>(
        &self,
        path: &str,
        mut req: Q,
        set: impl Fn(&mut Q, Pagination),
    ) -> Result<Vec<R>, NansenError>
    where
        Q: Serialize,
        R: DeserializeOwned,
    {
        let mut out = Vec::new();
        for page in 1..=self.settings.max_pages {
            set(&mut req, Pagination { page, per_page: self.settings.page_size.clamp(1, 1000) });
            let p: Page<R> = self.call(path, Some(&req)).await?;
            let empty = p.data.is_empty();
            out.extend(p.data);
            if p.pagination.is_last_page || empty {
                break;
            }
        }
        Ok(out)
    }

    /// `GET /api/v1/account` (free): the plan and the credits left.
    pub async fn account(&self) -> Result<Account, NansenError> {
        self.call::<(), Account>("account", None).await
    }

    pub async fn leaderboard(&self, req: LeaderboardRequest) -> Result<Vec<LeaderboardRow>, NansenError> {
        self.all_pages("perp-leaderboard", req, |r, p| r.pagination = Some(p)).await
    }

    pub async fn perp_trades(&self, req: PerpTradesRequest) -> Result<Vec<PerpTrade>, NansenError> {
        self.all_pages("profiler/perp-trades", req, |r, p| r.pagination = Some(p)).await
    }

    pub async fn perp_positions(&self, req: &PerpPositionsRequest) -> Result<PerpPositionsResponse, NansenError> {
        self.call("profiler/perp-positions", Some(req)).await
    }

    pub async fn token_pnl_leaderboard(
        &self,
        req: TokenPnlLeaderboardRequest,
    ) -> Result<Vec<TokenPnlRow>, NansenError> {
        self.all_pages("tgm/perp-pnl-leaderboard", req, |r, p| r.pagination = Some(p)).await
    }

    /// One page of the smart-money tape (a live feed: the caller decides how far back to read).
    pub async fn smart_money_trades(
        &self,
        req: &SmartMoneyTradesRequest,
    ) -> Result<Page<SmartMoneyTrade>, NansenError> {
        self.call("smart-money/perp-trades", Some(req)).await
    }

    pub async fn screener(&self, req: ScreenerRequest) -> Result<Vec<ScreenerRow>, NansenError> {
        self.all_pages("perp-screener", req, |r, p| r.pagination = Some(p)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_never_prints() {
        let c = NansenClient::new(NansenSettings::default(), Some(ApiKey::new("nsk_topsecret"))).unwrap();
        assert!(!format!("{c:?}").contains("topsecret"));
        assert!(format!("{c:?}").contains("redacted"));
    }
}
