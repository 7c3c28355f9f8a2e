//! PnL-weighted allocations (strategy-rules.md §7, decisions.md 4): eligible
//! wallets with a positive score → softmax (T = 2) → ROI tier → the top 5,
//! projected onto the capped simplex (no weight above 40 %, by water-filling;
//! with fewer than 3 wallets the rest stays in cash) → the turnover limit
//! (each weight moves at most 15 points from the previous allocation, over the
//! union of old and new wallets; weights ≤ 0.001 dropped; renormalised; the
//! first allocation is taken as computed).
//!
//! Every step is exact except the softmax's exponentials, which use the
//! deterministic fixed-point [`math::exp`].

use std::collections::BTreeMap;

use crate::model::{Address, Fixed, NumError, Ratio, Rounding};

use super::math;

pub const SOFTMAX_TEMPERATURE: Ratio = Ratio::lit(2, 0);
pub const MAX_TOTAL_POSITIONS: usize = 5;
pub const MAX_SINGLE_WEIGHT: Ratio = Ratio::lit(40, 2);
pub const MAX_WEIGHT_CHANGE: Ratio = Ratio::lit(15, 2);
pub const MIN_WEIGHT: Ratio = Ratio::lit(1, 3);

/// One wallet's way through the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize)]
pub struct Weights {
    /// After the softmax.
    pub raw: Ratio,
    /// After the ROI tier and the caps.
    pub capped: Ratio,
    /// After the turnover limit: what is held.
    pub final_weight: Ratio,
}

fn div(a: Fixed, b: Fixed) -> Result<Fixed, NumError> {
    a.checked_mul_div(Fixed::ONE, b, Rounding::HalfEven)
}

fn normalise(w: &mut BTreeMap<Address, Fixed>) -> Result<(), NumError> {
    let total = w.values().try_fold(Fixed::ZERO, |a, x| a.checked_add(*x))?;
    if total.is_positive() {
        for v in w.values_mut() {
            *v = div(*v, total)?;
        }
    }
    Ok(())
}

/// `exp((s − max)/T) / Σ …`; empty in, empty out.
pub fn softmax(scores: &BTreeMap<Address, Ratio>, temperature: Ratio) -> Result<BTreeMap<Address, Ratio>, NumError> {
    let Some(max) = scores.values().max().copied() else { return Ok(BTreeMap::new()) };
    let mut e = BTreeMap::new();
    for (a, s) in scores {
        let x = div(s.fixed().checked_sub(max.fixed())?, temperature.fixed())?;
        e.insert(*a, math::exp(x)?);
    }
    normalise(&mut e)?;
    Ok(e.into_iter().map(|(a, v)| (a, Ratio::new(v))).collect())
}

/// Clips to `cap` and redistributes the excess pro rata to the uncapped until
/// none exceeds it (the projection onto the capped simplex). With fewer than
/// ⌈1/cap⌉ wallets the total stays below 1: the remainder is cash.
pub fn water_fill(weights: &BTreeMap<Address, Fixed>, cap: Fixed) -> Result<BTreeMap<Address, Fixed>, NumError> {
    let mut w = weights.clone();
    loop {
        let over: Vec<Address> = w.iter().filter(|(_, v)| **v > cap).map(|(a, _)| *a).collect();
        if over.is_empty() {
            return Ok(w);
        }
        let mut excess = Fixed::ZERO;
        for a in &over {
            excess = excess.checked_add(w[a].checked_sub(cap)?)?;
            w.insert(*a, cap);
        }
        let free: Fixed = w.values().filter(|v| **v < cap).try_fold(Fixed::ZERO, |acc, v| acc.checked_add(*v))?;
        if free.is_zero() {
            return Ok(w); // everyone is at the cap: the excess is cash
        }
        for v in w.values_mut().filter(|v| **v < cap) {
            let share = excess.checked_mul_div(*v, free, Rounding::HalfEven)?;
            *v = v.checked_add(share)?;
        }
    }
}

/// The allocation from scores and ROI tiers (wallets without a tier get 0.5),
/// given the previous final weights (empty for the first allocation).
pub fn allocate(
    scores: &BTreeMap<Address, Ratio>,
    tiers: &BTreeMap<Address, Ratio>,
    previous: &BTreeMap<Address, Ratio>,
) -> Result<BTreeMap<Address, Weights>, NumError> {
    let positive: BTreeMap<Address, Ratio> =
        scores.iter().filter(|(_, s)| s.is_positive()).map(|(a, s)| (*a, *s)).collect();
    let raw = softmax(&positive, SOFTMAX_TEMPERATURE)?;
    // ROI tier, drop zeros, renormalise.
    let mut tiered: BTreeMap<Address, Fixed> = BTreeMap::new();
    for (a, w) in &raw {
        let t = tiers.get(a).copied().unwrap_or(Ratio::lit(5, 1));
        let v = w.fixed().checked_mul(t.fixed())?;
        if v.is_positive() {
            tiered.insert(*a, v);
        }
    }
    normalise(&mut tiered)?;
    // The top five by weight (ties: by address), renormalised, then capped.
    let mut ranked: Vec<(Address, Fixed)> = tiered.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(MAX_TOTAL_POSITIONS);
    let mut top: BTreeMap<Address, Fixed> = ranked.into_iter().collect();
    normalise(&mut top)?;
    let capped = water_fill(&top, MAX_SINGLE_WEIGHT.fixed())?;
    let final_weights = applied(&capped, previous)?;
    let mut out: BTreeMap<Address, Weights> = BTreeMap::new();
    let keys: std::collections::BTreeSet<Address> = raw.keys().chain(final_weights.keys()).copied().collect();
    for a in keys {
        out.insert(
            a,
            Weights {
                raw: raw.get(&a).copied().unwrap_or_default(),
                capped: Ratio::new(capped.get(&a).copied().unwrap_or_default()),
                final_weight: Ratio::new(final_weights.get(&a).copied().unwrap_or_default()),
            },
        );
    }
    Ok(out)
}

