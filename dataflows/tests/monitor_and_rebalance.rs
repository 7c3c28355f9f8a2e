//! Monitoring and rebalancing never act on the same position at once (seed
//! 002 phase 5): in a step the monitor runs first, and a position it exits is
//! left out of that step's rebalance; the rebalance goes on for the others.

use std::collections::BTreeMap;

use dataflows::model::{Fixed, IntentKind, Origin, OwnPosition, Price, Ratio, Size, Strategy, Token, Usd};
use dataflows::rules::index::BookLine;
use dataflows::trading::Params;
use dataflows::trading::desk::{Desk, Fact};

/// A 4-hour rebalance boundary.
const T0: u64 = 1_750_003_200_000;

fn tok(s: &str) -> Token {
    Token::parse(s).unwrap()
}

fn held(token: &str, size: i64, entry: i64) -> OwnPosition {
    OwnPosition {
        time_ms: T0,
        token: tok(token),
        size: Size::from_int(size),
        entry_price: Price::from_int(entry),
        liquidation_price: None,
        leverage: Ratio::from_int(2),
        opened_at: T0 - 3_600_000,
        origin: Origin { strategy: Strategy::Index, wallet: None },
    }
}

#[test]
fn a_position_the_monitor_exits_is_left_out_of_the_rebalance() {
    assert_eq!(T0 % (4 * 3_600_000), 0);
    let params = Params { enabled: vec![Strategy::Index], ..Params::default() };
    let mut desk = Desk::new(params);
    let mut f = BTreeMap::new();
    f.insert(Fact::OwnAccount(Usd::from_int(100_000)), 1);
    // BTC fell through its 5 % stop (entry 100, mark 94); ETH did not.
    f.insert(Fact::Mark(tok("BTC"), Price::from_int(94)), 1);
    f.insert(Fact::Mark(tok("ETH"), Price::from_int(100)), 1);
    f.insert(Fact::Own(held("BTC", 10, 100)), 1);
    f.insert(Fact::Own(held("ETH", 10, 100)), 1);
    // The book wants both larger: 5 % of the account each.
    for t in ["BTC", "ETH"] {
        let line = BookLine { net_fraction: Fixed::lit(5, 2), leverage: Ratio::from_int(2), contributors: vec![] };
        f.insert(Fact::Book(tok(t), line), 1);
    }
    let out = desk.step(T0, f);
    let btc: Vec<_> =
        out.intents.iter().filter(|i| i.token == tok("BTC")).map(|i| (i.kind, i.reason.clone())).collect();
    assert_eq!(btc, vec![(IntentKind::Close, "stop_loss".to_string())], "the stop wins: {:?}", out.intents);
    let skipped = out
        .signals
        .iter()
        .any(|s| s.token == tok("BTC") && s.strategy == Strategy::Index && s.gate == "SKIP_EXIT_IN_FLIGHT");
    assert!(skipped, "the rebalance says why it left BTC alone: {:?}", out.signals);
    assert!(
        out.intents.iter().any(|i| i.token == tok("ETH") && i.kind == IntentKind::Increase),
        "the rebalance goes on elsewhere: {:?}",
        out.intents
    );
}
