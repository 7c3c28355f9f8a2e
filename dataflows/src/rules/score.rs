//! The composite trader score (strategy-rules.md §3.1, §3.2; decisions.md 1):
//! `raw = 0.25·N_roi + 0.20·N_sharpe + 0.15·N_winrate + 0.20·C + 0.10·SM + 0.10·RM`,
//! `final = raw × style multiplier × recency decay`, with the ROI tier stored
//! beside it for the allocations. Every component is kept, so a score can say why.

use crate::model::{Fixed, NumError, Ratio, Rounding};

use super::math;
use super::metrics::Style;

/// The components and the result, as stored (`trader_scores`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize)]
pub struct Score {
    pub normalized_roi: Ratio,
    pub normalized_sharpe: Ratio,
    pub normalized_win_rate: Ratio,
    pub consistency: Ratio,
    pub smart_money: Ratio,
    pub risk_management: Ratio,
    pub style_multiplier: Ratio,
    pub recency_decay: Ratio,
    pub raw: Ratio,
    pub final_score: Ratio,
    pub roi_tier: Ratio,
}

fn r(m: i64, d: u32) -> Ratio {
    Ratio::lit(m, d)
}

fn clamp01(x: Fixed) -> Ratio {
    Ratio::new(x.clamp(Fixed::ZERO, Fixed::ONE))
}

/// `N_roi = clamp(roi_30d% / 100, 0, 1)`.
pub fn normalized_roi(roi_percent_30d: Ratio) -> Result<Ratio, NumError> {
    Ok(clamp01(roi_percent_30d.fixed().checked_div_int(100)?))
}

/// `N_sharpe = clamp(sharpe_30d / 3, 0, 1)`.
pub fn normalized_sharpe(sharpe_30d: Ratio) -> Result<Ratio, NumError> {
    Ok(clamp01(sharpe_30d.fixed().checked_div_int(3)?))
}

/// 0 outside [0.35, 0.85]; else `(win_rate − 0.35) / 0.50`.
pub fn normalized_win_rate(win_rate: Ratio) -> Result<Ratio, NumError> {
    if win_rate < r(35, 2) || win_rate > r(85, 2) {
        return Ok(Ratio::ZERO);
    }
    Ok(Ratio::new(win_rate.fixed().checked_sub(Fixed::lit(35, 2))?.checked_mul_int(2)?))
}

/// §3.2: all three window ROIs positive → `0.7 + max(0, 0.3 − var/100)` with
/// `var` the population variance of `[roi_7d, roi_30d/4, roi_90d/12]` (percent,
/// weekly); exactly two positive → 0.5; else 0.2. Zero is not positive.
pub fn consistency(roi_7d: Ratio, roi_30d: Ratio, roi_90d: Ratio) -> Result<Ratio, NumError> {
    let positive = [roi_7d, roi_30d, roi_90d].iter().filter(|x| x.is_positive()).count();
    match positive {
        3 => {
            let xs = [roi_7d.fixed(), roi_30d.fixed().checked_div_int(4)?, roi_90d.fixed().checked_div_int(12)?];
            let mean = xs.iter().try_fold(Fixed::ZERO, |a, x| a.checked_add(*x))?.checked_div_int(3)?;
            let var = xs
                .iter()
                .try_fold(Fixed::ZERO, |a, x| {
                    let d = x.checked_sub(mean)?;
                    a.checked_add(d.checked_mul(d)?)
                })?
                .checked_div_int(3)?;
            let bonus = Fixed::lit(3, 1).checked_sub(var.checked_div_int(100)?)?.max(Fixed::ZERO);
            Ok(Ratio::new(Fixed::lit(7, 1).checked_add(bonus)?))
        }
        2 => Ok(r(5, 1)),
        _ => Ok(r(2, 1)),
    }
}

/// Smart-money bonus from the label, case-insensitive: `fund` → 1.0, `smart`
/// → 0.8, any other label → 0.5, none → 0.
pub fn smart_money(label: Option<&str>) -> Ratio {
    let Some(l) = label.map(str::trim).filter(|l| !l.is_empty()) else { return Ratio::ZERO };
    let l = l.to_lowercase();
    if l.contains("fund") {
        Ratio::from_int(1)
    } else if l.contains("smart") {
        r(8, 1)
    } else {
        r(5, 1)
    }
}

