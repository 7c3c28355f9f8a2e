//! `mirrorflow import PATH [--format F]`: what a dataset holds and what a
//! backfill would read, skip and derive — without running anything else.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use chrono::DateTime;
use connectors::import::{self, Format, hl2023, sim_export};

fn iso(ms: Option<u64>) -> String {
    ms.and_then(|m| DateTime::from_timestamp_millis(m as i64))
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| "-".into())
}

pub fn run(path: &Path, format: Option<&str>) -> anyhow::Result<()> {
    let format = match format {
        Some(name) => {
            Format::from_name(name).with_context(|| format!("--format {name:?} is not one of: hl-2023-csv"))?
        }
        None => import::detect(path)?,
    };
    let started = Instant::now();
    let mut shown_errors = 0;
    // Every bad row is counted; the first few are shown with their line.
    let mut on_error = |e: import::RowError| {
        if shown_errors < 10 {
            eprintln!("skipped {e}");
        }
        shown_errors += 1;
    };
    let summary = match format {
        Format::Hyperliquid2023 => hl2023::read(path, |_, _| {}, &mut on_error)?,
        Format::SimExport => sim_export::read(path, |_, _| {}, &mut on_error)?,
    };
    let secs = started.elapsed().as_secs_f64();
    println!("format: {}", summary.format);
    println!("rows: {}", summary.rows);
    println!("wallets: {}", summary.wallets);
    println!("tokens: {}", summary.tokens.len());
    println!("coins: {}", summary.tokens.join(" "));
    let events: Vec<String> = summary.events.iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!("events: {}", events.join(", "));
    println!("span: {} .. {}", iso(summary.first_ms), iso(summary.last_ms));
    if summary.skipped.is_empty() {
        println!("skipped: none");
    } else {
        let skipped: Vec<String> = summary.skipped.iter().map(|(k, n)| format!("{k} {n}")).collect();
        println!("skipped: {}", skipped.join(", "));
    }
    for d in &summary.derived {
        println!("derived: {d}");
    }
    println!("read in {secs:.2} s ({:.0} rows/s)", summary.rows as f64 / secs.max(1e-9));
    Ok(())
}
