//! Eligibility (decisions.md 16): a wallet is eligible when it passes the
//! anti-luck gates (strategy-rules.md §4.1, the plan's thresholds), is not
//! blacklisted and is not HFT. Primary = the 15 best eligible by score,
//! secondary = the next 30. The blacklist (§5) lasts 14 days from the latest
//! liquidation; at the instant of expiry the wallet is eligible again.

use crate::model::{Ratio, TimeMs, Usd};

use super::metrics::{Style, WindowMetrics};

/// How long a liquidation blacklists a wallet.
pub const BLACKLIST_MS: u64 = 14 * 86_400_000;

/// Why a wallet is not eligible: the first failing check, in the rules' order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ineligible {
    SevenDayGate,
    ThirtyDayGate,
    NinetyDayGate,
    WinRateTooHigh,
    WinRateTooLow,
    ProfitFactorTooLow,
    InsufficientTrades,
    Blacklisted,
    Hft,
}

/// The windows' metrics a decision reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    pub d7: WindowMetrics,
    pub d30: WindowMetrics,
    pub d90: WindowMetrics,
}

/// The anti-luck thresholds (`[eligibility]`; the plan's values by default).
/// ROIs are percentages; PnLs strict lower bounds in USD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gates {
    pub pnl_7d: Usd,
    pub roi_7d: Ratio,
    pub pnl_30d: Usd,
    pub roi_30d: Ratio,
    pub pnl_90d: Usd,
    pub roi_90d: Ratio,
    pub win_rate_min: Ratio,
    pub win_rate_max: Ratio,
    pub min_profit_factor: Ratio,
    pub trend_min_profit_factor: Ratio,
    pub trend_max_win_rate: Ratio,
    pub min_trades_30d: u64,
}

impl Gates {
    pub const DEFAULT: Gates = Gates {
        pnl_7d: Usd::from_int(0),
        roi_7d: Ratio::from_int(5),
        pnl_30d: Usd::from_int(10_000),
        roi_30d: Ratio::from_int(15),
        pnl_90d: Usd::from_int(50_000),
        roi_90d: Ratio::from_int(30),
        win_rate_min: Ratio::lit(35, 2),
        win_rate_max: Ratio::lit(85, 2),
        min_profit_factor: Ratio::lit(15, 1),
        trend_min_profit_factor: Ratio::lit(25, 1),
        trend_max_win_rate: Ratio::lit(40, 2),
        min_trades_30d: 20,
    };
}

impl Default for Gates {
    fn default() -> Self {
        Gates::DEFAULT
    }
}

/// §4.1, first failure wins: the three window gates, the 30-day win-rate band
/// (with the trend-trader exception), profit factor, and trade count.
pub fn anti_luck(w: &Windows, g: &Gates) -> Result<(), Ineligible> {
    let gate = |m: &WindowMetrics, pnl: Usd, roi: Ratio| m.total_pnl > pnl && m.roi_proxy > roi;
    if !gate(&w.d7, g.pnl_7d, g.roi_7d) {
        return Err(Ineligible::SevenDayGate);
    }
    if !gate(&w.d30, g.pnl_30d, g.roi_30d) {
        return Err(Ineligible::ThirtyDayGate);
    }
    if !gate(&w.d90, g.pnl_90d, g.roi_90d) {
        return Err(Ineligible::NinetyDayGate);
    }
    let m = &w.d30;
    if m.win_rate > g.win_rate_max {
        return Err(Ineligible::WinRateTooHigh);
    }
    if m.win_rate < g.win_rate_min && m.profit_factor < g.trend_min_profit_factor {
        return Err(Ineligible::WinRateTooLow);
    }
    let trend_exception = m.win_rate < g.trend_max_win_rate && m.profit_factor > g.trend_min_profit_factor;
    if m.profit_factor < g.min_profit_factor && !trend_exception {
        return Err(Ineligible::ProfitFactorTooLow);
    }
    if m.total_trades < g.min_trades_30d {
        return Err(Ineligible::InsufficientTrades);
    }
    Ok(())
}

/// Whether a wallet liquidated last at `liquidated_at` is blacklisted at `now`
/// (strictly before the expiry).
pub fn blacklisted(liquidated_at: Option<TimeMs>, now: TimeMs) -> bool {
    liquidated_at.is_some_and(|t| now < t.saturating_add(BLACKLIST_MS))
}

/// The full decision: anti-luck gates, then the blacklist, then HFT.
pub fn eligibility(w: &Windows, style: Style, blacklisted: bool, gates: &Gates) -> Result<(), Ineligible> {
    anti_luck(w, gates)?;
    if blacklisted {
        return Err(Ineligible::Blacklisted);
    }
    if style == Style::Hft {
        return Err(Ineligible::Hft);
    }
    Ok(())
}

/// Tiers by rank among the eligible (best score first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Primary,
    Secondary,
}

pub const PRIMARY: usize = 15;
pub const SECONDARY: usize = 30;

