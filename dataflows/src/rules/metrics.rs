//! Trader metrics over a rolling window (strategy-rules.md §1, §1.1) and the
//! trading style (§2), as pure functions of a window's fills.
//!
//! Choices the rules leave open, fixed here:
//! * A window is `(now − W, now]`.
//! * Closing trades are fills whose action is Close or Reduce **and** whose
//!   realised PnL is not zero (the plan's rule); a Flip's closing half counts
//!   as a Close.
//! * Profit factor with no losing trade is the sentinel [`PROFIT_FACTOR_NO_LOSS`]
//!   (999, as the prototype stores), and 0 with no trade at all.
//! * Hold time: seed 001's pairing (decisions.md 2).

use crate::model::{Fill, FillAction, Fixed, NumError, PositionSide, Ratio, Rounding, Side, TimeMs, Token, Usd};

use super::math;

/// Profit factor when there were wins but no losses (the plan's +∞).
pub const PROFIT_FACTOR_NO_LOSS: Ratio = Ratio::lit(999, 0);
const HOUR_MS: u64 = 3_600_000;

/// A closing trade as the metrics see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct ClosingTrade {
    pub time_ms: TimeMs,
    pub closed_pnl: Usd,
    /// `price × size` of the fill.
    pub value_usd: Usd,
}

impl ClosingTrade {
    /// The closing trade a fill is, if it is one (§1 rule 1).
    pub fn of(fill: &Fill) -> Result<Option<ClosingTrade>, NumError> {
        let closes = matches!(fill.action(), FillAction::Close | FillAction::Reduce | FillAction::Flip);
        if !closes || fill.closed_pnl.is_zero() {
            return Ok(None);
        }
        let value_usd = fill.notional().map_err(|_| NumError::Overflow("notional"))?;
        Ok(Some(ClosingTrade { time_ms: fill.time_ms, closed_pnl: fill.closed_pnl, value_usd }))
    }
}

/// The stored metrics of one window (§1 rule 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize)]
pub struct WindowMetrics {
    pub total_trades: u64,
    pub winning_trades: u64,
    pub losing_trades: u64,
    pub win_rate: Ratio,
    pub gross_profit: Usd,
    pub gross_loss: Usd,
    pub profit_factor: Ratio,
    pub avg_return: Ratio,
    pub std_return: Ratio,
    pub pseudo_sharpe: Ratio,
    pub total_pnl: Usd,
    /// Percent.
    pub roi_proxy: Ratio,
    /// Fraction of the account.
    pub max_drawdown_proxy: Ratio,
    /// Every fill in the window, closing or not (see [`WindowMetrics::with_fills`]).
    pub fills: u64,
}

impl WindowMetrics {
    /// The metrics with the window's fill count, which the closing trades
    /// alone cannot tell.
    pub fn with_fills(self, fills: u64) -> WindowMetrics {
        WindowMetrics { fills, ..self }
    }
}

fn ratio(f: Fixed) -> Ratio {
    Ratio::new(f)
}

fn div(a: Fixed, b: Fixed) -> Result<Fixed, NumError> {
    a.checked_mul_div(Fixed::ONE, b, Rounding::HalfEven)
}

