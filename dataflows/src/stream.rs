//! The brain as a stream: one timely worker on its own thread, fed a step at
//! a time by the daemon (and by a backfill of a daemon's recorded log), and
//! answering each step with the decisions it made.
//!
//! A step is every input stamped in `(previous step, time]`, in stamp order.
//! Differential defines outputs per timestamp, so how arrivals were grouped
//! into steps does not change what is decided, only when it is observed
//! (DESIGN §3): the daemon's recorded log replayed here gives the same bytes.
//! Channels are bounded both ways: a slow brain slows the daemon that feeds it.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use crate::brain::brain;
use crate::feed::{Feeder, Input, Sessions};
use crate::model::{OrderIntent, Signal, TimeMs};
use crate::trading::Params;

/// What one step decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepOutput {
    /// The step's time: every input up to it has been processed.
    pub time: TimeMs,
    /// Decisions made at times up to `time`, in canonical order.
    pub signals: Vec<Signal>,
    /// New order intents, in canonical order.
    pub intents: Vec<OrderIntent>,
    /// When the desk next decides on its own, if it has a deadline.
    pub next_wakeup: Option<TimeMs>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EngineError {
    #[error("step at {time} is not after the last step at {last}")]
    NotAfter { time: TimeMs, last: TimeMs },
    #[error("input stamped {stamp} in the step at {time}")]
    OutOfStep { stamp: TimeMs, time: TimeMs },
    #[error("the dataflow thread has stopped")]
    Stopped,
}

struct Request {
    time: TimeMs,
    inputs: Vec<(TimeMs, Input)>,
}

/// The running brain.
pub struct Engine {
    tx: Option<SyncSender<Request>>,
    rx: Receiver<StepOutput>,
    thread: Option<JoinHandle<()>>,
    last: Option<TimeMs>,
}

impl Engine {
    /// Builds the brain with `params` on a thread of its own.
    pub fn start(params: Params) -> Engine {
        let (tx, requests) = sync_channel::<Request>(1);
        let (answers, rx) = sync_channel::<StepOutput>(1);
        let thread = std::thread::Builder::new()
            .name("dataflow".into())
            .spawn(move || {
                // The worker closure must be `Sync`; it runs once, on this thread.
                let requests = std::sync::Mutex::new(requests);
                let answers = std::sync::Mutex::new(answers);
                timely::execute::execute_directly(move |worker| {
                    let requests = requests.lock().unwrap_or_else(|e| e.into_inner());
                    let answers = answers.lock().unwrap_or_else(|e| e.into_inner());
                    run_worker(worker, &params, &requests, &answers);
                })
            })
            .ok();
        Engine { tx: Some(tx), rx, thread, last: None }
    }

    /// Feeds a step: `inputs` are (stamp, input) with stamps after the last
    /// step and at most `time`, in stamp order. Blocks until it is processed.
    pub fn step(&mut self, time: TimeMs, inputs: Vec<(TimeMs, Input)>) -> Result<StepOutput, EngineError> {
        if let Some(last) = self.last
            && time <= last
        {
            return Err(EngineError::NotAfter { time, last });
        }
        let floor = self.last.map_or(0, |l| l + 1);
        if let Some((stamp, _)) = inputs.iter().find(|(s, _)| *s > time || *s < floor) {
            return Err(EngineError::OutOfStep { stamp: *stamp, time });
        }
        let mut inputs = inputs;
        inputs.sort_by_key(|(s, _)| *s);
        crate::feed::order_fills(
            &mut inputs,
            |(s, _)| *s,
            |(_, i)| match i {
                Input::Fill(f) => Some(f),
                _ => None,
            },
        );
        let tx = self.tx.as_ref().ok_or(EngineError::Stopped)?;
        tx.send(Request { time, inputs }).map_err(|_| EngineError::Stopped)?;
        let out = self.rx.recv().map_err(|_| EngineError::Stopped)?;
        self.last = Some(time);
        Ok(out)
    }

    /// Closes the inputs and waits for the thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.shutdown();
    }
}

type Sink<T> = std::rc::Rc<std::cell::RefCell<Vec<(T, isize)>>>;

fn run_worker(
    worker: &mut timely::worker::Worker,
    params: &Params,
    requests: &Receiver<Request>,
    answers: &SyncSender<StepOutput>,
) {
    let mut sessions = Sessions::default();
    let probe = timely::dataflow::ProbeHandle::<u64>::new();
    let signals: Sink<Signal> = Default::default();
    let intents: Sink<OrderIntent> = Default::default();
    let (ss, is) = (signals.clone(), intents.clone());
    let next_wakeup = worker.dataflow::<u64, _, _>(|scope| {
        let b = brain(scope, &mut sessions, params);
        b.decisions.signals.probe_with(&probe).inspect(move |(d, _, r)| ss.borrow_mut().push((d.clone(), *r)));
        b.decisions.intents.probe_with(&probe).inspect(move |(d, _, r)| is.borrow_mut().push((d.clone(), *r)));
        b.decisions.next_wakeup.clone()
    });
    let mut feeder = Feeder::default();
    while let Ok(Request { time, inputs }) = requests.recv() {
        let mut at = None;
        for (stamp, input) in &inputs {
            if at.is_some_and(|a| a != *stamp) {
                feeder.advance_to(&mut sessions, *stamp);
            }
            at = Some(*stamp);
            feeder.apply(&mut sessions, input, *stamp);
        }
        let frontier = time + 1;
        feeder.advance_to(&mut sessions, frontier);
        worker.step_while(|| probe.less_than(&frontier));
        let out = StepOutput {
            time,
            signals: inserted(&signals, |s| (s.time_ms, s.strategy, s.token, s.clone())),
            intents: inserted(&intents, |i| (i.time_ms, i.strategy, i.token, i.id)),
            next_wakeup: next_wakeup.get(),
        };
        if answers.send(out).is_err() {
            break;
        }
    }
}

/// What was inserted since the last call, each as often as its multiplicity,
/// in canonical order.
fn inserted<T: Ord + Clone, K: Ord>(sink: &Sink<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    let raw = std::mem::take(&mut *sink.borrow_mut());
    let mut acc: std::collections::BTreeMap<T, isize> = std::collections::BTreeMap::new();
    for (x, r) in raw {
        *acc.entry(x).or_default() += r;
    }
    let mut out: Vec<T> = acc.into_iter().flat_map(|(x, n)| std::iter::repeat_n(x, n.max(0) as usize)).collect();
    out.sort_by_key(|x| key(x));
    out
}
