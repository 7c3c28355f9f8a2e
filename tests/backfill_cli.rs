//! `mirrorflow backfill` on a venue export: the same bytes with one and two
//! timely workers, the venue's copy clusters (its persona ground truth:
//! followers and their leader) found together, and every strategy deciding
//! and ordering within its caps.

use std::collections::BTreeMap;
use std::process::Command;

fn backfill(input: &std::path::Path, out: &std::path::Path, workers: &str, extra: &[&str]) {
    let o = Command::new(env!("CARGO_BIN_EXE_mirrorflow"))
        .args(["backfill", "--input"])
        .arg(input)
        .arg("--out")
        .arg(out)
        .args(["--workers", workers])
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn backfill_is_identical_for_any_worker_count_and_finds_the_copy_clusters() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    let cfg = connectors::sim::SimConfig { seed: 5, wallets: 40, tokens: 5, warmup_days: 20, ..Default::default() };
    // 20 days of warm-up and 10 after t0: a 30-day export.
    connectors::sim::export::export(cfg, 10, &export, &mut |_: &str, _: u64, _: u64| {}).unwrap();
    // 40 wallets rarely give three independent clusters on a side: two make the
    // consensus strategy decide here (the default stays 3).
    let config = dir.path().join("mirrorflow.toml");
    std::fs::write(&config, "[consensus]\nmin_clusters = 2\n").unwrap();
    let config = config.to_str().unwrap();
    let (one, two) = (dir.path().join("w1"), dir.path().join("w2"));
    backfill(&export, &one, "1", &["--config", config]);
    backfill(&export, &two, "2", &["--config", config]);
    for name in [
        "scores.jsonl",
        "tiers.jsonl",
        "allocations.jsonl",
        "clusters.jsonl",
        "cluster_pairs.jsonl",
        "signals.jsonl",
        "orders.jsonl",
        "equity.csv",
        "trades.csv",
        "report.json",
        "report.md",
        "equity.svg",
    ] {
        let (a, b) = (std::fs::read(one.join(name)).unwrap(), std::fs::read(two.join(name)).unwrap());
        assert!(!a.is_empty(), "{name} is empty");
        assert!(a == b, "{name} differs between 1 and 2 workers");
    }
    let a = std::fs::read(one.join("clusters.jsonl")).unwrap();
    strategies_decide_within_caps(&one);
    the_equity_curve_and_its_figures(&one);

    // `--strategy` narrows the run to the named strategies.
    let only = dir.path().join("entry-only");
    backfill(&export, &only, "1", &["--config", config, "--strategy", "entry"]);
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(only.join("report.json")).unwrap()).unwrap();
    let names: Vec<&String> = report["strategies"].as_object().unwrap().keys().collect();
    assert_eq!(names, ["entry"], "{report}");
    let text = std::fs::read_to_string(only.join("orders.jsonl")).unwrap();
    assert!(text.lines().all(|l| l.contains("\"strategy\":\"entry\"")), "another strategy ordered");

    // Allocations: at every time, the held weights sum to at most 1 and none exceeds 40 %.
    let text = std::fs::read_to_string(one.join("allocations.jsonl")).unwrap();
    let mut held: BTreeMap<String, (f64, i64)> = BTreeMap::new();
    let rows: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(rows.iter().any(|r| r["final"].as_str().unwrap() != "0"), "nothing was ever allocated");
    for (i, r) in rows.iter().enumerate() {
        let w = r["wallet"].as_str().unwrap().to_string();
        let f: f64 = r["final"].as_str().unwrap().parse().unwrap();
        let e = held.entry(w.clone()).or_default();
        if r["diff"].as_i64().unwrap() > 0 {
            *e = (f, e.1 + 1);
        } else {
            e.1 -= 1;
            if e.1 == 0 {
                held.remove(&w);
            }
        }
        let last_of_time = rows.get(i + 1).is_none_or(|n| n["time_ms"] != r["time_ms"]);
        if last_of_time {
            let total: f64 = held.values().map(|(f, _)| f).sum();
            assert!(
                total <= 1.0 + 1e-12 && held.values().all(|(f, _)| *f <= 0.4 + 1e-12),
                "at {}: {held:?}",
                r["time_ms"]
            );
        }
    }

    // Replay the changes; every follower shares its leader's cluster at some time.
    let personas: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(export.join("sim/personas.json")).unwrap()).unwrap();
    let followers: Vec<(String, String)> = personas
        .iter()
        .filter_map(|p| Some((p["address"].as_str()?.to_lowercase(), p["leader"].as_str()?.to_lowercase())))
        .collect();
    assert!(!followers.is_empty(), "the world has no copy cluster");
    let text = String::from_utf8(a).unwrap();
    let changes: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut state: BTreeMap<String, String> = BTreeMap::new();
    let mut found = std::collections::BTreeSet::new();
    let mut i = 0;
    while i < changes.len() {
        let t = changes[i]["time_ms"].as_u64().unwrap();
        while i < changes.len() && changes[i]["time_ms"].as_u64().unwrap() == t {
            let c = &changes[i];
            let (w, id) = (c["wallet"].as_str().unwrap().to_string(), c["cluster"].as_str().unwrap().to_string());
            if c["diff"].as_i64().unwrap() > 0 {
                state.insert(w, id);
            } else if state.get(&w) == Some(&id) {
                state.remove(&w);
            }
            i += 1;
        }
        for (f, l) in &followers {
            if state.get(f).is_some_and(|c| state.get(l) == Some(c)) {
                found.insert(f.clone());
            }
        }
    }
    assert_eq!(found.len(), followers.len(), "followers found with their leader: {found:?} of {followers:?}");
}

