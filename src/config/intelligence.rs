//! Configuration of trader intelligence: discovery, metrics and the composite
//! score (seed 003's, the one score every strategy reads — decisions.md 1),
//! eligibility and tiers (decisions.md 16), copy clusters and allocations.

use dataflows::model::{Ratio, Usd};
use serde::{Deserialize, Serialize};

/// Which leaderboard wallets are tracked at all. These filter candidates; they are
/// not eligibility gates (decisions.md 16).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscoveryConfig {
    /// Candidates need at least this account value on the leaderboard (`MIN_ACCOUNT_VALUE`).
    pub min_account_value_usd: Usd,
    /// Candidates need at least this many fills in the scoring lookback to be scored (`MIN_TRADES_FOR_SCORING`).
    pub min_fills_for_scoring: u32,
    /// Wallets taken from each leaderboard window.
    pub top_n_per_window: u32,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        DiscoveryConfig {
            min_account_value_usd: Usd::from_int(50_000),
            min_fills_for_scoring: 50,
            top_n_per_window: 100,
        }
    }
}

/// Weights of the six score components; they must sum to 1 (`SCORE_WEIGHTS`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScoreWeights {
    pub roi: Ratio,
    pub sharpe: Ratio,
    pub win_rate: Ratio,
    pub consistency: Ratio,
    pub smart_money: Ratio,
    pub risk_management: Ratio,
}

impl Default for ScoreWeights {
    fn default() -> Self {
        ScoreWeights {
            roi: Ratio::lit(25, 2),
            sharpe: Ratio::lit(20, 2),
            win_rate: Ratio::lit(15, 2),
            consistency: Ratio::lit(20, 2),
            smart_money: Ratio::lit(10, 2),
            risk_management: Ratio::lit(10, 2),
        }
    }
}

impl ScoreWeights {
    pub fn all(&self) -> [(&'static str, Ratio); 6] {
        [
            ("roi", self.roi),
            ("sharpe", self.sharpe),
            ("win_rate", self.win_rate),
            ("consistency", self.consistency),
            ("smart_money", self.smart_money),
            ("risk_management", self.risk_management),
        ]
    }
}

/// Style multipliers applied to the raw score (`STYLE_MULTIPLIERS`, seed 003).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StyleMultipliers {
    pub swing: Ratio,
    pub position: Ratio,
    /// HFT wallets are scored for reports but never copied (decisions.md 1).
    pub hft: Ratio,
}

impl Default for StyleMultipliers {
    fn default() -> Self {
        StyleMultipliers { swing: Ratio::ONE, position: Ratio::lit(85, 2), hft: Ratio::lit(4, 1) }
    }
}

/// The composite trader score (seed 003 §3.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScoringConfig {
    /// Longest metrics window and the window of style classification (`SCORING_LOOKBACK_DAYS`).
    pub lookback_days: u64,
    pub weights: ScoreWeights,
    /// 30-day ROI (percent) that normalises to 1.
    pub roi_normaliser_percent: Ratio,
    /// Pseudo-Sharpe that normalises to 1.
    pub sharpe_normaliser: Ratio,
    /// Win rate mapped to 0 (and below it the component is 0).
    pub win_rate_floor: Ratio,
    /// Win rate mapped to 1 (and above it the component is 0).
    pub win_rate_ceiling: Ratio,
    /// Consistency when all three ROIs are positive: base + max(0, bonus − variance / divisor).
    pub consistency_base: Ratio,
    pub consistency_bonus: Ratio,
    pub consistency_variance_divisor: Ratio,
    /// Consistency when exactly two ROIs are positive.
    pub consistency_two_positive: Ratio,
    /// Consistency otherwise.
    pub consistency_otherwise: Ratio,
    /// Smart-money bonus by label: contains "fund" / contains "smart" / any other label / none.
    pub smart_money_fund: Ratio,
    pub smart_money_smart: Ratio,
    pub smart_money_other_label: Ratio,
    pub smart_money_none: Ratio,
    /// Risk-management component: weights of leverage, margin mode and drawdown terms.
    pub risk_leverage_weight: Ratio,
    pub risk_margin_weight: Ratio,
    pub risk_drawdown_weight: Ratio,
    /// Average leverage at which the leverage term reaches 0.
    pub risk_leverage_divisor: Ratio,
    /// Max-drawdown proxy at which the drawdown term reaches 0.
    pub risk_drawdown_divisor: Ratio,
    /// Margin term when no position uses isolated margin.
    pub risk_not_isolated: Ratio,
    pub style_multipliers: StyleMultipliers,
    /// HFT iff trades/day > this and average hold < `hft_max_hold_hours`.
    pub hft_min_trades_per_day: Ratio,
    pub hft_max_hold_hours: Ratio,
    /// SWING iff trades/day ≥ this and average hold < `swing_max_hold_hours`; else POSITION.
    pub swing_min_trades_per_day: Ratio,
    pub swing_max_hold_hours: Ratio,
    /// Recency decay `exp(−0.693 × hours since last trade / this)` (`RECENCY_HALF_LIFE_HOURS`).
    pub recency_half_life_hours: Ratio,
    /// 7-day ROI tiers (percent): above `high` → `tier_high_multiplier`, ≥ `medium` → medium, else low.
    pub roi_tier_high_percent: Ratio,
    pub roi_tier_medium_percent: Ratio,
    pub roi_tier_high_multiplier: Ratio,
    pub roi_tier_medium_multiplier: Ratio,
    pub roi_tier_low_multiplier: Ratio,
}

