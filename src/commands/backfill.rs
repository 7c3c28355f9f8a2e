//! `mirrorflow backfill --input PATH --out DIR [--config F] [--strategy S …]
//! [--workers N]`: replays a dataset through the brain and writes what it
//! decided over time to the run directory, in canonical order (DESIGN §7): the
//! same bytes for any worker count. Trader intelligence: `scores.jsonl`
//! (standings: score components, pace, the gate that made a wallet
//! ineligible), `tiers.jsonl`, `clusters.jsonl`, `cluster_pairs.jsonl` (the
//! overlaps behind them) and `allocations.jsonl`. Trading: `signals.jsonl`
//! (every decision with its gate and numbers), `orders.jsonl` (every intent
//! that passed the risk module, with the paper executor's outcome and fill),
//! `equity.csv` (the paper account's value as it reported it) and
//! `report.json` (counts per strategy and gate, each strategy's closed-trade
//! figures, the account's return and risk — `report::stats`).
//!
//! Fill assumptions of this replay: a trade's price is also the token's mark
//! at that time (beside the dataset's own marks and candles); our account
//! starts at `backtest.start_capital_usd` with no positions; the paper
//! executor (`executor::paper`, `[simulation]`) fills the intents and its fills
//! come back as our positions, so exits and caps act on them.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, bail};
use dataflows::feed::Input;
use dataflows::model::ids::keccak256;
use dataflows::model::{IntentId, OrderIntent, Signal, Strategy};
use dataflows::replay::{Change, SharedVenue, replay_with};
use dataflows::trading::Params;
use serde_json::{Value, json};

use crate::config::Config;
use crate::executor::paper::{Execution, Outcome, PaperVenue};
use crate::ingest::{Event, history};
use crate::report::equity::Recording;
use crate::report::{stats, trades};

