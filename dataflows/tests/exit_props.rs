//! Every exit fires exactly when its rule says (strategy-rules.md §13,
//! decisions.md 9): over random mark paths, clocks, liquidation prices and
//! flags, the exit monitor's first exit — which one and when — equals a plain
//! restatement of the rules here (the water mark as the running extreme of
//! every mark since entry, the stops as prices, the priority as a list).

use dataflows::config::{ExitsConfig, LiquidationBufferConfig};
use dataflows::model::{Fixed, HOUR_MS, PositionSide, Price};
use dataflows::rules::exits::{ExitReason, Facts, Monitor};
use proptest::prelude::*;

const T0: u64 = 1_750_000_000_000;

#[derive(Debug, Clone)]
struct Step {
    /// Mark in cents; `None`: the price is stale (the last mark stays known).
    mark: Option<u64>,
    hours: u64,
    trader_liquidated: bool,
    consensus_broken: bool,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(
        (
            prop_oneof![9 => (8_000u64..13_000).prop_map(Some), 1 => Just(None)],
            0u64..4,
            proptest::bool::weighted(0.03),
            proptest::bool::weighted(0.03),
        )
            .prop_map(|(mark, hours, trader_liquidated, consensus_broken)| Step {
                mark,
                hours,
                trader_liquidated,
                consensus_broken,
            }),
        1..60,
    )
}

fn cents(c: u64) -> Fixed {
    Fixed::from_parts(i128::from(c), 2).unwrap()
}

/// Our position as the restatement sees it.
struct Held {
    side: PositionSide,
    entry: Fixed,
    /// The best mark since entry (the trailing stop's water mark).
    extreme: Fixed,
    liq: Option<Fixed>,
    hours: u64,
}

/// The rules, restated: the first reason in priority order whose condition holds.
fn reference(h: &Held, mark: Option<Fixed>, last: Option<Fixed>, s: &Step) -> Option<ExitReason> {
    let Held { side, entry, extreme, liq, hours: held_hours } = *h;
    let long = side == PositionSide::Long;
    let buffer = |m: Fixed| {
        liq.map(|l| {
            let gap = if long { m.checked_sub(l).unwrap() } else { l.checked_sub(m).unwrap() };
            gap.checked_mul_div(Fixed::from_int(100), m, dataflows::model::Rounding::HalfEven).unwrap()
        })
    };
    if let Some(b) = mark.or(last).and_then(buffer)
        && b < Fixed::from_int(10)
    {
        return Some(ExitReason::LiquidationEmergency);
    }
    let m = mark?;
    let beyond = |level: Fixed| if long { m <= level } else { m >= level };
    let pct = |x: Fixed, p: i64| {
        let k = if long { Fixed::from_int(100 - p) } else { Fixed::from_int(100 + p) };
        x.checked_mul(k).unwrap().checked_div_int(100).unwrap()
    };
    if beyond(pct(entry, 5)) {
        return Some(ExitReason::StopLoss);
    }
    if beyond(pct(extreme, 8)) {
        return Some(ExitReason::TrailingStop);
    }
    if s.trader_liquidated {
        return Some(ExitReason::TraderLiquidated);
    }
    if buffer(m).is_some_and(|b| b < Fixed::from_int(20)) {
        return Some(ExitReason::LiquidationReduce);
    }
    if held_hours >= 72 {
        return Some(ExitReason::TimeStop);
    }
    if s.consensus_broken {
        return Some(ExitReason::ConsensusBreak);
    }
    None
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, ..ProptestConfig::default() })]

    #[test]
    fn exits_fire_exactly_when_the_rules_say(
        long: bool,
        liq in prop_oneof![Just(None), (1_000u64..20_000).prop_map(Some)],
        path in steps(),
    ) {
        let side = if long { PositionSide::Long } else { PositionSide::Short };
        let cfg = ExitsConfig::default();
        let buf = LiquidationBufferConfig::default();
        let entry = cents(10_000);
        let mut m = Monitor::new(side, Price::new(entry), T0, &cfg).unwrap();
        let mut extreme = entry;
        let mut last: Option<Fixed> = None;
        let mut hours = 0;
        for s in &path {
            hours += s.hours;
            let mark = s.mark.map(cents);
            if let Some(x) = mark {
                m.observe(Price::new(x), &cfg).unwrap();
                extreme = if long { extreme.max(x) } else { extreme.min(x) };
                last = Some(x);
            }
            let facts = Facts {
                now: T0 + hours * HOUR_MS,
                liquidation_price: liq.map(|l| Price::new(cents(l))),
                trader_liquidated: s.trader_liquidated,
                consensus_broken: s.consensus_broken,
            };
            let got = m.check(mark.map(Price::new), last.map(Price::new), &facts, &cfg, &buf).unwrap();
            let held = Held { side, entry, extreme, liq: liq.map(cents), hours };
            let want = reference(&held, mark, last, s);
            prop_assert_eq!(got.map(|e| e.reason), want, "at {} h, mark {:?}", hours, mark);
            if got.is_some() {
                break;
            }
        }
    }
}
