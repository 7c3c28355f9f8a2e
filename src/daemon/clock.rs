//! Where the daemon's "now" comes from (DESIGN §3, §8): the machine's clock
//! in production, the simulated venue's virtual clock under `[clock] source =
//! "venue"`. Every cadence, timeout and staleness check of the daemon reads it.

use std::time::Duration;

use anyhow::Context;

use crate::config::{ClockSource, Loaded};

#[derive(Clone)]
pub enum DaemonClock {
    Wall,
    Venue { url: String, http: reqwest::Client },
}

impl DaemonClock {
    pub fn of(loaded: &Loaded) -> anyhow::Result<DaemonClock> {
        Ok(match loaded.config.clock.source {
            ClockSource::Wall => DaemonClock::Wall,
            ClockSource::Venue => DaemonClock::Venue {
                url: format!("{}/sim/time", loaded.config.hyperliquid.api_url.trim_end_matches('/')),
                http: reqwest::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .context("cannot build the clock's HTTP client")?,
            },
        })
    }

    /// Now, in epoch milliseconds.
    pub async fn now(&self) -> anyhow::Result<u64> {
        match self {
            DaemonClock::Wall => Ok(chrono::Utc::now().timestamp_millis().max(0) as u64),
            DaemonClock::Venue { url, http } => {
                let body: serde_json::Value = http
                    .get(url)
                    .send()
                    .await
                    .and_then(|r| r.error_for_status())
                    .with_context(|| format!("the venue clock at {url} does not answer"))?
                    .json()
                    .await
                    .with_context(|| format!("{url} did not answer JSON"))?;
                body["time_ms"].as_u64().with_context(|| format!("{url} answered without time_ms: {body}"))
            }
        }
    }
}
