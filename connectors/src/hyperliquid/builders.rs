//! Typed action builders: every `/exchange` action is made from high-level,
//! exact inputs (coin, side, size, price, order type, …) — never from
//! hand-written JSON — so the asset id, number text, cloid and key order are
//! right by construction. Prices and sizes must already be on the venue's grid
//! ([`AssetRules`](super::numbers::AssetRules) rounds them); a value with more
//! than eight decimals is refused, never rounded here.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use super::actions::{
    Action, BuilderWire, CancelByCloidWire, CancelWire, Grouping, ModifyWire, OidOrCloid, OrderTypeWire, OrderWire,
    Tif, TpSl, TriggerWire,
};
use super::numbers::{self, NumberError};
use crate::wire::Decimal;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("unknown coin {0:?} (not in meta)")]
    UnknownCoin(String),
    #[error("{field}: {source}")]
    Number { field: &'static str, source: NumberError },
    #[error("cloid {0:?} is not 0x and 32 hex digits")]
    Cloid(String),
    #[error("address {0:?} is not 0x and 40 hex digits")]
    Address(String),
    #[error("{0} needs at least one entry")]
    Empty(&'static str),
    #[error("leverage {0} must be at least 1")]
    Leverage(u32),
}

/// Coin → asset id (perps: index in `meta`; spot: 10000 + index; HIP-3: the dex offset).
pub trait Assets {
    fn asset_id(&self, coin: &str) -> Option<u32>;
}

impl Assets for HashMap<String, u32> {
    fn asset_id(&self, coin: &str) -> Option<u32> {
        self.get(coin).copied()
    }
}

impl Assets for BTreeMap<String, u32> {
    fn asset_id(&self, coin: &str) -> Option<u32> {
        self.get(coin).copied()
    }
}

fn asset(assets: &impl Assets, coin: &str) -> Result<u32, BuildError> {
    assets.asset_id(coin).ok_or_else(|| BuildError::UnknownCoin(coin.to_string()))
}

fn num(field: &'static str, r: Result<String, NumberError>) -> Result<String, BuildError> {
    r.map_err(|source| BuildError::Number { field, source })
}

/// A client order id as the wire wants it: `0x` and 32 lower-case hex digits.
pub fn cloid(text: &str) -> Result<String, BuildError> {
    let hex = text.strip_prefix("0x").unwrap_or("");
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(BuildError::Cloid(text.to_string()));
    }
    Ok(format!("0x{}", hex.to_lowercase()))
}

fn address(text: &str) -> Result<String, BuildError> {
    let hex = text.strip_prefix("0x").unwrap_or("");
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(BuildError::Address(text.to_string()));
    }
    Ok(format!("0x{}", hex.to_lowercase()))
}

/// What kind of order.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderKind {
    Limit(Tif),
    /// Stop-loss or take-profit firing when the mark crosses `trigger_px`; a
    /// market trigger executes at market with `limit_px` as its worst price.
    Trigger {
        trigger_px: Decimal,
        is_market: bool,
        tpsl: TpSl,
    },
}

/// One order, in the engine's terms.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRequest {
    pub coin: String,
    pub is_buy: bool,
    pub sz: Decimal,
    pub limit_px: Decimal,
    pub kind: OrderKind,
    pub reduce_only: bool,
    pub cloid: Option<String>,
}

/// A builder fee: the builder's address and the fee in tenths of a basis point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuilderFee {
    pub address: String,
    pub tenths_bp: u64,
}

/// The wire form of one order.
pub fn order_wire(o: &OrderRequest, assets: &impl Assets) -> Result<OrderWire, BuildError> {
    let t = match &o.kind {
        OrderKind::Limit(tif) => OrderTypeWire::Limit { tif: *tif },
        OrderKind::Trigger { trigger_px, is_market, tpsl } => OrderTypeWire::Trigger(TriggerWire {
            is_market: *is_market,
            trigger_px: num("triggerPx", numbers::positive_to_wire("triggerPx", *trigger_px))?,
            tpsl: *tpsl,
        }),
    };
    Ok(OrderWire {
        a: asset(assets, &o.coin)?,
        b: o.is_buy,
        p: num("limitPx", numbers::positive_to_wire("limitPx", o.limit_px))?,
        s: num("sz", numbers::positive_to_wire("sz", o.sz))?,
        r: o.reduce_only,
        t,
        c: o.cloid.as_deref().map(cloid).transpose()?,
    })
}

/// `order`: one or more orders, grouped (`na`, or a position with its TP/SL).
pub fn order(
    orders: &[OrderRequest],
    grouping: Grouping,
    builder: Option<&BuilderFee>,
    assets: &impl Assets,
) -> Result<Action, BuildError> {
    if orders.is_empty() {
        return Err(BuildError::Empty("order"));
    }
    Ok(Action::Order {
        orders: orders.iter().map(|o| order_wire(o, assets)).collect::<Result<_, _>>()?,
        grouping,
        builder: builder
            .map(|b| Ok::<_, BuildError>(BuilderWire { b: address(&b.address)?, f: b.tenths_bp }))
            .transpose()?,
    })
}

/// `cancel` by (coin, oid).
pub fn cancel(cancels: &[(&str, u64)], assets: &impl Assets) -> Result<Action, BuildError> {
    if cancels.is_empty() {
        return Err(BuildError::Empty("cancel"));
    }
    let cancels = cancels.iter().map(|(coin, oid)| Ok(CancelWire { a: asset(assets, coin)?, o: *oid }));
    Ok(Action::Cancel { cancels: cancels.collect::<Result<_, BuildError>>()? })
}

