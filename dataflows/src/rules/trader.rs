//! A wallet's standing — its pace (trades per day, hold time, style, recency),
//! composite score and eligibility — as one pure function of what the windows
//! and the clock say. The dataflow keeps one [`Standing`] per wallet; the
//! reference recomputation calls the same function, so the two agree on every
//! formula and can only differ in *what* they recompute.

use crate::model::{Fill, NumError, PositionSide, Ratio, TimeMs, Token};

use super::eligibility::{Gates, Ineligible, Windows, eligibility};
use super::metrics::{HoldSummary, Leg, Style, hold_summary, hours_between, style, trades_per_day};
use super::score::{Score, ScoreInputs, score};

/// The window (days) that trades per day and hold time are measured over.
pub const PACE_WINDOW_DAYS: u64 = 90;

/// What the clock-free part of the pace needs from a wallet's 90-day fills.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize, Default)]
pub struct Activity {
    pub hold: HoldSummary,
    pub fills: u64,
    pub last_fill: TimeMs,
}

/// The activity of a wallet's fills in the pace window, in time order.
pub fn activity<'a>(fills: impl IntoIterator<Item = &'a Fill>) -> Activity {
    let mut legs: Vec<Leg> = Vec::new();
    let mut a = Activity::default();
    for f in fills {
        a.fills += 1;
        a.last_fill = a.last_fill.max(f.time_ms);
        legs.extend(Leg::of(f));
    }
    a.hold = hold_summary(&legs);
    a
}

/// The pace at `now` (decisions.md 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct Pace {
    pub trades_per_day: Ratio,
    pub avg_hold_hours: Ratio,
    pub hours_since_last_trade: Ratio,
    pub style: Style,
}

impl Pace {
    pub fn of(a: &Activity, now: TimeMs) -> Result<Pace, NumError> {
        let trades_per_day = trades_per_day(a.fills, PACE_WINDOW_DAYS)?;
        let avg_hold_hours = a.hold.avg_hours(now)?;
        Ok(Pace {
            trades_per_day,
            avg_hold_hours,
            hours_since_last_trade: hours_between(a.last_fill, now)?,
            style: style(trades_per_day, avg_hold_hours),
        })
    }
}

/// One of a wallet's current positions, as the risk-management score reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct Holding {
    pub token: Token,
    pub side: PositionSide,
    pub leverage: Ratio,
    pub isolated: bool,
}

/// One of a tracked wallet's current positions, as the strategies read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct TrackedPosition {
    pub token: Token,
    pub side: PositionSide,
    /// Signed size.
    pub size: crate::model::Size,
    /// |value| at the mark.
    pub value: crate::model::Usd,
    pub entry_price: crate::model::Price,
    pub leverage: Ratio,
    pub margin_used: crate::model::Usd,
    /// The position's last Open/Add/Reduce fill, or when it was first seen
    /// (decisions.md 10: freshness counts from here).
    pub last_action: TimeMs,
}

/// A wallet's standing: the score with its components, and the gate that made
/// it ineligible (`None`: eligible).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct Standing {
    pub pace: Pace,
    pub roi_7d: Ratio,
    pub roi_30d: Ratio,
    pub roi_90d: Ratio,
    pub score: Score,
    pub gate: Option<Ineligible>,
}

impl Standing {
    pub fn eligible(&self) -> bool {
        self.gate.is_none()
    }
}

