//! Resident memory of the whole brain over a simulated week at 3,000 wallets:
//! the benchmark world's fills, daily snapshots and leaderboard rows, hourly
//! marks, the trading clock and our own account, fed in hourly epochs (as the
//! daemon's steps would), with the process's RSS sampled every 6 simulated
//! hours. What must hold: the state is bounded by the rules' windows, so RSS
//! grows only while windows fill (7, 30 and 90 days) and never past them —
//! the growth of the last simulated day, against the first, says which.
//!
//! Run: `cargo bench -p dataflows --bench memory` (`MF_BENCH_WALLETS`,
//! `MF_BENCH_TOKENS`, `MF_BENCH_DAYS` change the scale).

use std::time::Instant;

use dataflows::brain::brain;
use dataflows::feed::{Feeder, Sessions};
use dataflows::trading::Params;

mod common;
use common::{HOUR, T0, World, env_or, feed_hourly, figure, status_mib};

fn main() {
    let wallets: usize = env_or("MF_BENCH_WALLETS", 3_000);
    let tokens: usize = env_or("MF_BENCH_TOKENS", 50);
    let days: u64 = env_or("MF_BENCH_DAYS", 7);
    let mut world = World::new(wallets, tokens);
    let history = world.trading_history(days);
    let events: usize = history.iter().map(|(_, i)| i.len()).sum();
    let before = status_mib("VmRSS:").unwrap_or(0.0);
    println!(
        "memory: {wallets} wallets, {tokens} tokens, {days} simulated days, {events} input events \
         (inputs held in memory: {before:.0} MiB before the dataflow)"
    );
    let (samples, secs) = timely::execute_directly(move |worker| {
        let mut sessions = Sessions::default();
        let probe = timely::dataflow::ProbeHandle::<u64>::new();
        worker.dataflow::<u64, _, _>(|scope| {
            let b = brain(scope, &mut sessions, &Params::default());
            b.views.standings.probe_with(&probe);
            b.views.allocations.probe_with(&probe);
            b.views.clusters.probe_with(&probe);
            b.decisions.consensus.probe_with(&probe);
            b.decisions.book.probe_with(&probe);
            b.decisions.intents.probe_with(&probe);
        });
        let mut feeder = Feeder::default();
        let mut samples: Vec<(f64, f64)> = Vec::new();
        let started = Instant::now();
        feed_hourly(worker, &mut feeder, &mut sessions, &probe, &history, |until| {
            let hours = (until - T0) / HOUR;
            if hours.is_multiple_of(6) {
                samples.push((hours as f64 / 24.0, status_mib("VmRSS:").unwrap_or(0.0)));
            }
        });
        (samples, started.elapsed().as_secs_f64())
    });
    println!("fed in {secs:.1} s ({:.0} events/s)", events as f64 / secs);
    for (day, rss) in &samples {
        println!("day {day:>5.2}: RSS {rss:>7.0} MiB");
    }
    let at = |d: f64| samples.iter().rev().find(|(day, _)| *day <= d).map(|(_, r)| *r);
    let peak = status_mib("VmHWM:").unwrap_or(0.0);
    let last = samples.last().map(|s| s.1).unwrap_or(0.0);
    let first_day = at(1.0).unwrap_or(0.0) - at(0.25).unwrap_or(0.0);
    let last_day = last - at(days as f64 - 1.0).unwrap_or(last);
    println!("peak {peak:.0} MiB; growth over the first day {first_day:.0} MiB, over the last day {last_day:.0} MiB");
    for (day, rss) in &samples {
        figure(&format!("memory.rss.{wallets}.day{day:.2}"), *rss, "MiB");
    }
    figure(&format!("memory.peak.{wallets}"), peak, "MiB");
    figure(&format!("memory.growth_first_day.{wallets}"), first_day, "MiB");
    figure(&format!("memory.growth_last_day.{wallets}"), last_day, "MiB");
}
