//! Account-level breakers that stop new entries (exits always go on): the
//! drawdown halt — our account `drawdown_halt_fraction` below its peak (the
//! seeds' 15 %) — and the daily loss breaker — `daily_loss_limit_fraction`
//! below the day's first value (UTC day). Both read our real account value as
//! it is reported, never the intended one. The halt holds until the account
//! recovers above the line; the daily breaker resets at midnight UTC.

use crate::model::{Ratio, TimeMs, Usd};

const DAY_MS: TimeMs = 86_400_000;

/// Which breaker stopped entries, with the numbers it compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tripped {
    Drawdown { peak: Usd, value: Usd },
    DailyLoss { day_start: Usd, value: Usd },
}

impl Tripped {
    pub fn code(self) -> &'static str {
        match self {
            Tripped::Drawdown { .. } => "SKIP_DRAWDOWN_HALT",
            Tripped::DailyLoss { .. } => "SKIP_DAILY_LOSS_LIMIT",
        }
    }
}

/// The account's peak and the current day's first value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Breakers {
    peak: Option<Usd>,
    /// (UTC day, its first value).
    day: Option<(u64, Usd)>,
    value: Option<Usd>,
}

impl Breakers {
    /// Our account was worth `value` at `t`.
    pub fn observe(&mut self, t: TimeMs, value: Usd) {
        self.peak = Some(self.peak.map_or(value, |p| p.max(value)));
        let day = t / DAY_MS;
        if self.day.is_none_or(|(d, _)| d != day) {
            self.day = Some((day, value));
        }
        self.value = Some(value);
    }

    /// The breaker that stops entries at `t`, if any (zero fractions: off).
    pub fn tripped(&self, t: TimeMs, drawdown_halt: Ratio, daily_loss_limit: Ratio) -> Option<Tripped> {
        let value = self.value?;
        let below = |base: Usd, fraction: Ratio| {
            fraction.is_positive()
                && base.is_positive()
                && base.checked_sub(value).and_then(|loss| loss.ratio_to(base)).is_ok_and(|r| r >= fraction)
        };
        if let Some(peak) = self.peak
            && below(peak, drawdown_halt)
        {
            return Some(Tripped::Drawdown { peak, value });
        }
        match self.day {
            Some((day, start)) if day == t / DAY_MS && below(start, daily_loss_limit) => {
                Some(Tripped::DailyLoss { day_start: start, value })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: TimeMs = 20_000 * DAY_MS;

    fn usd(n: i64) -> Usd {
        Usd::from_int(n)
    }

    fn tripped(b: &Breakers, t: TimeMs) -> Option<Tripped> {
        b.tripped(t, Ratio::lit(15, 2), Ratio::lit(5, 2))
    }

    #[test]
    fn the_halt_holds_from_fifteen_percent_below_the_peak_until_recovery() {
        let mut b = Breakers::default();
        b.observe(T, usd(100_000));
        b.observe(T + DAY_MS, usd(120_000));
        b.observe(T + 2 * DAY_MS, usd(102_001));
        assert_eq!(tripped(&b, T + 2 * DAY_MS), None, "14.999 % below the peak");
        b.observe(T + 3 * DAY_MS, usd(102_000));
        assert_eq!(tripped(&b, T + 3 * DAY_MS), Some(Tripped::Drawdown { peak: usd(120_000), value: usd(102_000) }));
        b.observe(T + 4 * DAY_MS, usd(103_000));
        assert_eq!(tripped(&b, T + 4 * DAY_MS), None, "back above the line");
    }

    #[test]
    fn the_daily_breaker_counts_from_the_days_first_value_and_resets_at_midnight() {
        let mut b = Breakers::default();
        b.observe(T + 1_000, usd(100_000));
        b.observe(T + 3_600_000, usd(95_500));
        assert_eq!(tripped(&b, T + 3_600_000), None);
        b.observe(T + 7_200_000, usd(95_000));
        assert_eq!(
            tripped(&b, T + 7_200_000),
            Some(Tripped::DailyLoss { day_start: usd(100_000), value: usd(95_000) })
        );
        assert_eq!(tripped(&b, T + DAY_MS), None, "a new day, no value yet: the old day's loss is not today's");
        b.observe(T + DAY_MS + 1, usd(95_000));
        assert_eq!(tripped(&b, T + DAY_MS + 1), None);
        assert_eq!(b.tripped(T + 7_200_000, Ratio::ZERO, Ratio::ZERO), None, "zero: off");
    }
}
