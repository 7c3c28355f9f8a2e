//! Per-event latency through the whole brain — trader intelligence, the three
//! strategies, the risk module and the exits — at 1,000 wallets × 200 tokens
//! with 7 days of history loaded (fills, snapshots, leaderboards, hourly marks,
//! the trading clock, our own account with 20 open positions). Then single
//! events of four kinds in turn, one a second: a mark tick, a tracked wallet's
//! fill, a wallet's position snapshot (positions + account value) and a
//! trading-clock tick; each timed from feeding it until the probe has passed
//! it on every output (views, consensus, book, signals, intents). The first
//! 2 % of each kind warm up and are not recorded.
//!
//! Two harnesses over the same kinds of events:
//! - closed loop: one event in flight at a time, timed from feeding it — the
//!   service time of one update;
//! - open loop: events *scheduled* at a fixed rate (`MF_BENCH_RATE` a second)
//!   and fed when their time comes whether or not the last one is done, each
//!   timed from its scheduled time until the probe passes it — so queueing
//!   behind a slow update counts, as it would for a live feed.
//!
//! Run: `cargo bench -p dataflows --bench trading` (`MF_BENCH_WALLETS`,
//! `MF_BENCH_TOKENS`, `MF_BENCH_DAYS`, `MF_BENCH_SAMPLES`, `MF_BENCH_RATE`
//! change the scale).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dataflows::brain::brain;
use dataflows::feed::{Feeder, Input, Sessions};
use dataflows::trading::Params;
use hdrhistogram::Histogram;

mod common;
use common::{World, env_or, figure, latency_figures, record, report};

const KINDS: [&str; 4] = ["mark tick", "tracked fill", "position snapshot", "clock tick"];

