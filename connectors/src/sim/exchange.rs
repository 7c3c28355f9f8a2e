//! The venue's `/exchange`: signed actions from accounts traded from outside the
//! simulation (mirrorflow), checked like Hyperliquid checks them — the EIP-712
//! signer (the account or an agent it approved), nonces, tick and lot rules, the
//! $10 minimum, reduce-only, margin — and executed against the simulated book.
//! Resting limits fill when the market trades through them and triggers fire when
//! the mark crosses; both are checked at every minute of virtual time.
//!
//! Error strings are Hyperliquid's documented ones (hyperliquid-api.md §2); the
//! duplicate-cloid text is not documented there and is this venue's own.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Value, json};

use super::ledger::unrealized;
use super::market::DAY_MS;
use super::tokens::Round;
use super::world::World;
use crate::hyperliquid::actions::{Action, ExchangeRequest, Grouping, OidOrCloid, OrderTypeWire, OrderWire, Tif, TpSl};
use crate::hyperliquid::signing::{address_bytes, l1_digest, recover_signer, user_signed_digest};
use crate::wire::{Decimal, hl_string, parse_decimal};

pub const ERR_TICK: &str = "Price must be divisible by tick size.";
pub const ERR_MIN_NOTIONAL: &str = "Order must have minimum value of $10.";
pub const ERR_MARGIN: &str = "Insufficient margin to place order.";
pub const ERR_REDUCE_ONLY: &str = "Reduce only order would increase position.";
pub const ERR_SIZE: &str = "Order has invalid size.";
pub const ERR_PRICE: &str = "Order has invalid price.";
pub const ERR_CANCEL_MISSING: &str = "Order was never placed, already canceled, or filled.";
pub const ERR_DUPLICATE_CLOID: &str = "Duplicate cloid: an order with this cloid was already placed.";
pub const ERR_TRIGGER_REDUCE_ONLY: &str = "Invalid TP/SL price.";

/// How many nonces are kept per signer (a new one must exceed the smallest).
const NONCES_KEPT: usize = 100;

#[derive(Debug, Clone, PartialEq)]
pub enum OrderKind {
    Limit(Tif),
    Trigger { is_market: bool, trigger_px: Decimal, tpsl: TpSl },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub oid: u64,
    pub account: usize,
    pub token: usize,
    pub buy: bool,
    pub limit_px: Decimal,
    /// Remaining size.
    pub sz: Decimal,
    pub orig_sz: Decimal,
    pub reduce_only: bool,
    pub kind: OrderKind,
    pub cloid: Option<String>,
    pub timestamp: u64,
    /// `open`, `filled`, `canceled`, `triggered`, `rejected`, `scheduledCancel`, `reduceOnlyCanceled`…
    pub status: &'static str,
    pub status_time: u64,
    /// A `normalTpsl` child waits for its parent to fill.
    pub parent: Option<u64>,
    pub position_tpsl: bool,
}

impl Order {
    pub fn is_open(&self) -> bool {
        self.status == "open"
    }
}

/// One `/exchange` request as the audit shows it (DESIGN §8).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub time_ms: u64,
    pub action_type: String,
    /// The recovered signer, lower-case (empty when none recovers).
    pub signer: String,
    pub nonce: u64,
    pub cloids: Vec<String>,
    /// Per order: `resting`, `filled`, `waitingForTrigger`, or the error text;
    /// otherwise `ok` or the error.
    pub outcome: Vec<String>,
}

/// A change of an order's state, for the WebSocket's `orderUpdates`.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderEvent {
    pub time: u64,
    pub oid: u64,
    pub status: &'static str,
}

#[derive(Debug, Default)]
pub struct ExchangeState {
    pub orders: BTreeMap<u64, Order>,
    cloids: BTreeMap<(usize, String), u64>,
    /// Agent address → the account it trades for.
    pub agents: BTreeMap<[u8; 20], usize>,
    nonces: BTreeMap<[u8; 20], BTreeSet<u64>>,
    /// (account, token) → (leverage, cross).
    pub leverage: BTreeMap<(usize, usize), (u32, bool)>,
    pub scheduled_cancel: BTreeMap<usize, u64>,
    pub audit: Vec<AuditEntry>,
    pub events: Vec<OrderEvent>,
}

fn err(text: impl Into<String>) -> Value {
    json!({"status": "err", "response": text.into()})
}

fn ok_default() -> Value {
    json!({"status": "ok", "response": {"type": "default"}})
}