/// The strategies to run: those named (each must exist), else the config's.
fn strategies(config: &Config, named: &[String]) -> anyhow::Result<Vec<Strategy>> {
    if named.is_empty() {
        return Ok(config.strategies.enabled.clone());
    }
    let mut out = Vec::new();
    for n in named {
        let Some(s) = Strategy::from_name(n) else {
            bail!("--strategy {n:?}: unknown strategy (expected consensus, entry or index)");
        };
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

/// The trading parameters of a run.
pub fn params(config: &Config, enabled: Vec<Strategy>) -> Params {
    Params {
        enabled,
        risk: config.risk.clone(),
        exits: config.exits.clone(),
        entry: config.entry.clone(),
        consensus: config.consensus.clone(),
        index: config.index.clone(),
        execution: config.execution.clone(),
        // A backtest sizes from its whole simulated account; the live cap is the daemon's.
        account_cap: None,
    }
}

pub fn run(config: &Config, input: &Path, out: &Path, workers: usize, named: &[String]) -> anyhow::Result<()> {
    if let Some(state) = recorded_state(input) {
        return run_recorded(config, &state, out);
    }
    let enabled = strategies(config, named)?;
    let started = Instant::now();
    let mut shown = 0;
    let h = history::load(
        input,
        None,
        None,
        |e| {
            if shown < 5 {
                eprintln!("skipped {e}");
            }
            shown += 1;
        },
        |_, _| {},
    )?;
    let inputs: Vec<Input> =
        history::with_trade_marks(h.events.into_iter().map(|s| s.event)).iter().map(Event::input).collect();
    // The paper executor fills the intents and reports our account, from
    // the start capital at the first event on.
    let first = inputs.iter().map(Input::time).min().unwrap_or(0);
    let venue = Arc::new(Mutex::new(Recording::new(PaperVenue::new(
        config.simulation.clone(),
        config.execution.limit_order_timeout_secs,
        config.backtest.start_capital_usd,
        first,
    ))));
    let params = params(config, enabled.clone());
    let shared: SharedVenue = venue.clone();
    let outputs = replay_with(&inputs, workers, &params, Some(shared)).map_err(anyhow::Error::msg)?;
    let (executions, paper, equity) = {
        let r = venue.lock().map_err(|_| anyhow::anyhow!("the paper executor panicked"))?;
        let v = &r.venue;
        let paper = json!({
            "start_capital_usd": config.backtest.start_capital_usd,
            "final_account_value_usd": v.account_value(),
            "funding_paid_usd": v.funding_paid(),
            "equity": stats::equity(&r.curve()),
        });
        (v.executions(), paper, r.equity.clone())
    };
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let counts = [
        write(out, "scores.jsonl", &outputs.standings, |s| json!({ "standing": s }))?,
        write(out, "tiers.jsonl", &outputs.tiers, |t| json!({ "tier": t }))?,
        write(out, "clusters.jsonl", &outputs.clusters, |c| json!({ "cluster": c.canonical() }))?,
        write(
            out,
            "cluster_pairs.jsonl",
            &outputs.pairs,
            |(other, overlap)| json!({ "other": other.canonical(), "overlap": overlap }),
        )?,
        write(
            out,
            "allocations.jsonl",
            &outputs.allocations,
            |w| json!({ "raw": w.raw, "capped": w.capped, "final": w.final_weight }),
        )?,
    ];
    write_equity(&out.join("equity.csv"), &equity)?;
    write_lines(&out.join("signals.jsonl"), outputs.signals.iter().map(signal_json))?;
    write_lines(&out.join("orders.jsonl"), outputs.intents.iter().map(|i| intent_json(i, executions.get(&i.id))))?;
    let mut report = report(config, &enabled, &outputs.signals, &outputs.intents, &executions, inputs.len())?;
    report["paper"] = paper;
    std::fs::write(out.join("report.json"), serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("cannot write {}", out.join("report.json").display()))?;
    println!("events: {}", inputs.len());
    for (name, n) in ["score", "tier", "cluster", "cluster pair", "allocation"].iter().zip(counts) {
        println!("{name} changes: {n}");
    }
    for s in &enabled {
        let signals = outputs.signals.iter().filter(|x| x.strategy == *s).count();
        let intents = outputs.intents.iter().filter(|x| x.strategy == *s).count();
        println!("{s}: {signals} signals, {intents} order intents");
    }
    println!("out: {}", out.display());
    println!("took {:.1} s with {workers} worker(s)", started.elapsed().as_secs_f64());
    Ok(())
}

/// A signal as one JSON line: its numbers as an object.
pub fn signal_json(s: &Signal) -> Value {
    let numbers: serde_json::Map<String, Value> = s.numbers.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    json!({
        "time_ms": s.time_ms,
        "strategy": s.strategy,
        "token": s.token,
        "side": s.side,
        "wallet": s.wallet.map(|w| w.canonical()),
        "decision": s.decision,
        "gate": s.gate,
        "numbers": numbers,
    })
}

/// An order intent as one JSON line, with what the paper executor made of it.
pub fn intent_json(i: &OrderIntent, execution: Option<&Execution>) -> Value {
    let attribution: Vec<Value> = i
        .attribution
        .iter()
        .map(|a| json!({ "wallet": a.wallet.canonical(), "cluster": a.cluster.map(|c| c.canonical()), "weight": a.weight }))
        .collect();
    let notional = i.price.notional(i.size).ok();
    json!({
        "time_ms": i.time_ms,
        "strategy": i.strategy,
        "token": i.token,
        "id": i.id.to_string(),
        "cloid": i.id.cloid(0).to_string(),
        "kind": i.kind,
        "side": i.side,
        "size": i.size,
        "price": i.price,
        "notional_usd": notional,
        "order_type": i.order_type,
        "reduce_only": i.reduce_only,
        "leverage": i.leverage,
        "reason": i.reason,
        "attribution": attribution,
        "outcome": execution.map(|e| e.outcome),
        "fill": execution.filter(|e| e.time_ms.is_some() && e.price.is_some()).map(|e| json!({
            "time_ms": e.time_ms,
            "price": e.price,
            "size": e.size,
            "fee": e.fee,
            "closed_pnl": e.closed_pnl,
        })),
    })
}

/// A strategy's fills, in fill time order. (The paper account nets every
/// strategy's position in a token; a fill's realised PnL is against that.)
fn legs(intents: &[OrderIntent], executions: &BTreeMap<IntentId, Execution>, s: Strategy) -> Vec<trades::Leg> {
    let mut legs: Vec<trades::Leg> = intents
        .iter()
        .filter(|i| i.strategy == s)
        .filter_map(|i| {
            let e = executions.get(&i.id)?;
            let time_ms = e.time_ms.filter(|_| e.size.is_positive())?;
            Some(trades::Leg {
                token: i.token,
                time_ms,
                side: i.side,
                size: e.size,
                closed_pnl: e.closed_pnl,
                fee: e.fee,
            })
        })
        .collect();
    legs.sort_by_key(|l| l.time_ms);
    legs
}

/// The minimal report: per strategy, its signal and intent counts and the
/// signals per gate, its closed trades' figures; the config hash and version.
fn report(
    config: &Config,
    enabled: &[Strategy],
    signals: &[Signal],
    intents: &[OrderIntent],
    executions: &BTreeMap<IntentId, Execution>,
    events: usize,
) -> anyhow::Result<Value> {
    let mut strategies = serde_json::Map::new();
    for s in enabled {
        let mut gates: BTreeMap<&str, u64> = BTreeMap::new();
        for x in signals.iter().filter(|x| x.strategy == *s) {
            *gates.entry(x.gate.as_str()).or_default() += 1;
        }
        let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
        for i in intents.iter().filter(|x| x.strategy == *s) {
            let o = executions.get(&i.id).map(|e| e.outcome).unwrap_or(Outcome::Open);
            *outcomes.entry(json!(o).as_str().unwrap_or_default().to_string()).or_default() += 1;
        }
        let (closed, open) = trades::round_trips(&legs(intents, executions, *s))?;
        let closed_trades: Vec<stats::ClosedTrade> = closed.iter().map(trades::Trade::closed).collect();
        strategies.insert(
            s.name().to_string(),
            json!({
                "signals": signals.iter().filter(|x| x.strategy == *s).count(),
                "intents": intents.iter().filter(|x| x.strategy == *s).count(),
                "signals_by_gate": gates,
                "intents_by_outcome": outcomes,
                "trades": stats::trades(&closed_trades),
                "trades_open_at_end": open.len(),
            }),
        );
    }
    let canonical = toml::to_string(config).context("cannot serialize the configuration")?;
    Ok(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "config_hash": hex::encode(keccak256(canonical.as_bytes())),
        "events": events,
        "strategies": strategies,
    }))
}

