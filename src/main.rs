use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use mirrorflow::cli::{Cli, Command, ConfigCommand};
use mirrorflow::config::{self, Config, ConfigError, Loaded, LogFormat};
use mirrorflow::logging;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = config::process_env();
    match run(&cli, &env) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Loads the configuration a command runs with, then starts logging as it (and
/// the command line) says; a configuration that fails to load is logged with the
/// defaults and returned as the error.
fn load_and_init_logging(
    cli: &Cli,
    path: Option<&Path>,
    env: &BTreeMap<String, String>,
) -> Result<Loaded, ConfigError> {
    let loaded = config::load(path, env);
    let defaults = Config::default();
    let log = loaded.as_ref().map(|l| &l.config.log).unwrap_or(&defaults.log);
    let format = cli.log_format.map(LogFormat::from).unwrap_or(log.format);
    logging::init(format, cli.log_level.as_deref().unwrap_or(&log.level));
    if let Ok(l) = &loaded {
        tracing::debug!(
            source = %l.path.as_deref().map(|p| p.display().to_string()).unwrap_or_else(|| "built-in defaults".into()),
            overrides = ?l.overrides,
            "configuration loaded"
        );
    }
    loaded
}

fn run(cli: &Cli, env: &BTreeMap<String, String>) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Config(ConfigCommand::Show(source)) => {
            let loaded = load_and_init_logging(cli, source.config.as_deref(), env)?;
            print!("{}", config::render(&loaded)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Config(ConfigCommand::Check { file }) => match load_and_init_logging(cli, Some(file), env) {
            Ok(loaded) => {
                let overrides = if loaded.overrides.is_empty() {
                    String::new()
                } else {
                    format!(" (with environment overrides {})", loaded.overrides.join(", "))
                };
                println!("{}: OK{overrides}", file.display());
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("{e}");
                Ok(ExitCode::FAILURE)
            }
        },
    }
}