fn hex_addr(a: &[u8; 20]) -> String {
    format!("0x{}", hex::encode(a))
}

impl World {
    /// Handles one `/exchange` request; returns the response body and records the audit.
    pub fn exchange(&mut self, req: &ExchangeRequest, mainnet: bool) -> Value {
        let kind = req.action["type"].as_str().unwrap_or("").to_string();
        let mut audit = AuditEntry {
            seq: self.exchange.audit.len() as u64 + 1,
            time_ms: self.now_ms,
            action_type: kind.clone(),
            signer: String::new(),
            nonce: req.nonce,
            cloids: Vec::new(),
            outcome: Vec::new(),
        };
        let response = if matches!(kind.as_str(), "approveAgent" | "usdSend" | "withdraw3") {
            self.user_signed(req, &mut audit)
        } else {
            self.l1(req, mainnet, &mut audit)
        };
        if audit.outcome.is_empty() {
            audit.outcome.push(match response["status"].as_str() {
                Some("ok") => "ok".to_string(),
                _ => response["response"].as_str().unwrap_or("error").to_string(),
            });
        }
        self.exchange.audit.push(audit);
        response
    }

    fn external(&self, addr: &[u8; 20]) -> Option<usize> {
        let w = self.wallet_index(&hex_addr(addr))?;
        (self.personas[w].kind == super::personas::PersonaKind::External).then_some(w)
    }

    /// Nonce rules: within (now − 2 days, now + 1 day), unused, above the smallest
    /// of the signer's 100 highest.
    fn take_nonce(&mut self, signer: [u8; 20], nonce: u64) -> Result<(), String> {
        let now = self.now_ms;
        if nonce + 2 * DAY_MS <= now || nonce >= now + DAY_MS {
            return Err(format!("Invalid nonce: nonce {nonce} is not within two days of the current time {now}"));
        }
        let seen = self.exchange.nonces.entry(signer).or_default();
        if seen.contains(&nonce) {
            return Err(format!("Invalid nonce: duplicate nonce {nonce}"));
        }
        if seen.len() >= NONCES_KEPT && seen.first().is_some_and(|lowest| nonce < *lowest) {
            return Err(format!("Invalid nonce: nonce {nonce} is lower than the lowest retained nonce"));
        }
        seen.insert(nonce);
        while seen.len() > NONCES_KEPT {
            seen.pop_first();
        }
        Ok(())
    }

    fn user_signed(&mut self, req: &ExchangeRequest, audit: &mut AuditEntry) -> Value {
        let signer = match signer_of(user_signed_digest(&req.action), req, audit) {
            Ok(s) => s,
            Err(e) => return e,
        };
        let Some(account) = self.external(&signer) else {
            return err(format!("User or API Wallet {} does not exist.", hex_addr(&signer)));
        };
        let field_nonce = req.action["nonce"].as_u64().or(req.action["time"].as_u64());
        if field_nonce != Some(req.nonce) {
            return err("Invalid nonce: the action's nonce/time must equal the request nonce");
        }
        if let Err(e) = self.take_nonce(signer, req.nonce) {
            return err(e);
        }
        match req.action["type"].as_str() {
            Some("approveAgent") => {
                let Some(agent) = req.action["agentAddress"].as_str().and_then(address_bytes) else {
                    return err("Invalid agent address");
                };
                self.exchange.agents.insert(agent, account);
                ok_default()
            }
            _ => {
                let amount = req.action["amount"].as_str().and_then(|a| parse_decimal(a).ok()).unwrap_or_default();
                if amount <= Decimal::ZERO || amount > self.account_value(account) {
                    return err("Insufficient balance for withdrawal");
                }
                self.accounts[account].transfer(self.now_ms, -amount);
                if req.action["type"] == "usdSend"
                    && let Some(to) = req.action["destination"].as_str().and_then(|d| self.wallet_index(d))
                {
                    self.accounts[to].transfer(self.now_ms, amount);
                }
                ok_default()
            }
        }
    }

