//! Cost of the exact numeric type on the dataflow's hot path: parsing API strings,
//! multiplication (a notional) and division (a weight). hdrhistogram of batched
//! timings, reported per operation.
//!
//! Run: `cargo bench --bench numeric`.

use std::hint::black_box;
use std::time::Instant;

use dataflows::model::{Fixed, Price, Size, Usd};
use hdrhistogram::Histogram;

const BATCH: usize = 1_000;
const ROUNDS: usize = 2_000;

fn measure(name: &str, mut op: impl FnMut(usize)) {
    let mut hist = Histogram::<u64>::new(3).expect("histogram");
    for round in 0..ROUNDS {
        let start = Instant::now();
        for i in 0..BATCH {
            op(round * BATCH + i);
        }
        let per_op_ps = start.elapsed().as_nanos() as u64 * 1_000 / BATCH as u64;
        hist.record(per_op_ps.max(1)).expect("record");
    }
    let ns = |q: f64| hist.value_at_quantile(q) as f64 / 1_000.0;
    println!(
        "{name:<28} p50 {:>7.1} ns/op   p99 {:>7.1} ns/op   max {:>7.1} ns/op",
        ns(0.5),
        ns(0.99),
        hist.max() as f64 / 1_000.0
    );
}

fn main() {
    let texts: Vec<String> = (0..BATCH).map(|i| format!("{}.{:06}", 1_000 + i * 37, i * 7919 % 1_000_000)).collect();
    let prices: Vec<Price> = texts.iter().map(|t| Price::parse(t).expect("price")).collect();
    let sizes: Vec<Size> = (0..BATCH).map(|i| Size::new(Fixed::from_parts(i as i128 + 1, 4).expect("size"))).collect();
    let notionals: Vec<Usd> = prices.iter().zip(&sizes).map(|(p, s)| p.notional(*s).expect("notional")).collect();
    let account = Usd::from_int(250_000);

    println!("exact numeric operations, {ROUNDS} rounds of {BATCH}");
    measure("parse decimal string", |i| {
        black_box(Fixed::parse(black_box(&texts[i % BATCH])).ok());
    });
    measure("price x size -> usd", |i| {
        black_box(prices[i % BATCH].notional(black_box(sizes[i % BATCH])).ok());
    });
    measure("usd / usd -> ratio", |i| {
        black_box(notionals[i % BATCH].ratio_to(black_box(account)).ok());
    });
    measure("usd + usd (checked)", |i| {
        black_box(notionals[i % BATCH].checked_add(black_box(account)).ok());
    });
    measure("display canonical", |i| {
        black_box(notionals[i % BATCH].to_string());
    });
}
