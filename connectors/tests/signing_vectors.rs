//! Byte-exactness against the official SDK: every vector of
//! `shared/fixtures/hyperliquid/signing_vectors.jsonl` (or the file named by
//! `HL_SIGNING_VECTORS`) — MessagePack bytes, hash preimage, connection id,
//! EIP-712 struct hash and digest, the signature made with the vector's key, and
//! the recovered signer.

use std::path::PathBuf;

use connectors::hyperliquid::actions::{Action, SignatureWire};
use connectors::hyperliquid::signing::{
    action_hash, agent_struct_hash, eip712_digest, l1_digest, l1_domain_separator, recover_signer, sign_digest,
    user_signed_digest,
};
use serde_json::Value;

fn vectors_path() -> PathBuf {
    std::env::var_os("HL_SIGNING_VECTORS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/hyperliquid/signing_vectors.jsonl")
    })
}

fn hex32(v: &Value) -> [u8; 32] {
    let mut out = [0u8; 32];
    hex::decode_to_slice(v.as_str().unwrap().trim_start_matches("0x"), &mut out).unwrap();
    out
}

fn sig(v: &Value) -> SignatureWire {
    serde_json::from_value(v.clone()).unwrap()
}

fn signer(v: &Value) -> String {
    v["signer_address"].as_str().unwrap().to_lowercase()
}

#[test]
fn signing_vectors() {
    let path = vectors_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut checked = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap();
        let id = v["id"].as_str().unwrap();
        let key = hex32(&v["private_key"]);
        let (digest, struct_hash) = match v["kind"].as_str().unwrap() {
            "l1_action" => {
                let action: Action =
                    serde_json::from_value(v["action"].clone()).unwrap_or_else(|e| panic!("{id}: {e}"));
                assert_eq!(
                    format!("0x{}", hex::encode(action.msgpack().unwrap())),
                    v["msgpack_hex"].as_str().unwrap(),
                    "{id}: msgpack"
                );
                // The JSON the request carries is the action as the SDK built it.
                assert_eq!(serde_json::to_value(&action).unwrap(), v["action"], "{id}: action JSON");
                let nonce = v["nonce"].as_u64().unwrap();
                let vault = v["vault_address"].as_str();
                let expires = v["expires_after"].as_u64();
                let mainnet = v["is_mainnet"].as_bool().unwrap();
                let connection_id = action_hash(&action, nonce, vault, expires).unwrap();
                assert_eq!(connection_id, hex32(&v["connection_id"]), "{id}: connection id");
                assert_eq!(l1_domain_separator(), hex32(&v["eip712_domain_separator"]), "{id}: domain");
                let sh = agent_struct_hash(&connection_id, mainnet);
                let digest = eip712_digest(&l1_domain_separator(), &sh);
                assert_eq!(digest, l1_digest(&action, nonce, vault, expires, mainnet).unwrap());
                (digest, sh)
            }
            "user_signed_action" => {
                let digest = user_signed_digest(&v["signed_action"]).unwrap_or_else(|e| panic!("{id}: {e}"));
                // The posted action (the unnamed agent has no agentName key) signs the same.
                assert_eq!(user_signed_digest(&v["request_body"]["action"]).unwrap(), digest, "{id}: posted action");
                (digest, hex32(&v["eip712_struct_hash"]))
            }
            other => panic!("{id}: unknown kind {other}"),
        };
        assert_eq!(struct_hash, hex32(&v["eip712_struct_hash"]), "{id}: struct hash");
        assert_eq!(digest, hex32(&v["eip712_digest"]), "{id}: digest");
        // k256's RFC 6979 signature is the SDK's, byte for byte.
        let ours = sign_digest(&key, &digest).unwrap();
        assert_eq!(ours, sig(&v["signature_padded"]), "{id}: signature");
        // Both the SDK's minimal-hex form and the padded form recover the signer.
        for form in ["signature", "signature_padded"] {
            let addr = recover_signer(&digest, &sig(&v[form])).unwrap();
            assert_eq!(format!("0x{}", hex::encode(addr)), signer(&v), "{id}: signer from {form}");
        }
        checked += 1;
    }
    assert!(checked >= 68, "only {checked} vectors in {}", path.display());
}

#[test]
fn a_flipped_signature_byte_recovers_someone_else() {
    let text = std::fs::read_to_string(vectors_path()).unwrap();
    let v: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let action: Action = serde_json::from_value(v["action"].clone()).unwrap();
    let digest =
        l1_digest(&action, v["nonce"].as_u64().unwrap(), None, None, v["is_mainnet"].as_bool().unwrap()).unwrap();
    let mut s = sig(&v["signature_padded"]);
    let mut bytes = hex::decode(s.s.trim_start_matches("0x")).unwrap();
    bytes[5] ^= 0x01;
    s.s = format!("0x{}", hex::encode(bytes));
    // Either no key recovers, or a different one does: never the real signer.
    if let Ok(addr) = recover_signer(&digest, &s) {
        assert_ne!(format!("0x{}", hex::encode(addr)), signer(&v));
    }
}
