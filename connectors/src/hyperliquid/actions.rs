//! Hyperliquid `/exchange` actions as typed values whose serde layout *is* the
//! wire format: JSON for the request body, and — through `rmp_serde::to_vec_named`
//! — the MessagePack bytes that are hashed and signed. Field declaration order is
//! the official SDK's dict order (hyperliquid-api.md §0.2), `type` comes first
//! (internally tagged), and optional keys are omitted, never `null` (§0.3).

use serde::{Deserialize, Serialize};

/// An L1 action (signed through the phantom agent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Action {
    Order {
        orders: Vec<OrderWire>,
        grouping: Grouping,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        builder: Option<BuilderWire>,
    },
    Cancel {
        cancels: Vec<CancelWire>,
    },
    CancelByCloid {
        cancels: Vec<CancelByCloidWire>,
    },
    BatchModify {
        modifies: Vec<ModifyWire>,
    },
    UpdateLeverage {
        asset: u32,
        is_cross: bool,
        leverage: u32,
    },
    UpdateIsolatedMargin {
        asset: u32,
        is_buy: bool,
        /// USD × 1e6; negative removes margin.
        ntli: i64,
    },
    ScheduleCancel {
        /// Omitted to unset the dead-man switch.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        time: Option<u64>,
    },
    Noop,
    /// The official SDK's signing-test action: signs like any L1 action, executes nothing.
    Dummy {
        num: u64,
    },
}

/// The request weight of an `/exchange` action (hyperliquid-api.md §3:
/// `1 + floor(batch_len / 40)`), read from the posted JSON so the client and
/// the simulated venue charge the same for any action, user-signed ones too.
pub fn exchange_weight(action: &serde_json::Value) -> u32 {
    let batch = ["orders", "cancels", "modifies"]
        .iter()
        .find_map(|k| action.get(*k).and_then(|v| v.as_array()).map(Vec::len))
        .unwrap_or(0);
    1 + (batch / 40) as u32
}

impl Action {
    /// The name an audit shows (`order`, `cancelByCloid`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            Action::Order { .. } => "order",
            Action::Cancel { .. } => "cancel",
            Action::CancelByCloid { .. } => "cancelByCloid",
            Action::BatchModify { .. } => "batchModify",
            Action::UpdateLeverage { .. } => "updateLeverage",
            Action::UpdateIsolatedMargin { .. } => "updateIsolatedMargin",
            Action::ScheduleCancel { .. } => "scheduleCancel",
            Action::Noop => "noop",
            Action::Dummy { .. } => "dummy",
        }
    }

    /// Every cloid the action carries.
    pub fn cloids(&self) -> Vec<String> {
        match self {
            Action::Order { orders, .. } => orders.iter().filter_map(|o| o.c.clone()).collect(),
            Action::CancelByCloid { cancels } => cancels.iter().map(|c| c.cloid.clone()).collect(),
            Action::BatchModify { modifies } => modifies.iter().filter_map(|m| m.order.c.clone()).collect(),
            _ => Vec::new(),
        }
    }

    /// The MessagePack bytes that are hashed.
    pub fn msgpack(&self) -> Result<Vec<u8>, rmp_serde::encode::Error> {
        rmp_serde::to_vec_named(self)
    }
}

/// One order: asset, is-buy, price, size, reduce-only, type, optional cloid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderWire {
    pub a: u32,
    pub b: bool,
    /// Price text from `float_to_wire`.
    pub p: String,
    /// Size text from `float_to_wire`.
    pub s: String,
    pub r: bool,
    pub t: OrderTypeWire,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OrderTypeWire {
    Limit { tif: Tif },
    Trigger(TriggerWire),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tif {
    Gtc,
    Ioc,
    Alo,
}

/// A trigger: `isMarket` comes before `triggerPx` on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerWire {
    pub is_market: bool,
    pub trigger_px: String,
    pub tpsl: TpSl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TpSl {
    Tp,
    Sl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Grouping {
    Na,
    NormalTpsl,
    PositionTpsl,
}

/// Builder fee: `b` lower-case address, `f` in tenths of a basis point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuilderWire {
    pub b: String,
    pub f: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelWire {
    pub a: u32,
    pub o: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelByCloidWire {
    pub asset: u32,
    pub cloid: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModifyWire {
    pub oid: OidOrCloid,
    pub order: OrderWire,
}

/// An order reference: the venue's oid or our cloid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OidOrCloid {
    Oid(u64),
    Cloid(String),
}

/// `{r, s, v}` as the SDK sends it (r/s hex, minimal or 32-byte padded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureWire {
    pub r: String,
    pub s: String,
    pub v: u8,
}

/// The body of `POST /exchange`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeRequest {
    pub action: serde_json::Value,
    pub nonce: u64,
    pub signature: SignatureWire,
    #[serde(default)]
    pub vault_address: Option<String>,
    #[serde(default)]
    pub expires_after: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_encodes_with_the_sdks_key_order() {
        // shared-001-order-limit-gtc-buy-mainnet (hyperliquid-api.md §1.1).
        let action = Action::Order {
            orders: vec![OrderWire {
                a: 0,
                b: true,
                p: "67123".into(),
                s: "0.00123".into(),
                r: false,
                t: OrderTypeWire::Limit { tif: Tif::Gtc },
                c: None,
            }],
            grouping: Grouping::Na,
            builder: None,
        };
        let expected = "83a474797065a56f72646572a66f72646572739186a161\
                        00a162c3a170a53637313233a173a7302e3030313233a172c2a17481a56c696d697481a3746966a3477463\
                        a867726f7570696e67a26e61";
        assert_eq!(hex::encode(action.msgpack().unwrap()), expected);
        let json = serde_json::to_string(&action).unwrap();
        assert!(json.starts_with(r#"{"type":"order","orders":[{"a":0,"b":true"#), "{json}");
        assert!(!json.contains("null"));
    }
}
