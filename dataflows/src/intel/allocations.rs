//! Allocations (strategy-rules.md §7, decisions.md 4) in the dataflow. The
//! eligible wallets' scores are sampled on the allocation cadence (an update
//! at `t` becomes visible at the next multiple of the cadence, so a burst of
//! fills costs one recomputation, not one per fill); the target is the pure
//! [`allocate`] of the sample. Applying it is sequential in time — the
//! turnover limit reads the weights held before — so one small operator
//! walks the completed times in order with [`AllocationPath`].

use std::collections::BTreeMap;

use differential_dataflow::{AsCollection, VecCollection};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::{Capability, Operator};

use crate::model::{Address, Ratio, TimeMs};
use crate::rules::allocation::{AllocationPath, Target, Weights, allocate};
use crate::rules::trader::Standing;

use super::metrics::DAY_MS;

/// How often the target is recomputed (decisions.md 4: every 6 h).
pub const CADENCE_MS: u64 = 6 * 3_600_000;

/// The first multiple of the cadence at or after `t`.
pub fn next_cadence(t: u64) -> u64 {
    t.div_ceil(CADENCE_MS).saturating_mul(CADENCE_MS)
}

/// The target (wallet → raw and capped weight) on the cadence.
pub fn targets<'s>(
    standings: VecCollection<'s, u64, (Address, Standing)>,
) -> VecCollection<'s, u64, (Address, (Ratio, Ratio))> {
    standings
        .filter(|(_, s)| s.eligible())
        .map(|(w, s)| ((), (w, s.score.final_score, s.score.roi_tier)))
        .delay(|t| next_cadence(*t))
        .reduce(|_, group, out| {
            let scores = group.iter().map(|((w, s, _), _)| (*w, *s)).collect();
            let tiers = group.iter().map(|((w, _, t), _)| (*w, *t)).collect();
            if let Ok(weights) = allocate(&scores, &tiers, &BTreeMap::new()) {
                for (w, x) in weights {
                    out.push(((w, (x.raw, x.capped)), 1));
                }
            }
        })
        .map(|((), row)| row)
}

/// What the path operator reads.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
enum Step {
    Day(u64),
    Target(Address, Ratio, Ratio),
}

type Row = (Address, Weights);
type Out = CapacityContainerBuilder<Vec<(Row, u64, isize)>>;

/// The allocations held over time: raw, capped and final weight per wallet.
pub fn allocations<'s>(
    targets: VecCollection<'s, u64, (Address, (Ratio, Ratio))>,
    clock: VecCollection<'s, u64, TimeMs>,
) -> VecCollection<'s, u64, Row> {
    let steps = clock.map(|now| Step::Day(now / DAY_MS)).concat(targets.map(|(w, (r, c))| Step::Target(w, r, c)));
    steps
        .inner
        .unary_frontier::<Out, _, _, _>(Exchange::new(|_: &(Step, u64, isize)| 0), "AllocationPath", |_cap, _info| {
            let mut pending: BTreeMap<u64, (Capability<u64>, BTreeMap<Step, isize>)> = BTreeMap::new();
            let mut target = Target::new();
            let mut path = AllocationPath::default();
            let mut emitted: BTreeMap<Address, Weights> = BTreeMap::new();
            move |(input, frontier), output| {
                input.for_each(|cap, data| {
                    for (step, t, r) in data.drain(..) {
                        let (_, acc) = pending.entry(t).or_insert_with(|| (cap.delayed(&t, 0), BTreeMap::new()));
                        *acc.entry(step).or_default() += r;
                    }
                });
                while let Some(t) = pending.keys().next().copied().filter(|t| !frontier.less_equal(t)) {
                    let Some((cap, changes)) = pending.remove(&t) else { break };
                    let mut new_day = false;
                    let mut changed = false;
                    for (step, r) in changes.into_iter().filter(|(_, r)| *r != 0) {
                        match step {
                            Step::Day(_) => new_day |= r > 0,
                            Step::Target(w, raw, capped) => {
                                changed = true;
                                if r > 0 {
                                    target.insert(w, (raw, capped));
                                } else if target.get(&w) == Some(&(raw, capped)) {
                                    target.remove(&w);
                                }
                            }
                        }
                    }
                    if !new_day && !changed {
                        continue;
                    }
                    let rows = path.step(&target, new_day);
                    let mut session = output.session(&cap);
                    for (w, x) in &emitted {
                        if rows.get(w) != Some(x) {
                            session.give(((*w, *x), t, -1));
                        }
                    }
                    for (w, x) in &rows {
                        if emitted.get(w) != Some(x) {
                            session.give(((*w, *x), t, 1));
                        }
                    }
                    emitted = rows;
                }
            }
        })
        .as_collection()
}
