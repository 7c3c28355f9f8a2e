//! Everything that talks to the outside world, one module per system (DESIGN §1):
//! Nansen, Hyperliquid (info REST, WebSocket, exchange and signing), importers of
//! historical files, and the simulated venue that serves both APIs on loopback.
//!
//! This crate owns protocols and API-shaped types only; it knows nothing of
//! strategies and never depends on `dataflows`.

pub mod hyperliquid;
pub mod nansen;
pub mod sim;
pub mod wire;
