//! Our own account as the venue reports it (`clearinghouseState`), as the
//! brain's inputs: each position with the strategy and wallet that opened it
//! and when — which the venue does not know and the journal does.

use std::collections::BTreeMap;

use connectors::hyperliquid::info::ClearinghouseState;
use dataflows::model::{IntentKind, Origin, OwnPosition, TimeMs, Token};

use super::journal::{Record, State};
use crate::ingest::{Event, IngestError, convert};

/// For each token, the latest filled entry: (when, by which strategy and wallet).
pub fn openings(records: &[Record]) -> BTreeMap<Token, (TimeMs, Origin)> {
    let mut out: BTreeMap<Token, (TimeMs, Origin)> = BTreeMap::new();
    for r in records {
        if r.intent.kind != IntentKind::Open || !matches!(r.state, State::Filled | State::PartiallyFilled) {
            continue;
        }
        let at = r.history.iter().rev().find(|(_, s)| matches!(s, State::Filled | State::PartiallyFilled));
        let at = at.map_or(r.intent.time_ms, |(t, _)| *t);
        let origin = Origin { strategy: r.intent.strategy, wallet: r.intent.attribution.first().map(|a| a.wallet) };
        if out.get(&r.intent.token).is_none_or(|(t, _)| *t <= at) {
            out.insert(r.intent.token, (at, origin));
        }
    }
    out
}

/// Our account at `time` as events: each position, then the account value.
/// A position no entry of ours opened (made by hand) is attributed to the
/// first enabled strategy and dated now: exits still protect it.
pub fn events(
    account: &str,
    time: TimeMs,
    state: &ClearinghouseState,
    openings: &BTreeMap<Token, (TimeMs, Origin)>,
    fallback: Origin,
) -> Result<Vec<Event>, IngestError> {
    let (positions, value) = convert::account(account, time, state)?;
    let mut out: Vec<Event> = positions
        .into_iter()
        .map(|p| {
            let (opened_at, origin) = openings.get(&p.token).copied().unwrap_or((time, fallback));
            Event::OwnPosition(OwnPosition {
                time_ms: time,
                token: p.token,
                size: p.size,
                entry_price: p.entry_price,
                liquidation_price: p.liquidation_price,
                leverage: p.leverage,
                opened_at,
                origin,
            })
        })
        .collect();
    out.push(Event::OwnAccount { time_ms: time, value: value.value });
    Ok(out)
}
