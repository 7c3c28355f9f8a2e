//! The desk as a timely operator: every fact goes to one worker, which walks
//! the completed times in order and steps the [`Desk`]. Between facts the desk
//! wakes itself: it holds a capability at its next deadline (a window's end,
//! a rebalance, a time stop), so time-driven decisions happen at their exact
//! time without a clock ticking every minute. The output are events — each
//! signal and intent is inserted at its time and never retracted.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;

use differential_dataflow::{AsCollection, VecCollection};
use serde::{Deserialize, Serialize};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::{Capability, Operator};

use crate::model::{OrderIntent, Signal};

use super::Params;
use super::desk::{Desk, Fact};

/// One decision of the desk.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
enum Decided {
    Signal(Signal),
    Intent(OrderIntent),
}

type Out = CapacityContainerBuilder<Vec<(Decided, u64, isize)>>;
type Decisions<'s> = (VecCollection<'s, u64, Signal>, VecCollection<'s, u64, OrderIntent>, NextWakeup);

/// The desk's earliest pending deadline (`u64::MAX`: none), on the worker
/// that runs it. A driver that answers intents (a replay with a paper venue)
/// steps to it, so an intent decided between inputs is sent at its own time.
#[derive(Debug, Clone, Default)]
pub struct NextWakeup(Rc<Cell<u64>>);

impl NextWakeup {
    pub fn get(&self) -> Option<u64> {
        Some(self.0.get()).filter(|t| *t != u64::MAX && *t != 0)
    }
}

/// The signals and intents of the desk over `facts`.
pub fn desk<'s>(facts: VecCollection<'s, u64, Fact>, params: Params) -> Decisions<'s> {
    let next_wakeup = NextWakeup::default();
    let hint = next_wakeup.clone();
    let decided = facts
        .inner
        .unary_frontier::<Out, _, _, _>(Exchange::new(|_: &(Fact, u64, isize)| 0), "Desk", move |_cap, _info| {
            let mut pending: BTreeMap<u64, (Capability<u64>, BTreeMap<Fact, isize>)> = BTreeMap::new();
            let mut desk = Desk::new(params);
            move |(input, frontier), output| {
                input.for_each(|cap, data| {
                    for (fact, t, r) in data.drain(..) {
                        let (_, acc) = pending.entry(t).or_insert_with(|| (cap.delayed(&t, 0), BTreeMap::new()));
                        *acc.entry(fact).or_default() += r;
                    }
                });
                if frontier.is_empty() {
                    // The inputs have closed: deadlines past the last event never come.
                    pending.retain(|_, (_, changes)| !changes.is_empty());
                }
                while let Some(t) = pending.keys().next().copied().filter(|t| !frontier.less_equal(t)) {
                    let Some((cap, changes)) = pending.remove(&t) else { break };
                    let out = desk.step(t, changes);
                    // The next deadline is a step of its own (none once the inputs have closed).
                    if !frontier.is_empty()
                        && let Some(next) = desk.next_wakeup()
                    {
                        pending.entry(next).or_insert_with(|| (cap.delayed(&next), BTreeMap::new()));
                    }
                    if out.signals.is_empty() && out.intents.is_empty() {
                        continue;
                    }
                    let mut session = output.session(&cap);
                    for s in out.signals {
                        session.give((Decided::Signal(s), t, 1));
                    }
                    for i in out.intents {
                        session.give((Decided::Intent(i), t, 1));
                    }
                }
                hint.0.set(pending.keys().next().copied().unwrap_or(u64::MAX));
            }
        })
        .as_collection();
    let signals = decided.clone().flat_map(|d| match d {
        Decided::Signal(s) => Some(s),
        Decided::Intent(_) => None,
    });
    let intents = decided.flat_map(|d| match d {
        Decided::Intent(i) => Some(i),
        Decided::Signal(_) => None,
    });
    (signals, intents, next_wakeup)
}
