//! `mirrorflow backfill --input PATH --out DIR [--workers N]`: replays a dataset
//! through the dataflows built so far and writes their changes over time to the
//! run directory, in canonical order (DESIGN §7): the same bytes for any worker
//! count. So far: `clusters.jsonl` (scores and allocations join it as their
//! dataflows land).

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use dataflows::intel::replay::{Input, replay};
use dataflows::model::PositionSide;

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
            Event::Position(p) => Some(Input::Position {
                time_ms: p.time_ms,
                wallet: p.wallet,
                token: p.token,
                side: PositionSide::of(p.size),
            }),
            _ => None,
        })
        .collect();
    let outputs = replay(&inputs, workers).map_err(anyhow::Error::msg)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let path = out.join("clusters.jsonl");
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?,
    );
    for c in &outputs.clusters {
        writeln!(
            file,
            "{}",
            serde_json::json!({"time_ms": c.time_ms, "wallet": c.wallet.canonical(), "cluster": c.cluster.canonical(), "diff": c.diff})
        )?;
    }
    file.flush()?;
    println!("events: {}", inputs.len());
    println!("cluster changes: {}", outputs.clusters.len());
    println!("out: {}", out.display());
    println!("took {:.1} s with {workers} worker(s)", started.elapsed().as_secs_f64());
    Ok(())
}
