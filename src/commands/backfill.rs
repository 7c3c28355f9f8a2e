//! `mirrorflow backfill --input PATH --out DIR [--workers N]`: replays a dataset
//! through the dataflows built so far and writes their changes over time to the
//! run directory, in canonical order (DESIGN §7): the same bytes for any worker
//! count. So far the trader intelligence: `scores.jsonl` (standings: score
//! components, pace, the gate that made a wallet ineligible), `tiers.jsonl`,
//! `clusters.jsonl`, `cluster_pairs.jsonl` (the overlaps behind them) and
//! `allocations.jsonl`.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use dataflows::intel::feed::Input;
use dataflows::intel::replay::{Change, replay};
use serde_json::{Value, json};

use crate::ingest::{Event, history};

pub fn run(input: &Path, out: &Path, workers: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut shown = 0;
    let h = history::load(
        input,
        None,
        None,
        |e| {
            if shown < 5 {
                eprintln!("skipped {e}");
            }
            shown += 1;
        },
        |_, _| {},
    )?;
    let inputs: Vec<Input> = h
        .events
        .iter()
        .filter_map(|s| match &s.event {
            Event::Fill(f) => Some(Input::Fill(f.clone())),
            Event::Position(p) => Some(Input::Position(p.clone())),
            Event::Account(a) => Some(Input::Account(a.clone())),
            Event::Leaderboard(r) => Some(Input::Leaderboard(r.clone())),
            _ => None,
        })
        .collect();
    let outputs = replay(&inputs, workers).map_err(anyhow::Error::msg)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let counts = [
        write(out, "scores.jsonl", &outputs.standings, |s| json!({ "standing": s }))?,
        write(out, "tiers.jsonl", &outputs.tiers, |t| json!({ "tier": t }))?,
        write(out, "clusters.jsonl", &outputs.clusters, |c| json!({ "cluster": c.canonical() }))?,
        write(
            out,
            "cluster_pairs.jsonl",
            &outputs.pairs,
            |(other, overlap)| json!({ "other": other.canonical(), "overlap": overlap }),
        )?,
        write(
            out,
            "allocations.jsonl",
            &outputs.allocations,
            |w| json!({ "raw": w.raw, "capped": w.capped, "final": w.final_weight }),
        )?,
    ];
    println!("events: {}", inputs.len());
    for (name, n) in ["score", "tier", "cluster", "cluster pair", "allocation"].iter().zip(counts) {
        println!("{name} changes: {n}");
    }
    println!("out: {}", out.display());
    println!("took {:.1} s with {workers} worker(s)", started.elapsed().as_secs_f64());
    Ok(())
}

/// One line per change: `time_ms`, `wallet`, `diff` and the row's fields.
fn write<T>(dir: &Path, name: &str, changes: &[Change<T>], fields: impl Fn(&T) -> Value) -> anyhow::Result<usize> {
    let path = dir.join(name);
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?,
    );
    for c in changes {
        let mut line = json!({ "time_ms": c.time_ms, "wallet": c.wallet.canonical(), "diff": c.diff });
        if let (Some(obj), Value::Object(more)) = (line.as_object_mut(), fields(&c.value)) {
            obj.extend(more);
        }
        writeln!(file, "{line}")?;
    }
    file.flush()?;
    Ok(changes.len())
}
