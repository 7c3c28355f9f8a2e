//! Cluster-aware per-token consensus and its signal gate (strategy-rules.md
//! §8, §9, §14; decisions.md 6 and 10), as pure functions: the dataflow keeps
//! one [`TokenConsensus`] per token and walks each token's [`Gate`] in time
//! order; the reference recomputation calls the same functions.

use serde::{Deserialize, Serialize};

use crate::config::ConsensusConfig;
use crate::model::{
    Address, Fixed, HOUR_MS, MINUTE_MS, NumError, PositionSide, Price, Ratio, Rounding, TimeMs, Token, Usd,
};

use super::math;

/// One tracked position's vote, with what the filters and weights read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Vote {
    pub wallet: Address,
    /// The wallet's copy cluster (its own address when alone).
    pub cluster: Address,
    pub side: PositionSide,
    /// |position value| in USD.
    pub value: Usd,
    /// The trader's account value (the positions endpoint's).
    pub account_value: Usd,
    pub entry_price: Price,
    pub leverage: Ratio,
    /// The position's last Open/Add/Reduce fill, or when we first saw it.
    pub last_action: TimeMs,
    /// The vote's weight: the trader's score, or allocation weight (decisions.md 10).
    pub weight: Ratio,
}

/// The verdict for a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    StrongLong,
    StrongShort,
    Mixed,
}

impl Verdict {
    /// The side a strong verdict agrees on.
    pub const fn side(self) -> Option<PositionSide> {
        match self {
            Verdict::StrongLong => Some(PositionSide::Long),
            Verdict::StrongShort => Some(PositionSide::Short),
            Verdict::Mixed => None,
        }
    }
}

/// One side's tally.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SideTally {
    pub traders: u32,
    pub clusters: u32,
    pub volume_usd: Usd,
    pub weighted_volume: Fixed,
    /// Value-weighted average entry price of the side's positions (the gate's reference).
    pub avg_entry: Option<Price>,
    /// Value-weighted average leverage (the leverage a consensus entry passes on).
    pub avg_leverage: Option<Ratio>,
    /// Each counted vote: (wallet, cluster, weighted volume) — the attribution.
    pub voters: Vec<(Address, Address, Fixed)>,
}

/// `TokenConsensus` (§8.1 step 8).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TokenConsensus {
    pub token: Token,
    pub verdict: Verdict,
    pub long: SideTally,
    pub short: SideTally,
}

impl TokenConsensus {
    pub fn side(&self, side: PositionSide) -> &SideTally {
        match side {
            PositionSide::Long => &self.long,
            PositionSide::Short => &self.short,
        }
    }
}

/// `exp(−hours / τ)` (§8.1 step 4; τ is a time constant, not a half-life).
pub fn freshness(last_action: TimeMs, now: TimeMs, tau_hours: Ratio) -> Result<Ratio, NumError> {
    let ms = now.saturating_sub(last_action);
    let hours = Fixed::from_int(ms as i64).checked_div_int(HOUR_MS as i64)?;
    Ok(Ratio::new(math::exp(hours.checked_div(tau_hours.fixed())?.neg())?))
}

/// Whether a vote counts (§8.1 steps 1–2): value ≥ the token's threshold and
/// weight (value / account) ≥ the minimum. Unknown and blacklisted wallets never
/// reach here (only tiered, hence eligible, wallets vote).
pub fn counts(v: &Vote, token: &Token, cfg: &ConsensusConfig) -> Result<bool, NumError> {
    if v.value < cfg.size_threshold_usd.get(token) {
        return Ok(false);
    }
    if !v.account_value.is_positive() {
        return Ok(false);
    }
    Ok(v.value.ratio_to(v.account_value)? >= cfg.min_position_weight)
}

fn weighted_average(pairs: &[(Usd, Fixed)]) -> Result<Option<Fixed>, NumError> {
    let total = Usd::checked_sum(pairs.iter().map(|(v, _)| *v))?;
    if !total.is_positive() {
        return Ok(None);
    }
    let mut acc = Fixed::ZERO;
    for (v, x) in pairs {
        acc = acc.checked_add(x.checked_mul_div(v.fixed(), total.fixed(), Rounding::HalfEven)?)?;
    }
    Ok(Some(acc))
}

