//! What each subcommand does; `main` only parses and dispatches.

pub mod backfill;
pub mod config;
pub mod demo;
pub mod fetch;
pub mod import;
pub mod sim;
