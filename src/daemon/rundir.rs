//! The daemon's run directory, `<state-dir>/run/` (DESIGN §7): signals
//! appended as they are decided, orders rewritten with their outcomes at each
//! checkpoint, and `status.json`, the time processed up to with the counts a
//! test or an operator polls. A recovery rewrites the files from the replayed
//! decisions, so a crash between a commit and a write leaves no gap.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use dataflows::model::{IntentId, OrderIntent, Signal, TimeMs};
use serde::{Deserialize, Serialize};

use crate::commands::backfill::{intent_json, signal_json, write_lines};
use crate::executor::paper::Execution;

/// What `status.json` says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub pid: u32,
    pub mode: String,
    /// Every input up to this time has been processed (the daemon's frontier).
    pub processed_to: TimeMs,
    pub steps: u64,
    pub signals: u64,
    pub intents: u64,
    pub inputs_logged: u64,
    /// "recovering", "running", "stopping" or "stopped".
    pub phase: String,
}

pub struct RunDir {
    dir: PathBuf,
}

impl RunDir {
    pub fn open(dir: &Path) -> anyhow::Result<RunDir> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(RunDir { dir: dir.to_path_buf() })
    }

    /// Rewrites `signals.jsonl` with everything decided so far.
    pub fn rewrite_signals(&self, signals: &[Signal]) -> anyhow::Result<()> {
        write_lines(&self.dir.join("signals.jsonl"), signals.iter().map(signal_json))
    }

    /// Appends a step's signals.
    pub fn append_signals(&self, signals: &[Signal]) -> anyhow::Result<()> {
        if signals.is_empty() {
            return Ok(());
        }
        let path = self.dir.join("signals.jsonl");
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot append to {}", path.display()))?;
        let mut buf = Vec::new();
        for s in signals {
            writeln!(buf, "{}", signal_json(s))?;
        }
        f.write_all(&buf)?;
        Ok(())
    }

    /// Rewrites `orders.jsonl`: every intent with its outcome so far.
    pub fn write_orders(
        &self,
        intents: &[OrderIntent],
        executions: &BTreeMap<IntentId, Execution>,
    ) -> anyhow::Result<()> {
        write_lines(&self.dir.join("orders.jsonl"), intents.iter().map(|i| intent_json(i, executions.get(&i.id))))
    }

    /// Replaces `status.json` whole (written aside, then renamed).
    pub fn write_status(&self, status: &Status) -> anyhow::Result<()> {
        let path = self.dir.join("status.json");
        let part = self.dir.join("status.json.part");
        std::fs::write(&part, serde_json::to_vec_pretty(status)?)
            .with_context(|| format!("cannot write {}", part.display()))?;
        std::fs::rename(&part, &path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    }

    /// Appends a line to `equity.csv` (time, account value).
    pub fn append_equity(&self, time: TimeMs, value: &str) -> anyhow::Result<()> {
        let path = self.dir.join("equity.csv");
        let new = !path.exists();
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot append to {}", path.display()))?;
        if new {
            writeln!(f, "time_ms,account_value_usd")?;
        }
        writeln!(f, "{time},{value}")?;
        Ok(())
    }
}

/// Reads a daemon's `status.json`.
pub fn read_status(run_dir: &Path) -> Option<Status> {
    serde_json::from_slice(&std::fs::read(run_dir.join("status.json")).ok()?).ok()
}