/// `equity.csv`: time (ms and UTC) and the paper account's value.
fn write_equity(path: &Path, equity: &[(dataflows::model::TimeMs, dataflows::model::Usd)]) -> anyhow::Result<()> {
    let mut text = String::from("time_ms,time_utc,account_value_usd\n");
    for (t, v) in equity {
        let utc = chrono::DateTime::from_timestamp_millis(*t as i64).map(|d| d.to_rfc3339()).unwrap_or_default();
        text.push_str(&format!("{t},{utc},{v}\n"));
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

pub fn write_lines(path: &Path, lines: impl Iterator<Item = Value>) -> anyhow::Result<()> {
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
    );
    for line in lines {
        writeln!(file, "{line}")?;
    }
    file.flush()?;
    Ok(())
}

/// One line per change: `time_ms`, `wallet`, `diff` and the row's fields.
fn write<T>(dir: &Path, name: &str, changes: &[Change<T>], fields: impl Fn(&T) -> Value) -> anyhow::Result<usize> {
    let path = dir.join(name);
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?,
    );
    for c in changes {
        let mut line = json!({ "time_ms": c.time_ms, "wallet": c.wallet.canonical(), "diff": c.diff });
        if let (Some(obj), Value::Object(more)) = (line.as_object_mut(), fields(&c.value)) {
            obj.extend(more);
        }
        writeln!(file, "{line}")?;
    }
    file.flush()?;
    Ok(changes.len())
}

/// The daemon's state file `input` names (the file, or the state directory).
fn recorded_state(input: &Path) -> Option<std::path::PathBuf> {
    let file = if input.is_dir() { crate::daemon::state_file(input) } else { input.to_path_buf() };
    let redb = file.extension().is_some_and(|e| e == "redb") && file.is_file();
    redb.then_some(file)
}

/// A daemon's recorded input log, replayed through the daemon's own stream
/// engine with the configuration it ran with: our own fills, positions and
/// account are the recorded ones (nothing is simulated again), the clocks
/// are the recorded ticks, and the outcomes are what its executor recorded —
/// so `signals.jsonl` and `orders.jsonl` come out byte-identical to the
/// daemon's run directory.
fn run_recorded(config: &Config, state: &Path, out: &Path) -> anyhow::Result<()> {
    use crate::daemon::{rundir::RunDir, state as daemon_state};
    let started = Instant::now();
    let store = crate::store::Store::open(state)?;
    let identity = crate::run_identity::check_config(&store, config)?;
    let progress = daemon_state::progress(&store.read()?)?.context("the state file holds no processed step")?;
    let paper = daemon_state::paper(&store.read()?)?;
    let inputs = daemon_state::inputs(&store)?;
    let mut params = params(config, config.strategies.enabled.clone());
    if identity.mode == crate::run_identity::Mode::Live {
        params.account_cap = Some(config.paper_trading.live_account_cap_usd);
    }
    let mut engine = dataflows::stream::Engine::start(params);
    let fed = inputs.iter().map(|s| (s.time_ms, s.event.input())).collect();
    let output = engine.step(progress.processed_to, fed)?;
    engine.stop();
    let run = RunDir::open(out)?;
    run.rewrite_signals(&output.signals)?;
    run.write_orders(&output.intents, &crate::daemon::executions(paper.as_ref(), &store))?;
    println!("recorded log: {} inputs up to {}", inputs.len(), progress.processed_to);
    println!("signals: {}, order intents: {}", output.signals.len(), output.intents.len());
    println!("out: {}", out.display());
    println!("took {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
