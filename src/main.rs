use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use mirrorflow::cli::{Cli, Command, ConfigCommand, SimCommand};
use mirrorflow::commands;
use mirrorflow::config::{self, Config, ConfigError, Loaded, LogFormat};
use mirrorflow::logging;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = config::process_env();
    connectors::install_tls_provider();
    match run(&cli, &env) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Starts logging as the command line, then the configuration, say.
fn init_logging(cli: &Cli, config: Option<&Config>) {
    let defaults = Config::default();
    let log = &config.unwrap_or(&defaults).log;
    let format = cli.log_format.map(LogFormat::from).unwrap_or(log.format);
    logging::init(format, cli.log_level.as_deref().unwrap_or(&log.level));
}

/// Loads the configuration a command runs with and starts logging from it; a
/// configuration that fails to load is logged with the defaults.
fn load_and_init_logging(
    cli: &Cli,
    path: Option<&Path>,
    env: &BTreeMap<String, String>,
) -> Result<Loaded, ConfigError> {
    let loaded = config::load(path, env);
    init_logging(cli, loaded.as_ref().ok().map(|l| &l.config));
    if let Ok(l) = &loaded {
        tracing::debug!(
            source = %l.path.as_deref().map(|p| p.display().to_string()).unwrap_or_else(|| "built-in defaults".into()),
            overrides = ?l.overrides,
            "configuration loaded"
        );
    }
    loaded
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")
}

fn run(cli: &Cli, env: &BTreeMap<String, String>) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Config(ConfigCommand::Show(source)) => {
            let loaded = load_and_init_logging(cli, source.config.as_deref(), env)?;
            commands::config::show(&loaded)
        }
        Command::Config(ConfigCommand::Check { file }) => {
            let _ = load_and_init_logging(cli, Some(file), env);
            Ok(commands::config::check(file, env))
        }
        Command::Sim(SimCommand::Serve(args)) => {
            init_logging(cli, None);
            runtime()?.block_on(commands::sim::serve(args))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { path, format } => {
            init_logging(cli, None);
            commands::import::run(path, format.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Backfill { source, input, out, workers, strategies, from, to } => {
            let loaded = load_and_init_logging(cli, source.config.as_deref(), env)?;
            let window = commands::backfill::Window { from: *from, to: *to };
            commands::backfill::run(&loaded.config, input, out, *workers, strategies, window)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Fetch(args) => {
            let loaded = load_and_init_logging(cli, args.source.config.as_deref(), env)?;
            runtime()?.block_on(commands::fetch::run(args, &loaded))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(args) => {
            let loaded = load_and_init_logging(cli, args.source.config.as_deref(), env)?;
            let opts = mirrorflow::daemon::RunOptions {
                mode: if args.live {
                    mirrorflow::run_identity::Mode::Live
                } else {
                    mirrorflow::run_identity::Mode::Paper
                },
                state_dir: args.state_dir.clone().unwrap_or_else(|| loaded.config.state.dir.clone()),
                until: None,
            };
            runtime()?.block_on(mirrorflow::daemon::run(&loaded, &opts))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(args) => {
            // The demo's own progress is the display; the daemon's log says only what went wrong.
            let loaded = config::load(args.source.config.as_deref(), env);
            let format = cli.log_format.map(LogFormat::from).unwrap_or(LogFormat::Human);
            logging::init(format, cli.log_level.as_deref().unwrap_or("warn"));
            let loaded = loaded?;
            runtime()?.block_on(commands::demo::run(args, &loaded))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sim(SimCommand::Export(args)) => {
            init_logging(cli, None);
            commands::sim::export_history(args)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
