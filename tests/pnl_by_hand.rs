//! A backtest scenario small enough to compute by hand (seed 000 phase 8):
//! the paper executor fills an entry, an increase and a venue stop against
//! known marks, charges one funding payment, and the report's own functions
//! (round trips, the account's value and return, fees and funding) must give
//! exactly the figures worked out in the comments.
//!
//! Fill model, fixed for the test: latency exactly 30 s, BTC slippage 0.03 %
//! with no size term, fee 0.05 % of notional, no missed or partial fills.

use dataflows::feed::Input;
use dataflows::model::{
    FundingRate, IntentId, IntentKind, MarkPrice, OrderIntent, OrderType, Price, Ratio, Side, Size, Strategy, TimeMs,
    Token, Usd,
};
use dataflows::replay::Venue;
use mirrorflow::commands::backfill::legs;
use mirrorflow::config::SimulationConfig;
use mirrorflow::executor::paper::{Outcome, PaperVenue};
use mirrorflow::report::equity::Recording;
use mirrorflow::report::{stats, trades};

const T: TimeMs = 1_700_000_000_000;
const H: TimeMs = 3_600_000;

fn btc() -> Token {
    Token::parse("BTC").unwrap()
}

fn usd(s: &str) -> Usd {
    Usd::parse(s).unwrap()
}

fn mark(t: TimeMs, px: &str) -> Input {
    Input::Mark(MarkPrice { time_ms: t, token: btc(), price: Price::parse(px).unwrap() })
}

fn intent(kind: IntentKind, side: Side, size: i64, order_type: OrderType, t: TimeMs) -> OrderIntent {
    OrderIntent {
        id: IntentId::derive(Strategy::Consensus, btc(), t, kind),
        time_ms: t,
        strategy: Strategy::Consensus,
        token: btc(),
        kind,
        side,
        size: Size::from_int(size),
        price: Price::from_int(50_000),
        order_type,
        reduce_only: kind == IntentKind::StopLoss,
        leverage: Ratio::from_int(3),
        reason: "by hand".into(),
        attribution: vec![],
    }
}

/// Feeds `input` and runs the venue up to its time, as a replay does.
fn feed(v: &mut Recording, input: Input) {
    let t = input.time();
    while let Some(due) = v.next_due().filter(|d| *d < t) {
        v.due(due);
    }
    v.observe(&input);
    while let Some(due) = v.next_due().filter(|d| *d <= t) {
        v.due(due);
    }
}

