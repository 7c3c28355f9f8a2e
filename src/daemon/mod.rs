//! `mirrorflow run`: the streaming daemon (DESIGN §2, §5, §6).
//!
//! tokio runs the connectors (the wallet tracker's socket and polls, the
//! clock); the brain runs on its own timely thread behind bounded channels
//! ([`dataflows::stream::Engine`]). The loop gathers what the sources
//! delivered and, whenever the clock has moved, takes a step: the gathered
//! inputs, the clocks that came due and what the executor has to report are
//! stamped, fed, and committed to redb with the executor's state in one
//! transaction ([`stepper`]). Every input goes through the log, so a restart
//! replays it and continues exactly where the last committed step left off.

pub mod bootstrap;
pub mod clock;
pub mod live_orders;
pub mod refresh;
pub mod rundir;
pub mod state;
pub mod stepper;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use connectors::hyperliquid::tracker::{self, PriceSource, TrackerEvent, TrackerSettings};
use connectors::hyperliquid::ws_client::FeedSettings;
use dataflows::model::{Halt, IntentId, OrderIntent, Origin, Strategy, TimeMs, Token, Usd};
use dataflows::replay::Venue;
use dataflows::stream::Engine;

use crate::clients;
use crate::commands::backfill;
use crate::config::Loaded;
use crate::executor::journal::{Journal, State};
use crate::executor::paper::{Execution, Outcome, PaperVenue};
use crate::ingest::{Event, Ingestor, live};
use crate::run_identity::{self, Mode, RunIdentity};
use crate::store::Store;
use clock::DaemonClock;
use live_orders::LiveOrders;
use rundir::{RunDir, Status};
use stepper::{Decisions, Gathered, Stepper};

/// How `mirrorflow run` was asked to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub mode: Mode,
    pub state_dir: PathBuf,
    /// Stop (as on SIGTERM) once everything up to this time is processed: the demo's end.
    pub until: Option<TimeMs>,
}

/// The state file inside a state directory.
pub fn state_file(state_dir: &std::path::Path) -> PathBuf {
    state_dir.join("state.redb")
}

/// The kill switch: while this file exists in the state directory, no entry is made.
pub const KILL_FILE: &str = "KILL";

/// How long steps wait at start-up for the tracker to seed every wallet.
const SEED_GRACE: Duration = Duration::from_secs(20);

/// How long the price feed may lag the clock before a step goes on without it.
const FEED_GRACE: Duration = Duration::from_secs(2);

/// How long steps wait for the daily refresh before going on without it.
const REFRESH_GRACE: Duration = Duration::from_secs(60);

/// How long (daemon clock) a failed daily refresh waits before it is tried again.
const REFRESH_RETRY_MS: TimeMs = 15 * 60 * 1000;

/// How often the loop looks at the clock and the sources.
const TICK: Duration = Duration::from_millis(50);

fn hash_config(loaded: &Loaded) -> String {
    let canonical = toml::to_string(&loaded.config).unwrap_or_default();
    hex::encode(dataflows::model::ids::keccak256(canonical.as_bytes()))
}