    fn l1(&mut self, req: &ExchangeRequest, mainnet: bool, audit: &mut AuditEntry) -> Value {
        let action: Action = match serde_json::from_value(req.action.clone()) {
            Ok(a) => a,
            Err(e) => return err(format!("Failed to deserialize the action: {e}")),
        };
        audit.cloids = action.cloids();
        let digest = l1_digest(&action, req.nonce, req.vault_address.as_deref(), req.expires_after, mainnet);
        let signer = match signer_of(digest, req, audit) {
            Ok(s) => s,
            Err(e) => return e,
        };
        let acting = match &req.vault_address {
            Some(v) => address_bytes(v).and_then(|a| self.external(&a)),
            None => self.external(&signer).or_else(|| self.exchange.agents.get(&signer).copied()),
        };
        let Some(account) = acting else {
            return err(format!("User or API Wallet {} does not exist.", hex_addr(&signer)));
        };
        let authorised = self.external(&signer) == Some(account) || self.exchange.agents.get(&signer) == Some(&account);
        if !authorised {
            return err(format!("User or API Wallet {} does not exist.", hex_addr(&signer)));
        }
        if req.expires_after.is_some_and(|t| t < self.now_ms) {
            return err(format!(
                "Action expired: expiresAfter {} is before {}",
                req.expires_after.unwrap_or(0),
                self.now_ms
            ));
        }
        if let Err(e) = self.take_nonce(signer, req.nonce) {
            return err(e);
        }
        match action {
            Action::Order { orders, grouping, .. } => {
                let statuses = self.place_orders(account, &orders, grouping);
                audit.outcome = statuses.iter().map(status_text).collect();
                json!({"status": "ok", "response": {"type": "order", "data": {"statuses": statuses}}})
            }
            Action::Cancel { cancels } => {
                let statuses: Vec<Value> = cancels
                    .iter()
                    .map(|c| {
                        let hit = self
                            .exchange
                            .orders
                            .get(&c.o)
                            .is_some_and(|o| o.account == account && o.is_open() && o.token == c.a as usize);
                        self.cancel_status(hit.then_some(c.o))
                    })
                    .collect();
                audit.outcome = statuses.iter().map(status_text).collect();
                json!({"status": "ok", "response": {"type": "cancel", "data": {"statuses": statuses}}})
            }
            Action::CancelByCloid { cancels } => {
                let statuses: Vec<Value> = cancels
                    .iter()
                    .map(|c| {
                        let oid = self.exchange.cloids.get(&(account, c.cloid.to_lowercase())).copied();
                        let hit = oid.filter(|o| self.exchange.orders.get(o).is_some_and(|o| o.is_open()));
                        self.cancel_status(hit)
                    })
                    .collect();
                audit.outcome = statuses.iter().map(status_text).collect();
                json!({"status": "ok", "response": {"type": "cancel", "data": {"statuses": statuses}}})
            }
            Action::BatchModify { modifies } => {
                let mut statuses = Vec::new();
                for m in &modifies {
                    let oid = match &m.oid {
                        OidOrCloid::Oid(o) => Some(*o),
                        OidOrCloid::Cloid(c) => self.exchange.cloids.get(&(account, c.to_lowercase())).copied(),
                    };
                    let open = oid
                        .filter(|o| self.exchange.orders.get(o).is_some_and(|x| x.account == account && x.is_open()));
                    match open {
                        Some(oid) => {
                            self.set_status(oid, "canceled");
                            let mut wire = m.order.clone();
                            // The replacement keeps the order's cloid.
                            if wire.c.is_some() {
                                self.exchange
                                    .cloids
                                    .remove(&(account, wire.c.clone().unwrap_or_default().to_lowercase()));
                            }
                            wire.c = wire.c.or_else(|| self.exchange.orders.get(&oid).and_then(|o| o.cloid.clone()));
                            if let Some(c) = &wire.c {
                                self.exchange.cloids.remove(&(account, c.to_lowercase()));
                            }
                            statuses.extend(self.place_orders(account, std::slice::from_ref(&wire), Grouping::Na));
                        }
                        None => statuses.push(json!({"error": ERR_CANCEL_MISSING})),
                    }
                }
                audit.outcome = statuses.iter().map(status_text).collect();
                json!({"status": "ok", "response": {"type": "order", "data": {"statuses": statuses}}})
            }
            Action::UpdateLeverage { asset, is_cross, leverage } => {
                let token = asset as usize;
                let Some(spec) = self.specs().get(token).cloned() else { return err("Invalid asset.") };
                if leverage == 0 || leverage > spec.max_leverage {
                    return err(format!("Invalid leverage value: {leverage} (max {})", spec.max_leverage));
                }
                self.exchange.leverage.insert((account, token), (leverage, is_cross));
                let specs = self.market.tokens.clone();
                if let Some(p) = self.accounts[account].positions.get_mut(&token) {
                    p.leverage = leverage;
                    if p.isolated && is_cross {
                        p.isolated = false;
                    } else if !p.isolated && !is_cross {
                        p.isolated = true;
                        p.margin = super::ledger::round_usd(p.entry * p.szi.abs() / Decimal::from(leverage));
                    }
                }
                self.accounts[account].refresh_liquidation_prices(&specs);
                ok_default()
            }
            Action::UpdateIsolatedMargin { asset, ntli, .. } => {
                let token = asset as usize;
                let delta = Decimal::from(ntli) / Decimal::from(1_000_000);
                let specs = self.market.tokens.clone();
                let Some(p) = self.accounts[account].positions.get_mut(&token).filter(|p| p.isolated) else {
                    return err("No isolated position to update margin of.");
                };
                if p.margin + delta <= Decimal::ZERO {
                    return err(ERR_MARGIN);
                }
                p.margin += delta;
                self.accounts[account].refresh_liquidation_prices(&specs);
                ok_default()
            }
            Action::ScheduleCancel { time } => {
                match time {
                    Some(t) if t < self.now_ms + 5_000 => {
                        return err("Scheduled cancel time too early, must be at least 5 seconds from now.");
                    }
                    Some(t) => {
                        self.exchange.scheduled_cancel.insert(account, t);
                    }
                    None => {
                        self.exchange.scheduled_cancel.remove(&account);
                    }
                }
                ok_default()
            }
            Action::Noop => ok_default(),
            Action::Dummy { .. } => err("Unsupported action type: dummy"),
        }
    }

