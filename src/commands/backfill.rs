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
use dataflows::model::{Address, IntentId, OrderIntent, Signal, Strategy, TimeMs, Usd};
use dataflows::replay::{Change, SharedVenue, replay_with};
use dataflows::trading::Params;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use crate::config::Config;
use crate::executor::paper::{Execution, Outcome, PaperVenue};
use crate::ingest::{Event, history};
use crate::report::counterfactual;
use crate::report::equity::{self, Recording};
use crate::report::{allocation, chart, compare, eligibility, figures, files, mirror, stats, trades};

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
        gates: gates(&config.eligibility),
    }
}

/// The anti-luck thresholds of `[eligibility]`, for the dataflow.
fn gates(e: &crate::config::EligibilityConfig) -> dataflows::rules::eligibility::Gates {
    dataflows::rules::eligibility::Gates {
        pnl_7d: e.pnl_7d_min_usd,
        roi_7d: e.roi_7d_min_percent,
        pnl_30d: e.pnl_30d_min_usd,
        roi_30d: e.roi_30d_min_percent,
        pnl_90d: e.pnl_90d_min_usd,
        roi_90d: e.roi_90d_min_percent,
        win_rate_min: e.win_rate_min,
        win_rate_max: e.win_rate_max,
        min_profit_factor: e.min_profit_factor,
        trend_min_profit_factor: e.trend_trader_min_profit_factor,
        trend_max_win_rate: e.trend_trader_max_win_rate,
        min_trades_30d: e.min_trades_30d.into(),
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
    let bar = progress(enabled.len());
    let simulated = simulate_with(config, &inputs, workers, &enabled, || bar.inc(1));
    bar.finish_and_clear();
    let simulated = simulated?;
    let replay_secs = fed.elapsed().as_secs_f64();
    let run = RunRecord { simulated, enabled: enabled.clone(), events: inputs.len(), separate_accounts: true };
    let benchmarks = Benchmarks::of(config, &inputs, &run.simulated)?;
    let (_, counts) = write_run_dir(config, out, &run, &inputs, &benchmarks)?;
    let rate = inputs.len() as f64 / replay_secs.max(1e-9);
    println!(
        "events: {} ({rate:.0} events/s through the brain and the paper executor, {} replays)",
        inputs.len(),
        enabled.len()
    );
    for (name, n) in ["score", "tier", "cluster", "cluster pair", "allocation"].iter().zip(counts) {
        println!("{name} changes: {n}");
    }
    let outputs = &run.simulated.outputs;
    for s in &enabled {
        let signals = outputs.signals.iter().filter(|x| x.strategy == *s).count();
        let intents = outputs.intents.iter().filter(|x| x.strategy == *s).count();
        let account = run.simulated.accounts.iter().find(|a| a.name == s.name());
        let value = account.map(|a| a.final_value.to_string()).unwrap_or_default();
        println!("{s}: {signals} signals, {intents} order intents, account {value} USD");
    }
    println!("out: {}", out.display());
    println!("took {:.1} s with {workers} worker(s)", started.elapsed().as_secs_f64());
    if let Some(kb) = peak_rss_kb() {
        println!("peak memory: {} MiB", kb / 1024);
    }
    Ok(())
}

/// The process's peak resident set (Linux `VmHWM`), in KiB; `None` elsewhere.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A progress bar over the replays (hidden when stderr is not a terminal).
fn progress(len: usize) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("replaying [{bar:40}] {pos}/{len} accounts {elapsed}")
            .unwrap_or(ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(250));
    bar
}

/// One paper account: a strategy's (each trades its own in a backfill) or the
/// daemon's, which all its strategies share.
pub struct Account {
    /// The strategy's name, or `all` for a shared account.
    pub name: String,
    pub start_capital: Usd,
    pub final_value: Usd,
    pub funding_paid: Usd,
    pub equity: Vec<(TimeMs, Usd)>,
    pub exposure: Vec<equity::Exposure>,
    pub liquidations: u64,
}

