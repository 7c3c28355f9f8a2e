//! `mirrorflow demo` as a newcomer runs it, shortened: the simulated venue
//! in-process, the paper daemon against it over loopback, then the run
//! directory with every file of DESIGN §7 and a summary naming the report and
//! the chart. A directory that is not a demo's is refused, untouched.

use std::process::Command;

fn demo(out: &std::path::Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mirrorflow"))
        .args(["demo", "--days", "1", "--wallets", "60", "--tokens", "5", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn a_short_demo_writes_the_whole_run_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo-run");
    // A config the demo honours (its venue URLs and keys are the demo's own).
    let config = dir.path().join("demo.toml");
    std::fs::write(&config, "[discovery]\ntop_n_per_window = 12\n").unwrap();
    let o = demo(&out, &["--config", config.to_str().unwrap()]);
    let (stdout, stderr) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "demo failed:\n{stdout}\n{stderr}");
    for name in [
        "report.md",
        "report.json",
        "equity.csv",
        "equity.svg",
        "trades.csv",
        "signals.jsonl",
        "orders.jsonl",
        "scores.jsonl",
        "clusters.jsonl",
        "allocations.jsonl",
    ] {
        assert!(out.join(name).is_file(), "{name} missing; stdout:\n{stdout}");
    }
    for name in ["signals.jsonl", "scores.jsonl", "equity.csv"] {
        let text = std::fs::read_to_string(out.join(name)).unwrap();
        assert!(text.lines().count() > 1, "{name} holds nothing:\n{text}");
    }
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let strategies = report["strategies"].as_object().unwrap();
    assert_eq!(strategies.keys().collect::<Vec<_>>(), ["consensus", "entry", "index"], "{report}");
    let account = &report["account"]["all"];
    assert_eq!(account["start_capital_usd"], "100000", "{report}");
    assert!(account["equity"]["total_return"].is_number(), "{report}");
    // The daemon's own run directory and the report's say the same decisions.
    let daemon_signals = std::fs::read(out.join("state/run/signals.jsonl")).unwrap();
    assert_eq!(daemon_signals, std::fs::read(out.join("signals.jsonl")).unwrap());
    assert!(stdout.contains("report: ") && stdout.contains("equity.svg"), "{stdout}");
    assert!(stdout.contains("1 days of paper trading"), "{stdout}");

    // A directory holding something else is left alone.
    let other = dir.path().join("mine");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "keep").unwrap();
    let o = demo(&other, &[]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not an earlier demo's run directory"));
    assert_eq!(std::fs::read_to_string(other.join("notes.txt")).unwrap(), "keep");
}
