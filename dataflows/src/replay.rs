//! Replays a history through the whole brain on `workers` timely workers and
//! returns every output change, consolidated and in canonical order — the
//! same bytes whatever the worker count (DESIGN §3). The scoring clock ticks
//! on every multiple of the allocation cadence, the trading clock every
//! 15 minutes (consensus freshness). Pure computation: the caller reads the history and writes the files.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use differential_dataflow::VecCollection;

use crate::brain::brain;
use crate::feed::{CONSENSUS_CADENCE_MS, Feeder, Input, Sessions};
use crate::intel::allocations::{CADENCE_MS, next_cadence};
use crate::model::{Address, OrderIntent, Signal, TimeMs};
use crate::rules::allocation::Weights;
use crate::rules::clusters::Overlap;
use crate::rules::eligibility::Tier;
use crate::rules::trader::Standing;
use crate::trading::Params;

/// A change of one wallet's row at a time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change<T> {
    pub time_ms: TimeMs,
    pub wallet: Address,
    pub value: T,
    pub diff: i64,
}

/// What a replay produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outputs {
    pub standings: Vec<Change<Standing>>,
    pub tiers: Vec<Change<Tier>>,
    /// The value is the wallet's cluster id.
    pub clusters: Vec<Change<Address>>,
    /// The wallet's correlated partners, with the overlap (the wallet's side).
    pub pairs: Vec<Change<(Address, Overlap)>>,
    pub allocations: Vec<Change<Weights>>,
    /// Every decision, by (time, strategy, token, …).
    pub signals: Vec<Signal>,
    /// Every order intent, by (time, strategy, token, id).
    pub intents: Vec<OrderIntent>,
}

type EventSink<T> = Arc<Mutex<Vec<(T, u64, isize)>>>;

/// Events (inserted, never retracted) with their multiplicity, in record order.
fn events<T: Ord + Clone>(sink: &EventSink<T>) -> Vec<T> {
    let raw = std::mem::take(&mut *sink.lock().unwrap_or_else(|e| e.into_inner()));
    let mut acc: BTreeMap<T, i64> = BTreeMap::new();
    for (x, _, r) in raw {
        *acc.entry(x).or_default() += r as i64;
    }
    acc.into_iter().flat_map(|(x, n)| std::iter::repeat_n(x, n.max(0) as usize)).collect()
}

type Sink<T> = Arc<Mutex<Vec<((Address, T), u64, isize)>>>;

fn collect<T: differential_dataflow::ExchangeData + std::hash::Hash>(
    c: VecCollection<'_, u64, (Address, T)>,
    sink: Sink<T>,
) {
    c.consolidate().inspect(move |(d, t, r)| sink.lock().unwrap_or_else(|e| e.into_inner()).push((d.clone(), *t, *r)));
}

/// Consolidates across workers, in canonical order.
fn changes<T: Ord + Clone>(sink: &Sink<T>) -> Vec<Change<T>> {
    let raw = std::mem::take(&mut *sink.lock().unwrap_or_else(|e| e.into_inner()));
    let mut acc: BTreeMap<(u64, Address, T), i64> = BTreeMap::new();
    for ((wallet, value), t, r) in raw {
        *acc.entry((t, wallet, value)).or_default() += r as i64;
    }
    acc.into_iter()
        .filter(|(_, d)| *d != 0)
        .map(|((time_ms, wallet, value), diff)| Change { time_ms, wallet, value, diff })
        .collect()
}

/// What answers the brain's order intents during a replay — the paper
/// executor in a backfill. Worker 0 drives it: it sees every input as it is
/// fed, receives the intents of each step, and says when it next has
/// something to feed back (our own positions and account after a fill), so
/// exits and caps see the account the intents produced.
pub trait Venue: Send {
    /// An input about to be fed at its time (marks are what it fills at).
    fn observe(&mut self, input: &Input);
    /// Intents the brain decided in the step that processed time `now`.
    fn submit(&mut self, now: TimeMs, intents: &[OrderIntent]);
    /// The earliest time it has something due, if any.
    fn next_due(&self) -> Option<TimeMs>;
    /// Everything due at or before `now`, stamped `now`, in feed order.
    fn due(&mut self, now: TimeMs) -> Vec<Input>;
}

/// A venue shared with the worker that drives it.
pub type SharedVenue = Arc<Mutex<dyn Venue>>;

/// `inputs` in time order (stably) with the clocks a replay feeds: the
/// scoring clock on every allocation cadence, the trading clock every
/// consensus cadence (any clocks in `inputs` are replaced).
pub fn with_clocks(inputs: &[Input]) -> Vec<Input> {
    let mut sorted: Vec<Input> =
        inputs.iter().filter(|i| !matches!(i, Input::Tick(_) | Input::Now(_))).cloned().collect();
    sorted.sort_by_key(Input::time);
    if let (Some(first), Some(last)) = (sorted.first().map(Input::time), sorted.last().map(Input::time)) {
        let mut t = next_cadence(first);
        while t <= next_cadence(last) {
            sorted.push(Input::Tick(t));
            t += CADENCE_MS;
        }
        // The trading clock only moves the consensus freshness; the desk
        // wakes itself at its own deadlines.
        let mut t = first.div_ceil(CONSENSUS_CADENCE_MS) * CONSENSUS_CADENCE_MS;
        while t <= last {
            sorted.push(Input::Now(t));
            t += CONSENSUS_CADENCE_MS;
        }
        sorted.sort_by_key(Input::time);
    }
    crate::feed::order_fills(&mut sorted, Input::time, |i| match i {
        Input::Fill(f) => Some(f),
        _ => None,
    });
    sorted
}

