//! End to end on loopback: a tracked wallet's fill leaving the simulated
//! venue's `trades` WebSocket → the signed order for the entry it causes
//! arriving at the venue's `/exchange`. The live daemon (`mirrorflow run
//! --live`, a child process: the real connectors, the brain, the journal,
//! the signer) runs against the venue on 127.0.0.1 with
//! `config/bench-loopback.toml` (COPY_DELAY_MINUTES = 0, entry strategy only)
//! while the venue's clock runs `MF_BENCH_SPEED` times real time. The venue
//! stamps both ends on its own monotonic clock (`/sim/wire-times`); the
//! daemon's journal links each order's cloid to its intent and the intent to
//! the wallet it copies, whose latest trade on that coin before the intent is
//! the fill that caused it. Orders caused by fills sent before the daemon's
//! first step (its start-up history) are not counted.
//!
//! `MF_BENCH_PATH=confirm` times the pending-confirmation path instead, with
//! the default configuration (every strategy, COPY_DELAY_MINUTES = 15): an
//! entry copied 15 minutes of venue time after its fill is confirmed by the
//! clock reaching the end of that window — no wire event — so it is timed from
//! when the venue's clock reached it in real time (its free-running clock's
//! reference point, `/sim/wire-times`) until the order arrives.
//!
//! Run: `cargo bench --bench loopback` (`MF_BENCH_SPEED`, `MF_BENCH_SECONDS`,
//! `MF_BENCH_TOP`: discovery's wallets per leaderboard window, `MF_BENCH_PATH`).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use connectors::hyperliquid::keys::address_of;
use connectors::sim::{ClockMode, SimConfig, TEST_NANSEN_KEY, VenueOptions};
use dataflows::config::EntryConfig;
use dataflows::model::{IntentKind, Strategy};
use hdrhistogram::Histogram;
use mirrorflow::daemon::rundir::read_status;
use mirrorflow::executor::journal::Journal;
use mirrorflow::store::Store;
use serde_json::Value;

#[path = "../dataflows/benches/common/mod.rs"]
mod common;
use common::{env_or, figure, latency_figures, report};

const KEY: [u8; 32] = [0x5a; 32];

/// An entry stamped within this much venue time of the copied wallet's fill is that fill's.
const CAUSE_MS: u64 = 1_000;

fn private(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).expect("write a key file");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("key file permissions");
}

fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

async fn get(url: String) -> Value {
    reqwest::get(&url).await.expect("the venue answers").json().await.expect("JSON")
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    rt.block_on(run());
}

