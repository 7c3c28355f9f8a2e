//! Per-update latency of the trader-intelligence dataflow: one tracked
//! wallet's fill at a time, at 1,000 wallets over 50 tokens with 30 days of
//! history loaded, from feeding the fill until the probe has passed it on every
//! output (standings, tiers, allocations, clusters; the first 2 % of the
//! updates are warm-up and not recorded). Beside it, the plain
//! reference recomputation (the test tree's, `tests/reference`) doing the same
//! update: every wallet's standing, the tiers and the allocation target from
//! all inputs. Its copy clusters are left out of the timing — recomputed from
//! scratch they are O(wallets²) and would make the ratio meaningless — so the
//! ratio is a lower bound.
//!
//! Run: `cargo bench -p dataflows --bench intelligence` (`MF_BENCH_WALLETS`,
//! `MF_BENCH_SAMPLES` to change the scale).

use std::collections::BTreeMap;
use std::time::Instant;

use dataflows::feed::{Feeder, Input, Sessions};
use dataflows::intel::{Inputs, intelligence};
use dataflows::model::Fill;
use dataflows::rules::allocation::allocate;
use dataflows::rules::eligibility::tiers;
use hdrhistogram::Histogram;

mod common;
use common::{HOUR, T0, World, env_or, feed_hourly, figure, latency_figures, record, report};

#[path = "../tests/reference/mod.rs"]
mod reference;

const DAYS: u64 = 30;
const TOKENS: usize = 50;

fn main() {
    let wallets: usize = env_or("MF_BENCH_WALLETS", 1_000);
    let samples: u64 = env_or("MF_BENCH_SAMPLES", 2_000);
    let mut world = World::new(wallets, TOKENS);
    let history = world.history(DAYS);
    let events: usize = history.iter().map(|(_, i)| i.len()).sum();
    // The history loads in hourly epochs: the updates start after the last.
    let end = history.last().map(|(t, _)| *t / HOUR * HOUR + HOUR).unwrap_or(T0);
    // The updates measured: single fills of wallets in turn, one a second after the history.
    let updates: Vec<Fill> =
        (0..samples).map(|i| world.fill((i as usize * 37) % wallets, end + (i + 1) * 1_000)).collect();
    println!(
        "intelligence: {wallets} wallets, {TOKENS} tokens, {DAYS} days, {events} input events; {samples} single-fill updates"
    );

    let (load_s, dd) = {
        let history = history.clone();
        let updates = updates.clone();
        timely::execute_directly(move |worker| {
            let mut sessions = Sessions::default();
            let probe = timely::dataflow::ProbeHandle::<u64>::new();
            worker.dataflow::<u64, _, _>(|scope| {
                let v = intelligence(Inputs::of(scope, &mut sessions), Default::default());
                v.standings.probe_with(&probe);
                v.tiers.probe_with(&probe);
                v.allocations.probe_with(&probe);
                v.clusters.probe_with(&probe);
                v.blacklist.probe_with(&probe);
            });
            let mut feeder = Feeder::default();
            let started = Instant::now();
            feed_hourly(worker, &mut feeder, &mut sessions, &probe, &history, |_| {});
            let load = started.elapsed().as_secs_f64();
            let mut hist = Histogram::<u64>::new(3).expect("histogram");
            for (n, f) in updates.iter().enumerate() {
                let t = f.time_ms;
                let started = Instant::now();
                feeder.apply(&mut sessions, &Input::Fill(f.clone()), t);
                feeder.advance_to(&mut sessions, t + 1);
                worker.step_while(|| probe.less_than(&(t + 1)));
                // The first 2 % warm up (the load's last merges land on them).
                if n >= updates.len() / 50 {
                    record(&mut hist, started.elapsed());
                }
            }
            (load, hist)
        })
    };
    println!("dataflow load: {load_s:.1} s ({:.0} events/s)", events as f64 / load_s);
    let dd_p50 = report("dataflow, one fill", &dd);

    let mut state = reference::State::default();
    for (_, inputs) in &history {
        state.apply(inputs);
    }
    let mut refh = Histogram::<u64>::new(3).expect("histogram");
    let reference_samples = (samples as usize).min(40);
    for f in updates.iter().take(reference_samples) {
        let started = Instant::now();
        state.apply(&[Input::Fill(f.clone())]);
        let standings = state.standings(f.time_ms);
        let eligible = reference::eligible_scores(&standings);
        let ranked = tiers(&eligible);
        let scores = eligible.into_iter().collect();
        let roi_tiers = standings.iter().map(|(w, s)| (*w, s.score.roi_tier)).collect();
        let target = allocate(&scores, &roi_tiers, &BTreeMap::new()).ok();
        std::hint::black_box((ranked, target));
        record(&mut refh, started.elapsed());
    }
    let ref_p50 = report("reference recompute (no clusters)", &refh);
    println!("ratio of medians, reference / dataflow: {:.0}x", ref_p50 / dd_p50);
    latency_figures(&format!("intelligence.fill.{wallets}"), &dd);
    latency_figures(&format!("intelligence.reference.{wallets}"), &refh);
    figure(&format!("intelligence.ratio.{wallets}"), ref_p50 / dd_p50, "x");
}