/// The metrics of one window from its closing trades.
///
/// `start_value` is the account value at the window's start (the earliest
/// leaderboard snapshot inside the window); without it the plan's fallback,
/// `current_value − total_pnl`, is used (§1 rule 6).
pub fn window_metrics(
    trades: &[ClosingTrade],
    start_value: Option<Usd>,
    current_value: Usd,
) -> Result<WindowMetrics, NumError> {
    if trades.is_empty() {
        return Ok(WindowMetrics::default());
    }
    let n = trades.len() as i64;
    let mut m = WindowMetrics { total_trades: trades.len() as u64, ..WindowMetrics::default() };
    let mut gross_profit = Fixed::ZERO;
    let mut gross_loss = Fixed::ZERO;
    let mut worst = Fixed::ZERO;
    let mut returns = Vec::with_capacity(trades.len());
    for t in trades {
        let pnl = t.closed_pnl.fixed();
        if pnl.is_positive() {
            m.winning_trades += 1;
            gross_profit = gross_profit.checked_add(pnl)?;
        } else if pnl.is_negative() {
            m.losing_trades += 1;
            gross_loss = gross_loss.checked_add(pnl.abs())?;
            worst = worst.min(pnl);
        }
        if t.value_usd.fixed().is_positive() {
            returns.push(div(pnl, t.value_usd.fixed())?);
        }
    }
    m.win_rate = ratio(Fixed::from_int(m.winning_trades as i64).checked_div_int(n)?);
    m.gross_profit = Usd::new(gross_profit);
    m.gross_loss = Usd::new(gross_loss);
    m.profit_factor = if gross_loss.is_zero() {
        if gross_profit.is_positive() { PROFIT_FACTOR_NO_LOSS } else { Ratio::ZERO }
    } else {
        ratio(div(gross_profit, gross_loss)?)
    };
    if !returns.is_empty() {
        let k = returns.len() as i64;
        let sum = returns.iter().try_fold(Fixed::ZERO, |a, r| a.checked_add(*r))?;
        let mean = sum.checked_div_int(k)?;
        m.avg_return = ratio(mean);
        if k >= 2 {
            // Sample variance (n − 1).
            let ss = returns.iter().try_fold(Fixed::ZERO, |a, r| {
                let d = r.checked_sub(mean)?;
                a.checked_add(d.checked_mul(d)?)
            })?;
            let std = math::sqrt(ss.checked_div_int(k - 1)?)?;
            m.std_return = ratio(std);
            if std.is_positive() {
                m.pseudo_sharpe = ratio(div(mean, std)?);
            }
        }
    }
    let total = gross_profit.checked_sub(gross_loss)?;
    m.total_pnl = Usd::new(total);
    let base = match start_value {
        Some(v) => v.fixed(),
        None => current_value.fixed().checked_sub(total)?,
    };
    if base.is_positive() {
        m.roi_proxy = ratio(div(total, base)?.checked_mul_int(100)?);
    }
    if worst.is_negative() && current_value.fixed().is_positive() {
        m.max_drawdown_proxy = ratio(div(worst.abs(), current_value.fixed())?);
    }
    Ok(m)
}

/// One fill as the hold-time pairing sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leg {
    pub time_ms: TimeMs,
    pub token: Token,
    /// The side of the position opened or closed.
    pub side: PositionSide,
    pub opens: bool,
    pub closes: bool,
}

impl Leg {
    /// How a fill pairs: an Open opens its side, a Close closes it, a Flip
    /// closes the old side and opens the new one.
    pub fn of(fill: &Fill) -> Vec<Leg> {
        let start = PositionSide::of(fill.start_position);
        let new_side = if fill.side == Side::Buy { PositionSide::Long } else { PositionSide::Short };
        let leg = |side, opens, closes| Leg { time_ms: fill.time_ms, token: fill.token, side, opens, closes };
        match (fill.action(), start) {
            (FillAction::Open, _) => vec![leg(new_side, true, false)],
            (FillAction::Close, Some(s)) => vec![leg(s, false, true)],
            (FillAction::Flip, Some(s)) => vec![leg(s, false, true), leg(new_side, true, false)],
            _ => Vec::new(),
        }
    }
}

/// The hold-time pairing of a window's legs with `now` left open: the matched
/// Opens' total hold and the unmatched Opens' times. The dataflow keeps this per
/// wallet (it does not depend on the clock) and applies the clock cheaply.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize, Default)]
pub struct HoldSummary {
    pub opens: u64,
    pub matched_ms: u64,
    /// Times of the Opens still unmatched, ascending.
    pub open_since: Vec<TimeMs>,
}

