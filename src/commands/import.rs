//! `mirrorflow import PATH [--format F]`: what a dataset holds and what a
//! backfill would read, skip, derive and refuse — without running anything else.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use chrono::DateTime;
use connectors::import::{self, Format};
use indicatif::{ProgressBar, ProgressStyle};

use crate::ingest::history;

fn iso(ms: Option<u64>) -> String {
    ms.and_then(|m| DateTime::from_timestamp_millis(m as i64))
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| "-".into())
}

fn join<K: std::fmt::Display, V: std::fmt::Display>(items: impl IntoIterator<Item = (K, V)>) -> String {
    let parts: Vec<String> = items.into_iter().map(|(k, n)| format!("{k} {n}")).collect();
    if parts.is_empty() { "none".into() } else { parts.join(", ") }
}

pub fn run(path: &Path, format: Option<&str>) -> anyhow::Result<()> {
    let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
    let format = match format {
        Some(name) => {
            Format::from_name(name).with_context(|| format!("--format {name:?} is not one of: {}", names.join(", ")))?
        }
        None => import::detect(path)?,
    };
    let started = Instant::now();
    // Drawn on stderr only when it is a terminal.
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{spinner} {bytes}/{total_bytes} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut last_size = 0;
    let mut shown_errors = 0;
    // Every bad row is counted; the first few are shown with their line.
    let on_error = |e: import::RowError| {
        if shown_errors < 10 {
            bar.suspend(|| eprintln!("skipped {e}"));
        }
        shown_errors += 1;
    };
    let on_file = |file: &Path, size: u64| {
        bar.inc(last_size);
        last_size = size;
        bar.inc_length(size);
        bar.set_message(file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    };
    let h = history::load(path, Some(format), None, on_error, on_file)?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let s = &h.summary;
    println!("format: {}", s.format);
    println!("rows: {}", s.rows);
    println!("wallets: {}", s.wallets);
    println!("tokens: {}", s.tokens.len());
    println!("coins: {}", s.tokens.join(" "));
    println!("records: {}", join(&s.events));
    println!("events: {}", join(history::count_by_kind(&h.events)));
    println!("span: {} .. {}", iso(s.first_ms), iso(s.last_ms));
    println!("files: {}", join(&s.sources));
    println!("skipped: {}", join(&s.skipped));
    println!("refused: {}", join(&h.ingest.errors));
    println!("duplicates: {}", h.ingest.duplicates);
    for d in &s.derived {
        println!("derived: {d}");
    }
    println!(
        "read in {secs:.2} s ({:.0} rows/s, {:.0} events/s)",
        s.rows as f64 / secs.max(1e-9),
        h.events.len() as f64 / secs.max(1e-9)
    );
    Ok(())
}