impl Account {
    fn of<V>(name: &str, capital: Usd, r: &Recording<V>, final_value: Usd, funding_paid: Usd) -> Account {
        Account {
            name: name.to_string(),
            start_capital: capital,
            final_value,
            funding_paid,
            equity: r.equity.clone(),
            exposure: r.exposure.clone(),
            liquidations: r.liquidations,
        }
    }

    pub fn curve(&self) -> Vec<(TimeMs, f64)> {
        self.equity.iter().map(|(t, v)| (*t, v.to_f64())).collect()
    }

    fn mean_equity(&self) -> Option<f64> {
        (!self.equity.is_empty())
            .then(|| self.equity.iter().map(|(_, v)| v.to_f64()).sum::<f64>() / self.equity.len() as f64)
    }

    fn json(&self) -> Value {
        json!({
            "start_capital_usd": self.start_capital,
            "final_account_value_usd": self.final_value,
            "funding_paid_usd": self.funding_paid,
            "liquidations": self.liquidations,
            "equity": stats::equity(&self.curve()),
            "exposure": figures::exposure(&self.exposure),
        })
    }
}

/// What a backfill decided and what the paper executor made of it.
pub struct Simulated {
    pub outputs: dataflows::replay::Outputs,
    pub executions: BTreeMap<IntentId, Execution>,
    pub accounts: Vec<Account>,
}

/// A run to write out: what was decided, on which accounts.
pub struct RunRecord {
    pub simulated: Simulated,
    pub enabled: Vec<Strategy>,
    pub events: usize,
    /// Each strategy on its own account (backfill), or one shared (a daemon's log).
    pub separate_accounts: bool,
}

/// Replays `inputs` through the brain once per `enabled` strategy, each on a
/// paper account of its own from the start capital at the first event on (so
/// one strategy's positions and caps never shape another's figures); the
/// decisions are merged in canonical order, the intelligence is the first
/// replay's (it does not depend on what we trade).
pub fn simulate(config: &Config, inputs: &[Input], workers: usize, enabled: &[Strategy]) -> anyhow::Result<Simulated> {
    simulate_with(config, inputs, workers, enabled, || {})
}

