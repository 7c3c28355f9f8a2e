//! Counterfactual accounts: the history replayed past a paper account of its
//! own while a policy — not the brain — decides its orders. The benchmarks
//! that re-use a strategy's decisions (acted on late, or with the copied
//! traders' exits instead of ours) and the naive mirror run this way: one
//! pass over the inputs each, no dataflow, so they cost a fraction of a
//! strategy's replay.

use std::collections::BTreeMap;

use dataflows::feed::Input;
use dataflows::model::{Address, IntentId, IntentKind, OrderIntent, OrderType, Ratio, Side, Strategy, TimeMs, Token};
use dataflows::replay::Venue;

use super::equity::Recording;
use crate::executor::paper::PaperVenue;

/// What decides a counterfactual account's orders.
pub trait Policy {
    /// Before the input at `t` is seen (orders scheduled for `t` or earlier).
    fn before(&mut self, _v: &mut Recording, _t: TimeMs) {}
    /// After the venue observed `input` and its fills due by then are in.
    fn after(&mut self, _v: &mut Recording, _input: &Input) {}
}

/// Replays `inputs` (any order; by time, clocks dropped) past `venue` with
/// `policy` ordering; returns the account as it recorded itself.
pub fn drive(inputs: &[Input], venue: PaperVenue, policy: &mut impl Policy) -> Recording {
    let mut sorted: Vec<&Input> = inputs.iter().filter(|i| !matches!(i, Input::Tick(_) | Input::Now(_))).collect();
    sorted.sort_by_key(|i| i.time());
    let mut v = Recording::new(venue);
    for input in sorted {
        let t = input.time();
        while let Some(due) = v.next_due().filter(|d| *d < t) {
            v.due(due);
        }
        policy.before(&mut v, t);
        v.observe(input);
        while let Some(due) = v.next_due().filter(|d| *d <= t) {
            v.due(due);
        }
        policy.after(&mut v, input);
    }
    v
}

/// The lagged-signal null: the same order intents, each reaching the venue
/// `lag_ms` after it was decided. If a strategy's edge is in its timing, the
/// lagged copy does worse; if it does as well, its signals carried nothing
/// the market had not priced.
pub struct Delayed {
    waiting: BTreeMap<TimeMs, Vec<OrderIntent>>,
}

impl Delayed {
    pub fn new<'a>(intents: impl IntoIterator<Item = &'a OrderIntent>, lag_ms: TimeMs) -> Delayed {
        let mut waiting: BTreeMap<TimeMs, Vec<OrderIntent>> = BTreeMap::new();
        for i in intents {
            let at = i.time_ms + lag_ms;
            waiting.entry(at).or_default().push(OrderIntent { time_ms: at, ..i.clone() });
        }
        Delayed { waiting }
    }
}

impl Policy for Delayed {
    fn before(&mut self, v: &mut Recording, t: TimeMs) {
        while let Some(entry) = self.waiting.first_entry().filter(|e| *e.key() <= t) {
            let (at, intents) = entry.remove_entry();
            v.submit(at, &intents);
        }
    }
}

/// The copied traders' own exits (seed 001 9.4): the strategy's entries as it
/// made them, but no exits of ours — no stops, trailing or time stops — and
/// each position closed when the trader it copied closes (or flips) its own.
/// Only for a strategy whose every entry copies one trader.
pub struct TheirExits {
    entries: BTreeMap<TimeMs, Vec<OrderIntent>>,
    /// Whom each token's position copies: the trader of its latest entry.
    leader: BTreeMap<Token, Address>,
    /// The traders' signed positions after their latest fill.
    positions: BTreeMap<(Address, Token), f64>,
    /// Our positions a close was sent for, by (token, opened at).
    closing: BTreeMap<Token, TimeMs>,
    sent: u64,
}

impl TheirExits {
    /// `None` when `intents` has no entry, or one that does not copy exactly one trader.
    pub fn new<'a>(intents: impl IntoIterator<Item = &'a OrderIntent>) -> Option<TheirExits> {
        let mut entries: BTreeMap<TimeMs, Vec<OrderIntent>> = BTreeMap::new();
        for i in intents.into_iter().filter(|i| matches!(i.kind, IntentKind::Open | IntentKind::Increase)) {
            if i.attribution.len() != 1 {
                return None;
            }
            entries.entry(i.time_ms).or_default().push(i.clone());
        }
        if entries.is_empty() {
            return None;
        }
        Some(TheirExits {
            entries,
            leader: BTreeMap::new(),
            positions: BTreeMap::new(),
            closing: BTreeMap::new(),
            sent: 0,
        })
    }

    /// Closes each position of ours whose trader is flat or on the other side.
    fn follow_exits(&mut self, v: &mut Recording, t: TimeMs) {
        let held: Vec<_> = v.positions().map(|(token, p)| (*token, *p)).collect();
        for (token, p) in held {
            let Some(leader) = self.leader.get(&token) else { continue };
            let theirs = self.positions.get(&(*leader, token)).copied().unwrap_or(0.0);
            let ours = p.size.to_f64();
            let with_us = theirs * ours > 0.0;
            if with_us || self.closing.get(&token) == Some(&p.opened_at) {
                continue;
            }
            self.closing.insert(token, p.opened_at);
            self.sent += 1;
            let close = OrderIntent {
                id: IntentId::derive(
                    Strategy::Entry,
                    token,
                    t.saturating_mul(1_000) + self.sent % 1_000,
                    IntentKind::Close,
                ),
                time_ms: t,
                strategy: Strategy::Entry,
                token,
                kind: IntentKind::Close,
                side: if ours > 0.0 { Side::Sell } else { Side::Buy },
                size: p.size.abs(),
                price: p.entry_price,
                order_type: OrderType::Market { max_slippage_percent: Ratio::ZERO },
                reduce_only: true,
                leverage: Ratio::from_int(1),
                reason: "the copied trader closed".into(),
                attribution: vec![],
            };
            v.submit(t, &[close]);
        }
    }
}

