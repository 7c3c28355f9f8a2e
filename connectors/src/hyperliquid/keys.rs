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
