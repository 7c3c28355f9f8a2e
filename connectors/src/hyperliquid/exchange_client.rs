//! The `/exchange` client: builds actions through the typed builders, signs
//! them in-house (the master key, or an agent key acting for the master
//! account, optionally for a vault), posts them, and parses the answer into
//! typed outcomes. A request whose answer never arrives is *unknown* — it may
//! have executed — and is resolved by `orderStatus` on its cloid, never by
//! sending it again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::actions::{Action, ExchangeRequest, Grouping, OidOrCloid, Tif};
use super::builders::{self, Assets, BuildError, OrderKind, OrderRequest, UserAction};
use super::info::Meta;
use super::info_client::{InfoClient, InfoError};
use super::keys::Signer;
use super::nonces::{NonceError, NonceManager};
use super::numbers::{AssetRules, Toward};
use super::signing::{SigningError, l1_digest, user_signed_digest};
use crate::wire::Decimal;

/// "Now" in epoch ms: the machine's clock, or the simulated venue's.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

#[derive(Debug, Clone)]
pub struct ExchangeSettings {
    pub base_url: String,
    pub mainnet: bool,
    /// The account traded: the signer's own, or the master an agent acts for.
    pub account: Option<String>,
    pub vault_address: Option<String>,
    pub timeout: Duration,
    /// `updateLeverage` above this is refused before it is sent.
    pub max_leverage: u32,
    /// A builder fee added to every order, when configured.
    pub builder: Option<builders::BuilderFee>,
}

impl Default for ExchangeSettings {
    fn default() -> Self {
        ExchangeSettings {
            base_url: "https://api.hyperliquid.xyz".into(),
            mainnet: true,
            account: None,
            vault_address: None,
            timeout: Duration::from_secs(10),
            max_leverage: 10,
            builder: None,
        }
    }
}

/// Why the venue refused one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    BelowMinimumValue,
    TickSize,
    InvalidSize,
    InvalidPrice,
    InsufficientMargin,
    ReduceOnlyWouldIncrease,
    DuplicateCloid,
    PostOnlyWouldMatch,
    IocCouldNotMatch,
    NotFound,
    Other,
}

impl RejectReason {
    /// From the venue's error text (hyperliquid-api.md, the exchange's own words).
    pub fn from_text(text: &str) -> RejectReason {
        let table: [(&str, RejectReason); 10] = [
            ("Order must have minimum value", RejectReason::BelowMinimumValue),
            ("Price must be divisible by tick size", RejectReason::TickSize),
            ("Order has invalid size", RejectReason::InvalidSize),
            ("Order has invalid price", RejectReason::InvalidPrice),
            ("Insufficient margin", RejectReason::InsufficientMargin),
            ("Reduce only order would increase position", RejectReason::ReduceOnlyWouldIncrease),
            ("Duplicate cloid", RejectReason::DuplicateCloid),
            ("Post only order would have immediately matched", RejectReason::PostOnlyWouldMatch),
            ("Order could not immediately match", RejectReason::IocCouldNotMatch),
            ("Order was never placed, already canceled, or filled", RejectReason::NotFound),
        ];
        table.iter().find(|(prefix, _)| text.starts_with(prefix)).map(|(_, r)| *r).unwrap_or(RejectReason::Other)
    }
}