/// Seed 001's pairing (decisions.md 2): each Open pairs with the next unused
/// Close of the same token and side at or after it (FIFO). `legs` in time order.
pub fn hold_summary(legs: &[Leg]) -> HoldSummary {
    let mut used = vec![false; legs.len()];
    let mut s = HoldSummary::default();
    for (i, open) in legs.iter().enumerate().filter(|(_, l)| l.opens) {
        s.opens += 1;
        let close = legs
            .iter()
            .enumerate()
            .skip(i)
            .find(|(j, l)| !used[*j] && l.closes && l.token == open.token && l.side == open.side);
        match close {
            Some((j, c)) => {
                used[j] = true;
                s.matched_ms += c.time_ms.saturating_sub(open.time_ms);
            }
            None => s.open_since.push(open.time_ms),
        }
    }
    s.open_since.sort_unstable();
    s
}

impl HoldSummary {
    /// Average hold in hours at `now`: an unmatched Open counts `now − open`
    /// (0 if it opened after `now`); 0 without Opens.
    pub fn avg_hours(&self, now: TimeMs) -> Result<Ratio, NumError> {
        if self.opens == 0 {
            return Ok(Ratio::ZERO);
        }
        let open: i128 = self.open_since.iter().map(|t| i128::from(now.saturating_sub(*t))).sum();
        let ms = Fixed::from_parts(i128::from(self.matched_ms) + open, 0)?;
        Ok(ratio(ms.checked_div_int(self.opens as i64)?.checked_div_int(HOUR_MS as i64)?))
    }
}

/// Average hold in hours (seed 001, decisions.md 2): [`hold_summary`] at `now`.
pub fn avg_hold_hours(legs: &[Leg], now: TimeMs) -> Result<Ratio, NumError> {
    hold_summary(legs).avg_hours(now)
}

/// Hours from `last` to `now`, 0 if `last` is later.
pub fn hours_between(last: TimeMs, now: TimeMs) -> Result<Ratio, NumError> {
    Ok(ratio(Fixed::from_parts(i128::from(now.saturating_sub(last)), 0)?.checked_div_int(HOUR_MS as i64)?))
}

/// Fills per day over a window of `window_days` (decisions.md 2).
pub fn trades_per_day(fills_in_window: u64, window_days: u64) -> Result<Ratio, NumError> {
    Ok(ratio(Fixed::from_int(fills_in_window as i64).checked_div_int(window_days.max(1) as i64)?))
}

/// Trading style (§2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Style {
    Hft,
    Swing,
    Position,
}

