//! Validation of a parsed configuration: every impossible or contradictory value
//! is reported with its key, its value and the allowed range — all of them at
//! once, so a user fixes a file in one pass.

use std::collections::BTreeSet;
use std::fmt::{self, Display};
use std::net::SocketAddr;

use dataflows::model::{Address, Ratio, Usd};

use super::Config;
use super::token_table::TokenTable;

/// One problem with one configuration key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub key: String,
    pub value: String,
    pub rule: String,
}

impl Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {}: {}", self.key, self.value, self.rule)
    }
}

#[derive(Default)]
struct Checker {
    issues: Vec<Issue>,
}

const fn r(mantissa: i64, decimals: u32) -> Ratio {
    Ratio::lit(mantissa, decimals)
}

impl Checker {
    fn require(&mut self, ok: bool, key: &str, value: impl Display, rule: &str) {
        if !ok {
            self.issues.push(Issue { key: key.to_string(), value: value.to_string(), rule: rule.to_string() });
        }
    }
    /// lo ≤ v ≤ hi.
    fn between(&mut self, key: &str, v: Ratio, lo: Ratio, hi: Ratio) {
        self.require(v >= lo && v <= hi, key, v, &format!("must be within [{lo}, {hi}]"));
    }
    /// 0 < v ≤ hi.
    fn above_zero_to(&mut self, key: &str, v: Ratio, hi: Ratio) {
        self.require(v.is_positive() && v <= hi, key, v, &format!("must be > 0 and ≤ {hi}"));
    }
    /// A fraction of something: 0 < v ≤ 1.
    fn share(&mut self, key: &str, v: Ratio) {
        self.above_zero_to(key, v, Ratio::ONE);
    }
    /// A fraction that may be 0: 0 ≤ v ≤ 1.
    fn fraction(&mut self, key: &str, v: Ratio) {
        self.between(key, v, Ratio::ZERO, Ratio::ONE);
    }
    /// A percentage strictly between 0 and 100.
    fn percent_open(&mut self, key: &str, v: Ratio) {
        self.require(v.is_positive() && v < Ratio::HUNDRED, key, v, "must be > 0 and < 100 (percent)");
    }
    fn positive(&mut self, key: &str, v: Ratio) {
        self.require(v.is_positive(), key, v, "must be > 0");
    }
    fn positive_usd(&mut self, key: &str, v: Usd) {
        self.require(v.is_positive(), key, v, "must be > 0 (USD)");
    }
    fn non_negative_usd(&mut self, key: &str, v: Usd) {
        self.require(!v.is_negative(), key, v, "must be ≥ 0 (USD)");
    }
    fn count(&mut self, key: &str, v: u64, lo: u64, hi: u64) {
        self.require(v >= lo && v <= hi, key, v, &format!("must be within [{lo}, {hi}]"));
    }
    fn table(&mut self, key: &str, t: &TokenTable<Ratio>, lo: Ratio, hi: Ratio) {
        for (token, v) in t.entries() {
            self.between(&format!("{key}.{token}"), v, lo, hi);
        }
    }
    fn usd_table(&mut self, key: &str, t: &TokenTable<Usd>) {
        for (token, v) in t.entries() {
            self.non_negative_usd(&format!("{key}.{token}"), v);
        }
    }
    fn url(&mut self, key: &str, url: &str, schemes: &[&str]) {
        let ok = schemes
            .iter()
            .any(|s| url.strip_prefix(s).and_then(|r| r.strip_prefix("://")).is_some_and(|h| !h.is_empty()));
        self.require(
            ok,
            key,
            format!("{url:?}"),
            &format!("must be a URL starting with {}://", schemes.join(":// or ")),
        );
    }
}

/// Every problem in `cfg`; empty when it is valid.
pub fn validate(cfg: &Config) -> Vec<Issue> {
    let mut c = Checker::default();
    strategies(&mut c, cfg);
    risk(&mut c, cfg);
    exits(&mut c, cfg);
    entry(&mut c, cfg);
    consensus(&mut c, cfg);
    index_and_execution(&mut c, cfg);
    intelligence(&mut c, cfg);
    operations(&mut c, cfg);
    c.issues
}

