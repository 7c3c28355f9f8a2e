//! Configuration of how mirrorflow runs: where it connects, its clock and
//! cadences, state, logs, the paper/backtest simulation, and alerts.

use std::path::PathBuf;

use dataflows::model::{Ratio, Strategy, Usd};
use serde::{Deserialize, Serialize};

use super::token_table::TokenTable;

/// Which strategies a run enables (DESIGN §4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StrategiesConfig {
    pub enabled: Vec<Strategy>,
}

impl Default for StrategiesConfig {
    fn default() -> Self {
        StrategiesConfig { enabled: Strategy::ALL.to_vec() }
    }
}

/// Per-strategy monitor cadence (`monitor interval` row: each plan has its own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitorIntervals {
    /// Seed 000: every price tick plus a sweep every 15 minutes.
    pub consensus_secs: u64,
    /// Seed 001: 30 s.
    pub entry_secs: u64,
    /// Seed 002: 60 s.
    pub index_secs: u64,
}

impl Default for MonitorIntervals {
    fn default() -> Self {
        MonitorIntervals { consensus_secs: 900, entry_secs: 30, index_secs: 60 }
    }
}

/// Source polling cadences and clock ticks (§16). They drive inputs and clock
/// updates; nothing is recomputed from scratch on a schedule (DESIGN §2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScheduleConfig {
    /// Tracked wallets' fills reconciled over REST (`POLL_TRADES`).
    pub poll_trades_secs: u64,
    /// Tracked wallets' positions polled (`POLL_POSITIONS`).
    pub poll_positions_secs: u64,
    /// Leaderboards and discovery, at 00:00 UTC (`POLL_LEADERBOARD`).
    pub poll_leaderboard_secs: u64,
    /// Nansen smart-money perp trades feed (seed 001).
    pub poll_smart_money_secs: u64,
    /// Our own account state refresh (seed 004).
    pub account_refresh_secs: u64,
    /// REST `allMids` fallback while the price WebSocket is down or stale.
    pub mark_fallback_poll_secs: u64,
    /// A price older than this is stale: entries hold (seed 000).
    pub price_stale_secs: u64,
    /// Input history older than this is folded into the checkpoint (seed 003 retention).
    pub retention_days: u64,
    pub monitor_interval: MonitorIntervals,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            poll_trades_secs: 300,
            poll_positions_secs: 900,
            poll_leaderboard_secs: 86_400,
            poll_smart_money_secs: 60,
            account_refresh_secs: 60,
            mark_fallback_poll_secs: 5,
            price_stale_secs: 30,
            retention_days: 90,
            monitor_interval: MonitorIntervals::default(),
        }
    }
}

/// Retries of a failing request (seed 002: 3 attempts, 1 s / 2 s / 4 s; seed 004
/// caps the back-off at 30 s).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryConfig {
    pub max_retries: u32,
    pub base_delay_ms: u64,
    pub max_delay_ms: u64,
    /// A request without an answer after this long is a timeout.
    pub timeout_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig { max_retries: 3, base_delay_ms: 1_000, max_delay_ms: 30_000, timeout_ms: 30_000 }
    }
}

/// The Nansen API (discovery, labels, leaderboards).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NansenConfig {
    pub api_url: String,
    /// Client-side budget across all endpoints (nansen-api.md §4.1 recommends ~5/s, 120/min).
    pub requests_per_second: u32,
    pub requests_per_minute: u32,
    /// Stricter budget for the slow `profiler/perp-trades` endpoint.
    pub perp_trades_per_minute: u32,
    /// Page size, up to the API's 1000.
    pub page_size: u32,
    pub retry: RetryConfig,
}

impl Default for NansenConfig {
    fn default() -> Self {
        NansenConfig {
            api_url: "https://api.nansen.ai".to_string(),
            requests_per_second: 5,
            requests_per_minute: 120,
            perp_trades_per_minute: 9,
            page_size: 1_000,
            retry: RetryConfig::default(),
        }
    }
}

/// Which Hyperliquid chain the signatures are for (`source` "a" or "b").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    Mainnet,
    Testnet,
}

