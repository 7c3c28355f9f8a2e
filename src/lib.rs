//! mirrorflow, the application: command line, configuration, durable state, and
//! (as they arrive) ingestion, the daemon, backfill, the executor and reports.
//! The domain and the dataflows live in the `dataflows` crate; protocols and the
//! simulated venue in `connectors` (DESIGN §1).

pub mod cli;
pub mod clients;
pub mod commands;
pub mod config;
pub mod daemon;
pub mod decimal;
pub mod executor;
pub mod ingest;
pub mod logging;
pub mod report;
pub mod run_identity;
#[cfg(test)]
mod samples;
pub mod store;
