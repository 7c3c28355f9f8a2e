//! Hyperliquid: API-shaped types, the info and WebSocket clients, wallet
//! tracking over the public tape, and signing.

pub mod actions;
pub mod builders;
pub mod exchange_client;
pub mod info;
pub mod info_client;
pub mod keys;
pub mod nonces;
pub mod numbers;
pub mod signing;
pub mod tracker;
pub mod ws_client;
