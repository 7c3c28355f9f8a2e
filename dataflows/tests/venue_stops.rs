//! The protective stop on the venue follows the position (strategy-rules
//! §10.1, §13.1): one whole-position stop at the monitor's level, sent again
//! when the position grows or shrinks and when the trailing stop ratchets by
//! enough to be worth two actions, never loosened, and none while an exit is
//! on its way.

use std::collections::BTreeMap;

use dataflows::model::{
    Address, HOUR_MS, IntentKind, MINUTE_MS, OrderIntent, OrderType, Origin, OwnPosition, Price, Ratio, Side, Size,
    Strategy, Token, Usd,
};
use dataflows::trading::Params;
use dataflows::trading::desk::{Desk, Fact};

const T0: u64 = 1_750_000_000_000;

fn btc() -> Token {
    Token::parse("BTC").unwrap()
}

fn position(size: &str, entry: &str) -> OwnPosition {
    OwnPosition {
        time_ms: T0,
        token: btc(),
        size: Size::parse(size).unwrap(),
        entry_price: Price::parse(entry).unwrap(),
        liquidation_price: None,
        leverage: Ratio::from_int(3),
        opened_at: T0,
        origin: Origin { strategy: Strategy::Entry, wallet: Some(Address::from_bytes([7; 20])) },
    }
}

/// Drives one desk through marks and position changes, one step a minute.
struct Run {
    desk: Desk,
    t: u64,
    mark: Option<Price>,
    own: Option<OwnPosition>,
}

impl Run {
    fn new() -> Run {
        let mut desk = Desk::new(Params::default());
        let mut f = BTreeMap::new();
        f.insert(Fact::OwnAccount(Usd::from_int(100_000)), 1);
        desk.step(T0 - MINUTE_MS, f);
        Run { desk, t: T0, mark: None, own: None }
    }

    /// One step at the next minute with this mark and position: the stops it sends.
    fn step(&mut self, mark: &str, own: Option<OwnPosition>) -> Vec<OrderIntent> {
        let mut f = BTreeMap::new();
        let mark = Price::parse(mark).unwrap();
        if let Some(old) = self.mark.replace(mark) {
            f.insert(Fact::Mark(btc(), old), -1);
        }
        f.insert(Fact::Mark(btc(), mark), 1);
        if self.own != own {
            if let Some(old) = self.own.take() {
                f.insert(Fact::Own(old), -1);
            }
            if let Some(new) = own {
                f.insert(Fact::Own(new), 1);
            }
            self.own = own;
        }
        let out = self.desk.step(self.t, f);
        self.t += MINUTE_MS;
        out.intents.into_iter().filter(|i| i.kind == IntentKind::StopLoss).collect()
    }
}

fn trigger(i: &OrderIntent) -> Price {
    match i.order_type {
        OrderType::StopMarket { trigger_price } => trigger_price,
        ref o => panic!("not a stop: {o:?}"),
    }
}

#[test]
fn one_whole_position_stop_follows_the_position_and_the_trail() {
    let mut run = Run::new();
    let long = position("10", "100");
    // A held position with no stop gets one at the hard stop (5 % under entry).
    let first = run.step("100", Some(long));
    assert_eq!(first.len(), 1, "{first:?}");
    let s = &first[0];
    assert_eq!((s.side, s.size, s.reduce_only), (Side::Sell, Size::parse("10").unwrap(), true));
    assert_eq!(trigger(s), Price::parse("95").unwrap());
    // Nothing changed: nothing sent.
    assert!(run.step("100.5", Some(long)).is_empty());

    // The increase filled: the stop now covers all 15.
    let bigger = position("15", "100");
    let grown = run.step("101", Some(bigger));
    assert_eq!(grown.len(), 1, "{grown:?}");
    assert_eq!((grown[0].size, trigger(&grown[0])), (Size::parse("15").unwrap(), Price::parse("95").unwrap()));

    // The trailing stop (8 %) passes the hard stop: 110 × 0.92 = 101.2.
    let ratchet = run.step("110", Some(bigger));
    assert_eq!(ratchet.len(), 1, "{ratchet:?}");
    assert_eq!((ratchet[0].size, trigger(&ratchet[0])), (Size::parse("15").unwrap(), Price::parse("101.2").unwrap()));
    // A ratchet smaller than 0.5 % of the stop is not worth two actions …
    assert!(run.step("110.4", Some(bigger)).is_empty());
    // … a larger one is (111 × 0.92 = 102.12, 0.91 % above 101.2).
    let moved = run.step("111", Some(bigger));
    assert_eq!(moved.iter().map(trigger).collect::<Vec<_>>(), vec![Price::parse("102.12").unwrap()]);
    // A fall never loosens it.
    assert!(run.step("105", Some(bigger)).is_empty());

    // A partial exit that filled: the stop shrinks with the position.
    let smaller = position("6", "100");
    let shrunk = run.step("105", Some(smaller));
    assert_eq!(shrunk.iter().map(|s| s.size).collect::<Vec<_>>(), vec![Size::parse("6").unwrap()]);

    // The trail fires: the monitor's exit goes out, no stop with it.
    assert!(run.step("102", Some(smaller)).is_empty());
    // Closed: nothing more.
    assert!(run.step("102", None).is_empty());
    assert!(run.step("150", None).is_empty());
}

#[test]
fn a_short_is_protected_above_and_the_stop_is_sent_once() {
    let mut run = Run::new();
    let short = position("-4", "200");
    let first = run.step("200", Some(short));
    assert_eq!(first.len(), 1);
    assert_eq!((first[0].side, trigger(&first[0])), (Side::Buy, Price::parse("210").unwrap()));
    // 180 × 1.08 = 194.4: the trail passes the hard stop on the way down.
    let down = run.step("180", Some(short));
    assert_eq!(down.iter().map(trigger).collect::<Vec<_>>(), vec![Price::parse("194.4").unwrap()]);
    assert!(run.step("190", Some(short)).is_empty(), "a rise does not loosen a short's stop");
    // Hours later, unchanged: still one stop, not one a step.
    for _ in 0..3 {
        run.t += HOUR_MS;
        assert!(run.step("190", Some(short)).is_empty());
    }
}
