//! The executor sink: what turns the brain's order intents into orders and
//! brings our own fills and positions back as inputs (DESIGN §5).
//! `paper` fills against the marks with the simulation model; the live
//! Hyperliquid executor and the redb intent journal join it in the daemon.

pub mod paper;
