//! Exits on our own positions (strategy-rules.md §13, §12.2; decisions.md 7, 9
//! and 12). Each position carries a small state — its water mark, trailing
//! stop, the profit tiers already taken, its last reduce — advanced by every
//! fresh mark; [`Monitor::check`] says which exit, if any, fires now, one only,
//! in the decided priority.

use serde::{Deserialize, Serialize};

use crate::config::{ExitsConfig, LiquidationBufferConfig};
use crate::model::{Fixed, HOUR_MS, NumError, PositionSide, Price, Ratio, Rounding, SECOND_MS, TimeMs};

use super::risk::{BufferAction, buffer_action, liquidation_buffer_percent};

/// Why a position is (partly) closed, in priority order (decisions.md 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    /// Liquidation buffer under the emergency level: close 100 %.
    LiquidationEmergency,
    StopLoss,
    TrailingStop,
    /// The copied wallet was liquidated (its position vanished without a close).
    TraderLiquidated,
    /// Liquidation buffer under the reduce level: sell half.
    LiquidationReduce,
    TimeStop,
    /// The consensus that opened the position no longer holds its side.
    ConsensusBreak,
    /// Profit tier 1, 2 or 3 (index 0–2).
    ProfitTier(u8),
}

impl ExitReason {
    pub fn code(self) -> String {
        match self {
            ExitReason::LiquidationEmergency => "liquidation_buffer_emergency".into(),
            ExitReason::StopLoss => "stop_loss".into(),
            ExitReason::TrailingStop => "trailing_stop".into(),
            ExitReason::TraderLiquidated => "trader_liquidated".into(),
            ExitReason::LiquidationReduce => "liquidation_buffer_reduce_50".into(),
            ExitReason::TimeStop => "time_stop".into(),
            ExitReason::ConsensusBreak => "consensus_break".into(),
            ExitReason::ProfitTier(i) => format!("profit_tier_{}", i + 1),
        }
    }
    /// Exits after which the same token and side is not re-entered for the
    /// re-entry cooldown (decisions.md 7: a stop-out).
    pub const fn is_stop_out(self) -> bool {
        matches!(
            self,
            ExitReason::LiquidationEmergency | ExitReason::StopLoss | ExitReason::TrailingStop | ExitReason::TimeStop
        )
    }
}

/// An exit that fired: the reason and the share of the position to sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Exit {
    pub reason: ExitReason,
    /// Fraction of the current size (1 = close).
    pub fraction: Ratio,
    /// The price the decision read.
    pub price: Price,
}

/// `entry × (1 ∓ pct/100)`: below entry for a long, above for a short.
pub fn offset(entry: Price, side: PositionSide, percent: Ratio) -> Result<Price, NumError> {
    let f = percent.percent_to_fraction()?.fixed();
    let k = match side {
        PositionSide::Long => Fixed::ONE.checked_sub(f)?,
        PositionSide::Short => Fixed::ONE.checked_add(f)?,
    };
    Ok(Price::new(entry.fixed().checked_mul(k)?))
}

/// The hard stop price (§13.1).
pub fn stop_price(entry: Price, side: PositionSide, cfg: &ExitsConfig) -> Result<Price, NumError> {
    offset(entry, side, cfg.stop_loss_percent)
}

/// One position's exit state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Monitor {
    pub side: PositionSide,
    pub entry: Price,
    pub opened_at: TimeMs,
    /// High-water mark (long) or low-water mark (short), from entry.
    pub water: Price,
    /// The trailing stop; only ever tightened (decisions.md 9: armed from entry).
    pub trail: Price,
    /// Bit i set: profit tier i was taken.
    pub tiers_taken: u8,
    /// The last liquidation-buffer reduce (reduces wait out the cooldown).
    pub last_reduce: Option<TimeMs>,
}

/// What the monitor reads besides the mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub now: TimeMs,
    /// The venue's liquidation price of our position, if any.
    pub liquidation_price: Option<Price>,
    /// The copied wallet was liquidated since we entered.
    pub trader_liquidated: bool,
    /// The position belongs to the consensus strategy and its side no longer has a strong consensus.
    pub consensus_broken: bool,
}

