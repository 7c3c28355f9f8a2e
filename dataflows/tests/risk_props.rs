//! The risk module holds for every strategy (DESIGN §4): over random accounts,
//! positions, consensus, index books, tracked fills and prices, the desk runs
//! every enabled strategy through its deadlines, and no intent it emits — alone
//! or together with the ones before it — breaks a cap: single order (% and
//! hard USD), per-token, long, short and total exposure, position count, one
//! position per token, leverage ≤ 5×, the $10 minimum and no dust left behind.
//! The ledger here is the test's own: our positions at the marks plus every
//! intent so far (intents stay in flight for the whole case).

use std::collections::BTreeMap;

use dataflows::config::ExecutionConfig;
use dataflows::model::{
    Address, Fill, Fixed, HOUR_MS, IntentKind, MINUTE_MS, OrderIntent, OrderType, Origin, OwnPosition, PositionSide,
    Price, Ratio, Side, Size, Strategy as Strat, Token, TxHash, Usd,
};
use dataflows::rules::consensus::{SideTally, TokenConsensus, Verdict};
use dataflows::rules::eligibility::Tier;
use dataflows::rules::index::BookLine;
use dataflows::rules::trader::TrackedPosition;
use dataflows::trading::Params;
use dataflows::trading::desk::{Desk, Fact};
use proptest::prelude::*;

const T0: u64 = 1_750_000_000_000;
const TOKENS: [&str; 7] = ["BTC", "ETH", "SOL", "HYPE", "AAA", "BBB", "CCC"];

fn tok(i: usize) -> Token {
    Token::parse(TOKENS[i % TOKENS.len()]).unwrap()
}
fn wallet(i: usize) -> Address {
    Address::from_bytes([i as u8 + 1; 20])
}
fn usd(x: u64) -> Usd {
    Usd::from_int(x as i64)
}

#[derive(Debug, Clone)]
struct Case {
    account: u64,
    marks: Vec<u64>,
    own: Vec<(usize, bool, u64, u64, u64)>, // token, long, value, liq buffer %, age h
    strong: Vec<(usize, bool, u32, u64, u64)>, // token, long, clusters, entry drift bp, leverage
    book: Vec<(usize, i64)>,                // token, net fraction in bp
    fills: Vec<(usize, usize, bool, u64, u64)>, // wallet, token, buy, value, age minutes
}

fn case() -> impl Strategy<Value = Case> {
    (
        1_000u64..3_000_000,
        proptest::collection::vec(1u64..100_000, 7),
        proptest::collection::vec((0usize..7, any::<bool>(), 5u64..400_000, 1u64..60, 0u64..100), 0..7),
        proptest::collection::vec((0usize..7, any::<bool>(), 0u32..10, 0u64..400, 1u64..30), 0..5),
        proptest::collection::vec((0usize..7, -4_000i64..4_000), 0..8),
        proptest::collection::vec((0usize..4, 0usize..7, any::<bool>(), 1_000u64..2_000_000, 0u64..40), 0..8),
    )
        .prop_map(|(account, marks, own, strong, book, fills)| Case { account, marks, own, strong, book, fills })
}

