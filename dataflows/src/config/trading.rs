//! Configuration of what the engine trades and how: the risk module and its caps,
//! exits, the three strategies, and order execution. Defaults are the seed plans'
//! values as `strategy-rules.md` Section 5 and `decisions.md` give them.

use std::collections::BTreeMap;

use crate::model::{Ratio, Usd};
use serde::{Deserialize, Serialize};

use super::token_table::TokenTable;

/// The leverage-aware risk module (seed 004): the only path from a signal to an
/// order, so every cap here holds for every strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskConfig {
    /// Fraction of a copied trader's allocation we mirror (`COPY_RATIO`).
    pub copy_ratio: Ratio,
    /// Largest single position as a fraction of our account (`MAX_SINGLE_POSITION_PCT`).
    pub max_single_position_fraction: Ratio,
    /// Largest single position in USD whatever the account (`MAX_SINGLE_POSITION_HARD_CAP`).
    pub max_single_position_usd: Usd,
    /// Sum of all positions as a fraction of the account (`MAX_TOTAL_EXPOSURE_PCT`).
    pub max_total_exposure_fraction: Ratio,
    /// Most positions open at once (`MAX_TOTAL_POSITIONS`).
    pub max_total_positions: u32,
    /// Positions per token; one account holds one position per token (`MAX_POSITIONS_PER_TOKEN`).
    pub max_positions_per_token: u32,
    /// Exposure in one token as a fraction of the account (`MAX_EXPOSURE_PER_TOKEN_PCT`).
    pub max_exposure_per_token_fraction: Ratio,
    /// All longs together as a fraction of the account (`MAX_LONG_EXPOSURE_PCT`).
    pub max_long_exposure_fraction: Ratio,
    /// All shorts together as a fraction of the account (`MAX_SHORT_EXPOSURE_PCT`).
    pub max_short_exposure_fraction: Ratio,
    /// Highest leverage we trade at; a 20× trader is copied at this (`MAX_LEVERAGE`).
    pub max_leverage: Ratio,
    /// Leverage assumed when neither given nor inferable — conservative (seed 004 step 1).
    pub default_leverage: Ratio,
    /// Margin mode of every position we open (`MARGIN_TYPE`); only `isolated` is accepted.
    pub margin_mode: String,
    /// Smallest order we send; Hyperliquid refuses orders under $10 (`MIN_POSITION_USD`).
    pub min_order_usd: Usd,
    /// No new entry while our account is this far below its peak (the seeds' 15 %
    /// drawdown halt); exits go on. 0 turns it off.
    pub drawdown_halt_fraction: Ratio,
    /// No new entry for the rest of the UTC day once our account is this far
    /// below the day's first value. 0 turns it off.
    pub daily_loss_limit_fraction: Ratio,
    /// Size multiplier by the copied trader's leverage (`LEVERAGE_PENALTY_MAP`, decisions.md 5).
    pub leverage_penalty: LeveragePenaltyConfig,
    /// Slippage assumed per token by the sizing result, percent (`SLIPPAGE_MAP`, §12.1).
    pub slippage_percent: TokenTable<Ratio>,
    /// Liquidation-buffer monitor on our own positions (§12.2).
    pub liquidation_buffer: LiquidationBufferConfig,
}

impl Default for RiskConfig {
    fn default() -> Self {
        RiskConfig {
            copy_ratio: Ratio::lit(5, 1),
            max_single_position_fraction: Ratio::lit(10, 2),
            max_single_position_usd: Usd::from_int(50_000),
            max_total_exposure_fraction: Ratio::lit(50, 2),
            max_total_positions: 5,
            max_positions_per_token: 1,
            max_exposure_per_token_fraction: Ratio::lit(15, 2),
            max_long_exposure_fraction: Ratio::lit(60, 2),
            max_short_exposure_fraction: Ratio::lit(60, 2),
            max_leverage: Ratio::from_int(5),
            default_leverage: Ratio::from_int(5),
            margin_mode: "isolated".to_string(),
            min_order_usd: Usd::from_int(10),
            drawdown_halt_fraction: Ratio::lit(15, 2),
            daily_loss_limit_fraction: Ratio::lit(5, 2),
            leverage_penalty: LeveragePenaltyConfig::default(),
            slippage_percent: TokenTable::new(
                Ratio::lit(20, 2),
                &[
                    ("BTC", Ratio::lit(5, 2)),
                    ("ETH", Ratio::lit(10, 2)),
                    ("SOL", Ratio::lit(15, 2)),
                    ("HYPE", Ratio::lit(30, 2)),
                ],
            ),
            liquidation_buffer: LiquidationBufferConfig::default(),
        }
    }
}