impl Default for ScoringConfig {
    fn default() -> Self {
        ScoringConfig {
            lookback_days: 90,
            weights: ScoreWeights::default(),
            roi_normaliser_percent: Ratio::from_int(100),
            sharpe_normaliser: Ratio::from_int(3),
            win_rate_floor: Ratio::lit(35, 2),
            win_rate_ceiling: Ratio::lit(85, 2),
            consistency_base: Ratio::lit(7, 1),
            consistency_bonus: Ratio::lit(3, 1),
            consistency_variance_divisor: Ratio::from_int(100),
            consistency_two_positive: Ratio::lit(5, 1),
            consistency_otherwise: Ratio::lit(2, 1),
            smart_money_fund: Ratio::ONE,
            smart_money_smart: Ratio::lit(8, 1),
            smart_money_other_label: Ratio::lit(5, 1),
            smart_money_none: Ratio::ZERO,
            risk_leverage_weight: Ratio::lit(4, 1),
            risk_margin_weight: Ratio::lit(2, 1),
            risk_drawdown_weight: Ratio::lit(4, 1),
            risk_leverage_divisor: Ratio::from_int(20),
            risk_drawdown_divisor: Ratio::lit(20, 2),
            risk_not_isolated: Ratio::lit(5, 1),
            style_multipliers: StyleMultipliers::default(),
            hft_min_trades_per_day: Ratio::from_int(5),
            hft_max_hold_hours: Ratio::from_int(4),
            swing_min_trades_per_day: Ratio::lit(3, 1),
            swing_max_hold_hours: Ratio::from_int(336),
            recency_half_life_hours: Ratio::from_int(168),
            roi_tier_high_percent: Ratio::from_int(10),
            roi_tier_medium_percent: Ratio::ZERO,
            roi_tier_high_multiplier: Ratio::ONE,
            roi_tier_medium_multiplier: Ratio::lit(75, 2),
            roi_tier_low_multiplier: Ratio::lit(5, 1),
        }
    }
}

/// Eligibility (decisions.md 16): seed 003's anti-luck gates (§4.1, plan
/// thresholds), not blacklisted, not HFT; then tiers by score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EligibilityConfig {
    /// 7-day gate: total PnL > this (USD) and ROI > `roi_7d_min_percent`.
    pub pnl_7d_min_usd: Usd,
    pub roi_7d_min_percent: Ratio,
    /// 30-day gate.
    pub pnl_30d_min_usd: Usd,
    pub roi_30d_min_percent: Ratio,
    /// 90-day gate.
    pub pnl_90d_min_usd: Usd,
    pub roi_90d_min_percent: Ratio,
    /// 30-day win rate must lie in [min, max] (`WIN_RATE_BOUNDS`); above max fails, below min fails unless a trend trader.
    pub win_rate_min: Ratio,
    pub win_rate_max: Ratio,
    /// 30-day profit factor must reach this (`MIN_PROFIT_FACTOR`).
    pub min_profit_factor: Ratio,
    /// Trend-trader exception: a low win rate passes with a profit factor ≥ this (`TREND_TRADER_PF`)…
    pub trend_trader_min_profit_factor: Ratio,
    /// …and a win rate below this (`TREND_TRADER_MAX_WR`).
    pub trend_trader_max_win_rate: Ratio,
    /// Fewest closing trades in 30 days (`MIN_TRADES_30D`).
    pub min_trades_30d: u32,
    /// The highest-scored eligible wallets that are copied (`WATCHLIST_SIZE` / `TOP_N_TRADERS`).
    pub primary_count: u32,
    /// The next ones, monitored and voting in consensus.
    pub secondary_count: u32,
    /// A liquidated wallet is blacklisted this long (`LIQUIDATION_COOLDOWN_DAYS`).
    pub blacklist_days: u64,
    /// A vanished position counts as a liquidation when no Close/Reduce fill came within this look-back.
    pub liquidation_lookback_hours: u64,
}

