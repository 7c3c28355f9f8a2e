//! `sim export`: same seed → byte-identical files; another seed → another world;
//! the manifest describes what was written.

use std::collections::BTreeMap;
use std::path::Path;

use connectors::sim::SimConfig;
use connectors::sim::export::{FORMAT, export};

fn cfg(seed: u64) -> SimConfig {
    SimConfig { seed, wallets: 30, tokens: 5, warmup_days: 10, ..SimConfig::default() }
}

fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

#[test]
fn exports_are_reproducible_and_seed_dependent() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut stages = Vec::new();
    let a =
        export(cfg(21), 3, dirs[0].path(), &mut |stage: &str, _: u64, _: u64| stages.push(stage.to_string())).unwrap();
    export(cfg(21), 3, dirs[1].path(), &mut |_: &str, _: u64, _: u64| {}).unwrap();
    export(cfg(22), 3, dirs[2].path(), &mut |_: &str, _: u64, _: u64| {}).unwrap();
    assert!(stages.iter().any(|s| s == "simulating") && stages.iter().any(|s| s == "leaderboards"));

    let first = read_tree(dirs[0].path());
    let second = read_tree(dirs[1].path());
    assert_eq!(first.keys().collect::<Vec<_>>(), second.keys().collect::<Vec<_>>());
    for (name, bytes) in &first {
        assert!(bytes == &second[name], "{name} differs between two exports of the same seed");
    }
    let other = read_tree(dirs[2].path());
    assert_ne!(first["hyperliquid/node_fills.jsonl"], other["hyperliquid/node_fills.jsonl"]);

    // The manifest names every file with its row count.
    assert_eq!(a.format, FORMAT);
    assert_eq!(a.end_ms - a.start_ms, 13 * 86_400_000);
    for file in &a.files {
        let bytes = &first[&file.path];
        if file.format == "jsonl" {
            let lines = bytes.iter().filter(|b| **b == b'\n').count() as u64;
            assert_eq!(lines, file.rows, "{}", file.path);
        }
    }
    let fills = String::from_utf8(first["hyperliquid/node_fills.jsonl"].clone()).unwrap();
    let rows: Vec<serde_json::Value> = fills.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(rows.len() > 200);
    // node_fills lines are [user, Fill], in time order, with both sides of each trade.
    let times: Vec<u64> = rows.iter().map(|r| r[1]["time"].as_u64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    let tid = &rows[0][1]["tid"];
    assert_eq!(rows.iter().filter(|r| &r[1]["tid"] == tid).count(), 2);
    assert!(first.contains_key("nansen/perp-leaderboard/30d/2026-01-02.json"));
    assert!(first.contains_key("sim/personas.json"));
}
