//! `mirrorflow backfill --input PATH --out DIR [--config F] [--strategy S …]
//! [--workers N]`: replays a dataset through the brain and writes what it
//! decided over time to the run directory, in canonical order (DESIGN §7): the
//! same bytes for any worker count. Trader intelligence: `scores.jsonl`
//! (standings: score components, pace, the gate that made a wallet
//! ineligible), `tiers.jsonl`, `clusters.jsonl`, `cluster_pairs.jsonl` (the
//! overlaps behind them) and `allocations.jsonl`. Trading: `signals.jsonl`
//! (every decision with its gate and numbers), `orders.jsonl` (every intent
//! that passed the risk module, with the paper executor's outcome and fill),
//! `equity.csv` (the paper account's value as it reported it), `trades.csv`
//! (closed round trips), `report.json` (counts per strategy and gate, each
//! strategy's closed-trade figures, the account's return and risk —
//! `report::stats` — and a result hash over signals and orders) and
//! `report.md` (the same, with the fill assumptions).
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
use crate::report::{files, stats, trades};

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

/// The times a backfill feeds (inclusive; `None`: unbounded).
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    pub from: Option<u64>,
    pub to: Option<u64>,
}

impl Window {
    fn contains(&self, t: u64) -> bool {
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|e| t <= e)
    }
}

pub fn run(
    config: &Config,
    input: &Path,
    out: &Path,
    workers: usize,
    named: &[String],
    window: Window,
) -> anyhow::Result<()> {
    if let (Some(f), Some(t)) = (window.from, window.to)
        && f > t
    {
        bail!("--from {f} is after --to {t}");
    }
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
    let inputs: Vec<Input> = history::with_trade_marks(h.events.into_iter().map(|s| s.event))
        .iter()
        .map(Event::input)
        .filter(|i| window.contains(i.time()))
        .collect();
    if inputs.is_empty() {
        bail!("no input of {} falls in the window {window:?}", input.display());
    }
    let fed = Instant::now();
    let Simulated { outputs, executions, paper, equity } = simulate(config, &inputs, workers, &enabled)?;
    let replay_secs = fed.elapsed().as_secs_f64();
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
    let mut round_trips = BTreeMap::new();
    for s in &enabled {
        round_trips.insert(*s, trades::round_trips(&legs(&outputs.intents, &executions, *s))?);
    }
    let mut closed: Vec<(Strategy, &trades::Trade)> =
        round_trips.iter().flat_map(|(s, (c, _))| c.iter().map(move |t| (*s, t))).collect();
    closed.sort_by_key(|(s, t)| (t.closed_at, *s, t.token));
    files::write_trades(&out.join("trades.csv"), &closed)?;
    let mut report = report(config, &outputs.signals, &outputs.intents, &executions, &round_trips, inputs.len())?;
    report["paper"] = paper;
    report["result_hash"] = json!(files::result_hash(out)?);
    std::fs::write(out.join("report.json"), serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("cannot write {}", out.join("report.json").display()))?;
    std::fs::write(out.join("report.md"), files::markdown(&report, &assumptions(config)))
        .with_context(|| format!("cannot write {}", out.join("report.md").display()))?;
    let rate = inputs.len() as f64 / replay_secs.max(1e-9);
    println!("events: {} ({rate:.0} events/s through the brain and the paper executor)", inputs.len());
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

/// What a backfill decided and what the paper executor made of it.
pub struct Simulated {
    pub outputs: dataflows::replay::Outputs,
    pub executions: BTreeMap<IntentId, Execution>,
    /// The paper account's summary for report.json.
    pub paper: Value,
    pub equity: Vec<(dataflows::model::TimeMs, dataflows::model::Usd)>,
}

/// Replays `inputs` through the brain with the `enabled` strategies, the paper
/// executor filling the intents and reporting our account from the start
/// capital at the first event on.
pub fn simulate(config: &Config, inputs: &[Input], workers: usize, enabled: &[Strategy]) -> anyhow::Result<Simulated> {
    let first = inputs.iter().map(Input::time).min().unwrap_or(0);
    let venue = Arc::new(Mutex::new(Recording::new(PaperVenue::new(
        config.simulation.clone(),
        config.execution.limit_order_timeout_secs,
        config.backtest.start_capital_usd,
        first,
    ))));
    let params = params(config, enabled.to_vec());
    let shared: SharedVenue = venue.clone();
    let outputs = replay_with(inputs, workers, &params, Some(shared)).map_err(anyhow::Error::msg)?;
    let r = venue.lock().map_err(|_| anyhow::anyhow!("the paper executor panicked"))?;
    let v = &r.venue;
    let paper = json!({
        "start_capital_usd": config.backtest.start_capital_usd,
        "final_account_value_usd": v.account_value(),
        "funding_paid_usd": v.funding_paid(),
        "equity": stats::equity(&r.curve()),
    });
    Ok(Simulated { outputs, executions: v.executions(), paper, equity: r.equity.clone() })
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
    signals: &[Signal],
    intents: &[OrderIntent],
    executions: &BTreeMap<IntentId, Execution>,
    round_trips: &BTreeMap<Strategy, (Vec<trades::Trade>, Vec<trades::Trade>)>,
    events: usize,
) -> anyhow::Result<Value> {
    let mut strategies = serde_json::Map::new();
    for (s, (closed, open)) in round_trips {
        let mut gates: BTreeMap<&str, u64> = BTreeMap::new();
        for x in signals.iter().filter(|x| x.strategy == *s) {
            *gates.entry(x.gate.as_str()).or_default() += 1;
        }
        let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
        for i in intents.iter().filter(|x| x.strategy == *s) {
            let o = executions.get(&i.id).map(|e| e.outcome).unwrap_or(Outcome::Open);
            *outcomes.entry(json!(o).as_str().unwrap_or_default().to_string()).or_default() += 1;
        }
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

/// What the paper executor assumed, printed beside the results.
fn assumptions(config: &Config) -> Vec<String> {
    let sim = &config.simulation;
    let slippage: Vec<String> = sim.slippage_percent.entries().map(|(t, p)| format!("{t} {p} %")).collect();
    vec![
        format!("starting capital ${}, no positions", config.backtest.start_capital_usd),
        format!("signal to order latency uniform in {}–{} ms", sim.latency_min_ms, sim.latency_max_ms),
        format!("adverse slippage {} × (1 + size / $100k × {})", slippage.join(", "), sim.size_factor_per_100k),
        format!("fee {} % of notional", sim.fee_percent),
        format!(
            "limit orders: {} missed, {} partially filled ({}–{} of the size); cancelled after {} s",
            sim.limit_miss_rate,
            sim.partial_fill_rate,
            sim.partial_fill_min,
            sim.partial_fill_max,
            config.execution.limit_order_timeout_secs
        ),
        "funding charged hourly at the mark; orders under $10 are not sent".into(),
        "trade prices stand in for marks beside the dataset's own; fills at the mark ± slippage".into(),
        format!("every draw a function of seed {} and the intent id", sim.seed),
    ]
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
