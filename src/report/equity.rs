//! The equity curve of a backfill: the account values the paper executor
//! reports (at the start, after each fill, hourly while positions are open),
//! kept as they pass to the brain.

use dataflows::feed::Input;
use dataflows::model::{OrderIntent, TimeMs, Usd};
use dataflows::replay::Venue;

use crate::executor::paper::PaperVenue;

/// The paper venue, recording the account values it reports.
pub struct Recording {
    pub venue: PaperVenue,
    pub equity: Vec<(TimeMs, Usd)>,
}

impl Recording {
    pub fn new(venue: PaperVenue) -> Recording {
        Recording { venue, equity: Vec::new() }
    }

    /// The curve as (time, value) for the statistics.
    pub fn curve(&self) -> Vec<(TimeMs, f64)> {
        self.equity.iter().map(|(t, v)| (*t, v.to_f64())).collect()
    }
}

impl Venue for Recording {
    fn observe(&mut self, input: &Input) {
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
            if let Input::OwnAccount { time_ms, value } = input {
                match self.equity.last_mut() {
                    // One point per time: the last report of it.
                    Some((t, v)) if *t == *time_ms => *v = *value,
                    _ => self.equity.push((*time_ms, *value)),
                }
            }
        }
        out
    }
}
