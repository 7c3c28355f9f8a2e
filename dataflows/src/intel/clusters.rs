//! Copy clusters as connected components (strategy-rules.md §6, decisions.md
//! 11), kept incrementally by minimum-label propagation: every wallet starts
//! labelled with its own address and repeatedly takes the smallest label among
//! itself and its neighbours. Unlike union-find this handles deletions — when a
//! correlation expires, the labels it carried are retracted and the components
//! it joined come apart — and the fixed point's label is the component's
//! smallest address, the cluster id.

use differential_dataflow::VecCollection;
use differential_dataflow::operators::Iterate;

use crate::model::Address;

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
