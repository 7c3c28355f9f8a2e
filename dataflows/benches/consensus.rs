//! What the dataflow's generality costs, for consensus alone: the same vote
//! changes applied to (1) the differential consensus view
//! (`trading::consensus::consensus`), (2) a hand-written incremental update
//! that re-tallies only the token whose vote changed, and (3) the plain
//! recomputation of every token's tally — each per single vote change and
//! per batch of 100, at 1,000 wallets × 200 tokens (three positions a
//! wallet, one copy cluster per five wallets). All three use the rules'
//! `token_consensus`, so only the bookkeeping differs; the run checks that
//! the dataflow and the hand-written map end with the same consensus.
//!
//! Run: `cargo bench -p dataflows --bench consensus` (`MF_BENCH_WALLETS`,
//! `MF_BENCH_TOKENS`, `MF_BENCH_SAMPLES` change the scale).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::time::Instant;

use dataflows::config::ConsensusConfig;
use dataflows::model::{PositionSide, Price, Ratio, TimeMs, Token, Usd};
use dataflows::rules::consensus::{TokenConsensus, Vote, token_consensus};
use dataflows::trading::consensus::consensus;
use differential_dataflow::input::InputSession;
use hdrhistogram::Histogram;

mod common;
use common::{HOUR, Rng, T0, World, env_or, figure, latency_figures, record, report};

const BATCH: usize = 100;

/// The vote book the hand-written and recomputing sides keep.
type Book = BTreeMap<Token, BTreeMap<(dataflows::model::Address, u8), Vote>>;

struct Votes {
    world: World,
    rng: Rng,
    /// (wallet, slot) → its current vote and token.
    current: BTreeMap<(usize, u8), (Token, Vote)>,
    stamp: TimeMs,
}

impl Votes {
    fn vote(&mut self, w: usize, slot: u8) -> (Token, Vote) {
        let n = self.world.tokens.len();
        let token = self.world.tokens[(w * 7 + slot as usize * 13 + self.rng.below(3) as usize) % n];
        self.stamp += 1;
        let vote = Vote {
            wallet: self.world.wallets[w],
            cluster: self.world.wallets[w / 5 * 5],
            side: if self.rng.below(3) == 0 { PositionSide::Short } else { PositionSide::Long },
            value: Usd::from_int(20_000 + self.rng.below(100_000) as i64),
            account_value: Usd::from_int(300_000),
            entry_price: Price::from_int(95 + self.rng.below(10) as i64),
            leverage: Ratio::from_int(1 + self.rng.below(5) as i64),
            last_action: self.stamp,
            weight: Ratio::lit(50 + self.rng.below(50) as i64, 2),
        };
        (token, vote)
    }

    /// Wallet `w`'s slot changes: the old vote goes, a new one comes.
    fn change(&mut self, w: usize, slot: u8) -> (Option<(Token, Vote)>, (Token, Vote)) {
        let new = self.vote(w, slot);
        (self.current.insert((w, slot), new), new)
    }
}

fn tally(
    token: Token,
    votes: &BTreeMap<(dataflows::model::Address, u8), Vote>,
    cfg: &ConsensusConfig,
    now: TimeMs,
) -> Option<TokenConsensus> {
    let v: Vec<Vote> = votes.values().copied().collect();
    token_consensus(token, &v, cfg, now).ok()
}

