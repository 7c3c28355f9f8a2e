//! One step of the daemon: the inputs gathered since the last step, the
//! clocks that came due, and what the paper executor has to report are
//! stamped, fed to the brain, and committed to redb in one transaction with
//! the executor's state and the progress — so a crash either loses the whole
//! step (nothing of it reached the venue) or keeps all of it.
//!
//! Recovery is the same path: the logged inputs replayed as one step, whose
//! decisions the executor already knows (the paper venue by intent id, the
//! live journal by cloid) and does not act on twice.

use std::collections::{BTreeMap, BTreeSet};

use dataflows::feed::{CONSENSUS_CADENCE_MS, Input};
use dataflows::intel::allocations::CADENCE_MS;
use dataflows::model::{Halt, OrderIntent, Signal, TimeMs, Token};
use dataflows::replay::Venue;
use dataflows::stream::{Engine, StepOutput};

use super::state::{self, Progress};
use crate::executor::paper::PaperVenue;
use crate::ingest::{Event, Ingestor, Outcome, Stamped};
use crate::store::Store;

/// The clocks a step at `time` after `last` carries: the scoring clock on
/// every allocation cadence crossed, the trading clock on every consensus
/// cadence and monitor interval crossed, and at the step itself when the
/// desk asked to be woken by then.
pub fn clocks(last: Option<TimeMs>, time: TimeMs, monitor_ms: u64, wakeup: Option<TimeMs>) -> Vec<Event> {
    let mut out = Vec::new();
    let Some(last) = last else {
        return vec![Event::Now(time)];
    };
    let mut t = (last / CADENCE_MS + 1) * CADENCE_MS;
    while t <= time {
        out.push(Event::Tick(t));
        t += CADENCE_MS;
    }
    let mut nows: Vec<TimeMs> = Vec::new();
    let mut t = (last / CONSENSUS_CADENCE_MS + 1) * CONSENSUS_CADENCE_MS;
    while t <= time {
        nows.push(t);
        t += CONSENSUS_CADENCE_MS;
    }
    let monitor = monitor_ms.max(1);
    if time / monitor > last / monitor || wakeup.is_some_and(|w| w <= time) {
        nows.push(time);
    }
    nows.dedup();
    out.extend(nows.into_iter().map(Event::Now));
    out
}

/// What a step did.
#[derive(Debug, Default)]
pub struct Stepped {
    pub output: StepOutput,
    /// Inputs logged (market, own, clocks).
    pub logged: usize,
}

/// How much of the log (by stamp) a recovery replays per step.
const RECOVERY_STEP_MS: TimeMs = 3_600_000;

pub struct Stepper {
    pub engine: Engine,
    pub ingestor: Ingestor,
    pub paper: Option<PaperVenue>,
    pub progress: Progress,
    /// The desk's next deadline.
    pub wakeup: Option<TimeMs>,
    pub monitor_ms: u64,
    /// Tokens whose price the brain was told is stale.
    pub stale: BTreeSet<Token>,
    /// A tracked set to save with the next step, in its transaction (the
    /// daily refresh's: its inputs and the set they came with land together).
    pub save_tracked: Option<state::Tracked>,
}

impl Stepper {
    /// The last step's time, if any.
    pub fn last(&self) -> Option<TimeMs> {
        (self.progress.steps > 0).then_some(self.progress.processed_to)
    }

    fn note(&mut self, e: &Event) {
        if let Event::PriceStatus(p) = e {
            if p.stale {
                self.stale.insert(p.token);
            } else {
                self.stale.remove(&p.token);
            }
        }
    }

    /// Replays what the store holds (folded inputs, then the log) up to the
    /// time processed up to; returns every decision it implies. The replay
    /// goes in steps of an hour of stamps: decisions do not depend on how
    /// steps group the inputs (tests/stream_equals_replay.rs), and one step of
    /// everything holds every distinct time in flight at once — measured: a
    /// log of 988k records (3,000 wallets, 37 days) was SIGKILLed on this 23 GiB
    /// machine (no memory limit set; the OOM killer, its RSS not sampled).
    pub fn recover(&mut self, store: &Store) -> anyhow::Result<StepOutput> {
        let inputs = state::inputs(store)?;
        self.ingestor.resume(store)?;
        let Some(last) = self.last() else {
            return Ok(StepOutput::default());
        };
        for s in &inputs {
            self.note(&s.event);
        }
        let mut out = StepOutput { time: last, ..StepOutput::default() };
        let mut batch: Vec<(TimeMs, Input)> = Vec::new();
        let mut fed = inputs.iter().map(|s| (s.time_ms, s.event.input())).peekable();
        while let Some((stamp, input)) = fed.next() {
            batch.push((stamp, input));
            let hour_end = stamp / RECOVERY_STEP_MS * RECOVERY_STEP_MS + RECOVERY_STEP_MS - 1;
            if hour_end < last && fed.peek().is_none_or(|(next, _)| *next > hour_end) {
                let step = self.engine.step(hour_end, std::mem::take(&mut batch))?;
                out.signals.extend(step.signals);
                out.intents.extend(step.intents);
            }
        }
        let step = self.engine.step(last, batch)?;
        out.signals.extend(step.signals);
        out.intents.extend(step.intents);
        out.next_wakeup = step.next_wakeup;
        self.wakeup = out.next_wakeup;
        Ok(out)
    }