fn strategies(c: &mut Checker, cfg: &Config) {
    let enabled = &cfg.strategies.enabled;
    let names: Vec<&str> = enabled.iter().map(|s| s.name()).collect();
    c.require(!enabled.is_empty(), "strategies.enabled", "[]", "enable at least one of consensus, entry, index");
    let distinct: BTreeSet<_> = enabled.iter().collect();
    c.require(distinct.len() == enabled.len(), "strategies.enabled", format!("{names:?}"), "lists a strategy twice");
}

fn risk(c: &mut Checker, cfg: &Config) {
    let k = &cfg.risk;
    c.share("risk.copy_ratio", k.copy_ratio);
    c.share("risk.max_single_position_fraction", k.max_single_position_fraction);
    c.positive_usd("risk.max_single_position_usd", k.max_single_position_usd);
    c.share("risk.max_total_exposure_fraction", k.max_total_exposure_fraction);
    c.count("risk.max_total_positions", k.max_total_positions.into(), 1, 100);
    c.count("risk.max_positions_per_token", k.max_positions_per_token.into(), 1, 1);
    c.share("risk.max_exposure_per_token_fraction", k.max_exposure_per_token_fraction);
    c.share("risk.max_long_exposure_fraction", k.max_long_exposure_fraction);
    c.share("risk.max_short_exposure_fraction", k.max_short_exposure_fraction);
    c.require(
        k.max_single_position_fraction <= k.max_total_exposure_fraction,
        "risk.max_single_position_fraction",
        k.max_single_position_fraction,
        "must not exceed risk.max_total_exposure_fraction",
    );
    c.between("risk.max_leverage", k.max_leverage, Ratio::ONE, Ratio::from_int(50));
    c.between("risk.default_leverage", k.default_leverage, Ratio::ONE, k.max_leverage.max(Ratio::ONE));
    c.require(
        k.margin_mode == "isolated",
        "risk.margin_mode",
        format!("{:?}", k.margin_mode),
        "must be \"isolated\" (copied positions never use cross margin)",
    );
    c.require(
        k.min_order_usd >= Usd::from_int(10),
        "risk.min_order_usd",
        k.min_order_usd,
        "must be ≥ 10 (Hyperliquid refuses orders under $10 notional)",
    );
    c.fraction("risk.drawdown_halt_fraction", k.drawdown_halt_fraction);
    c.fraction("risk.daily_loss_limit_fraction", k.daily_loss_limit_fraction);
    let lp = &k.leverage_penalty;
    c.require(
        lp.anchors.contains_key(&1),
        "risk.leverage_penalty.anchors",
        "(no 1× anchor)",
        "must define the multiplier at 1×",
    );
    let mut previous: Option<(u32, Ratio)> = None;
    for (lev, mult) in &lp.anchors {
        let key = format!("risk.leverage_penalty.anchors.{lev}");
        c.share(&key, *mult);
        c.require(*lev >= 1, &key, lev, "anchors are leverages ≥ 1");
        if let Some((prev_lev, prev)) = previous {
            c.require(
                *mult <= prev,
                &key,
                mult,
                &format!("must not exceed the multiplier at {prev_lev}× ({prev}): higher leverage is never rewarded"),
            );
        }
        previous = Some((*lev, *mult));
    }
    c.share("risk.leverage_penalty.above_max", lp.above_max);
    if let Some((lev, last)) = previous {
        c.require(
            lp.above_max <= last,
            "risk.leverage_penalty.above_max",
            lp.above_max,
            &format!("must not exceed the multiplier at {lev}× ({last})"),
        );
    }
    c.table("risk.slippage_percent", &k.slippage_percent, Ratio::ZERO, Ratio::from_int(10));
    let lb = &k.liquidation_buffer;
    c.percent_open("risk.liquidation_buffer.emergency_close_percent", lb.emergency_close_percent);
    c.percent_open("risk.liquidation_buffer.reduce_percent", lb.reduce_percent);
    c.require(
        lb.emergency_close_percent < lb.reduce_percent,
        "risk.liquidation_buffer.emergency_close_percent",
        lb.emergency_close_percent,
        "must be below risk.liquidation_buffer.reduce_percent (emergency is the closer threshold)",
    );
    c.above_zero_to("risk.liquidation_buffer.reduce_position_percent", lb.reduce_position_percent, Ratio::HUNDRED);
    c.count("risk.liquidation_buffer.reduce_cooldown_secs", lb.reduce_cooldown_secs, 0, 3_600);
    c.count("risk.liquidation_buffer.check_interval_secs", lb.check_interval_secs, 1, 3_600);
}

