//! Copy clusters (strategy-rules.md §6, decisions.md 11): two wallets are
//! correlated when either's overlap with the other reaches 0.40 — the share of
//! its entries (over the 30-day lookback) that the other matched on the same
//! token and side within ±10 minutes, over the smaller entry count. Wallets
//! with fewer than 20 entries are compared on current positions instead
//! (shared (token, side) pairs over the smaller position count). Clusters are
//! the connected components; a cluster's id is its smallest address.
//!
//! These are the reference definitions; the dataflow computes the components
//! incrementally (edges expire) by minimum-label propagation.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Address, Fixed, NumError, PositionSide, Ratio, Rounding, TimeMs, Token};

pub const COPY_WINDOW_MS: u64 = 10 * 60_000;
pub const COPY_THRESHOLD: Ratio = Ratio::lit(40, 2);
/// Below this many entries a wallet is compared on positions.
pub const MIN_FILLS: usize = 20;
pub const LOOKBACK_MS: u64 = 30 * 86_400_000;

/// An entry of a wallet: a fill that opened or added to a position (a flip's
/// opening half included), with the side of that position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    pub time_ms: TimeMs,
    pub token: Token,
    pub side: PositionSide,
}

impl Entry {
    pub fn of(fill: &crate::model::Fill) -> Option<Entry> {
        use crate::model::{FillAction, Side};
        let side = if fill.side == Side::Buy { PositionSide::Long } else { PositionSide::Short };
        matches!(fill.action(), FillAction::Open | FillAction::Add | FillAction::Flip).then_some(Entry {
            time_ms: fill.time_ms,
            token: fill.token,
            side,
        })
    }
}

/// Why a pair is correlated, from the first wallet's side: its entries the
/// other matched (both with at least 20 entries), or the (token, side)
/// positions they share (fewer entries), with both counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overlap {
    Entries { matched: u64, own: u64, other: u64 },
    Positions { shared: u64, own: u64, other: u64 },
}

fn ratio(num: usize, den: usize) -> Result<Ratio, NumError> {
    if den == 0 {
        return Ok(Ratio::ZERO);
    }
    Ok(Ratio::new(Fixed::from_int(num as i64).checked_mul_div(
        Fixed::ONE,
        Fixed::from_int(den as i64),
        Rounding::HalfEven,
    )?))
}

/// `overlap(A→B)`: A's entries with a B entry on the same token and side
/// within ±10 minutes (each A entry once), over `min(|A|, |B|)`.
pub fn overlap(a: &[Entry], b: &[Entry]) -> Result<Ratio, NumError> {
    let matched = a
        .iter()
        .filter(|x| {
            b.iter().any(|y| y.token == x.token && y.side == x.side && x.time_ms.abs_diff(y.time_ms) <= COPY_WINDOW_MS)
        })
        .count();
    ratio(matched, a.len().min(b.len()))
}

/// Shared (token, side) positions over the smaller position count (the fallback).
pub fn position_overlap(
    a: &BTreeSet<(Token, PositionSide)>,
    b: &BTreeSet<(Token, PositionSide)>,
) -> Result<Ratio, NumError> {
    ratio(a.intersection(b).count(), a.len().min(b.len()))
}

/// Whether two wallets are correlated: entry overlap either way ≥ 0.40, or —
/// when either has fewer than 20 entries — position overlap ≥ 0.40.
pub fn correlated(
    a: (&[Entry], &BTreeSet<(Token, PositionSide)>),
    b: (&[Entry], &BTreeSet<(Token, PositionSide)>),
) -> Result<bool, NumError> {
    if a.0.len() < MIN_FILLS || b.0.len() < MIN_FILLS {
        return Ok(position_overlap(a.1, b.1)? >= COPY_THRESHOLD);
    }
    Ok(overlap(a.0, b.0)? >= COPY_THRESHOLD || overlap(b.0, a.0)? >= COPY_THRESHOLD)
}