/// Hyperliquid's info, WebSocket and exchange APIs. Mainnet, testnet and the
/// simulated venue differ only in these URLs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HyperliquidConfig {
    pub api_url: String,
    pub ws_url: String,
    pub network: Network,
    /// The per-IP REST budget shared by every caller in the process (weight per minute).
    pub info_weight_per_minute: u32,
    /// Client heartbeat on the WebSocket (the server closes idle sockets after 60 s).
    pub ws_ping_secs: u64,
    /// The venue's dead-man switch (`scheduleCancel`): while the daemon runs it
    /// keeps pushing the cancel time this far ahead, so if it dies the venue
    /// cancels every resting order — its stops too, hence off by default. 0 is off; ≥ 5 s.
    pub schedule_cancel_secs: u64,
    /// Trade for a sub-account or vault (`vaultAddress`); empty for the account itself.
    pub vault_address: Option<String>,
    pub retry: RetryConfig,
}

impl Default for HyperliquidConfig {
    fn default() -> Self {
        HyperliquidConfig {
            api_url: "https://api.hyperliquid.xyz".to_string(),
            ws_url: "wss://api.hyperliquid.xyz/ws".to_string(),
            network: Network::Mainnet,
            info_weight_per_minute: 1_200,
            ws_ping_secs: 50,
            schedule_cancel_secs: 0,
            vault_address: None,
            retry: RetryConfig::default(),
        }
    }
}

/// Where "now" comes from (DESIGN §3, §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClockSource {
    /// The machine's clock: production.
    Wall,
    /// The simulated venue's virtual clock (`GET /sim/time`).
    Venue,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClockConfig {
    pub source: ClockSource,
}

impl Default for ClockConfig {
    fn default() -> Self {
        ClockConfig { source: ClockSource::Wall }
    }
}

/// The daemon's HTTP endpoint (metrics, health, status).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Loopback by default; another interface only when configured explicitly.
    pub listen: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig { listen: "127.0.0.1:9464".to_string() }
    }
}

/// Durable state (redb): checkpoints, the input log, executor state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StateConfig {
    /// Overridden by `--state-dir`.
    pub dir: PathBuf,
    pub checkpoint_interval_secs: u64,
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig { dir: PathBuf::from("mirrorflow-state"), checkpoint_interval_secs: 60 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A tracing filter (`info`, `mirrorflow=debug,warn`, …); `RUST_LOG` wins when set.
    pub level: String,
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { level: "info".to_string(), format: LogFormat::Human }
    }
}

/// Key material that is not itself secret: where the secrets may be read from,
/// and the account traded.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeysConfig {
    /// A file holding the hex private key (alternative to `HL_PRIVATE_KEY`); refused
    /// when readable by group or others.
    pub private_key_file: Option<PathBuf>,
    /// A file holding the Nansen API key (alternative to `NANSEN_API_KEY`); refused
    /// when readable by group or others.
    pub nansen_api_key_file: Option<PathBuf>,
    /// The Hyperliquid account traded (alternative to `HL_ACCOUNT_ADDRESS`); with
    /// an agent key this is the master account, not the key's own address.
    pub account_address: Option<String>,
}

/// The fill model shared by paper trading and backfill (decisions.md 13).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimulationConfig {
    /// Base adverse slippage per token, percent.
    pub slippage_percent: TokenTable<Ratio>,
    /// Slippage × (1 + size_usd / 100 000 × this).
    pub size_factor_per_100k: Ratio,
    /// Detection-to-order latency, uniform in [min, max] (seed 000's 30–60 s, decisions.md 13).
    pub latency_min_ms: u64,
    pub latency_max_ms: u64,
    /// Share of limit orders that never fill (seed 002).
    pub limit_miss_rate: Ratio,
    /// Share of orders that fill partially, and the filled fraction range.
    pub partial_fill_rate: Ratio,
    pub partial_fill_min: Ratio,
    pub partial_fill_max: Ratio,
    /// Fee charged on notional, percent (seed 002's prototype).
    pub fee_percent: Ratio,
    /// Seed of every random draw (a function of seed, intent and attempt — DESIGN §3).
    pub seed: u64,
}

