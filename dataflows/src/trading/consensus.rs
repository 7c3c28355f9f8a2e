//! Cluster-aware consensus per token (strategy-rules.md §8.1) as a
//! differential view: every tiered wallet's tracked positions become votes
//! (weighted by score or allocation, tagged with the wallet's cluster and
//! account value), and each token's tally is a reduce over its votes at the
//! consensus clock. A position change touches one token; the clock's
//! 15-minute step re-tallies every token (freshness decays with it).

use differential_dataflow::VecCollection;

use crate::config::{ConsensusConfig, VoteWeight};
use crate::model::{Address, Ratio, TimeMs, Token, Usd};
use crate::rules::allocation::Weights;
use crate::rules::consensus::{TokenConsensus, Vote, token_consensus};
use crate::rules::eligibility::Tier;
use crate::rules::trader::{Standing, TrackedPosition};

/// The votes per token: positions of primary and secondary wallets
/// (decisions.md 16; only eligible wallets have a tier, so blacklisted and
/// unknown wallets never vote).
pub fn votes<'s>(
    tracked: VecCollection<'s, u64, (Address, TrackedPosition)>,
    tiers: VecCollection<'s, u64, (Address, Tier)>,
    standings: VecCollection<'s, u64, (Address, Standing)>,
    allocations: VecCollection<'s, u64, (Address, Weights)>,
    clusters: VecCollection<'s, u64, (Address, Address)>,
    account_values: VecCollection<'s, u64, (Address, Usd)>,
    weight: VoteWeight,
) -> VecCollection<'s, u64, (Token, Vote)> {
    let voters = tiers.map(|(w, _)| w);
    let weights = match weight {
        VoteWeight::Score => standings.map(|(w, s)| (w, s.score.final_score)).semijoin(voters.clone()),
        VoteWeight::Allocation => allocations.map(|(w, x)| (w, x.final_weight)).semijoin(voters.clone()),
    };
    // A wallet outside every cluster is its own.
    let clustered = clusters.semijoin(voters.clone());
    let own = voters.clone().map(|w| (w, ())).antijoin(clustered.clone().map(|(w, _)| w)).map(|(w, ())| (w, w));
    let cluster_of = clustered.concat(own);
    let facts = weights
        .join(cluster_of)
        .join(account_values)
        .map(|(w, ((weight, cluster), account)): (Address, ((Ratio, Address), Usd))| (w, (weight, cluster, account)));
    tracked.join(facts).map(|(wallet, (p, (weight, cluster, account_value)))| {
        (
            p.token,
            Vote {
                wallet,
                cluster,
                side: p.side,
                value: p.value,
                account_value,
                entry_price: p.entry_price,
                leverage: p.leverage,
                last_action: p.last_action,
                weight,
            },
        )
    })
}

/// Each token's consensus at the consensus clock (tokens without a vote are absent: MIXED).
pub fn consensus<'s>(
    votes: VecCollection<'s, u64, (Token, Vote)>,
    clock: VecCollection<'s, u64, TimeMs>,
    cfg: ConsensusConfig,
) -> VecCollection<'s, u64, (Token, TokenConsensus)> {
    votes
        .map(|(t, v)| ((), (t, v)))
        .join(clock.map(|now| ((), now)))
        .map(|((), ((token, vote), now))| ((token, now), vote))
        .reduce(move |(token, now), group, out| {
            let votes: Vec<Vote> = group.iter().map(|(v, _)| **v).collect();
            if let Ok(c) = token_consensus(*token, &votes, &cfg, *now) {
                out.push((c, 1));
            }
        })
        .map(|((token, _), c)| (token, c))
}