/// `equity.csv` has one curve per strategy's account, each starting at the
/// start capital and running forward in time; each account's figures agree
/// with its curve; every metric is a number or n/a with a reason (never NaN);
/// each strategy is compared with buy-and-hold BTC, the naive mirror, its
/// lagged-signal null and the copied traders' own exits.
fn the_equity_curve_and_its_figures(out: &std::path::Path) {
    let text = std::fs::read_to_string(out.join("equity.csv")).unwrap();
    assert!(text.starts_with("account,time_ms,time_utc,account_value_usd\n"), "{text}");
    let mut curves: BTreeMap<String, Vec<(u64, f64)>> = BTreeMap::new();
    for l in text.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        curves.entry(f[0].to_string()).or_default().push((f[1].parse().unwrap(), f[3].parse().unwrap()));
    }
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let names: Vec<&String> = report["strategies"].as_object().unwrap().keys().collect();
    assert_eq!(curves.keys().collect::<Vec<_>>(), names, "one account per strategy");
    for (name, rows) in &curves {
        assert!(rows.len() > 2, "{name}: {rows:?}");
        assert_eq!(rows[0].1, 100_000.0, "{name}: the curve starts at the start capital");
        assert!(rows.windows(2).all(|w| w[0].0 < w[1].0), "{name}: not in time order");
        let account = &report["strategies"][name]["account"];
        assert_eq!(account, &report["account"][name], "{name}");
        let last = rows.last().unwrap().1;
        let total = account["equity"]["total_return"].as_f64().unwrap();
        assert!((total - (last / 100_000.0 - 1.0)).abs() < 1e-9, "{name}: total return {total} vs the curve's {last}");
        let dd = &account["equity"]["max_drawdown"];
        assert!(dd.as_f64().is_some_and(|d| (0.0..1.0).contains(&d)), "{dd}");
        let gross = account["exposure"]["max_gross"].as_f64().unwrap();
        // The total exposure cap is 50 % of the account, with room for the marks moving after entry.
        assert!(gross > 0.0 && gross <= 0.5 * 1.25, "{name}: gross exposure {gross} beyond the total cap");
        let benchmarks: Vec<&str> = report["strategies"][name]["comparisons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["benchmark"].as_str().unwrap())
            .collect();
        assert_eq!(
            benchmarks,
            [
                "BTC buy-and-hold",
                "naive mirror of the best trader",
                "lagged signals (+24 h)",
                "the copied traders' own exits"
            ],
            "{name}"
        );
        // Only the entry strategy copies one trader per position; the others say why they can't be compared.
        let theirs = &report["strategies"][name]["comparisons"][3];
        let winner = theirs["winner"].as_str().unwrap();
        assert_eq!(name == "entry", !winner.starts_with("n/a"), "{name}: {theirs}");
        assert_eq!(name == "entry", report["benchmarks"]["their_exits"].get(name).is_some(), "{name}");
        assert!(report["benchmarks"]["lagged_signals"][name]["equity"].is_object(), "{name}");
        let execution = &report["strategies"][name]["execution"];
        let p50 = execution["signal_to_fill_ms"]["p50"].as_f64().unwrap();
        assert!((30_000.0..=60_000.0).contains(&p50), "{name}: latency p50 {p50} outside the simulated 30–60 s");
        assert!(execution["fees_paid_usd"].as_str().unwrap().parse::<f64>().unwrap() > 0.0, "{name}");
    }
    assert!(out.join("equity.svg").exists());
    let svg = std::fs::read_to_string(out.join("equity.svg")).unwrap();
    assert!(svg.contains("<svg") && names.iter().all(|n| svg.contains(n.as_str())), "the chart names every account");
    let text = serde_json::to_string(&report).unwrap();
    assert!(!text.contains("NaN") && !text.contains("null"), "{text}");
    // The result hash is over the decisions and fills as written.
    let mut bytes = std::fs::read(out.join("signals.jsonl")).unwrap();
    bytes.extend(std::fs::read(out.join("orders.jsonl")).unwrap());
    let hash = hex::encode(dataflows::model::ids::keccak256(&bytes));
    assert_eq!(report["result_hash"], hash.as_str());
    // Every closed trade in trades.csv, counted per strategy as in the report.
    let csv = std::fs::read_to_string(out.join("trades.csv")).unwrap();
    for (name, s) in report["strategies"].as_object().unwrap() {
        let rows = csv.lines().skip(1).filter(|l| l.starts_with(&format!("{name},"))).count() as u64;
        assert_eq!(Some(rows), s["trades"]["trades"].as_u64(), "{name}");
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## Fill assumptions") && md.contains(hash.as_str()), "{md}");
    for (name, s) in report["strategies"].as_object().unwrap() {
        let filled = s["intents_by_outcome"]["filled"].as_u64().unwrap_or(0)
            + s["intents_by_outcome"]["partially_filled"].as_u64().unwrap_or(0);
        let trades = s["trades"]["trades"].as_u64().unwrap();
        assert!(trades <= filled, "{name}: {trades} trades from {filled} fills");
        let wr = &s["trades"]["win_rate"];
        assert!(
            wr.as_f64().is_some_and(|w| (0.0..=1.0).contains(&w))
                || wr.as_str().is_some_and(|x| x.starts_with("n/a: ")),
            "{wr}"
        );
    }
}

/// Every strategy decided and ordered; the report counts what the files hold;
/// no entry order is above the single-position cap of the account.
fn strategies_decide_within_caps(out: &std::path::Path) {
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let signals: Vec<serde_json::Value> = std::fs::read_to_string(out.join("signals.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let orders: Vec<serde_json::Value> = std::fs::read_to_string(out.join("orders.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for s in ["consensus", "entry", "index"] {
        let n_signals = signals.iter().filter(|x| x["strategy"] == s).count();
        let n_orders = orders.iter().filter(|x| x["strategy"] == s).count();
        assert!(n_signals > 0 && n_orders > 0, "{s}: {n_signals} signals, {n_orders} orders");
        assert_eq!(report["strategies"][s]["signals"], n_signals, "{s} in {report}");
        assert_eq!(report["strategies"][s]["intents"], n_orders, "{s} in {report}");
    }
    // Refused sizes are signals with the risk gate that refused them, never orders.
    assert!(signals.iter().all(|s| s["gate"].as_str().is_some_and(|g| !g.is_empty())));
    let ids: std::collections::BTreeSet<&str> = orders.iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), orders.len(), "intent ids repeat");
    // The paper executor answered every intent, and its fills came back as
    // our positions: entries were closed again by the exits or the index.
    let outcomes = ["filled", "partially_filled", "cancelled", "missed", "rejected", "expired", "open"];
    for o in &orders {
        let outcome = o["outcome"].as_str().unwrap_or_default();
        assert!(outcomes.contains(&outcome), "{o}");
        assert_eq!(o["cloid"].as_str().map(str::len), Some(34), "{o}");
        if outcome == "filled" {
            let fill = &o["fill"];
            assert_eq!(fill["size"], o["size"], "a full fill: {o}");
            assert!(fill["time_ms"].as_u64().unwrap() > o["time_ms"].as_u64().unwrap(), "latency: {o}");
        }
    }
    let filled = |kind: &str| orders.iter().filter(|o| o["kind"] == kind && o["outcome"] == "filled").count();
    assert!(filled("open") > 0 && filled("close") > 0, "positions opened and closed");
    assert!(signals.iter().any(|s| s["decision"] == "exit"), "exits act on the paper positions");
    // The account moves with PnL; within this short run it stays near the start.
    let capital = 100_000.0 * 1.05; // the backtest's default starting capital, and room to grow
    for o in &orders {
        let kind = o["kind"].as_str().unwrap();
        let (size, price): (f64, f64) =
            (o["size"].as_str().unwrap().parse().unwrap(), o["price"].as_str().unwrap().parse().unwrap());
        if kind == "open" || kind == "increase" {
            assert!(size * price <= 0.10 * capital + 1e-6, "{o}");
            assert!(size * price >= 10.0 - 1e-6, "{o}");
            assert!(!o["attribution"].as_array().unwrap().is_empty(), "an entry names who caused it: {o}");
        } else {
            assert_eq!(o["reduce_only"], true, "{o}");
        }
    }
}

/// A window that is not a time, or ends before it starts, is refused with
/// what was wrong (before anything is read).
#[test]
fn a_bad_window_is_refused_with_what_was_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_mirrorflow"))
            .args(["backfill", "--input"])
            .arg(dir.path())
            .arg("--out")
            .arg(dir.path().join("out"))
            .args(args)
            .output()
            .unwrap();
        assert!(!o.status.success());
        String::from_utf8_lossy(&o.stderr).to_string()
    };
    let err = run(&["--from", "yesterday"]);
    assert!(err.contains("\"yesterday\" is not a time"), "{err}");
    let err = run(&["--from", "2026-01-02", "--to", "2026-01-01"]);
    assert!(err.contains("--from 1767312000000 is after --to 1767225600000"), "{err}");
}
