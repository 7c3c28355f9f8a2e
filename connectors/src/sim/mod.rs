//! The simulated venue (DESIGN §8): a deterministic Hyperliquid market with
//! trader personas and a ledger, served on loopback through the same HTTP shapes
//! as Nansen and Hyperliquid, in virtual time, and exportable as history.

pub mod ledger;
pub mod market;
pub mod personas;
pub mod rng;
pub mod tokens;
pub mod world;

pub use world::{DEFAULT_T0_MS, SimConfig, World};