/// `0.4·max(0, 1 − avg_lev/20) + 0.2·(1 if any isolated else 0.5) + 0.4·max(0, 1 − max_dd/0.20)`.
pub fn risk_management(avg_leverage: Ratio, any_isolated: bool, max_drawdown: Ratio) -> Result<Ratio, NumError> {
    let lev = Fixed::ONE.checked_sub(avg_leverage.fixed().checked_div_int(20)?)?.max(Fixed::ZERO);
    let iso = if any_isolated { Fixed::ONE } else { Fixed::lit(5, 1) };
    let dd = Fixed::ONE.checked_sub(max_drawdown.fixed().checked_mul_int(5)?)?.max(Fixed::ZERO);
    let sum = lev
        .checked_mul(Fixed::lit(4, 1))?
        .checked_add(iso.checked_mul(Fixed::lit(2, 1))?)?
        .checked_add(dd.checked_mul(Fixed::lit(4, 1))?)?;
    Ok(Ratio::new(sum))
}

/// The style multiplier (seed 003): SWING 1.0, POSITION 0.85, HFT 0.4.
pub fn style_multiplier(style: Style) -> Ratio {
    match style {
        Style::Swing => Ratio::from_int(1),
        Style::Position => r(85, 2),
        Style::Hft => r(4, 1),
    }
}

/// `exp(−0.693 × hours / 168)` (the literal 0.693: 168 h gives 0.50007).
pub fn recency_decay(hours_since_last_trade: Ratio) -> Result<Ratio, NumError> {
    let x = Fixed::lit(693, 3).checked_mul(hours_since_last_trade.fixed())?.checked_div_int(168)?;
    Ok(Ratio::new(math::exp(x.neg())?))
}

/// The 7-day ROI tier: `> 10 %` → 1.0, `≥ 0` → 0.75, else 0.5.
pub fn roi_tier(roi_percent_7d: Ratio) -> Ratio {
    if roi_percent_7d > Ratio::from_int(10) {
        Ratio::from_int(1)
    } else if !roi_percent_7d.is_negative() {
        r(75, 2)
    } else {
        r(5, 1)
    }
}

/// Everything a score needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreInputs {
    pub roi_7d: Ratio,
    pub roi_30d: Ratio,
    pub roi_90d: Ratio,
    pub sharpe_30d: Ratio,
    pub win_rate_30d: Ratio,
    pub max_drawdown_30d: Ratio,
    pub avg_leverage: Ratio,
    pub any_isolated: bool,
    pub style: Style,
    pub hours_since_last_trade: Ratio,
}

