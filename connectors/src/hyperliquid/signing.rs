//! Hyperliquid's signing schemes, byte for byte (hyperliquid-api.md §0, §1.1,
//! §1.5): the L1 action hash and phantom agent with the `Exchange` EIP-712
//! domain, user-signed actions under `HyperliquidSignTransaction`, secp256k1
//! signing (RFC 6979, low-s) and recovery of the signer, all with k256 + sha3.

use k256::ecdsa::{RecoveryId, Signature, SigningKey, VerifyingKey};
use sha3::{Digest, Keccak256};

use super::actions::{Action, SignatureWire};

pub fn keccak(data: &[u8]) -> [u8; 32] {
    Keccak256::digest(data).into()
}

fn keccak_parts(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Keccak256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn u256(n: u64) -> [u8; 32] {
    let mut out = [0u8; 32];
    out[24..].copy_from_slice(&n.to_be_bytes());
    out
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningError {
    #[error("cannot encode the action as MessagePack: {0}")]
    Encode(String),
    #[error("vault address {0:?} is not 0x followed by 40 hex digits")]
    VaultAddress(String),
    #[error("invalid private key")]
    Key,
    #[error("signature {0} is not valid hex of at most 32 bytes")]
    SignatureHex(&'static str),
    #[error("signature v must be 27 or 28 (got {0})")]
    RecoveryId(u8),
    #[error("the signature does not recover a public key")]
    Recover,
    #[error("unknown user-signed action type {0:?}")]
    UserAction(String),
    #[error("user-signed action field {0:?} is missing or has the wrong type")]
    UserField(String),
}

/// The action hash (`connectionId`): keccak of msgpack ‖ nonce (u64 BE) ‖ vault
/// flag (‖ 20 address bytes) ‖ (0x00 ‖ expiresAfter u64 BE, only when set).
pub fn action_hash(
    action: &Action,
    nonce: u64,
    vault: Option<&str>,
    expires_after: Option<u64>,
) -> Result<[u8; 32], SigningError> {
    let mut pre = action.msgpack().map_err(|e| SigningError::Encode(e.to_string()))?;
    pre.extend_from_slice(&nonce.to_be_bytes());
    match vault {
        None => pre.push(0),
        Some(addr) => {
            pre.push(1);
            pre.extend_from_slice(&address_bytes(addr).ok_or_else(|| SigningError::VaultAddress(addr.into()))?);
        }
    }
    if let Some(t) = expires_after {
        pre.push(0);
        pre.extend_from_slice(&t.to_be_bytes());
    }
    Ok(keccak(&pre))
}

pub fn address_bytes(addr: &str) -> Option<[u8; 20]> {
    let h = addr.strip_prefix("0x").or_else(|| addr.strip_prefix("0X"))?;
    let mut out = [0u8; 20];
    hex::decode_to_slice(h, &mut out).ok()?;
    Some(out)
}

const DOMAIN_TYPE: &[u8] = b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";

fn domain_separator(name: &str, chain_id: u64) -> [u8; 32] {
    keccak_parts(&[&keccak(DOMAIN_TYPE), &keccak(name.as_bytes()), &keccak(b"1"), &u256(chain_id), &[0u8; 32]])
}

/// The `Exchange` domain separator (chain id 1337, same on mainnet and testnet).
pub fn l1_domain_separator() -> [u8; 32] {
    domain_separator("Exchange", 1337)
}

/// `keccak(0x19 0x01 ‖ domain ‖ struct)`.
pub fn eip712_digest(domain: &[u8; 32], struct_hash: &[u8; 32]) -> [u8; 32] {
    keccak_parts(&[&[0x19, 0x01], domain, struct_hash])
}

/// The phantom agent's struct hash: `Agent(string source,bytes32 connectionId)`
/// with source `a` on mainnet and `b` on testnet.
pub fn agent_struct_hash(connection_id: &[u8; 32], mainnet: bool) -> [u8; 32] {
    let source: &[u8] = if mainnet { b"a" } else { b"b" };
    keccak_parts(&[&keccak(b"Agent(string source,bytes32 connectionId)"), &keccak(source), connection_id])
}

/// The digest an L1 action's signature covers.
pub fn l1_digest(
    action: &Action,
    nonce: u64,
    vault: Option<&str>,
    expires_after: Option<u64>,
    mainnet: bool,
) -> Result<[u8; 32], SigningError> {
    let connection_id = action_hash(action, nonce, vault, expires_after)?;
    Ok(eip712_digest(&l1_domain_separator(), &agent_struct_hash(&connection_id, mainnet)))
}

/// EIP-712 field types of the user-signed actions, in hashing order.
pub fn user_action_fields(action_type: &str) -> Option<(&'static str, &'static [(&'static str, &'static str)])> {
    Some(match action_type {
        "usdSend" => (
            "HyperliquidTransaction:UsdSend",
            &[("hyperliquidChain", "string"), ("destination", "string"), ("amount", "string"), ("time", "uint64")],
        ),
        "withdraw3" => (
            "HyperliquidTransaction:Withdraw",
            &[("hyperliquidChain", "string"), ("destination", "string"), ("amount", "string"), ("time", "uint64")],
        ),
        "approveAgent" => (
            "HyperliquidTransaction:ApproveAgent",
            &[
                ("hyperliquidChain", "string"),
                ("agentAddress", "address"),
                ("agentName", "string"),
                ("nonce", "uint64"),
            ],
        ),
        _ => return None,
    })
}

/// The digest a user-signed action's signature covers, from the posted action
/// (with `signatureChainId` and `hyperliquidChain`). An absent `agentName` is
/// signed as `""` (the SDK deletes the key after signing an unnamed agent).
pub fn user_signed_digest(action: &serde_json::Value) -> Result<[u8; 32], SigningError> {
    let kind = action["type"].as_str().unwrap_or_default();
    let (primary, fields) = user_action_fields(kind).ok_or_else(|| SigningError::UserAction(kind.into()))?;
    let type_string =
        format!("{primary}({})", fields.iter().map(|(n, t)| format!("{t} {n}")).collect::<Vec<_>>().join(","));
    let mut encoded = keccak(type_string.as_bytes()).to_vec();
    for (name, ty) in fields {
        let v = &action[*name];
        let word: [u8; 32] = match *ty {
            "string" => match (v.as_str(), *name) {
                (Some(s), _) => keccak(s.as_bytes()),
                (None, "agentName") if v.is_null() => keccak(b""),
                _ => return Err(SigningError::UserField((*name).into())),
            },
            "address" => {
                let a = v.as_str().and_then(address_bytes).ok_or_else(|| SigningError::UserField((*name).into()))?;
                let mut w = [0u8; 32];
                w[12..].copy_from_slice(&a);
                w
            }
            "uint64" => u256(v.as_u64().ok_or_else(|| SigningError::UserField((*name).into()))?),
            _ => return Err(SigningError::UserField((*name).into())),
        };
        encoded.extend_from_slice(&word);
    }
    let chain =
        action["signatureChainId"].as_str().and_then(|c| u64::from_str_radix(c.trim_start_matches("0x"), 16).ok());
    let chain = chain.ok_or_else(|| SigningError::UserField("signatureChainId".into()))?;
    Ok(eip712_digest(&domain_separator("HyperliquidSignTransaction", chain), &keccak(&encoded)))
}

/// Signs a digest (RFC 6979, low-s) as `{r, s, v}` with r/s as 32-byte hex.
pub fn sign_digest(private_key: &[u8; 32], digest: &[u8; 32]) -> Result<SignatureWire, SigningError> {
    let key = SigningKey::from_slice(private_key).map_err(|_| SigningError::Key)?;
    let (sig, recid) = key.sign_prehash_recoverable(digest);
    let bytes = sig.to_bytes();
    Ok(SignatureWire {
        r: format!("0x{}", hex::encode(&bytes[..32])),
        s: format!("0x{}", hex::encode(&bytes[32..])),
        v: 27 + recid.to_byte(),
    })
}

fn scalar(hex_text: &str, which: &'static str) -> Result<[u8; 32], SigningError> {
    let h = hex_text.strip_prefix("0x").unwrap_or(hex_text);
    if h.is_empty() || h.len() > 64 {
        return Err(SigningError::SignatureHex(which));
    }
    let padded = format!("{h:0>64}");
    let mut out = [0u8; 32];
    hex::decode_to_slice(&padded, &mut out).map_err(|_| SigningError::SignatureHex(which))?;
    Ok(out)
}

/// The address whose key made `sig` over `digest`.
pub fn recover_signer(digest: &[u8; 32], sig: &SignatureWire) -> Result<[u8; 20], SigningError> {
    let mut rs = [0u8; 64];
    rs[..32].copy_from_slice(&scalar(&sig.r, "r")?);
    rs[32..].copy_from_slice(&scalar(&sig.s, "s")?);
    let signature = Signature::from_slice(&rs).map_err(|_| SigningError::Recover)?;
    let recid = match sig.v {
        27 | 28 => RecoveryId::from_byte(sig.v - 27).ok_or(SigningError::RecoveryId(sig.v))?,
        other => return Err(SigningError::RecoveryId(other)),
    };
    let key = VerifyingKey::recover_from_prehash(digest, &signature, recid).map_err(|_| SigningError::Recover)?;
    let point = key.to_sec1_point(false);
    let hash = keccak(&point.as_bytes()[1..]);
    let mut out = [0u8; 20];
    out.copy_from_slice(&hash[12..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_the_reference() {
        assert_eq!(
            hex::encode(l1_domain_separator()),
            "d79297fcdf2ffcd4ae223d01edaa2ba214ff8f401d7c9300d995d17c82aa4040"
        );
        assert_eq!(
            hex::encode(domain_separator("HyperliquidSignTransaction", 421_614)),
            "feb1393ca4412a4ca577bd51d04f0a77033514c602f4d0a11490fb95f7428df6"
        );
    }

    #[test]
    fn sign_then_recover_round_trips() {
        let mut key = [0u8; 32];
        key[31] = 1;
        let digest = keccak(b"anything");
        let sig = sign_digest(&key, &digest).unwrap();
        assert_eq!(hex::encode(recover_signer(&digest, &sig).unwrap()), "7e5f4552091a69125d5dfcb7b8c2659029395bdf");
        let mut bad = sig.clone();
        bad.v = 29;
        assert_eq!(recover_signer(&digest, &bad), Err(SigningError::RecoveryId(29)));
    }
}