/// The consensus of `token` at `now` over its votes (§8.1).
pub fn token_consensus(
    token: Token,
    votes: &[Vote],
    cfg: &ConsensusConfig,
    now: TimeMs,
) -> Result<TokenConsensus, NumError> {
    let mut sides = [SideTally::default(), SideTally::default()];
    for (i, side) in [PositionSide::Long, PositionSide::Short].into_iter().enumerate() {
        let mut wallets = std::collections::BTreeSet::new();
        let mut clusters = std::collections::BTreeSet::new();
        let mut entries = Vec::new();
        let mut leverages = Vec::new();
        let t = &mut sides[i];
        for v in votes.iter().filter(|v| v.side == side) {
            if !counts(v, &token, cfg)? {
                continue;
            }
            let fresh = freshness(v.last_action, now, cfg.freshness_time_constant_hours)?;
            let w = v.value.fixed().checked_mul(fresh.fixed())?.checked_mul(v.weight.fixed())?;
            wallets.insert(v.wallet);
            clusters.insert(v.cluster);
            t.volume_usd = t.volume_usd.checked_add(v.value)?;
            t.weighted_volume = t.weighted_volume.checked_add(w)?;
            t.voters.push((v.wallet, v.cluster, w));
            entries.push((v.value, v.entry_price.fixed()));
            leverages.push((v.value, v.leverage.fixed()));
        }
        t.voters.sort();
        t.traders = wallets.len() as u32;
        t.clusters = clusters.len() as u32;
        t.avg_entry = weighted_average(&entries)?.map(Price::new);
        t.avg_leverage = weighted_average(&leverages)?.map(Ratio::new);
    }
    let [long, short] = sides;
    let dominates = |a: &SideTally, b: &SideTally| -> Result<bool, NumError> {
        Ok(a.clusters >= cfg.min_clusters
            && a.weighted_volume > b.weighted_volume.checked_mul(cfg.volume_dominance_ratio.fixed())?)
    };
    let verdict = if dominates(&long, &short)? {
        Verdict::StrongLong
    } else if dominates(&short, &long)? {
        Verdict::StrongShort
    } else {
        Verdict::Mixed
    };
    Ok(TokenConsensus { token, verdict, long, short })
}

/// A strong consensus waiting out its confirmation window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Pending {
    pub side: PositionSide,
    pub detected_at: TimeMs,
    /// Value-weighted average entry of the agreeing positions at detection.
    pub reference_price: Price,
}

/// What the gate did at one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum GateEvent {
    /// A window opened (`CONSENSUS_PENDING`).
    Armed(Pending),
    /// The consensus broke (or flipped) during the window (`CANCELLED_CONSENSUS_BROKE`).
    Cancelled { pending: Pending, flipped: bool },
    /// The price moved too far from the reference (`SKIP_SLIPPAGE_EXCEEDED`).
    Rejected { pending: Pending, price: Price, slippage_percent: Ratio },
    /// Confirmed: an entry signal (`CONSENSUS_CONFIRMED`).
    Confirmed { pending: Pending, price: Price, slippage_percent: Ratio },
}

/// The confirmation window of one token (§9, decisions.md 10). After a
/// confirmation the gate stays quiet while the same strong consensus lasts
/// (one entry per consensus); it re-arms once the consensus breaks or flips.
/// After a rejection it re-arms at the next strong update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct Gate {
    pub pending: Option<Pending>,
    /// The side of the last confirmed entry while its consensus holds.
    pub fired: Option<PositionSide>,
    /// Rejected: no new window until the consensus row changes again.
    pub awaiting_update: bool,
}

