//! `mirrorflow demo`: the first thing a newcomer runs. The simulated venue
//! starts in-process on a free loopback port; the paper daemon runs against it
//! through the real connectors (HTTP and WebSocket) while the demo moves the
//! venue's clock an hour at a time, as soon as the daemon has caught up — so
//! days pass in seconds and the run is the same every time for a seed. At the
//! end the daemon's recorded log becomes the run directory (DESIGN §7), as
//! `mirrorflow backfill --input <state>` would make it.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use connectors::sim::{ClockMode, SimConfig, TEST_NANSEN_KEY, VenueOptions};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use crate::cli::DemoArgs;
use crate::commands::backfill;
use crate::config::{ClockSource, KeysConfig, Loaded, Secrets};
use crate::daemon::rundir::{Status, read_status};
use crate::daemon::{self, RunOptions};
use crate::run_identity::Mode;

const HOUR_MS: u64 = 3_600_000;

/// How far the demo moves the venue's clock at a time. The daemon steps when
/// the clock moves, and its paper executor fills what a step decided at the
/// next one, so a coarser step would delay every fill by up to that much.
const STEP_MS: u64 = 10 * 60_000;

/// Days of history the venue starts with.
const WARMUP_DAYS: u64 = 90;

/// Marks a directory the demo made, so a second demo may clear it.
const MARKER: &str = ".mirrorflow-demo";

/// The venue's budgets are per real minute while its clock runs thousands of
/// times faster; the demo raises them (and the clients' own) in proportion.
const INFO_WEIGHT_PER_MINUTE: u32 = 1_000_000;

/// How long the daemon may take over one hour of venue time before the demo gives up.
const STEP_TIMEOUT: Duration = Duration::from_secs(300);

/// An `--out` that is new, empty, or an earlier demo's (cleared); anything else is refused.
fn prepare_out(out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        let empty = std::fs::read_dir(out).map(|mut d| d.next().is_none()).unwrap_or(false);
        if out.join(MARKER).exists() {
            std::fs::remove_dir_all(out)
                .with_context(|| format!("cannot clear the earlier demo in {}", out.display()))?;
        } else if !empty {
            bail!("--out {} exists and is not an earlier demo's run directory; pick another", out.display());
        }
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    std::fs::write(out.join(MARKER), "written by mirrorflow demo; a later demo clears this directory\n")
        .with_context(|| format!("cannot write in {}", out.display()))?;
    Ok(())
}

/// The configuration the daemon runs with: the user's (or the defaults), pointed
/// at the venue, on the venue's clock, with the venue's test Nansen key and
/// budgets that fit accelerated time.
fn demo_config(base: &Loaded, http: &str, ws: &str, out: &Path, days: u64) -> anyhow::Result<Loaded> {
    let mut config = base.config.clone();
    config.hyperliquid.api_url = http.to_string();
    config.hyperliquid.ws_url = ws.to_string();
    config.hyperliquid.info_weight_per_minute = INFO_WEIGHT_PER_MINUTE;
    config.nansen.api_url = http.to_string();
    config.nansen.requests_per_second = 1_000;
    config.nansen.requests_per_minute = 60_000;
    config.nansen.perp_trades_per_minute = 60_000;
    config.clock.source = ClockSource::Venue;
    config.state.dir = out.join("state");
    // Keep the whole run in the log: a fold of the start-up history would make
    // the report's replay differ from what the daemon decided (see
    // `daemon::state::write_checkpoint`).
    config.schedule.retention_days = config.schedule.retention_days.max(WARMUP_DAYS + days + 1);
    config.keys = KeysConfig::default();
    let env = [(crate::config::secrets::NANSEN_API_KEY.to_string(), TEST_NANSEN_KEY.to_string())].into();
    let secrets = Secrets::load(&env, &config.keys)?;
    Ok(Loaded { config, secrets, path: base.path.clone(), overrides: base.overrides.clone() })
}

