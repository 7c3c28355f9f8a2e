//! The index book (strategy-rules.md §11.1 steps 2–3, decisions.md 7): every
//! allocated wallet's tracked positions weighted by its allocation, as a
//! fraction of our account, netted per token. A differential view: a position
//! or weight change touches its token's line only; the desk turns the book
//! into targets (scale, truncate, overlay) at each rebalance.

use differential_dataflow::VecCollection;

use crate::model::{Address, Ratio, Token, Usd};
use crate::rules::allocation::Weights;
use crate::rules::index::{BookLine, Contribution, book_line, contribution};
use crate::rules::trader::TrackedPosition;

pub fn book<'s>(
    tracked: VecCollection<'s, u64, (Address, TrackedPosition)>,
    allocations: VecCollection<'s, u64, (Address, Weights)>,
    account_values: VecCollection<'s, u64, (Address, Usd)>,
    copy_ratio: Ratio,
) -> VecCollection<'s, u64, (Token, BookLine)> {
    let weights = allocations.map(|(w, x)| (w, x.final_weight)).filter(|(_, x)| x.is_positive());
    tracked
        .join(weights.join(account_values))
        .flat_map(move |(wallet, (p, (weight, account)))| {
            contribution(wallet, p.side, p.value, account, p.leverage, weight, copy_ratio)
                .ok()
                .flatten()
                .map(|c| (p.token, c))
        })
        .reduce(|_token, group, out| {
            let contributions: Vec<Contribution> =
                group.iter().flat_map(|(c, n)| std::iter::repeat_n(**c, (*n).max(0) as usize)).collect();
            if let Ok(line) = book_line(&contributions) {
                out.push((line, 1));
            }
        })
}
