//! Hyperliquid: API-shaped types (and, as they arrive, the clients and signing).

pub mod actions;
pub mod info;
pub mod info_client;
pub mod keys;
pub mod signing;
pub mod ws_client;