    fn cancel_status(&mut self, oid: Option<u64>) -> Value {
        match oid {
            Some(oid) => {
                self.set_status(oid, "canceled");
                json!("success")
            }
            None => json!({"error": ERR_CANCEL_MISSING}),
        }
    }

    fn set_status(&mut self, oid: u64, status: &'static str) {
        let now = self.now_ms;
        if let Some(o) = self.exchange.orders.get_mut(&oid) {
            o.status = status;
            o.status_time = now;
            self.exchange.events.push(OrderEvent { time: now, oid, status });
        }
    }

    fn leverage_for(&self, account: usize, token: usize) -> (u32, bool) {
        let max = self.specs()[token].max_leverage;
        let (lev, cross) = self.exchange.leverage.get(&(account, token)).copied().unwrap_or((20, true));
        (lev.min(max), cross)
    }

    /// Validates and places a batch; returns one status per order.
    fn place_orders(&mut self, account: usize, orders: &[OrderWire], grouping: Grouping) -> Vec<Value> {
        let mut statuses = Vec::new();
        let mut parent: Option<(u64, bool)> = None; // (oid, filled)
        for (i, wire) in orders.iter().enumerate() {
            let is_child = grouping == Grouping::NormalTpsl && i > 0;
            let waiting_parent = if is_child { parent.filter(|(_, filled)| !filled).map(|(oid, _)| oid) } else { None };
            let status = match self.validate(account, wire) {
                Err(e) => json!({"error": e}),
                Ok(order) => {
                    let mut order = order;
                    order.parent = waiting_parent;
                    order.position_tpsl = grouping == Grouping::PositionTpsl;
                    let oid = order.oid;
                    if let Some(c) = &order.cloid {
                        self.exchange.cloids.insert((account, c.clone()), oid);
                    }
                    let trigger = matches!(order.kind, OrderKind::Trigger { .. });
                    self.exchange.orders.insert(oid, order);
                    self.exchange.events.push(OrderEvent { time: self.now_ms, oid, status: "open" });
                    if trigger {
                        if is_child { json!("waitingForTrigger") } else { json!({"resting": {"oid": oid}}) }
                    } else {
                        self.execute_limit(oid)
                    }
                }
            };
            if i == 0 && grouping == Grouping::NormalTpsl {
                let oid = status["resting"]["oid"].as_u64().or(status["filled"]["oid"].as_u64());
                parent = oid.map(|o| (o, status.get("filled").is_some()));
            }
            statuses.push(status);
        }
        statuses
    }