/// What became of one order (or one cancel).
#[derive(Debug, Clone, PartialEq)]
pub enum OrderOutcome {
    Resting {
        oid: u64,
    },
    Filled {
        oid: u64,
        total_sz: Decimal,
        avg_px: Decimal,
    },
    /// A child of a `normalTpsl` group, armed once its parent fills.
    WaitingForTrigger,
    /// A cancel or modify that took.
    Done,
    Rejected {
        reason: RejectReason,
        text: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error("signing: {0}")]
    Sign(#[from] SigningError),
    #[error(transparent)]
    Nonce(#[from] NonceError),
    #[error("leverage {asked} is above the configured maximum {max}")]
    LeverageCap { asked: u32, max: u32 },
    #[error("{0} is not in meta")]
    UnknownCoin(String),
    /// Every order must carry a cloid, or a lost answer could not be resolved.
    #[error("an order for {0} has no cloid")]
    MissingCloid(String),
    /// The request may or may not have executed: resolve it with `orderStatus`.
    #[error("no answer to {action} (nonce {nonce}): {detail} — outcome unknown, resolve by cloid")]
    Unknown { action: &'static str, nonce: u64, detail: String },
    /// The venue refused the whole action (bad signature, nonce, …).
    #[error("the exchange refused {action}: {text}")]
    Refused { action: &'static str, text: String },
    #[error("HTTP {status} from /exchange: {body}")]
    Http { status: u16, body: String },
    #[error("unexpected answer to {action}: {body}")]
    Unexpected { action: &'static str, body: String },
    #[error(transparent)]
    Info(#[from] InfoError),
}

/// Asset ids and tick/lot rules of the perps, from `meta`.
#[derive(Debug, Clone, Default)]
pub struct Market {
    assets: HashMap<String, u32>,
    rules: HashMap<String, AssetRules>,
}

impl Market {
    pub fn from_meta(meta: &Meta) -> Market {
        let mut m = Market::default();
        for (i, a) in meta.universe.iter().enumerate() {
            m.assets.insert(a.name.clone(), i as u32);
            m.rules.insert(a.name.clone(), AssetRules::perp(a.sz_decimals));
        }
        m
    }

    pub fn rules(&self, coin: &str) -> Option<AssetRules> {
        self.rules.get(coin).copied()
    }

    /// The order with its price on the tick grid (toward the side that keeps
    /// it marketable: up for buys, down for sells) and its size on the lot
    /// (down, so a cap is never exceeded).
    pub fn round(&self, mut o: OrderRequest) -> Result<OrderRequest, ExchangeError> {
        let r = self.rules(&o.coin).ok_or_else(|| ExchangeError::UnknownCoin(o.coin.clone()))?;
        let toward = if o.is_buy { Toward::Up } else { Toward::Down };
        o.limit_px = r.round_price(o.limit_px, toward);
        o.sz = r.round_size(o.sz, Toward::Down);
        if let OrderKind::Trigger { trigger_px, .. } = &mut o.kind {
            *trigger_px = r.round_price(*trigger_px, Toward::Nearest);
        }
        Ok(o)
    }
}

impl Assets for Market {
    fn asset_id(&self, coin: &str) -> Option<u32> {
        self.assets.get(coin).copied()
    }
}

/// A market order: size, the mid it is priced from, and the worst slippage allowed.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketOrder {
    pub coin: String,
    pub is_buy: bool,
    pub sz: Decimal,
    pub mid: Decimal,
    /// A fraction (0.01 = 1 %).
    pub slippage: Decimal,
    pub reduce_only: bool,
    pub cloid: Option<String>,
}

/// Where an order whose answer was lost stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// The venue knows it: `status` is `open`, `filled`, `canceled`, …
    Found { oid: u64, status: String },
    /// The venue never saw it: it is safe to place again (as a new attempt).
    NotPlaced,
}

pub struct ExchangeClient {
    http: reqwest::Client,
    settings: ExchangeSettings,
    signer: Signer,
    nonces: Arc<NonceManager>,
    clock: Clock,
    pub market: Market,
    info: Arc<InfoClient>,
}

impl std::fmt::Debug for ExchangeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExchangeClient")
            .field("base_url", &self.settings.base_url)
            .field("account", &self.account())
            .field("signer", &self.signer)
            .finish()
    }
}

fn decimal(v: &Value) -> Option<Decimal> {
    v.as_str().and_then(|s| crate::wire::parse_decimal(s).ok())
}

fn outcome(status: &Value) -> OrderOutcome {
    if let Some(oid) = status["resting"]["oid"].as_u64() {
        return OrderOutcome::Resting { oid };
    }
    let f = &status["filled"];
    if let (Some(oid), Some(total_sz), Some(avg_px)) = (f["oid"].as_u64(), decimal(&f["totalSz"]), decimal(&f["avgPx"]))
    {
        return OrderOutcome::Filled { oid, total_sz, avg_px };
    }
    if status == "success" {
        return OrderOutcome::Done;
    }
    if status == "waitingForTrigger" {
        return OrderOutcome::WaitingForTrigger;
    }
    let text = status["error"].as_str().map(str::to_string).unwrap_or_else(|| status.to_string());
    OrderOutcome::Rejected { reason: RejectReason::from_text(&text), text }
}

impl ExchangeClient {
    /// A client for `settings.account` (default: the signer's own), with the
    /// market from `meta`.
    pub async fn connect(
        settings: ExchangeSettings,
        signer: Signer,
        nonces: Arc<NonceManager>,
        clock: Clock,
        info: Arc<InfoClient>,
    ) -> Result<ExchangeClient, ExchangeError> {
        crate::install_tls_provider();
        let market = Market::from_meta(&info.meta().await?);
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .build()
            .map_err(|e| ExchangeError::Http { status: 0, body: e.to_string() })?;
        Ok(ExchangeClient { http, settings, signer, nonces, clock, market, info })
    }

    /// The account traded (lower-case hex).
    pub fn account(&self) -> String {
        self.settings.account.clone().map(|a| a.to_lowercase()).unwrap_or_else(|| self.signer.address_hex())
    }

    /// The signed request for an L1 action (exposed so tests can tamper with it).
    pub fn signed(&self, action: &Action) -> Result<ExchangeRequest, ExchangeError> {
        let nonce = self.nonces.next((self.clock)())?;
        let vault = self.settings.vault_address.as_deref();
        let digest = l1_digest(action, nonce, vault, None, self.settings.mainnet)?;
        Ok(ExchangeRequest {
            action: serde_json::to_value(action).map_err(|e| SigningError::Encode(e.to_string()))?,
            nonce,
            signature: self.signer.sign(&digest)?,
            vault_address: self.settings.vault_address.clone(),
            expires_after: None,
        })
    }

    /// Posts a signed request; `Unknown` when no answer came back.
    pub async fn post(&self, action: &'static str, req: &ExchangeRequest) -> Result<Value, ExchangeError> {
        let url = format!("{}/exchange", self.settings.base_url.trim_end_matches('/'));
        // Waits for room in the per-IP budget: a 429 is never provoked.
        self.info.budget().spend(super::actions::exchange_weight(&req.action)).await;
        let resp = match self.http.post(&url).json(req).send().await {
            Ok(r) => r,
            // Never sent (refused connection): nothing executed.
            Err(e) if e.is_connect() => return Err(ExchangeError::Http { status: 0, body: e.to_string() }),
            Err(e) => return Err(ExchangeError::Unknown { action, nonce: req.nonce, detail: e.to_string() }),
        };
        let status = resp.status();
        let body = match resp.text().await {
            Ok(b) => b,
            Err(e) => return Err(ExchangeError::Unknown { action, nonce: req.nonce, detail: e.to_string() }),
        };
        if !status.is_success() {
            return Err(ExchangeError::Http { status: status.as_u16(), body });
        }
        let v: Value =
            serde_json::from_str(&body).map_err(|_| ExchangeError::Unexpected { action, body: body.clone() })?;
        if v["status"] == "err" {
            let text = v["response"].as_str().map(str::to_string).unwrap_or_else(|| v["response"].to_string());
            return Err(ExchangeError::Refused { action, text });
        }
        Ok(v)
    }

    async fn send(&self, action: &Action) -> Result<Value, ExchangeError> {
        let req = self.signed(action)?;
        self.post(action.type_name(), &req).await
    }

    async fn statuses(&self, action: &Action) -> Result<Vec<OrderOutcome>, ExchangeError> {
        let v = self.send(action).await?;
        let statuses = v["response"]["data"]["statuses"]
            .as_array()
            .ok_or_else(|| ExchangeError::Unexpected { action: action.type_name(), body: v.to_string() })?;
        Ok(statuses.iter().map(outcome).collect())
    }

    /// Places orders (already on the grid: see [`Market::round`]), one outcome each.
    /// Every order needs a cloid (DESIGN §5: from the intent id and attempt), so
    /// that an order whose answer is lost can be found.
    pub async fn place(&self, orders: &[OrderRequest], grouping: Grouping) -> Result<Vec<OrderOutcome>, ExchangeError> {
        if let Some(o) = orders.iter().find(|o| o.cloid.is_none()) {
            return Err(ExchangeError::MissingCloid(o.coin.clone()));
        }
        let action = builders::order(orders, grouping, self.settings.builder.as_ref(), &self.market)?;
        self.statuses(&action).await
    }

    /// A market order: an IOC limit `slippage` beyond `mid`, rounded toward the
    /// mid, so it never fills worse than that.
    pub async fn market(&self, m: &MarketOrder) -> Result<OrderOutcome, ExchangeError> {
        let one = Decimal::ONE;
        let bound = if m.is_buy { m.mid * (one + m.slippage) } else { m.mid * (one - m.slippage) };
        let rules = self.market.rules(&m.coin).ok_or_else(|| ExchangeError::UnknownCoin(m.coin.clone()))?;
        let order = OrderRequest {
            coin: m.coin.clone(),
            is_buy: m.is_buy,
            sz: rules.round_size(m.sz, Toward::Down),
            limit_px: rules.round_price(bound, if m.is_buy { Toward::Down } else { Toward::Up }),
            kind: OrderKind::Limit(Tif::Ioc),
            reduce_only: m.reduce_only,
            cloid: m.cloid.clone(),
        };
        let mut out = self.place(&[order], Grouping::Na).await?;
        out.pop().ok_or_else(|| ExchangeError::Unexpected { action: "order", body: "no status".into() })
    }

    pub async fn cancel(&self, cancels: &[(&str, u64)]) -> Result<Vec<OrderOutcome>, ExchangeError> {
        self.statuses(&builders::cancel(cancels, &self.market)?).await
    }

    pub async fn cancel_by_cloid(&self, cancels: &[(&str, &str)]) -> Result<Vec<OrderOutcome>, ExchangeError> {
        self.statuses(&builders::cancel_by_cloid(cancels, &self.market)?).await
    }

    pub async fn modify(&self, modifies: &[(OidOrCloid, OrderRequest)]) -> Result<Vec<OrderOutcome>, ExchangeError> {
        self.statuses(&builders::batch_modify(modifies, &self.market)?).await
    }

    /// Sets leverage, refusing more than the configured maximum.
    pub async fn update_leverage(&self, coin: &str, leverage: u32, is_cross: bool) -> Result<(), ExchangeError> {
        if leverage > self.settings.max_leverage {
            return Err(ExchangeError::LeverageCap { asked: leverage, max: self.settings.max_leverage });
        }
        self.send(&builders::update_leverage(coin, leverage, is_cross, &self.market)?).await.map(|_| ())
    }

    pub async fn update_isolated_margin(&self, coin: &str, amount_usd: Decimal) -> Result<(), ExchangeError> {
        self.send(&builders::update_isolated_margin(coin, amount_usd, &self.market)?).await.map(|_| ())
    }

    /// Arms (or, with `None`, disarms) the dead-man switch.
    pub async fn schedule_cancel(&self, time: Option<u64>) -> Result<(), ExchangeError> {
        self.send(&builders::schedule_cancel(time)).await.map(|_| ())
    }

    /// Posts a user-signed action (signed by this client's key, which must be the master's).
    pub async fn user_action(&self, action: &UserAction) -> Result<Value, ExchangeError> {
        let digest = user_signed_digest(action.signed())?;
        let body = json!({
            "action": action.posted(),
            "nonce": action.nonce,
            "signature": self.signer.sign(&digest)?,
            "vaultAddress": null,
            "expiresAfter": null,
        });
        let req: ExchangeRequest = serde_json::from_value(body).map_err(|e| SigningError::Encode(e.to_string()))?;
        let name = match action.signed()["type"].as_str() {
            Some("approveAgent") => "approveAgent",
            Some("usdSend") => "usdSend",
            _ => "withdraw3",
        };
        self.post(name, &req).await
    }

    /// Lets `agent` sign for this (master) account.
    pub async fn approve_agent(&self, agent: &str, name: Option<&str>) -> Result<(), ExchangeError> {
        let nonce = self.nonces.next((self.clock)())?;
        let action = builders::approve_agent(agent, name, nonce, self.settings.mainnet)?;
        self.user_action(&action).await.map(|_| ())
    }

    /// Where an order whose answer was lost stands, by its cloid.
    pub async fn resolve(&self, cloid: &str) -> Result<Resolution, ExchangeError> {
        let cloid = builders::cloid(cloid)?;
        let v = self.info.order_status(&self.account(), Value::String(cloid)).await?;
        if v["status"] == "order" {
            let o = &v["order"];
            let oid = o["order"]["oid"].as_u64().unwrap_or_default();
            return Ok(Resolution::Found { oid, status: o["status"].as_str().unwrap_or_default().to_string() });
        }
        Ok(Resolution::NotPlaced)
    }
}