impl Default for SimulationConfig {
    fn default() -> Self {
        SimulationConfig {
            slippage_percent: TokenTable::new(
                Ratio::lit(15, 2),
                &[
                    ("BTC", Ratio::lit(3, 2)),
                    ("ETH", Ratio::lit(4, 2)),
                    ("SOL", Ratio::lit(10, 2)),
                    ("HYPE", Ratio::lit(20, 2)),
                ],
            ),
            size_factor_per_100k: Ratio::lit(5, 1),
            latency_min_ms: 30_000,
            latency_max_ms: 60_000,
            limit_miss_rate: Ratio::lit(5, 2),
            partial_fill_rate: Ratio::lit(10, 2),
            partial_fill_min: Ratio::lit(5, 1),
            partial_fill_max: Ratio::lit(9, 1),
            fee_percent: Ratio::lit(5, 2),
            seed: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BacktestConfig {
    /// Starting account of a backfill (seed 003).
    pub start_capital_usd: Usd,
    /// The lagged-signal null comparison delays every signal by this long.
    pub lagged_null_hours: u64,
}

impl Default for BacktestConfig {
    fn default() -> Self {
        BacktestConfig { start_capital_usd: Usd::from_int(100_000), lagged_null_hours: 24 }
    }
}

/// Alert thresholds (seed 002 phase 7, seed 000; §17.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsConfig {
    /// Total exposure above this fraction of the account is critical.
    pub exposure_critical_fraction: Ratio,
    /// Drawdown warning…
    pub drawdown_warning_fraction: Ratio,
    /// …and critical, which halts new entries.
    pub drawdown_critical_fraction: Ratio,
    /// Consecutive failures of one endpoint before a warning.
    pub api_failures_warning: u32,
    /// No successful rebalance for this long is a warning.
    pub rebalance_stale_hours: u64,
    /// Target vs actual divergence above this fraction is a warning.
    pub divergence_warning_fraction: Ratio,
    /// Warn when a position has used this fraction of its time stop.
    pub time_stop_warning_fraction: Ratio,
    /// Warn when a liquidation buffer falls below this, percent.
    pub liquidation_buffer_warning_percent: Ratio,
    /// Generic webhook receiver (JSON POST); its token comes from `MIRRORFLOW_WEBHOOK_TOKEN`.
    pub webhook_url: Option<String>,
    /// Telegram chat for alerts; the bot token comes from `TELEGRAM_BOT_TOKEN`.
    pub telegram_chat_id: Option<String>,
    /// Post consensus signals as Typefully drafts (seed 000, off by default); key from `TYPEFULLY_API_KEY`.
    pub typefully_enabled: bool,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            exposure_critical_fraction: Ratio::lit(55, 2),
            drawdown_warning_fraction: Ratio::lit(8, 2),
            drawdown_critical_fraction: Ratio::lit(15, 2),
            api_failures_warning: 3,
            rebalance_stale_hours: 6,
            divergence_warning_fraction: Ratio::lit(25, 2),
            time_stop_warning_fraction: Ratio::lit(80, 2),
            liquidation_buffer_warning_percent: Ratio::from_int(20),
            webhook_url: None,
            telegram_chat_id: None,
            typefully_enabled: false,
        }
    }
}

/// Go-live discipline (seed 002 phase 9).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaperTradingConfig {
    /// Minimum paper-trading period before going live.
    pub min_days: u64,
    /// Graduation requires the paper drawdown to stay below this fraction.
    pub graduation_max_drawdown_fraction: Ratio,
    /// In live mode the strategies size from at most this much of the account,
    /// whatever it holds, until the operator raises it (seed 002 phase 9: start
    /// with $5K–$10K).
    pub live_account_cap_usd: Usd,
}

impl Default for PaperTradingConfig {
    fn default() -> Self {
        PaperTradingConfig {
            min_days: 14,
            graduation_max_drawdown_fraction: Ratio::lit(10, 2),
            live_account_cap_usd: Usd::from_int(10_000),
        }
    }
}