fn facts(c: &Case) -> BTreeMap<Fact, isize> {
    let mut f = BTreeMap::new();
    let mut add = |x: Fact| *f.entry(x).or_insert(0) += 1;
    for (i, m) in c.marks.iter().enumerate() {
        add(Fact::Mark(tok(i), Price::from_int(*m as i64)));
    }
    add(Fact::OwnAccount(usd(c.account)));
    let mut held = std::collections::BTreeSet::new();
    for (k, &(t, long, value, buffer, age)) in c.own.iter().enumerate() {
        if !held.insert(t % TOKENS.len()) {
            continue;
        }
        let mark = c.marks[t % TOKENS.len()] as i64;
        let px = Price::from_int(mark);
        let size = Size::new(Fixed::from_int(value as i64).checked_div(px.fixed()).unwrap());
        let liq = Fixed::from_int(mark)
            .checked_mul(Fixed::lit(if long { 100 - buffer as i64 } else { 100 + buffer as i64 }, 2))
            .unwrap();
        add(Fact::Own(OwnPosition {
            time_ms: 0,
            token: tok(t),
            size: if long { size } else { size.neg() },
            entry_price: px,
            liquidation_price: Some(Price::new(liq)),
            leverage: Ratio::from_int(3),
            opened_at: T0 - age * HOUR_MS,
            origin: Origin {
                strategy: [Strat::Consensus, Strat::Entry, Strat::Index][k % 3],
                wallet: Some(wallet(k % 4)),
            },
        }));
    }
    for &(t, long, clusters, drift, lev) in &c.strong {
        let mark = Fixed::from_int(c.marks[t % TOKENS.len()] as i64);
        let entry =
            mark.checked_mul(Fixed::ONE.checked_add(Fixed::from_parts(drift as i128, 4).unwrap()).unwrap()).unwrap();
        let tally = SideTally {
            traders: clusters,
            clusters,
            volume_usd: usd(1_000_000),
            weighted_volume: Fixed::from_int(1_000_000),
            avg_entry: Some(Price::new(entry)),
            avg_leverage: Some(Ratio::from_int(lev as i64)),
            voters: (0..clusters as usize).map(|i| (wallet(i), wallet(i), Fixed::from_int(1))).collect(),
        };
        let (long_t, short_t) = if long { (tally, SideTally::default()) } else { (SideTally::default(), tally) };
        add(Fact::Consensus(TokenConsensus {
            token: tok(t),
            verdict: if long { Verdict::StrongLong } else { Verdict::StrongShort },
            long: long_t,
            short: short_t,
        }));
    }
    for &(t, bp) in &c.book {
        add(Fact::Book(
            tok(t),
            BookLine {
                net_fraction: Fixed::from_parts(i128::from(bp), 4).unwrap(),
                leverage: Ratio::from_int(4),
                contributors: vec![],
            },
        ));
    }
    for w in 0..4 {
        add(Fact::Tier(wallet(w), Tier::Primary));
        add(Fact::Trader(wallet(w), Ratio::lit(9, 1), Ratio::ONE));
        add(Fact::AccountValue(wallet(w), usd(3_000_000)));
    }
    for (k, &(w, t, buy, value, age)) in c.fills.iter().enumerate() {
        let mark = c.marks[t % TOKENS.len()] as i64;
        let size = Size::new(Fixed::from_int(value as i64).checked_div(Fixed::from_int(mark)).unwrap());
        let f = Fill {
            time_ms: T0 - age * MINUTE_MS,
            wallet: wallet(w),
            token: tok(t),
            side: if buy { Side::Buy } else { Side::Sell },
            price: Price::from_int(mark),
            size,
            start_position: Size::ZERO,
            closed_pnl: Usd::ZERO,
            fee: Usd::ZERO,
            tx_hash: TxHash::default(),
            trade_id: k as u64,
            liquidation: false,
        };
        let end = f.end_position().unwrap();
        add(Fact::Tracked(
            wallet(w),
            TrackedPosition {
                token: tok(t),
                side: if buy { PositionSide::Long } else { PositionSide::Short },
                size: end,
                value: usd(value),
                entry_price: Price::from_int(mark),
                leverage: Ratio::from_int(2),
                margin_used: Usd::ZERO,
                last_action: f.time_ms,
            },
        ));
        add(Fact::Fill(f));
    }
    f
}

/// Our exposure per token as the test keeps it: (side, usd).
type Ledger = BTreeMap<Token, (PositionSide, Fixed)>;

