//! Durability at scale (DESIGN §6): a state file holding 1,000,000 logged
//! input records — the benchmark world's fills, snapshots, leaderboard rows,
//! marks and clocks at 3,000 wallets, committed one simulated hour a
//! transaction as the daemon's steps commit them — then
//! - the per-step commit (the daemon's checkpoint: every step is durable),
//! - the state file's size,
//! - recovery: opening the file and replaying what it holds through the whole
//!   brain, as a restarted daemon does before its first step,
//! - the retention checkpoint (`write_checkpoint`) folding the older half of
//!   the log, and recovery again from the folded file.
//!
//! Run: `cargo bench --bench recovery` (`MF_BENCH_RECORDS`, `MF_BENCH_WALLETS`,
//! `MF_BENCH_TOKENS` change the scale).

use std::time::Instant;

use dataflows::stream::Engine;
use dataflows::trading::Params;
use hdrhistogram::Histogram;
use mirrorflow::daemon::state::{self, Progress};
use mirrorflow::daemon::stepper::Stepper;
use mirrorflow::ingest::{Event, Ingestor, Outcome};
use mirrorflow::store::Store;

#[path = "../dataflows/benches/common/mod.rs"]
mod common;
use common::{HOUR, World, env_or, figure, latency_figures, record, report};

const DAY_MS: u64 = 24 * HOUR;

/// Opens the state file and replays it as the daemon's start-up does; returns
/// the seconds it took and the decisions' count.
fn recover(path: &std::path::Path) -> (f64, usize) {
    let started = Instant::now();
    let store = Store::open(path).expect("state file");
    let progress = state::progress(&store.read().expect("read")).expect("progress").expect("a progress record");
    let mut stepper = Stepper {
        engine: Engine::start(Params::default()),
        ingestor: Ingestor::new(None),
        paper: None,
        progress,
        wakeup: None,
        monitor_ms: 60_000,
        stale: Default::default(),
        save_tracked: None,
    };
    let out = stepper.recover(&store).expect("recovery");
    (started.elapsed().as_secs_f64(), out.intents.len() + out.signals.len())
}

fn mib(path: &std::path::Path) -> f64 {
    std::fs::metadata(path).map(|m| m.len() as f64 / 1_048_576.0).unwrap_or(0.0)
}

fn main() {
    let target: usize = env_or("MF_BENCH_RECORDS", 1_000_000);
    let wallets: usize = env_or("MF_BENCH_WALLETS", 3_000);
    let tokens: usize = env_or("MF_BENCH_TOKENS", 50);
    // About 9 records a wallet a day and 24 marks a token a day (under-estimated: the history is cut to size).
    let per_day = 8 * wallets + 24 * tokens + 120;
    let days = (target / per_day + 2) as u64;
    let mut world = World::new(wallets, tokens);
    let mut history = world.trading_history(days);
    // Exactly `target` records (the last hour may be cut short).
    let mut kept = 0;
    history.retain_mut(|(_, inputs)| {
        let room = target.saturating_sub(kept);
        inputs.truncate(room);
        kept += inputs.len();
        !inputs.is_empty()
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("state.redb");
    println!("recovery: {kept} input records ({wallets} wallets, {tokens} tokens, up to {days} days)");

    // The log, one transaction a simulated hour.
    let store = Store::open(&path).expect("state file");
    let mut ingestor = Ingestor::new(None);
    let mut commits = Histogram::<u64>::new(3).expect("histogram");
    let started = Instant::now();
    let (mut steps, mut logged, mut last) = (0u64, 0u64, 0u64);
    let mut i = 0;
    while i < history.len() {
        let until = history[i].0 / HOUR * HOUR + HOUR;
        let step_started = Instant::now();
        let mut txn = store.write().expect("write");
        while i < history.len() && history[i].0 < until {
            for input in &history[i].1 {
                if let Some(e) = Event::of_input(input)
                    && let Outcome::Accepted(s) = ingestor.ingest(e)
                {
                    ingestor.log(&mut txn, &s).expect("log");
                    logged += 1;
                }
            }
            i += 1;
        }
        ingestor.raise_frontier(until);
        steps += 1;
        last = until - 1;
        let progress = Progress { processed_to: last, steps, ..Default::default() };
        state::put_progress(&mut txn, &progress).expect("progress");
        txn.commit().expect("commit");
        record(&mut commits, step_started.elapsed());
    }
    let write_s = started.elapsed().as_secs_f64();
    drop(store);
    let size = mib(&path);
    println!(
        "logged {logged} records in {steps} step commits: {write_s:.1} s ({:.0} records/s); state file {size:.0} MiB \
         ({:.0} bytes a record)",
        logged as f64 / write_s,
        size * 1_048_576.0 / logged as f64
    );
    report("one step's commit (an hour of inputs)", &commits);

    let (recovery_s, decisions) = recover(&path);
    println!(
        "recovery from {logged} records: {recovery_s:.2} s ({:.0} records/s, {decisions} decisions)",
        logged as f64 / recovery_s
    );

    // The retention checkpoint: fold the older half of the log.
    let store = Store::open(&path).expect("state file");
    let span = last.saturating_sub(common::T0);
    let started = Instant::now();
    let cp = state::write_checkpoint(&store, last, span / 2 / DAY_MS * DAY_MS, "bench").expect("checkpoint");
    let checkpoint_s = started.elapsed().as_secs_f64();
    drop(store);
    let folded_size = mib(&path);
    println!(
        "checkpoint (fold of the older half): {checkpoint_s:.2} s; {} folded records + {} in the log; \
         state file {folded_size:.0} MiB (redb reuses freed pages; the file does not shrink)",
        cp.folded_inputs, cp.log_inputs
    );
    let (folded_recovery_s, _) = recover(&path);
    println!("recovery after the fold: {folded_recovery_s:.2} s");

    figure("recovery.records", logged as f64, "records");
    figure("recovery.log_write_rate", logged as f64 / write_s, "records/s");
    latency_figures("recovery.step_commit", &commits);
    figure("recovery.state_file", size, "MiB");
    figure("recovery.bytes_per_record", size * 1_048_576.0 / logged as f64, "bytes");
    figure("recovery.replay", recovery_s, "s");
    figure("recovery.checkpoint_fold", checkpoint_s, "s");
    figure("recovery.folded_records", (cp.folded_inputs + cp.log_inputs) as f64, "records");
    figure("recovery.replay_after_fold", folded_recovery_s, "s");
}