#[test]
fn a_hand_calculated_scenario_matches_the_report_exactly() {
    let mut sim = SimulationConfig {
        latency_min_ms: 30_000,
        latency_max_ms: 30_000,
        size_factor_per_100k: Ratio::ZERO,
        limit_miss_rate: Ratio::ZERO,
        partial_fill_rate: Ratio::ZERO,
        fee_percent: Ratio::parse("0.05").unwrap(),
        ..SimulationConfig::default()
    };
    sim.seed = 7;
    let mut v = Recording::new(PaperVenue::new(sim, 300, Usd::from_int(100_000), T));
    let market = OrderType::Market { max_slippage_percent: Ratio::parse("0.5").unwrap() };

    // T: BTC at 50,000; buy 1 BTC at market.
    feed(&mut v, mark(T, "50000"));
    let open = intent(IntentKind::Open, Side::Buy, 1, market.clone(), T);
    v.submit(T, std::slice::from_ref(&open));
    // Filled 30 s later at 50,000 × 1.0003 = 50,015; fee 50,015 × 0.0005 = 25.0075.
    feed(&mut v, mark(T + 60_000, "50000"));

    // T+1h: mark 51,000, funding 0.01 %: the long pays 1 × 51,000 × 0.0001 = 5.10.
    feed(&mut v, mark(T + H, "51000"));
    feed(&mut v, Input::Funding(FundingRate { time_ms: T + H, token: btc(), rate: Ratio::parse("0.0001").unwrap() }));

    // T+2h: mark 52,000; add 1 BTC, and a venue stop for the whole 2 BTC at 48,000.
    feed(&mut v, mark(T + 2 * H, "52000"));
    let add = intent(IntentKind::Increase, Side::Buy, 1, market, T + 2 * H);
    let stop = intent(
        IntentKind::StopLoss,
        Side::Sell,
        2,
        OrderType::StopMarket { trigger_price: Price::from_int(48_000) },
        T + 2 * H,
    );
    v.submit(T + 2 * H, &[add.clone(), stop.clone()]);
    // The add fills at 52,000 × 1.0003 = 52,015.6; fee 26.0078. Entry averages to
    // (50,015 + 52,015.6) / 2 = 51,015.3.
    feed(&mut v, mark(T + 2 * H + 60_000, "52000"));

    // T+3h: the mark falls through the stop to 47,900: a market sell of 2 BTC at
    // 47,900 × 0.9997 = 47,885.63. Realised: 2 × (47,885.63 − 51,015.3) = −6,259.34;
    // fee 2 × 47,885.63 × 0.0005 = 47.88563.
    feed(&mut v, mark(T + 3 * H, "47900"));

    let executions = v.venue.executions();
    for i in [&open, &add, &stop] {
        assert_eq!(executions[&i.id].outcome, Outcome::Filled, "{:?}", i.kind);
    }
    assert_eq!(executions[&open.id].price, Some(Price::parse("50015").unwrap()));
    assert_eq!(executions[&add.id].price, Some(Price::parse("52015.6").unwrap()));
    assert_eq!(executions[&stop.id].price, Some(Price::parse("47885.63").unwrap()));
    assert_eq!(executions[&stop.id].closed_pnl, usd("-6259.34"));
    assert_eq!(executions[&open.id].time_ms, Some(T + 30_000));

    // One round trip: −6,259.34 less fees 25.0075 + 26.0078 + 47.88563 = 98.90093
    // → −6,358.24093, held from T+30 s to T+3h.
    let intents = vec![open, add, stop];
    let (closed, open_at_end) = trades::round_trips(&legs(&intents, &executions, Strategy::Consensus)).unwrap();
    assert!(open_at_end.is_empty());
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].fees, usd("98.90093"));
    assert_eq!(closed[0].pnl, usd("-6358.24093"));
    assert_eq!((closed[0].opened_at, closed[0].closed_at), (T + 30_000, T + 3 * H));
    let figures = stats::trades(&closed.iter().map(trades::Trade::closed).collect::<Vec<_>>());
    assert_eq!(figures.trades, 1);
    assert_eq!(figures.win_rate, stats::Stat::Value(0.0));
    assert_eq!(figures.worst_trade, stats::Stat::Value(-6358.24093));

    // The account: 100,000 − 98.90093 fees − 5.10 funding − 6,259.34 = 93,636.65907,
    // a total return of −6.363334093 %.
    assert_eq!(v.venue.funding_paid(), usd("5.1"));
    assert_eq!(v.venue.account_value(), usd("93636.65907"));
    let curve = v.curve();
    assert_eq!(curve.first(), Some(&(T, 100_000.0)));
    assert_eq!(curve.last(), Some(&(T + 3 * H, 93_636.659_07)));
    let equity = stats::equity(&curve);
    let total = equity.total_return.value().unwrap();
    assert!((total - -0.0636334093).abs() < 1e-12, "{total}");
    // The deepest point is the last: from the peak to 93,636.65907.
    let peak = curve.iter().map(|p| p.1).fold(f64::MIN, f64::max);
    let dd = equity.max_drawdown.value().unwrap();
    assert!((dd - (1.0 - 93_636.659_07 / peak)).abs() < 1e-12, "{dd} from a peak of {peak}");
    assert_eq!(v.liquidations, 0, "5 % below entry is far from a 3× isolated liquidation");
}
