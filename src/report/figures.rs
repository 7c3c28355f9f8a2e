//! A strategy's execution figures beside its returns: what it paid (fees),
//! how much it traded (turnover), how exposed it was, how long signals took
//! to become fills, what its copies paid over the leader's price, and which
//! gates kept it out of trades.

use std::collections::BTreeMap;

use dataflows::feed::Input;
use dataflows::model::{Address, Decision, IntentKind, OrderIntent, Side, Signal, TimeMs, Token};
use serde::Serialize;

use super::equity::Exposure;
use super::stats::Stat;
use crate::executor::paper::Execution;

/// Exposure as fractions of the account value at the same time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExposureStats {
    /// Time-weighted mean of gross exposure / equity (1.0 = the account's value).
    pub average_gross: Stat,
    /// Time-weighted mean of net (long − short) exposure / equity.
    pub average_net: Stat,
    pub max_gross: Stat,
}

/// Time-weighted exposure over the samples (each holds until the next).
pub fn exposure(samples: &[Exposure]) -> ExposureStats {
    let none = Stat::NotApplicable("no account reports");
    if samples.len() < 2 {
        return ExposureStats { average_gross: none, average_net: none, max_gross: none };
    }
    let (mut gross, mut net, mut span, mut max) = (0.0, 0.0, 0.0, 0.0f64);
    for w in samples.windows(2) {
        let dt = w[1].time_ms.saturating_sub(w[0].time_ms) as f64;
        if w[0].equity > 0.0 {
            gross += w[0].gross / w[0].equity * dt;
            net += w[0].net / w[0].equity * dt;
            span += dt;
        }
    }
    for s in samples.iter().filter(|s| s.equity > 0.0) {
        max = max.max(s.gross / s.equity);
    }
    let why = "the account reported no time span";
    ExposureStats {
        average_gross: ratio(gross, span, why),
        average_net: ratio(net, span, why),
        max_gross: Stat::Value(max),
    }
}

fn ratio(a: f64, b: f64, why: &'static str) -> Stat {
    if b > 0.0 && (a / b).is_finite() { Stat::Value(a / b) } else { Stat::NotApplicable(why) }
}

/// Percentiles of a sample (nearest rank).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Percentiles {
    pub count: usize,
    pub p50: Stat,
    pub p90: Stat,
    pub p99: Stat,
    pub max: Stat,
    pub mean: Stat,
}

pub fn percentiles(mut xs: Vec<f64>, why: &'static str) -> Percentiles {
    xs.retain(|x| x.is_finite());
    xs.sort_by(f64::total_cmp);
    let rank = |q: f64| -> Stat {
        if xs.is_empty() {
            return Stat::NotApplicable(why);
        }
        let i = ((q * xs.len() as f64).ceil() as usize).clamp(1, xs.len()) - 1;
        Stat::Value(xs[i])
    };
    let mean = if xs.is_empty() {
        Stat::NotApplicable(why)
    } else {
        Stat::Value(xs.iter().fold(0.0, |a, b| a + b) / xs.len() as f64)
    };
    Percentiles { count: xs.len(), p50: rank(0.5), p90: rank(0.9), p99: rank(0.99), max: rank(1.0), mean }
}

/// How far back a copy's leader fill may be: the copy delay (15 minutes by
/// default) and the confirmation, with room; an older fill is another trade.
const LEADER_WINDOW_MS: TimeMs = 2 * 3_600_000;

/// Each tracked wallet's fills by token, in time order: (time, price), for
/// the leader's price a copy is compared with.
#[derive(Debug, Default)]
pub struct LeaderFills {
    fills: BTreeMap<(Address, Token), Vec<LeaderFill>>,
}

/// A leader's fill: time, price, side.
type LeaderFill = (TimeMs, f64, Side);

impl LeaderFills {
    pub fn of(inputs: &[Input]) -> LeaderFills {
        let mut fills: BTreeMap<(Address, Token), Vec<LeaderFill>> = BTreeMap::new();
        for i in inputs {
            if let Input::Fill(f) = i {
                fills.entry((f.wallet, f.token)).or_default().push((f.time_ms, f.price.to_f64(), f.side));
            }
        }
        for v in fills.values_mut() {
            v.sort_by_key(|a| a.0);
        }
        LeaderFills { fills }
    }

