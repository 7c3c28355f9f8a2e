//! Byte-exactness against the official SDK: every vector of
//! `shared/fixtures/hyperliquid/signing_vectors.jsonl` (or the file named by
//! `HL_SIGNING_VECTORS`) is built through the typed builders from its high-level
//! inputs (or, where it has none, from the action's parameters), never by
//! re-encoding its JSON, and reproduces the action JSON, MessagePack bytes,
//! connection id, EIP-712 struct hash and digest, the signature made with the
//! vector's key, and the recovered signer. `float_to_wire.jsonl` pins the
//! number formatting.

use std::collections::HashMap;
use std::path::PathBuf;

use connectors::hyperliquid::actions::{Action, Grouping, OidOrCloid, OrderTypeWire, SignatureWire, Tif, TpSl};
use connectors::hyperliquid::builders::{self, BuilderFee, OrderKind, OrderRequest, UserAction};
use connectors::hyperliquid::numbers::{self, NumberError};
use connectors::hyperliquid::signing::{
    action_hash, agent_struct_hash, eip712_digest, l1_digest, l1_domain_separator, recover_signer, sign_digest,
    user_signed_digest,
};
use connectors::wire::{Decimal, parse_decimal};
use serde_json::Value;

fn vectors_path() -> PathBuf {
    std::env::var_os("HL_SIGNING_VECTORS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/hyperliquid/signing_vectors.jsonl")
    })
}

/// A float input as the SDK formats it, then exact from there on.
fn exact(v: &Value) -> Decimal {
    let wire = numbers::float_to_wire(v.as_f64().unwrap()).unwrap();
    parse_decimal(&wire).unwrap()
}

fn wire_decimal(v: &Value) -> Decimal {
    parse_decimal(v.as_str().unwrap()).unwrap()
}

fn grouping(v: &Value) -> Grouping {
    serde_json::from_value(v.clone()).unwrap()
}

fn order_request(o: &Value) -> OrderRequest {
    let kind = if let Some(l) = o["order_type"].get("limit") {
        OrderKind::Limit(serde_json::from_value::<Tif>(l["tif"].clone()).unwrap())
    } else {
        let t = &o["order_type"]["trigger"];
        OrderKind::Trigger {
            trigger_px: exact(&t["triggerPx"]),
            is_market: t["isMarket"].as_bool().unwrap(),
            tpsl: serde_json::from_value::<TpSl>(t["tpsl"].clone()).unwrap(),
        }
    };
    OrderRequest {
        coin: o["coin"].as_str().unwrap().into(),
        is_buy: o["is_buy"].as_bool().unwrap(),
        sz: exact(&o["sz"]),
        limit_px: exact(&o["limit_px"]),
        kind,
        reduce_only: o["reduce_only"].as_bool().unwrap(),
        cloid: o["cloid"].as_str().map(str::to_string),
    }
}

fn asset_ids(inputs: &Value) -> HashMap<String, u32> {
    let mut m: HashMap<String, u32> = HashMap::new();
    if let Some(ids) = inputs["asset_ids"].as_object() {
        m.extend(ids.iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap() as u32)));
    }
    if let (Some(coin), Some(id)) = (inputs["coin"].as_str(), inputs["asset_id"].as_u64()) {
        m.insert(coin.into(), id as u32);
    }
    m
}