pub async fn run(args: &DemoArgs, base: &Loaded) -> anyhow::Result<()> {
    if args.days == 0 || args.days > 90 {
        bail!("--days must be between 1 and 90 (got {})", args.days);
    }
    if args.wallets < 10 {
        bail!("--wallets must be at least 10 (got {})", args.wallets);
    }
    if args.tokens == 0 || args.tokens > 30 {
        bail!("--tokens must be between 1 and 30 (got {})", args.tokens);
    }
    prepare_out(&args.out)?;
    let started = Instant::now();
    let spinner = ProgressBar::new_spinner();
    spinner.enable_steady_tick(Duration::from_millis(120));
    spinner.set_message(format!(
        "building the simulated world: seed {}, {} wallets, {} tokens, 90 days of history",
        args.seed, args.wallets, args.tokens
    ));
    let options = VenueOptions {
        sim: SimConfig {
            seed: args.seed,
            wallets: args.wallets,
            tokens: args.tokens,
            warmup_days: WARMUP_DAYS,
            ..SimConfig::default()
        },
        clock: ClockMode::Stepped,
        info_weight_per_minute: INFO_WEIGHT_PER_MINUTE,
        nansen_per_second: 100_000,
        nansen_per_minute: 1_000_000,
        ..VenueOptions::default()
    };
    let venue = connectors::sim::start(options, "127.0.0.1:0".parse()?).await.context("cannot start the venue")?;
    let (http, ws) = (venue.http_url(), venue.ws_url());
    spinner.println(format!("simulated venue: {http} (POST /info, Nansen /api/v1/…), {ws}"));
    let loaded = demo_config(base, &http, &ws, &args.out, args.days)?;
    let t0 = venue.venue.now_ms();
    let until = t0 + args.days * 24 * HOUR_MS;
    let state_dir = loaded.config.state.dir.clone();
    let opts = RunOptions { mode: Mode::Paper, state_dir: state_dir.clone(), until: Some(until) };
    let daemon_loaded = loaded.clone();
    let mut daemon = tokio::spawn(async move { daemon::run(&daemon_loaded, &opts).await });
    let run_dir = state_dir.join("run");

    spinner.set_message("the paper daemon: discovering the top traders and reading their history");
    wait_until(&run_dir, &mut daemon, |s| s.phase == "running" && s.processed_to >= t0).await?;
    spinner.finish_and_clear();
    let steps = args.days * 24 * HOUR_MS / STEP_MS;
    let bar = ProgressBar::new(args.days * 24);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} h  {elapsed}")
            .unwrap_or(ProgressStyle::default_bar()),
    );
    bar.set_message("trading");
    for step in 1..=steps {
        let t = t0 + step * STEP_MS;
        let v = venue.venue.clone();
        tokio::task::spawn_blocking(move || v.advance_to(t)).await.context("the venue's clock")?;
        let s = wait_until(&run_dir, &mut daemon, |s| s.processed_to >= t).await?;
        bar.set_message(format!("{} signals, {} orders", s.signals, s.intents));
        bar.set_position((t - t0) / HOUR_MS);
    }
    bar.finish_and_clear();
    daemon.await.context("the daemon panicked")??;
    venue.stop().await;
    let traded = started.elapsed();
    let spinner = ProgressBar::new_spinner();
    spinner.enable_steady_tick(Duration::from_millis(120));
    spinner.set_message("writing the report: the recorded log replayed");

    let config = Arc::new(loaded.config.clone());
    let out = args.out.clone();
    let report = tokio::task::spawn_blocking(move || {
        backfill::report_recorded(&config, &daemon::state_file(&state_dir), &out, Some(t0))
    })
    .await
    .context("the report panicked")??;
    spinner.finish_and_clear();
    summary(&report, &args.out, args.days, traded, started.elapsed());
    Ok(())
}

/// Polls the daemon's `status.json` until `until` holds; a daemon that stops
/// or stalls is an error with what it said.
async fn wait_until(
    run_dir: &Path,
    daemon: &mut tokio::task::JoinHandle<anyhow::Result<()>>,
    until: impl Fn(&Status) -> bool,
) -> anyhow::Result<Status> {
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        if let Some(s) = read_status(run_dir)
            && until(&s)
        {
            return Ok(s);
        }
        if daemon.is_finished() {
            return match daemon.await {
                Ok(Ok(())) => bail!("the daemon stopped before the demo's end"),
                Ok(Err(e)) => Err(e.context("the daemon failed")),
                Err(e) => bail!("the daemon panicked: {e}"),
            };
        }
        if Instant::now() > deadline {
            bail!("the daemon made no progress for {} s ({:?})", STEP_TIMEOUT.as_secs(), read_status(run_dir));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn summary(report: &Value, out: &Path, days: u64, traded: Duration, total: Duration) {
    let paper = &report["account"]["all"];
    let text = |v: &Value| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
    println!(
        "demo: {days} days of paper trading in {:.0} s ({:.0} s in all)",
        traded.as_secs_f64(),
        total.as_secs_f64()
    );
    println!(
        "account: {} → {} USD (total return {}, max drawdown {})",
        text(&paper["start_capital_usd"]),
        text(&paper["final_account_value_usd"]),
        text(&paper["equity"]["total_return"]),
        text(&paper["equity"]["max_drawdown"]),
    );
    if let Some(strategies) = report["strategies"].as_object() {
        for (name, s) in strategies {
            println!(
                "{name}: {} signals, {} orders, {} closed trades",
                text(&s["signals"]),
                text(&s["intents"]),
                text(&s["trades"]["trades"])
            );
        }
    }
    println!("report: {}", out.join("report.md").display());
    println!("chart:  {}", out.join("equity.svg").display());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_earlier_demo_is_cleared_and_anything_else_refused() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        prepare_out(&out).unwrap();
        std::fs::write(out.join("report.md"), "old").unwrap();
        prepare_out(&out).unwrap();
        assert!(!out.join("report.md").exists(), "the earlier demo's files are gone");
        assert!(out.join(MARKER).exists());
        let mine = dir.path().join("mine");
        std::fs::create_dir(&mine).unwrap();
        std::fs::write(mine.join("notes.txt"), "keep").unwrap();
        let e = prepare_out(&mine).unwrap_err().to_string();
        assert!(e.contains("is not an earlier demo's run directory"), "{e}");
        assert_eq!(std::fs::read_to_string(mine.join("notes.txt")).unwrap(), "keep");
        // An empty directory is fine.
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        prepare_out(&empty).unwrap();
    }
}
