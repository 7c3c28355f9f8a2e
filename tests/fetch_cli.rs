//! `mirrorflow fetch` against the venue on loopback: it finds the top wallets on
//! the 30-day leaderboard, downloads exactly their ledger fills, states,
//! leaderboards, candles and funding as a dataset `mirrorflow import` reads, and
//! a re-run after an interruption fetches only what is missing, through 429s.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use connectors::nansen::types::{DateRange, LeaderboardRequest};
use connectors::sim::faults::Faults;
use connectors::sim::{ClockMode, SimConfig, TEST_NANSEN_KEY, VenueOptions, nansen_views};

fn fetch(config: &Path, out: &Path, extra: &[&str]) -> (bool, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_mirrorflow"))
        .args(["fetch", "--config"])
        .arg(config)
        .args(["--days", "3", "--top", "5", "--out"])
        .arg(out)
        .args(extra)
        .env("NANSEN_API_KEY", TEST_NANSEN_KEY)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn mtimes(root: &Path) -> BTreeMap<String, std::time::SystemTime> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::metadata(&p).unwrap().modified().unwrap());
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn fetch_downloads_the_top_wallets_and_resumes_where_it_stopped() {
    let options = VenueOptions {
        sim: SimConfig { seed: 31, wallets: 30, tokens: 4, warmup_days: 35, ..SimConfig::default() },
        clock: ClockMode::Stepped,
        nansen_per_second: 1_000,
        nansen_per_minute: 100_000,
        ..VenueOptions::default()
    };
    let v = connectors::sim::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mirrorflow.toml");
    std::fs::write(
        &config,
        format!(
            "[hyperliquid]\napi_url = \"{}\"\nws_url = \"{}\"\n\n[nansen]\napi_url = \"{}\"\n\n[clock]\nsource = \"venue\"\n",
            v.http_url(),
            v.ws_url(),
            v.http_url()
        ),
    )
    .unwrap();
    let out = dir.path().join("data");
    let cfg = config.clone();
    let out2 = out.clone();
    let (ok, stdout, stderr) = tokio::task::spawn_blocking(move || fetch(&cfg, &out2, &[])).await.unwrap();
    assert!(ok, "{stderr}");
    assert!(stdout.contains("wallets: 5"), "{stdout}");

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["complete"], true);
    let (start, end) = (manifest["start_ms"].as_u64().unwrap(), manifest["end_ms"].as_u64().unwrap());
    assert_eq!(end, v.venue.now_ms() - v.venue.now_ms() % 86_400_000);
    assert_eq!(end - start, 3 * 86_400_000);
    let wallets: Vec<String> =
        manifest["wallets"].as_array().unwrap().iter().map(|w| w.as_str().unwrap().to_string()).collect();
    let mut total_fills = 0;
    {
        let w = v.venue.world();
        // The five best by 30-day PnL, as the venue's own leaderboard ranks them.
        let req = LeaderboardRequest {
            date: DateRange { from: Some("2025-12-02".into()), to: Some("2025-12-31".into()) },
            ..LeaderboardRequest::default()
        };
        let top: Vec<String> = nansen_views::leaderboard(&w, &req)
            .unwrap()
            .data
            .iter()
            .take(5)
            .map(|r| r.trader_address.clone())
            .collect();
        assert_eq!(wallets, top);
        for user in &wallets {
            let i = w.wallet_index(user).unwrap();
            let expected: Vec<u64> =
                w.accounts[i].fills.iter().filter(|f| f.time >= start && f.time < end).map(|f| f.tid).collect();
            let text = std::fs::read_to_string(out.join(format!("hyperliquid/fills/{user}.jsonl"))).unwrap();
            let got: Vec<u64> = text
                .lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()[1]["tid"].as_u64().unwrap())
                .collect();
            assert_eq!(got, expected, "fills of {user}");
            total_fills += got.len();
        }
    }
    assert!(total_fills > 0);
    for rel in ["nansen/perp-leaderboard/7d/2025-12-31.json", "nansen/perp-leaderboard/30d/2025-12-29.json"] {
        assert!(out.join(rel).exists(), "{rel} missing");
    }

    // The dataset imports: every fill, a state per wallet, marks and funding of the traded coins.
    let import = Command::new(env!("CARGO_BIN_EXE_mirrorflow")).arg("import").arg(&out).output().unwrap();
    let summary = String::from_utf8_lossy(&import.stdout).into_owned();
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));
    assert!(summary.lines().any(|l| l == "format: dataset"), "{summary}");
    assert!(summary.contains(&format!("fill {total_fills}")), "{summary}");
    assert!(summary.contains("account state 5") && summary.contains("candle") && summary.contains("funding"));
    assert!(summary.lines().any(|l| l == "skipped: none"), "{summary}");

    // An interrupted run: two files never got written. With the API rate limiting,
    // a re-run fetches just those two, identical to before, and touches nothing else.
    let lost_fills = format!("hyperliquid/fills/{}.jsonl", wallets[2]);
    let candles = std::fs::read_dir(out.join("hyperliquid/candles")).unwrap().next().unwrap().unwrap().path();
    let lost_candles = candles.strip_prefix(&out).unwrap().to_string_lossy().into_owned();
    let before: BTreeMap<String, Vec<u8>> =
        [&lost_fills, &lost_candles].iter().map(|r| (r.to_string(), std::fs::read(out.join(r)).unwrap())).collect();
    for r in [&lost_fills, &lost_candles] {
        std::fs::remove_file(out.join(r)).unwrap();
    }
    let kept = mtimes(&out);
    v.venue.set_faults(Faults { rate_limit_burst: 2, ..Faults::default() });
    let (cfg, out2) = (config.clone(), out.clone());
    let (ok, stdout, stderr) = tokio::task::spawn_blocking(move || fetch(&cfg, &out2, &[])).await.unwrap();
    assert!(ok, "{stderr}");
    assert!(stdout.contains("files fetched: 2"), "{stdout}");
    for (r, bytes) in &before {
        assert_eq!(&std::fs::read(out.join(r)).unwrap(), bytes, "{r} differs after the resume");
    }
    let after = mtimes(&out);
    for (rel, t) in &kept {
        if rel != "manifest.json" {
            assert_eq!(after.get(rel), Some(t), "{rel} was rewritten");
        }
    }
    // A resume must ask for the same thing.
    let (cfg, out2) = (config.clone(), out.clone());
    let (ok, _, stderr) = tokio::task::spawn_blocking(move || fetch(&cfg, &out2, &["--windows", "7"])).await.unwrap();
    assert!(!ok && stderr.contains("resume with those"), "{stderr}");
    v.stop().await;
}
