//! A wallet's standing — its pace (trades per day, hold time, style, recency),
//! composite score and eligibility — as one pure function of what the windows
//! and the clock say. The dataflow keeps one [`Standing`] per wallet; the
//! reference recomputation calls the same function, so the two agree on every
//! formula and can only differ in *what* they recompute.

use crate::model::{Fill, NumError, PositionSide, Ratio, TimeMs, Token};

use super::eligibility::{Ineligible, Windows, eligibility};
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
        gate: eligibility(w, pace.style, blacklisted).err(),
    })
}