fn simulate_with(
    config: &Config,
    inputs: &[Input],
    workers: usize,
    enabled: &[Strategy],
    done: impl Fn() + Sync,
) -> anyhow::Result<Simulated> {
    let runs: Vec<anyhow::Result<AccountRun>> = std::thread::scope(|scope| {
        let handles: Vec<_> = enabled
            .iter()
            .map(|s| {
                let done = &done;
                scope.spawn(move || {
                    let r = simulate_account(config, inputs, workers, &[*s], s.name());
                    done();
                    r
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a replay panicked")))).collect()
    });
    let mut merged: Option<dataflows::replay::Outputs> = None;
    let mut executions = BTreeMap::new();
    let mut accounts = Vec::new();
    for r in runs {
        let (outputs, e, account) = r?;
        executions.extend(e);
        accounts.push(account);
        match &mut merged {
            None => merged = Some(outputs),
            Some(m) => {
                m.signals.extend(outputs.signals);
                m.intents.extend(outputs.intents);
            }
        }
    }
    let mut outputs = merged.unwrap_or_default();
    outputs.signals.sort();
    outputs.intents.sort_by_key(|a| (a.time_ms, a.strategy, a.token, a.id));
    Ok(Simulated { outputs, executions, accounts })
}

/// What one account's replay decided, what its executor made of it, and the account.
type AccountRun = (dataflows::replay::Outputs, BTreeMap<IntentId, Execution>, Account);

/// One replay with the `enabled` strategies on one paper account.
fn simulate_account(
    config: &Config,
    inputs: &[Input],
    workers: usize,
    enabled: &[Strategy],
    name: &str,
) -> anyhow::Result<AccountRun> {
    let first = inputs.iter().map(Input::time).min().unwrap_or(0);
    let capital = config.backtest.start_capital_usd;
    let venue = Arc::new(Mutex::new(Recording::new(paper_venue(config, first))));
    let params = params(config, enabled.to_vec());
    let shared: SharedVenue = venue.clone();
    let outputs = replay_with(inputs, workers, &params, Some(shared)).map_err(anyhow::Error::msg)?;
    let r = venue.lock().map_err(|_| anyhow::anyhow!("the paper executor panicked"))?;
    let account = Account::of(name, capital, &r, r.venue.account_value(), r.venue.funding_paid());
    Ok((outputs, r.venue.executions(), account))
}

fn paper_venue(config: &Config, first: TimeMs) -> PaperVenue {
    PaperVenue::new(
        config.simulation.clone(),
        config.execution.limit_order_timeout_secs,
        config.backtest.start_capital_usd,
        first,
    )
}

/// What the strategies are compared with.
pub struct Benchmarks {
    pub btc: Vec<(TimeMs, f64)>,
    /// The naive mirror of the best single trader (`report::mirror`).
    pub mirror: Account,
    /// Per strategy, its lagged-signal null's account.
    pub nulls: Vec<Account>,
    pub lag_hours: u64,
    /// The entry strategy's entries with the copied traders' own exits
    /// instead of ours (the one strategy that copies one trader per position).
    pub their_exits: Vec<Account>,
}

impl Benchmarks {
    /// The benchmarks of the strategies' accounts in `s`, each computed in
    /// one pass over `inputs` on a paper account of its own (in parallel).
    fn of(config: &Config, inputs: &[Input], s: &Simulated) -> anyhow::Result<Benchmarks> {
        let start = s.accounts.iter().filter_map(|a| a.equity.first().map(|e| e.0)).min();
        let start = start.unwrap_or_else(|| inputs.iter().map(Input::time).min().unwrap_or(0));
        let capital = config.backtest.start_capital_usd;
        let account =
            |name: &str, r: Recording| Account::of(name, capital, &r, r.venue.account_value(), r.venue.funding_paid());
        let lag_hours = config.backtest.lagged_null_hours;
        let strategies: Vec<Strategy> = s.accounts.iter().filter_map(|a| Strategy::from_name(&a.name)).collect();
        let intents_of = |st: Strategy| s.outputs.intents.iter().filter(move |i| i.strategy == st);
        std::thread::scope(|scope| {
            let mirror = scope.spawn(|| {
                account("naive mirror", mirror::run(inputs, &s.outputs.standings, paper_venue(config, start)))
            });
            let nulls: Vec<_> = strategies
                .iter()
                .map(|st| {
                    scope.spawn(move || {
                        let mut delayed = counterfactual::Delayed::new(intents_of(*st), lag_hours * 3_600_000);
                        account(st.name(), counterfactual::drive(inputs, paper_venue(config, start), &mut delayed))
                    })
                })
                .collect();
            let their_exits: Vec<_> = strategies
                .iter()
                // Only the entry strategy copies one trader per position (seed 001).
                .filter(|st| **st == Strategy::Entry)
                .filter_map(|st| Some((*st, counterfactual::TheirExits::new(intents_of(*st))?)))
                .map(|(st, mut policy)| {
                    scope.spawn(move || {
                        account(st.name(), counterfactual::drive(inputs, paper_venue(config, start), &mut policy))
                    })
                })
                .collect();
            let join = |h: std::thread::ScopedJoinHandle<'_, Account>| {
                h.join().map_err(|_| anyhow::anyhow!("a benchmark's replay panicked"))
            };
            Ok(Benchmarks {
                btc: compare::btc_buy_and_hold(inputs, start, capital.to_f64()),
                mirror: join(mirror)?,
                nulls: nulls.into_iter().map(join).collect::<anyhow::Result<_>>()?,
                lag_hours,
                their_exits: their_exits.into_iter().map(join).collect::<anyhow::Result<_>>()?,
            })
        })
    }
}

/// Writes the run directory (DESIGN §7); returns the intelligence files' line counts.
fn write_run_dir(
    config: &Config,
    out: &Path,
    run: &RunRecord,
    inputs: &[Input],
    benchmarks: &Benchmarks,
) -> anyhow::Result<(Value, [usize; 5])> {
    let Simulated { outputs, executions, accounts } = &run.simulated;
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
    write_equity(&out.join("equity.csv"), accounts)?;
    write_lines(&out.join("signals.jsonl"), outputs.signals.iter().map(signal_json))?;
    write_lines(&out.join("orders.jsonl"), outputs.intents.iter().map(|i| intent_json(i, executions.get(&i.id))))?;
    let mut round_trips = BTreeMap::new();
    for s in &run.enabled {
        round_trips.insert(*s, trades::round_trips(&legs(&outputs.intents, executions, *s))?);
    }
    let mut closed: Vec<(Strategy, &trades::Trade)> =
        round_trips.iter().flat_map(|(s, (c, _))| c.iter().map(move |t| (*s, t))).collect();
    closed.sort_by_key(|(s, t)| (t.closed_at, *s, t.token));
    files::write_trades(&out.join("trades.csv"), &closed)?;
    let mut report = report(config, run, inputs, &round_trips, benchmarks)?;
    report["result_hash"] = json!(files::result_hash(out)?);
    let mut series: Vec<(String, Vec<(TimeMs, f64)>)> = accounts.iter().map(|a| (a.name.clone(), a.curve())).collect();
    if !benchmarks.btc.is_empty() {
        series.push(("BTC buy-and-hold".into(), benchmarks.btc.clone()));
    }
    series.push(("naive mirror of the best trader".into(), benchmarks.mirror.curve()));
    let lines: Vec<chart::Series> = series.iter().map(|(n, p)| chart::Series { name: n, points: p }).collect();
    let start = series.iter().filter_map(|(_, p)| p.first().map(|x| x.0)).min().unwrap_or(0);
    chart::write(&out.join("equity.svg"), &lines, start)?;
    std::fs::write(out.join("report.json"), serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("cannot write {}", out.join("report.json").display()))?;
    std::fs::write(out.join("report.md"), files::markdown(&report, &assumptions(config, run)))
        .with_context(|| format!("cannot write {}", out.join("report.md").display()))?;
    Ok((report, counts))
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
pub fn legs(intents: &[OrderIntent], executions: &BTreeMap<IntentId, Execution>, s: Strategy) -> Vec<trades::Leg> {
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

/// `report.json`: per strategy its decisions, trades, account, execution
/// figures and comparisons; the accounts; the config hash and version.
fn report(
    config: &Config,
    run: &RunRecord,
    inputs: &[Input],
    round_trips: &BTreeMap<Strategy, (Vec<trades::Trade>, Vec<trades::Trade>)>,
    benchmarks: &Benchmarks,
) -> anyhow::Result<Value> {
    let Simulated { outputs, executions, accounts } = &run.simulated;
    let (signals, intents) = (&outputs.signals, &outputs.intents);
    let leaders = figures::LeaderFills::of(inputs);
    let btc = stats::equity(&benchmarks.btc);
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
        let own: Vec<&OrderIntent> = intents.iter().filter(|x| x.strategy == *s).collect();
        let decided: Vec<&Signal> = signals.iter().filter(|x| x.strategy == *s).collect();
        let account = accounts.iter().find(|a| a.name == s.name()).or(accounts.first());
        let mean_equity = account.and_then(Account::mean_equity);
        let mut entry = json!({
            "signals": decided.len(),
            "intents": own.len(),
            "signals_by_gate": gates,
            "intents_by_outcome": outcomes,
            "trades": stats::trades(&closed_trades),
            "trades_open_at_end": open.len(),
            "execution": figures::execution(&own, executions, &decided, &leaders, mean_equity),
        });
        if run.separate_accounts
            && let Some(a) = account
        {
            let mine = stats::equity(&a.curve());
            let mut comparisons = vec![
                compare::versus("BTC buy-and-hold", &mine, &btc),
                compare::versus("naive mirror of the best trader", &mine, &stats::equity(&benchmarks.mirror.curve())),
            ];
            if let Some(null) = benchmarks.nulls.iter().find(|n| n.name == s.name()) {
                let name = format!("lagged signals (+{} h)", benchmarks.lag_hours);
                comparisons.push(compare::versus(&name, &mine, &stats::equity(&null.curve())));
            }
            comparisons.push(match benchmarks.their_exits.iter().find(|n| n.name == s.name()) {
                Some(theirs) => compare::versus(compare::THEIR_EXITS, &mine, &stats::equity(&theirs.curve())),
                None => compare::not_comparable(
                    compare::THEIR_EXITS,
                    &mine,
                    "its positions follow several traders at once, not one trader whose exit could be copied",
                ),
            });
            entry["account"] = a.json();
            entry["comparisons"] = json!(comparisons);
        }
        strategies.insert(s.name().to_string(), entry);
    }
    let canonical = toml::to_string(config).context("cannot serialize the configuration")?;
    let accounts_json: serde_json::Map<String, Value> = accounts.iter().map(|a| (a.name.clone(), a.json())).collect();
    Ok(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "config_hash": hex::encode(keccak256(canonical.as_bytes())),
        "events": run.events,
        "accounts": if run.separate_accounts {
            "each strategy trades its own paper account from the start capital"
        } else {
            "one paper account shared by every strategy (as the daemon ran)"
        },
        "account": accounts_json,
        "benchmarks": {
            "btc_buy_and_hold": btc,
            "naive_mirror": benchmarks.mirror.json(),
            "lagged_signal_hours": benchmarks.lag_hours,
            "lagged_signals": benchmarks.nulls.iter().map(|a| (a.name.clone(), a.json())).collect::<serde_json::Map<_, _>>(),
            "their_exits": benchmarks.their_exits.iter().map(|a| (a.name.clone(), a.json())).collect::<serde_json::Map<_, _>>(),
        },
        "eligibility": eligibility::summary(&outputs.standings),
        "allocation": allocation::diagnostics(&outputs.allocations, inputs),
        "strategies": strategies,
    }))
}

/// What the paper executor assumed, printed beside the results.
fn assumptions(config: &Config, run: &RunRecord) -> Vec<String> {
    let sim = &config.simulation;
    let slippage: Vec<String> = sim.slippage_percent.entries().map(|(t, p)| format!("{t} {p} %")).collect();
    let daemon = (!run.separate_accounts).then(|| {
        "a daemon's run: the fills are those its paper executor made, which executes a due order at the \
         daemon's next step — under an accelerated clock (the demo steps 10 minutes at a time) the \
         signal-to-fill latencies include up to one step"
            .to_string()
    });
    let mut lines = vec![
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
    ];
    lines.extend(daemon);
    lines
}

/// `equity.csv`: per account, time (ms and UTC) and its value.
fn write_equity(path: &Path, accounts: &[Account]) -> anyhow::Result<()> {
    let mut text = String::from("account,time_ms,time_utc,account_value_usd\n");
    for a in accounts {
        for (t, v) in &a.equity {
            let utc = chrono::DateTime::from_timestamp_millis(*t as i64).map(|d| d.to_rfc3339()).unwrap_or_default();
            text.push_str(&format!("{},{t},{utc},{v}\n", a.name));
        }
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

/// The changes up to `t` folded into the state at `t` (stamped `t`), then the later changes.
fn fold_before<T: Ord + Clone>(changes: Vec<Change<T>>, t: TimeMs) -> Vec<Change<T>> {
    let mut state: BTreeMap<(Address, T), i64> = BTreeMap::new();
    let mut later = Vec::new();
    for c in changes {
        if c.time_ms <= t {
            *state.entry((c.wallet, c.value)).or_default() += c.diff;
        } else {
            later.push(c);
        }
    }
    let mut out: Vec<Change<T>> = state
        .into_iter()
        .filter(|(_, d)| *d != 0)
        .map(|((wallet, value), diff)| Change { time_ms: t, wallet, value, diff })
        .collect();
    out.extend(later);
    out
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
    let started = Instant::now();
    let report = report_recorded(config, state, out, None)?;
    println!("recorded log: {} inputs", report["events"]);
    for (name, s) in report["strategies"].as_object().into_iter().flatten() {
        println!("{name}: {} signals, {} order intents", s["signals"], s["intents"]);
    }
    println!("out: {}", out.display());
    println!("took {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The run directory of a daemon's recorded state (see [`run_recorded`]):
/// the decisions replayed through its stream engine, the intelligence through
/// the replay (both at once), the outcomes its executor recorded, the equity
/// its account reported. With `since`, the intelligence files start with the
/// state at that time (the start-up history's changes folded into it) rather
/// than every change of the history. Returns `report.json`.
pub fn report_recorded(config: &Config, state: &Path, out: &Path, since: Option<TimeMs>) -> anyhow::Result<Value> {
    use crate::daemon::state as daemon_state;
    let store = crate::store::Store::open(state)?;
    let identity = crate::run_identity::check_config(&store, config)?;
    let progress = daemon_state::progress(&store.read()?)?.context("the state file holds no processed step")?;
    let paper = daemon_state::paper(&store.read()?)?;
    let logged = daemon_state::inputs(&store)?;
    let mut params = params(config, config.strategies.enabled.clone());
    if identity.mode == crate::run_identity::Mode::Live {
        params.account_cap = Some(config.paper_trading.live_account_cap_usd);
    }
    let inputs: Vec<Input> = logged.iter().map(|s| s.event.input()).collect();
    let (decided, outputs) = std::thread::scope(|scope| {
        let intelligence = scope.spawn(|| dataflows::replay::replay(&inputs, 1, &params));
        let mut engine = dataflows::stream::Engine::start(params.clone());
        let fed = logged.iter().map(|s| (s.time_ms, s.event.input())).collect();
        let decided = engine.step(progress.processed_to, fed);
        engine.stop();
        (decided, intelligence.join())
    });
    let decided = decided?;
    let mut outputs = outputs.map_err(|_| anyhow::anyhow!("the replay panicked"))?.map_err(anyhow::Error::msg)?;
    outputs.signals = decided.signals;
    outputs.intents = decided.intents;
    if let Some(t) = since {
        outputs.standings = fold_before(std::mem::take(&mut outputs.standings), t);
        outputs.tiers = fold_before(std::mem::take(&mut outputs.tiers), t);
        outputs.clusters = fold_before(std::mem::take(&mut outputs.clusters), t);
        outputs.pairs = fold_before(std::mem::take(&mut outputs.pairs), t);
        outputs.allocations = fold_before(std::mem::take(&mut outputs.allocations), t);
    }
    // Our account as it reported itself through the log.
    let mut seen = Recording::new(());
    for i in &inputs {
        seen.witness(i);
    }
    let capital = config.backtest.start_capital_usd;
    let last = seen.equity.last().map(|e| e.1).unwrap_or(capital);
    let (value, funding) = paper.as_ref().map_or((last, Usd::ZERO), |p| (p.account_value(), p.funding_paid()));
    let account = Account::of("all", capital, &seen, value, funding);
    let executions = crate::daemon::executions(paper.as_ref(), &store);
    let simulated = Simulated { outputs, executions, accounts: vec![account] };
    let run = RunRecord {
        simulated,
        enabled: config.strategies.enabled.clone(),
        events: inputs.len(),
        separate_accounts: false,
    };
    let benchmarks = Benchmarks::of(config, &inputs, &run.simulated)?;
    let (report, _) = write_run_dir(config, out, &run, &inputs, &benchmarks)?;
    Ok(report)
}