/// The weights applied given the previous ones: the target as computed the
/// first time (nothing held), else through the turnover limit.
pub fn applied(
    target: &BTreeMap<Address, Fixed>,
    previous: &BTreeMap<Address, Ratio>,
) -> Result<BTreeMap<Address, Fixed>, NumError> {
    if previous.is_empty() { Ok(target.clone()) } else { turnover(target, previous) }
}

/// Allocations over time (decisions.md 4): a target (raw and capped weights)
/// is computed on the allocation cadence, and the held weights move to it at
/// most once per day through the turnover limit — at the first clock tick of
/// each day, and at once for the first non-empty target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllocationPath {
    held: BTreeMap<Address, Ratio>,
    started: bool,
}

/// A target: wallet → (raw, capped) weight.
pub type Target = BTreeMap<Address, (Ratio, Ratio)>;

impl AllocationPath {
    /// One step at a time where the target changed or a new day began; the
    /// rows every wallet with a weight now has. On an arithmetic error the
    /// held weights stay as they were.
    pub fn step(&mut self, target: &Target, new_day: bool) -> BTreeMap<Address, Weights> {
        if new_day || (!self.started && !target.is_empty()) {
            let capped: BTreeMap<Address, Fixed> =
                target.iter().filter(|(_, w)| w.1.is_positive()).map(|(a, w)| (*a, w.1.fixed())).collect();
            if let Ok(next) = applied(&capped, &self.held) {
                self.held = next.into_iter().map(|(a, v)| (a, Ratio::new(v))).collect();
                self.started |= !target.is_empty();
            }
        }
        let mut rows: BTreeMap<Address, Weights> = BTreeMap::new();
        for (a, (raw, capped)) in target {
            rows.insert(*a, Weights { raw: *raw, capped: *capped, final_weight: Ratio::ZERO });
        }
        for (a, w) in &self.held {
            rows.entry(*a).or_default().final_weight = *w;
        }
        rows
    }
}