/// Piecewise-linear leverage penalty (seed 001's interpolation, decisions.md 5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LeveragePenaltyConfig {
    /// Anchors `leverage → multiplier`, interpolated linearly between neighbours.
    #[serde(with = "leverage_keys")]
    pub anchors: BTreeMap<u32, Ratio>,
    /// Multiplier above the highest anchor (`LEVERAGE_PENALTY_DEFAULT`).
    pub above_max: Ratio,
}

impl Default for LeveragePenaltyConfig {
    fn default() -> Self {
        LeveragePenaltyConfig {
            anchors: [
                (1, Ratio::ONE),
                (2, Ratio::lit(90, 2)),
                (3, Ratio::lit(80, 2)),
                (5, Ratio::lit(60, 2)),
                (10, Ratio::lit(40, 2)),
                (20, Ratio::lit(20, 2)),
            ]
            .into_iter()
            .collect(),
            above_max: Ratio::lit(10, 2),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LiquidationBufferConfig {
    /// Close 100 % when the buffer to liquidation is below this, percent (`LIQUIDATION_EMERGENCY_CLOSE_PCT`).
    pub emergency_close_percent: Ratio,
    /// Reduce when below this, percent (`LIQUIDATION_REDUCE_PCT`).
    pub reduce_percent: Ratio,
    /// How much of the position a reduce sells, percent (`REDUCE_POSITION_PCT`).
    pub reduce_position_percent: Ratio,
    /// After a reduce, the same position is not reduced again for this long; emergency closes are never delayed (decisions.md 12).
    pub reduce_cooldown_secs: u64,
    /// How often the buffer is checked (seed 004's 15 s monitor).
    pub check_interval_secs: u64,
}

impl Default for LiquidationBufferConfig {
    fn default() -> Self {
        LiquidationBufferConfig {
            emergency_close_percent: Ratio::from_int(10),
            reduce_percent: Ratio::from_int(20),
            reduce_position_percent: Ratio::from_int(50),
            reduce_cooldown_secs: 60,
            check_interval_secs: 15,
        }
    }
}

/// Exit rules on our own positions (§13, decisions.md 7 and 9).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExitsConfig {
    /// Hard stop distance from entry, percent (`STOP_LOSS_PERCENT`).
    pub stop_loss_percent: Ratio,
    /// Trailing stop distance from the high-water mark, percent (`TRAILING_STOP_PERCENT`).
    pub trailing_stop_percent: Ratio,
    /// Time stop: close when held this long, `held ≥ limit` (`MAX_POSITION_DURATION_HOURS`).
    pub max_position_duration_hours: u64,
    /// Take profit in tiers (seed 001); off by default (decisions.md 9).
    pub profit_tiers_enabled: bool,
    /// Tiers by unrealised gain, each fires at most once per position (`PROFIT_TAKE_TIER_1/2/3`).
    pub profit_tiers: Vec<ProfitTier>,
    /// After a stop-out the same token and side is not re-entered for this long (decisions.md 7).
    pub reentry_cooldown_hours: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfitTier {
    /// Unrealised gain that triggers the tier, percent.
    pub gain_percent: Ratio,
    /// Share of the current size sold, percent.
    pub sell_percent: Ratio,
}

impl Default for ExitsConfig {
    fn default() -> Self {
        ExitsConfig {
            stop_loss_percent: Ratio::from_int(5),
            trailing_stop_percent: Ratio::from_int(8),
            max_position_duration_hours: 72,
            profit_tiers_enabled: false,
            profit_tiers: vec![
                ProfitTier { gain_percent: Ratio::from_int(10), sell_percent: Ratio::from_int(25) },
                ProfitTier { gain_percent: Ratio::from_int(20), sell_percent: Ratio::from_int(33) },
                ProfitTier { gain_percent: Ratio::from_int(40), sell_percent: Ratio::from_int(50) },
            ],
            reentry_cooldown_hours: 4,
        }
    }
}

fn min_trade_value_table() -> TokenTable<Usd> {
    TokenTable::new(
        Usd::from_int(5_000),
        &[
            ("BTC", Usd::from_int(50_000)),
            ("ETH", Usd::from_int(25_000)),
            ("SOL", Usd::from_int(10_000)),
            ("HYPE", Usd::from_int(5_000)),
        ],
    )
}

/// The entry-copy strategy (seed 001): every fill of a primary wallet through the
/// 9-step evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EntryConfig {
    /// Confirmation delay after a trader's fill before we copy it (`COPY_DELAY_MINUTES`).
    pub copy_delay_minutes: u64,
    /// Skip when the price moved more than this from the trader's fill, percent, strict `>` (`MAX_PRICE_SLIPPAGE_PERCENT`).
    pub max_price_slippage_percent: Ratio,
    /// Smallest trader fill worth copying, per token (`MIN_TRADE_VALUE_USD`).
    pub min_trade_value_usd: TokenTable<Usd>,
    /// Smallest fill value / trader account value (`MIN_POSITION_WEIGHT`).
    pub min_position_weight: Ratio,
    /// An `Add` is copied only within this long after the trader's `Open` (`ADD_MAX_AGE_HOURS`).
    pub add_max_age_hours: u64,
    /// Signals younger than this go out as market orders (step 6), measured from the end of the delay (decisions.md 8).
    pub market_max_age_minutes: u64,
    /// Signals younger than this go out as limits when the drift is small (step 6).
    pub limit_max_age_minutes: u64,
    /// Slippage bound of a market entry, percent.
    pub market_max_slippage_percent: Ratio,
    /// Offset of a limit entry from the current price, percent.
    pub limit_max_slippage_percent: Ratio,
    /// A limit entry needs drift below this, percent, strict `<`.
    pub limit_drift_percent: Ratio,
    /// Older signals still execute when the trader's score exceeds this…
    pub old_signal_min_score: Ratio,
    /// …and the position weight exceeds this.
    pub old_signal_min_weight: Ratio,
    /// Require other tracked traders on the same side (`REQUIRE_CONSENSUS`, off by default).
    pub require_consensus: bool,
    /// How many traders, counting the copied one (`CONSENSUS_MIN_TRADERS`).
    pub consensus_min_traders: u32,
    /// Strategy floor: copies below this are skipped (seed 001 `compute_copy_size`).
    pub min_copy_usd: Usd,
}

impl Default for EntryConfig {
    fn default() -> Self {
        EntryConfig {
            copy_delay_minutes: 15,
            max_price_slippage_percent: Ratio::from_int(2),
            min_trade_value_usd: min_trade_value_table(),
            min_position_weight: Ratio::lit(10, 2),
            add_max_age_hours: 2,
            market_max_age_minutes: 2,
            limit_max_age_minutes: 10,
            market_max_slippage_percent: Ratio::lit(5, 1),
            limit_max_slippage_percent: Ratio::lit(3, 1),
            limit_drift_percent: Ratio::lit(3, 1),
            old_signal_min_score: Ratio::lit(8, 1),
            old_signal_min_weight: Ratio::lit(25, 2),
            require_consensus: false,
            consensus_min_traders: 2,
            min_copy_usd: Usd::from_int(100),
        }
    }
}

/// How consensus votes are weighted (decisions.md 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VoteWeight {
    /// By the trader's composite score (the default).
    Score,
    /// By the trader's allocation weight (seed 003's weighted consensus).
    Allocation,
}

/// The consensus strategy (seed 000): cluster-aware consensus per token, the
/// confirmation window, and its own entry sizing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsensusConfig {
    /// Distinct clusters needed on the strong side (`MIN_CONSENSUS_TRADERS`).
    pub min_clusters: u32,
    /// Weighted volume on the strong side must exceed this multiple of the other, strict `>` (`VOLUME_DOMINANCE_RATIO`).
    pub volume_dominance_ratio: Ratio,
    /// Freshness `exp(−hours / τ)`; τ in hours (`FRESHNESS_HALF_LIFE_HOURS` — a time constant, not a half-life).
    pub freshness_time_constant_hours: Ratio,
    /// Position weight above which a vote is tagged HIGH.
    pub signal_strength_high: Ratio,
    /// Position weight above which a vote is tagged MEDIUM.
    pub signal_strength_medium: Ratio,
    /// Positions smaller than this do not vote, per token; equal passes (`SIZE_THRESHOLDS`).
    pub size_threshold_usd: TokenTable<Usd>,
    /// Positions below this share of the trader's account do not vote (`MIN_POSITION_WEIGHT`).
    pub min_position_weight: Ratio,
    /// Positions below this are ignored when polled (seed 000's positions filter).
    pub position_filter_min_usd: Usd,
    /// Confirmation window before a strong consensus becomes an entry (`COPY_DELAY_MINUTES`).
    pub copy_delay_minutes: u64,
    /// Reject when the price moved more than this from the agreeing entries, percent (`MAX_PRICE_SLIPPAGE_PERCENT`).
    pub max_price_slippage_percent: Ratio,
    /// Age limits of the order-type rules (§14): market below the first, limit below the second.
    pub market_max_age_minutes: u64,
    pub limit_max_age_minutes: u64,
    /// A limit entry needs drift below this, percent, strict `<` (§14).
    pub limit_drift_percent: Ratio,
    /// Vote weighting: `score` or `allocation`.
    pub vote_weight: VoteWeight,
    /// Base size as a fraction of our account before the cluster scale (seed 000 sizing, decisions.md 6).
    pub base_fraction: Ratio,
    /// Cluster scale = min(`cluster_scale_max`, agreeing clusters / `cluster_scale_divisor`).
    pub cluster_scale_divisor: u32,
    pub cluster_scale_max: Ratio,
    /// Strategy floor: entries below this are skipped (seed 000 sizing).
    pub min_entry_usd: Usd,
}

