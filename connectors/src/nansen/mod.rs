//! Nansen: API-shaped types (and, as it arrives, the client).

pub mod client;
pub mod types;