fn main() {
    let wallets: usize = env_or("MF_BENCH_WALLETS", 1_000);
    let tokens: usize = env_or("MF_BENCH_TOKENS", 200);
    let samples: usize = env_or("MF_BENCH_SAMPLES", 2_000);
    let cfg = ConsensusConfig::default();
    let now = T0 + HOUR;
    let mut votes_gen =
        Votes { world: World::new(wallets, tokens), rng: Rng::seeded(11), current: BTreeMap::new(), stamp: T0 };
    let mut initial = Vec::new();
    for w in 0..wallets {
        for slot in 0..3u8 {
            let (_, v) = votes_gen.change(w, slot);
            initial.push(((w, slot), v));
        }
    }
    // The changes: single ones, then batches; each a (wallet, slot) whose vote moves.
    // Change n of a run moves slot n % 3 (the book keys votes by wallet and slot).
    let singles: Vec<_> = (0..samples).map(|i| votes_gen.change(i * 37 % wallets, (i % 3) as u8)).collect();
    let batches: Vec<Vec<_>> = (0..samples / 10)
        .map(|b| (0..BATCH).map(|j| votes_gen.change((b * BATCH + j) * 41 % wallets, (j % 3) as u8)).collect())
        .collect();
    println!(
        "consensus alone: {wallets} wallets × 3 positions over {tokens} tokens; {samples} single vote changes, \
         {} batches of {BATCH}",
        batches.len()
    );

    // (1) The dataflow.
    let (dd_single, dd_batch, dd_final) = {
        let (initial, singles, batches, cfg) = (initial.clone(), singles.clone(), batches.clone(), cfg.clone());
        timely::execute_directly(move |worker| {
            let mut votes: InputSession<u64, (Token, Vote), isize> = InputSession::new();
            let mut clock: InputSession<u64, TimeMs, isize> = InputSession::new();
            let out: Rc<RefCell<BTreeMap<Token, (TokenConsensus, isize)>>> = Rc::default();
            let probe = timely::dataflow::ProbeHandle::<u64>::new();
            let sink = out.clone();
            worker.dataflow::<u64, _, _>(|scope| {
                consensus(votes.to_collection(scope), clock.to_collection(scope), cfg)
                    .inspect(move |((token, c), _, diff)| {
                        let mut m = sink.borrow_mut();
                        if *diff > 0 {
                            m.insert(*token, (c.clone(), *diff));
                        } else if m.get(token).is_some_and(|(old, _)| old == c) {
                            m.remove(token);
                        }
                    })
                    .probe_with(&probe);
            });
            let mut epoch = 1u64;
            for (_, (token, v)) in &initial {
                votes.insert((*token, *v));
            }
            clock.insert(now);
            let settle = |votes: &mut InputSession<u64, (Token, Vote), isize>,
                          clock: &mut InputSession<u64, TimeMs, isize>,
                          worker: &mut timely::worker::Worker,
                          epoch: &mut u64| {
                *epoch += 1;
                votes.advance_to(*epoch);
                clock.advance_to(*epoch);
                votes.flush();
                clock.flush();
                worker.step_while(|| probe.less_than(epoch));
            };
            settle(&mut votes, &mut clock, worker, &mut epoch);
            let mut single = Histogram::<u64>::new(3).expect("histogram");
            for (n, (old, new)) in singles.iter().enumerate() {
                let started = Instant::now();
                if let Some(o) = old {
                    votes.remove(*o);
                }
                votes.insert(*new);
                settle(&mut votes, &mut clock, worker, &mut epoch);
                if n >= singles.len() / 50 {
                    record(&mut single, started.elapsed());
                }
            }
            let mut batch = Histogram::<u64>::new(3).expect("histogram");
            for changes in &batches {
                let started = Instant::now();
                for (old, new) in changes {
                    if let Some(o) = old {
                        votes.remove(*o);
                    }
                    votes.insert(*new);
                }
                settle(&mut votes, &mut clock, worker, &mut epoch);
                record(&mut batch, started.elapsed());
            }
            let fin: BTreeMap<Token, TokenConsensus> = out.borrow().iter().map(|(t, (c, _))| (*t, c.clone())).collect();
            (single, batch, fin)
        })
    };

    // (2) Hand-written incremental and (3) full recomputation, over the same changes.
    let mut book: Book = BTreeMap::new();
    for ((_, slot), (token, v)) in &initial {
        book.entry(*token).or_default().insert((v.wallet, *slot), *v);
    }
    let mut full_book = book.clone();
    let mut hand: BTreeMap<Token, TokenConsensus> =
        book.iter().filter_map(|(t, vs)| tally(*t, vs, &cfg, now).map(|c| (*t, c))).collect();
    // Moves one vote; returns the tokens it touched.
    let apply = |book: &mut Book, old: &Option<(Token, Vote)>, new: &(Token, Vote), slot: u8| -> [Option<Token>; 2] {
        if let Some((t, v)) = old
            && let Some(vs) = book.get_mut(t)
        {
            vs.remove(&(v.wallet, slot));
        }
        book.entry(new.0).or_default().insert((new.1.wallet, slot), new.1);
        [old.map(|(t, _)| t), Some(new.0)]
    };
    // Re-tallies the touched tokens only (a token without votes has no consensus).
    let retally = |book: &Book, hand: &mut BTreeMap<Token, TokenConsensus>, touched: &BTreeSet<Token>| {
        for t in touched {
            match book.get(t).filter(|vs| !vs.is_empty()).and_then(|vs| tally(*t, vs, &cfg, now)) {
                Some(c) => hand.insert(*t, c),
                None => hand.remove(t),
            };
        }
    };
    let mut hw_single = Histogram::<u64>::new(3).expect("histogram");
    for (n, (old, new)) in singles.iter().enumerate() {
        let started = Instant::now();
        let touched: BTreeSet<Token> = apply(&mut book, old, new, (n % 3) as u8).into_iter().flatten().collect();
        retally(&book, &mut hand, &touched);
        if n >= singles.len() / 50 {
            record(&mut hw_single, started.elapsed());
        }
    }
    let mut hw_batch = Histogram::<u64>::new(3).expect("histogram");
    for changes in &batches {
        let started = Instant::now();
        let mut touched = BTreeSet::new();
        for (j, (old, new)) in changes.iter().enumerate() {
            touched.extend(apply(&mut book, old, new, (j % 3) as u8).into_iter().flatten());
        }
        retally(&book, &mut hand, &touched);
        record(&mut hw_batch, started.elapsed());
    }
    // Full recomputation: every token's tally after each change (a sample of them).
    let mut full_single = Histogram::<u64>::new(3).expect("histogram");
    for (i, (old, new)) in singles.iter().enumerate().take(200) {
        let started = Instant::now();
        apply(&mut full_book, old, new, (i % 3) as u8);
        let all: BTreeMap<Token, TokenConsensus> = full_book
            .iter()
            .filter(|(_, vs)| !vs.is_empty())
            .filter_map(|(t, vs)| tally(*t, vs, &cfg, now).map(|c| (*t, c)))
            .collect();
        std::hint::black_box(all);
        record(&mut full_single, started.elapsed());
    }
    assert_eq!(hand, dd_final, "the hand-written consensus and the dataflow's disagree");
    println!("both end with the same consensus on {} tokens", hand.len());

    let dd1 = report("dataflow, one change", &dd_single);
    let hw1 = report("hand-written, one change", &hw_single);
    let full1 = report("recompute all tokens, one change", &full_single);
    let dd100 = report("dataflow, batch of 100", &dd_batch);
    let hw100 = report("hand-written, batch of 100", &hw_batch);
    println!(
        "dataflow / hand-written (medians): {:.1}x per change, {:.1}x per batch of 100; recompute / dataflow {:.1}x",
        dd1 / hw1,
        dd100 / hw100,
        full1 / dd1
    );
    let scale = format!("{wallets}x{tokens}");
    latency_figures(&format!("consensus.dataflow.single.{scale}"), &dd_single);
    latency_figures(&format!("consensus.hand.single.{scale}"), &hw_single);
    latency_figures(&format!("consensus.recompute.single.{scale}"), &full_single);
    latency_figures(&format!("consensus.dataflow.batch100.{scale}"), &dd_batch);
    latency_figures(&format!("consensus.hand.batch100.{scale}"), &hw_batch);
    figure(&format!("consensus.cost_vs_hand.single.{scale}"), dd1 / hw1, "x");
    figure(&format!("consensus.cost_vs_hand.batch100.{scale}"), dd100 / hw100, "x");
    figure(&format!("consensus.recompute_vs_dataflow.single.{scale}"), full1 / dd1, "x");
}