fn exits(c: &mut Checker, cfg: &Config) {
    let e = &cfg.exits;
    c.percent_open("exits.stop_loss_percent", e.stop_loss_percent);
    c.percent_open("exits.trailing_stop_percent", e.trailing_stop_percent);
    c.count("exits.max_position_duration_hours", e.max_position_duration_hours, 1, 24 * 365);
    c.count("exits.reentry_cooldown_hours", e.reentry_cooldown_hours, 0, 24 * 30);
    let mut previous_gain = Ratio::ZERO;
    for (i, tier) in e.profit_tiers.iter().enumerate() {
        let key = format!("exits.profit_tiers[{i}]");
        c.require(
            tier.gain_percent > previous_gain,
            &format!("{key}.gain_percent"),
            tier.gain_percent,
            "tiers must have positive, strictly increasing gains",
        );
        c.above_zero_to(&format!("{key}.sell_percent"), tier.sell_percent, Ratio::HUNDRED);
        previous_gain = tier.gain_percent;
    }
}

fn entry(c: &mut Checker, cfg: &Config) {
    let e = &cfg.entry;
    c.count("entry.copy_delay_minutes", e.copy_delay_minutes, 0, 24 * 60);
    c.above_zero_to("entry.max_price_slippage_percent", e.max_price_slippage_percent, Ratio::HUNDRED);
    c.usd_table("entry.min_trade_value_usd", &e.min_trade_value_usd);
    c.fraction("entry.min_position_weight", e.min_position_weight);
    c.count("entry.add_max_age_hours", e.add_max_age_hours, 0, 24 * 7);
    c.require(
        e.market_max_age_minutes <= e.limit_max_age_minutes,
        "entry.market_max_age_minutes",
        e.market_max_age_minutes,
        "must not exceed entry.limit_max_age_minutes",
    );
    c.above_zero_to("entry.market_max_slippage_percent", e.market_max_slippage_percent, Ratio::from_int(10));
    c.above_zero_to("entry.limit_max_slippage_percent", e.limit_max_slippage_percent, Ratio::from_int(10));
    c.above_zero_to("entry.limit_drift_percent", e.limit_drift_percent, Ratio::from_int(10));
    c.fraction("entry.old_signal_min_score", e.old_signal_min_score);
    c.fraction("entry.old_signal_min_weight", e.old_signal_min_weight);
    c.count("entry.consensus_min_traders", e.consensus_min_traders.into(), 1, 1_000);
    c.non_negative_usd("entry.min_copy_usd", e.min_copy_usd);
}

fn consensus(c: &mut Checker, cfg: &Config) {
    let k = &cfg.consensus;
    c.count("consensus.min_clusters", k.min_clusters.into(), 1, 1_000);
    c.between("consensus.volume_dominance_ratio", k.volume_dominance_ratio, Ratio::ONE, Ratio::from_int(1_000));
    c.above_zero_to(
        "consensus.freshness_time_constant_hours",
        k.freshness_time_constant_hours,
        Ratio::from_int(24 * 365),
    );
    c.share("consensus.signal_strength_high", k.signal_strength_high);
    c.fraction("consensus.signal_strength_medium", k.signal_strength_medium);
    c.require(
        k.signal_strength_medium < k.signal_strength_high,
        "consensus.signal_strength_medium",
        k.signal_strength_medium,
        "must be below consensus.signal_strength_high",
    );
    c.usd_table("consensus.size_threshold_usd", &k.size_threshold_usd);
    c.fraction("consensus.min_position_weight", k.min_position_weight);
    c.non_negative_usd("consensus.position_filter_min_usd", k.position_filter_min_usd);
    c.count("consensus.copy_delay_minutes", k.copy_delay_minutes, 0, 24 * 60);
    c.above_zero_to("consensus.max_price_slippage_percent", k.max_price_slippage_percent, Ratio::HUNDRED);
    c.require(
        k.market_max_age_minutes <= k.limit_max_age_minutes,
        "consensus.market_max_age_minutes",
        k.market_max_age_minutes,
        "must not exceed consensus.limit_max_age_minutes",
    );
    c.above_zero_to("consensus.limit_drift_percent", k.limit_drift_percent, Ratio::from_int(10));
    c.share("consensus.base_fraction", k.base_fraction);
    c.count("consensus.cluster_scale_divisor", k.cluster_scale_divisor.into(), 1, 1_000);
    c.above_zero_to("consensus.cluster_scale_max", k.cluster_scale_max, Ratio::from_int(100));
    c.non_negative_usd("consensus.min_entry_usd", k.min_entry_usd);
}