impl Gate {
    /// One step at `now` with the token's consensus (`updated` when this step
    /// brought a new consensus row) and its price (`None` when there is no
    /// fresh price: a pending signal waits, nothing is decided on a stale
    /// price). Whether a window opens depends on the facts, never on how often
    /// the gate is stepped.
    pub fn step(
        &mut self,
        consensus: Option<&TokenConsensus>,
        updated: bool,
        price: Option<Price>,
        now: TimeMs,
        cfg: &ConsensusConfig,
    ) -> Result<Vec<GateEvent>, NumError> {
        let verdict = consensus.map(|c| c.verdict).unwrap_or(Verdict::Mixed);
        let mut out = Vec::new();
        if self.fired.is_some() && self.fired != verdict.side() {
            self.fired = None;
        }
        let Some(side) = verdict.side() else {
            self.awaiting_update = false;
            if let Some(p) = self.pending.take() {
                out.push(GateEvent::Cancelled { pending: p, flipped: false });
            }
            return Ok(out);
        };
        if let Some(p) = self.pending.filter(|p| p.side != side) {
            self.pending = None;
            out.push(GateEvent::Cancelled { pending: p, flipped: true });
        }
        if self.fired.is_some() {
            return Ok(out);
        }
        let Some(p) = self.pending else {
            if self.awaiting_update && !updated {
                return Ok(out);
            }
            self.awaiting_update = false;
            let reference = consensus.and_then(|c| c.side(side).avg_entry);
            if let Some(reference_price) = reference {
                let p = Pending { side, detected_at: now, reference_price };
                self.pending = Some(p);
                out.push(GateEvent::Armed(p));
            }
            return Ok(out);
        };
        if now.saturating_sub(p.detected_at) < cfg.copy_delay_minutes * MINUTE_MS {
            return Ok(out);
        }
        let Some(price) = price else { return Ok(out) };
        let slippage_percent = p.reference_price.abs_change_percent(price)?;
        self.pending = None;
        if slippage_percent > cfg.max_price_slippage_percent {
            self.awaiting_update = true;
            out.push(GateEvent::Rejected { pending: p, price, slippage_percent });
        } else {
            self.fired = Some(side);
            out.push(GateEvent::Confirmed { pending: p, price, slippage_percent });
        }
        Ok(out)
    }
}

/// How a confirmed consensus entry is sent (§14), its age counted from the end
/// of the confirmation window (decisions.md 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EntryOrder {
    /// Market (aggressive IOC) with the market slippage bound.
    Market,
    /// Limit at the current price.
    Limit,
    /// Too old, or drifted too far for a limit (`SKIP_TOO_OLD`, `SKIP_STALE_HIGH_SLIPPAGE`).
    Skip(&'static str),
}

/// `select_order_type` for a consensus entry (§14).
pub fn entry_order(age_ms: u64, drift_percent: Ratio, cfg: &ConsensusConfig) -> EntryOrder {
    if age_ms < cfg.market_max_age_minutes * MINUTE_MS {
        EntryOrder::Market
    } else if age_ms < cfg.limit_max_age_minutes * MINUTE_MS {
        if drift_percent < cfg.limit_drift_percent {
            EntryOrder::Limit
        } else {
            EntryOrder::Skip("SKIP_STALE_HIGH_SLIPPAGE")
        }
    } else {
        EntryOrder::Skip("SKIP_TOO_OLD")
    }
}

/// The consensus strategy's base notional (seed 000 `calculate_entry_size`,
/// decisions.md 6): `account × base fraction × copy ratio × min(max scale,
/// agreeing clusters / divisor)`; no ROI tier, no leverage penalty (the risk
/// module applies it once).
pub fn base_notional(account: Usd, clusters: u32, copy_ratio: Ratio, cfg: &ConsensusConfig) -> Result<Usd, NumError> {
    let scale = Fixed::from_int(i64::from(clusters))
        .checked_div_int(i64::from(cfg.cluster_scale_divisor.max(1)))?
        .min(cfg.cluster_scale_max.fixed());
    account.checked_mul_ratio(cfg.base_fraction)?.checked_mul_ratio(copy_ratio)?.checked_mul_ratio(Ratio::new(scale))
}

#[cfg(test)]
mod tests {
    //! Seed 000 phases 3 and 4's named tests.
    use super::*;

    const NOW: TimeMs = 1_700_000_000_000;

    fn addr(n: u8) -> Address {
        Address::from_bytes([n; 20])
    }
    fn btc() -> Token {
        Token::parse("BTC").unwrap()
    }
    fn vote(n: u8, cluster: u8, side: PositionSide, value: i64) -> Vote {
        Vote {
            wallet: addr(n),
            cluster: addr(cluster),
            side,
            value: Usd::from_int(value),
            account_value: Usd::from_int(value * 4),
            entry_price: Price::from_int(100),
            leverage: Ratio::from_int(3),
            last_action: NOW,
            weight: Ratio::ONE,
        }
    }
    fn verdict(votes: &[Vote]) -> Verdict {
        token_consensus(btc(), votes, &ConsensusConfig::default(), NOW).unwrap().verdict
    }
    use PositionSide::{Long, Short};

