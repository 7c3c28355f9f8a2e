//! The equity curve of a backfill: the account values the paper executor
//! reports (at the start, after each fill, hourly while positions are open),
//! kept as they pass to the brain — with the exposure at each of those times
//! and the positions whose mark reached their liquidation price.

use std::collections::BTreeMap;

use dataflows::feed::Input;
use dataflows::model::{OrderIntent, OwnPosition, Price, TimeMs, Token, Usd};
use dataflows::replay::Venue;

use crate::executor::paper::PaperVenue;

/// Gross and net exposure (USD at the marks) at one time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exposure {
    pub time_ms: TimeMs,
    pub gross: f64,
    pub net: f64,
    pub equity: f64,
}

/// The paper venue, recording the account values it reports.
pub struct Recording<V = PaperVenue> {
    pub venue: V,
    pub equity: Vec<(TimeMs, Usd)>,
    pub exposure: Vec<Exposure>,
    /// Positions whose mark reached their (estimated) liquidation price: the
    /// paper executor does not liquidate, a venue would have.
    pub liquidations: u64,
    marks: BTreeMap<Token, Price>,
    held: BTreeMap<Token, OwnPosition>,
    /// The snapshot being reported (positions come before the account value).
    reporting: BTreeMap<Token, OwnPosition>,
    /// Positions already counted as liquidated, by (token, opened at).
    liquidated: BTreeMap<Token, TimeMs>,
}

impl<V> Recording<V> {
    pub fn new(venue: V) -> Recording<V> {
        Recording {
            venue,
            equity: Vec::new(),
            exposure: Vec::new(),
            liquidations: 0,
            marks: BTreeMap::new(),
            held: BTreeMap::new(),
            reporting: BTreeMap::new(),
            liquidated: BTreeMap::new(),
        }
    }

    /// The curve as (time, value) for the statistics.
    pub fn curve(&self) -> Vec<(TimeMs, f64)> {
        self.equity.iter().map(|(t, v)| (*t, v.to_f64())).collect()
    }

    /// The positions of the account's latest report.
    pub fn positions(&self) -> impl Iterator<Item = (&Token, &OwnPosition)> {
        self.held.iter()
    }

    /// Takes in an input the venue fed back or the brain saw: for an account
    /// read back from a recorded log rather than driven.
    pub fn witness(&mut self, input: &Input) {
        self.see_mark(input);
        self.record(input);
    }

    /// A mark: the exposure's price, and a liquidation if it reached one.
    fn see_mark(&mut self, input: &Input) {
        if let Input::Mark(m) = input {
            self.marks.insert(m.token, m.price);
            self.check_liquidation(m.token);
        }
    }

    fn check_liquidation(&mut self, token: Token) {
        let (Some(p), Some(mark)) = (self.held.get(&token), self.marks.get(&token)) else { return };
        let Some(liq) = p.liquidation_price else { return };
        let reached = if p.size.is_positive() { *mark <= liq } else { *mark >= liq };
        if reached && self.liquidated.get(&token) != Some(&p.opened_at) {
            self.liquidated.insert(token, p.opened_at);
            self.liquidations += 1;
        }
    }

    fn record(&mut self, input: &Input) {
        match input {
            Input::OwnPosition(p) => {
                self.reporting.insert(p.token, *p);
            }
            Input::OwnAccount { time_ms, value } => {
                self.held = std::mem::take(&mut self.reporting);
                match self.equity.last_mut() {
                    // One point per time: the last report of it.
                    Some((t, v)) if *t == *time_ms => *v = *value,
                    _ => self.equity.push((*time_ms, *value)),
                }
                let (mut gross, mut net) = (0.0, 0.0);
                for (token, p) in &self.held {
                    let px = self.marks.get(token).copied().unwrap_or(p.entry_price).to_f64();
                    let usd = p.size.to_f64() * px;
                    gross += usd.abs();
                    net += usd;
                }
                let e = Exposure { time_ms: *time_ms, gross, net, equity: value.to_f64() };
                match self.exposure.last_mut() {
                    Some(x) if x.time_ms == *time_ms => *x = e,
                    _ => self.exposure.push(e),
                }
            }
            _ => {}
        }
    }
}

impl<V: Venue> Venue for Recording<V> {
    fn observe(&mut self, input: &Input) {
        self.see_mark(input);
        self.venue.observe(input);
    }

    fn submit(&mut self, now: TimeMs, intents: &[OrderIntent]) {
        self.venue.submit(now, intents);
    }

    fn next_due(&self) -> Option<TimeMs> {
        self.venue.next_due()
    }

    fn due(&mut self, now: TimeMs) -> Vec<Input> {
        let out = self.venue.due(now);
        for input in &out {
            self.record(input);
        }
        out
    }
}