    /// The wallet's last `side` fill in `token` within [`t` − `LEADER_WINDOW_MS`, `t`].
    fn price(&self, wallet: Address, token: Token, side: Side, t: TimeMs) -> Option<f64> {
        let v = self.fills.get(&(wallet, token))?;
        let end = v.partition_point(|x| x.0 <= t);
        let start = v.partition_point(|x| x.0 < t.saturating_sub(LEADER_WINDOW_MS));
        v[start..end].iter().rev().find(|x| x.2 == side).map(|x| x.1)
    }
}

/// What one strategy's orders did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExecutionStats {
    pub fees_paid_usd: String,
    /// Notional of every fill (USD).
    pub traded_notional_usd: Stat,
    /// Traded notional over the mean account value.
    pub turnover: Stat,
    /// From the decision to the fill, ms.
    pub signal_to_fill_ms: Percentiles,
    /// Entries that copy a wallet: our fill price against the leader's, in basis
    /// points, positive when we paid more (bought higher, sold lower).
    pub copy_slippage_vs_leader_bps: Percentiles,
    /// Skip decisions by the gate that refused.
    pub skipped_by_gate: BTreeMap<String, u64>,
}

pub fn execution(
    intents: &[&OrderIntent],
    executions: &BTreeMap<dataflows::model::IntentId, Execution>,
    signals: &[&Signal],
    leaders: &LeaderFills,
    mean_equity: Option<f64>,
) -> ExecutionStats {
    let mut fees = dataflows::model::Usd::ZERO;
    let mut notional = 0.0;
    let mut latency = Vec::new();
    let mut slippage = Vec::new();
    for i in intents {
        let Some(e) = executions.get(&i.id) else { continue };
        let (Some(t), Some(px)) = (e.time_ms, e.price) else { continue };
        if !e.size.is_positive() {
            continue;
        }
        fees = fees.checked_add(e.fee).unwrap_or(fees);
        let px = px.to_f64();
        notional += px * e.size.to_f64();
        latency.push(t.saturating_sub(i.time_ms) as f64);
        let entry = matches!(i.kind, IntentKind::Open | IntentKind::Increase);
        if entry
            && let Some(a) = i.attribution.first()
            && let Some(lead) = leaders.price(a.wallet, i.token, i.side, i.time_ms)
            && lead > 0.0
        {
            let sign = if i.side == Side::Buy { 1.0 } else { -1.0 };
            slippage.push(sign * (px - lead) / lead * 10_000.0);
        }
    }
    let mut skipped = BTreeMap::new();
    for s in signals.iter().filter(|s| s.decision == Decision::Skip) {
        *skipped.entry(s.gate.clone()).or_default() += 1;
    }
    let turnover = match mean_equity {
        Some(m) if m > 0.0 => Stat::Value(notional / m),
        _ => Stat::NotApplicable("no account value"),
    };
    ExecutionStats {
        fees_paid_usd: fees.to_string(),
        traded_notional_usd: Stat::Value(notional),
        turnover,
        signal_to_fill_ms: percentiles(latency, "no fills"),
        copy_slippage_vs_leader_bps: percentiles(slippage, "no entry copied a wallet's fill"),
        skipped_by_gate: skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank_and_say_why_when_empty() {
        let p = percentiles((1..=100).map(f64::from).collect(), "none");
        assert_eq!(
            (p.p50, p.p90, p.p99, p.max),
            (Stat::Value(50.0), Stat::Value(90.0), Stat::Value(99.0), Stat::Value(100.0))
        );
        assert_eq!(p.mean, Stat::Value(50.5));
        let e = percentiles(vec![f64::NAN], "no fills");
        assert_eq!((e.count, e.p50), (0, Stat::NotApplicable("no fills")));
    }

    #[test]
    fn exposure_is_time_weighted_against_the_account_value() {
        let s = |t, gross, net| Exposure { time_ms: t, gross, net, equity: 100.0 };
        // 50 % gross for 3 h, then 200 % gross (net short 100 %) for 1 h.
        let x = exposure(&[s(0, 50.0, 50.0), s(3, 200.0, -100.0), s(4, 0.0, 0.0)]);
        assert_eq!(x.average_gross, Stat::Value((0.5 * 3.0 + 2.0) / 4.0));
        assert_eq!(x.average_net, Stat::Value((0.5 * 3.0 - 1.0) / 4.0));
        assert_eq!(x.max_gross, Stat::Value(2.0));
        assert_eq!(exposure(&[]).max_gross, Stat::NotApplicable("no account reports"));
    }
}