impl Default for ConsensusConfig {
    fn default() -> Self {
        ConsensusConfig {
            min_clusters: 3,
            volume_dominance_ratio: Ratio::from_int(2),
            freshness_time_constant_hours: Ratio::from_int(4),
            signal_strength_high: Ratio::lit(25, 2),
            signal_strength_medium: Ratio::lit(10, 2),
            size_threshold_usd: min_trade_value_table(),
            min_position_weight: Ratio::lit(10, 2),
            position_filter_min_usd: Usd::from_int(1_000),
            copy_delay_minutes: 15,
            max_price_slippage_percent: Ratio::from_int(2),
            market_max_age_minutes: 2,
            limit_max_age_minutes: 10,
            limit_drift_percent: Ratio::lit(3, 1),
            vote_weight: VoteWeight::Score,
            base_fraction: Ratio::lit(5, 2),
            cluster_scale_divisor: 3,
            cluster_scale_max: Ratio::from_int(2),
            min_entry_usd: Usd::from_int(100),
        }
    }
}

/// The index strategy (seed 002): an allocation-weighted target portfolio,
/// rebalanced on a cadence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndexConfig {
    /// Rebalance cadence (`REBALANCE_INTERVAL_HOURS`, 4–6 h).
    pub rebalance_interval_hours: u64,
    /// Changes smaller than this fraction of the current position are skipped, strict `<` (`REBALANCE_BAND`).
    pub rebalance_band: Ratio,
    /// An increase larger than this fraction of the current position goes out as a market order, else a limit.
    pub market_delta_threshold: Ratio,
    /// Limit-price offset from the mark per token, basis points (`SLIPPAGE_BPS`).
    pub limit_slippage_bps: TokenTable<Ratio>,
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig {
            rebalance_interval_hours: 4,
            rebalance_band: Ratio::lit(10, 2),
            market_delta_threshold: Ratio::lit(20, 2),
            limit_slippage_bps: TokenTable::new(
                Ratio::from_int(15),
                &[
                    ("BTC", Ratio::from_int(3)),
                    ("ETH", Ratio::from_int(5)),
                    ("SOL", Ratio::from_int(10)),
                    ("HYPE", Ratio::from_int(20)),
                ],
            ),
        }
    }
}

