//! Properties of the score and the allocation over random inputs: every score
//! component stays in [0, 1] (seed 002 phase 2, "composite score
//! normalization"), and no allocation ever holds more than the 40 % single
//! weight or more than everything, whatever the scores and the previous weights.

use std::collections::BTreeMap;

use dataflows::model::{Address, Ratio};
use dataflows::rules::allocation::{MAX_SINGLE_WEIGHT, allocate};
use dataflows::rules::metrics::Style;
use dataflows::rules::score::{ScoreInputs, score};
use proptest::prelude::*;

/// `x / 10 000`, exactly.
fn r(x: i64) -> Ratio {
    Ratio::new(dataflows::model::Fixed::from_parts(i128::from(x), 4).unwrap())
}

prop_compose! {
    fn inputs()(
        rois in proptest::array::uniform3(-5_000_000i64..5_000_000),
        sharpe in -100_000i64..100_000,
        win in 0i64..10_000,
        dd in 0i64..20_000,
        lev in 0i64..600_000,
        iso: bool,
        style in 0u8..3,
        hours in 0i64..100_000_000,
    ) -> ScoreInputs {
        ScoreInputs {
            roi_7d: r(rois[0]),
            roi_30d: r(rois[1]),
            roi_90d: r(rois[2]),
            sharpe_30d: r(sharpe),
            win_rate_30d: r(win),
            max_drawdown_30d: r(dd),
            avg_leverage: r(lev),
            any_isolated: iso,
            style: [Style::Hft, Style::Swing, Style::Position][style as usize],
            hours_since_last_trade: r(hours),
        }
    }
}

proptest! {
    #[test]
    fn every_component_is_normalised(i in inputs(), label in proptest::option::of("[a-zA-Z ]{0,12}")) {
        let s = score(&i, label.as_deref()).unwrap();
        let unit = |x: Ratio| !x.is_negative() && x <= Ratio::from_int(1);
        for (name, c) in [
            ("roi", s.normalized_roi), ("sharpe", s.normalized_sharpe), ("win rate", s.normalized_win_rate),
            ("consistency", s.consistency), ("smart money", s.smart_money), ("risk", s.risk_management),
            ("style", s.style_multiplier), ("recency", s.recency_decay), ("raw", s.raw), ("final", s.final_score),
        ] {
            prop_assert!(unit(c), "{} = {:?}", name, c);
        }
        prop_assert!(s.consistency >= Ratio::parse("0.2").unwrap());
    }

    #[test]
    fn allocations_never_exceed_the_caps(
        scores in proptest::collection::btree_map(0u8..12, -10_000i64..50_000, 0..12),
        tiers in proptest::collection::btree_map(0u8..12, 0u8..3, 0..12),
        previous in proptest::collection::btree_map(0u8..12, 0i64..4_000, 0..6),
    ) {
        let a = |n: u8| Address::from_bytes([n + 1; 20]);
        let scores: BTreeMap<Address, Ratio> = scores.into_iter().map(|(w, s)| (a(w), r(s))).collect();
        let tiers: BTreeMap<Address, Ratio> =
            tiers.into_iter().map(|(w, t)| (a(w), [r(5_000), r(7_500), r(10_000)][t as usize])).collect();
        // A previous allocation that itself respects the caps.
        let prev_total: i64 = previous.values().sum();
        let previous: BTreeMap<Address, Ratio> = previous
            .into_iter()
            .map(|(w, x)| (a(w), if prev_total > 10_000 { r(x * 10_000 / prev_total) } else { r(x) }))
            .collect();
        for prev in [BTreeMap::new(), previous] {
            let out = allocate(&scores, &tiers, &prev).unwrap();
            let mut total = dataflows::model::Fixed::ZERO;
            for w in out.values() {
                prop_assert!(w.final_weight <= MAX_SINGLE_WEIGHT && !w.final_weight.is_negative(), "{:?}", w);
                prop_assert!(w.capped <= MAX_SINGLE_WEIGHT, "{:?}", w);
                total = total.checked_add(w.final_weight.fixed()).unwrap();
            }
            prop_assert!(total <= dataflows::model::Fixed::parse("1.000000000001").unwrap(), "total {}", total);
            prop_assert!(out.values().filter(|w| w.capped.is_positive()).count() <= 5);
        }
    }
}