impl Monitor {
    pub fn new(side: PositionSide, entry: Price, opened_at: TimeMs, cfg: &ExitsConfig) -> Result<Monitor, NumError> {
        Ok(Monitor {
            side,
            entry,
            opened_at,
            water: entry,
            trail: offset(entry, side, cfg.trailing_stop_percent)?,
            tiers_taken: 0,
            last_reduce: None,
        })
    }

    /// Moves the water mark and the trailing stop with a fresh mark.
    pub fn observe(&mut self, mark: Price, cfg: &ExitsConfig) -> Result<(), NumError> {
        let better = match self.side {
            PositionSide::Long => mark > self.water,
            PositionSide::Short => mark < self.water,
        };
        if better {
            self.water = mark;
            let trail = offset(mark, self.side, cfg.trailing_stop_percent)?;
            self.trail = match self.side {
                PositionSide::Long => self.trail.max(trail),
                PositionSide::Short => self.trail.min(trail),
            };
        }
        Ok(())
    }

    /// The level the position is stopped out at: the tighter of the hard
    /// stop and the trailing stop (what the venue's protective stop rests at).
    pub fn protective_stop(&self, cfg: &ExitsConfig) -> Result<Price, NumError> {
        let hard = stop_price(self.entry, self.side, cfg)?;
        Ok(match self.side {
            PositionSide::Long => hard.max(self.trail),
            PositionSide::Short => hard.min(self.trail),
        })
    }

    /// Unrealised gain in percent (inverted for shorts).
    pub fn gain_percent(&self, mark: Price) -> Result<Ratio, NumError> {
        let d = match self.side {
            PositionSide::Long => mark.fixed().checked_sub(self.entry.fixed())?,
            PositionSide::Short => self.entry.fixed().checked_sub(mark.fixed())?,
        };
        Ok(Ratio::new(d.checked_mul_div(Fixed::from_int(100), self.entry.fixed(), Rounding::HalfEven)?))
    }

    /// The exit that fires now, if any. `mark` is the fresh price (`None`
    /// when the price is stale: then only the emergency close may act, on
    /// `last_mark`). Call [`Monitor::observe`] first; call
    /// [`Monitor::record`] when the exit is sent.
    pub fn check(
        &self,
        mark: Option<Price>,
        last_mark: Option<Price>,
        f: &Facts,
        cfg: &ExitsConfig,
        buffer: &LiquidationBufferConfig,
    ) -> Result<Option<Exit>, NumError> {
        let exit = |reason, fraction, price| Ok(Some(Exit { reason, fraction, price }));
        let action = match (mark.or(last_mark), f.liquidation_price) {
            (Some(m), Some(liq)) if m.is_positive() && liq.is_positive() => {
                liquidation_buffer_percent(self.side, m, liq).ok().and_then(|b| buffer_action(b, buffer))
            }
            _ => None,
        };
        if action == Some(BufferAction::EmergencyClose)
            && let Some(m) = mark.or(last_mark)
        {
            return exit(ExitReason::LiquidationEmergency, Ratio::ONE, m);
        }
        let Some(m) = mark else { return Ok(None) };
        let crossed = |level: Price| match self.side {
            PositionSide::Long => m <= level,
            PositionSide::Short => m >= level,
        };
        if crossed(stop_price(self.entry, self.side, cfg)?) {
            return exit(ExitReason::StopLoss, Ratio::ONE, m);
        }
        if crossed(self.trail) {
            return exit(ExitReason::TrailingStop, Ratio::ONE, m);
        }
        if f.trader_liquidated {
            return exit(ExitReason::TraderLiquidated, Ratio::ONE, m);
        }
        let cooling = self.last_reduce.is_some_and(|t| f.now < t + buffer.reduce_cooldown_secs * SECOND_MS);
        if action == Some(BufferAction::Reduce) && !cooling {
            return exit(ExitReason::LiquidationReduce, buffer.reduce_position_percent.percent_to_fraction()?, m);
        }
        if f.now >= self.opened_at.saturating_add(cfg.max_position_duration_hours * HOUR_MS) {
            return exit(ExitReason::TimeStop, Ratio::ONE, m);
        }
        if f.consensus_broken {
            return exit(ExitReason::ConsensusBreak, Ratio::ONE, m);
        }
        if cfg.profit_tiers_enabled {
            let gain = self.gain_percent(m)?;
            // Only the highest tier reached, and each tier once.
            let reached =
                cfg.profit_tiers.iter().enumerate().filter(|(_, t)| gain >= t.gain_percent).max_by_key(|(i, _)| *i);
            if let Some((i, tier)) = reached
                && self.tiers_taken & (1 << i) == 0
            {
                return exit(ExitReason::ProfitTier(i as u8), tier.sell_percent.percent_to_fraction()?, m);
            }
        }
        Ok(None)
    }