/// The executor: how orders are followed up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExecutionConfig {
    /// Resting limit orders are polled this often (seed 002).
    pub fill_poll_interval_secs: u64,
    /// A limit order not filled after this long is cancelled (seed 002: 5 min).
    pub limit_order_timeout_secs: u64,
}

impl Default for ExecutionConfig {
    fn default() -> Self {
        ExecutionConfig { fill_poll_interval_secs: 30, limit_order_timeout_secs: 300 }
    }
}

/// TOML table keys are strings: anchors are written `"5" = 0.6` and read back as numbers.
mod leverage_keys {
    use std::collections::BTreeMap;

    use crate::model::Ratio;
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(map: &BTreeMap<u32, Ratio>, s: S) -> Result<S::Ok, S::Error> {
        map.iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect::<Vec<_>>()
            .into_iter()
            .collect::<indexmap_like::Ordered>()
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<u32, Ratio>, D::Error> {
        let raw = BTreeMap::<String, Ratio>::deserialize(d)?;
        raw.into_iter()
            .map(|(k, v)| {
                k.parse::<u32>()
                    .map(|lev| (lev, v))
                    .map_err(|_| D::Error::custom(format!("leverage anchor {k:?} is not a whole number of x")))
            })
            .collect()
    }

    /// Keeps numeric order when written (a string-keyed BTreeMap would put "10" before "2").
    mod indexmap_like {
        use crate::model::Ratio;
        use serde::ser::{Serialize, SerializeMap, Serializer};

        pub struct Ordered(Vec<(String, Ratio)>);

        impl FromIterator<(String, Ratio)> for Ordered {
            fn from_iter<I: IntoIterator<Item = (String, Ratio)>>(iter: I) -> Ordered {
                Ordered(iter.into_iter().collect())
            }
        }

        impl Serialize for Ordered {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(self.0.len()))?;
                for (k, v) in &self.0 {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}