    #[test]
    fn three_traders_long_with_two_to_one_volume_is_strong_long() {
        let votes = [
            vote(1, 1, Long, 100_000),
            vote(2, 2, Long, 100_000),
            vote(3, 3, Long, 100_000),
            vote(4, 4, Short, 140_000),
        ];
        assert_eq!(verdict(&votes), Verdict::StrongLong);
        // Exactly 2:1 is not dominance (strict).
        let votes = [
            vote(1, 1, Long, 100_000),
            vote(2, 2, Long, 100_000),
            vote(3, 3, Long, 100_000),
            vote(4, 4, Short, 150_000),
        ];
        assert_eq!(verdict(&votes), Verdict::Mixed);
    }

    #[test]
    fn two_long_two_short_is_mixed() {
        let votes =
            [vote(1, 1, Long, 60_000), vote(2, 2, Long, 60_000), vote(3, 3, Short, 60_000), vote(4, 4, Short, 60_000)];
        assert_eq!(verdict(&votes), Verdict::Mixed);
    }

    #[test]
    fn three_traders_in_one_cluster_are_not_strong() {
        let votes = [vote(1, 1, Long, 100_000), vote(2, 1, Long, 100_000), vote(3, 1, Long, 100_000)];
        assert_eq!(verdict(&votes), Verdict::Mixed);
        let c = token_consensus(btc(), &votes, &ConsensusConfig::default(), NOW).unwrap();
        assert_eq!((c.long.traders, c.long.clusters), (3, 1));
    }

    #[test]
    fn stale_positions_decay_to_mixed_against_a_fresh_short() {
        let mut votes = vec![vote(1, 1, Long, 100_000), vote(2, 2, Long, 100_000), vote(3, 3, Long, 100_000)];
        for v in &mut votes {
            v.last_action = NOW - 48 * HOUR_MS; // freshness e^-12
        }
        votes.push(vote(4, 4, Short, 60_000));
        assert_eq!(verdict(&votes), Verdict::Mixed);
        let f = freshness(NOW - 4 * HOUR_MS, NOW, Ratio::from_int(4)).unwrap();
        assert_eq!(f.fixed().round_dp(6, Rounding::HalfEven).unwrap(), Fixed::parse("0.367879").unwrap());
    }

    #[test]
    fn low_weight_and_small_positions_are_filtered() {
        let mut votes = vec![vote(1, 1, Long, 100_000), vote(2, 2, Long, 100_000), vote(3, 3, Long, 100_000)];
        votes[2].account_value = Usd::from_int(1_000_001); // weight < 10 %
        let c = token_consensus(btc(), &votes, &ConsensusConfig::default(), NOW).unwrap();
        assert_eq!((c.verdict, c.long.traders), (Verdict::Mixed, 2));
        votes[2].account_value = Usd::from_int(1_000_000); // exactly 10 % passes
        assert_eq!(verdict(&votes), Verdict::StrongLong);
        votes[2].value = Usd::from_int(49_999);
        votes[2].account_value = Usd::from_int(100_000);
        assert_eq!(verdict(&votes), Verdict::Mixed, "BTC needs 50 000");
    }

    #[test]
    fn adding_to_the_majority_never_weakens() {
        let mut votes = vec![
            vote(1, 1, Long, 100_000),
            vote(2, 2, Long, 100_000),
            vote(3, 3, Long, 100_000),
            vote(4, 4, Short, 100_000),
        ];
        assert_eq!(verdict(&votes), Verdict::StrongLong);
        votes.push(vote(5, 5, Long, 50_000));
        assert_eq!(verdict(&votes), Verdict::StrongLong);
    }

    fn strong(side: PositionSide, entry: i64) -> TokenConsensus {
        let mut c = TokenConsensus {
            token: btc(),
            verdict: if side == Long { Verdict::StrongLong } else { Verdict::StrongShort },
            long: SideTally::default(),
            short: SideTally::default(),
        };
        let t = if side == Long { &mut c.long } else { &mut c.short };
        t.avg_entry = Some(Price::from_int(entry));
        t.clusters = 3;
        c
    }

    fn px(s: &str) -> Option<Price> {
        Some(Price::parse(s).unwrap())
    }

