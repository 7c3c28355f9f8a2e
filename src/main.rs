use std::process::ExitCode;

use clap::Parser;
use mirrorflow::cli::{Cli, Command, ConfigCommand};
use mirrorflow::config::{self, LogFormat};
use mirrorflow::logging;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = config::process_env();
    let log_format = cli.log_format.map(LogFormat::from).unwrap_or(LogFormat::Human);
    logging::init(log_format, cli.log_level.as_deref().unwrap_or("warn"));
    match run(cli, &env) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli, env: &std::collections::BTreeMap<String, String>) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Config(ConfigCommand::Show(source)) => {
            let loaded = config::load(source.config.as_deref(), env)?;
            print!("{}", config::render(&loaded)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Config(ConfigCommand::Check { file }) => match config::load(Some(&file), env) {
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
