//! Who could be copied: how many scored wallets were eligible, and for the
//! others the gate that kept them out — at the end of the run, and whether
//! each was ever eligible during it. On a market the thresholds were not
//! made for (the real 2023 data), this is what says why nothing traded.

use std::collections::{BTreeMap, BTreeSet};

use dataflows::model::Address;
use dataflows::replay::Change;
use dataflows::rules::trader::Standing;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Eligibility {
    pub wallets_scored: usize,
    pub eligible_at_end: usize,
    pub ever_eligible: usize,
    /// Wallets by the gate that made them ineligible at the end.
    pub failing_gate_at_end: BTreeMap<String, usize>,
    /// Wallets by each gate that made them ineligible at some time.
    pub failed_gate_ever: BTreeMap<String, usize>,
}

fn name(g: &dataflows::rules::eligibility::Ineligible) -> String {
    serde_json::to_value(g).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_else(|| format!("{g:?}"))
}

pub fn summary(standings: &[Change<Standing>]) -> Eligibility {
    let mut held: BTreeMap<Address, BTreeMap<&Standing, i64>> = BTreeMap::new();
    let mut ever = BTreeSet::new();
    let mut failed: BTreeSet<(String, Address)> = BTreeSet::new();
    for c in standings {
        *held.entry(c.wallet).or_default().entry(&c.value).or_default() += c.diff;
        if c.diff > 0 {
            match &c.value.gate {
                None => {
                    ever.insert(c.wallet);
                }
                Some(g) => {
                    failed.insert((name(g), c.wallet));
                }
            }
        }
    }
    let mut failed_gate_ever: BTreeMap<String, usize> = BTreeMap::new();
    for (g, _) in failed {
        *failed_gate_ever.entry(g).or_default() += 1;
    }
    let mut failing: BTreeMap<String, usize> = BTreeMap::new();
    let mut eligible = 0;
    let mut scored = 0;
    for rows in held.values() {
        let Some(s) = rows.iter().filter(|(_, d)| **d > 0).map(|(s, _)| *s).next() else { continue };
        scored += 1;
        match &s.gate {
            None => eligible += 1,
            Some(g) => *failing.entry(name(g)).or_default() += 1,
        }
    }
    Eligibility {
        wallets_scored: scored,
        eligible_at_end: eligible,
        ever_eligible: ever.len(),
        failing_gate_at_end: failing,
        failed_gate_ever,
    }
}
