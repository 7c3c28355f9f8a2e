//! No look-ahead in a backfill: a decision at time t depends only on inputs
//! stamped at or before t. Everything after t is perturbed — prices moved
//! 40 %, a third of the inputs dropped — and every signal and order intent
//! up to t must stay exactly as it was, while later ones change.

use std::collections::BTreeMap;

use dataflows::feed::Input;
use dataflows::model::{MarkPrice, Price};
use mirrorflow::commands::backfill::simulate;
use mirrorflow::ingest::{Event, history};

fn moved(p: Price) -> Price {
    Price::from_f64(p.to_f64() * 1.4).unwrap()
}

/// `inputs` with every one after `t` perturbed: prices × 1.4, every third dropped.
fn perturbed(inputs: &[Input], t: u64) -> Vec<Input> {
    inputs
        .iter()
        .enumerate()
        .filter(|(i, x)| x.time() <= t || i % 3 != 0)
        .map(|(_, x)| match x {
            Input::Mark(m) if m.time_ms > t => Input::Mark(MarkPrice { price: moved(m.price), ..m.clone() }),
            Input::Fill(f) if f.time_ms > t => {
                let mut f = f.clone();
                f.price = moved(f.price);
                Input::Fill(f)
            }
            other => other.clone(),
        })
        .collect()
}

#[test]
fn decisions_up_to_t_ignore_everything_after_t() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    let cfg = connectors::sim::SimConfig { seed: 5, wallets: 40, tokens: 5, warmup_days: 20, ..Default::default() };
    connectors::sim::export::export(cfg, 8, &export, &mut |_: &str, _: u64, _: u64| {}).unwrap();
    let h = history::load(&export, None, None, |e| panic!("{e}"), |_, _| {}).unwrap();
    let inputs: Vec<Input> =
        history::with_trade_marks(h.events.into_iter().map(|s| s.event)).iter().map(Event::input).collect();
    let mut config = mirrorflow::config::load(None, &BTreeMap::new()).unwrap().config;
    // Two clusters are enough to agree here, so the consensus strategy decides too.
    config.consensus.min_clusters = 2;
    let enabled = config.strategies.enabled.clone();
    let first = inputs.iter().map(Input::time).min().unwrap();
    let last = inputs.iter().map(Input::time).max().unwrap();
    // The last tenth of the history is perturbed.
    let t = last - (last - first) / 10;

    let a = simulate(&config, &inputs, 1, &enabled).unwrap();
    let b = simulate(&config, &perturbed(&inputs, t), 1, &enabled).unwrap();
    let upto = |s: &mirrorflow::commands::backfill::Simulated| {
        let signals: Vec<_> = s.outputs.signals.iter().filter(|x| x.time_ms <= t).cloned().collect();
        let intents: Vec<_> = s.outputs.intents.iter().filter(|x| x.time_ms <= t).cloned().collect();
        (signals, intents)
    };
    let (sa, ia) = upto(&a);
    let (sb, ib) = upto(&b);
    assert!(ia.len() >= 10 && sa.len() >= 10, "too little decided before t to compare: {} intents", ia.len());
    assert_eq!(sa, sb, "a signal up to t changed with the inputs after t");
    assert_eq!(ia, ib, "an order intent up to t changed with the inputs after t");
    // The perturbation bites: what comes after t is decided differently.
    let after = |s: &mirrorflow::commands::backfill::Simulated| {
        s.outputs.signals.iter().filter(|x| x.time_ms > t).cloned().collect::<Vec<_>>()
    };
    assert!(!after(&a).is_empty(), "nothing decided after t");
    assert_ne!(after(&a), after(&b), "the perturbation after t changed nothing");
}
