//! `mirrorflow backfill` on a venue export: the same bytes with one and two
//! timely workers, and the venue's copy clusters (its persona ground truth:
//! followers and their leader) found together.

use std::collections::BTreeMap;
use std::process::Command;

fn backfill(input: &std::path::Path, out: &std::path::Path, workers: &str) {
    let o = Command::new(env!("CARGO_BIN_EXE_mirrorflow"))
        .args(["backfill", "--input"])
        .arg(input)
        .arg("--out")
        .arg(out)
        .args(["--workers", workers])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn backfill_is_identical_for_any_worker_count_and_finds_the_copy_clusters() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    let cfg = connectors::sim::SimConfig { seed: 5, wallets: 40, tokens: 5, warmup_days: 20, ..Default::default() };
    connectors::sim::export::export(cfg, 2, &export, &mut |_: &str, _: u64, _: u64| {}).unwrap();
    let (one, two) = (dir.path().join("w1"), dir.path().join("w2"));
    backfill(&export, &one, "1");
    backfill(&export, &two, "2");
    let a = std::fs::read(one.join("clusters.jsonl")).unwrap();
    let b = std::fs::read(two.join("clusters.jsonl")).unwrap();
    assert!(!a.is_empty());
    assert!(a == b, "clusters.jsonl differs between 1 and 2 workers");

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
