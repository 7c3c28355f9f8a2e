//! The live executor: sends intents to Hyperliquid's `/exchange` through the
//! signing client, with the journal's discipline (DESIGN §5) — recorded, then
//! marked `Sent` with its cloid, then sent; the answer recorded after. An
//! intent the journal already knows is never sent again; a lost answer leaves
//! it `Unknown` until [`LiveExecutor::resolve_unknown`] asks the venue by cloid.
//! Before an entry the position's isolated leverage is set (decisions.md 14);
//! a stop intent rests on the venue as a reduce-only market trigger.

use connectors::hyperliquid::actions::{Grouping, Tif, TpSl};
use connectors::hyperliquid::builders::{OrderKind, OrderRequest};
use connectors::hyperliquid::exchange_client::{ExchangeClient, ExchangeError, MarketOrder, OrderOutcome, Resolution};
use connectors::wire::Decimal;
use dataflows::model::{Fixed, IntentKind, OrderIntent, OrderType, Price, Rounding, Side, Size, TimeInForce, TimeMs};

use super::journal::{Journal, JournalError, Record, State};
use crate::decimal::{to_decimal, to_fixed};

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("intent {id}: {field} {value} cannot be sent")]
    Number { id: String, field: &'static str, value: String },
}

/// An intent's numbers in the wire's decimal type.
struct Wire {
    sz: Decimal,
    /// The mark (market), the limit price, or the trigger.
    px: Decimal,
    /// A fraction (market orders).
    slippage: Decimal,
}

pub struct LiveExecutor<'a> {
    client: &'a ExchangeClient,
    journal: Journal<'a>,
}

