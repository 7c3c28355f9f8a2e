//! `mirrorflow import` on the real 2023 Hyperliquid trades, and on a copy with
//! bad rows: every row is read, bad ones are counted by reason and the rest goes on.

use std::path::PathBuf;
use std::process::Command;

fn real_data() -> PathBuf {
    std::env::var_os("MIRRORFLOW_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"))
        .join("data/real/hl-official-2023-non-mm")
}

fn import(path: &std::path::Path) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mirrorflow")).arg("import").arg(path).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_real_2023_trades_are_read_completely() {
    let (ok, stdout, stderr) = import(&real_data());
    assert!(ok, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    for expected in ["rows: 35691", "wallets: 254", "tokens: 14", "skipped: none"] {
        assert!(lines.contains(&expected), "missing {expected:?} in\n{stdout}");
    }
    assert!(
        stdout.contains("fill 35691") && stdout.contains("liquidation 62") && stdout.contains("transfer 560"),
        "{stdout}"
    );
    assert!(stdout.contains("span: 2023-02-27T15:02:26Z .. 2023-05-02T13:51:58Z"), "{stdout}");
    // The data's own README: 90 (user, coin) pairs end with a position.
    assert!(stdout.contains("derived: 90 positions still open at the end"), "{stdout}");
}

#[test]
fn bad_rows_are_skipped_with_their_reason_and_the_rest_is_read() {
    let src = std::fs::read_to_string(real_data().join("non_mm_trades.csv")).unwrap();
    let mut lines: Vec<String> = src.lines().take(101).map(str::to_string).collect();
    lines[5] = lines[5].replace(",Bid,", ",Buy,").replace(",Ask,", ",Sell,");
    lines[9] = "2023-02-28T00:00:00Z,0xnotanaddress,ETH,Bid,1,1,true".into();
    lines[20] = lines[20].rsplitn(2, ',').last().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("non_mm_trades.csv"), lines.join("\n")).unwrap();
    let (ok, stdout, stderr) = import(dir.path());
    assert!(ok, "{stderr}");
    assert!(stdout.lines().any(|l| l == "rows: 100"), "{stdout}");
    assert!(stdout.contains("fill 97"), "{stdout}");
    assert!(stdout.contains("skipped: ") && stdout.contains("side 1") && stdout.contains("user 1"), "{stdout}");
    assert!(stderr.contains("non_mm_trades.csv:6: side"), "{stderr}");
    let (ok, _, stderr) = import(&dir.path().join("nothing-here"));
    assert!(!ok && stderr.contains("no importer recognises"), "{stderr}");
}
