//! The API clients as the configuration describes them: one place maps
//! `[nansen]`, `[hyperliquid]` and `[clock]` onto the connectors' settings.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use connectors::hyperliquid::exchange_client::{Clock, ExchangeClient, ExchangeSettings};
use connectors::hyperliquid::info_client::{InfoClient, InfoSettings, WeightBudget};
use connectors::hyperliquid::keys::Signer;
use connectors::hyperliquid::nonces::NonceManager;
use connectors::nansen::client::{ApiKey, NansenClient, NansenSettings};

use crate::config::{Loaded, Network, RetryConfig};

fn retries(r: &RetryConfig) -> (u32, Duration, Duration, Duration) {
    (
        r.max_retries,
        Duration::from_millis(r.base_delay_ms),
        Duration::from_millis(r.max_delay_ms),
        Duration::from_millis(r.timeout_ms),
    )
}

/// The Nansen client with the key from the secrets (requests without one get 402).
pub fn nansen(loaded: &Loaded) -> anyhow::Result<NansenClient> {
    let c = &loaded.config.nansen;
    let (max_retries, base_delay, max_delay, timeout) = retries(&c.retry);
    let settings = NansenSettings {
        base_url: c.api_url.clone(),
        requests_per_second: c.requests_per_second,
        requests_per_minute: c.requests_per_minute,
        perp_trades_per_minute: c.perp_trades_per_minute,
        page_size: c.page_size,
        max_retries,
        base_delay,
        max_delay,
        timeout,
        ..NansenSettings::default()
    };
    let key = loaded.secrets.nansen_api_key.as_ref().map(|k| ApiKey::new(k.expose()));
    NansenClient::new(settings, key).context("cannot build the Nansen client")
}

/// The `/info` client spending from the process's one weight budget.
pub fn info(loaded: &Loaded, budget: Arc<WeightBudget>) -> anyhow::Result<InfoClient> {
    let c = &loaded.config.hyperliquid;
    let (max_retries, base_delay, max_delay, timeout) = retries(&c.retry);
    let settings = InfoSettings { base_url: c.api_url.clone(), max_retries, base_delay, max_delay, timeout };
    InfoClient::new(settings, budget).context("cannot build the Hyperliquid info client")
}

/// The weight budget of `[hyperliquid]`.
pub fn budget(loaded: &Loaded) -> Arc<WeightBudget> {
    WeightBudget::per_minute(loaded.config.hyperliquid.info_weight_per_minute)
}

/// "Now" in epoch ms: the machine's clock, or the simulated venue's.
pub async fn now_ms(loaded: &Loaded) -> anyhow::Result<u64> {
    crate::daemon::clock::DaemonClock::of(loaded)?.now().await
}

/// The exchange client for the configured account: the private key from the
/// secrets (the master's, or an agent's with `HL_ACCOUNT_ADDRESS` naming the
/// master), nonces persisted under the state directory, leverage capped at
/// `risk.max_leverage`.
pub async fn exchange(loaded: &Loaded, info: Arc<InfoClient>, clock: Clock) -> anyhow::Result<ExchangeClient> {
    let c = &loaded.config;
    let key = loaded
        .secrets
        .hl_private_key
        .as_ref()
        .context("no private key: set HL_PRIVATE_KEY or keys.private_key_file")?;
    let signer = Signer::from_hex(key.expose()).context("HL_PRIVATE_KEY")?;
    std::fs::create_dir_all(&c.state.dir).with_context(|| format!("cannot create {}", c.state.dir.display()))?;
    let nonces = NonceManager::with_file(&c.state.dir.join("exchange-nonce")).context("the nonce file")?;
    let max_leverage = c.risk.max_leverage.to_string().split('.').next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let settings = ExchangeSettings {
        base_url: c.hyperliquid.api_url.clone(),
        mainnet: c.hyperliquid.network == Network::Mainnet,
        account: loaded.secrets.hl_account_address.map(|a| a.canonical()),
        vault_address: c.hyperliquid.vault_address.clone(),
        timeout: Duration::from_millis(c.hyperliquid.retry.timeout_ms),
        max_leverage,
        builder: None,
    };
    ExchangeClient::connect(settings, signer, Arc::new(nonces), clock, info)
        .await
        .context("connecting the exchange client")
}
