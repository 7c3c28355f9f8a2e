//! Ethereum-style account keys: the address of a secp256k1 private key.

use k256::ecdsa::SigningKey;
use sha3::{Digest, Keccak256};

/// The 20-byte address of a private key: the last 20 bytes of keccak256 of the
/// uncompressed public key without its 0x04 prefix. `None` for an invalid key.
pub fn address_of(private_key: &[u8; 32]) -> Option<[u8; 20]> {
    let key = SigningKey::from_slice(private_key).ok()?;
    let point = key.verifying_key().to_sec1_point(false);
    let hash = Keccak256::digest(&point.as_bytes()[1..]);
    let mut out = [0u8; 20];
    out.copy_from_slice(&hash[12..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_one_has_the_well_known_address() {
        let mut key = [0u8; 32];
        key[31] = 1;
        let addr = address_of(&key).unwrap();
        assert_eq!(hex::encode(addr), "7e5f4552091a69125d5dfcb7b8c2659029395bdf");
        assert!(address_of(&[0u8; 32]).is_none());
    }
}

/// A secp256k1 private key that signs and never shows itself: zeroed on drop,
/// redacted in `Debug` (which shows only the address).
pub struct Signer {
    key: zeroize::Zeroizing<[u8; 32]>,
    address: [u8; 20],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the private key is not 32 bytes of hex (0x + 64 hex digits)")]
    Format,
    #[error("the private key is not a valid secp256k1 key")]
    Invalid,
}

impl Signer {
    /// From `0x…` hex (64 digits; surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<Signer, KeyError> {
        let t = text.trim();
        let hex_part = t.strip_prefix("0x").unwrap_or(t);
        let mut key = zeroize::Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(hex_part, key.as_mut()).map_err(|_| KeyError::Format)?;
        Signer::from_bytes(*key)
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Result<Signer, KeyError> {
        let key = zeroize::Zeroizing::new(bytes);
        let address = address_of(&key).ok_or(KeyError::Invalid)?;
        Ok(Signer { key, address })
    }

    pub fn address(&self) -> [u8; 20] {
        self.address
    }

    /// `0x` and the lower-case hex address.
    pub fn address_hex(&self) -> String {
        format!("0x{}", hex::encode(self.address))
    }

    /// Signs a digest (RFC 6979, low-s).
    pub fn sign(&self, digest: &[u8; 32]) -> Result<super::actions::SignatureWire, super::signing::SigningError> {
        super::signing::sign_digest(&self.key, digest)
    }
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({}, key redacted)", self.address_hex())
    }
}
