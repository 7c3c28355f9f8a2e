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

/// Runs `inputs` (any order; sorted here by time, stably) through the brain.
pub fn replay(inputs: &[Input], workers: usize, params: &Params) -> Result<Outputs, String> {
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
    let params = params.clone();
    let signal_sink: EventSink<Signal> = Default::default();
    let intent_sink: EventSink<OrderIntent> = Default::default();
    let (signal_shared, intent_shared) = (signal_sink.clone(), intent_sink.clone());
    let sorted = Arc::new(sorted);
    let sinks: (Sink<Standing>, Sink<Tier>, Sink<Address>, Sink<Weights>) = Default::default();
    let pair_sink: Sink<(Address, Overlap)> = Default::default();
    let pair_shared = pair_sink.clone();
    let shared = sinks.clone();
    let config = timely::Config::process(workers.max(1));
    let guards = timely::execute(config, move |worker| {
        let index = worker.index();
        let mut sessions = Sessions::default();
        let (s, t, c, a) = shared.clone();
        // One probe over every output: an epoch is done when all of them have passed it.
        let probe = timely::dataflow::ProbeHandle::<u64>::new();
        let (ss, is) = (signal_shared.clone(), intent_shared.clone());
        worker.dataflow::<u64, _, _>(|scope| {
            let b = brain(scope, &mut sessions, &params);
            let views = b.views;
            b.decisions.signals.probe_with(&probe).inspect(move |(d, t, r)| {
                ss.lock().unwrap_or_else(|e| e.into_inner()).push((d.clone(), *t, *r));
            });
            b.decisions.intents.probe_with(&probe).inspect(move |(d, t, r)| {
                is.lock().unwrap_or_else(|e| e.into_inner()).push((d.clone(), *t, *r));
            });
            collect(views.standings.probe_with(&probe), s);
            collect(views.tiers.probe_with(&probe), t);
            collect(views.clusters.probe_with(&probe), c);
            collect(views.pairs.probe_with(&probe).map(|((a, b), o)| (a, (b, o))), pair_shared.clone());
            collect(views.allocations.probe_with(&probe), a);
        });
        // Worker 0 feeds every input; the others only advance their (empty) sessions.
        let mut feeder = Feeder::default();
        let all = &sorted;
        let mut i = 0;
        while i < all.len() {
            let now = all[i].time();
            while i < all.len() && all[i].time() == now {
                if index == 0 {
                    feeder.apply(&mut sessions, &all[i], now);
                }
                i += 1;
            }
            feeder.advance_to(&mut sessions, now + 1);
            worker.step_while(|| probe.less_than(&(now + 1)));
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