/// Each weight moves at most [`MAX_WEIGHT_CHANGE`] from its previous value,
/// over old and new wallets; weights ≤ [`MIN_WEIGHT`] go; the rest is
/// renormalised to the capped total (cash stays cash), and capped again.
pub fn turnover(
    target: &BTreeMap<Address, Fixed>,
    previous: &BTreeMap<Address, Ratio>,
) -> Result<BTreeMap<Address, Fixed>, NumError> {
    let step = MAX_WEIGHT_CHANGE.fixed();
    let mut moved: BTreeMap<Address, Fixed> = BTreeMap::new();
    let keys: std::collections::BTreeSet<Address> = target.keys().chain(previous.keys()).copied().collect();
    for a in keys {
        let old = previous.get(&a).map(|r| r.fixed()).unwrap_or(Fixed::ZERO);
        let new = target.get(&a).copied().unwrap_or(Fixed::ZERO);
        let v = new.clamp(old.checked_sub(step)?, old.checked_add(step)?);
        if v > MIN_WEIGHT.fixed() {
            moved.insert(a, v);
        }
    }
    let invested = target.values().try_fold(Fixed::ZERO, |acc, v| acc.checked_add(*v))?;
    normalise(&mut moved)?;
    for v in moved.values_mut() {
        *v = v.checked_mul(invested)?;
    }
    water_fill(&moved, MAX_SINGLE_WEIGHT.fixed())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(n: u8) -> Address {
        Address::from_bytes([n; 20])
    }

    fn q(s: &str) -> Ratio {
        Ratio::parse(s).unwrap()
    }

    fn scores(xs: &[(u8, &str)]) -> BTreeMap<Address, Ratio> {
        xs.iter().map(|(n, s)| (addr(*n), q(s))).collect()
    }

    fn total(w: &BTreeMap<Address, Weights>) -> Fixed {
        w.values().fold(Fixed::ZERO, |a, x| a.checked_add(x.final_weight.fixed()).unwrap())
    }

    fn near(a: Fixed, b: &str) {
        let d = a.checked_sub(Fixed::parse(b).unwrap()).unwrap().abs();
        assert!(d <= Fixed::parse("0.000000000001").unwrap(), "{a} vs {b}");
    }

    // Seed 003 tests/test_allocation.py, by name.
    #[test]
    fn allocations_sum_to_one() {
        let s = scores(&[(1, "0.9"), (2, "0.8"), (3, "0.7"), (4, "0.6")]);
        let tiers: BTreeMap<Address, Ratio> = s.keys().map(|a| (*a, Ratio::from_int(1))).collect();
        let w = allocate(&s, &tiers, &BTreeMap::new()).unwrap();
        near(total(&w), "1");
        assert!(w.values().all(|x| x.final_weight <= MAX_SINGLE_WEIGHT));
        assert_eq!(allocate(&BTreeMap::new(), &tiers, &BTreeMap::new()).unwrap(), BTreeMap::new());
    }

    #[test]
    fn max_positions_cap() {
        let s = scores(&[(1, "0.9"), (2, "0.8"), (3, "0.7"), (4, "0.6"), (5, "0.5"), (6, "0.4"), (7, "0.3")]);
        let w = allocate(&s, &BTreeMap::new(), &BTreeMap::new()).unwrap();
        let held: Vec<_> = w.iter().filter(|(_, x)| x.final_weight.is_positive()).map(|(a, _)| *a).collect();
        assert_eq!(held, (1..=5).map(addr).collect::<Vec<_>>(), "the five best by weight");
        near(total(&w), "1");
    }

    #[test]
    fn roi_tier_applied() {
        // Equal scores, tiers 1.0 and 0.5: weights 2/3 and 1/3 before the cap.
        let s = scores(&[(1, "0.5"), (2, "0.5"), (3, "0.5")]);
        let tiers = [(addr(1), q("1")), (addr(2), q("0.5")), (addr(3), q("0.5"))].into_iter().collect();
        let w = allocate(&s, &tiers, &BTreeMap::new()).unwrap();
        // 0.5 / 0.25 / 0.25 → the first is capped at 0.4, the excess shared: 0.3 each.
        near(w[&addr(1)].final_weight.fixed(), "0.4");
        near(w[&addr(2)].final_weight.fixed(), "0.3");
        assert_eq!(w[&addr(1)].raw, w[&addr(2)].raw, "the softmax saw equal scores");
    }

    #[test]
    fn turnover_limit() {
        let s = scores(&[(1, "0.9"), (2, "0.8"), (3, "0.7")]);
        let previous: BTreeMap<Address, Ratio> =
            [(addr(4), q("0.4")), (addr(5), q("0.3")), (addr(6), q("0.3"))].into_iter().collect();
        let w = allocate(&s, &BTreeMap::new(), &previous).unwrap();
        // Old wallets fade by at most 0.15, new ones rise by at most 0.15 (before renormalising).
        for (a, x) in &w {
            let old = previous.get(a).map(|r| r.fixed()).unwrap_or(Fixed::ZERO);
            let moved = x.final_weight.fixed().checked_sub(old).unwrap().abs();
            assert!(moved <= Fixed::parse("0.2").unwrap(), "{a}: {moved}");
        }
        assert!(w[&addr(4)].final_weight.is_positive(), "a dropped wallet fades out");
        near(total(&w), "1");
    }

    #[test]
    fn the_path_moves_once_a_day_and_takes_the_first_target_as_computed() {
        let target = |xs: &[(u8, &str)]| -> Target { xs.iter().map(|(n, w)| (addr(*n), (q(w), q(w)))).collect() };
        let mut path = AllocationPath::default();
        assert!(path.step(&Target::new(), false).is_empty());
        let first = path.step(&target(&[(1, "0.4"), (2, "0.3"), (3, "0.3")]), false);
        assert_eq!(first[&addr(1)].final_weight, q("0.4"), "the first target is applied as computed");
        // A new target within the day is recorded but not applied.
        let moved = path.step(&target(&[(4, "0.4"), (5, "0.3"), (6, "0.3")]), false);
        assert_eq!((moved[&addr(1)].final_weight, moved[&addr(4)].final_weight), (q("0.4"), Ratio::ZERO));
        assert_eq!(moved[&addr(4)].capped, q("0.4"));
        // The next day it moves, by the turnover limit.
        let day = path.step(&target(&[(4, "0.4"), (5, "0.3"), (6, "0.3")]), true);
        assert!(day[&addr(4)].final_weight.is_positive() && day[&addr(1)].final_weight.is_positive());
        assert!(day[&addr(1)].final_weight < q("0.4"));
    }

    #[test]
    fn single_trader_weight_cap() {
        // One dominant score: water-filling keeps it at 40 % after renormalising.
        let s = scores(&[(1, "10"), (2, "0.1"), (3, "0.1"), (4, "0.1")]);
        let w = allocate(&s, &BTreeMap::new(), &BTreeMap::new()).unwrap();
        near(w[&addr(1)].final_weight.fixed(), "0.4");
        near(total(&w), "1");
        // Two wallets cannot hold 100 % under a 40 % cap: the rest is cash.
        let two = allocate(&scores(&[(1, "0.9"), (2, "0.8")]), &BTreeMap::new(), &BTreeMap::new()).unwrap();
        near(total(&two), "0.8");
    }
}
