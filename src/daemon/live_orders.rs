//! The daemon's live side: intents to signed orders through the journal
//! (recorded before sending, resolved by cloid after a lost answer), our
//! account polled back as inputs, resting limit orders polled and cancelled
//! at their timeout, stops cancelled when their position is gone.

use std::sync::Arc;

use connectors::hyperliquid::exchange_client::ExchangeClient;
use connectors::hyperliquid::info_client::InfoClient;
use dataflows::model::{IntentKind, OrderIntent, Origin, TimeMs, Token};

use crate::executor::journal::{Journal, State};
use crate::executor::live::LiveExecutor;
use crate::executor::own;
use crate::ingest::Event;
use crate::store::Store;

pub struct LiveOrders {
    pub client: ExchangeClient,
    pub info: Arc<InfoClient>,
    pub account: String,
    /// Attribution of positions no entry of ours opened.
    pub fallback: Origin,
    pub limit_timeout_ms: u64,
    pub poll_ms: u64,
    pub refresh_ms: u64,
    next_sweep: TimeMs,
    /// When our account was last polled: it is polled again on every
    /// `refresh_ms` boundary of the clock (the same moments in a replay and
    /// after a restart), and right after orders went out.
    pub last_refresh: TimeMs,
    /// Our account must be polled at the next chance (an order went out).
    pub refresh_now: bool,
    /// The dead-man switch's horizon (0: off) and when to push it again.
    pub schedule_cancel_ms: u64,
    next_arm: TimeMs,
}

impl LiveOrders {
    pub fn new(
        client: ExchangeClient,
        info: Arc<InfoClient>,
        fallback: Origin,
        limit_timeout_ms: u64,
        poll_ms: u64,
        refresh_ms: u64,
    ) -> LiveOrders {
        let account = client.account();
        LiveOrders {
            client,
            info,
            account,
            fallback,
            limit_timeout_ms,
            poll_ms,
            refresh_ms,
            next_sweep: 0,
            last_refresh: 0,
            refresh_now: true,
            schedule_cancel_ms: 0,
            next_arm: 0,
        }
    }

    /// Start-up: every intent that may be on the venue without our knowing
    /// its fate is asked about by cloid.
    pub async fn resolve(&self, store: &Store, now: TimeMs) -> anyhow::Result<()> {
        let exec = LiveExecutor::new(&self.client, Journal::new(store));
        for r in exec.resolve_unknown(now).await? {
            tracing::info!(intent = %r.intent.id, cloid = %r.cloid, state = ?r.state, "resolved after restart");
        }
        Ok(())
    }

    /// The kill switch: every resting order but the stops is cancelled.
    pub async fn kill(&self, store: &Store, now: TimeMs) -> anyhow::Result<usize> {
        Ok(LiveExecutor::new(&self.client, Journal::new(store)).cancel_entries(now).await?)
    }

    /// A graceful stop disarms the dead-man switch: the stops keep protecting.
    pub async fn disarm(&self) {
        if self.schedule_cancel_ms > 0
            && let Err(e) = self.client.schedule_cancel(None).await
        {
            tracing::warn!(error = %e, "the dead-man switch stays armed");
        }
    }

    /// Sends each intent the journal has not sent: entries first, stops last
    /// (a stop protects the position its entry opened).
    pub async fn execute(&mut self, store: &Store, intents: &[OrderIntent], now: TimeMs) -> anyhow::Result<usize> {
        let exec = LiveExecutor::new(&self.client, Journal::new(store));
        let mut ordered: Vec<&OrderIntent> = intents.iter().collect();
        ordered.sort_by_key(|i| match i.kind {
            IntentKind::Open | IntentKind::Increase => 0,
            IntentKind::StopLoss => 2,
            _ => 1,
        });
        let mut sent = 0;
        for intent in ordered {
            let known = exec.journal().get(intent.id)?;
            if known.is_some_and(|r| r.state != State::Recorded) {
                continue;
            }
            if matches!(intent.kind, IntentKind::Close | IntentKind::Decrease) {
                let n = exec.cancel_entries_of(intent.token, now).await?;
                if n > 0 {
                    tracing::info!(token = %intent.token, cancelled = n, "an exit aborted resting entries");
                }
            }
            // A market order's slippage bound is around the price the decision
            // read, not a newer tick: the order is a function of the decision,
            // the same whether it goes out now or after a restart.
            let r = exec.execute(intent, intent.price, now).await?;
            tracing::info!(intent = %intent.id, cloid = %r.cloid, token = %intent.token, kind = ?intent.kind,
                state = ?r.state, "order");
            if intent.kind == IntentKind::StopLoss && r.state == State::Resting {
                // The new stop replaces the old: one stop per position on the venue.
                exec.cancel_stops(intent.token, Some(intent.id), now).await?;
            }
            sent += 1;
        }
        if sent > 0 {
            self.refresh_now = true;
        }
        Ok(sent)
    }

    /// The periodic duties at `now`: resting limit orders swept, our account
    /// polled when due; returns the account as inputs when it was polled.
    pub async fn duties(&mut self, store: &Store, now: TimeMs) -> anyhow::Result<Vec<Event>> {
        let exec = LiveExecutor::new(&self.client, Journal::new(store));
        if self.schedule_cancel_ms > 0 && now >= self.next_arm {
            match self.client.schedule_cancel(Some(now + self.schedule_cancel_ms)).await {
                Ok(()) => self.next_arm = now + self.schedule_cancel_ms / 2,
                Err(e) => tracing::warn!(error = %e, "the dead-man switch was not pushed; retried next tick"),
            }
        }
        if now >= self.next_sweep {
            for r in exec.sweep(now, self.limit_timeout_ms).await? {
                tracing::info!(intent = %r.intent.id, cloid = %r.cloid, state = ?r.state, "limit order");
                self.refresh_now = true;
            }
            self.next_sweep = now + self.poll_ms;
        }
        let boundary = now / self.refresh_ms.max(1) > self.last_refresh / self.refresh_ms.max(1);
        if !self.refresh_now && !boundary {
            return Ok(Vec::new());
        }
        let state = match self.info.clearinghouse_state(&self.account).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "our account state is unavailable; retried next tick");
                return Ok(Vec::new());
            }
        };
        self.refresh_now = false;
        self.last_refresh = now;
        let time = state.time.unwrap_or(now);
        let openings = own::openings(&exec.journal().all()?);
        let events = match own::events(&self.account, time, &state, &openings, self.fallback) {
            Ok(e) => e,
            Err(e) => {
                // Refused whole (nothing half-read reaches the brain); polled again next tick.
                tracing::warn!(error = %e, "our account state from the venue was refused");
                self.refresh_now = true;
                return Ok(Vec::new());
            }
        };
        // A stop whose position is gone protects nothing: cancel it.
        let held: Vec<Token> = events
            .iter()
            .filter_map(|e| match e {
                Event::OwnPosition(p) => Some(p.token),
                _ => None,
            })
            .collect();
        let stale: Vec<Token> = exec
            .journal()
            .open()?
            .iter()
            .filter(|r| r.intent.kind == IntentKind::StopLoss && r.state == State::Resting)
            .map(|r| r.intent.token)
            .filter(|t| !held.contains(t))
            .collect();
        for token in stale {
            exec.cancel_stops(token, None, now).await?;
        }
        Ok(events)
    }
}
