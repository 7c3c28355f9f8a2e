//! `mirrorflow run` against the simulated venue on loopback, in accelerated
//! virtual time, through the real connectors (HTTP, WebSocket, signed orders).
//!
//! - Live, free-running: killed with SIGKILL at six seeded moments and
//!   restarted, then stopped with SIGTERM: no cloid twice in the venue's
//!   audit, every intent final (a stop rests while its position is open), one
//!   resting stop per open position covering all of it, exit 0 with the run
//!   directory written.
//! - Live, stepped (the test advances the venue an hour at a time and waits
//!   for the daemon's frontier): a week with ten SIGKILLs, before and after
//!   catching up, and one graceful restart, ends with the intents, positions,
//!   daily refreshes (leaderboard inputs, tracked set) of the uninterrupted
//!   run, one whole-position stop per open position.
//! - Paper: the recorded log replayed by `backfill` gives the daemon's
//!   `signals.jsonl` and `orders.jsonl` byte for byte, across a crash and a
//!   graceful stop.
//! - Faults (429s, 5xx, dropped sockets, lost order answers, frozen prices):
//!   the daemon stays up, enters nothing on stale prices, recovers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use connectors::hyperliquid::keys::address_of;
use connectors::nansen::client::{ApiKey, NansenClient, NansenSettings};
use connectors::nansen::types::{DateRange, LeaderboardRequest};
use connectors::sim::{ClockMode, RunningVenue, SimConfig, TEST_NANSEN_KEY, VenueOptions};
use mirrorflow::daemon::refresh::DAY_MS;
use mirrorflow::daemon::rundir::{Status, read_status};
use mirrorflow::daemon::state::Tracked;
use mirrorflow::executor::journal::{Journal, State};
use mirrorflow::ingest::Event;
use mirrorflow::store::Store;
use serde_json::{Value, json};

const KEY: [u8; 32] = [0x5a; 32];

