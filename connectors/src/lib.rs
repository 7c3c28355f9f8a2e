//! Everything that talks to the outside world, one module per system (DESIGN §1):
//! Nansen, Hyperliquid (info REST, WebSocket, exchange and signing), importers of
//! historical files, and the simulated venue that serves both APIs on loopback.
//!
//! This crate owns protocols and API-shaped types only; it knows nothing of
//! strategies and never depends on `dataflows`.

pub mod hyperliquid;
pub mod import;
pub mod nansen;
pub mod position;
pub mod sim;
pub mod wire;

/// Installs rustls' ring crypto provider for the process. reqwest and
/// tokio-tungstenite are built without a provider of their own (no OpenSSL, no
/// aws-lc C build), so every binary and test calls this once before building a
/// client. Calling it again is harmless.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