impl Default for EligibilityConfig {
    fn default() -> Self {
        EligibilityConfig {
            pnl_7d_min_usd: Usd::ZERO,
            roi_7d_min_percent: Ratio::from_int(5),
            pnl_30d_min_usd: Usd::from_int(10_000),
            roi_30d_min_percent: Ratio::from_int(15),
            pnl_90d_min_usd: Usd::from_int(50_000),
            roi_90d_min_percent: Ratio::from_int(30),
            win_rate_min: Ratio::lit(35, 2),
            win_rate_max: Ratio::lit(85, 2),
            min_profit_factor: Ratio::lit(15, 1),
            trend_trader_min_profit_factor: Ratio::lit(25, 1),
            trend_trader_max_win_rate: Ratio::lit(40, 2),
            min_trades_30d: 20,
            primary_count: 15,
            secondary_count: 30,
            blacklist_days: 14,
            liquidation_lookback_hours: 1,
        }
    }
}

/// Copy-cluster detection (seed 000 §6, decisions.md 11).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClustersConfig {
    /// Two fills are co-timed within ± this (`COPY_WINDOW_MINUTES`).
    pub copy_window_minutes: u64,
    /// Wallets are correlated when the overlap reaches this, `≥` (`COPY_THRESHOLD`).
    pub copy_threshold: Ratio,
    /// Fills considered (cluster lookback).
    pub lookback_days: u64,
    /// Below this many fills a wallet is compared by positions instead (low-data fallback).
    pub low_data_max_fills: u32,
    /// Position-overlap fallback threshold, strict `>`.
    pub position_overlap_threshold: Ratio,
}

impl Default for ClustersConfig {
    fn default() -> Self {
        ClustersConfig {
            copy_window_minutes: 10,
            copy_threshold: Ratio::lit(40, 2),
            lookback_days: 30,
            low_data_max_fills: 20,
            position_overlap_threshold: Ratio::lit(60, 2),
        }
    }
}

/// PnL-weighted allocations (seed 003 §7, decisions.md 4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AllocationConfig {
    /// Softmax temperature over scores (`SOFTMAX_TEMPERATURE`).
    pub softmax_temperature: Ratio,
    /// Most traders in an allocation (seed 003's use of `MAX_TOTAL_POSITIONS`).
    pub max_traders: u32,
    /// Largest weight of one trader after renormalisation (`MAX_SINGLE_WEIGHT`).
    pub max_single_weight: Ratio,
    /// Largest change of one trader's weight per applied allocation (`MAX_WEIGHT_CHANGE_PER_DAY`).
    pub max_weight_change_per_day: Ratio,
    /// Weights at or below this are dropped.
    pub negligible_weight: Ratio,
    /// Allocations are recomputed this often (`METRICS_RECOMPUTE_HOURS`, with metrics and scores)…
    pub recompute_hours: u64,
    /// …and applied at most this often (`REBALANCE_COOLDOWN_HOURS`).
    pub apply_cooldown_hours: u64,
}

impl Default for AllocationConfig {
    fn default() -> Self {
        AllocationConfig {
            softmax_temperature: Ratio::from_int(2),
            max_traders: 5,
            max_single_weight: Ratio::lit(40, 2),
            max_weight_change_per_day: Ratio::lit(15, 2),
            negligible_weight: Ratio::lit(1, 3),
            recompute_hours: 6,
            apply_cooldown_hours: 24,
        }
    }
}
