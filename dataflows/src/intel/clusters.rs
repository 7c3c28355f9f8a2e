//! Copy clusters as connected components (strategy-rules.md §6, decisions.md
//! 11), kept incrementally by minimum-label propagation: every wallet starts
//! labelled with its own address and repeatedly takes the smallest label among
//! itself and its neighbours. Unlike union-find this handles deletions — when a
//! correlation expires, the labels it carried are retracted and the components
//! it joined come apart — and the fixed point's label is the component's
//! smallest address, the cluster id.

use differential_dataflow::VecCollection;
use differential_dataflow::operators::Iterate;

use crate::model::{Address, Fill, PositionSide, Token};
use crate::rules::clusters::{COPY_WINDOW_MS, Entry, MIN_FILLS, Overlap};

/// Wallet → cluster id, for every wallet in `wallets` (a lone wallet is its own
/// cluster), given the correlated pairs (either direction; duplicates allowed).
pub fn components<'s>(
    wallets: VecCollection<'s, u64, Address>,
    correlated: VecCollection<'s, u64, (Address, Address)>,
) -> VecCollection<'s, u64, (Address, Address)> {
    let edges = correlated.flat_map(|(a, b)| [(a, b), (b, a)]).distinct();
    let nodes = wallets.distinct().map(|w| (w, w));
    nodes.clone().iterate(|scope, labels| {
        let nodes = nodes.enter(scope);
        let edges = edges.enter(scope);
        labels
            .join_map(edges, |_wallet, label, neighbour| (*neighbour, *label))
            .concat(nodes)
            .reduce(|_wallet, candidates, out| out.push((*candidates[0].0, 1)))
    })
}

/// An entry with the fill's trade id, so two equal entries count twice (as the
/// reference counts fills).
pub type Keyed = (Address, (Entry, u64));

/// The entries of fills in the 30-day lookback (`fills` windowed to it).
pub fn entries_of<'s>(fills: VecCollection<'s, u64, Fill>) -> VecCollection<'s, u64, Keyed> {
    fills.flat_map(|f| Entry::of(&f).map(|e| (f.wallet, (e, f.trade_id))))
}

/// A correlated pair `(a, b)` with the overlap that makes it one (a's side).
pub type CorrelatedPair = ((Address, Address), Overlap);

/// The correlated pairs at every time, each with the overlap behind it, from
/// the entries in the 30-day lookback and the wallets' current positions
/// (`(wallet, (token, side))`, one row per open position): `(a, b)` when a's
/// entry overlap with b is ≥ 0.40 and both have at least 20 entries, or (one
/// has fewer) when their position overlap is ≥ 0.40. Either direction
/// correlates the pair. The thresholds are compared in integers
/// (`5·matched ≥ 2·min`), exactly.
pub fn correlations<'s>(
    entries: VecCollection<'s, u64, Keyed>,
    positions: VecCollection<'s, u64, (Address, (Token, PositionSide))>,
) -> VecCollection<'s, u64, CorrelatedPair> {
    let counts = entries.clone().map(|(w, _)| w).count();
    let rich = counts.clone().filter(|(_, n)| *n >= MIN_FILLS as isize).map(|(w, _)| w);

    // A's entry meets B's entries in its own and the neighbouring 10-minute buckets.
    let bucket = |t: u64| t / COPY_WINDOW_MS;
    let probes = entries.clone().flat_map(move |(w, (e, id))| {
        let b = bucket(e.time_ms);
        let mut ks = vec![b, b + 1];
        if b > 0 {
            ks.push(b - 1);
        }
        ks.into_iter().map(move |k| ((e.token, e.side, k), (w, e, id)))
    });
    let targets = entries.map(move |(w, (e, _))| ((e.token, e.side, bucket(e.time_ms)), (w, e.time_ms)));
    let matched = probes
        .join(targets)
        .filter(|(_, ((a, e, _), (b, t)))| a != b && e.time_ms.abs_diff(*t) <= COPY_WINDOW_MS)
        .map(|(_, ((a, _, id), (b, _)))| (a, id, b))
        .distinct()
        .map(|(a, _, b)| (a, b))
        .count();
    let by_entries = with_both_counts(matched, counts)
        .filter(|(_, (m, na, nb))| {
            let floor = MIN_FILLS as isize;
            *na >= floor && *nb >= floor && 5 * m >= 2 * (*na).min(*nb)
        })
        .map(|(pair, (m, na, nb))| (pair, Overlap::Entries { matched: m as u64, own: na as u64, other: nb as u64 }));

    // Few entries on either side: shared (token, side) positions over the smaller count.
    let positions = positions.distinct();
    let shared = positions
        .clone()
        .map(|(w, p)| (p, w))
        .join(positions.clone().map(|(w, p)| (p, w)))
        .filter(|(_, (a, b))| a != b)
        .map(|(_, pair)| pair)
        .count();
    let position_counts = positions.map(|(w, _)| w).count();
    let overlapping =
        with_both_counts(shared, position_counts).filter(|(_, (s, pa, pb))| 5 * s >= 2 * (*pa).min(*pb)).map(
            |((a, b), (s, pa, pb))| (a, (b, Overlap::Positions { shared: s as u64, own: pa as u64, other: pb as u64 })),
        );
    let rich_a = overlapping.clone().semijoin(rich.clone());
    let both_rich = rich_a.map(|(a, (b, o))| (b, (a, o))).semijoin(rich).map(|(b, (a, o))| (a, (b, o)));
    let by_positions = overlapping.concat(both_rich.negate()).map(|(a, (b, o))| ((a, b), o));

    by_entries.concat(by_positions)
}

/// A pair's count with both wallets' own counts: `((a, b), (x, n_a, n_b))`.
type PairCounts<'s> = VecCollection<'s, u64, ((Address, Address), (isize, isize, isize))>;

/// `((a, b), x)` with both wallets' counts.
fn with_both_counts<'s>(
    pairs: VecCollection<'s, u64, ((Address, Address), isize)>,
    counts: VecCollection<'s, u64, (Address, isize)>,
) -> PairCounts<'s> {
    pairs
        .map(|((a, b), x)| (a, (b, x)))
        .join(counts.clone())
        .map(|(a, ((b, x), na))| (b, (a, x, na)))
        .join(counts)
        .map(|(b, ((a, x, na), nb))| ((a, b), (x, na, nb)))
}