/// The standing from the three windows' metrics, the pace, the current
/// positions, the label and whether the wallet is blacklisted (§3, §4, §5).
pub fn standing(
    w: &Windows,
    pace: Pace,
    holdings: &[Holding],
    label: Option<&str>,
    blacklisted: bool,
    gates: &Gates,
) -> Result<Standing, NumError> {
    let avg_leverage = if holdings.is_empty() {
        Ratio::ZERO
    } else {
        let sum = holdings.iter().try_fold(crate::model::Fixed::ZERO, |a, h| a.checked_add(h.leverage.fixed()))?;
        Ratio::new(sum.checked_div_int(holdings.len() as i64)?)
    };
    let inputs = ScoreInputs {
        roi_7d: w.d7.roi_proxy,
        roi_30d: w.d30.roi_proxy,
        roi_90d: w.d90.roi_proxy,
        sharpe_30d: w.d30.pseudo_sharpe,
        win_rate_30d: w.d30.win_rate,
        max_drawdown_30d: w.d30.max_drawdown_proxy,
        avg_leverage,
        any_isolated: holdings.iter().any(|h| h.isolated),
        style: pace.style,
        hours_since_last_trade: pace.hours_since_last_trade,
    };
    Ok(Standing {
        pace,
        roi_7d: w.d7.roi_proxy,
        roi_30d: w.d30.roi_proxy,
        roi_90d: w.d90.roi_proxy,
        score: score(&inputs, label)?,
        gate: eligibility(w, pace.style, blacklisted, gates).err(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Address, Price, Rounding, Side, Size, TxHash, Usd};
    use crate::rules::eligibility::Ineligible;
    use crate::rules::metrics::{ClosingTrade, WindowMetrics, window_metrics};

    const HOUR: u64 = 3_600_000;

    fn fill(t: u64, buy: bool, start: i64, pnl: i64) -> Fill {
        Fill {
            time_ms: t,
            wallet: Address::from_bytes([1; 20]),
            token: Token::parse("BTC").unwrap(),
            side: if buy { Side::Buy } else { Side::Sell },
            price: Price::from_int(100),
            size: Size::from_int(1),
            start_position: Size::from_int(start),
            closed_pnl: Usd::from_int(pnl),
            fee: Usd::ZERO,
            tx_hash: TxHash::default(),
            trade_id: t,
            liquidation: false,
        }
    }

    /// Round trips: open long at `t`, close `hold` later, every `every`.
    fn round_trips(n: u64, every: u64, hold: u64) -> Vec<Fill> {
        (0..n).flat_map(|i| [fill(i * every, true, 0, 0), fill(i * every + hold, false, 1, 5)]).collect()
    }

    fn pace(fills: &[Fill], now: u64) -> Pace {
        Pace::of(&activity(fills), now).unwrap()
    }

    // Seed 000 phase 2 / seed 001 §3.2: style classification with known trade patterns.
    #[test]
    fn style_classification_with_known_trade_patterns() {
        // 300 round trips of 30 minutes, one an hour: 600 fills / 90 d = 6.67 a day, 0.5 h holds.
        let hft = round_trips(300, HOUR, HOUR / 2);
        assert_eq!(pace(&hft, 300 * HOUR).style, Style::Hft);
        // The same count held 5 hours: frequent, but not HFT.
        let swing = round_trips(300, 6 * HOUR, 5 * HOUR);
        let p = pace(&swing, 1_800 * HOUR);
        assert_eq!((p.style, p.avg_hold_hours), (Style::Swing, Ratio::from_int(5)));
        // 14 round trips held 15 days: 28 fills / 90 d = 0.31 a day but 360 h holds.
        let position = round_trips(14, 15 * 24 * HOUR, 15 * 24 * HOUR);
        assert_eq!(pace(&position, 210 * 24 * HOUR).style, Style::Position);
        // An Open still held counts until now.
        let open = [fill(0, true, 0, 0)];
        assert_eq!(pace(&open, 10 * HOUR).avg_hold_hours, Ratio::from_int(10));
        assert_eq!(pace(&open, 10 * HOUR).hours_since_last_trade, Ratio::from_int(10));
    }

    fn windows(m: WindowMetrics) -> Windows {
        Windows { d7: m, d30: m, d90: m }
    }

    fn swing() -> Pace {
        Pace {
            trades_per_day: Ratio::from_int(1),
            avg_hold_hours: Ratio::from_int(24),
            hours_since_last_trade: Ratio::ZERO,
            style: Style::Swing,
        }
    }

    // Seed 002 phase 2: zero-trade, zero-variance and single-trade edge cases.
    #[test]
    fn zero_trade_zero_variance_and_single_trade_edge_cases() {
        let none = standing(&windows(WindowMetrics::default()), swing(), &[], None, false, &Gates::DEFAULT).unwrap();
        // No trades: only consistency (0.2, nothing positive) and risk management (0.4 + 0.1 + 0.4).
        assert_eq!(none.score.raw, Ratio::parse("0.13").unwrap());
        assert_eq!(none.gate, Some(Ineligible::SevenDayGate));
        let usd = |s: &str| Usd::parse(s).unwrap();
        let same = |pnl: &str| ClosingTrade { time_ms: 0, closed_pnl: usd(pnl), value_usd: usd("1000") };
        // Equal returns: zero variance, so no Sharpe (not a division by zero).
        let flat = window_metrics(&[same("10"), same("10"), same("10")], None, usd("10000")).unwrap();
        assert_eq!((flat.std_return, flat.pseudo_sharpe), (Ratio::ZERO, Ratio::ZERO));
        let s = standing(&windows(flat), swing(), &[], None, false, &Gates::DEFAULT).unwrap();
        assert_eq!(s.score.normalized_sharpe, Ratio::ZERO);
        // One trade: win rate 1 is above the band (0), profit factor the no-loss sentinel.
        let one = window_metrics(&[same("60000")], None, usd("100000")).unwrap();
        let s = standing(&windows(one), swing(), &[], None, false, &Gates::DEFAULT).unwrap();
        assert_eq!(s.score.normalized_win_rate, Ratio::ZERO);
        assert_eq!(s.gate, Some(Ineligible::WinRateTooHigh));
    }

    // Seed 002 phase 2: given fixed input data, the score is deterministic (and as computed by hand).
    #[test]
    fn score_output_is_deterministic_for_fixed_input() {
        let usd = |s: &str| Usd::parse(s).unwrap();
        let t = |pnl: &str| ClosingTrade { time_ms: 0, closed_pnl: usd(pnl), value_usd: usd("1000") };
        let m = window_metrics(&[t("100"), t("-50"), t("100"), t("50")], Some(usd("1000")), usd("1200")).unwrap();
        let held = [Holding {
            token: Token::parse("ETH").unwrap(),
            side: PositionSide::Long,
            leverage: Ratio::from_int(4),
            isolated: false,
        }];
        let a = standing(&windows(m), swing(), &held, Some("Fund"), false, &Gates::DEFAULT).unwrap();
        let b = standing(&windows(m), swing(), &held, Some("Fund"), false, &Gates::DEFAULT).unwrap();
        assert_eq!(a, b);
        // ROI 20 % everywhere → N_roi 0.2; returns 0.1, −0.05, 0.1, 0.05 (mean 0.05, sd ≈ 0.0707,
        // Sharpe ≈ 0.7071 → /3); win rate 0.75 → 0.8; consistency: weekly 20, 5, 1.67 → variance
        // ≈ 65.4 → 0.7 + 0 = 0.7; fund 1.0; RM 0.4·0.8 + 0.2·0.5 + 0.4·(1 − 0.0417/0.2).
        let s = a.score;
        assert_eq!(
            (s.normalized_roi, s.normalized_win_rate),
            (Ratio::parse("0.2").unwrap(), Ratio::parse("0.8").unwrap())
        );
        assert_eq!((s.consistency, s.smart_money), (Ratio::parse("0.7").unwrap(), Ratio::from_int(1)));
        assert_eq!(s.normalized_sharpe.round_dp(6, Rounding::HalfEven).unwrap(), Ratio::parse("0.235702").unwrap());
        assert_eq!(s.risk_management.round_dp(6, Rounding::HalfEven).unwrap(), Ratio::parse("0.736667").unwrap());
        // 0.05 + 0.2·0.235702 + 0.12 + 0.14 + 0.1 + 0.0736667 = 0.530807.
        assert_eq!(s.final_score.round_dp(6, Rounding::HalfEven).unwrap(), Ratio::parse("0.530807").unwrap());
    }
}
