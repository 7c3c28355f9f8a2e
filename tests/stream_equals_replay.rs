//! The daemon's brain ([`dataflows::stream::Engine`], fed a step at a time)
//! decides exactly what a replay of the same stamped inputs decides, however
//! the inputs are grouped into steps — the property that makes a recovery
//! (the log replayed as one step) and a backfill of a recorded log equal to
//! the live run (DESIGN §3).

use dataflows::feed::Input;
use dataflows::model::TimeMs;
use dataflows::replay::with_clocks;
use dataflows::stream::Engine;
use mirrorflow::ingest::{Event, history};

/// Feeds `inputs` in steps ending at each of `ends` (ascending), then at the last input.
fn stream(params: &dataflows::trading::Params, inputs: &[Input], ends: &[TimeMs]) -> (Vec<String>, Vec<String>) {
    let mut engine = Engine::start(params.clone());
    let last = inputs[inputs.len() - 1].time();
    let (mut signals, mut intents) = (Vec::new(), Vec::new());
    let mut i = 0;
    for &end in ends.iter().filter(|e| **e < last).chain(std::iter::once(&last)) {
        let mut step = Vec::new();
        while i < inputs.len() && inputs[i].time() <= end {
            step.push((inputs[i].time(), inputs[i].clone()));
            i += 1;
        }
        let out = engine.step(end, step).unwrap();
        signals.extend(out.signals.iter().map(|s| format!("{s:?}")));
        intents.extend(out.intents.iter().map(|s| format!("{s:?}")));
    }
    engine.stop();
    signals.sort();
    intents.sort();
    (signals, intents)
}

#[test]
fn the_stream_decides_what_a_replay_decides_however_steps_are_grouped() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    let cfg = connectors::sim::SimConfig { seed: 5, wallets: 40, tokens: 5, warmup_days: 12, ..Default::default() };
    connectors::sim::export::export(cfg, 4, &export, &mut |_: &str, _: u64, _: u64| {}).unwrap();
    let h = history::load(&export, None, None, |_| {}, |_, _| {}).unwrap();
    let mut inputs: Vec<Input> =
        history::with_trade_marks(h.events.into_iter().map(|s| s.event)).iter().map(Event::input).collect();
    // Our account, so that decisions are sized into intents.
    let start = inputs.iter().map(Input::time).min().unwrap();
    inputs.push(Input::OwnAccount { time_ms: start, value: dataflows::model::Usd::from_int(100_000) });
    let inputs = with_clocks(&inputs);
    let mut config = mirrorflow::config::Config::default();
    config.consensus.min_clusters = 2;
    let params = mirrorflow::commands::backfill::params(&config, config.strategies.enabled.clone());

    let replayed = dataflows::replay::replay(&inputs, 1, &params).unwrap();
    let mut want_signals: Vec<String> = replayed.signals.iter().map(|s| format!("{s:?}")).collect();
    let mut want_intents: Vec<String> = replayed.intents.iter().map(|s| format!("{s:?}")).collect();
    want_signals.sort();
    want_intents.sort();
    assert!(
        !want_signals.is_empty() && !want_intents.is_empty(),
        "the world decides nothing: {} signals, {} intents",
        want_signals.len(),
        want_intents.len()
    );

    let (first, last) = (inputs[0].time(), inputs[inputs.len() - 1].time());
    // One step (a recovery), hourly steps, and uneven steps from a seeded draw.
    let hourly: Vec<TimeMs> = (first..last).step_by(3_600_000).collect();
    let mut uneven = Vec::new();
    let mut t = first;
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while t < last {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        t += 1 + x % 7_200_000;
        uneven.push(t);
    }
    for (name, ends) in [("one step", Vec::new()), ("hourly", hourly), ("uneven", uneven)] {
        let (signals, intents) = stream(&params, &inputs, &ends);
        assert_eq!(signals.len(), want_signals.len(), "{name}: signal count");
        assert!(signals == want_signals, "{name}: signals differ");
        assert!(intents == want_intents, "{name}: intents differ");
    }
}
