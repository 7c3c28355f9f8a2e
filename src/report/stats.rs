//! The backtest report's statistics (issue 10): returns and risk from an
//! equity curve, and the per-trade figures from closed trades.
//!
//! Money reaches here exact (the executor's fixed-point amounts) and becomes
//! `f64` only for ratios, which are statistics, not balances. A statistic
//! that has no value — no trades, no losses, zero variance, a curve shorter
//! than a day — is [`Stat::NotApplicable`] with the reason, never NaN.
//!
//! Conventions: returns are daily (the last equity of each UTC day, carried
//! over days without a point), annualised over 365 days (perpetuals trade
//! every day), with a zero risk-free rate.

use serde::{Serialize, Serializer};

use dataflows::model::TimeMs;

const DAY_MS: u64 = 86_400_000;
const DAYS_PER_YEAR: f64 = 365.0;

/// A statistic, or why there is none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stat {
    Value(f64),
    NotApplicable(&'static str),
}

impl Stat {
    /// A finite value, or n/a for `why` (a ratio over zero, an overflow).
    fn of(x: f64, why: &'static str) -> Stat {
        if x.is_finite() { Stat::Value(x) } else { Stat::NotApplicable(why) }
    }

    pub fn value(self) -> Option<f64> {
        match self {
            Stat::Value(x) => Some(x),
            Stat::NotApplicable(_) => None,
        }
    }
}

/// A value as a JSON number, n/a as the string `"n/a: <reason>"`.
impl Serialize for Stat {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Stat::Value(x) => s.serialize_f64(*x),
            Stat::NotApplicable(why) => s.serialize_str(&format!("n/a: {why}")),
        }
    }
}

impl std::fmt::Display for Stat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stat::Value(x) => write!(f, "{x:.4}"),
            Stat::NotApplicable(why) => write!(f, "n/a ({why})"),
        }
    }
}

/// What an equity curve says about returns and risk.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EquityStats {
    pub total_return: Stat,
    pub cagr: Stat,
    /// Annualised standard deviation of daily returns.
    pub volatility: Stat,
    pub sharpe: Stat,
    pub sortino: Stat,
    pub calmar: Stat,
    /// Deepest fall from a peak, as a fraction of the peak.
    pub max_drawdown: Stat,
    /// Longest time from a peak until equity was back at it (or the end).
    pub max_drawdown_days: Stat,
}

/// Statistics of `curve` (time, equity), in time order.
pub fn equity(curve: &[(TimeMs, f64)]) -> EquityStats {
    let na = |why| Stat::NotApplicable(why);
    let (Some(&(t0, v0)), Some(&(t1, v1))) = (curve.first(), curve.last()) else {
        return EquityStats {
            total_return: na("no equity recorded"),
            cagr: na("no equity recorded"),
            volatility: na("no equity recorded"),
            sharpe: na("no equity recorded"),
            sortino: na("no equity recorded"),
            calmar: na("no equity recorded"),
            max_drawdown: na("no equity recorded"),
            max_drawdown_days: na("no equity recorded"),
        };
    };
    let total_return =
        if v0 > 0.0 { Stat::of(v1 / v0 - 1.0, "overflow") } else { na("starting equity is not positive") };
    let span_days = (t1 - t0) as f64 / DAY_MS as f64;
    let cagr = match total_return {
        Stat::Value(r) if span_days >= 1.0 => Stat::of((1.0 + r).powf(DAYS_PER_YEAR / span_days) - 1.0, "overflow"),
        Stat::Value(_) => na("shorter than a day"),
        other => other,
    };
    let returns = daily_returns(curve);
    let (volatility, sharpe, sortino) = if returns.len() < 2 {
        (na("fewer than two daily returns"), na("fewer than two daily returns"), na("fewer than two daily returns"))
    } else {
        let n = returns.len() as f64;
        let mean = returns.iter().sum::<f64>() / n;
        let var = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let sd = var.sqrt();
        let downside = (returns.iter().map(|r| r.min(0.0).powi(2)).sum::<f64>() / n).sqrt();
        let annual = DAYS_PER_YEAR.sqrt();
        (
            Stat::of(sd * annual, "overflow"),
            if sd > 0.0 { Stat::of(mean / sd * annual, "overflow") } else { na("zero variance") },
            if downside > 0.0 { Stat::of(mean / downside * annual, "overflow") } else { na("no losing day") },
        )
    };
    let (dd, dd_ms) = drawdown(curve);
    let max_drawdown = Stat::of(dd, "overflow");
    let calmar = match cagr {
        Stat::Value(c) if dd > 0.0 => Stat::of(c / dd, "overflow"),
        Stat::Value(_) => na("no drawdown"),
        other => other,
    };
    EquityStats {
        total_return,
        cagr,
        volatility,
        sharpe,
        sortino,
        calmar,
        max_drawdown,
        max_drawdown_days: Stat::of(dd_ms as f64 / DAY_MS as f64, "overflow"),
    }
}