    fn validate(&mut self, account: usize, wire: &OrderWire) -> Result<Order, String> {
        let token = wire.a as usize;
        let spec = self.specs().get(token).cloned().ok_or_else(|| format!("Invalid asset {}.", wire.a))?;
        let px = parse_decimal(&wire.p).map_err(|_| ERR_PRICE.to_string())?;
        let sz = parse_decimal(&wire.s).map_err(|_| ERR_SIZE.to_string())?;
        if px <= Decimal::ZERO {
            return Err(ERR_PRICE.into());
        }
        if !spec.is_valid_price(px) {
            return Err(ERR_TICK.into());
        }
        if !spec.is_valid_size(sz) {
            return Err(ERR_SIZE.into());
        }
        let cloid = match &wire.c {
            Some(c) => {
                let ok = c.len() == 34 && c.starts_with("0x") && c[2..].bytes().all(|b| b.is_ascii_hexdigit());
                if !ok {
                    return Err("Invalid cloid: expected 0x followed by 32 hex digits.".into());
                }
                let c = c.to_lowercase();
                if self.exchange.cloids.contains_key(&(account, c.clone())) {
                    return Err(ERR_DUPLICATE_CLOID.into());
                }
                Some(c)
            }
            None => None,
        };
        let kind = match &wire.t {
            OrderTypeWire::Limit { tif } => OrderKind::Limit(*tif),
            OrderTypeWire::Trigger(t) => {
                let trigger_px = parse_decimal(&t.trigger_px).map_err(|_| ERR_PRICE.to_string())?;
                if trigger_px <= Decimal::ZERO || !spec.is_valid_price(trigger_px) {
                    return Err(ERR_TICK.into());
                }
                if !wire.r {
                    return Err(ERR_TRIGGER_REDUCE_ONLY.into());
                }
                OrderKind::Trigger { is_market: t.is_market, trigger_px, tpsl: t.tpsl }
            }
        };
        let ref_px = match &kind {
            OrderKind::Trigger { trigger_px, .. } => *trigger_px,
            OrderKind::Limit(_) => px,
        };
        if ref_px * sz < Decimal::from(10) {
            return Err(ERR_MIN_NOTIONAL.into());
        }
        let position = self.accounts[account].positions.get(&token).map(|p| p.szi).unwrap_or_default();
        let increases = position.is_zero() || position.is_sign_positive() == wire.b;
        if wire.r && increases && !matches!(kind, OrderKind::Trigger { .. }) {
            return Err(ERR_REDUCE_ONLY.into());
        }
        if !wire.r {
            let (lev, _) = self.leverage_for(account, token);
            let needed = px * sz / Decimal::from(lev);
            let used: Decimal = self.accounts[account]
                .positions
                .iter()
                .map(|(t, p)| {
                    p.entry * p.szi.abs() / Decimal::from(p.leverage)
                        + unrealized(p, self.mark(*t)).min(Decimal::ZERO).abs()
                })
                .sum();
            if self.account_value(account) - used < needed {
                return Err(ERR_MARGIN.into());
            }
        }
        let oid = self.allocate_oid();
        Ok(Order {
            oid,
            account,
            token,
            buy: wire.b,
            limit_px: px,
            sz,
            orig_sz: sz,
            reduce_only: wire.r,
            kind,
            cloid,
            timestamp: self.now_ms,
            status: "open",
            status_time: self.now_ms,
            parent: None,
            position_tpsl: false,
        })
    }

    /// The best bid and ask the simulated book quotes now.
    pub fn bbo(&self, token: usize) -> (Decimal, Decimal) {
        let spec = &self.specs()[token];
        let mid = self.market.price_generated(token, self.now_ms);
        (
            spec.round_price(mid * (1.0 - spec.half_spread), Round::Down),
            spec.round_price(mid * (1.0 + spec.half_spread), Round::Up),
        )
    }

    /// A new limit order: crosses (taker) if marketable, else rests, per its TIF.
    fn execute_limit(&mut self, oid: u64) -> Value {
        let Some(order) = self.exchange.orders.get(&oid).cloned() else { return json!({"error": "order lost"}) };
        let OrderKind::Limit(tif) = order.kind else { return json!({"resting": {"oid": oid}}) };
        let (bid, ask) = self.bbo(order.token);
        let marketable = if order.buy { order.limit_px >= ask } else { order.limit_px <= bid };
        match (tif, marketable) {
            (Tif::Alo, true) => {
                self.set_status(oid, "badAloPxRejected");
                json!({"error": format!("Post only order would have immediately matched, bbo was {}@{}. asset={}", hl_string(&bid), hl_string(&ask), order.token)})
            }
            (Tif::Ioc, false) => {
                self.set_status(oid, "iocCancelRejected");
                json!({"error": format!("Order could not immediately match against any resting orders. asset={}", order.token)})
            }
            (_, false) => json!({"resting": {"oid": oid}}),
            (_, true) => match self.fill_order(oid, true, None) {
                Some((sz, px)) => json!({"filled": {"totalSz": hl_string(&sz), "avgPx": hl_string(&px), "oid": oid}}),
                None => json!({"error": ERR_REDUCE_ONLY}),
            },
        }
    }

