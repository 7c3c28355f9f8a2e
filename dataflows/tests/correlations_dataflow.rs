//! Correlated pairs in the dataflow against the reference rule, as entries
//! arrive, age out of the 30-day lookback, and positions change: followers that
//! copy a leader within minutes (or not quite), wallets with too few entries
//! judged on their positions.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use dataflows::intel::clusters::{correlations, entries_of};
use dataflows::model::{Address, Fill, PositionSide, Price, Side, Size, Token, TxHash, Usd};
use dataflows::rules::clusters::{self, Entry, LOOKBACK_MS};
use differential_dataflow::input::InputSession;
use proptest::prelude::*;

type Pair = (Address, Address);
type Pos = (Address, (Token, PositionSide));

fn addr(n: u8) -> Address {
    Address::from_bytes([n + 1; 20])
}

fn token(i: u8) -> Token {
    Token::parse(["BTC", "ETH", "SOL"][i as usize % 3]).unwrap()
}

/// An opening fill (from flat) of `wallet` at `t`.
fn entry_fill(wallet: u8, t: u64, tok: u8, long: bool, id: u64) -> Fill {
    Fill {
        time_ms: t,
        wallet: addr(wallet),
        token: token(tok),
        side: if long { Side::Buy } else { Side::Sell },
        price: Price::from_int(100),
        size: Size::from_int(1),
        start_position: Size::ZERO,
        closed_pnl: Usd::ZERO,
        fee: Usd::ZERO,
        tx_hash: TxHash::default(),
        trade_id: id,
        liquidation: false,
    }
}

fn reference(fills: &[Fill], positions: &BTreeSet<Pos>, wallets: u8, now: u64) -> BTreeSet<Pair> {
    let entries = |w: Address| -> Vec<Entry> {
        fills
            .iter()
            .filter(|f| f.wallet == w && f.time_ms <= now && (now < LOOKBACK_MS || f.time_ms > now - LOOKBACK_MS))
            .filter_map(Entry::of)
            .collect()
    };
    let held = |w: Address| -> BTreeSet<(Token, PositionSide)> {
        positions.iter().filter(|(x, _)| *x == w).map(|(_, p)| *p).collect()
    };
    let mut out = BTreeSet::new();
    for a in 0..wallets {
        for b in (a + 1)..wallets {
            let (ea, eb, pa, pb) = (entries(addr(a)), entries(addr(b)), held(addr(a)), held(addr(b)));
            if clusters::correlated((&ea, &pa), (&eb, &pb)).unwrap() {
                out.insert((addr(a), addr(b)));
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn correlated_pairs_equal_the_reference(
        leader_entries in proptest::collection::vec((0u64..60 * 24 * 50, 0u8..3, any::<bool>()), 10..60),
        copy_delays in proptest::collection::vec(proptest::collection::vec(0u64..25, 60), 3),
        noise in proptest::collection::vec((0u8..5, 0u64..60 * 24 * 50, 0u8..3, any::<bool>()), 0..40),
        position_sets in proptest::collection::vec(proptest::collection::btree_set((0u8..5, 0u8..3, any::<bool>()), 0..6), 1..4),
    ) {
        // Wallet 0 leads; 1–3 copy it with their own delays (minutes); 4 is noise only.
        let mut fills = Vec::new();
        let mut id = 0;
        for (i, (minute, tok, long)) in leader_entries.iter().enumerate() {
            fills.push(entry_fill(0, minute * 60_000, *tok, *long, id));
            id += 1;
            for f in 1..=3u8 {
                let delay = copy_delays[f as usize - 1][i % 60];
                fills.push(entry_fill(f, (minute + delay) * 60_000, *tok, *long, id));
                id += 1;
            }
        }
        for (w, minute, tok, long) in &noise {
            fills.push(entry_fill(*w, minute * 60_000, *tok, *long, id));
            id += 1;
        }
        fills.sort_by_key(|f| (f.time_ms, f.trade_id));
        let position_plan: Vec<BTreeSet<Pos>> = position_sets
            .iter()
            .map(|s| {
                s.iter()
                    .map(|(w, t, long)| (addr(*w), (token(*t), if *long { PositionSide::Long } else { PositionSide::Short })))
                    .collect()
            })
            .collect();
        let end = fills.last().map(|f| f.time_ms).unwrap_or(0) + LOOKBACK_MS + 86_400_000;
        let output: Arc<Mutex<Vec<(Pair, u64, isize)>>> = Arc::default();
        let sink = output.clone();
        let (fills_in, plan) = (fills.clone(), position_plan.clone());
        let checks = timely::execute_directly(move |worker| {
            let mut fill_input = InputSession::<u64, Fill, isize>::new();
            let mut pos_input = InputSession::<u64, Pos, isize>::new();
            let probe = worker.dataflow::<u64, _, _>(|scope| {
                let entries = entries_of(fill_input.to_collection(scope));
                let (probe, out) = correlations(entries, pos_input.to_collection(scope)).map(|(pair, _)| pair).distinct().probe();
                out.inspect(move |(d, t, r)| sink.lock().unwrap().push((*d, *t, *r)));
                probe
            });
            let mut held: BTreeSet<Pos> = BTreeSet::new();
            let mut checks = Vec::new();
            let (mut next, mut now, mut step) = (0usize, 0u64, 0usize);
            while now <= end {
                while next < fills_in.len() && fills_in[next].time_ms <= now {
                    // In the lookback from its time until 30 days later.
                    let f = &fills_in[next];
                    fill_input.update_at(f.clone(), f.time_ms, 1);
                    fill_input.update_at(f.clone(), f.time_ms + LOOKBACK_MS, -1);
                    next += 1;
                }
                // Positions change every 10 days.
                let want = &plan[(now / (10 * 86_400_000)) as usize % plan.len()];
                for p in held.difference(want) {
                    pos_input.update_at(*p, now, -1);
                }
                for p in want.difference(&held) {
                    pos_input.update_at(*p, now, 1);
                }
                held = want.clone();
                fill_input.advance_to(now + 1);
                pos_input.advance_to(now + 1);
                fill_input.flush();
                pos_input.flush();
                worker.step_while(|| probe.less_than(&(now + 1)));
                checks.push((now, held.clone()));
                step += 1;
                now = step as u64 * 3 * 86_400_000 + (step as u64 % 7) * 3_600_000;
            }
            checks
        });
        let updates = output.lock().unwrap().clone();
        let mut seen_any = false;
        for (now, held) in checks {
            let mut acc: BTreeMap<Pair, isize> = BTreeMap::new();
            for (d, t, r) in &updates {
                if *t <= now {
                    *acc.entry(*d).or_default() += r;
                }
            }
            acc.retain(|_, r| *r != 0);
            prop_assert!(acc.values().all(|r| *r == 1), "multiplicities at {now}: {acc:?}");
            let got: BTreeSet<Pair> = acc.into_keys().map(|(a, b)| if a < b { (a, b) } else { (b, a) }).collect();
            let want = reference(&fills, &held, 5, now);
            seen_any |= !want.is_empty();
            prop_assert_eq!(got, want, "at {}", now);
        }
        let _ = seen_any;
    }
}
