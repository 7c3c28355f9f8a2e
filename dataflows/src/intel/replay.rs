//! Replays a history through the trader-intelligence dataflows on `workers`
//! timely workers and returns every output change, consolidated and in
//! canonical order — the same bytes whatever the worker count (DESIGN §3).
//! Pure computation: the caller reads the history and writes the files.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use differential_dataflow::input::InputSession;

use crate::model::{Address, Fill, PositionSide, Token};

use super::clusters::{components, correlations};

/// A (wallet, cluster) change as the dataflow emits it.
type Update = ((Address, Address), u64, isize);

/// One input of the replay, at its event time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Fill(Fill),
    /// A wallet's position in a token now has this side (`None`: flat).
    Position {
        time_ms: u64,
        wallet: Address,
        token: Token,
        side: Option<PositionSide>,
    },
}

impl Input {
    fn time(&self) -> u64 {
        match self {
            Input::Fill(f) => f.time_ms,
            Input::Position { time_ms, .. } => *time_ms,
        }
    }
}

/// A change of a wallet's cluster id at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClusterChange {
    pub time_ms: u64,
    pub wallet: Address,
    pub cluster: Address,
    pub diff: i64,
}

/// What a replay produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outputs {
    pub clusters: Vec<ClusterChange>,
}

/// Runs `inputs` (any order; sorted here by time) through the dataflows.
pub fn replay(inputs: &[Input], workers: usize) -> Result<Outputs, String> {
    let mut sorted: Vec<Input> = inputs.to_vec();
    sorted.sort_by_key(Input::time);
    let sorted = Arc::new(sorted);
    let changes: Arc<Mutex<Vec<Update>>> = Arc::default();
    let sink = changes.clone();
    let config = timely::Config::process(workers.max(1));
    let guards = timely::execute(config, move |worker| {
        let index = worker.index();
        let mut fills = InputSession::<u64, Fill, isize>::new();
        let mut positions = InputSession::<u64, (Address, (Token, PositionSide)), isize>::new();
        let mut wallets = InputSession::<u64, Address, isize>::new();
        let sink = sink.clone();
        let probe = worker.dataflow::<u64, _, _>(|scope| {
            let corr = correlations(fills.to_collection(scope), positions.to_collection(scope));
            let (probe, out) = components(wallets.to_collection(scope), corr).consolidate().probe();
            out.inspect(move |(d, t, r)| sink.lock().unwrap_or_else(|e| e.into_inner()).push((*d, *t, *r)));
            probe
        });
        // Worker 0 feeds every input; the others only advance their (empty) sessions.
        let mut held: BTreeMap<(Address, Token), PositionSide> = BTreeMap::new();
        let mut known: std::collections::BTreeSet<Address> = Default::default();
        let mut i = 0;
        let all = &sorted;
        while i < all.len() {
            let now = all[i].time();
            while i < all.len() && all[i].time() == now {
                if index == 0 {
                    match &all[i] {
                        Input::Fill(f) => {
                            if known.insert(f.wallet) {
                                wallets.update_at(f.wallet, now, 1);
                            }
                            fills.update_at(f.clone(), now, 1);
                        }
                        Input::Position { wallet, token, side, .. } => {
                            let old = match side {
                                Some(s) => held.insert((*wallet, *token), *s),
                                None => held.remove(&(*wallet, *token)),
                            };
                            if old != *side {
                                if let Some(o) = old {
                                    positions.update_at((*wallet, (*token, o)), now, -1);
                                }
                                if let Some(s) = side {
                                    positions.update_at((*wallet, (*token, *s)), now, 1);
                                }
                            }
                        }
                    }
                }
                i += 1;
            }
            for s in [&mut fills as &mut dyn Advance, &mut positions, &mut wallets] {
                s.advance(now + 1);
            }
            worker.step_while(|| probe.less_than(&(now + 1)));
        }
        // Let windows close: run the clock past every expiry.
        let end = all.last().map(Input::time).unwrap_or(0) + crate::rules::clusters::LOOKBACK_MS + 1;
        for s in [&mut fills as &mut dyn Advance, &mut positions, &mut wallets] {
            s.advance(end);
        }
        worker.step_while(|| probe.less_than(&end));
    })
    .map_err(|e| format!("timely: {e}"))?;
    drop(guards);
    let mut raw = std::mem::take(&mut *changes.lock().unwrap_or_else(|e| e.into_inner()));
    // Consolidate across workers, then canonical order.
    raw.sort();
    let mut clusters: Vec<ClusterChange> = Vec::new();
    let mut acc: BTreeMap<(u64, Address, Address), isize> = BTreeMap::new();
    for ((wallet, cluster), t, r) in raw {
        *acc.entry((t, wallet, cluster)).or_default() += r;
    }
    for ((t, wallet, cluster), r) in acc {
        if r != 0 {
            clusters.push(ClusterChange { time_ms: t, wallet, cluster, diff: r as i64 });
        }
    }
    Ok(Outputs { clusters })
}

/// Advancing an input session without naming its data type.
trait Advance {
    fn advance(&mut self, t: u64);
}

impl<D: differential_dataflow::Data> Advance for InputSession<u64, D, isize> {
    fn advance(&mut self, t: u64) {
        self.advance_to(t);
        self.flush();
    }
}