/// Runs `inputs` (any order; sorted here by time, stably) through the brain.
pub fn replay(inputs: &[Input], workers: usize, params: &Params) -> Result<Outputs, String> {
    replay_with(inputs, workers, params, None)
}

/// [`replay`] with a venue answering the intents: the next time fed is the
/// earlier of the next input and the venue's next due event, so what the
/// venue feeds back lands between the inputs, at its own time (or at the
/// next time fed, when a decision came from the desk's own wakeup since).
pub fn replay_with(
    inputs: &[Input],
    workers: usize,
    params: &Params,
    venue: Option<SharedVenue>,
) -> Result<Outputs, String> {
    let sorted = with_clocks(inputs);
    let params = params.clone();
    let signal_sink: EventSink<Signal> = Default::default();
    let intent_sink: EventSink<OrderIntent> = Default::default();
    let (signal_shared, intent_shared) = (signal_sink.clone(), intent_sink.clone());
    let sorted = Arc::new(sorted);
    let sinks: (Sink<Standing>, Sink<Tier>, Sink<Address>, Sink<Weights>) = Default::default();
    let pair_sink: Sink<(Address, Overlap)> = Default::default();
    let pair_shared = pair_sink.clone();
    let fresh_shared: Arc<Mutex<Vec<OrderIntent>>> = Default::default();
    let shared = sinks.clone();
    let config = timely::Config::process(workers.max(1));
    let guards = timely::execute(config, move |worker| {
        let index = worker.index();
        let mut sessions = Sessions::default();
        let (s, t, c, a) = shared.clone();
        // One probe over every output: an epoch is done when all of them have passed it.
        let probe = timely::dataflow::ProbeHandle::<u64>::new();
        let (ss, is) = (signal_shared.clone(), intent_shared.clone());
        let next_wakeup = worker.dataflow::<u64, _, _>(|scope| {
            let b = brain(scope, &mut sessions, &params);
            let next_wakeup = b.decisions.next_wakeup.clone();
            let views = b.views;
            b.decisions.signals.probe_with(&probe).inspect(move |(d, t, r)| {
                ss.lock().unwrap_or_else(|e| e.into_inner()).push((d.clone(), *t, *r));
            });
            let fresh = fresh_shared.clone();
            b.decisions.intents.probe_with(&probe).inspect(move |(d, t, r)| {
                is.lock().unwrap_or_else(|e| e.into_inner()).push((d.clone(), *t, *r));
                if *r > 0 {
                    fresh.lock().unwrap_or_else(|e| e.into_inner()).push(d.clone());
                }
            });
            collect(views.standings.probe_with(&probe), s);
            collect(views.tiers.probe_with(&probe), t);
            collect(views.clusters.probe_with(&probe), c);
            collect(views.pairs.probe_with(&probe).map(|((a, b), o)| (a, (b, o))), pair_shared.clone());
            collect(views.allocations.probe_with(&probe), a);
            next_wakeup
        });
        // Worker 0 feeds every input and drives the venue; the others close
        // their (empty) sessions at once, so worker 0's alone hold time back.
        if index != 0 {
            drop(sessions);
            while !probe.done() {
                worker.step_or_park(None);
            }
            return;
        }
        let mut feeder = Feeder::default();
        let all = &sorted;
        let mut i = 0;
        let venue_due = |v: &SharedVenue| v.lock().unwrap_or_else(|e| e.into_inner()).next_due();
        let mut frontier = 0;
        loop {
            let next_input = all.get(i).map(Input::time);
            // With a venue, the desk's own deadlines are steps too: what it
            // decides there reaches the venue at that time, not at the next input.
            let wakeup = venue.as_ref().and_then(|_| next_wakeup.get()).filter(|_| i < all.len());
            let next_due =
                [venue.as_ref().and_then(venue_due), wakeup].into_iter().flatten().min().map(|t| t.max(frontier));
            let now = match (next_input, next_due) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => break,
            };
            let start = i;
            while i < all.len() && all[i].time() == now {
                i += 1;
            }
            if let Some(v) = &venue {
                let mut v = v.lock().unwrap_or_else(|e| e.into_inner());
                for input in &all[start..i] {
                    v.observe(input);
                }
                for input in v.due(now) {
                    feeder.apply(&mut sessions, &input, now);
                }
            }
            for input in &all[start..i] {
                feeder.apply(&mut sessions, input, now);
            }
            frontier = now + 1;
            feeder.advance_to(&mut sessions, frontier);
            worker.step_while(|| probe.less_than(&frontier));
            if let Some(v) = &venue {
                let mut fresh = std::mem::take(&mut *fresh_shared.lock().unwrap_or_else(|e| e.into_inner()));
                if !fresh.is_empty() {
                    fresh.sort_by_key(|a| (a.time_ms, a.strategy, a.token, a.id));
                    v.lock().unwrap_or_else(|e| e.into_inner()).submit(now, &fresh);
                }
            }
        }
    })
    .map_err(|e| format!("timely: {e}"))?;
    drop(guards);
    Ok(Outputs {
        standings: changes(&sinks.0),
        tiers: changes(&sinks.1),
        clusters: changes(&sinks.2),
        pairs: changes(&pair_sink),
        allocations: changes(&sinks.3),
        signals: events(&signal_sink),
        intents: {
            let mut v = events(&intent_sink);
            v.sort_by_key(|a| (a.time_ms, a.strategy, a.token, a.id));
            v
        },
    })
}