/// The composite score with every component (§3.1).
pub fn score(i: &ScoreInputs, label: Option<&str>) -> Result<Score, NumError> {
    let mut s = Score {
        normalized_roi: normalized_roi(i.roi_30d)?,
        normalized_sharpe: normalized_sharpe(i.sharpe_30d)?,
        normalized_win_rate: normalized_win_rate(i.win_rate_30d)?,
        consistency: consistency(i.roi_7d, i.roi_30d, i.roi_90d)?,
        smart_money: smart_money(label),
        risk_management: risk_management(i.avg_leverage, i.any_isolated, i.max_drawdown_30d)?,
        style_multiplier: style_multiplier(i.style),
        recency_decay: recency_decay(i.hours_since_last_trade)?,
        roi_tier: roi_tier(i.roi_7d),
        ..Score::default()
    };
    let weighted = [
        (s.normalized_roi, Fixed::lit(25, 2)),
        (s.normalized_sharpe, Fixed::lit(20, 2)),
        (s.normalized_win_rate, Fixed::lit(15, 2)),
        (s.consistency, Fixed::lit(20, 2)),
        (s.smart_money, Fixed::lit(10, 2)),
        (s.risk_management, Fixed::lit(10, 2)),
    ];
    let raw = weighted.iter().try_fold(Fixed::ZERO, |a, (c, w)| a.checked_add(c.fixed().checked_mul(*w)?))?;
    s.raw = Ratio::new(raw);
    let fin = raw.checked_mul(s.style_multiplier.fixed())?.checked_mul(s.recency_decay.fixed())?;
    s.final_score = Ratio::new(fin.round_dp(18, Rounding::HalfEven)?);
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Ratio {
        Ratio::parse(s).unwrap()
    }

    // Seed 003 tests/test_scoring.py, by name.
    #[test]
    fn consistency_all_positive() {
        // Weekly rates 2, 2, 2: no variance → 1.0.
        assert_eq!(consistency(q("2"), q("8"), q("24")).unwrap(), q("1"));
        // Weekly rates 10, 2.5, 1: mean 4.5, var = (30.25 + 4 + 12.25) / 3 = 15.5 → 1 − 0.155.
        assert_eq!(consistency(q("10"), q("10"), q("12")).unwrap(), q("0.845"));
        // A huge variance still floors at 0.7.
        assert_eq!(consistency(q("100"), q("1"), q("1")).unwrap(), q("0.7"));
    }

    #[test]
    fn consistency_two_positive() {
        assert_eq!(consistency(q("5"), q("-1"), q("3")).unwrap(), q("0.5"));
        assert_eq!(consistency(q("5"), q("0"), q("3")).unwrap(), q("0.5"), "zero is not positive");
    }

    #[test]
    fn consistency_all_negative() {
        assert_eq!(consistency(q("-5"), q("-1"), q("-3")).unwrap(), q("0.2"));
        assert_eq!(consistency(q("5"), q("-1"), q("0")).unwrap(), q("0.2"));
    }

    #[test]
    fn normalized_roi_capped() {
        assert_eq!(normalized_roi(q("250")).unwrap(), q("1"));
        assert_eq!(normalized_roi(q("-20")).unwrap(), q("0"));
        assert_eq!(normalized_roi(q("42")).unwrap(), q("0.42"));
    }

    #[test]
    fn smart_money_fund() {
        assert_eq!(smart_money(Some("Crypto FUND 3")), q("1"));
        assert_eq!(smart_money(Some("Smart HL Perps Trader")), q("0.8"));
    }

    #[test]
    fn smart_money_labeled() {
        assert_eq!(smart_money(Some("Whale")), q("0.5"));
        assert_eq!(smart_money(Some("  ")), q("0"));
        assert_eq!(smart_money(None), q("0"));
    }

    #[test]
    fn win_rate_band_and_the_other_components() {
        assert_eq!(normalized_win_rate(q("0.35")).unwrap(), q("0"));
        assert_eq!(normalized_win_rate(q("0.6")).unwrap(), q("0.5"));
        assert_eq!(normalized_win_rate(q("0.85")).unwrap(), q("1"));
        assert_eq!(normalized_win_rate(q("0.86")).unwrap(), q("0"));
        assert_eq!(normalized_sharpe(q("1.5")).unwrap(), q("0.5"));
        // 0.4·(1 − 5/20) + 0.2·1 + 0.4·(1 − 0.05/0.2) = 0.3 + 0.2 + 0.3.
        assert_eq!(risk_management(q("5"), true, q("0.05")).unwrap(), q("0.8"));
        assert_eq!(risk_management(q("40"), false, q("0.5")).unwrap(), q("0.1"));
        assert_eq!(
            (roi_tier(q("10.01")), roi_tier(q("10")), roi_tier(q("0")), roi_tier(q("-0.01"))),
            (q("1"), q("0.75"), q("0.75"), q("0.5"))
        );
        let d = recency_decay(q("168")).unwrap();
        assert_eq!(d.round_dp(5, Rounding::HalfEven).unwrap(), q("0.50007"));
    }

    #[test]
    fn the_composite_adds_up() {
        let i = ScoreInputs {
            roi_7d: q("2"),
            roi_30d: q("8"),
            roi_90d: q("24"),
            sharpe_30d: q("1.5"),
            win_rate_30d: q("0.6"),
            max_drawdown_30d: q("0.05"),
            avg_leverage: q("5"),
            any_isolated: true,
            style: Style::Position,
            hours_since_last_trade: Ratio::ZERO,
        };
        let s = score(&i, Some("Smart Money")).unwrap();
        // 0.25·0.08 + 0.20·0.5 + 0.15·0.5 + 0.20·1 + 0.10·0.8 + 0.10·0.8 = 0.555; × 0.85 × 1.
        assert_eq!(s.raw, q("0.555"));
        assert_eq!(s.final_score, q("0.47175"));
        assert_eq!(s.roi_tier, q("0.75"));
    }
}
