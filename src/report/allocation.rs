//! Allocation diagnostics (seed 003 phase 10): how much the PnL-weighted
//! allocation moved (weight turnover), how steady each trader's weight was
//! (stability), and whether its moves followed the traders' returns —
//! before the move (performance chasing) and after it (foresight).

use std::collections::BTreeMap;

use dataflows::feed::Input;
use dataflows::model::{Address, TimeMs};
use dataflows::replay::Change;
use dataflows::rules::allocation::Weights;
use serde::Serialize;

use super::stats::Stat;

/// The window a trader's return is measured over, before and after a weight change.
const WINDOW_MS: TimeMs = 7 * 86_400_000;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostics {
    /// Times the held weights changed.
    pub rebalances: usize,
    /// Mean over rebalances of half the sum of |weight change| (0: nothing
    /// moved, 1: everything replaced).
    pub weight_turnover: Stat,
    /// Mean over wallets of the standard deviation of their weight over the
    /// rebalances (absent = 0).
    pub weight_stability_std: Stat,
    /// Correlation of weight changes with the traders' returns over the 7 days
    /// before: positive is performance chasing.
    pub corr_with_prior_returns: Stat,
    /// Correlation of weight changes with the traders' returns over the 7 days
    /// after: positive means the moves anticipated performance.
    pub corr_with_subsequent_returns: Stat,
}

/// The held (final) weights after each time they changed.
fn snapshots(changes: &[Change<Weights>]) -> Vec<(TimeMs, BTreeMap<Address, f64>)> {
    let mut by_time: BTreeMap<TimeMs, Vec<&Change<Weights>>> = BTreeMap::new();
    for c in changes {
        by_time.entry(c.time_ms).or_default().push(c);
    }
    let mut held: BTreeMap<Address, f64> = BTreeMap::new();
    let mut out = Vec::new();
    for (t, cs) in by_time {
        for c in cs.iter().filter(|c| c.diff < 0) {
            held.remove(&c.wallet);
        }
        for c in cs.iter().filter(|c| c.diff > 0) {
            held.insert(c.wallet, c.value.final_weight.to_f64());
        }
        held.retain(|_, w| *w != 0.0);
        out.push((t, held.clone()));
    }
    out
}

/// Realised PnL over account value per wallet, between two times.
struct Returns {
    pnl: BTreeMap<Address, Vec<(TimeMs, f64)>>,
    value: BTreeMap<Address, Vec<(TimeMs, f64)>>,
}

impl Returns {
    fn of(inputs: &[Input]) -> Returns {
        let (mut pnl, mut value): (BTreeMap<Address, Vec<_>>, BTreeMap<Address, Vec<_>>) = Default::default();
        for i in inputs {
            match i {
                Input::Fill(f) => {
                    pnl.entry(f.wallet).or_default().push((f.time_ms, f.closed_pnl.to_f64() - f.fee.to_f64()))
                }
                Input::Account(a) => value.entry(a.wallet).or_default().push((a.time_ms, a.value.to_f64())),
                _ => {}
            }
        }
        for v in pnl.values_mut().chain(value.values_mut()) {
            v.sort_by_key(|x| x.0);
        }
        Returns { pnl, value }
    }

    /// The wallet's return over (from, to], against its account value at `at`.
    fn between(&self, w: Address, from: TimeMs, to: TimeMs, at: TimeMs) -> Option<f64> {
        let values = self.value.get(&w)?;
        let base = values[..values.partition_point(|x| x.0 <= at)].last().map(|x| x.1).filter(|v| *v > 0.0)?;
        let fills = self.pnl.get(&w).map(Vec::as_slice).unwrap_or(&[]);
        let (a, b) = (fills.partition_point(|x| x.0 <= from), fills.partition_point(|x| x.0 <= to));
        Some(fills[a..b].iter().map(|x| x.1).sum::<f64>() / base)
    }
}

