//! The simulated venue (DESIGN §8): a deterministic Hyperliquid market with
//! trader personas and a ledger, served on loopback through the same HTTP shapes
//! as Nansen and Hyperliquid, in virtual time, and exportable as history.

pub mod exchange;
pub mod export;
pub mod faults;
pub mod ledger;
pub mod market;
pub mod personas;
pub mod rng;
pub mod tokens;
pub mod world;

pub use world::{DEFAULT_T0_MS, SimConfig, World};
pub mod nansen_views;
pub mod server;
pub mod views;
pub mod wire_times;
pub mod ws;

pub use server::{ClockMode, RunningVenue, TEST_NANSEN_KEY, Venue, VenueOptions, start};