/// Runs until SIGINT or SIGTERM; then checkpoints and returns.
pub async fn run(loaded: &Loaded, opts: &RunOptions) -> anyhow::Result<()> {
    let config = &loaded.config;
    std::fs::create_dir_all(&opts.state_dir)
        .with_context(|| format!("cannot create the state directory {}", opts.state_dir.display()))?;
    let run_dir = RunDir::open(&opts.state_dir.join("run"))?;
    let config_hash = hash_config(loaded);
    let clock = DaemonClock::of(loaded)?;
    let budget = clients::budget(loaded);
    let info = Arc::new(clients::info(loaded, budget)?);
    let now = clock.now().await?;
    // Nonces and the exchange client read the clock the loop last saw.
    let clock_cell = Arc::new(AtomicU64::new(now));
    let mut live = match opts.mode {
        Mode::Paper => None,
        Mode::Live => {
            let cell = clock_cell.clone();
            let client =
                clients::exchange(loaded, info.clone(), Arc::new(move || cell.load(Ordering::Relaxed))).await?;
            let fallback = Origin {
                strategy: config.strategies.enabled.first().copied().unwrap_or(Strategy::Consensus),
                wallet: None,
            };
            let e = &config.execution;
            let mut orders = LiveOrders::new(
                client,
                info.clone(),
                fallback,
                e.limit_order_timeout_secs * 1000,
                e.fill_poll_interval_secs * 1000,
                config.schedule.account_refresh_secs * 1000,
            );
            orders.schedule_cancel_ms = config.hyperliquid.schedule_cancel_secs * 1000;
            println!(
                "LIVE on account {}: sizing from at most {} USD of it (paper_trading.live_account_cap_usd), \
                 leverage ≤ {}×, single position ≤ {} of the account",
                orders.account,
                config.paper_trading.live_account_cap_usd,
                config.risk.max_leverage,
                config.risk.max_single_position_fraction,
            );
            Some(orders)
        }
    };
    let store = Store::open(&state_file(&opts.state_dir))?;
    let account = live.as_ref().map(|l| l.account.clone());
    run_identity::bind(&store, &RunIdentity::of(config, account.as_deref(), opts.mode)?)?;

    // Recovery: replay what the store holds.
    let read = store.read()?;
    let progress = state::progress(&read)?.unwrap_or_default();
    let tracked = state::tracked(&read)?;
    let paper = state::paper(&read)?;
    drop(read);
    let mut params = backfill::params(config, config.strategies.enabled.clone());
    params.account_cap = (opts.mode == Mode::Live).then_some(config.paper_trading.live_account_cap_usd);
    let monitor = &config.schedule.monitor_interval;
    let monitor_ms =
        [monitor.consensus_secs, monitor.entry_secs, monitor.index_secs].into_iter().min().unwrap_or(60) * 1000;
    let mut stepper = Stepper {
        engine: Engine::start(params),
        ingestor: Ingestor::new(None),
        paper: None,
        progress,
        wakeup: None,
        monitor_ms,
        stale: Default::default(),
        save_tracked: None,
    };
    let mut status = Status {
        pid: std::process::id(),
        mode: if live.is_some() { "live" } else { "paper" }.into(),
        processed_to: stepper.progress.processed_to,
        steps: stepper.progress.steps,
        phase: "recovering".into(),
        ..Status::default()
    };
    run_dir.write_status(&status)?;
    let started = Instant::now();
    let recovered = tokio::task::block_in_place(|| stepper.recover(&store))?;
    let mut decisions = Decisions { signals: recovered.signals, intents: recovered.intents };
    if stepper.progress.steps > 0 {
        tracing::info!(
            processed_to = stepper.progress.processed_to,
            steps = stepper.progress.steps,
            intents = decisions.intents.len(),
            took_ms = started.elapsed().as_millis() as u64,
            "recovered: the log replayed"
        );
    }
    run_dir.rewrite_signals(&decisions.signals)?;

    if let Some(l) = &mut live {
        // Ask the venue what became of everything in flight at the crash, then
        // send what the last committed step decided and never reached the journal.
        l.resolve(&store, now).await?;
        let floor = stepper.progress.previous.map_or(0, |p| p + 1);
        let last_step: Vec<OrderIntent> = decisions.intents.iter().filter(|i| i.time_ms >= floor).cloned().collect();
        if stepper.progress.steps > 0 {
            // Our account is polled on its cadence from where the log stops, and
            // after the last step's orders unless that poll is already pending.
            l.last_refresh = stepper.progress.processed_to;
            l.refresh_now = !last_step.is_empty() && state::pending(&store)?.is_empty();
        }
        l.execute(&store, &last_step, now).await?;
        if stepper.progress.steps > 0 && l.refresh_now && now <= stepper.progress.processed_to {
            // What an uninterrupted run did right after those orders: our
            // account polled, for the next step to read — only while the
            // clock is still at that step (later, the poll would be a
            // different input from the one the run would have had).
            let polled = l.duties(&store, now).await?;
            state::add_pending(&store, &polled)?;
        }
    } else {
        let mut paper = paper.unwrap_or_else(|| {
            PaperVenue::new(
                config.simulation.clone(),
                config.execution.limit_order_timeout_secs,
                config.backtest.start_capital_usd,
                now,
            )
        });
        // Idempotent: what the committed steps decided is known to it already.
        paper.submit(stepper.progress.processed_to, &decisions.intents);
        stepper.paper = Some(paper);
    }
    write_orders(&run_dir, &stepper, &store, &decisions)?;

    let mut gathered = Gathered::default();
    let mut tracked = match tracked {
        Some(t) => t,
        None => {
            let (t, events) = bootstrap::discover(loaded, &info, &opts.state_dir, now).await?;
            let mut txn = store.write()?;
            state::put_tracked(&mut txn, &t)?;
            txn.commit()?;
            // The history as it is: every mark, not the latest per token.
            gathered.events.extend(events);
            t
        }
    };
    tracing::info!(wallets = tracked.wallets.len(), state = %opts.state_dir.display(), "tracking");
    for e in state::pending(&store)? {
        gathered.push(e);
    }

    let coins: Vec<String> =
        info.meta().await.context("the venue's meta")?.universe.into_iter().map(|a| a.name).collect();
    let s = &config.schedule;
    let mut settings = TrackerSettings {
        feed: FeedSettings {
            url: config.hyperliquid.ws_url.clone(),
            coins,
            all_mids: true,
            ping_every: Duration::from_secs(config.hyperliquid.ws_ping_secs),
            ..FeedSettings::default()
        },
        wallets: tracked.wallets.clone(),
        reconcile_every: Duration::from_secs(s.poll_positions_secs.max(1)),
        stale_after: Duration::from_secs(s.price_stale_secs.max(1)),
        rest_mids_every: Duration::from_secs(s.mark_fallback_poll_secs.max(1)),
        queue: 10_000,
        // Each wallet's fills from where the log stops come with its seeding.
        fills_from: Some(if stepper.progress.steps > 0 { stepper.progress.processed_to } else { now }),
        ..TrackerSettings::default()
    };
    let (mut events, _tracker_stats, _feed_stats, mut tracker_task) = tracker::spawn(settings.clone(), info.clone());
    // The daily refresh needs Nansen; without it the tracked set stays as it is.
    let nansen = match clients::nansen(loaded) {
        Ok(n) => Some(Arc::new(n)),
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "no Nansen client: the daily refresh is off");
            None
        }
    };
    let scope =
        refresh::Scope { top: config.discovery.top_n_per_window as usize, lookback_days: config.scoring.lookback_days };
    // The refresh under way, and when it started.
    let mut refreshing: Option<(tokio::task::JoinHandle<anyhow::Result<refresh::Refreshed>>, Instant)> = None;
    let mut refresh_retry: TimeMs = 0;

    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let checkpoint_every = Duration::from_secs(config.state.checkpoint_interval_secs.max(1));
    let retain_ms = s.retention_days * 86_400_000;
    let stale_ms = s.price_stale_secs * 1000;
    let positions_ms = (s.poll_positions_secs * 1000).max(1);
    let mut last_checkpoint = Instant::now();
    // The socket's latest price time, and since when the clock has been at or before it.
    let mut feed_time: TimeMs = 0;
    let mut seeded: std::collections::BTreeSet<String> = Default::default();
    let mut seed_started = Instant::now();
    // When the socket last priced anything (it re-sends every half second).
    let mut feed_heard = Instant::now();
    let mut inputs_logged: u64 = 0;
    status.phase = "running".into();
    run_dir.write_status(&status)?;
    let mut last_equity: Option<Usd> = None;
    let kill_file = opts.state_dir.join(KILL_FILE);
    let mut last_price: BTreeMap<Token, TimeMs> = BTreeMap::new();
    let mut last_value: BTreeMap<String, String> = BTreeMap::new();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = sigterm.recv() => break,
            ev = events.recv() => {
                let Some(ev) = ev else { anyhow::bail!("the wallet tracker stopped") };
                match &ev {
                    TrackerEvent::Mids { time, mids, source } => {
                        if *source == PriceSource::Socket {
                            feed_time = feed_time.max(*time);
                            feed_heard = Instant::now();
                        }
                        // A REST answer counts as a fresh price only where it moved: a
                        // frozen feed answers REST with the same stale numbers.
                        for (coin, px) in mids {
                            let moved = last_value.insert(coin.clone(), px.clone()).is_none_or(|old| old != *px);
                            if (*source == PriceSource::Socket || moved)
                                && let Ok(t) = Token::parse(coin)
                            {
                                last_price.insert(t, *time);
                            }
                        }
                    }
                    // The tracker seeds a wallet with its first snapshot, after its
                    // fills from where the log stops (`fills_from`). Steps wait for
                    // every wallet to be seeded.
                    TrackerEvent::Snapshot { user, .. } => {
                        seeded.insert(user.clone());
                        continue;
                    }
                    // Staleness is judged on the daemon's clock (below), not the
                    // tracker's; positions come from the polls on the clock's
                    // cadence (below) — the tracker's own, on the machine's
                    // clock, only keep its position model right.
                    TrackerEvent::Stale { .. } | TrackerEvent::Fresh { .. } => continue,
                    _ => {}
                }
                for e in live::events(&ev, stepper.progress.processed_to) {
                    match e {
                        Ok(e) => gathered.push(e),
                        Err(err) => stepper.ingestor.refuse(&err),
                    }
                }
                continue;
            }
            _ = tick.tick() => {}
        }
        let now = match clock.now().await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "clock unavailable; waiting");
                continue;
            }
        };
        clock_cell.fetch_max(now, Ordering::Relaxed);
        // The daily refresh: started when the clock passes a midnight; what it
        // found joins the next step, and the tracker restarts over the grown
        // set, each wallet re-seeded from the last step like at start-up.
        if let Some((h, _)) = refreshing.take_if(|(h, _)| h.is_finished()) {
            match h.await.map_err(anyhow::Error::from).and_then(|r| r) {
                Ok(r) => {
                    tracing::info!(
                        added = r.added.len(),
                        wallets = r.tracked.wallets.len(),
                        inputs = r.events.len(),
                        midnight = r.tracked.discovered_at,
                        "daily refresh"
                    );
                    gathered.events.extend(r.events);
                    if !r.added.is_empty() {
                        tracker_task.abort();
                        settings.wallets = r.tracked.wallets.clone();
                        settings.fills_from = Some(stepper.progress.processed_to);
                        let (ev, _, _, task) = tracker::spawn(settings.clone(), info.clone());
                        (events, tracker_task) = (ev, task);
                        seeded.clear();
                        seed_started = Instant::now();
                    }
                    tracked = r.tracked.clone();
                    stepper.save_tracked = Some(r.tracked);
                }
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "daily refresh failed; retrying in 15 minutes");
                    refresh_retry = now + REFRESH_RETRY_MS;
                }
            }
        }
        if refreshing.is_none()
            && now >= refresh_retry
            && let (Some(nansen), Some(midnight)) = (&nansen, refresh::due(&tracked, now))
        {
            let (nansen, info, current) = (nansen.clone(), info.clone(), tracked.clone());
            let task =
                tokio::spawn(async move { refresh::daily(&nansen, &info, &current, scope, midnight, now).await });
            refreshing = Some((task, Instant::now()));
        }
        // Steps past a midnight wait for its refresh (the same inputs at the
        // same step, however long it took), for REFRESH_GRACE at most.
        // While a step waits for something else, the feed's silence is not
        // judged: it gets its grace once the step could go (a tracker that
        // just restarted needs a moment to deliver the clock's prices).
        if refreshing.as_ref().is_some_and(|(_, started)| started.elapsed() < REFRESH_GRACE) {
            feed_heard = Instant::now();
            continue;
        }
        if seeded.len() < settings.wallets.len() && seed_started.elapsed() < SEED_GRACE {
            feed_heard = Instant::now();
            continue;
        }
        // A step waits for the socket to have delivered the market up to the
        // clock (its frames are ordered: a price frame at T follows the
        // trades up to T); a feed that lags the clock for FEED_GRACE of real
        // time is silent — down or frozen — and the step goes on without it (the
        // freshness check below tells the brain). The first step (the
        // start-up history with it) is at the clock.
        let target = if stepper.last().is_none() || feed_time >= now || feed_heard.elapsed() >= FEED_GRACE {
            now
        } else {
            feed_time
        };
        if stepper.last().is_some_and(|l| target <= l) {
            continue;
        }
        if let Some(last) = stepper.last()
            && target / positions_ms > last / positions_ms
        {
            for e in bootstrap::states(&info, &tracked.wallets, target).await {
                gathered.push(e);
            }
        }
        for e in stepper::freshness(&last_price, &stepper.stale, target, stale_ms) {
            gathered.push(e);
        }
        // The kill switch: a file in the state directory. On: no new entry
        // (an input of the brain) and every resting entry cancelled.
        let kill = kill_file.exists();
        if kill != stepper.progress.kill_switch {
            tracing::warn!(file = %kill_file.display(), on = kill, "kill switch");
            gathered.push(Event::Halt { time_ms: target, halt: Halt::KillSwitch, active: kill });
            if kill && let Some(l) = &live {
                let n = l.kill(&store, now).await?;
                tracing::warn!(cancelled = n, "kill switch: resting entries cancelled");
            }
        }
        let stepped = tokio::task::block_in_place(|| stepper.step(&store, target, gathered.take()))?;
        inputs_logged += stepped.logged as u64;
        if let Some(l) = &mut live {
            l.execute(&store, &stepped.output.intents, now).await?;
            let polled = l.duties(&store, now).await?;
            state::add_pending(&store, &polled)?;
            for e in polled {
                gathered.push(e);
            }
        }
        run_dir.append_signals(&stepped.output.signals)?;
        decisions.signals.extend(stepped.output.signals);
        decisions.intents.extend(stepped.output.intents);
        if let Some(p) = &stepper.paper {
            let value = p.account_value();
            if last_equity != Some(value) {
                run_dir.append_equity(target, &value.to_string())?;
                last_equity = Some(value);
            }
        }
        status.processed_to = stepper.progress.processed_to;
        status.steps = stepper.progress.steps;
        status.signals = decisions.signals.len() as u64;
        status.intents = decisions.intents.len() as u64;
        status.inputs_logged = inputs_logged;
        run_dir.write_status(&status)?;
        if last_checkpoint.elapsed() >= checkpoint_every {
            checkpoint(&store, &stepper, retain_ms, &config_hash, &run_dir, &decisions)?;
            last_checkpoint = Instant::now();
        }
        if opts.until.is_some_and(|u| stepper.progress.processed_to >= u) {
            break;
        }
    }
    tracing::info!("stopping: intake closed");
    status.phase = "stopping".into();
    run_dir.write_status(&status)?;
    tracker_task.abort();
    if let Some((task, _)) = refreshing.take() {
        task.abort();
    }
    drop(events);
    if let Some(l) = &live {
        l.disarm().await;
    }
    checkpoint(&store, &stepper, retain_ms, &config_hash, &run_dir, &decisions)?;
    stepper.engine.stop();
    status.phase = "stopped".into();
    run_dir.write_status(&status)?;
    tracing::info!(processed_to = status.processed_to, "stopped");
    Ok(())
}

