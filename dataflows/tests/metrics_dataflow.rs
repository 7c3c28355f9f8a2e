//! The windowed-metrics dataflow against the plain reference: after every clock
//! step of a random history (fills in time order, account values that change,
//! and fills that leave the windows as time passes), the dataflow's metrics per
//! (wallet, window) equal `rules::metrics::window_metrics` recomputed from
//! scratch over the fills inside `(now − W, now]`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use dataflows::intel::metrics::{DAY_MS, WINDOWS_DAYS, in_windows, window_metrics_of};
use dataflows::model::{Address, Fill, Price, Side, Size, Token, TxHash, Usd};
use dataflows::rules::metrics::{ClosingTrade, WindowMetrics, window_metrics};
use differential_dataflow::input::InputSession;
use proptest::prelude::*;

type Row = ((Address, u64), WindowMetrics);
type Out = BTreeMap<Row, isize>;

/// A wallet's trade: (wallet, minutes after the previous event, buy, size in lots, price in dollars).
type Step = (u8, u32, bool, u8, u16);

fn history(steps: &[Step]) -> Vec<Fill> {
    let mut pos: BTreeMap<u8, i64> = BTreeMap::new();
    let mut entry: BTreeMap<u8, i64> = BTreeMap::new();
    let mut t = 0u64;
    let mut out = Vec::new();
    for (i, &(w, gap, buy, lots, px)) in steps.iter().enumerate() {
        t += u64::from(gap) * 60_000;
        let (lots, px) = (i64::from(lots.max(1)), i64::from(px.max(1)));
        let start = *pos.get(&w).unwrap_or(&0);
        let delta = if buy { lots } else { -lots };
        let end = start + delta;
        // Realised PnL of the reducing part at the average entry (whole dollars, so exact).
        let reduced = if start != 0 && start.signum() != delta.signum() { lots.min(start.abs()) } else { 0 };
        let e = *entry.get(&w).unwrap_or(&px);
        let pnl = reduced * (px - e) * start.signum();
        if start == 0 || start.signum() != end.signum() {
            entry.insert(w, px);
        }
        pos.insert(w, end);
        out.push(Fill {
            time_ms: t,
            wallet: Address::from_bytes([w + 1; 20]),
            token: Token::parse("BTC").unwrap(),
            side: if buy { Side::Buy } else { Side::Sell },
            price: Price::from_int(px),
            size: Size::from_int(lots),
            start_position: Size::from_int(start),
            closed_pnl: Usd::from_int(pnl),
            fee: Usd::ZERO,
            tx_hash: TxHash::default(),
            trade_id: i as u64,
            liquidation: false,
        });
    }
    out
}

fn reference(fills: &[Fill], values: &BTreeMap<Address, Usd>, now: u64) -> BTreeMap<(Address, u64), WindowMetrics> {
    let mut out = BTreeMap::new();
    for days in WINDOWS_DAYS {
        let from = now.saturating_sub(days * DAY_MS);
        for (wallet, value) in values {
            let trades: Vec<ClosingTrade> = fills
                .iter()
                .filter(|f| f.wallet == *wallet && f.time_ms <= now && (now < days * DAY_MS || f.time_ms > from))
                .filter_map(|f| ClosingTrade::of(f).unwrap())
                .collect();
            // A wallet with an account value has every window, empty or not.
            out.insert((*wallet, days), window_metrics(&trades, None, *value).unwrap());
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn the_dataflow_equals_the_reference_after_every_step(
        steps in proptest::collection::vec((0u8..3, 0u32..4_000, any::<bool>(), 1u8..5, 50u16..150), 1..60),
        value_changes in proptest::collection::vec((0u8..3, 1_000u32..100_000), 1..6),
    ) {
        let fills = history(&steps);
        let end = fills.last().map(|f| f.time_ms).unwrap_or(0) + 100 * DAY_MS;
        let output: Arc<Mutex<Vec<(Row, u64, isize)>>> = Arc::default();
        let sink = output.clone();
        let fills_in = fills.clone();
        let checks = timely::execute_directly(move |worker| {
            let mut fill_input = InputSession::<u64, Fill, isize>::new();
            let mut value_input = InputSession::<u64, (Address, Usd), isize>::new();
            let mut snapshot_input = InputSession::<u64, (Address, (u64, Usd)), isize>::new();
            let probe = worker.dataflow::<u64, _, _>(|scope| {
                let out = window_metrics_of(
                    in_windows(fill_input.to_collection(scope)),
                    value_input.to_collection(scope),
                    snapshot_input.to_collection(scope),
                );
                let (probe, out) = out.probe();
                out.inspect(move |(d, t, r)| sink.lock().unwrap().push((*d, *t, *r)));
                probe
            });
            let mut values: BTreeMap<Address, Usd> = BTreeMap::new();
            for w in 0..3u8 {
                let a = Address::from_bytes([w + 1; 20]);
                values.insert(a, Usd::from_int(50_000));
                value_input.update_at((a, Usd::from_int(50_000)), 0, 1);
            }
            let mut changes = value_changes.clone();
            let mut checks = Vec::new();
            // Clock steps of 12 hours; fills and value changes land at their times.
            let mut next = 0usize;
            let mut now = 0u64;
            // Account values change every ten days or so.
            let mut change_at = 10 * DAY_MS;
            while now <= end {
                while next < fills_in.len() && fills_in[next].time_ms <= now {
                    fill_input.update_at(fills_in[next].clone(), fills_in[next].time_ms, 1);
                    next += 1;
                }
                if now >= change_at
                    && let Some((w, v)) = changes.pop()
                {
                    change_at += 10 * DAY_MS;
                    let a = Address::from_bytes([w % 3 + 1; 20]);
                    let old = values.insert(a, Usd::from_int(i64::from(v))).unwrap();
                    value_input.update_at((a, old), now, -1);
                    value_input.update_at((a, Usd::from_int(i64::from(v))), now, 1);
                }
                fill_input.advance_to(now + 1);
                value_input.advance_to(now + 1);
                snapshot_input.advance_to(now + 1);
                fill_input.flush();
                value_input.flush();
                snapshot_input.flush();
                worker.step_while(|| probe.less_than(&(now + 1)));
                checks.push((now, values.clone()));
                // Next: 12 h on, or the instant a fill leaves a window if that is sooner,
                // so the (now − W, now] boundary itself is checked.
                let leaving = fills_in
                    .iter()
                    .flat_map(|f| WINDOWS_DAYS.map(|d| f.time_ms + d * DAY_MS))
                    .chain(fills_in.iter().map(|f| f.time_ms))
                    .filter(|t| *t > now)
                    .min();
                now = leaving.map_or(now + 12 * 3_600_000, |t| t.min(now + 12 * 3_600_000));
            }
            checks
        });
        let updates = output.lock().unwrap().clone();
        for (now, values) in checks {
            let mut acc: Out = BTreeMap::new();
            for (d, t, r) in &updates {
                if *t <= now {
                    *acc.entry(*d).or_default() += r;
                }
            }
            acc.retain(|_, r| *r != 0);
            prop_assert!(acc.values().all(|r| *r == 1), "multiplicities at {now}: {acc:?}");
            let got: BTreeMap<(Address, u64), WindowMetrics> = acc.into_keys().collect();
            prop_assert_eq!(got, reference(&fills, &values, now), "at {}", now);
        }
    }
}