/// Each UTC day's return on the day before, from the last point of each day
/// (a day without a point keeps the last equity: a zero return).
fn daily_returns(curve: &[(TimeMs, f64)]) -> Vec<f64> {
    let mut closes: Vec<(u64, f64)> = Vec::new();
    for &(t, v) in curve {
        let day = t / DAY_MS;
        match closes.last_mut() {
            Some((d, last)) if *d == day => *last = v,
            _ => {
                if let Some(&(d, last)) = closes.last() {
                    closes.extend((d + 1..day).map(|gap| (gap, last)));
                }
                closes.push((day, v));
            }
        }
    }
    closes.windows(2).filter(|w| w[0].1 > 0.0).map(|w| w[1].1 / w[0].1 - 1.0).collect()
}

/// The deepest drawdown (fraction of its peak) and the longest time under
/// water, peak to recovery or to the end of the curve.
fn drawdown(curve: &[(TimeMs, f64)]) -> (f64, u64) {
    let mut peak = f64::MIN;
    let mut peak_at = 0;
    let mut under = false;
    let (mut deepest, mut longest) = (0.0_f64, 0_u64);
    for &(t, v) in curve {
        if v >= peak {
            if under {
                longest = longest.max(t - peak_at);
            }
            (peak, peak_at, under) = (v, t, false);
        } else {
            under = true;
            if peak > 0.0 {
                deepest = deepest.max((peak - v) / peak);
            }
        }
    }
    if let (true, Some(&(end, _))) = (under, curve.last()) {
        longest = longest.max(end - peak_at);
    }
    (deepest, longest)
}

/// A sum that is +0 when empty (`Iterator::sum` of no `f64` is −0, which
/// would print as "-0" in the report).
fn sum(xs: &[f64]) -> f64 {
    xs.iter().fold(0.0, |a, b| a + b)
}

/// One closed trade: what it made after fees and how long it was held.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClosedTrade {
    pub pnl: f64,
    pub hold_ms: u64,
}

/// The per-trade figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TradeStats {
    pub trades: usize,
    pub win_rate: Stat,
    /// Gross profit over gross loss.
    pub profit_factor: Stat,
    /// Win rate × average win − loss rate × average loss (= average PnL).
    pub expectancy: Stat,
    pub average_win: Stat,
    pub average_loss: Stat,
    pub best_trade: Stat,
    pub worst_trade: Stat,
    pub average_hold_hours: Stat,
    pub average_pnl: Stat,
}