/// The tier of the eligible wallet ranked `rank` (0 = best), if any.
pub fn tier(rank: usize) -> Option<Tier> {
    // Ranks: best final score first, ties by address (see [`rank`]).
    if rank < PRIMARY {
        Some(Tier::Primary)
    } else if rank < PRIMARY + SECONDARY {
        Some(Tier::Secondary)
    } else {
        None
    }
}

/// The eligible wallets' tiers from their final scores: best first, ties by
/// the smaller address.
pub fn tiers<A: Ord + Copy>(scores: &[(A, crate::model::Ratio)]) -> Vec<(A, Tier)> {
    let mut ranked: Vec<(A, crate::model::Ratio)> = scores.to_vec();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.iter().enumerate().filter_map(|(i, (a, _))| tier(i).map(|t| (*a, t))).collect()
}

/// How long before a vanished position a Close or Reduce fill still explains
/// it, at least (seed 003's "last hour").
pub const EXIT_EVIDENCE_MS: u64 = 3_600_000;

/// Liquidation detection (§5): a position that vanished from the snapshot at
/// `vanished_at` was liquidated unless the wallet closed or reduced that token
/// since the previous snapshot — or within the hour before, if the snapshots
/// are closer than that. (Seed 003 says "the last hour" because it polls every
/// 15 minutes; with sparser snapshots a plain hour would call every ordinary
/// close a liquidation.) A recorded liquidation fill is evidence on its own.
pub fn vanished_by_liquidation(last_exit_fill: Option<TimeMs>, previous_snapshot: TimeMs, vanished_at: TimeMs) -> bool {
    let since = previous_snapshot.min(vanished_at.saturating_sub(EXIT_EVIDENCE_MS));
    !last_exit_fill.is_some_and(|t| since <= t && t <= vanished_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pnl: i64, roi: i64, win_rate: &str, pf: &str, trades: u64) -> WindowMetrics {
        WindowMetrics {
            total_pnl: Usd::from_int(pnl),
            roi_proxy: Ratio::from_int(roi),
            win_rate: Ratio::parse(win_rate).unwrap(),
            profit_factor: Ratio::parse(pf).unwrap(),
            total_trades: trades,
            ..WindowMetrics::default()
        }
    }

    fn good() -> Windows {
        Windows {
            d7: m(1_000, 6, "0.6", "2", 10),
            d30: m(20_000, 20, "0.6", "2", 40),
            d90: m(60_000, 40, "0.6", "2", 100),
        }
    }

    // Seed 003 tests/test_filters.py, by name.
    #[test]
    fn passes_all_gates() {
        assert_eq!(eligibility(&good(), Style::Swing, blacklisted(None, 0), &Gates::DEFAULT), Ok(()));
    }

    #[test]
    fn fails_7d_gate() {
        let mut w = good();
        w.d7.roi_proxy = Ratio::from_int(5); // "> 5" is strict
        assert_eq!(anti_luck(&w, &Gates::DEFAULT), Err(Ineligible::SevenDayGate));
        let mut w = good();
        w.d7.total_pnl = Usd::ZERO;
        assert_eq!(anti_luck(&w, &Gates::DEFAULT), Err(Ineligible::SevenDayGate), "7-day PnL must be above 0");
    }

    // Seed 002 phase 2: the tier-1 (anti-luck) gates exactly at their thresholds fail.
    #[test]
    fn gates_exactly_at_their_thresholds() {
        let mut w = good();
        w.d30.total_pnl = Usd::from_int(10_000);
        assert_eq!(anti_luck(&w, &Gates::DEFAULT), Err(Ineligible::ThirtyDayGate));
        let mut w = good();
        w.d30.roi_proxy = Ratio::from_int(15);
        assert_eq!(anti_luck(&w, &Gates::DEFAULT), Err(Ineligible::ThirtyDayGate));
        let mut w = good();
        w.d90.total_pnl = Usd::from_int(50_000);
        assert_eq!(anti_luck(&w, &Gates::DEFAULT), Err(Ineligible::NinetyDayGate));
        let mut w = good();
        w.d90.roi_proxy = Ratio::from_int(30);
        assert_eq!(anti_luck(&w, &Gates::DEFAULT), Err(Ineligible::NinetyDayGate));
        // Just above every threshold passes.
        let mut w = good();
        w.d7 = m(1, 5, "0.6", "2", 10);
        w.d30.total_pnl = Usd::parse("10000.01").unwrap();
        w.d90.roi_proxy = Ratio::parse("30.000001").unwrap();
        w.d30.profit_factor = Ratio::parse("1.5").unwrap();
        w.d30.total_trades = 20;
        w.d7.roi_proxy = Ratio::parse("5.0001").unwrap();
        assert_eq!(anti_luck(&w, &Gates::DEFAULT), Ok(()));
    }

    #[test]
    fn high_win_rate_rejected() {
        let mut w = good();
        w.d30.win_rate = Ratio::parse("0.86").unwrap();
        assert_eq!(anti_luck(&w, &Gates::DEFAULT), Err(Ineligible::WinRateTooHigh));
        w.d30.win_rate = Ratio::parse("0.85").unwrap();
        assert_eq!(anti_luck(&w, &Gates::DEFAULT), Ok(()), "0.85 itself passes");
    }

    #[test]
    fn trend_trader_exception() {
        let mut w = good();
        w.d30.win_rate = Ratio::parse("0.30").unwrap();
        w.d30.profit_factor = Ratio::parse("2.5").unwrap();
        assert_eq!(anti_luck(&w, &Gates::DEFAULT), Ok(()), "PF ≥ 2.5 excuses a low win rate");
        w.d30.profit_factor = Ratio::parse("2.49").unwrap();
        assert_eq!(anti_luck(&w, &Gates::DEFAULT), Err(Ineligible::WinRateTooLow));
    }

    #[test]
    fn insufficient_trades_rejected() {
        let mut w = good();
        w.d30.total_trades = 19;
        assert_eq!(anti_luck(&w, &Gates::DEFAULT), Err(Ineligible::InsufficientTrades));
        w.d30.profit_factor = Ratio::parse("1.4").unwrap();
        assert_eq!(anti_luck(&w, &Gates::DEFAULT), Err(Ineligible::ProfitFactorTooLow), "PF is checked before trades");
    }

    // Seed 003 tests/test_blacklist.py, by name.
    #[test]
    fn blacklist_blocks_trader() {
        assert_eq!(
            eligibility(&good(), Style::Swing, blacklisted(Some(1_000), 2_000), &Gates::DEFAULT),
            Err(Ineligible::Blacklisted)
        );
    }

    #[test]
    fn blacklist_expires() {
        assert!(!blacklisted(Some(0), BLACKLIST_MS), "eligible again at the instant of expiry");
        assert!(blacklisted(Some(0), BLACKLIST_MS - 1));
        assert!(!blacklisted(None, 0));
    }

    #[test]
    fn cooldown_14_days() {
        assert_eq!(BLACKLIST_MS, 1_209_600_000);
        // A later liquidation restarts the 14 days (callers keep the latest).
        assert!(blacklisted(Some(5 * 86_400_000), 15 * 86_400_000));
    }

    #[test]
    fn a_vanished_position_without_an_exit_fill_is_a_liquidation() {
        let h = EXIT_EVIDENCE_MS;
        assert!(vanished_by_liquidation(None, 0, 10));
        // Snapshots 15 minutes apart: an hour of evidence.
        assert!(!vanished_by_liquidation(Some(0), h - 900_000, h), "a close an hour before explains it");
        assert!(vanished_by_liquidation(Some(0), h, h + 1));
        // Snapshots 10 hours apart: any close since the previous one.
        assert!(!vanished_by_liquidation(Some(h), 0, 10 * h));
        assert!(vanished_by_liquidation(Some(h), 2 * h, 10 * h), "a close before the previous snapshot");
        assert!(vanished_by_liquidation(Some(20), 0, 10), "a later fill is no evidence");
    }

    #[test]
    fn tiers_rank_by_score_then_address() {
        let r = |s| Ratio::parse(s).unwrap();
        let t = tiers(&[(3u8, r("0.5")), (1, r("0.9")), (2, r("0.5"))]);
        assert_eq!(t, vec![(1, Tier::Primary), (2, Tier::Primary), (3, Tier::Primary)]);
        let many: Vec<(u32, Ratio)> = (0..50).map(|i| (i, Ratio::from_int(100 - i as i64))).collect();
        let t = tiers(&many);
        assert_eq!(t.len(), 45);
        assert_eq!((t[14], t[15], t[44]), ((14, Tier::Primary), (15, Tier::Secondary), (44, Tier::Secondary)));
    }

    #[test]
    fn hft_is_never_eligible_and_tiers_split_15_and_30() {
        assert_eq!(eligibility(&good(), Style::Hft, false, &Gates::DEFAULT), Err(Ineligible::Hft));
        assert_eq!(
            (tier(0), tier(14), tier(15), tier(44), tier(45)),
            (Some(Tier::Primary), Some(Tier::Primary), Some(Tier::Secondary), Some(Tier::Secondary), None)
        );
    }

    #[test]
    fn the_gates_are_the_configured_thresholds() {
        // A small market's trader: 30-day PnL of $2,000 and 90-day $3,000.
        let w = Windows {
            d7: m(500, 6, "0.6", "2", 10),
            d30: m(2_000, 20, "0.6", "2", 40),
            d90: m(3_000, 40, "0.6", "2", 100),
        };
        assert_eq!(anti_luck(&w, &Gates::DEFAULT), Err(Ineligible::ThirtyDayGate));
        let scaled = Gates { pnl_30d: Usd::from_int(100), pnl_90d: Usd::from_int(500), ..Gates::DEFAULT };
        assert_eq!(anti_luck(&w, &scaled), Ok(()));
        let fewer = Gates { min_trades_30d: 41, ..scaled };
        assert_eq!(anti_luck(&w, &fewer), Err(Ineligible::InsufficientTrades));
    }
}