async fn venue(speed: f64) -> RunningVenue {
    connectors::install_tls_provider();
    let sim = SimConfig {
        seed: 11,
        wallets: 60,
        tokens: 5,
        external_accounts: vec![(address_of(&KEY).unwrap(), 100_000)],
        ..SimConfig::default()
    };
    let options = VenueOptions::unthrottled(sim, ClockMode::Speed(speed));
    connectors::sim::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

fn private(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// Input history kept in the log. Beyond the venue's 90 days of history, so
/// no run here folds any: a replay from a folded checkpoint lacks the folded
/// inputs' effect on path-dependent state (the allocation turnover path, the
/// desk's breakers), and exact equality with an uninterrupted run is only
/// asked of recovery itself (folding has its own test, in `daemon::state`).
const RETENTION_DAYS: u64 = 120;

/// A configuration for the venue: its URLs and clock, the test keys, quick budgets.
fn config(dir: &Path, v: &RunningVenue) -> PathBuf {
    private(&dir.join("hl.key"), &format!("0x{}\n", hex::encode(KEY)));
    private(&dir.join("nansen.key"), &format!("{TEST_NANSEN_KEY}\n"));
    let account = hex::encode(address_of(&KEY).unwrap());
    let text = format!(
        "[hyperliquid]\napi_url = \"{http}\"\nws_url = \"{ws}\"\ninfo_weight_per_minute = 1000000\n\n\
         [hyperliquid.retry]\nbase_delay_ms = 50\nmax_delay_ms = 400\ntimeout_ms = 3000\n\n\
         [nansen]\napi_url = \"{http}\"\nrequests_per_second = 1000\nrequests_per_minute = 60000\n\
         perp_trades_per_minute = 60000\n\n\
         [nansen.retry]\nbase_delay_ms = 50\nmax_delay_ms = 400\n\n\
         [clock]\nsource = \"venue\"\n\n[discovery]\ntop_n_per_window = 8\n\n\
         [state]\ncheckpoint_interval_secs = 3\n\n\
         [schedule]\nprice_stale_secs = 300\nretention_days = {retention}\n\n\
         [keys]\nprivate_key_file = \"{key}\"\nnansen_api_key_file = \"{nansen}\"\naccount_address = \"0x{account}\"\n",
        http = v.http_url(),
        ws = v.ws_url(),
        key = dir.join("hl.key").display(),
        nansen = dir.join("nansen.key").display(),
        retention = RETENTION_DAYS,
    );
    let path = dir.join("mirrorflow.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn start(config: &Path, state: &Path, log: &Path, mode: &str) -> Child {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    Command::new(env!("CARGO_BIN_EXE_mirrorflow"))
        .args(["run", mode, "--config"])
        .arg(config)
        .arg("--state-dir")
        .arg(state)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// Waits until the daemon reports having processed past `time` (its frontier).
fn wait_for(state: &Path, child: &mut Child, log: &Path, until: impl Fn(&Status) -> bool) -> Status {
    // The venue shares this runtime: wait off its worker threads.
    tokio::task::block_in_place(|| wait(state, child, log, until))
}

fn wait(state: &Path, child: &mut Child, log: &Path, until: impl Fn(&Status) -> bool) -> Status {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        if let Some(s) = read_status(&state.join("run"))
            && s.pid == child.id()
            && until(&s)
        {
            return s;
        }
        if let Ok(Some(code)) = child.try_wait() {
            panic!("the daemon exited ({code}):\n{}", std::fs::read_to_string(log).unwrap_or_default());
        }
        assert!(
            Instant::now() < deadline,
            "the daemon made no progress ({:?}):\n{}",
            read_status(&state.join("run")),
            tail(log)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The log's last lines.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(25)..].join("\n")
}

/// SIGTERM, then the exit, which must be 0.
fn stop_gracefully(child: &mut Child, log: &Path) {
    let ok = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(ok.success());
    let code = tokio::task::block_in_place(|| child.wait().unwrap());
    assert!(code.success(), "graceful stop exited {code}:\n{}", tail(log));
}

/// Each open position has exactly one resting reduce-only stop on the venue,
/// and it covers all of the position; the coins held are returned.
async fn one_stop_per_position(v: &RunningVenue) -> BTreeSet<String> {
    let account = format!("0x{}", hex::encode(address_of(&KEY).unwrap()));
    let open = info(v, json!({"type": "frontendOpenOrders", "user": account})).await;
    let mut stops: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for o in open.as_array().unwrap() {
        if o["isTrigger"] == true && o["reduceOnly"] == true {
            let size: f64 = o["sz"].as_str().unwrap().parse().unwrap();
            stops.entry(o["coin"].as_str().unwrap().to_string()).or_default().push(size);
        }
    }
    let ch = info(v, json!({"type": "clearinghouseState", "user": account})).await;
    let mut held = BTreeSet::new();
    for p in ch["assetPositions"].as_array().unwrap() {
        let coin = p["position"]["coin"].as_str().unwrap().to_string();
        let size: f64 = p["position"]["szi"].as_str().unwrap().parse::<f64>().unwrap().abs();
        let resting = stops.get(&coin).cloned().unwrap_or_default();
        assert_eq!(resting.len(), 1, "{coin}: stops on the venue {stops:?}");
        // Reduce-only: a stop sized for a position since reduced closes what is left.
        assert!(resting[0] >= size, "{coin}: the stop covers {} of {size}", resting[0]);
        held.insert(coin);
    }
    held
}

/// The cloids of every order the venue received, each asserted to be new.
async fn order_cloids(v: &RunningVenue) -> BTreeSet<String> {
    let audit: Value = reqwest::get(format!("{}/sim/audit", v.http_url())).await.unwrap().json().await.unwrap();
    let mut seen = BTreeSet::new();
    for e in audit.as_array().unwrap().iter().filter(|e| e["action_type"] == "order") {
        for c in e["cloids"].as_array().unwrap() {
            assert!(seen.insert(c.as_str().unwrap().to_string()), "cloid {c} sent twice");
        }
    }
    seen
}

async fn info(v: &RunningVenue, body: Value) -> Value {
    let r = reqwest::Client::new().post(format!("{}/info", v.http_url())).json(&body).send().await.unwrap();
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn live_daemon_killed_six_times_sends_every_order_once_and_leaves_no_position_naked() {
    // 600 virtual seconds per real second: a 4-hour rebalance every 24 s.
    let v = venue(600.0).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &v);
    let state = dir.path().join("state");
    let log = dir.path().join("daemon.log");
    let t0 = v.venue.now_ms();

    let mut child = start(&config, &state, &log, "--live");
    wait_for(&state, &mut child, &log, |s| s.phase == "running" && s.steps > 1);
    // Seeded kill moments, 2–7 s apart.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for kill in 0..6 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        tokio::time::sleep(Duration::from_millis(2_000 + x % 5_000)).await;
        child.kill().unwrap();
        child.wait().unwrap();
        child = start(&config, &state, &log, "--live");
        let s = wait_for(&state, &mut child, &log, |s| s.phase == "running");
        eprintln!("kill {kill}: restarted at {} with {} intents", s.processed_to, s.intents);
    }
    // Run on until a day has passed since t0, then stop gracefully.
    let last = wait_for(&state, &mut child, &log, |s| s.processed_to > t0 + 86_400_000);
    stop_gracefully(&mut child, &log);
    let stopped = read_status(&state.join("run")).unwrap();
    assert_eq!(stopped.phase, "stopped");
    assert!(stopped.processed_to >= last.processed_to);

    // No cloid twice among the orders the venue received.
    let seen = order_cloids(&v).await;
    let orders = seen.len();
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(orders >= 2, "too few orders to test anything ({orders}):\n{log_text}");

    // Every intent final; stops rest only while their position is open.
    let held = one_stop_per_position(&v).await;
    let store = Store::open(&mirrorflow::daemon::state_file(&state)).unwrap();
    let records = Journal::new(&store).all().unwrap();
    assert!(!records.is_empty());
    for r in &records {
        let resting_stop = r.state == State::Resting
            && r.intent.kind == dataflows::model::IntentKind::StopLoss
            && held.contains(r.intent.token.as_str());
        assert!(r.state.is_final() || resting_stop, "intent {} left {:?}: {:?}", r.intent.id, r.state, r.intent);
        assert!(
            seen.contains(&r.cloid.to_string()) || r.state == State::Rejected,
            "{} never reached the venue",
            r.cloid
        );
    }
    // The run directory of the graceful stop.
    let run = state.join("run");
    for f in ["signals.jsonl", "orders.jsonl", "status.json"] {
        assert!(run.join(f).exists(), "{f} missing");
    }
    eprintln!("{orders} orders, {} intents, {} positions held at the end", records.len(), held.len());
    v.stop().await;
}

fn read_jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paper_daemons_recorded_log_replays_to_the_same_bytes_after_a_crash_and_a_graceful_stop() {
    let v = venue(600.0).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &v);
    let state = dir.path().join("state");
    let log = dir.path().join("daemon.log");
    let t0 = v.venue.now_ms();

    let mut child = start(&config, &state, &log, "--paper");
    wait_for(&state, &mut child, &log, |s| s.processed_to > t0 + 6 * 3_600_000);
    child.kill().unwrap();
    child.wait().unwrap();
    let mut child = start(&config, &state, &log, "--paper");
    wait_for(&state, &mut child, &log, |s| s.phase == "running" && s.processed_to > t0 + 16 * 3_600_000);
    stop_gracefully(&mut child, &log);

    let out = dir.path().join("replayed");
    let o = Command::new(env!("CARGO_BIN_EXE_mirrorflow"))
        .args(["backfill", "--input"])
        .arg(&state)
        .arg("--out")
        .arg(&out)
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run = state.join("run");
    let orders = read_jsonl(&run.join("orders.jsonl"));
    assert!(!orders.is_empty(), "the paper daemon ordered nothing:\n{}", std::fs::read_to_string(&log).unwrap());
    for name in ["signals.jsonl", "orders.jsonl"] {
        let (a, b) =
            (std::fs::read_to_string(run.join(name)).unwrap(), std::fs::read_to_string(out.join(name)).unwrap());
        let first = a.lines().zip(b.lines()).position(|(x, y)| x != y);
        assert!(
            a == b,
            "{name}: the daemon's ({} lines) and the replay's ({} lines) differ, first at line {first:?}:\n{:?}\n{:?}",
            a.lines().count(),
            b.lines().count(),
            first.and_then(|i| a.lines().nth(i)),
            first.and_then(|i| b.lines().nth(i)),
        );
    }
    // Graceful: every intent's outcome is settled or still legitimately open.
    assert!(orders.iter().all(|o| o["outcome"].is_string()), "an order without an outcome");
    v.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_rides_out_venue_faults_without_entering_on_stale_prices() {
    let v = venue(600.0).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &v);
    let state = dir.path().join("state");
    let log = dir.path().join("daemon.log");

    let mut child = start(&config, &state, &log, "--live");
    let before = wait_for(&state, &mut child, &log, |s| s.phase == "running" && s.steps > 5);
    // Everything at once: 429 bursts, 5xx, dropped sockets, lost order answers, frozen prices.
    let faults = connectors::sim::faults::Faults::parse(
        "rate_limit_burst=3,error_rate=0.2,ws_drop_every_ms=1500,lose_exchange_responses=2,freeze_prices",
    )
    .unwrap();
    v.venue.set_faults(faults);
    let frozen_at = v.venue.now_ms();
    tokio::time::sleep(Duration::from_secs(12)).await;
    let during = wait_for(&state, &mut child, &log, |s| s.processed_to > frozen_at);
    v.venue.set_faults(connectors::sim::faults::Faults::default());
    let thawed_at = v.venue.now_ms();
    let after = wait_for(&state, &mut child, &log, |s| s.processed_to > thawed_at + 3_600_000);
    assert!(before.processed_to < during.processed_to && during.processed_to < after.processed_to);
    stop_gracefully(&mut child, &log);

    // No entry decided while prices were stale (from the stale threshold after
    // the freeze until it lifted).
    let stale_from = frozen_at + 300_000;
    let entries: Vec<Value> = read_jsonl(&state.join("run/orders.jsonl"))
        .into_iter()
        .filter(|o| {
            let t = o["time_ms"].as_u64().unwrap();
            (o["kind"] == "open" || o["kind"] == "increase") && t > stale_from && t < thawed_at
        })
        .collect();
    assert!(entries.is_empty(), "entries on stale prices: {entries:?}");
    // The brain was told the prices went stale, and fresh again, on the venue's clock.
    let store = Store::open(&mirrorflow::daemon::state_file(&state)).unwrap();
    let statuses: Vec<(u64, bool)> = mirrorflow::daemon::state::inputs(&store)
        .unwrap()
        .into_iter()
        .filter_map(|s| match s.event {
            mirrorflow::ingest::Event::PriceStatus(p) => Some((s.time_ms, p.stale)),
            _ => None,
        })
        .collect();
    assert!(
        statuses.iter().any(|(t, stale)| *stale && *t > frozen_at && *t < thawed_at),
        "no stale price announced during the freeze ({frozen_at}..{thawed_at}): {statuses:?}"
    );
    assert!(statuses.iter().any(|(t, stale)| !*stale && *t >= thawed_at), "prices never fresh again: {statuses:?}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains("panicked"), "{text}");
    v.stop().await;
}

/// What a stepped run ended with: the venue, every intent with its state and
/// size, the restarts, the daily refreshes (the tracked set and every
/// leaderboard input's stamp and wallet), and the logged tracked fills' keys.
type SteppedRun = (RunningVenue, BTreeMap<String, String>, usize, Refreshes, BTreeSet<String>);
type Refreshes = (Tracked, Vec<(u64, String)>);

/// One run of the live daemon over `steps` hours of a stepped venue; at the
/// steps in `kills` it is killed with SIGKILL (before or after catching up,
/// alternately) and restarted, and once stopped gracefully half-way.
async fn stepped_run(dir: &Path, steps: u64, kills: &[u64]) -> SteppedRun {
    connectors::install_tls_provider();
    let sim = SimConfig {
        seed: 11,
        wallets: 60,
        tokens: 5,
        external_accounts: vec![(address_of(&KEY).unwrap(), 100_000)],
        ..SimConfig::default()
    };
    let options = VenueOptions::unthrottled(sim, ClockMode::Stepped);
    let v = connectors::sim::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let config = config(dir, &v);
    let state = dir.join("state");
    let log = dir.join("daemon.log");
    let mut child = start(&config, &state, &log, "--live");
    let t0 = v.venue.now_ms();
    wait_for(&state, &mut child, &log, |s| s.phase == "running" && s.processed_to >= t0);
    let mut restarts = 0;
    for step in 1..=steps {
        let t = t0 + step * 3_600_000;
        let venue = v.venue.clone();
        tokio::task::spawn_blocking(move || venue.advance_to(t)).await.unwrap();
        if let Some(i) = kills.iter().position(|k| *k == step) {
            if i % 2 == 1 {
                // After it caught up (between steps) …
                wait_for(&state, &mut child, &log, |s| s.processed_to >= t);
            }
            // … or in the middle of catching up.
            child.kill().unwrap();
            tokio::task::block_in_place(|| child.wait().unwrap());
            child = start(&config, &state, &log, "--live");
            restarts += 1;
        }
        if !kills.is_empty() && step == steps / 2 {
            // And one graceful stop and restart under way: it loses nothing either.
            stop_gracefully(&mut child, &log);
            child = start(&config, &state, &log, "--live");
        }
        wait_for(&state, &mut child, &log, |s| s.phase == "running" && s.processed_to >= t);
    }
    stop_gracefully(&mut child, &log);
    let store = Store::open(&mirrorflow::daemon::state_file(&state)).unwrap();
    let intents = Journal::new(&store)
        .all()
        .unwrap()
        .into_iter()
        .map(|r| {
            let i = &r.intent;
            (format!("{} {:?} {} {}", i.time_ms, i.kind, i.token, i.id), format!("{:?} size {}", r.state, i.size))
        })
        .collect();
    let tracked = mirrorflow::daemon::state::tracked(&store.read().unwrap()).unwrap().unwrap();
    let boards = mirrorflow::ingest::read_log(&store)
        .unwrap()
        .into_iter()
        .filter_map(|s| match s.event {
            Event::Leaderboard(r) => Some((s.time_ms, r.wallet.to_string())),
            _ => None,
        })
        .collect();
    let fills = mirrorflow::ingest::read_log(&store)
        .unwrap()
        .into_iter()
        .filter_map(|s| match s.event {
            Event::Fill(f) => Some(format!("{:?}", f.dedup_key())),
            _ => None,
        })
        .collect();
    (v, intents, restarts, (tracked, boards), fills)
}

/// The top `n` wallets by PnL on the venue's 30-day board as of `midnight`.
async fn top_of_board(v: &RunningVenue, midnight: u64, n: usize) -> Vec<String> {
    let day = |ms: u64| chrono::DateTime::from_timestamp_millis(ms as i64).unwrap().format("%Y-%m-%d").to_string();
    let settings = NansenSettings { base_url: v.http_url(), ..NansenSettings::default() };
    let nansen = NansenClient::new(settings, Some(ApiKey::new(TEST_NANSEN_KEY))).unwrap();
    let req = LeaderboardRequest {
        date: DateRange { from: Some(day(midnight - 30 * DAY_MS)), to: Some(day(midnight - 1)) },
        ..LeaderboardRequest::default()
    };
    let mut rows = nansen.leaderboard(req).await.unwrap();
    rows.sort_by(|a, b| b.total_pnl.cmp(&a.total_pnl).then(a.trader_address.cmp(&b.trader_address)));
    rows.iter().take(n).map(|r| r.trader_address.to_lowercase()).collect()
}

async fn positions(v: &RunningVenue) -> Vec<(String, String, String)> {
    let account = format!("0x{}", hex::encode(address_of(&KEY).unwrap()));
    let ch = info(v, json!({"type": "clearinghouseState", "user": account})).await;
    ch["assetPositions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let p = &p["position"];
            (p["coin"].to_string(), p["szi"].to_string(), p["entryPx"].to_string())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn stepped_week_with_ten_kills_ends_exactly_as_the_uninterrupted_run() {
    let hours: u64 = 7 * 24;
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (va, intents_a, _, refreshes_a, fills_a) = stepped_run(a.path(), hours, &[]).await;
    // Ten seeded kill steps.
    let mut kills = BTreeSet::new();
    let mut x: u64 = 0x1234_5678_9abc_def1;
    while kills.len() < 10 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        kills.insert(1 + x % hours);
    }
    let kills: Vec<u64> = kills.into_iter().collect();
    let (vb, intents_b, restarts, refreshes_b, fills_b) = stepped_run(b.path(), hours, &kills).await;
    assert_eq!(restarts, 10);
    // Not one tracked fill lost to a kill (nor one taken twice).
    let lost: Vec<_> = fills_a.difference(&fills_b).collect();
    let extra: Vec<_> = fills_b.difference(&fills_a).collect();
    assert!(lost.is_empty() && extra.is_empty(), "fills lost {lost:?}, fills extra {extra:?}");
    // The daily refresh: each midnight's leaderboards are inputs, stamped at
    // the end of the day they cover, and the last board's top 8 are tracked
    // — the same with the kills as without.
    assert_eq!(refreshes_a, refreshes_b, "the refreshes differ from the uninterrupted run");
    let (tracked, boards) = refreshes_b;
    let end = vb.venue.now_ms();
    let last_midnight = end - end % DAY_MS;
    assert_eq!(tracked.discovered_at, last_midnight);
    let stamps: BTreeSet<u64> = boards.iter().map(|(t, _)| *t).collect();
    for m in (1..=6).map(|d| last_midnight - d * DAY_MS).filter(|m| *m > end - hours * 3_600_000) {
        assert!(stamps.contains(&(m - 1)), "no leaderboard input for the day before {m}: {stamps:?}");
    }
    assert!(stamps.contains(&(last_midnight - 1)), "{stamps:?}");
    for w in top_of_board(&vb, last_midnight, 8).await {
        assert!(tracked.wallets.contains(&w), "{w}, top of the last board, is not tracked: {:?}", tracked.wallets);
    }
    assert!(intents_a.len() >= 2, "too few intents to compare: {intents_a:?}");
    for (id, state) in &intents_b {
        assert!(state != "Recorded" && state != "Sent" && state != "Unknown", "{id} left {state}");
    }
    // The same decisions (time, kind, token, id), of the same size, reaching
    // the same final state.
    let differ: Vec<_> = intents_a.iter().filter(|(k, v)| intents_b.get(*k) != Some(*v)).take(5).collect();
    assert_eq!(intents_a.len(), intents_b.len(), "the intents differ from the uninterrupted run");
    assert!(differ.is_empty(), "intents differ from the uninterrupted run (theirs first): {differ:?}");
    let final_positions = positions(&vb).await;
    assert_eq!(positions(&va).await, final_positions, "the final positions differ");
    let held = one_stop_per_position(&vb).await;
    assert_eq!(held.len(), final_positions.len());
    let seen = order_cloids(&vb).await;
    eprintln!("{} intents, {} orders, kills at hours {kills:?}", intents_b.len(), seen.len());
    va.stop().await;
    vb.stop().await;
}