/// HFT iff more than 5 trades a day and holds under 4 h; else SWING iff at
/// least 0.3 trades a day and holds under 14 days; else POSITION.
pub fn style(trades_per_day: Ratio, avg_hold_hours: Ratio) -> Style {
    if trades_per_day > Ratio::from_int(5) && avg_hold_hours < Ratio::from_int(4) {
        Style::Hft
    } else if trades_per_day >= Ratio::lit(3, 1) && avg_hold_hours < Ratio::from_int(336) {
        Style::Swing
    } else {
        Style::Position
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(s: &str) -> Usd {
        Usd::parse(s).unwrap()
    }

    fn trade(pnl: &str, value: &str) -> ClosingTrade {
        ClosingTrade { time_ms: 0, closed_pnl: usd(pnl), value_usd: usd(value) }
    }

    fn r(s: &str) -> Ratio {
        Ratio::parse(s).unwrap()
    }

    // Seed 003 tests/test_metrics.py, by name.
    #[test]
    fn win_rate_basic() {
        let m = window_metrics(&[trade("100", "1000"), trade("-50", "1000"), trade("30", "1000")], None, usd("10000"))
            .unwrap();
        assert_eq!((m.total_trades, m.winning_trades, m.losing_trades), (3, 2, 1));
        assert_eq!(m.win_rate.round_dp(12, Rounding::HalfEven).unwrap(), r("0.666666666667"));
    }

    #[test]
    fn profit_factor() {
        let m = window_metrics(&[trade("300", "1000"), trade("-100", "1000")], None, usd("10000")).unwrap();
        assert_eq!(m.profit_factor, r("3"));
        let no_loss = window_metrics(&[trade("10", "100")], None, usd("1000")).unwrap();
        assert_eq!(no_loss.profit_factor, PROFIT_FACTOR_NO_LOSS);
    }

    #[test]
    fn pseudo_sharpe() {
        // Returns 0.1, 0.2, 0.3: mean 0.2, sample std 0.1, Sharpe 2.
        let m =
            window_metrics(&[trade("10", "100"), trade("20", "100"), trade("30", "100")], None, usd("1000")).unwrap();
        assert_eq!((m.avg_return, m.std_return, m.pseudo_sharpe), (r("0.2"), r("0.1"), r("2")));
        // One return: no deviation, Sharpe 0.
        let one = window_metrics(&[trade("10", "100")], None, usd("1000")).unwrap();
        assert_eq!((one.std_return, one.pseudo_sharpe), (Ratio::ZERO, Ratio::ZERO));
    }

    #[test]
    fn empty_trades() {
        assert_eq!(window_metrics(&[], Some(usd("1000")), usd("1000")).unwrap(), WindowMetrics::default());
    }

    #[test]
    fn roi_proxy() {
        let trades = [trade("600", "5000"), trade("-100", "5000")];
        // From the start-of-window value: 500 / 10 000 = 5 %.
        assert_eq!(window_metrics(&trades, Some(usd("10000")), usd("10500")).unwrap().roi_proxy, r("5"));
        // Fallback: current − total PnL = 10 000.
        let m = window_metrics(&trades, None, usd("10500")).unwrap();
        assert_eq!(m.roi_proxy, r("5"));
        // Worst single loss over the current account: 100 / 10 500.
        assert_eq!(m.max_drawdown_proxy.round_dp(12, Rounding::HalfEven).unwrap(), r("0.009523809524"));
        assert_eq!(window_metrics(&trades, Some(Usd::ZERO), usd("1")).unwrap().roi_proxy, Ratio::ZERO);
    }

    #[test]
    fn style_boundaries_are_strict_where_the_rules_say() {
        assert_eq!(style(r("5.01"), r("3.99")), Style::Hft);
        assert_eq!(style(r("5"), r("1")), Style::Swing, "exactly 5/day is not HFT");
        assert_eq!(style(r("10"), r("4")), Style::Swing, "exactly 4 h is not HFT");
        assert_eq!(style(r("0.3"), r("335.9")), Style::Swing, "0.3/day is enough");
        assert_eq!(style(r("0.29"), r("10")), Style::Position);
        assert_eq!(style(r("1"), r("336")), Style::Position, "14 days is not under 14 days");
    }

    #[test]
    fn hold_times_pair_fifo_by_token_and_side() {
        let btc = Token::parse("BTC").unwrap();
        let eth = Token::parse("ETH").unwrap();
        let leg = |h: u64, token, side, opens| Leg { time_ms: h * HOUR_MS, token, side, opens, closes: !opens };
        let legs = [
            leg(0, btc, PositionSide::Long, true),
            leg(1, btc, PositionSide::Long, true),
            leg(2, eth, PositionSide::Long, false),  // another token: no pair
            leg(3, btc, PositionSide::Short, false), // another side: no pair
            leg(4, btc, PositionSide::Long, false),  // closes the 0 h open
            leg(10, btc, PositionSide::Long, false), // closes the 1 h open
            leg(20, eth, PositionSide::Short, true), // open until now (30 h)
        ];
        // (4 + 9 + 10) / 3 opens.
        let avg = avg_hold_hours(&legs, 30 * HOUR_MS).unwrap();
        assert_eq!(avg.round_dp(12, Rounding::HalfEven).unwrap(), r("7.666666666667"));
        assert_eq!(avg_hold_hours(&[], 0).unwrap(), Ratio::ZERO);
        assert_eq!(trades_per_day(45, 90).unwrap(), r("0.5"));
    }
}