    /// Fills an order: as taker at the book with size-dependent slippage (bounded
    /// by the limit), or as maker at `maker_px`. Reduce-only sizes are clipped to
    /// the position; an order with nothing left to reduce is cancelled.
    fn fill_order(&mut self, oid: u64, taker: bool, maker_px: Option<Decimal>) -> Option<(Decimal, Decimal)> {
        let order = self.exchange.orders.get(&oid)?.clone();
        let position = self.accounts[order.account].positions.get(&order.token).map(|p| p.szi).unwrap_or_default();
        let mut sz = order.sz;
        if order.reduce_only {
            let reducing = !position.is_zero() && position.is_sign_positive() != order.buy;
            if !reducing {
                self.set_status(oid, "reduceOnlyCanceled");
                return None;
            }
            sz = sz.min(position.abs());
        }
        let px = match maker_px {
            Some(p) => p,
            None => {
                let book = self.book_price(order.token, order.buy, sz);
                if order.buy { book.min(order.limit_px) } else { book.max(order.limit_px) }
            }
        };
        let (lev, cross) = self.leverage_for(order.account, order.token);
        self.external_fill(order.account, order.token, order.buy, px, sz, taker, lev, !cross, order.cloid.as_deref());
        let o = self.exchange.orders.get_mut(&oid)?;
        o.sz -= sz;
        if o.sz <= Decimal::ZERO || order.reduce_only {
            self.set_status(oid, "filled");
            self.activate_children(oid);
        }
        Some((sz, px))
    }

    fn activate_children(&mut self, parent: u64) {
        let children: Vec<u64> =
            self.exchange.orders.values().filter(|o| o.parent == Some(parent)).map(|o| o.oid).collect();
        for c in children {
            if let Some(o) = self.exchange.orders.get_mut(&c) {
                o.parent = None;
            }
        }
    }

    /// Runs at every minute boundary: scheduled cancels, triggers, resting limits.
    pub fn match_resting(&mut self, t: u64) {
        let due: Vec<usize> =
            self.exchange.scheduled_cancel.iter().filter(|(_, at)| **at <= t).map(|(a, _)| *a).collect();
        for account in due {
            self.exchange.scheduled_cancel.remove(&account);
            let open: Vec<u64> =
                self.exchange.orders.values().filter(|o| o.account == account && o.is_open()).map(|o| o.oid).collect();
            for oid in open {
                self.set_status(oid, "scheduledCancel");
            }
        }
        let open: Vec<Order> =
            self.exchange.orders.values().filter(|o| o.is_open() && o.parent.is_none()).cloned().collect();
        for o in open {
            let mark = self.market.mark(o.token, t);
            match o.kind {
                OrderKind::Trigger { is_market, trigger_px, tpsl } => {
                    // A sell stop fires on the way down, a sell take-profit on the way up; buys mirror.
                    let fires = match (o.buy, tpsl) {
                        (false, TpSl::Sl) | (true, TpSl::Tp) => mark <= trigger_px,
                        (false, TpSl::Tp) | (true, TpSl::Sl) => mark >= trigger_px,
                    };
                    if !fires {
                        continue;
                    }
                    self.set_status(o.oid, "triggered");
                    if let Some(x) = self.exchange.orders.get_mut(&o.oid) {
                        x.status = "open";
                        x.kind = OrderKind::Limit(if is_market { Tif::Ioc } else { Tif::Gtc });
                    }
                    let (bid, ask) = self.bbo(o.token);
                    let marketable = if o.buy { o.limit_px >= ask } else { o.limit_px <= bid };
                    if is_market || marketable {
                        if self.fill_order(o.oid, true, None).is_none() {
                            continue;
                        }
                        if self.exchange.orders.get(&o.oid).is_some_and(Order::is_open) && is_market {
                            self.set_status(o.oid, "canceled");
                        }
                    }
                }
                OrderKind::Limit(_) => {
                    // A resting buy fills when the market trades down to it, a sell when up to it.
                    let through = if o.buy { mark <= o.limit_px } else { mark >= o.limit_px };
                    if through {
                        self.fill_order(o.oid, false, Some(o.limit_px));
                    }
                }
            }
        }
    }

