//! The engine's pure half: the domain model, the strategy rules and the
//! timely/differential dataflows. No I/O and no async runtime live here
//! (DESIGN §1): everything in this crate is a deterministic function of its inputs.

pub mod brain;
pub mod config;
pub mod feed;
pub mod intel;
pub mod model;
pub mod replay;
pub mod rules;
pub mod stream;
pub mod trading;
