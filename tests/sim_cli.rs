//! `mirrorflow sim serve` and `sim export` as a user runs them.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mirrorflow"));
    c.env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default());
    c
}

struct Killed(std::process::Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_prints_its_urls_and_writes_a_config_that_validates() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("venue.toml");
    let mut child = Killed(
        bin()
            .current_dir(dir.path())
            .args([
                "sim",
                "serve",
                "--stepped",
                "--seed",
                "4",
                "--wallets",
                "20",
                "--tokens",
                "4",
                "--warmup-days",
                "5",
            ])
            .arg("--write-config")
            .arg(&config)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut url = None;
    for line in BufReader::new(child.0.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("hyperliquid api: ") {
            url = rest.split_whitespace().next().map(str::to_string);
        }
        if line.starts_with("ready") {
            break;
        }
    }
    let url = url.expect("the venue printed no URL");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    connectors::install_tls_provider();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let time: serde_json::Value =
        rt.block_on(async { reqwest::get(format!("{url}/sim/time")).await.unwrap().json().await.unwrap() });
    assert_eq!(time["stepped"], true);

    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains(&format!("api_url = \"{url}\"")) && text.contains("source = \"venue\""), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for key in ["venue.hl-key", "venue.nansen-key"] {
            let mode = std::fs::metadata(dir.path().join(key)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{key}");
        }
    }
    let check = bin().current_dir(dir.path()).args(["config", "check"]).arg(&config).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    let show = bin().current_dir(dir.path()).args(["config", "show", "--config"]).arg(&config).output().unwrap();
    let shown = String::from_utf8_lossy(&show.stdout);
    assert!(shown.contains("NANSEN_API_KEY = <redacted> (from file"), "{shown}");
    assert!(shown.contains("HL_PRIVATE_KEY = <redacted> (from file"), "{shown}");
    assert!(!shown.contains("nsk_sim_test_key"));
}

#[test]
fn export_writes_a_manifest_and_refuses_a_non_empty_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("history");
    let args =
        ["sim", "export", "--seed", "3", "--days", "1", "--wallets", "20", "--tokens", "4", "--warmup-days", "3"];
    let run = bin().args(args).arg("--out").arg(&out).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["format"], "mirrorflow-sim-export");
    assert_eq!(manifest["wallets"], 20);
    assert!(String::from_utf8_lossy(&run.stdout).contains("fills"));
    // The export is a dataset `mirrorflow import` recognises and reads completely.
    let fills = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "hyperliquid/node_fills.jsonl")
        .unwrap()["rows"]
        .as_u64()
        .unwrap();
    let data_rows: u64 = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !["hl_meta", "nansen_labels", "sim_personas"].contains(&f["kind"].as_str().unwrap()))
        .map(|f| f["rows"].as_u64().unwrap())
        .sum();
    let import = bin().arg("import").arg(&out).output().unwrap();
    let summary = String::from_utf8_lossy(&import.stdout);
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));
    for line in
        ["format: sim-export".to_string(), format!("rows: {data_rows}"), "tokens: 4".into(), "skipped: none".into()]
    {
        assert!(summary.lines().any(|l| l == line), "missing {line:?} in\n{summary}");
    }
    assert!(summary.lines().any(|l| l.starts_with("events: ") && l.contains(&format!("fill {fills},"))), "{summary}");
    let again = bin().args(args).arg("--out").arg(&out).output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
    let bad = bin()
        .args(["sim", "export", "--days", "1", "--wallets", "3"])
        .arg("--out")
        .arg(dir.path().join("x"))
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--wallets"));
}