impl<'a> LiveExecutor<'a> {
    pub fn new(client: &'a ExchangeClient, journal: Journal<'a>) -> LiveExecutor<'a> {
        LiveExecutor { client, journal }
    }

    pub fn journal(&self) -> &Journal<'a> {
        &self.journal
    }

    /// Sends `intent` once, priced from `mark`; returns its record. An intent
    /// recorded before (a replay after a restart) is returned as it stands.
    pub async fn execute(&self, intent: &OrderIntent, mark: Price, now: TimeMs) -> Result<Record, LiveError> {
        let (record, new) = self.journal.record(intent, now)?;
        if !new && record.state != State::Recorded {
            return Ok(record);
        }
        let coin = intent.token.as_str().to_string();
        if matches!(intent.kind, IntentKind::Open | IntentKind::Increase) {
            let leverage = intent.leverage.fixed().trunc_int().clamp(1, 50) as u32;
            if let Err(e) = self.client.update_leverage(&coin, leverage, false).await {
                // No order goes out without its margin mode set.
                tracing::warn!(intent = %intent.id, token = %coin, error = %e, "leverage not set; entry refused");
                self.journal.advance(intent.id, State::Sent, None, None, now)?;
                return Ok(self.journal.advance(intent.id, State::Rejected, None, None, now)?);
            }
        }
        let numbers = (|| {
            let prices = match intent.order_type {
                OrderType::Market { max_slippage_percent } => (mark.fixed(), max_slippage_percent.fixed()),
                OrderType::Limit { price, .. } => (price.fixed(), Fixed::ZERO),
                OrderType::StopMarket { trigger_price } => (trigger_price.fixed(), Fixed::ZERO),
            };
            Ok::<_, LiveError>(Wire {
                sz: dec(intent, "size", intent.size.fixed())?,
                px: dec(intent, "price", prices.0)?,
                slippage: dec(intent, "max_slippage_percent", prices.1)? / Decimal::ONE_HUNDRED,
            })
        })();
        let sent = self.journal.advance(intent.id, State::Sent, None, None, now)?;
        let wire = match numbers {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(intent = %intent.id, error = %e, "order not sent");
                return Ok(self.journal.advance(intent.id, State::Rejected, None, None, now)?);
            }
        };
        let cloid = sent.cloid.to_string();
        let answer = self.send(intent, &coin, wire, cloid).await;
        let record = match answer {
            Ok(OrderOutcome::Resting { oid }) => {
                self.journal.advance(intent.id, State::Resting, Some(oid), None, now)?
            }
            Ok(OrderOutcome::WaitingForTrigger) => self.journal.advance(intent.id, State::Resting, None, None, now)?,
            Ok(OrderOutcome::Filled { oid, total_sz, .. }) => {
                let filled = size(intent, "filled size", total_sz)?;
                if filled < intent.size && !matches!(intent.order_type, OrderType::Limit { tif: TimeInForce::Gtc, .. })
                {
                    // An IOC that matched in part: the rest is cancelled by the venue.
                    self.journal.advance(intent.id, State::PartiallyFilled, Some(oid), Some(filled), now)?;
                    self.journal.advance(intent.id, State::Cancelled, None, None, now)?
                } else {
                    self.journal.advance(intent.id, State::Filled, Some(oid), Some(filled), now)?
                }
            }
            Ok(OrderOutcome::Rejected { reason, text }) => {
                tracing::info!(intent = %intent.id, cloid = %sent.cloid, token = %coin, ?reason, text, "order rejected");
                self.journal.advance(intent.id, State::Rejected, None, None, now)?
            }
            Ok(OrderOutcome::Done) => self.journal.advance(intent.id, State::Unknown, None, None, now)?,
            Err(e) if definite(&e) => {
                tracing::warn!(intent = %intent.id, cloid = %sent.cloid, error = %e, "order not sent");
                self.journal.advance(intent.id, State::Rejected, None, None, now)?
            }
            Err(e) => {
                tracing::warn!(intent = %intent.id, cloid = %sent.cloid, error = %e, "outcome unknown");
                self.journal.advance(intent.id, State::Unknown, None, None, now)?
            }
        };
        Ok(record)
    }

    async fn send(
        &self,
        intent: &OrderIntent,
        coin: &str,
        w: Wire,
        cloid: String,
    ) -> Result<OrderOutcome, ExchangeError> {
        let is_buy = intent.side == Side::Buy;
        let order = |limit_px: Decimal, kind: OrderKind| OrderRequest {
            coin: coin.to_string(),
            is_buy,
            sz: w.sz,
            limit_px,
            kind,
            reduce_only: intent.reduce_only,
            cloid: Some(cloid.clone()),
        };
        match intent.order_type {
            OrderType::Market { .. } => {
                let m = MarketOrder {
                    coin: coin.to_string(),
                    is_buy,
                    sz: w.sz,
                    mid: w.px,
                    slippage: w.slippage,
                    reduce_only: intent.reduce_only,
                    cloid: Some(cloid.clone()),
                };
                self.client.market(&m).await
            }
            OrderType::Limit { tif, .. } => {
                let tif = match tif {
                    TimeInForce::Gtc => Tif::Gtc,
                    TimeInForce::Ioc => Tif::Ioc,
                    TimeInForce::Alo => Tif::Alo,
                };
                self.place(order(w.px, OrderKind::Limit(tif))).await
            }
            OrderType::StopMarket { .. } => {
                // Worst price of the triggered market order: 10 % beyond the trigger.
                let worst = if is_buy { Decimal::new(11, 1) } else { Decimal::new(9, 1) };
                let kind = OrderKind::Trigger { trigger_px: w.px, is_market: true, tpsl: TpSl::Sl };
                self.place(order(w.px * worst, kind)).await
            }
        }
    }

    async fn place(&self, o: OrderRequest) -> Result<OrderOutcome, ExchangeError> {
        let o = self.client.market.round(o)?;
        let mut out = self.client.place(&[o], Grouping::Na).await?;
        out.pop().ok_or_else(|| ExchangeError::Unexpected { action: "order", body: "no status".into() })
    }

    /// The resting-order discipline (seed 002): every `poll_ms` a resting
    /// limit order is asked about by cloid; one older than `timeout_ms` is
    /// cancelled (a stop rests until its position closes). Returns the
    /// records that changed.
    pub async fn sweep(&self, now: TimeMs, timeout_ms: u64) -> Result<Vec<Record>, LiveError> {
        let mut out = Vec::new();
        for r in self.journal.open()? {
            if r.state != State::Resting || !matches!(r.intent.order_type, OrderType::Limit { .. }) {
                continue;
            }
            let id = r.intent.id;
            let cloid = r.cloid.to_string();
            let coin = r.intent.token.as_str().to_string();
            let sent_at = r.history.iter().find(|(_, s)| *s == State::Sent).map_or(r.intent.time_ms, |(t, _)| *t);
            match self.client.resolve(&cloid).await {
                Ok(Resolution::Found { oid, status }) if status == "filled" => {
                    out.push(self.journal.advance(id, State::Filled, Some(oid), Some(r.intent.size), now)?);
                    continue;
                }
                Ok(Resolution::Found { status, .. }) if status != "open" => {
                    out.push(self.journal.advance(id, State::Cancelled, None, None, now)?);
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(intent = %id, cloid, error = %e, "limit order status unknown"),
            }
            if now.saturating_sub(sent_at) >= timeout_ms {
                match self.client.cancel_by_cloid(&[(coin.as_str(), cloid.as_str())]).await {
                    Ok(_) => {
                        tracing::info!(intent = %id, cloid, token = %coin, "limit order timed out: cancelled");
                        out.push(self.journal.advance(id, State::Cancelled, None, None, now)?);
                    }
                    Err(e) => tracing::warn!(intent = %id, cloid, error = %e, "cancel failed; retried next sweep"),
                }
            }
        }
        Ok(out)
    }

    /// Cancels every resting order that is not a protective stop (the kill
    /// switch: no entry may fill while it is on; stops keep protecting).
    pub async fn cancel_entries(&self, now: TimeMs) -> Result<usize, LiveError> {
        self.cancel_resting(now, |r| r.intent.kind != IntentKind::StopLoss).await
    }

    /// Cancels the resting entries of `token`: an exit aborts them, so the
    /// monitor and a strategy (a rebalance leg on the book) never act on one
    /// position at once (seed 002 phase 5; strategy-rules §13.2).
    pub async fn cancel_entries_of(&self, token: dataflows::model::Token, now: TimeMs) -> Result<usize, LiveError> {
        self.cancel_resting(now, |r| {
            r.intent.token == token && matches!(r.intent.kind, IntentKind::Open | IntentKind::Increase)
        })
        .await
    }

    /// Cancels the resting stops of `token` but `keep`: all of them when its
    /// position is gone, the older ones when a new stop replaced them (a
    /// position has exactly one stop on the venue).
    pub async fn cancel_stops(
        &self,
        token: dataflows::model::Token,
        keep: Option<dataflows::model::IntentId>,
        now: TimeMs,
    ) -> Result<usize, LiveError> {
        self.cancel_resting(now, |r| {
            r.intent.kind == IntentKind::StopLoss && r.intent.token == token && Some(r.intent.id) != keep
        })
        .await
    }

    /// Cancels the resting orders `which` picks, by cloid; one that fails to
    /// cancel stays resting in the journal and is tried again next time.
    async fn cancel_resting(&self, now: TimeMs, which: impl Fn(&Record) -> bool) -> Result<usize, LiveError> {
        let mut n = 0;
        for r in self.journal.open()? {
            if r.state != State::Resting || !which(&r) {
                continue;
            }
            let (coin, cloid) = (r.intent.token.as_str().to_string(), r.cloid.to_string());
            match self.client.cancel_by_cloid(&[(coin.as_str(), cloid.as_str())]).await {
                Ok(_) => {
                    self.journal.advance(r.intent.id, State::Cancelled, None, None, now)?;
                    n += 1;
                }
                Err(e) => tracing::warn!(intent = %r.intent.id, cloid, error = %e, "cancel failed"),
            }
        }
        Ok(n)
    }

    /// Start-up: asks the venue about every intent that may be on it without
    /// our knowing (`Sent`, `Unknown`) and records what it says. One the venue
    /// never saw is a definite rejection (a retry is a new attempt, new cloid).
    pub async fn resolve_unknown(&self, now: TimeMs) -> Result<Vec<Record>, LiveError> {
        let mut out = Vec::new();
        for r in self.journal.unresolved()? {
            let id = r.intent.id;
            let cloid = r.cloid.to_string();
            let resolved = match self.client.resolve(&cloid).await {
                Ok(Resolution::Found { oid, status }) => {
                    let state = match status.as_str() {
                        "filled" => State::Filled,
                        "open" | "triggered" => State::Resting,
                        "rejected" => State::Rejected,
                        _ => State::Cancelled,
                    };
                    let filled = (state == State::Filled).then_some(r.intent.size);
                    if r.state == State::Sent {
                        self.journal.advance(id, State::Unknown, None, None, now)?;
                    }
                    self.journal.advance(id, state, Some(oid), filled, now)?
                }
                Ok(Resolution::NotPlaced) => self.journal.advance(id, State::Rejected, None, None, now)?,
                Err(e) => {
                    tracing::warn!(intent = %id, cloid, error = %e, "still unknown");
                    continue;
                }
            };
            out.push(resolved);
        }
        Ok(out)
    }
}

/// Errors after which the order certainly did not execute: it was never
/// sent, or the venue refused the whole action.
fn definite(e: &ExchangeError) -> bool {
    matches!(
        e,
        ExchangeError::Build(_)
            | ExchangeError::Sign(_)
            | ExchangeError::Nonce(_)
            | ExchangeError::LeverageCap { .. }
            | ExchangeError::UnknownCoin(_)
            | ExchangeError::MissingCloid(_)
            | ExchangeError::Refused { .. }
    )
}

/// A number for the wire; the grid rounding comes after (`Market::round`).
fn dec(intent: &OrderIntent, field: &'static str, x: Fixed) -> Result<Decimal, LiveError> {
    x.round_dp(12, Rounding::HalfEven).ok().and_then(to_decimal).ok_or_else(|| LiveError::Number {
        id: intent.id.to_string(),
        field,
        value: x.to_string(),
    })
}

fn size(intent: &OrderIntent, field: &'static str, d: Decimal) -> Result<Size, LiveError> {
    to_fixed(&d).map(Size::new).map_err(|_| LiveError::Number {
        id: intent.id.to_string(),
        field,
        value: d.to_string(),
    })
}