    /// Records an exit that was sent: a reduce starts its cooldown; a profit
    /// tier is taken, with every lower tier (selling on the way down is not a
    /// profit take).
    pub fn record(&mut self, e: &Exit, now: TimeMs) {
        match e.reason {
            ExitReason::LiquidationReduce => self.last_reduce = Some(now),
            ExitReason::ProfitTier(i) => self.tiers_taken |= (2u8 << i) - 1,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    //! Seed 000 phase 6, seed 001 phases 7 and 10, seed 002 phase 5.
    use super::*;

    const T0: TimeMs = 1_700_000_000_000;

    fn px(s: &str) -> Price {
        Price::parse(s).unwrap()
    }
    fn cfg() -> ExitsConfig {
        ExitsConfig::default()
    }
    fn facts(now: TimeMs) -> Facts {
        Facts { now, liquidation_price: None, trader_liquidated: false, consensus_broken: false }
    }
    fn long() -> Monitor {
        Monitor::new(PositionSide::Long, px("100"), T0, &cfg()).unwrap()
    }
    fn fire(m: &mut Monitor, mark: &str, f: &Facts) -> Option<ExitReason> {
        m.observe(px(mark), &cfg()).unwrap();
        m.check(Some(px(mark)), None, f, &cfg(), &LiquidationBufferConfig::default()).unwrap().map(|e| e.reason)
    }

    #[test]
    fn stop_prices_long_and_short() {
        assert_eq!(stop_price(px("100"), PositionSide::Long, &cfg()).unwrap(), px("95"));
        assert_eq!(stop_price(px("100"), PositionSide::Short, &cfg()).unwrap(), px("105"));
        assert_eq!(fire(&mut long(), "95", &facts(T0)), Some(ExitReason::StopLoss));
        let mut short = Monitor::new(PositionSide::Short, px("100"), T0, &cfg()).unwrap();
        assert_eq!(fire(&mut short, "104.99", &facts(T0)), None);
        assert_eq!(fire(&mut short, "105", &facts(T0)), Some(ExitReason::StopLoss));
    }

    #[test]
    fn trailing_stop_updates_on_a_new_high_and_never_lowers() {
        let mut m = long();
        fire(&mut m, "110", &facts(T0));
        assert_eq!(m.trail, px("101.2"));
        fire(&mut m, "115", &facts(T0));
        assert_eq!((m.water, m.trail), (px("115"), px("105.8")));
        fire(&mut m, "112", &facts(T0));
        assert_eq!(m.trail, px("105.8"), "a lower mark leaves the trail");
    }

    #[test]
    fn seed_000_trailing_example_corrected() {
        // Up to 110, down to 101.50: 110 × 0.92 = 101.20, so 101.50 holds and 101.20 fires.
        let mut m = long();
        assert_eq!(fire(&mut m, "110", &facts(T0)), None);
        assert_eq!(fire(&mut m, "101.5", &facts(T0)), None);
        assert_eq!(fire(&mut m, "101.2", &facts(T0)), Some(ExitReason::TrailingStop));
    }

    #[test]
    fn short_trail_mirrors() {
        let mut m = Monitor::new(PositionSide::Short, px("100"), T0, &cfg()).unwrap();
        assert_eq!(m.trail, px("108"));
        fire(&mut m, "90", &facts(T0));
        assert_eq!(m.trail, px("97.2"));
        assert_eq!(fire(&mut m, "97.2", &facts(T0)), Some(ExitReason::TrailingStop));
    }

    #[test]
    fn time_stop_at_72_hours() {
        assert_eq!(fire(&mut long(), "100", &facts(T0 + 71 * HOUR_MS)), None);
        assert_eq!(fire(&mut long(), "100", &facts(T0 + 72 * HOUR_MS)), Some(ExitReason::TimeStop), "≥ 72 h");
        assert_eq!(fire(&mut long(), "100", &facts(T0 + 73 * HOUR_MS)), Some(ExitReason::TimeStop));
    }

    #[test]
    fn liquidation_buffer_emergency_and_reduce_with_cooldown() {
        let mut f = facts(T0);
        f.liquidation_price = Some(px("91"));
        assert_eq!(fire(&mut long(), "100", &f), Some(ExitReason::LiquidationEmergency), "9 %");
        f.liquidation_price = Some(px("82"));
        let mut m = long();
        assert_eq!(fire(&mut m, "100", &f), Some(ExitReason::LiquidationReduce), "18 %");
        let e = m.check(Some(px("100")), None, &f, &cfg(), &LiquidationBufferConfig::default()).unwrap().unwrap();
        assert_eq!(e.fraction, Ratio::lit(5, 1));
        m.record(&e, T0);
        f.now = T0 + 59 * SECOND_MS;
        assert_eq!(fire(&mut m, "100", &f), None, "reduces wait out 60 s");
        f.liquidation_price = Some(px("91"));
        assert_eq!(fire(&mut m, "100", &f), Some(ExitReason::LiquidationEmergency), "emergencies never wait");
        f.liquidation_price = Some(px("82"));
        f.now = T0 + 60 * SECOND_MS;
        assert_eq!(fire(&mut m, "100", &f), Some(ExitReason::LiquidationReduce));
    }

    #[test]
    fn consensus_break_and_trader_liquidation() {
        let mut f = facts(T0);
        f.consensus_broken = true;
        assert_eq!(fire(&mut long(), "100", &f), Some(ExitReason::ConsensusBreak));
        f.trader_liquidated = true;
        assert_eq!(fire(&mut long(), "100", &f), Some(ExitReason::TraderLiquidated), "outranks consensus break");
    }

    #[test]
    fn priority_when_several_fire() {
        // Stop loss and time stop and consensus break together: the stop wins.
        let mut f = facts(T0 + 100 * HOUR_MS);
        f.consensus_broken = true;
        assert_eq!(fire(&mut long(), "90", &f), Some(ExitReason::StopLoss));
        // Emergency outranks the stop.
        f.liquidation_price = Some(px("85"));
        assert_eq!(fire(&mut long(), "90", &f), Some(ExitReason::LiquidationEmergency));
    }

    #[test]
    fn stale_price_only_lets_the_emergency_act() {
        let m = long();
        let mut f = facts(T0 + 100 * HOUR_MS);
        let b = LiquidationBufferConfig::default();
        assert_eq!(m.check(None, Some(px("90")), &f, &cfg(), &b).unwrap(), None, "no stop on a stale price");
        f.liquidation_price = Some(px("85"));
        let e = m.check(None, Some(px("90")), &f, &cfg(), &b).unwrap().unwrap();
        assert_eq!((e.reason, e.price), (ExitReason::LiquidationEmergency, px("90")));
    }

    #[test]
    fn profit_tiers_once_each_off_by_default() {
        let mut m = long();
        assert_eq!(fire(&mut m, "125", &facts(T0)), None, "off by default");
        let on = ExitsConfig { profit_tiers_enabled: true, ..cfg() };
        let b = LiquidationBufferConfig::default();
        let mut m = long();
        m.observe(px("115"), &on).unwrap();
        let e = m.check(Some(px("115")), None, &facts(T0), &on, &b).unwrap().unwrap();
        assert_eq!((e.reason, e.fraction), (ExitReason::ProfitTier(0), Ratio::lit(25, 2)));
        m.record(&e, T0);
        assert_eq!(m.check(Some(px("115")), None, &facts(T0), &on, &b).unwrap(), None, "tier 1 once");
        m.observe(px("145"), &on).unwrap();
        let e = m.check(Some(px("145")), None, &facts(T0), &on, &b).unwrap().unwrap();
        assert_eq!((e.reason, e.fraction), (ExitReason::ProfitTier(2), Ratio::lit(5, 1)), "the highest tier reached");
        m.record(&e, T0);
        assert_eq!(m.check(Some(px("134")), None, &facts(T0), &on, &b).unwrap(), None, "tier 2 is passed over");
    }
}