pub fn trades(closed: &[ClosedTrade]) -> TradeStats {
    let none = Stat::NotApplicable("no trades");
    if closed.is_empty() {
        return TradeStats {
            trades: 0,
            win_rate: none,
            profit_factor: none,
            expectancy: none,
            average_win: none,
            average_loss: none,
            best_trade: none,
            worst_trade: none,
            average_hold_hours: none,
            average_pnl: none,
        };
    }
    let n = closed.len() as f64;
    let wins: Vec<f64> = closed.iter().map(|t| t.pnl).filter(|p| *p > 0.0).collect();
    let losses: Vec<f64> = closed.iter().map(|t| t.pnl).filter(|p| *p < 0.0).collect();
    let mean = |xs: &[f64], why| {
        if xs.is_empty() {
            Stat::NotApplicable(why)
        } else {
            Stat::of(xs.iter().sum::<f64>() / xs.len() as f64, "overflow")
        }
    };
    let gross_win = sum(&wins);
    let gross_loss = -sum(&losses);
    let win_rate = wins.len() as f64 / n;
    let loss_rate = losses.len() as f64 / n;
    let average_win = mean(&wins, "no winning trade");
    let average_loss = mean(&losses, "no losing trade");
    let expectancy = win_rate * average_win.value().unwrap_or(0.0) + loss_rate * average_loss.value().unwrap_or(0.0);
    let pnls: Vec<f64> = closed.iter().map(|t| t.pnl).collect();
    TradeStats {
        trades: closed.len(),
        win_rate: Stat::Value(win_rate),
        profit_factor: if gross_loss > 0.0 {
            Stat::of(gross_win / gross_loss, "overflow")
        } else {
            Stat::NotApplicable("no losing trade")
        },
        expectancy: Stat::of(expectancy, "overflow"),
        average_win,
        average_loss,
        best_trade: Stat::of(pnls.iter().copied().fold(f64::MIN, f64::max), "overflow"),
        worst_trade: Stat::of(pnls.iter().copied().fold(f64::MAX, f64::min), "overflow"),
        average_hold_hours: Stat::of(
            closed.iter().map(|t| t.hold_ms as f64).sum::<f64>() / n / 3_600_000.0,
            "overflow",
        ),
        average_pnl: mean(&pnls, "no trades"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: u64 = 1_767_225_600_000; // a UTC midnight

    fn close(a: Stat, b: f64) -> bool {
        a.value().is_some_and(|x| (x - b).abs() < 1e-9)
    }

    #[test]
    fn returns_and_drawdown_of_a_known_curve() {
        // 100 → 110 → 99 → 121 at daily closes: returns +10 %, −10 %, +22.2…%.
        let curve = [(T, 100.0), (T + DAY_MS, 110.0), (T + 2 * DAY_MS, 99.0), (T + 3 * DAY_MS, 121.0)];
        let s = equity(&curve);
        assert!(close(s.total_return, 0.21));
        assert!(close(s.cagr, 1.21_f64.powf(365.0 / 3.0) - 1.0));
        // Drawdown: 110 → 99 is 10 %; under water from the peak (day 1) until
        // equity is back above it (day 3).
        assert!(close(s.max_drawdown, 0.1));
        assert!(close(s.max_drawdown_days, 2.0));
        let r = [0.1, -0.1, 121.0 / 99.0 - 1.0];
        let mean = r.iter().sum::<f64>() / 3.0;
        let sd = (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
        assert!(close(s.volatility, sd * 365f64.sqrt()));
        assert!(close(s.sharpe, mean / sd * 365f64.sqrt()));
        let downside = (0.01_f64 / 3.0).sqrt();
        assert!(close(s.sortino, mean / downside * 365f64.sqrt()));
        assert!(close(s.calmar, (1.21_f64.powf(365.0 / 3.0) - 1.0) / 0.1));
    }

    #[test]
    fn the_last_point_of_a_day_closes_it_and_empty_days_carry_over() {
        let curve = [(T, 100.0), (T + 5, 200.0), (T + 3 * DAY_MS, 100.0)];
        // Closes 200, 200, 200, 100: returns 0, 0, −50 %.
        assert_eq!(daily_returns(&curve), vec![0.0, 0.0, -0.5]);
    }

    #[test]
    fn edge_cases_are_not_applicable_with_a_reason() {
        let s = equity(&[]);
        assert_eq!(s.sharpe, Stat::NotApplicable("no equity recorded"));
        let flat = [(T, 100.0), (T + DAY_MS, 100.0), (T + 2 * DAY_MS, 100.0)];
        let s = equity(&flat);
        assert!(close(s.total_return, 0.0));
        assert!(close(s.volatility, 0.0));
        assert_eq!(s.sharpe, Stat::NotApplicable("zero variance"));
        assert_eq!(s.sortino, Stat::NotApplicable("no losing day"));
        assert_eq!(s.calmar, Stat::NotApplicable("no drawdown"));
        let short = [(T, 100.0), (T + 3_600_000, 101.0)];
        assert_eq!(equity(&short).cagr, Stat::NotApplicable("shorter than a day"));
        // Still under water at the end: the drawdown lasts until the end.
        let sinking = [(T, 100.0), (T + DAY_MS, 90.0), (T + 4 * DAY_MS, 95.0)];
        assert!(close(equity(&sinking).max_drawdown_days, 4.0));
        let json = serde_json::to_string(&equity(&flat)).unwrap();
        assert!(!json.contains("NaN") && json.contains("\"n/a: zero variance\""), "{json}");
    }

    #[test]
    fn trade_figures_by_hand() {
        let closed = [
            ClosedTrade { pnl: 30.0, hold_ms: 2 * 3_600_000 },
            ClosedTrade { pnl: -10.0, hold_ms: 4 * 3_600_000 },
            ClosedTrade { pnl: 10.0, hold_ms: 6 * 3_600_000 },
            ClosedTrade { pnl: -30.0, hold_ms: 0 },
        ];
        let s = trades(&closed);
        assert_eq!(s.trades, 4);
        assert!(close(s.win_rate, 0.5));
        assert!(close(s.profit_factor, 1.0)); // 40 / 40
        assert!(close(s.average_win, 20.0));
        assert!(close(s.average_loss, -20.0));
        assert!(close(s.expectancy, 0.0));
        assert!(close(s.best_trade, 30.0));
        assert!(close(s.worst_trade, -30.0));
        assert!(close(s.average_hold_hours, 3.0));
        assert!(close(s.average_pnl, 0.0));
    }

    #[test]
    fn no_trades_and_no_losses_are_not_applicable() {
        assert_eq!(trades(&[]).win_rate, Stat::NotApplicable("no trades"));
        let s = trades(&[ClosedTrade { pnl: 5.0, hold_ms: 1 }]);
        assert_eq!(s.profit_factor, Stat::NotApplicable("no losing trade"));
        assert_eq!(s.average_loss, Stat::NotApplicable("no losing trade"));
        assert!(close(s.expectancy, 5.0));
        // No winning trade: a profit factor of zero, not "-0".
        let s = trades(&[ClosedTrade { pnl: -5.0, hold_ms: 1 }]);
        assert_eq!(serde_json::to_string(&s.profit_factor).unwrap(), "0.0");
    }
}