    /// Takes a step at `time` (after the last) with `market` events gathered
    /// since the last one (stamped here; older ones at the step floor) and
    /// commits it. The caller executes the intents after the commit (live).
    pub fn step(&mut self, store: &Store, time: TimeMs, market: Vec<Event>) -> anyhow::Result<Stepped> {
        let last = self.last();
        let floor = last.map_or(0, |l| l + 1);
        if time < floor {
            anyhow::bail!("step at {time} is not after the last step at {}", floor.saturating_sub(1));
        }
        self.ingestor.raise_frontier(floor);
        let mut stamped: Vec<Stamped> = Vec::with_capacity(market.len() + 8);
        let accept = |ingestor: &mut Ingestor, e: Event, out: &mut Vec<Stamped>| {
            if let Outcome::Accepted(mut s) = ingestor.ingest(e) {
                // Nothing is stamped past the step (a source ahead of our clock).
                s.time_ms = s.time_ms.min(time);
                out.push(s);
            }
        };
        let mut market = market;
        market.sort_by_key(Event::source_time);
        for e in market {
            accept(&mut self.ingestor, e, &mut stamped);
        }
        // The first step's clocks start at its earliest input (a bootstrap's
        // history is scored on its cadence, as a backfill would).
        let origin = last.or_else(|| stamped.first().map(|s| s.time_ms.saturating_sub(1)));
        for e in clocks(origin, time, self.monitor_ms, self.wakeup) {
            accept(&mut self.ingestor, e, &mut stamped);
        }
        stamped.sort_by_key(|s| s.time_ms);
        // The paper venue sees the market as it is fed and reports what came due.
        if let Some(paper) = &mut self.paper {
            for s in &stamped {
                paper.observe(&s.event.input());
            }
            for input in paper.due(time) {
                if let Some(e) = Event::of_input(&input) {
                    accept(&mut self.ingestor, e, &mut stamped);
                }
            }
        }
        for s in &stamped {
            self.note(&s.event);
        }
        let fed: Vec<(TimeMs, Input)> = stamped.iter().map(|s| (s.time_ms, s.event.input())).collect();
        let output = self.engine.step(time, fed)?;
        if let Some(paper) = &mut self.paper {
            paper.submit(time, &output.intents);
        }
        let mut progress =
            Progress { processed_to: time, steps: self.progress.steps + 1, previous: last, ..self.progress.clone() };
        for s in &stamped {
            if let Event::Halt { halt: Halt::KillSwitch, active, .. } = s.event {
                progress.kill_switch = active;
            }
        }
        let mut txn = store.write()?;
        for s in &stamped {
            self.ingestor.log(&mut txn, s)?;
        }
        state::put_progress(&mut txn, &progress)?;
        state::clear_pending(store, &mut txn)?;
        if let Some(paper) = &self.paper {
            state::put_paper(&mut txn, paper)?;
        }
        if let Some(t) = &self.save_tracked {
            state::put_tracked(&mut txn, t)?;
        }
        txn.commit()?;
        self.save_tracked = None;
        self.progress = progress;
        self.wakeup = output.next_wakeup;
        Ok(Stepped { logged: stamped.len(), output })
    }
}

/// The latest mark per token of what arrived since the last step (a step
/// reads the market as it is, not every tick of the socket).
#[derive(Debug, Default)]
pub struct Gathered {
    pub events: Vec<Event>,
    pub marks: BTreeMap<Token, Event>,
}

impl Gathered {
    pub fn push(&mut self, e: Event) {
        match &e {
            Event::Mark(m) => {
                self.marks.insert(m.token, e);
            }
            _ => self.events.push(e),
        }
    }

    pub fn take(&mut self) -> Vec<Event> {
        let mut out = std::mem::take(&mut self.events);
        out.extend(std::mem::take(&mut self.marks).into_values());
        out
    }
}

/// Decisions kept for the run directory.
#[derive(Debug, Default)]
pub struct Decisions {
    pub signals: Vec<Signal>,
    pub intents: Vec<OrderIntent>,
}

/// The price-freshness changes at `now` on the daemon's clock: a token whose
/// last price is older than `stale_ms` turns stale (entries hold, only
/// emergencies act), and back when a price arrives.
pub fn freshness(
    last_price: &BTreeMap<Token, TimeMs>,
    stale: &BTreeSet<Token>,
    now: TimeMs,
    stale_ms: u64,
) -> Vec<Event> {
    let mut out = Vec::new();
    for (token, at) in last_price {
        let is_stale = at.saturating_add(stale_ms) < now;
        if is_stale != stale.contains(token) {
            out.push(Event::PriceStatus(dataflows::model::PriceStatus {
                time_ms: now,
                token: *token,
                stale: is_stale,
            }));
        }
    }
    out
}