async fn run() {
    let speed: f64 = env_or("MF_BENCH_SPEED", 60.0);
    let seconds: u64 = env_or("MF_BENCH_SECONDS", 120);
    let verbose = std::env::var_os("MF_BENCH_VERBOSE").is_some();
    let confirm = std::env::var("MF_BENCH_PATH").is_ok_and(|p| p == "confirm");
    // The copy delay between a fill and the entry it causes.
    let delay_ms = if confirm { EntryConfig::default().copy_delay_minutes * 60_000 } else { 0 };
    connectors::install_tls_provider();
    let account = address_of(&KEY).expect("key");
    let sim = SimConfig {
        seed: 11,
        wallets: 120,
        tokens: 8,
        external_accounts: vec![(account, 100_000)],
        ..SimConfig::default()
    };
    let options = VenueOptions { record_wire_times: true, ..VenueOptions::unthrottled(sim, ClockMode::Speed(speed)) };
    let v = connectors::sim::start(options, "127.0.0.1:0".parse().expect("address")).await.expect("the venue starts");
    let dir = tempfile::tempdir().expect("temp dir");
    private(&dir.path().join("hl.key"), &format!("0x{}\n", hex::encode(KEY)));
    private(&dir.path().join("nansen.key"), &format!("{TEST_NANSEN_KEY}\n"));
    let labelled = if confirm {
        String::new()
    } else {
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/bench-loopback.toml"))
            .expect("config/bench-loopback.toml")
    };
    let config = format!(
        "{labelled}\n[hyperliquid]\napi_url = \"{http}\"\nws_url = \"{ws}\"\ninfo_weight_per_minute = 1000000\n\n\
         [nansen]\napi_url = \"{http}\"\nrequests_per_second = 1000\nrequests_per_minute = 60000\n\
         perp_trades_per_minute = 60000\n\n[clock]\nsource = \"venue\"\n\n[discovery]\ntop_n_per_window = {top}\n\n\
         [schedule]\nretention_days = 120\n\n\
         [keys]\nprivate_key_file = \"{key}\"\nnansen_api_key_file = \"{nansen}\"\naccount_address = \"0x{account}\"\n",
        http = v.http_url(),
        ws = v.ws_url(),
        key = dir.path().join("hl.key").display(),
        nansen = dir.path().join("nansen.key").display(),
        account = hex::encode(account),
        // Discovery's wallets per leaderboard window: more followed wallets, more entries to time.
        top = env_or("MF_BENCH_TOP", 20u32),
    );
    let config_path = dir.path().join("mirrorflow.toml");
    std::fs::write(&config_path, config).expect("write the config");
    let state = dir.path().join("state");
    let log = dir.path().join("daemon.log");
    let log_file = std::fs::File::create(&log).expect("log file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mirrorflow"))
        .args(["run", "--live", "--config"])
        .arg(&config_path)
        .arg("--state-dir")
        .arg(&state)
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .expect("start the daemon");
    println!(
        "end to end on loopback ({}): venue at {speed}× real time, live daemon, {seconds} s measured after its first step",
        if confirm { "pending confirmation, default config" } else { "fill → order, COPY_DELAY 0" }
    );

    // Wait for the first step (start-up history included).
    let started = Instant::now();
    loop {
        if read_status(&state.join("run")).is_some_and(|s| s.phase == "running" && s.steps > 0) {
            break;
        }
        if let Ok(Some(code)) = child.try_wait() {
            panic!("the daemon exited ({code}):\n{}", tail(&log));
        }
        assert!(started.elapsed() < Duration::from_secs(300), "the daemon never stepped:\n{}", tail(&log));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let from_ns = get(format!("{}/sim/wire-times", v.http_url())).await["now_ns"].as_u64().unwrap_or(0);
    println!("first step after {:.1} s; measuring", started.elapsed().as_secs_f64());
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    if let Ok(Some(code)) = child.try_wait() {
        panic!("the daemon exited ({code}):\n{}", tail(&log));
    }
    let ok = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(ok.success());
    let code = tokio::task::block_in_place(|| child.wait().expect("the daemon's exit"));
    assert!(code.success(), "the daemon did not stop cleanly ({code}):\n{}", tail(&log));

    if let Some(s) = read_status(&state.join("run")) {
        println!(
            "the daemon: {} steps, {} signals, {} intents, {} inputs logged",
            s.steps, s.signals, s.intents, s.inputs_logged
        );
    }
    if verbose {
        println!("daemon log (tail):\n{}", tail(&log));
    }
    let wire = get(format!("{}/sim/wire-times", v.http_url())).await;
    let audit = get(format!("{}/sim/audit", v.http_url())).await;
    let arrived: BTreeMap<u64, u64> = wire["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| Some((r["seq"].as_u64()?, r["arrived_ns"].as_u64()?)))
        .collect();
    // (coin, user) → [(virtual time, sent ns)] in tid order.
    let mut trades: BTreeMap<(String, String), Vec<(u64, u64)>> = BTreeMap::new();
    for t in wire["trades"].as_array().into_iter().flatten() {
        let (Some(coin), Some(time), Some(sent)) = (t["coin"].as_str(), t["time"].as_u64(), t["sent_ns"].as_u64())
        else {
            continue;
        };
        for u in t["users"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            trades.entry((coin.to_string(), u.to_lowercase())).or_default().push((time, sent));
        }
    }
    let store = Store::open(&mirrorflow::daemon::state_file(&state)).expect("the daemon's state");
    let journal: BTreeMap<String, _> = Journal::new(&store)
        .all()
        .expect("the journal")
        .into_iter()
        .map(|r| (r.cloid.to_string().to_lowercase(), r))
        .collect();
    let mut hist = Histogram::<u64>::new(3).expect("histogram");
    let (mut orders, mut entries, mut later, mut unmatched) = (0, 0, 0, 0);
    // The venue clock's reference: (ns, virtual ms, speed).
    let clock = wire["clock"]["at_ns"]
        .as_u64()
        .zip(wire["clock"]["virtual_ms"].as_u64())
        .zip(wire["clock"]["speed"].as_f64())
        .map(|((ns, ms), speed)| (ns, ms as f64, speed));
    for entry in audit.as_array().into_iter().flatten().filter(|e| e["action_type"] == "order") {
        let Some(at) = entry["seq"].as_u64().and_then(|s| arrived.get(&s)) else { continue };
        for cloid in entry["cloids"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            orders += 1;
            let Some(r) = journal.get(&cloid.to_lowercase()) else { continue };
            let i = &r.intent;
            if i.strategy != Strategy::Entry || !matches!(i.kind, IntentKind::Open | IntentKind::Increase) {
                continue;
            }
            let Some(wallet) = i.attribution.first().map(|a| a.wallet.to_string().to_lowercase()) else { continue };
            // The copied wallet's trade on the coin the copy delay before the
            // intent: an entry is stamped when its delay has run.
            let due = i.time_ms.saturating_sub(delay_ms);
            let ts = trades.get(&(i.token.to_string(), wallet)).map(Vec::as_slice).unwrap_or_default();
            let Some(&(time, sent)) = ts.iter().rev().find(|(time, _)| *time <= due + CAUSE_MS) else {
                unmatched += 1;
                continue;
            };
            if sent < from_ns {
                continue;
            }
            if time.abs_diff(due) > CAUSE_MS {
                // Stamped later than its delay after the wallet's fill: caused by something else (a position poll).
                later += 1;
                continue;
            }
            let from = if confirm {
                let Some(c) = clock else { continue };
                c.0 + ((i.time_ms as f64 - c.1) / c.2 * 1e6).max(0.0) as u64
            } else {
                sent
            };
            if *at < from {
                continue;
            }
            if verbose {
                println!(
                    "{:?} {} ({:?}): {:.1} ms (fill at venue time {time})",
                    i.kind,
                    i.token,
                    r.state,
                    (at - from) as f64 / 1e6
                );
            }
            entries += 1;
            hist.record(at - from).expect("record");
        }
    }
    println!(
        "{orders} orders at /exchange; {entries} entries caused by a fill sent while measured; \
         {later} entries stamped later than their delay after the wallet's fill (not timed); {unmatched} without a fill on the wire"
    );
    if hist.is_empty() {
        println!("no entry in the window: raise MF_BENCH_SECONDS or MF_BENCH_SPEED");
        return;
    }
    let (name, key) = if confirm {
        ("confirming clock → signed order in", "e2e.confirm_to_order")
    } else {
        ("fill on the wire → signed order in", "e2e.fill_to_order")
    };
    report(name, &hist);
    latency_figures(key, &hist);
    figure(&format!("{key}.entries"), entries as f64, "orders");
    figure(&format!("{key}.speed"), speed, "x");
}
