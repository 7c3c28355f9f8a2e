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
