//! The executor sink: what turns the brain's order intents into orders and
//! brings our own fills and positions back as inputs (DESIGN §5).
//! `paper` fills against the marks with the simulation model; `journal` keeps
//! each intent's lifecycle in redb, recorded before anything is sent. The live
//! Hyperliquid executor joins them in the daemon.

pub mod journal;
pub mod paper;
