//! The command line. Subcommands appear here as they become real.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::LogFormat;

#[derive(Debug, Parser)]
#[command(
    name = "mirrorflow",
    version,
    about = "Follows the best perpetual-futures traders on Hyperliquid and trades alongside them",
    long_about = None
)]
pub struct Cli {
    /// Log output format (overrides `log.format`).
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormatArg>,
    /// Log level or tracing filter (overrides `log.level`; `RUST_LOG` wins over both).
    #[arg(long, global = true)]
    pub log_level: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormatArg {
    Human,
    Json,
}

impl From<LogFormatArg> for LogFormat {
    fn from(a: LogFormatArg) -> LogFormat {
        match a {
            LogFormatArg::Human => LogFormat::Human,
            LogFormatArg::Json => LogFormat::Json,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show or check configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The simulated venue: a deterministic Hyperliquid + Nansen on loopback.
    #[command(subcommand)]
    Sim(SimCommand),
    /// Inspect a dataset: rows, events, wallets, tokens, time span, and what would be skipped and why.
    Import {
        /// A dataset: Hyperliquid's 2023 CSVs, a directory or file of node_fills/node_trades lines, archive
        /// hours, candles, funding, Nansen pages, or what `sim export` and `fetch` wrote.
        path: PathBuf,
        /// Force an importer instead of detecting it (hl-2023-csv, sim-export, dataset).
        #[arg(long)]
        format: Option<String>,
    },
    /// Download a backfill dataset: the top wallets' fills and states, daily leaderboards, and the
    /// candles and funding of the coins they traded. Resumable: run it again to continue.
    Fetch(FetchArgs),
    /// Replay a dataset through the dataflows: trader intelligence, every strategy's signals and the
    /// order intents that passed the risk module, written to a run directory.
    Backfill {
        #[command(flatten)]
        source: ConfigSource,
        /// A dataset `mirrorflow import` reads.
        #[arg(long)]
        input: PathBuf,
        /// The run directory.
        #[arg(long)]
        out: PathBuf,
        /// Timely workers; the output is identical for any count.
        #[arg(long, default_value_t = 1)]
        workers: usize,
        /// A strategy to run (consensus, entry, index); repeatable. Default: those enabled in the config.
        #[arg(long = "strategy")]
        strategies: Vec<String>,
        /// Feed only inputs at or after this time (YYYY-MM-DD, RFC 3339 or epoch ms, UTC);
        /// the scores need their windows of history before the first trade.
        #[arg(long, value_parser = parse_time)]
        from: Option<u64>,
        /// Feed only inputs at or before this time (as `--from`).
        #[arg(long, value_parser = parse_time)]
        to: Option<u64>,
    },
    /// The streaming daemon: follows the tracked wallets and trades alongside them (paper by
    /// default), checkpointing to redb so that a restart continues where it stopped.
    Run(RunArgs),
    /// The simulated venue in-process and the paper daemon against it through the real
    /// connectors, in accelerated time; then the run directory's report and a summary.
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub source: ConfigSource,
    /// Days of trading after the venue's 90 days of history.
    #[arg(long, default_value_t = 3)]
    pub days: u64,
    /// Seed of the simulated world.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The run directory (created; the daemon's state goes to its `state/`).
    #[arg(long, default_value = "demo-run")]
    pub out: PathBuf,
    /// Trader wallets in the simulated world.
    #[arg(long, default_value_t = 120)]
    pub wallets: usize,
    /// Perp markets in the simulated world.
    #[arg(long, default_value_t = 10)]
    pub tokens: usize,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub source: ConfigSource,
    /// Simulated fills against the venue's prices (the default).
    #[arg(long, conflicts_with = "live")]
    pub paper: bool,
    /// Real orders on the configured account (needs a private key).
    #[arg(long)]
    pub live: bool,
    /// Where the redb state and the run directory live (overrides `state.dir`).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    #[command(flatten)]
    pub source: ConfigSource,
    /// Days of history, ending at the last midnight (UTC).
    #[arg(long, default_value_t = 90)]
    pub days: u64,
    /// Wallets to follow: the best by PnL on the 30-day leaderboard.
    #[arg(long, default_value_t = 50)]
    pub top: usize,
    /// Leaderboard windows (days) saved for each day of the period.
    #[arg(long, value_delimiter = ',', default_value = "7,30")]
    pub windows: Vec<u64>,
    /// Output directory (created; an existing fetch there is resumed).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Serve the venue's APIs on loopback in virtual time until Ctrl-C.
    Serve(SimServeArgs),
    /// Write a world's history (warm-up included) in the sources' own formats.
    Export(SimExportArgs),
}

/// What world to simulate: the same values give the same world.
#[derive(Debug, Args)]
pub struct WorldArgs {
    /// Seed of every random draw.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Trader wallets (personas), at least 10.
    #[arg(long, default_value_t = 300)]
    pub wallets: usize,
    /// Perp markets, 1 to 30.
    #[arg(long, default_value_t = 30)]
    pub tokens: usize,
    /// Days of history simulated before t0.
    #[arg(long, default_value_t = 90)]
    pub warmup_days: u64,
    /// t0, the venue's "now" when it starts (YYYY-MM-DD, UTC); default 2026-01-01.
    #[arg(long)]
    pub t0: Option<String>,
}

#[derive(Debug, Args)]
pub struct SimServeArgs {
    #[command(flatten)]
    pub world: WorldArgs,
    /// Address to serve on (port 0: the OS picks one).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// Virtual seconds per real second.
    #[arg(long, default_value_t = 60.0, conflicts_with = "stepped")]
    pub speed: f64,
    /// Advance only on POST /sim/advance.
    #[arg(long)]
    pub stepped: bool,
    /// Write a mirrorflow config (and owner-only key files beside it) pointing at this venue.
    #[arg(long)]
    pub write_config: Option<PathBuf>,
    /// /info request weight allowed per minute (Hyperliquid's is 1200).
    #[arg(long, default_value_t = 1_200)]
    pub info_weight_per_minute: u32,
    /// Nansen requests allowed per second for one key (429 beyond).
    #[arg(long, default_value_t = 20)]
    pub nansen_per_second: u32,
    /// Nansen requests allowed per minute for one key (429 beyond).
    #[arg(long, default_value_t = 600)]
    pub nansen_per_minute: u32,
    /// Credits of the test Nansen key (403 insufficient_credits when spent).
    #[arg(long, default_value_t = 1_000_000)]
    pub nansen_credits: u64,
    /// Faults from the start, e.g. `latency_ms=200,error_rate=0.1,ws_drop_every_ms=5000,freeze_prices`
    /// (change them live with POST /sim/faults).
    #[arg(long, default_value = "")]
    pub faults: String,
}

#[derive(Debug, Args)]
pub struct SimExportArgs {
    #[command(flatten)]
    pub world: WorldArgs,
    /// Days simulated after t0 (the export covers warm-up + days).
    #[arg(long)]
    pub days: u64,
    /// Output directory (created; must be empty if it exists).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration (defaults, file, environment overrides) with secrets redacted.
    Show(ConfigSource),
    /// Validate a configuration file; exits non-zero and lists every problem when it is invalid.
    Check {
        /// The TOML file to check.
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ConfigSource {
    /// Configuration file (TOML); without it, the built-in defaults.
    #[arg(long, short = 'c', env = "MIRRORFLOW_CONFIG")]
    pub config: Option<PathBuf>,
}

/// A time argument in epoch milliseconds: `YYYY-MM-DD` (00:00 UTC), RFC 3339,
/// or a number of milliseconds.
pub fn parse_time(text: &str) -> Result<u64, String> {
    if let Ok(ms) = text.parse::<u64>() {
        return Ok(ms);
    }
    let ms = if let Ok(d) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp_millis())
    } else {
        chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| t.timestamp_millis())
    };
    ms.and_then(|ms| u64::try_from(ms).ok()).ok_or_else(|| {
        format!("{text:?} is not a time: use YYYY-MM-DD, RFC 3339 or epoch milliseconds (UTC, after 1970)")
    })
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn times_parse_as_dates_rfc3339_or_milliseconds() {
        assert_eq!(parse_time("2026-01-01"), Ok(1_767_225_600_000));
        assert_eq!(parse_time("2026-01-01T01:00:00+01:00"), Ok(1_767_225_600_000));
        assert_eq!(parse_time("1767225600000"), Ok(1_767_225_600_000));
        assert!(parse_time("1969-12-31").is_err());
        assert!(parse_time("-5").unwrap_err().contains("is not a time"));
    }
}
