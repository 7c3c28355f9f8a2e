//! Fills applied at one time are put in the order they happened, whatever
//! order they arrived in: the feeder follows positions fill by fill, and a
//! daemon restarted after a crash receives the same fills from REST in
//! another order than the tape gave them to the run that never stopped.

use dataflows::feed::{Input, order_fills};
use dataflows::model::{Address, Fill, MarkPrice, Price, Side, Size, Token, TxHash, Usd};
use proptest::prelude::*;

const T: u64 = 1_767_225_600_000;

fn fill(wallet: u8, token: &str, time_ms: u64, start: i64, delta: i64, trade_id: u64) -> Input {
    Input::Fill(Fill {
        time_ms,
        wallet: Address::from_bytes([wallet; 20]),
        token: Token::parse(token).unwrap(),
        side: if delta > 0 { Side::Buy } else { Side::Sell },
        price: Price::from_int(100),
        size: Size::from_int(delta.abs()),
        start_position: Size::from_int(start),
        closed_pnl: Usd::ZERO,
        fee: Usd::ZERO,
        tx_hash: TxHash::default(),
        trade_id,
        liquidation: false,
    })
}

fn mark(time_ms: u64) -> Input {
    Input::Mark(MarkPrice { time_ms, token: Token::parse("BTC").unwrap(), price: Price::from_int(1) })
}

fn as_fill(i: &(u64, Input)) -> Option<&Fill> {
    match &i.1 {
        Input::Fill(f) => Some(f),
        _ => None,
    }
}

/// A wallet's chain of fills in one millisecond: each starts where the last ended.
fn chain(wallet: u8, token: &str, deltas: &[i64], ids: &[u64]) -> Vec<Input> {
    let mut size = 0;
    deltas
        .iter()
        .zip(ids)
        .map(|(d, id)| {
            let f = fill(wallet, token, T, size, *d, *id);
            size += d;
            f
        })
        .collect()
}

fn nonzero() -> impl Strategy<Value = i64> {
    prop_oneof![-50i64..=-1, 1i64..=50]
}

proptest! {
    /// Whatever the arrival order, each wallet's fills come out in chain
    /// order, the same every time, and other inputs keep their places.
    #[test]
    fn same_millisecond_fills_come_out_in_chain_order(
        a in prop::collection::vec(nonzero(), 1..6),
        b in prop::collection::vec(nonzero(), 1..4),
        ids in prop::collection::vec(any::<u64>(), 10),
        shuffle in prop::collection::vec(any::<prop::sample::Index>(), 12),
    ) {
        let first = chain(1, "ETH", &a, &ids[..a.len()]);
        let second = chain(2, "ETH", &b, &ids[5..5 + b.len()]);
        let mut batch: Vec<(u64, Input)> =
            first.iter().chain(&second).chain([&mark(T)]).map(|i| (T + 1, i.clone())).collect();
        for (i, ix) in shuffle.iter().enumerate() {
            let (i, j) = (i % batch.len(), ix.index(batch.len()));
            batch.swap(i, j);
        }
        let mark_at = batch.iter().position(|x| as_fill(x).is_none());
        let mut ordered = batch.clone();
        order_fills(&mut ordered, |x| x.0, as_fill);
        prop_assert_eq!(ordered.iter().position(|x| as_fill(x).is_none()), mark_at, "the mark moved");
        let of = |w: u8| -> Vec<Input> {
            ordered
                .iter()
                .filter(|x| as_fill(x).is_some_and(|f| f.wallet == Address::from_bytes([w; 20])))
                .map(|x| x.1.clone())
                .collect()
        };
        // Each wallet's fills form one chain: each starts where the last ended
        // (a chain that passes a position twice has other orders that are
        // chains too; then the order is still fixed, below).
        for (w, sent) in [(1, &first), (2, &second)] {
            let got = of(w);
            prop_assert_eq!(got.len(), sent.len());
            for pair in got.windows(2) {
                let (Input::Fill(x), Input::Fill(y)) = (&pair[0], &pair[1]) else { unreachable!() };
                prop_assert_eq!(y.start_position, x.end_position().unwrap(), "broken chain: {:?}", got);
            }
            // Where no position is visited twice there is one chain only.
            let mut visited: Vec<Size> = sent.iter().filter_map(|i| match i {
                Input::Fill(f) => Some(f.start_position),
                _ => None,
            }).collect();
            visited.sort();
            visited.dedup();
            let ends_at_a_start = sent.last().and_then(|i| match i {
                Input::Fill(f) => f.end_position().ok(),
                _ => None,
            }).is_some_and(|end| visited.contains(&end));
            if visited.len() == sent.len() && !ends_at_a_start {
                prop_assert_eq!(&got, sent);
            }
        }
        // The order is a function of the set: from the reverse, the same.
        batch.reverse();
        order_fills(&mut batch, |x| x.0, as_fill);
        prop_assert_eq!(batch.iter().filter(|x| as_fill(x).is_some()).count(), a.len() + b.len());
        prop_assert_eq!(
            batch.iter().filter_map(as_fill).collect::<Vec<_>>(),
            ordered.iter().filter_map(as_fill).collect::<Vec<_>>()
        );
    }
}

/// Fills of different times in one batch (late fills stamped at a step's
/// floor) are put in time order: a later fill first would make the earlier
/// one look late and be ignored.
#[test]
fn fills_stamped_together_are_put_in_time_order() {
    let late = fill(1, "BTC", T - 5, 0, 3, 9);
    let later = fill(1, "BTC", T - 2, 3, -1, 1);
    let mut batch = vec![(T, later.clone()), (T, mark(T)), (T, late.clone())];
    order_fills(&mut batch, |x| x.0, as_fill);
    assert_eq!(batch, vec![(T, late), (T, mark(T)), (T, later)]);
}

/// Fills at different stamps are not moved across them.
#[test]
fn fills_stay_at_their_stamp() {
    let a = fill(1, "BTC", T, 0, 3, 2);
    let b = fill(1, "BTC", T, 3, 1, 1);
    let mut batch = vec![(T + 2, a.clone()), (T + 3, b.clone())];
    order_fills(&mut batch, |x| x.0, as_fill);
    assert_eq!(batch, vec![(T + 2, a), (T + 3, b)]);
}