fn check(i: &OrderIntent, ledger: &mut Ledger, account: Fixed, p: &Params) -> Result<(), String> {
    let tol = Fixed::lit(1, 9);
    let notional = i.size.fixed().checked_mul(i.price.fixed()).unwrap();
    let r = &p.risk;
    let frac = |x: Ratio| account.checked_mul(x.fixed()).unwrap().checked_add(tol).unwrap();
    let side = match i.side {
        Side::Buy => PositionSide::Long,
        Side::Sell => PositionSide::Short,
    };
    match i.kind {
        IntentKind::Open | IntentKind::Increase => {
            if i.reduce_only || !i.leverage.is_positive() || i.leverage > r.max_leverage {
                return Err(format!("bad entry flags/leverage {i:?}"));
            }
            if notional < r.min_order_usd.fixed().checked_sub(tol).unwrap() {
                return Err(format!("below minimum: {notional}"));
            }
            let single = account
                .checked_mul(r.max_single_position_fraction.fixed())
                .unwrap()
                .min(r.max_single_position_usd.fixed());
            if notional > single.checked_add(tol).unwrap() {
                return Err(format!("single cap: {notional} > {single}"));
            }
            match ledger.get(&i.token) {
                Some((s, _)) if *s != side => return Err("opposite position in the token".into()),
                None if ledger.len() >= r.max_total_positions as usize => return Err("max positions".into()),
                _ => {}
            }
            let e = ledger.entry(i.token).or_insert((side, Fixed::ZERO));
            e.1 = e.1.checked_add(notional).unwrap();
            if e.1 > frac(r.max_exposure_per_token_fraction) {
                return Err(format!("token cap: {}", e.1));
            }
            let total = ledger.values().fold(Fixed::ZERO, |a, (_, v)| a.checked_add(*v).unwrap());
            if total > frac(r.max_total_exposure_fraction) {
                return Err(format!("total cap: {total}"));
            }
            let dir =
                ledger.values().filter(|(s, _)| *s == side).fold(Fixed::ZERO, |a, (_, v)| a.checked_add(*v).unwrap());
            let cap =
                if side == PositionSide::Long { r.max_long_exposure_fraction } else { r.max_short_exposure_fraction };
            if dir > frac(cap) {
                return Err(format!("direction cap: {dir}"));
            }
        }
        IntentKind::Close => {
            if !i.reduce_only || ledger.remove(&i.token).is_none() {
                return Err(format!("close of nothing {i:?}"));
            }
        }
        IntentKind::Decrease => {
            let Some(e) = ledger.get_mut(&i.token) else { return Err("decrease of nothing".into()) };
            if !i.reduce_only || notional < r.min_order_usd.fixed().checked_sub(tol).unwrap() {
                return Err(format!("decrease below minimum {notional}"));
            }
            e.1 = e.1.checked_sub(notional).unwrap();
            if e.1 < r.min_order_usd.fixed().checked_sub(tol).unwrap() {
                return Err(format!("dust left: {}", e.1));
            }
        }
        IntentKind::StopLoss => {
            let OrderType::StopMarket { trigger_price } = i.order_type else {
                return Err("stop without trigger".into());
            };
            let protective = match i.side {
                Side::Sell => trigger_price < i.price,
                Side::Buy => trigger_price > i.price,
            };
            if !i.reduce_only || !protective {
                return Err(format!("stop on the wrong side {i:?}"));
            }
        }
    }
    Ok(())
}

fn run(c: &Case) -> Result<usize, String> {
    let params = Params {
        // Intents stay in flight for the whole case: the ledger is the account.
        execution: ExecutionConfig { limit_order_timeout_secs: 30 * 86_400, fill_poll_interval_secs: 30 },
        ..Params::default()
    };
    let mut desk = Desk::new(params.clone());
    let mut out = desk.step(T0, facts(c));
    let mut ledger: Ledger = BTreeMap::new();
    for (t, p) in &desk.world.own {
        let v = p.size.abs().fixed().checked_mul(desk.world.marks[t].fixed()).unwrap();
        ledger.insert(*t, (p.side().unwrap(), v));
    }
    let account = Fixed::from_int(c.account as i64);
    let mut n = 0;
    let mut steps = 0;
    loop {
        for i in &out.intents {
            check(i, &mut ledger, account, &params).map_err(|e| format!("{e}\nintent {i:?}"))?;
            n += 1;
        }
        let Some(next) = desk.next_wakeup().filter(|t| *t < T0 + 10 * HOUR_MS) else { break };
        steps += 1;
        if steps > 200 {
            return Err("the desk keeps waking up".into());
        }
        out = desk.step(next, BTreeMap::new());
    }
    Ok(n)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, ..ProptestConfig::default() })]

    #[test]
    fn no_intent_ever_breaks_a_cap(c in case()) {
        if let Err(e) = run(&c) {
            prop_assert!(false, "{e}\ncase {c:?}");
        }
    }
}

