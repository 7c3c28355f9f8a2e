//! Where each row of the "Section 5" constants table of `strategy-rules.md` lives
//! in the configuration. A test reads the table itself and checks every row is
//! here, that every key exists, is documented in the example file and printed by
//! `config show`.

/// How a Section 5 row is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    /// The config keys (dotted paths) that hold the row's values.
    Keys(&'static [&'static str]),
    /// Deliberately not configurable, and why.
    Omitted(&'static str),
}

use Mapping::{Keys, Omitted};

/// Rows by their first column, back-ticks removed, exactly as the table writes them.
pub const SECTION5: &[(&str, Mapping)] = &[
    ("COPY_RATIO", Keys(&["risk.copy_ratio"])),
    ("MAX_SINGLE_POSITION_PCT", Keys(&["risk.max_single_position_fraction"])),
    ("MAX_SINGLE_POSITION_HARD_CAP", Keys(&["risk.max_single_position_usd"])),
    ("MAX_TOTAL_EXPOSURE_PCT", Keys(&["risk.max_total_exposure_fraction"])),
    ("MAX_TOTAL_POSITIONS", Keys(&["risk.max_total_positions", "allocation.max_traders"])),
    ("MAX_POSITIONS_PER_TOKEN", Keys(&["risk.max_positions_per_token"])),
    ("MAX_EXPOSURE_PER_TOKEN_PCT", Keys(&["risk.max_exposure_per_token_fraction"])),
    ("MAX_LONG_EXPOSURE_PCT", Keys(&["risk.max_long_exposure_fraction"])),
    ("MAX_SHORT_EXPOSURE_PCT", Keys(&["risk.max_short_exposure_fraction"])),
    ("MAX_LEVERAGE (MAX_ALLOWED_LEVERAGE)", Keys(&["risk.max_leverage", "risk.default_leverage"])),
    ("MARGIN_TYPE", Keys(&["risk.margin_mode"])),
    ("STOP_LOSS_PERCENT", Keys(&["exits.stop_loss_percent"])),
    ("TRAILING_STOP_PERCENT", Keys(&["exits.trailing_stop_percent"])),
    ("MAX_POSITION_DURATION_HOURS", Keys(&["exits.max_position_duration_hours"])),
    ("PROFIT_TAKE_TIER_1/2/3", Keys(&["exits.profit_tiers_enabled", "exits.profit_tiers"])),
    ("COPY_DELAY_MINUTES", Keys(&["entry.copy_delay_minutes", "consensus.copy_delay_minutes"])),
    ("MAX_PRICE_SLIPPAGE_PERCENT", Keys(&["entry.max_price_slippage_percent", "consensus.max_price_slippage_percent"])),
    ("MIN_TRADE_VALUE_USD / SIZE_THRESHOLDS", Keys(&["entry.min_trade_value_usd", "consensus.size_threshold_usd"])),
    ("MIN_POSITION_WEIGHT", Keys(&["entry.min_position_weight", "consensus.min_position_weight"])),
    ("ADD_MAX_AGE_HOURS", Keys(&["entry.add_max_age_hours"])),
    (
        "entry market / limit age limits",
        Keys(&[
            "entry.market_max_age_minutes",
            "entry.limit_max_age_minutes",
            "consensus.market_max_age_minutes",
            "consensus.limit_max_age_minutes",
        ]),
    ),
    (
        "entry max slippage market / limit",
        Keys(&["entry.market_max_slippage_percent", "entry.limit_max_slippage_percent"]),
    ),
    ("limit drift threshold", Keys(&["entry.limit_drift_percent", "consensus.limit_drift_percent"])),
    ("old-signal override", Keys(&["entry.old_signal_min_score", "entry.old_signal_min_weight"])),
    ("REQUIRE_CONSENSUS / CONSENSUS_MIN_TRADERS", Keys(&["entry.require_consensus", "entry.consensus_min_traders"])),
    ("MIN_CONSENSUS_TRADERS", Keys(&["consensus.min_clusters"])),
    ("VOLUME_DOMINANCE_RATIO", Keys(&["consensus.volume_dominance_ratio"])),
    ("FRESHNESS_HALF_LIFE_HOURS", Keys(&["consensus.freshness_time_constant_hours"])),
    ("signal strength HIGH / MEDIUM", Keys(&["consensus.signal_strength_high", "consensus.signal_strength_medium"])),
    ("COPY_WINDOW_MINUTES", Keys(&["clusters.copy_window_minutes"])),
    ("COPY_THRESHOLD", Keys(&["clusters.copy_threshold"])),
    (
        "cluster lookback / low-data / overlap fallback",
        Keys(&["clusters.lookback_days", "clusters.low_data_max_fills", "clusters.position_overlap_threshold"]),
    ),
    ("WATCHLIST_SIZE / TOP_N_TRADERS", Keys(&["eligibility.primary_count", "eligibility.secondary_count"])),
    ("MIN_TRADES_FOR_SCORING / MIN_TRADE_COUNT / MIN_TRADES_REQUIRED", Keys(&["discovery.min_fills_for_scoring"])),
    ("IDEAL_TRADE_COUNT", Omitted("seed 002 marks it unused: no rule reads it")),
    ("SCORING_LOOKBACK_DAYS", Keys(&["scoring.lookback_days"])),
    ("MIN_ACCOUNT_VALUE", Keys(&["discovery.min_account_value_usd"])),
    (
        "MIN_ROI_30D (tier 1)",
        Omitted(
            "seed 002's tier-1 filter is not a separate gate (decisions.md 16); the 30-day ROI gate is eligibility.roi_30d_min_percent",
        ),
    ),
    ("anti-luck 7 d pnl / roi", Keys(&["eligibility.pnl_7d_min_usd", "eligibility.roi_7d_min_percent"])),
    ("anti-luck 30 d pnl / roi", Keys(&["eligibility.pnl_30d_min_usd", "eligibility.roi_30d_min_percent"])),
    ("anti-luck 90 d pnl / roi", Keys(&["eligibility.pnl_90d_min_usd", "eligibility.roi_90d_min_percent"])),
    ("WIN_RATE_BOUNDS", Keys(&["eligibility.win_rate_min", "eligibility.win_rate_max"])),
    ("MIN_PROFIT_FACTOR", Keys(&["eligibility.min_profit_factor"])),
    ("TREND_TRADER_PF", Keys(&["eligibility.trend_trader_min_profit_factor"])),
    ("TREND_TRADER_MAX_WR", Keys(&["eligibility.trend_trader_max_win_rate"])),
    ("MIN_TRADES_30D", Keys(&["eligibility.min_trades_30d"])),
    (
        "provisional score multiplier",
        Omitted(
            "seed 002's provisional pass for wallets without 90-day leaderboard data is not used: decisions.md 16 and 17 gate every wallet on the fills it has",
        ),
    ),
    (
        "SCORE_WEIGHTS roi / sharpe / win_rate / consistency / smart_money / risk_mgmt",
        Keys(&[
            "scoring.weights.roi",
            "scoring.weights.sharpe",
            "scoring.weights.win_rate",
            "scoring.weights.consistency",
            "scoring.weights.smart_money",
            "scoring.weights.risk_management",
        ]),
    ),
    ("ROI normaliser", Keys(&["scoring.roi_normaliser_percent"])),
    ("Sharpe normaliser", Keys(&["scoring.sharpe_normaliser"])),
    ("win-rate rescale band", Keys(&["scoring.win_rate_floor", "scoring.win_rate_ceiling"])),
    (
        "consistency base / bonus / divisor",
        Keys(&[
            "scoring.consistency_base",
            "scoring.consistency_bonus",
            "scoring.consistency_variance_divisor",
            "scoring.consistency_two_positive",
            "scoring.consistency_otherwise",
        ]),
    ),
    (
        "smart-money bonus fund / smart / other label / none",
        Keys(&[
            "scoring.smart_money_fund",
            "scoring.smart_money_smart",
            "scoring.smart_money_other_label",
            "scoring.smart_money_none",
        ]),
    ),
    (
        "risk-mgmt weights leverage / margin / drawdown",
        Keys(&[
            "scoring.risk_leverage_weight",
            "scoring.risk_margin_weight",
            "scoring.risk_drawdown_weight",
            "scoring.risk_leverage_divisor",
            "scoring.risk_drawdown_divisor",
            "scoring.risk_not_isolated",
        ]),
    ),
    (
        "STYLE_MULTIPLIERS SWING / POSITION / HFT",
        Keys(&[
            "scoring.style_multipliers.swing",
            "scoring.style_multipliers.position",
            "scoring.style_multipliers.hft",
        ]),
    ),
    ("HFT thresholds", Keys(&["scoring.hft_min_trades_per_day", "scoring.hft_max_hold_hours"])),
    ("SWING thresholds", Keys(&["scoring.swing_min_trades_per_day", "scoring.swing_max_hold_hours"])),
    ("RECENCY_HALF_LIFE_HOURS", Keys(&["scoring.recency_half_life_hours"])),
    (
        "ROI_TIER_HIGH / ROI_TIER_MEDIUM",
        Keys(&[
            "scoring.roi_tier_high_percent",
            "scoring.roi_tier_medium_percent",
            "scoring.roi_tier_high_multiplier",
            "scoring.roi_tier_medium_multiplier",
            "scoring.roi_tier_low_multiplier",
        ]),
    ),
    ("SOFTMAX_TEMPERATURE", Keys(&["allocation.softmax_temperature"])),
    ("MAX_SINGLE_WEIGHT", Keys(&["allocation.max_single_weight"])),
    ("MAX_WEIGHT_CHANGE_PER_DAY", Keys(&["allocation.max_weight_change_per_day"])),
    ("negligible weight", Keys(&["allocation.negligible_weight"])),
    ("REBALANCE_COOLDOWN_HOURS", Keys(&["allocation.apply_cooldown_hours"])),
    ("LIQUIDATION_COOLDOWN_DAYS", Keys(&["eligibility.blacklist_days"])),
    ("liquidation check look-back", Keys(&["eligibility.liquidation_lookback_hours"])),
    ("LIQUIDATION_EMERGENCY_CLOSE_PCT", Keys(&["risk.liquidation_buffer.emergency_close_percent"])),
    ("LIQUIDATION_REDUCE_PCT", Keys(&["risk.liquidation_buffer.reduce_percent"])),
    ("REDUCE_POSITION_PCT", Keys(&["risk.liquidation_buffer.reduce_position_percent"])),
    ("liquidation-monitor cooldown", Keys(&["risk.liquidation_buffer.reduce_cooldown_secs"])),
    ("LEVERAGE_PENALTY_MAP", Keys(&["risk.leverage_penalty.anchors"])),
    ("LEVERAGE_PENALTY_DEFAULT", Keys(&["risk.leverage_penalty.above_max"])),
    ("MIN_POSITION_USD (risk module dust)", Keys(&["risk.min_order_usd"])),
    ("SLIPPAGE_MAP (risk module)", Keys(&["risk.slippage_percent"])),
    ("SLIPPAGE_BPS (rebalance allowance)", Keys(&["index.limit_slippage_bps"])),
    (
        "consensus slippage targets",
        Omitted(
            "defined but unused by seed 000's decision tree (§15); consensus entries use consensus.limit_drift_percent and risk.slippage_percent",
        ),
    ),
    ("REBALANCE_INTERVAL_HOURS", Keys(&["index.rebalance_interval_hours"])),
    ("REBALANCE_BAND", Keys(&["index.rebalance_band"])),
    ("market-vs-limit delta threshold", Keys(&["index.market_delta_threshold"])),
    (
        "fill polling interval / limit timeout",
        Keys(&["execution.fill_poll_interval_secs", "execution.limit_order_timeout_secs"]),
    ),
    (
        "API retries",
        Keys(&[
            "nansen.retry.max_retries",
            "nansen.retry.base_delay_ms",
            "nansen.retry.max_delay_ms",
            "hyperliquid.retry.max_retries",
            "hyperliquid.retry.base_delay_ms",
            "hyperliquid.retry.max_delay_ms",
        ]),
    ),
    ("POLL_TRADES", Keys(&["schedule.poll_trades_secs"])),
    ("POLL_POSITIONS", Keys(&["schedule.poll_positions_secs"])),
    ("smart-money trades poll", Keys(&["schedule.poll_smart_money_secs"])),
    ("POLL_LEADERBOARD", Keys(&["schedule.poll_leaderboard_secs"])),
    ("METRICS_RECOMPUTE_HOURS", Keys(&["allocation.recompute_hours"])),
    (
        "monitor interval",
        Keys(&[
            "schedule.monitor_interval.consensus_secs",
            "schedule.monitor_interval.entry_secs",
            "schedule.monitor_interval.index_secs",
            "risk.liquidation_buffer.check_interval_secs",
        ]),
    ),
    ("account state refresh", Keys(&["schedule.account_refresh_secs"])),
    ("HL mark fallback poll", Keys(&["schedule.mark_fallback_poll_secs"])),
    ("price staleness", Keys(&["schedule.price_stale_secs"])),
    ("position filter on positions poll", Keys(&["consensus.position_filter_min_usd"])),
    ("snapshot retention", Keys(&["schedule.retention_days"])),
    ("backtest start capital", Keys(&["backtest.start_capital_usd"])),
    // decisions.md 13 picks seed 000's 30–60 s for backfill and paper.
    ("backtest latency", Keys(&["simulation.latency_min_ms", "simulation.latency_max_ms"])),
    (
        "backtest miss / partial rates",
        Keys(&[
            "simulation.limit_miss_rate",
            "simulation.partial_fill_rate",
            "simulation.partial_fill_min",
            "simulation.partial_fill_max",
        ]),
    ),
    ("paper fee (repo)", Keys(&["simulation.fee_percent"])),
    (
        "alert thresholds",
        Keys(&[
            "alerts.exposure_critical_fraction",
            "alerts.drawdown_warning_fraction",
            "alerts.drawdown_critical_fraction",
            "alerts.api_failures_warning",
            "alerts.rebalance_stale_hours",
            "alerts.divergence_warning_fraction",
            "alerts.time_stop_warning_fraction",
        ]),
    ),
    ("paper-trading minimum", Keys(&["paper_trading.min_days", "paper_trading.graduation_max_drawdown_fraction"])),
];