/// The vector's L1 action, built from its high-level inputs (or, without them,
/// from the action's parameters) through the builders.
fn build_l1(v: &Value) -> Action {
    let inputs = &v["inputs"];
    let action = &v["action"];
    let assets = asset_ids(inputs);
    match action["type"].as_str().unwrap() {
        "order" => {
            let orders: Vec<OrderRequest> =
                inputs["order_requests"].as_array().unwrap().iter().map(order_request).collect();
            let builder = inputs["builder"]
                .as_object()
                .map(|b| BuilderFee { address: b["b"].as_str().unwrap().into(), tenths_bp: b["f"].as_u64().unwrap() });
            builders::order(&orders, grouping(&inputs["grouping"]), builder.as_ref(), &assets).unwrap()
        }
        "cancel" => {
            let c: Vec<(&str, u64)> = inputs["cancel_requests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| (c["coin"].as_str().unwrap(), c["oid"].as_u64().unwrap()))
                .collect();
            builders::cancel(&c, &assets).unwrap()
        }
        "cancelByCloid" => {
            let c: Vec<(&str, &str)> = inputs["cancel_requests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| (c["coin"].as_str().unwrap(), c["cloid"].as_str().unwrap()))
                .collect();
            builders::cancel_by_cloid(&c, &assets).unwrap()
        }
        "updateLeverage" => builders::update_leverage(
            inputs["coin"].as_str().unwrap(),
            inputs["leverage"].as_u64().unwrap() as u32,
            inputs["is_cross"].as_bool().unwrap(),
            &assets,
        )
        .unwrap(),
        "updateIsolatedMargin" => {
            builders::update_isolated_margin(inputs["coin"].as_str().unwrap(), exact(&inputs["amount_usd"]), &assets)
                .unwrap()
        }
        "scheduleCancel" => {
            let time = if inputs.is_null() { action["time"].as_u64() } else { inputs["time"].as_u64() };
            builders::schedule_cancel(time)
        }
        "batchModify" => {
            // Its inputs only count the modifies: the parameters come from the action.
            let mut assets: HashMap<String, u32> = HashMap::new();
            let modifies: Vec<(OidOrCloid, OrderRequest)> = action["modifies"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    let o = &m["order"];
                    let a = o["a"].as_u64().unwrap() as u32;
                    assets.insert(format!("asset-{a}"), a);
                    let kind = match serde_json::from_value::<OrderTypeWire>(o["t"].clone()).unwrap() {
                        OrderTypeWire::Limit { tif } => OrderKind::Limit(tif),
                        OrderTypeWire::Trigger(t) => OrderKind::Trigger {
                            trigger_px: parse_decimal(&t.trigger_px).unwrap(),
                            is_market: t.is_market,
                            tpsl: t.tpsl,
                        },
                    };
                    let req = OrderRequest {
                        coin: format!("asset-{a}"),
                        is_buy: o["b"].as_bool().unwrap(),
                        sz: wire_decimal(&o["s"]),
                        limit_px: wire_decimal(&o["p"]),
                        kind,
                        reduce_only: o["r"].as_bool().unwrap(),
                        cloid: o["c"].as_str().map(str::to_string),
                    };
                    let id = match &m["oid"] {
                        Value::String(c) => OidOrCloid::Cloid(c.clone()),
                        n => OidOrCloid::Oid(n.as_u64().unwrap()),
                    };
                    (id, req)
                })
                .collect();
            builders::batch_modify(&modifies, &assets).unwrap()
        }
        "dummy" => Action::Dummy { num: action["num"].as_u64().unwrap() },
        other => panic!("no builder for {other}"),
    }
}

/// The vector's user-signed action, built from the signed action's parameters.
fn build_user(v: &Value) -> UserAction {
    let a = &v["signed_action"];
    let mainnet = a["hyperliquidChain"] == "Mainnet";
    let s = |k: &str| a[k].as_str().unwrap();
    match s("type") {
        "usdSend" => {
            builders::usd_send(s("destination"), wire_decimal(&a["amount"]), a["time"].as_u64().unwrap(), mainnet)
        }
        "withdraw3" => {
            builders::withdraw(s("destination"), wire_decimal(&a["amount"]), a["time"].as_u64().unwrap(), mainnet)
        }
        "approveAgent" => builders::approve_agent(
            s("agentAddress"),
            Some(s("agentName")).filter(|n| !n.is_empty()),
            a["nonce"].as_u64().unwrap(),
            mainnet,
        ),
        other => panic!("no builder for {other}"),
    }
    .unwrap()
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
                let action = build_l1(&v);
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
                let built = build_user(&v);
                assert_eq!(built.signed(), &v["signed_action"], "{id}: signed action");
                assert_eq!(built.posted(), v["request_body"]["action"], "{id}: posted action");
                assert_eq!(built.nonce, v["request_body"]["nonce"].as_u64().unwrap(), "{id}: nonce");
                let digest = user_signed_digest(built.signed()).unwrap_or_else(|e| panic!("{id}: {e}"));
                // The posted action (the unnamed agent has no agentName key) signs the same.
                assert_eq!(user_signed_digest(&built.posted()).unwrap(), digest, "{id}: posted digest");
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

fn fixture(name: &str) -> PathBuf {
    vectors_path().with_file_name(name)
}

/// Every case of `float_to_wire.jsonl`: the SDK's output, or a refusal where the
/// SDK raises — and where the SDK has a quirk (`-0`, `NaN`, `Infinity`), a refusal.
#[test]
fn float_formatting_matches_the_sdk_or_refuses() {
    let text = std::fs::read_to_string(fixture("float_to_wire.jsonl")).unwrap();
    let mut checked = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap();
        let repr = v["input_repr"].as_str().unwrap();
        let x: f64 = match repr {
            "nan" => f64::NAN,
            "inf" => f64::INFINITY,
            r => r.parse().unwrap(),
        };
        let raises = v["raises"].as_bool().unwrap();
        match v["fn"].as_str().unwrap() {
            "float_to_wire" => {
                let got = numbers::float_to_wire(x);
                match repr {
                    "-0.0" => assert_eq!(got, Err(NumberError::NegativeZero)),
                    "nan" | "inf" => assert!(matches!(got, Err(NumberError::NotFinite(_))), "{repr}: {got:?}"),
                    _ if raises => assert!(matches!(got, Err(NumberError::CausesRounding(_))), "{repr}: {got:?}"),
                    _ => assert_eq!(got.as_deref(), Ok(v["output"].as_str().unwrap()), "{repr}"),
                }
            }
            f @ ("float_to_usd_int" | "float_to_int_for_hashing") => {
                let power = if f == "float_to_usd_int" { 6 } else { 8 };
                let got = numbers::float_to_int(x, power);
                if raises {
                    assert!(got.is_err(), "{f}({repr}) = {got:?}");
                } else {
                    let expected: i128 = v["output"].to_string().parse().unwrap();
                    assert_eq!(got, Ok(expected), "{f}({repr})");
                }
            }
            "sdk_example_round_px" => {
                let sz_decimals = v["sz_decimals"].as_u64().unwrap() as u32;
                let rules = if v["is_spot"].as_bool().unwrap_or(false) {
                    numbers::AssetRules::spot(sz_decimals)
                } else {
                    numbers::AssetRules::perp(sz_decimals)
                };
                // The SDK rounds the float's binary value (2.675 is 2.67499…): so do we here.
                let input = Decimal::from_f64_retain(x).unwrap();
                let px = rules.round_price(input, numbers::Toward::Nearest);
                let expected = parse_decimal(v["output_wire"].as_str().unwrap()).unwrap();
                assert_eq!(px, expected.normalize(), "round_px({repr}, szDecimals {sz_decimals})");
            }
            _ => continue,
        }
        checked += 1;
    }
    assert!(checked >= 60, "only {checked} cases");
}
