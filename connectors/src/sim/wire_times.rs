//! Real-time stamps of what crosses the venue's wire, for the end-to-end
//! latency benchmark: when each trade first left on a `trades` WebSocket frame
//! and when each `/exchange` request arrived — on the venue's own monotonic
//! clock, so a client's latency is measured on one clock without trusting
//! the client. Off unless `VenueOptions::record_wire_times` (it grows with
//! the tape).

use std::collections::HashMap;
use std::time::Instant;

use serde::Serialize;

/// A trade as it first left on a `trades` frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TradeSent {
    pub tid: u64,
    pub coin: String,
    /// The trade's virtual time.
    pub time: u64,
    /// Buyer and seller, lower-case hex.
    pub users: [String; 2],
    /// Nanoseconds since the venue started.
    pub sent_ns: u64,
}

/// An `/exchange` request's arrival.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestArrived {
    /// Its audit entry (`/sim/audit`'s `seq`).
    pub seq: u64,
    pub arrived_ns: u64,
}

#[derive(Debug)]
pub struct WireTimes {
    started: Instant,
    trades: HashMap<u64, TradeSent>,
    requests: Vec<RequestArrived>,
}

/// A free-running clock's reference point: virtual time `virtual_ms` was
/// at `at_ns` and runs `speed` times real time, so virtual time `t` is due
/// at `at_ns + (t − virtual_ms) / speed` — when a clock-driven event (a
/// confirmation window ending) is due in real time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClockBase {
    pub virtual_ms: u64,
    pub at_ns: u64,
    pub speed: f64,
}

/// What `GET /sim/wire-times` answers.
#[derive(Debug, Clone, Serialize)]
pub struct WireTimesView {
    pub now_ns: u64,
    pub trades: Vec<TradeSent>,
    pub requests: Vec<RequestArrived>,
    /// Absent for a stepped clock.
    pub clock: Option<ClockBase>,
}

impl WireTimes {
    pub fn new() -> WireTimes {
        WireTimes { started: Instant::now(), trades: HashMap::new(), requests: Vec::new() }
    }

    /// Nanoseconds since the venue started.
    pub fn now_ns(&self) -> u64 {
        self.started.elapsed().as_nanos() as u64
    }

    /// Nanoseconds from the venue's start to `at` (0 for an instant before it).
    pub fn ns_at(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.started).as_nanos() as u64
    }

    /// A trade on a frame about to be sent; only its first sending counts.
    pub fn trade_sent(&mut self, tid: u64, coin: &str, time: u64, users: [String; 2]) {
        let sent_ns = self.now_ns();
        self.trades.entry(tid).or_insert_with(|| TradeSent { tid, coin: coin.to_string(), time, users, sent_ns });
    }

    pub fn request_arrived(&mut self, seq: u64, arrived_ns: u64) {
        self.requests.push(RequestArrived { seq, arrived_ns });
    }

    pub fn view(&self) -> WireTimesView {
        let mut trades: Vec<TradeSent> = self.trades.values().cloned().collect();
        trades.sort_by_key(|t| t.tid);
        WireTimesView { now_ns: self.now_ns(), trades, requests: self.requests.clone(), clock: None }
    }
}

impl Default for WireTimes {
    fn default() -> Self {
        WireTimes::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trade_keeps_its_first_sending_and_requests_their_order() {
        let mut w = WireTimes::new();
        let users = || ["0xa".to_string(), "0xb".to_string()];
        w.trade_sent(7, "BTC", 1_000, users());
        let first = w.view().trades[0].sent_ns;
        std::thread::sleep(std::time::Duration::from_millis(2));
        w.trade_sent(7, "BTC", 1_000, users());
        w.trade_sent(3, "ETH", 900, users());
        w.request_arrived(1, 10);
        w.request_arrived(2, 20);
        let v = w.view();
        assert_eq!(v.trades.iter().map(|t| t.tid).collect::<Vec<_>>(), vec![3, 7]);
        assert_eq!(v.trades[1].sent_ns, first, "a second sending does not move the first");
        assert!(v.trades[0].sent_ns > first);
        assert_eq!(v.requests.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![1, 2]);
        assert!(v.now_ns >= v.trades[0].sent_ns);
    }
}