impl Policy for TheirExits {
    fn before(&mut self, v: &mut Recording, t: TimeMs) {
        while let Some(entry) = self.entries.first_entry().filter(|e| *e.key() <= t) {
            let (at, intents) = entry.remove_entry();
            for i in &intents {
                if let Some(a) = i.attribution.first() {
                    self.leader.insert(i.token, a.wallet);
                }
            }
            v.submit(at, &intents);
        }
    }

    fn after(&mut self, v: &mut Recording, input: &Input) {
        if let Input::Fill(f) = input {
            let sign = if f.side == Side::Buy { 1.0 } else { -1.0 };
            self.positions.insert((f.wallet, f.token), f.start_position.to_f64() + sign * f.size.to_f64());
        }
        if matches!(input, Input::Fill(_) | Input::Mark(_)) {
            self.follow_exits(v, input.time());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples::{btc, btc_fill, btc_intent};
    use dataflows::model::{Attribution, MarkPrice, Price, Usd};

    const T: TimeMs = 1_700_000_000_000;

    fn wallet(b: u8) -> Address {
        Address::parse(&format!("0x{}", hex::encode([b; 20]))).unwrap()
    }

    fn mark(t: TimeMs, px: i64) -> Input {
        Input::Mark(MarkPrice { time_ms: t, token: btc(), price: Price::from_int(px) })
    }

    fn fill(t: TimeMs, side: Side, size: i64, start: i64) -> Input {
        Input::Fill(btc_fill(t, wallet(1), start, side, size))
    }

    /// A market intent copying wallet 1.
    fn intent(t: TimeMs, kind: IntentKind, side: Side, size: i64) -> OrderIntent {
        let market = OrderType::Market { max_slippage_percent: Ratio::ZERO };
        let copied = Attribution { wallet: wallet(1), cluster: None, weight: Ratio::from_int(1) };
        OrderIntent { attribution: vec![copied], ..btc_intent(kind, side, size, market, t) }
    }

    fn venue() -> PaperVenue {
        PaperVenue::new(crate::config::SimulationConfig::default(), 300, Usd::from_int(100_000), T)
    }

    /// The times of the account's fills, in order.
    fn filled(v: &Recording) -> Vec<TimeMs> {
        let e = v.venue.executions();
        let mut out: Vec<TimeMs> = e.values().filter(|x| x.size.is_positive()).filter_map(|x| x.time_ms).collect();
        out.sort();
        out
    }

    #[test]
    fn delayed_intents_fill_a_lag_after_their_decision() {
        let open = intent(T, IntentKind::Open, Side::Buy, 10);
        let inputs: Vec<Input> = (0..10).map(|h| mark(T + h * 3_600_000, 100 + h as i64)).collect();
        let v = drive(&inputs, venue(), &mut Delayed::new([&open], 2 * 3_600_000));
        let fills = filled(&v);
        assert_eq!(fills.len(), 1, "{fills:?}");
        assert!(fills[0] >= T + 2 * 3_600_000, "filled {} before its lag", fills[0]);
    }

    #[test]
    fn their_exits_keep_our_entries_drop_our_exits_and_close_when_the_trader_does() {
        let ours = [
            intent(T, IntentKind::Open, Side::Buy, 10),
            // Our own exit an hour in: the counterfactual ignores it.
            intent(T + 3_600_000, IntentKind::Close, Side::Sell, 10),
        ];
        let inputs = vec![
            mark(T, 100),
            fill(T, Side::Buy, 5, 0),
            mark(T + 3_600_000, 101),
            mark(T + 7_200_000, 102),
            // The trader closes three hours in: so do we.
            fill(T + 3 * 3_600_000, Side::Sell, 5, 5),
            mark(T + 4 * 3_600_000, 103),
        ];
        let mut policy = TheirExits::new(&ours).unwrap();
        let v = drive(&inputs, venue(), &mut policy);
        let fills = filled(&v);
        assert_eq!(fills.len(), 2, "{fills:?}");
        assert!(fills[0] < T + 3_600_000, "entered at {}", fills[0]);
        assert!(fills[1] >= T + 3 * 3_600_000, "closed at {} before the trader did", fills[1]);
        assert_eq!(v.positions().count(), 0);
    }

    #[test]
    fn their_exits_need_one_trader_per_entry() {
        let mut many = intent(T, IntentKind::Open, Side::Buy, 10);
        many.attribution.push(Attribution { wallet: wallet(2), cluster: None, weight: Ratio::from_int(1) });
        assert!(TheirExits::new([&many]).is_none());
        assert!(TheirExits::new([]).is_none(), "no entry: nothing to compare");
    }
}