    #[test]
    fn gate_confirms_after_15_minutes_within_2_percent() {
        let cfg = ConsensusConfig::default();
        let mut g = Gate::default();
        let c = strong(Long, 100);
        assert!(matches!(g.step(Some(&c), true, px("100"), NOW, &cfg).unwrap()[..], [GateEvent::Armed(_)]));
        // Re-checked at 14 min: still pending.
        assert!(g.step(Some(&c), true, px("101"), NOW + 14 * MINUTE_MS, &cfg).unwrap().is_empty());
        assert!(g.pending.is_some());
        // Exactly 15 min and exactly 2.0 %: confirmed.
        let out = g.step(Some(&c), true, px("102"), NOW + 15 * MINUTE_MS, &cfg).unwrap();
        assert!(matches!(out[..], [GateEvent::Confirmed { .. }]), "{out:?}");
        // The same consensus does not fire twice.
        assert!(g.step(Some(&c), true, px("100"), NOW + 60 * MINUTE_MS, &cfg).unwrap().is_empty());
    }

    #[test]
    fn gate_rejects_a_move_over_2_percent_then_rearms() {
        let cfg = ConsensusConfig::default();
        let mut g = Gate::default();
        let c = strong(Long, 100);
        g.step(Some(&c), true, px("100"), NOW, &cfg).unwrap();
        let out = g.step(Some(&c), true, px("102.01"), NOW + 15 * MINUTE_MS, &cfg).unwrap();
        assert!(matches!(out[..], [GateEvent::Rejected { .. }]), "{out:?}");
        let out = g.step(Some(&c), false, px("102.01"), NOW + 16 * MINUTE_MS, &cfg).unwrap();
        assert!(out.is_empty(), "no new window without a new consensus row: {out:?}");
        let out = g.step(Some(&c), true, px("102.01"), NOW + 17 * MINUTE_MS, &cfg).unwrap();
        assert!(matches!(out[..], [GateEvent::Armed(_)]), "re-arms at the next strong update: {out:?}");
    }

    #[test]
    fn gate_cancels_when_consensus_breaks_and_restarts_on_a_flip() {
        let cfg = ConsensusConfig::default();
        let mut g = Gate::default();
        g.step(Some(&strong(Long, 100)), true, px("100"), NOW, &cfg).unwrap();
        let out = g.step(None, true, px("100"), NOW + 5 * MINUTE_MS, &cfg).unwrap();
        assert!(matches!(out[..], [GateEvent::Cancelled { flipped: false, .. }]));
        g.step(Some(&strong(Long, 100)), true, px("100"), NOW + 6 * MINUTE_MS, &cfg).unwrap();
        let out = g.step(Some(&strong(Short, 100)), true, px("100"), NOW + 7 * MINUTE_MS, &cfg).unwrap();
        assert!(matches!(
            out[..],
            [GateEvent::Cancelled { flipped: true, .. }, GateEvent::Armed(Pending { side: Short, .. })]
        ));
    }

    #[test]
    fn gate_waits_for_a_fresh_price() {
        let cfg = ConsensusConfig::default();
        let mut g = Gate::default();
        let c = strong(Short, 100);
        g.step(Some(&c), true, None, NOW, &cfg).unwrap();
        assert!(g.step(Some(&c), true, None, NOW + 20 * MINUTE_MS, &cfg).unwrap().is_empty());
        assert!(matches!(
            g.step(Some(&c), true, px("99"), NOW + 21 * MINUTE_MS, &cfg).unwrap()[..],
            [GateEvent::Confirmed { .. }]
        ));
    }

    #[test]
    fn order_type_by_age_and_drift() {
        let cfg = ConsensusConfig::default();
        assert_eq!(entry_order(MINUTE_MS, Ratio::from_int(1), &cfg), EntryOrder::Market);
        assert_eq!(entry_order(2 * MINUTE_MS, Ratio::lit(2, 1), &cfg), EntryOrder::Limit);
        assert_eq!(entry_order(2 * MINUTE_MS, Ratio::lit(3, 1), &cfg), EntryOrder::Skip("SKIP_STALE_HIGH_SLIPPAGE"));
        assert_eq!(entry_order(10 * MINUTE_MS, Ratio::ZERO, &cfg), EntryOrder::Skip("SKIP_TOO_OLD"));
    }

    #[test]
    fn base_notional_scales_with_clusters() {
        let cfg = ConsensusConfig::default();
        let b = |n| base_notional(Usd::from_int(100_000), n, Ratio::lit(5, 1), &cfg).unwrap();
        assert_eq!(b(3), Usd::from_int(2_500));
        assert_eq!(b(9), Usd::from_int(5_000), "capped at 2×");
    }
}