/// Connected components of `edges` over `wallets`: wallet → cluster id (the
/// smallest address of its component; a lone wallet is its own cluster).
pub fn components(wallets: &BTreeSet<Address>, edges: &[(Address, Address)]) -> BTreeMap<Address, Address> {
    let mut parent: BTreeMap<Address, Address> = wallets.iter().map(|w| (*w, *w)).collect();
    fn root(p: &mut BTreeMap<Address, Address>, x: Address) -> Address {
        let mut r = x;
        while let Some(&up) = p.get(&r) {
            if up == r {
                break;
            }
            r = up;
        }
        r
    }
    for (a, b) in edges {
        parent.entry(*a).or_insert(*a);
        parent.entry(*b).or_insert(*b);
        let (ra, rb) = (root(&mut parent, *a), root(&mut parent, *b));
        // The smaller root wins, so every root is its component's minimum.
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        parent.insert(hi, lo);
    }
    let keys: Vec<Address> = parent.keys().copied().collect();
    keys.into_iter().map(|w| (w, root(&mut parent, w))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(n: u8) -> Address {
        Address::from_bytes([n; 20])
    }

    fn e(min: u64, token: &str, side: PositionSide) -> Entry {
        Entry { time_ms: min * 60_000, token: Token::parse(token).unwrap(), side }
    }

    #[test]
    fn overlap_counts_same_token_and_side_within_ten_minutes() {
        use PositionSide::*;
        let a = [e(0, "BTC", Long), e(100, "ETH", Short), e(200, "SOL", Long)];
        let b = [e(10, "BTC", Long), e(111, "ETH", Short), e(200, "SOL", Short), e(300, "BTC", Long)];
        // BTC at +10 min matches (inclusive); ETH at +11 does not; SOL is the other side.
        assert_eq!(overlap(&a, &b).unwrap(), Ratio::parse("0.333333333333333333").unwrap());
        assert_eq!(overlap(&[], &b).unwrap(), Ratio::ZERO);
    }

    #[test]
    fn the_threshold_is_inclusive_and_the_fallback_uses_positions() {
        use PositionSide::*;
        let many = |offset: u64| (0..25).map(|i| e(i * 60 + offset, "BTC", Long)).collect::<Vec<_>>();
        let (a, b) = (many(0), many(5));
        let none = BTreeSet::new();
        assert!(correlated((&a, &none), (&b, &none)).unwrap());
        // 10 of 25 matched = exactly 0.40: correlated (≥).
        let mut c: Vec<Entry> = many(0)[..10].to_vec();
        c.extend((0..15).map(|i| e(10_000 + i * 60, "ETH", Short)));
        assert_eq!(overlap(&c, &a).unwrap(), COPY_THRESHOLD);
        assert!(correlated((&c, &none), (&a, &none)).unwrap());
        // Few fills: 2 shared of min(3, 2) positions.
        let p1: BTreeSet<_> = [("BTC", Long), ("ETH", Short), ("SOL", Long)]
            .iter()
            .map(|(t, s)| (Token::parse(t).unwrap(), *s))
            .collect();
        let p2: BTreeSet<_> =
            [("BTC", Long), ("ETH", Short)].iter().map(|(t, s)| (Token::parse(t).unwrap(), *s)).collect();
        assert!(correlated((&a[..3], &p1), (&b, &p2)).unwrap());
    }

    // Seed 000: cluster detection merges correlated traders (transitively).
    #[test]
    fn cluster_detection_merges_correlated_traders() {
        let wallets: BTreeSet<Address> = (1..=6).map(addr).collect();
        let edges = [(addr(3), addr(2)), (addr(2), addr(5)), (addr(6), addr(4))];
        let c = components(&wallets, &edges);
        assert_eq!(c[&addr(5)], addr(2), "3–2–5 is one cluster, id the smallest");
        assert_eq!(c[&addr(3)], addr(2));
        assert_eq!((c[&addr(4)], c[&addr(6)]), (addr(4), addr(4)));
        assert_eq!(c[&addr(1)], addr(1), "a lone wallet is its own cluster");
    }
}