fn index_and_execution(c: &mut Checker, cfg: &Config) {
    let i = &cfg.index;
    c.count("index.rebalance_interval_hours", i.rebalance_interval_hours, 1, 24 * 7);
    c.require(
        i.rebalance_band >= Ratio::ZERO && i.rebalance_band < Ratio::ONE,
        "index.rebalance_band",
        i.rebalance_band,
        "must be within [0, 1)",
    );
    c.above_zero_to("index.market_delta_threshold", i.market_delta_threshold, Ratio::from_int(10));
    c.table("index.limit_slippage_bps", &i.limit_slippage_bps, Ratio::ZERO, Ratio::from_int(1_000));
    let x = &cfg.execution;
    c.count("execution.fill_poll_interval_secs", x.fill_poll_interval_secs, 1, 3_600);
    c.require(
        x.limit_order_timeout_secs >= x.fill_poll_interval_secs,
        "execution.limit_order_timeout_secs",
        x.limit_order_timeout_secs,
        "must be at least execution.fill_poll_interval_secs",
    );
}

fn intelligence(c: &mut Checker, cfg: &Config) {
    let d = &cfg.discovery;
    c.non_negative_usd("discovery.min_account_value_usd", d.min_account_value_usd);
    c.count("discovery.top_n_per_window", d.top_n_per_window.into(), 1, 100_000);

    let s = &cfg.scoring;
    c.count("scoring.lookback_days", s.lookback_days, 90, 365);
    let mut total = Ratio::ZERO;
    for (name, w) in s.weights.all() {
        c.fraction(&format!("scoring.weights.{name}"), w);
        total = total.checked_add(w).unwrap_or(Ratio::ZERO);
    }
    c.require(total == Ratio::ONE, "scoring.weights", format!("sum {total}"), "the six weights must sum to 1");
    c.positive("scoring.roi_normaliser_percent", s.roi_normaliser_percent);
    c.positive("scoring.sharpe_normaliser", s.sharpe_normaliser);
    c.fraction("scoring.win_rate_floor", s.win_rate_floor);
    c.fraction("scoring.win_rate_ceiling", s.win_rate_ceiling);
    c.require(
        s.win_rate_floor < s.win_rate_ceiling,
        "scoring.win_rate_floor",
        s.win_rate_floor,
        "must be below scoring.win_rate_ceiling",
    );
    for (key, v) in [
        ("scoring.consistency_base", s.consistency_base),
        ("scoring.consistency_bonus", s.consistency_bonus),
        ("scoring.consistency_two_positive", s.consistency_two_positive),
        ("scoring.consistency_otherwise", s.consistency_otherwise),
        ("scoring.smart_money_fund", s.smart_money_fund),
        ("scoring.smart_money_smart", s.smart_money_smart),
        ("scoring.smart_money_other_label", s.smart_money_other_label),
        ("scoring.smart_money_none", s.smart_money_none),
        ("scoring.risk_leverage_weight", s.risk_leverage_weight),
        ("scoring.risk_margin_weight", s.risk_margin_weight),
        ("scoring.risk_drawdown_weight", s.risk_drawdown_weight),
        ("scoring.risk_not_isolated", s.risk_not_isolated),
        ("scoring.style_multipliers.swing", s.style_multipliers.swing),
        ("scoring.style_multipliers.position", s.style_multipliers.position),
        ("scoring.style_multipliers.hft", s.style_multipliers.hft),
        ("scoring.roi_tier_high_multiplier", s.roi_tier_high_multiplier),
        ("scoring.roi_tier_medium_multiplier", s.roi_tier_medium_multiplier),
        ("scoring.roi_tier_low_multiplier", s.roi_tier_low_multiplier),
    ] {
        c.fraction(key, v);
    }
    c.require(
        s.consistency_base.checked_add(s.consistency_bonus).is_ok_and(|v| v <= Ratio::ONE),
        "scoring.consistency_bonus",
        s.consistency_bonus,
        "consistency_base + consistency_bonus must not exceed 1",
    );
    c.positive("scoring.consistency_variance_divisor", s.consistency_variance_divisor);
    let risk_sum = [s.risk_leverage_weight, s.risk_margin_weight, s.risk_drawdown_weight]
        .into_iter()
        .try_fold(Ratio::ZERO, |a, b| a.checked_add(b))
        .unwrap_or(Ratio::ZERO);
    c.require(
        risk_sum == Ratio::ONE,
        "scoring.risk_leverage_weight",
        format!("sum {risk_sum}"),
        "the three risk-management weights must sum to 1",
    );
    c.positive("scoring.risk_leverage_divisor", s.risk_leverage_divisor);
    c.positive("scoring.risk_drawdown_divisor", s.risk_drawdown_divisor);
    c.positive("scoring.hft_min_trades_per_day", s.hft_min_trades_per_day);
    c.positive("scoring.hft_max_hold_hours", s.hft_max_hold_hours);
    c.positive("scoring.swing_min_trades_per_day", s.swing_min_trades_per_day);
    c.require(
        s.swing_max_hold_hours > s.hft_max_hold_hours,
        "scoring.swing_max_hold_hours",
        s.swing_max_hold_hours,
        "must exceed scoring.hft_max_hold_hours",
    );
    c.above_zero_to("scoring.recency_half_life_hours", s.recency_half_life_hours, Ratio::from_int(24 * 365));
    c.require(
        s.roi_tier_high_percent >= s.roi_tier_medium_percent,
        "scoring.roi_tier_high_percent",
        s.roi_tier_high_percent,
        "must be at least scoring.roi_tier_medium_percent",
    );
    c.require(
        s.roi_tier_high_multiplier >= s.roi_tier_medium_multiplier
            && s.roi_tier_medium_multiplier >= s.roi_tier_low_multiplier,
        "scoring.roi_tier_medium_multiplier",
        s.roi_tier_medium_multiplier,
        "tier multipliers must not increase from high to medium to low",
    );

    let e = &cfg.eligibility;
    c.fraction("eligibility.win_rate_min", e.win_rate_min);
    c.fraction("eligibility.win_rate_max", e.win_rate_max);
    c.require(
        e.win_rate_min < e.win_rate_max,
        "eligibility.win_rate_min",
        e.win_rate_min,
        "must be below eligibility.win_rate_max",
    );
    c.positive("eligibility.min_profit_factor", e.min_profit_factor);
    c.positive("eligibility.trend_trader_min_profit_factor", e.trend_trader_min_profit_factor);
    c.fraction("eligibility.trend_trader_max_win_rate", e.trend_trader_max_win_rate);
    c.count("eligibility.min_trades_30d", e.min_trades_30d.into(), 0, 100_000);
    c.count("eligibility.primary_count", e.primary_count.into(), 1, 10_000);
    c.count("eligibility.secondary_count", e.secondary_count.into(), 0, 10_000);
    c.count("eligibility.blacklist_days", e.blacklist_days, 1, 365);
    c.count("eligibility.liquidation_lookback_hours", e.liquidation_lookback_hours, 1, 24 * 7);

    let k = &cfg.clusters;
    c.count("clusters.copy_window_minutes", k.copy_window_minutes, 1, 24 * 60);
    c.share("clusters.copy_threshold", k.copy_threshold);
    c.count("clusters.lookback_days", k.lookback_days, 1, 365);
    c.share("clusters.position_overlap_threshold", k.position_overlap_threshold);

    let a = &cfg.allocation;
    c.above_zero_to("allocation.softmax_temperature", a.softmax_temperature, Ratio::from_int(1_000));
    c.count("allocation.max_traders", a.max_traders.into(), 1, 1_000);
    c.share("allocation.max_single_weight", a.max_single_weight);
    c.share("allocation.max_weight_change_per_day", a.max_weight_change_per_day);
    c.require(
        a.negligible_weight >= Ratio::ZERO && a.negligible_weight < r(1, 1),
        "allocation.negligible_weight",
        a.negligible_weight,
        "must be within [0, 0.1)",
    );
    c.count("allocation.recompute_hours", a.recompute_hours, 1, 24 * 7);
    c.count("allocation.apply_cooldown_hours", a.apply_cooldown_hours, 0, 24 * 30);
}