fn correlation(pairs: &[(f64, f64)]) -> Stat {
    if pairs.len() < 3 {
        return Stat::NotApplicable("fewer than 3 weight changes with a known return");
    }
    let n = pairs.len() as f64;
    let (mx, my) = (pairs.iter().map(|p| p.0).sum::<f64>() / n, pairs.iter().map(|p| p.1).sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    let r = sxy / (sxx * syy).sqrt();
    if r.is_finite() { Stat::Value(r) } else { Stat::NotApplicable("no variance in the weight changes or the returns") }
}

pub fn diagnostics(changes: &[Change<Weights>], inputs: &[Input]) -> Diagnostics {
    let snaps = snapshots(changes);
    if snaps.len() < 2 {
        let none = Stat::NotApplicable("fewer than two allocations");
        return Diagnostics {
            rebalances: snaps.len(),
            weight_turnover: none,
            weight_stability_std: none,
            corr_with_prior_returns: none,
            corr_with_subsequent_returns: none,
        };
    }
    let returns = Returns::of(inputs);
    let mut turnover = 0.0;
    let (mut prior, mut after) = (Vec::new(), Vec::new());
    for w in snaps.windows(2) {
        let ((_, a), (t, b)) = (&w[0], &w[1]);
        let wallets: std::collections::BTreeSet<&Address> = a.keys().chain(b.keys()).collect();
        let mut moved = 0.0;
        for wallet in wallets {
            let dw = b.get(wallet).unwrap_or(&0.0) - a.get(wallet).unwrap_or(&0.0);
            moved += dw.abs();
            if dw != 0.0 {
                if let Some(r) = returns.between(*wallet, t.saturating_sub(WINDOW_MS), *t, *t) {
                    prior.push((dw, r));
                }
                if let Some(r) = returns.between(*wallet, *t, t + WINDOW_MS, *t) {
                    after.push((dw, r));
                }
            }
        }
        turnover += moved / 2.0;
    }
    let everyone: std::collections::BTreeSet<Address> = snaps.iter().flat_map(|(_, m)| m.keys().copied()).collect();
    let n = snaps.len() as f64;
    let mut stds = Vec::new();
    for w in &everyone {
        let xs: Vec<f64> = snaps.iter().map(|(_, m)| *m.get(w).unwrap_or(&0.0)).collect();
        let mean = xs.iter().sum::<f64>() / n;
        stds.push((xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt());
    }
    let stability = if stds.is_empty() {
        Stat::NotApplicable("no wallet was ever allocated")
    } else {
        Stat::Value(stds.iter().sum::<f64>() / stds.len() as f64)
    };
    Diagnostics {
        rebalances: snaps.len(),
        weight_turnover: Stat::Value(turnover / (snaps.len() - 1) as f64),
        weight_stability_std: stability,
        corr_with_prior_returns: correlation(&prior),
        corr_with_subsequent_returns: correlation(&after),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataflows::model::Ratio;

    fn change(t: TimeMs, w: u8, weight: &str, diff: i64) -> Change<Weights> {
        let r = Ratio::parse(weight).unwrap();
        Change {
            time_ms: t,
            wallet: Address::parse(&format!("0x{}", hex::encode([w; 20]))).unwrap(),
            value: Weights { raw: r, capped: r, final_weight: r },
            diff,
        }
    }

    #[test]
    fn turnover_and_stability_follow_the_held_weights() {
        // t=1: A 0.5, B 0.5; t=2: A 0.5 → 1.0, B leaves (half of |0.5|+|0.5| = 0.5 moved).
        let changes = [
            change(1, 1, "0.5", 1),
            change(1, 2, "0.5", 1),
            change(2, 1, "0.5", -1),
            change(2, 1, "1", 1),
            change(2, 2, "0.5", -1),
        ];
        let d = diagnostics(&changes, &[]);
        assert_eq!(d.rebalances, 2);
        assert_eq!(d.weight_turnover, Stat::Value(0.5));
        // A: 0.5, 1.0 → std 0.25; B: 0.5, 0 → 0.25.
        assert_eq!(d.weight_stability_std, Stat::Value(0.25));
        assert!(matches!(d.corr_with_prior_returns, Stat::NotApplicable(_)));
        assert!(matches!(diagnostics(&[], &[]).weight_turnover, Stat::NotApplicable(_)));
    }

    #[test]
    fn correlation_is_pearsons_and_defined_only_with_variance() {
        assert_eq!(correlation(&[(1.0, 2.0), (2.0, 4.0), (3.0, 6.0)]), Stat::Value(1.0));
        assert!(matches!(correlation(&[(1.0, 1.0), (1.0, 2.0), (1.0, 3.0)]), Stat::NotApplicable(_)));
    }
}