/// The generator reaches every strategy and both kinds of order (a property
/// over cases that never emit would prove nothing).
#[test]
fn the_cases_exercise_every_strategy() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut kinds: BTreeMap<(Strat, IntentKind), usize> = BTreeMap::new();
    for _ in 0..500 {
        let c = case().new_tree(&mut runner).unwrap().current();
        let mut desk = Desk::new(Params::default());
        let out = desk.step(T0, facts(&c));
        let mut all = out.intents;
        while let Some(next) = desk.next_wakeup().filter(|t| *t < T0 + 10 * HOUR_MS) {
            all.extend(desk.step(next, BTreeMap::new()).intents);
        }
        for i in all {
            *kinds.entry((i.strategy, i.kind)).or_default() += 1;
        }
    }
    for s in Strat::ALL {
        assert!(kinds.get(&(s, IntentKind::Open)).is_some_and(|n| *n > 0), "{s} never opened: {kinds:?}");
    }
    assert!(kinds.keys().any(|(_, k)| *k == IntentKind::Close), "nothing ever closed: {kinds:?}");
    assert!(kinds.keys().any(|(_, k)| *k == IntentKind::Decrease), "nothing ever reduced: {kinds:?}");
}

/// The drawdown halt at the desk: an index book that opens positions from a
/// fresh account opens nothing once the same account has been 20 % higher —
/// each refused entry is a signal naming the breaker and its numbers.
#[test]
fn a_drawdown_below_the_halt_stops_entries_but_not_the_desk() {
    let c = Case {
        account: 100_000,
        marks: vec![100; TOKENS.len()],
        own: vec![],
        strong: vec![],
        book: vec![(0, 500), (1, -400)],
        fills: vec![],
    };
    let intents = |peak: Option<u64>| {
        let mut desk = Desk::new(Params::default());
        let mut facts = facts(&c);
        if let Some(p) = peak {
            let mut before = BTreeMap::new();
            before.insert(Fact::OwnAccount(usd(p)), 1);
            desk.step(T0 - HOUR_MS, before);
            facts.insert(Fact::OwnAccount(usd(p)), -1);
        }
        // The rebalance boundary after T0 decides the book.
        let mut out = desk.step(T0, facts);
        while let Some(next) = desk.next_wakeup().filter(|t| *t < T0 + 10 * HOUR_MS) {
            let o = desk.step(next, BTreeMap::new());
            out.intents.extend(o.intents);
            out.signals.extend(o.signals);
        }
        out
    };
    let free = intents(None);
    assert!(free.intents.iter().any(|i| i.kind == IntentKind::Open), "{:?}", free.signals);
    let halted = intents(Some(120_000));
    assert!(halted.intents.is_empty(), "{:?}", halted.intents);
    let refused: Vec<_> = halted.signals.iter().filter(|s| s.gate == "SKIP_DRAWDOWN_HALT").collect();
    assert!(!refused.is_empty(), "{:?}", halted.signals);
    let numbers: BTreeMap<&str, Fixed> = refused[0].numbers.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(numbers.get("peak_usd"), Some(&Fixed::from_int(120_000)));
    assert_eq!(numbers.get("account_usd"), Some(&Fixed::from_int(100_000)));
}

/// The live account cap: a $1M account capped at $10,000 is sized as $10,000 —
/// no entry above the single-position cap of the capped account.
#[test]
fn the_live_account_cap_bounds_every_entry() {
    let c = Case {
        account: 1_000_000,
        marks: vec![100; TOKENS.len()],
        own: vec![],
        strong: vec![],
        book: vec![(0, 500), (1, -400), (2, 300)],
        fills: vec![],
    };
    let opened = |cap: Option<Usd>| {
        let mut desk = Desk::new(Params { account_cap: cap, ..Params::default() });
        let mut out = desk.step(T0, facts(&c)).intents;
        while let Some(next) = desk.next_wakeup().filter(|t| *t < T0 + 10 * HOUR_MS) {
            out.extend(desk.step(next, BTreeMap::new()).intents);
        }
        out.into_iter()
            .filter(|i| i.kind == IntentKind::Open)
            .map(|i| i.price.notional(i.size).unwrap().fixed())
            .collect::<Vec<_>>()
    };
    let free = opened(None);
    assert!(free.iter().any(|n| *n > Fixed::from_int(1_000)), "{free:?}");
    let capped = opened(Some(usd(10_000)));
    assert!(!capped.is_empty());
    // 10 % of the capped account, the single-position cap.
    assert!(capped.iter().all(|n| *n <= Fixed::from_int(1_000)), "{capped:?}");
}