/// `cancelByCloid` by (coin, cloid).
pub fn cancel_by_cloid(cancels: &[(&str, &str)], assets: &impl Assets) -> Result<Action, BuildError> {
    if cancels.is_empty() {
        return Err(BuildError::Empty("cancelByCloid"));
    }
    let cancels =
        cancels.iter().map(|(coin, c)| Ok(CancelByCloidWire { asset: asset(assets, coin)?, cloid: cloid(c)? }));
    Ok(Action::CancelByCloid { cancels: cancels.collect::<Result<_, BuildError>>()? })
}

/// `batchModify`: each resting order (by oid or cloid) replaced by a new one.
pub fn batch_modify(modifies: &[(OidOrCloid, OrderRequest)], assets: &impl Assets) -> Result<Action, BuildError> {
    if modifies.is_empty() {
        return Err(BuildError::Empty("batchModify"));
    }
    let modifies = modifies.iter().map(|(id, o)| {
        let oid = match id {
            OidOrCloid::Oid(n) => OidOrCloid::Oid(*n),
            OidOrCloid::Cloid(c) => OidOrCloid::Cloid(cloid(c)?),
        };
        Ok(ModifyWire { oid, order: order_wire(o, assets)? })
    });
    Ok(Action::BatchModify { modifies: modifies.collect::<Result<_, BuildError>>()? })
}

/// `updateLeverage` (cross or isolated).
pub fn update_leverage(coin: &str, leverage: u32, is_cross: bool, assets: &impl Assets) -> Result<Action, BuildError> {
    if leverage == 0 {
        return Err(BuildError::Leverage(leverage));
    }
    Ok(Action::UpdateLeverage { asset: asset(assets, coin)?, is_cross, leverage })
}

/// `updateIsolatedMargin`: add (or, negative, remove) `amount_usd` of margin.
pub fn update_isolated_margin(coin: &str, amount_usd: Decimal, assets: &impl Assets) -> Result<Action, BuildError> {
    let ntli = numbers::usd_to_micros(amount_usd).map_err(|source| BuildError::Number { field: "ntli", source })?;
    // The SDK always sends isBuy: true; the sign of ntli says add or remove.
    Ok(Action::UpdateIsolatedMargin { asset: asset(assets, coin)?, is_buy: true, ntli })
}

/// `scheduleCancel`: cancel everything at `time` (a dead-man switch); `None` unsets it.
pub fn schedule_cancel(time: Option<u64>) -> Action {
    Action::ScheduleCancel { time }
}

/// The chain id user-signed actions are signed for (Arbitrum Sepolia's, as the SDK uses).
pub const SIGNATURE_CHAIN_ID: &str = "0x66eee";

fn chain(mainnet: bool) -> &'static str {
    if mainnet { "Mainnet" } else { "Testnet" }
}

/// A user-signed action (`HyperliquidSignTransaction` domain).
#[derive(Debug, Clone, PartialEq)]
pub struct UserAction {
    signed: Value,
    /// The request's `nonce` (the action's `time` or `nonce`).
    pub nonce: u64,
}

impl UserAction {
    /// What the signature covers.
    pub fn signed(&self) -> &Value {
        &self.signed
    }

    /// What is posted: an unnamed agent's empty `agentName` is dropped, as the SDK does.
    pub fn posted(&self) -> Value {
        let mut v = self.signed.clone();
        if v["type"] == "approveAgent"
            && v["agentName"] == ""
            && let Some(m) = v.as_object_mut()
        {
            m.remove("agentName");
        }
        v
    }
}

fn transfer(
    kind: &str,
    destination: &str,
    amount: Decimal,
    time: u64,
    mainnet: bool,
) -> Result<UserAction, BuildError> {
    if amount <= Decimal::ZERO {
        return Err(BuildError::Number {
            field: "amount",
            source: NumberError::NotPositive { what: "amount", value: amount.to_string() },
        });
    }
    let signed = json!({
        "destination": address(destination)?,
        "amount": amount.to_string(),
        "time": time,
        "type": kind,
        "signatureChainId": SIGNATURE_CHAIN_ID,
        "hyperliquidChain": chain(mainnet),
    });
    Ok(UserAction { signed, nonce: time })
}

/// `usdSend`: `amount` USDC to `destination` (the amount's text is signed as given).
pub fn usd_send(destination: &str, amount: Decimal, time: u64, mainnet: bool) -> Result<UserAction, BuildError> {
    transfer("usdSend", destination, amount, time, mainnet)
}

/// `withdraw3`: `amount` USDC to `destination` on Arbitrum.
pub fn withdraw(destination: &str, amount: Decimal, time: u64, mainnet: bool) -> Result<UserAction, BuildError> {
    transfer("withdraw3", destination, amount, time, mainnet)
}

/// `approveAgent`: let `agent` sign for this account (named, or the unnamed agent).
pub fn approve_agent(agent: &str, name: Option<&str>, nonce: u64, mainnet: bool) -> Result<UserAction, BuildError> {
    let signed = json!({
        "type": "approveAgent",
        "agentAddress": address(agent)?,
        "agentName": name.unwrap_or(""),
        "nonce": nonce,
        "signatureChainId": SIGNATURE_CHAIN_ID,
        "hyperliquidChain": chain(mainnet),
    });
    Ok(UserAction { signed, nonce })
}
