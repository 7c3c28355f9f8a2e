//! The binary's configuration commands, as a user runs them.

use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the binary in an empty directory (no stray `.env`) with only `vars` set.
fn mirrorflow(args: &[&str], vars: &[(&str, &str)]) -> Output {
    let cwd = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mirrorflow"));
    cmd.args(args).current_dir(cwd.path()).env_clear();
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn config_check_accepts_the_example() {
    let example = root().join("config/mirrorflow.example.toml");
    let out = mirrorflow(&["config", "check", example.to_str().unwrap()], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("OK"));
}

#[test]
fn config_check_fails_naming_each_bad_key() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[exits]\nstop_loss_percent = -5\n\n[risk]\nmax_single_position_fraction = 1.5\n").unwrap();
    let out = mirrorflow(&["config", "check", bad.to_str().unwrap()], &[]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("exits.stop_loss_percent = -5"), "{err}");
    assert!(err.contains("risk.max_single_position_fraction = 1.5"), "{err}");

    std::fs::write(&bad, "[exits]\nstop_los_percent = 5\n").unwrap();
    let out = mirrorflow(&["config", "check", bad.to_str().unwrap()], &[]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("stop_los_percent"), "{}", text(&out.stderr));

    let out = mirrorflow(&["config", "check", "/nonexistent/mirrorflow.toml"], &[]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("/nonexistent/mirrorflow.toml"));
}

#[test]
fn config_show_prints_every_section_and_redacts_secrets() {
    let key = "0x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let out = mirrorflow(
        &["config", "show"],
        &[("NANSEN_API_KEY", "nsk_verysecret"), ("HL_PRIVATE_KEY", key), ("MIRRORFLOW__RISK__COPY_RATIO", "0.3")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    for section in [
        "[risk]",
        "[exits]",
        "[entry]",
        "[consensus]",
        "[index]",
        "[scoring]",
        "[eligibility]",
        "[allocation]",
        "[hyperliquid]",
        "[nansen]",
    ] {
        assert!(shown.contains(section), "{section} missing");
    }
    assert!(shown.contains("copy_ratio = 0.3"));
    assert!(shown.contains("MIRRORFLOW__RISK__COPY_RATIO"));
    assert!(!shown.contains("verysecret") && !shown.contains("0123456789abcdef"), "a secret leaked:\n{shown}");
    assert!(shown.contains("NANSEN_API_KEY = <redacted>"));
    // The key never shows; the address it signs as does.
    let address = connectors::hyperliquid::keys::Signer::from_hex(key).unwrap().address_hex();
    assert!(shown.contains(&format!("signs as {address}")), "{shown}");
    assert!(!text(&out.stderr).contains("verysecret"));
}

#[test]
fn config_show_reads_the_file_named_by_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "[exits]\nstop_loss_percent = 3.5\n").unwrap();
    let out = mirrorflow(&["config", "show"], &[("MIRRORFLOW_CONFIG", file.to_str().unwrap())]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("stop_loss_percent = 3.5"));
}

#[test]
fn every_subcommand_has_help() {
    for args in [&["--help"][..], &["config", "--help"], &["config", "show", "--help"], &["config", "check", "--help"]]
    {
        let out = mirrorflow(args, &[]);
        assert!(out.status.success(), "{args:?}");
        assert!(text(&out.stdout).contains("Usage"), "{args:?}");
    }
}

#[test]
fn logs_follow_the_configured_format_and_level() {
    let out = mirrorflow(
        &["config", "show"],
        &[("MIRRORFLOW__LOG__FORMAT", "json"), ("MIRRORFLOW__LOG__LEVEL", "debug"), ("NANSEN_API_KEY", "nsk_hidden")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    let lines: Vec<serde_json::Value> =
        stderr.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}"))).collect();
    assert!(lines.iter().any(|l| l["fields"]["message"] == "configuration loaded"), "{stderr}");
    assert!(!stderr.contains("nsk_hidden"));
    // The command line wins over the configuration; RUST_LOG over both.
    let out = mirrorflow(&["--log-level", "warn", "config", "show"], &[("MIRRORFLOW__LOG__LEVEL", "debug")]);
    assert!(text(&out.stderr).is_empty(), "{}", text(&out.stderr));
    let out = mirrorflow(&["--log-format", "human", "config", "show"], &[("RUST_LOG", "debug")]);
    assert!(text(&out.stderr).contains("configuration loaded"));
}