/// Every intent's outcome so far: the paper venue's, or the journal's.
pub fn executions(paper: Option<&PaperVenue>, store: &Store) -> BTreeMap<IntentId, Execution> {
    if let Some(p) = paper {
        return p.executions();
    }
    // Live: the journal's states, in the paper executor's words.
    let records = Journal::new(store).all().unwrap_or_default();
    records
        .into_iter()
        .map(|r| {
            let outcome = match r.state {
                State::Filled => Outcome::Filled,
                State::PartiallyFilled => Outcome::PartiallyFilled,
                State::Rejected => Outcome::Rejected,
                State::Cancelled => Outcome::Cancelled,
                State::Recorded | State::Sent | State::Unknown | State::Resting => Outcome::Open,
            };
            let e = Execution {
                outcome,
                time_ms: r.history.last().map(|(t, _)| *t),
                price: None,
                size: r.filled,
                fee: Usd::ZERO,
                closed_pnl: Usd::ZERO,
            };
            (r.intent.id, e)
        })
        .collect()
}

fn write_orders(run_dir: &RunDir, stepper: &Stepper, store: &Store, decisions: &Decisions) -> anyhow::Result<()> {
    run_dir.write_orders(&decisions.intents, &executions(stepper.paper.as_ref(), store))
}

fn checkpoint(
    store: &Store,
    stepper: &Stepper,
    retain_ms: u64,
    config_hash: &str,
    run_dir: &RunDir,
    decisions: &Decisions,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let cp = state::write_checkpoint(store, stepper.progress.processed_to, retain_ms, config_hash)?;
    write_orders(run_dir, stepper, store, decisions)?;
    tracing::info!(
        as_of = cp.as_of,
        log_inputs = cp.log_inputs,
        folded_inputs = cp.folded_inputs,
        took_ms = started.elapsed().as_millis() as u64,
        "checkpoint"
    );
    Ok(())
}