fn operations(c: &mut Checker, cfg: &Config) {
    let s = &cfg.schedule;
    for (key, v) in [
        ("schedule.poll_trades_secs", s.poll_trades_secs),
        ("schedule.poll_positions_secs", s.poll_positions_secs),
        ("schedule.poll_leaderboard_secs", s.poll_leaderboard_secs),
        ("schedule.poll_smart_money_secs", s.poll_smart_money_secs),
        ("schedule.account_refresh_secs", s.account_refresh_secs),
        ("schedule.mark_fallback_poll_secs", s.mark_fallback_poll_secs),
        ("schedule.price_stale_secs", s.price_stale_secs),
        ("schedule.monitor_interval.consensus_secs", s.monitor_interval.consensus_secs),
        ("schedule.monitor_interval.entry_secs", s.monitor_interval.entry_secs),
        ("schedule.monitor_interval.index_secs", s.monitor_interval.index_secs),
    ] {
        c.count(key, v, 1, 7 * 86_400);
    }
    c.require(
        s.retention_days >= cfg.scoring.lookback_days,
        "schedule.retention_days",
        s.retention_days,
        &format!("must keep at least scoring.lookback_days ({}) of history", cfg.scoring.lookback_days),
    );

    let n = &cfg.nansen;
    c.url("nansen.api_url", &n.api_url, &["https", "http"]);
    c.count("nansen.requests_per_second", n.requests_per_second.into(), 1, 1_000);
    c.count("nansen.requests_per_minute", n.requests_per_minute.into(), 1, 60_000);
    c.count("nansen.perp_trades_per_minute", n.perp_trades_per_minute.into(), 1, 60_000);
    c.count("nansen.page_size", n.page_size.into(), 1, 1_000);
    retry(c, "nansen.retry", &n.retry);

    let h = &cfg.hyperliquid;
    c.url("hyperliquid.api_url", &h.api_url, &["https", "http"]);
    c.url("hyperliquid.ws_url", &h.ws_url, &["wss", "ws"]);
    c.count("hyperliquid.info_weight_per_minute", h.info_weight_per_minute.into(), 1, 1_000_000);
    c.count("hyperliquid.ws_ping_secs", h.ws_ping_secs, 1, 59);
    c.require(
        h.schedule_cancel_secs == 0 || (5..=86_400).contains(&h.schedule_cancel_secs),
        "hyperliquid.schedule_cancel_secs",
        h.schedule_cancel_secs,
        "must be 0 (off) or within [5, 86400] (Hyperliquid wants the time at least 5 s ahead)",
    );
    if let Some(vault) = &h.vault_address {
        let parsed = Address::parse(vault);
        c.require(
            parsed.is_ok(),
            "hyperliquid.vault_address",
            format!("{vault:?}"),
            "must be 0x followed by 40 hex digits",
        );
    }
    retry(c, "hyperliquid.retry", &h.retry);

    if let Some(address) = &cfg.keys.account_address {
        let ok = Address::parse(address).is_ok();
        c.require(ok, "keys.account_address", format!("{address:?}"), "must be 0x followed by 40 hex digits");
    }
    let listen = &cfg.http.listen;
    c.require(
        listen.parse::<SocketAddr>().is_ok(),
        "http.listen",
        format!("{listen:?}"),
        "must be an IP:port such as 127.0.0.1:9464",
    );
    c.require(!cfg.state.dir.as_os_str().is_empty(), "state.dir", "\"\"", "must name a directory");
    c.count("state.checkpoint_interval_secs", cfg.state.checkpoint_interval_secs, 1, 86_400);
    c.require(
        tracing_subscriber::EnvFilter::try_new(&cfg.log.level).is_ok(),
        "log.level",
        format!("{:?}", cfg.log.level),
        "must be a level (error, warn, info, debug, trace) or a tracing filter",
    );

    let m = &cfg.simulation;
    c.table("simulation.slippage_percent", &m.slippage_percent, Ratio::ZERO, Ratio::from_int(10));
    c.between("simulation.size_factor_per_100k", m.size_factor_per_100k, Ratio::ZERO, Ratio::from_int(100));
    c.require(
        m.latency_min_ms <= m.latency_max_ms,
        "simulation.latency_min_ms",
        m.latency_min_ms,
        "must not exceed simulation.latency_max_ms",
    );
    c.count("simulation.latency_max_ms", m.latency_max_ms, 0, 3_600_000);
    c.fraction("simulation.limit_miss_rate", m.limit_miss_rate);
    c.fraction("simulation.partial_fill_rate", m.partial_fill_rate);
    c.share("simulation.partial_fill_min", m.partial_fill_min);
    c.share("simulation.partial_fill_max", m.partial_fill_max);
    c.require(
        m.partial_fill_min <= m.partial_fill_max,
        "simulation.partial_fill_min",
        m.partial_fill_min,
        "must not exceed simulation.partial_fill_max",
    );
    c.between("simulation.fee_percent", m.fee_percent, Ratio::ZERO, Ratio::ONE);

    c.positive_usd("backtest.start_capital_usd", cfg.backtest.start_capital_usd);
    c.count("backtest.lagged_null_hours", cfg.backtest.lagged_null_hours, 0, 24 * 30);

    let a = &cfg.alerts;
    c.share("alerts.exposure_critical_fraction", a.exposure_critical_fraction);
    c.share("alerts.drawdown_warning_fraction", a.drawdown_warning_fraction);
    c.share("alerts.drawdown_critical_fraction", a.drawdown_critical_fraction);
    c.require(
        a.drawdown_warning_fraction < a.drawdown_critical_fraction,
        "alerts.drawdown_warning_fraction",
        a.drawdown_warning_fraction,
        "must be below alerts.drawdown_critical_fraction",
    );
    c.count("alerts.api_failures_warning", a.api_failures_warning.into(), 1, 1_000);
    c.count("alerts.rebalance_stale_hours", a.rebalance_stale_hours, 1, 24 * 7);
    c.share("alerts.divergence_warning_fraction", a.divergence_warning_fraction);
    c.require(
        a.time_stop_warning_fraction.is_positive() && a.time_stop_warning_fraction < Ratio::ONE,
        "alerts.time_stop_warning_fraction",
        a.time_stop_warning_fraction,
        "must be > 0 and < 1",
    );
    c.percent_open("alerts.liquidation_buffer_warning_percent", a.liquidation_buffer_warning_percent);
    if let Some(url) = &a.webhook_url {
        c.url("alerts.webhook_url", url, &["https", "http"]);
    }
    c.count("paper_trading.min_days", cfg.paper_trading.min_days, 0, 365);
    c.share("paper_trading.graduation_max_drawdown_fraction", cfg.paper_trading.graduation_max_drawdown_fraction);
    c.positive_usd("paper_trading.live_account_cap_usd", cfg.paper_trading.live_account_cap_usd);
}

fn retry(c: &mut Checker, key: &str, r: &super::operations::RetryConfig) {
    c.count(&format!("{key}.max_retries"), r.max_retries.into(), 0, 20);
    c.count(&format!("{key}.base_delay_ms"), r.base_delay_ms, 1, 600_000);
    c.require(
        r.base_delay_ms <= r.max_delay_ms,
        &format!("{key}.base_delay_ms"),
        r.base_delay_ms,
        &format!("must not exceed {key}.max_delay_ms"),
    );
    c.count(&format!("{key}.timeout_ms"), r.timeout_ms, 100, 600_000);
}