fn main() {
    let wallets: usize = env_or("MF_BENCH_WALLETS", 1_000);
    let tokens: usize = env_or("MF_BENCH_TOKENS", 200);
    let days: u64 = env_or("MF_BENCH_DAYS", 7);
    let samples: usize = env_or("MF_BENCH_SAMPLES", 1_000);
    let rate: f64 = env_or("MF_BENCH_RATE", 250.0);
    // Between events the harness sleeps (as a daemon waiting on a socket
    // would) unless MF_BENCH_SPIN=1 (busy-polling, as latency-critical engines do).
    let spin = env_or("MF_BENCH_SPIN", 0u8) == 1;
    let mut world = World::new(wallets, tokens);
    let history = world.trading_history(days);
    let events: usize = history.iter().map(|(_, i)| i.len()).sum();
    let end = history.last().map(|(t, _)| *t + 1).unwrap_or(common::T0);
    // The updates: the four kinds in turn, one a second after the history;
    // the first half for the closed loop, the second for the open loop.
    let updates: Vec<(usize, Vec<Input>)> = (0..2 * samples * KINDS.len())
        .map(|i| {
            let t = end + (i as u64 + 1) * 1_000;
            let n = i / KINDS.len();
            let kind = i % KINDS.len();
            let inputs = match kind {
                0 => vec![world.mark(n * 7 % tokens, t)],
                1 => vec![Input::Fill(world.fill(n * 37 % wallets, t))],
                2 => world.snapshot(n * 53 % wallets, t),
                _ => vec![Input::Now(t)],
            };
            (kind, inputs)
        })
        .collect();
    println!(
        "whole brain: {wallets} wallets, {tokens} tokens, {days} days, {events} input events; \
         {samples} single events of each kind closed loop, then {samples} open loop at {rate} events/s"
    );
    let (closed, open) = updates.split_at(samples * KINDS.len());
    let (closed, open) = (closed.to_vec(), open.to_vec());

    let signals = Arc::new(AtomicUsize::new(0));
    let intents = Arc::new(AtomicUsize::new(0));
    let (s_count, i_count) = (signals.clone(), intents.clone());
    let (load_s, hists, open_hists, during) = timely::execute_directly(move |worker| {
        let mut sessions = Sessions::default();
        let probe = timely::dataflow::ProbeHandle::<u64>::new();
        worker.dataflow::<u64, _, _>(|scope| {
            let b = brain(scope, &mut sessions, &Params::default());
            b.views.standings.probe_with(&probe);
            b.views.tiers.probe_with(&probe);
            b.views.allocations.probe_with(&probe);
            b.views.clusters.probe_with(&probe);
            b.views.blacklist.probe_with(&probe);
            b.decisions.consensus.probe_with(&probe);
            b.decisions.book.probe_with(&probe);
            b.decisions.signals.probe_with(&probe).inspect(move |_| {
                s_count.fetch_add(1, Ordering::Relaxed);
            });
            b.decisions.intents.probe_with(&probe).inspect(move |_| {
                i_count.fetch_add(1, Ordering::Relaxed);
            });
        });
        let mut feeder = Feeder::default();
        // Loaded as a replay does: every distinct time its own epoch.
        let started = Instant::now();
        for (t, inputs) in &history {
            for input in inputs {
                feeder.apply(&mut sessions, input, *t);
            }
            feeder.advance_to(&mut sessions, t + 1);
            worker.step_while(|| probe.less_than(&(t + 1)));
        }
        let load = started.elapsed().as_secs_f64();
        let before = (signals.load(Ordering::Relaxed), intents.load(Ordering::Relaxed));
        let mut hists: Vec<Histogram<u64>> = KINDS.iter().map(|_| Histogram::new(3).expect("histogram")).collect();
        for (n, (kind, inputs)) in closed.iter().enumerate() {
            let t = inputs[0].time();
            let started = Instant::now();
            for input in inputs {
                feeder.apply(&mut sessions, input, t);
            }
            feeder.advance_to(&mut sessions, t + 1);
            worker.step_while(|| probe.less_than(&(t + 1)));
            if n / KINDS.len() >= samples / 50 {
                record(&mut hists[*kind], started.elapsed());
            }
        }
        let during = (signals.load(Ordering::Relaxed) - before.0, intents.load(Ordering::Relaxed) - before.1);
        // Open loop: event n is due at start + n / rate.
        let interval = Duration::from_secs_f64(1.0 / rate);
        let mut open_hists: Vec<Histogram<u64>> = KINDS.iter().map(|_| Histogram::new(3).expect("histogram")).collect();
        let mut in_flight: VecDeque<(usize, usize, u64, Instant)> = VecDeque::new();
        let start = Instant::now();
        let mut next = 0;
        while next < open.len() || !in_flight.is_empty() {
            let now = Instant::now();
            while next < open.len() && start + interval * next as u32 <= now {
                let (kind, inputs) = &open[next];
                let t = inputs[0].time();
                for input in inputs {
                    feeder.apply(&mut sessions, input, t);
                }
                feeder.advance_to(&mut sessions, t + 1);
                in_flight.push_back((next, *kind, t, start + interval * next as u32));
                next += 1;
            }
            if in_flight.is_empty() {
                // Idle until the next event is due: sleep most of the gap, spin the rest.
                let due = start + interval * next as u32;
                let gap = due.saturating_duration_since(Instant::now());
                if !spin && gap > Duration::from_micros(300) {
                    std::thread::sleep(gap - Duration::from_micros(200));
                }
                continue;
            }
            worker.step();
            while let Some(&(n, kind, t, due)) = in_flight.front() {
                if probe.less_than(&(t + 1)) {
                    break;
                }
                if n / KINDS.len() >= samples / 50 {
                    record(&mut open_hists[kind], due.elapsed());
                }
                in_flight.pop_front();
            }
        }
        (load, hists, open_hists, during)
    });
    println!("load: {load_s:.1} s ({:.0} events/s)", events as f64 / load_s);
    println!("while measuring: {} signals, {} intents", during.0, during.1);
    let scale = format!("{wallets}x{tokens}");
    figure(&format!("brain.load.{scale}"), events as f64 / load_s, "events/s");
    println!("closed loop (from feeding, one in flight):");
    for (kind, h) in KINDS.iter().zip(&hists) {
        report(kind, h);
        latency_figures(&format!("brain.{}.{scale}", kind.replace(' ', "_")), h);
    }
    println!("open loop at {rate} events/s (from the scheduled time, queueing included):");
    for (kind, h) in KINDS.iter().zip(&open_hists) {
        report(kind, h);
        latency_figures(&format!("brain_open.{}.{scale}", kind.replace(' ', "_")), h);
    }
    figure(&format!("brain_open.rate.{scale}"), rate, "events/s");
}