    /// `orderStatus` by oid or cloid, in the real response shape.
    pub fn order_status(&self, account: Option<usize>, oid: &Value) -> Value {
        let found = match (oid.as_u64(), oid.as_str(), account) {
            (Some(o), _, _) => self.exchange.orders.get(&o).filter(|x| Some(x.account) == account),
            (None, Some(c), Some(a)) => {
                self.exchange.cloids.get(&(a, c.to_lowercase())).and_then(|o| self.exchange.orders.get(o))
            }
            _ => None,
        };
        match found {
            Some(o) => {
                json!({"status": "order", "order": {"order": self.frontend_order(o), "status": o.status, "statusTimestamp": o.status_time}})
            }
            None => json!({"status": "unknownOid"}),
        }
    }

    /// An order in `frontendOpenOrders`' shape.
    pub fn frontend_order(&self, o: &Order) -> Value {
        let (is_trigger, trigger_px, condition, order_type, tif) = match &o.kind {
            OrderKind::Limit(tif) => (false, "0.0".to_string(), "N/A".to_string(), "Limit", Some(format!("{tif:?}"))),
            OrderKind::Trigger { is_market, trigger_px, tpsl } => {
                let above = matches!((o.buy, tpsl), (false, TpSl::Tp) | (true, TpSl::Sl));
                let cond = format!("Price {} {}", if above { "above" } else { "below" }, hl_string(trigger_px));
                let kind = match (tpsl, is_market) {
                    (TpSl::Sl, true) => "Stop Market",
                    (TpSl::Sl, false) => "Stop Limit",
                    (TpSl::Tp, true) => "Take Profit Market",
                    (TpSl::Tp, false) => "Take Profit Limit",
                };
                (true, hl_string(trigger_px), cond, kind, None)
            }
        };
        json!({
            "coin": self.specs()[o.token].name,
            "side": if o.buy { "B" } else { "A" },
            "limitPx": hl_string(&o.limit_px),
            "sz": hl_string(&o.sz),
            "oid": o.oid,
            "timestamp": o.timestamp,
            "triggerCondition": condition,
            "isTrigger": is_trigger,
            "triggerPx": trigger_px,
            "children": [],
            "isPositionTpsl": o.position_tpsl,
            "reduceOnly": o.reduce_only,
            "orderType": order_type,
            "origSz": hl_string(&o.orig_sz),
            "tif": tif,
            "cloid": o.cloid,
        })
    }

    /// Open orders of an account: `openOrders` (short) or `frontendOpenOrders` (full).
    pub fn open_orders(&self, account: Option<usize>, frontend: bool) -> Value {
        let rows: Vec<Value> = self
            .exchange
            .orders
            .values()
            .filter(|o| Some(o.account) == account && o.is_open())
            .map(|o| {
                if frontend {
                    self.frontend_order(o)
                } else {
                    let mut v = json!({"coin": self.specs()[o.token].name, "limitPx": hl_string(&o.limit_px),
                        "oid": o.oid, "side": if o.buy { "B" } else { "A" }, "sz": hl_string(&o.sz),
                        "timestamp": o.timestamp, "origSz": hl_string(&o.orig_sz)});
                    if let Some(c) = &o.cloid {
                        v["cloid"] = json!(c);
                    }
                    v
                }
            })
            .collect();
        Value::Array(rows)
    }
}

/// The address that signed `digest`, recorded in the audit; an error response otherwise.
fn signer_of(
    digest: Result<[u8; 32], crate::hyperliquid::signing::SigningError>,
    req: &ExchangeRequest,
    audit: &mut AuditEntry,
) -> Result<[u8; 20], Value> {
    let digest = digest.map_err(|e| err(e.to_string()))?;
    let signer = recover_signer(&digest, &req.signature).map_err(|e| err(e.to_string()))?;
    audit.signer = hex_addr(&signer);
    Ok(signer)
}

fn status_text(v: &Value) -> String {
    if let Some(s) = v.as_str() {
        return s.to_string();
    }
    if let Some(e) = v.get("error").and_then(Value::as_str) {
        return e.to_string();
    }
    v.as_object().and_then(|o| o.keys().next().cloned()).unwrap_or_default()
}
