//! Who trades in the simulated world, and how. Each wallet has one persona with
//! its own habits; "skill" is modelled as foresight: a skilled trader picks the
//! direction the price will actually take over its holding period with a given
//! accuracy, so its edge is real and measurable, while a lucky gambler's high win
//! rate comes from tiny take-profits and wide stops until it blows up.

use serde::Serialize;

use super::rng::SimRng;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonaKind {
    /// Quotes both sides: the counterparty of every taker fill.
    MarketMaker,
    /// Swing trader with a real edge (hours to a day).
    Skilled,
    /// Position trader with a real edge (days to weeks).
    PositionTrader,
    /// High early win rate from tight profits and wide stops; blows up.
    Gambler,
    /// Many short trades a day, almost no edge.
    Hft,
    /// 20–40× cross leverage, random direction: gets liquidated.
    OverLevered,
    /// Copies a leader's entries and exits within minutes.
    Follower,
    /// Ordinary trader without an edge.
    Retail,
    /// Traded from outside the simulation (mirrorflow's own account).
    External,
}

#[derive(Debug, Clone)]
pub struct Persona {
    pub kind: PersonaKind,
    pub label: Option<String>,
    /// Probability of picking the direction the price takes over the hold.
    pub accuracy: f64,
    pub round_trips_per_day: f64,
    /// Holding period, hours, uniform in this range.
    pub hold_hours: (f64, f64),
    /// Notional of one position as a multiple of equity.
    pub exposure: f64,
    pub max_concurrent: usize,
    pub leverage: u32,
    pub isolated: bool,
    /// Indices of the tokens it trades.
    pub tokens: Vec<usize>,
    /// Take profit / stop loss as fractions of the entry price.
    pub take_profit: Option<f64>,
    pub stop_loss: Option<f64>,
    /// Trades through a builder front-end that charges a builder fee.
    pub builder: bool,
    /// Probability of reducing half the position before closing it.
    pub reduce_chance: f64,
    pub initial_deposit: f64,
    /// For a follower: its leader and the copy delay range (ms).
    pub leader: Option<usize>,
    pub follow_delay_ms: (u64, u64),
    pub followers: Vec<usize>,
}

impl Persona {
    fn base(kind: PersonaKind, tokens: Vec<usize>) -> Persona {
        Persona {
            kind,
            label: None,
            accuracy: 0.5,
            round_trips_per_day: 1.0,
            hold_hours: (1.0, 24.0),
            exposure: 0.5,
            max_concurrent: 1,
            leverage: 3,
            isolated: false,
            tokens,
            take_profit: None,
            stop_loss: None,
            builder: false,
            reduce_chance: 0.0,
            initial_deposit: 10_000.0,
            leader: None,
            follow_delay_ms: (60_000, 480_000),
            followers: Vec::new(),
        }
    }

    /// Whether its label makes it "smart money" for Nansen's feeds.
    pub fn is_smart_money(&self) -> bool {
        self.label.as_deref().is_some_and(|l| {
            let l = l.to_lowercase();
            l.contains("smart") || l.contains("fund")
        })
    }
}

/// How many wallets of each kind a world of `n` wallets has (300 → 5 market
/// makers, 50 skilled, 25 position traders, 40 gamblers, 15 HFT, 30 over-levered,
/// 8 copy clusters with 24 followers, and retail for the rest).
fn mix(n: usize) -> Vec<(PersonaKind, usize)> {
    let scaled = |per300: usize, min: usize| ((n * per300 + 150) / 300).max(min).min(n);
    let mut out = vec![
        (PersonaKind::MarketMaker, scaled(5, 2)),
        (PersonaKind::Skilled, scaled(50, 2)),
        (PersonaKind::PositionTrader, scaled(25, 1)),
        (PersonaKind::Gambler, scaled(40, 1)),
        (PersonaKind::Hft, scaled(15, 1)),
        (PersonaKind::OverLevered, scaled(30, 1)),
        (PersonaKind::Follower, scaled(24, 0)),
    ];
    let used: usize = out.iter().map(|(_, c)| c).sum();
    out.push((PersonaKind::Retail, n.saturating_sub(used)));
    // Small worlds: trim from the end until the counts fit.
    let mut total: usize = out.iter().map(|(_, c)| c).sum();
    for entry in out.iter_mut().rev() {
        while total > n && entry.1 > 0 && entry.0 != PersonaKind::MarketMaker {
            entry.1 -= 1;
            total -= 1;
        }
    }
    out
}

/// Picks `k` distinct tokens, favouring the liquid ones at the front of the list.
fn token_set(rng: &mut SimRng, n_tokens: usize, count: (u64, u64), majors_first: bool) -> Vec<usize> {
    let k = rng.range_u64(count.0, count.1) as usize;
    let mut set = Vec::new();
    if majors_first {
        set.push(rng.range_u64(0, 1.min(n_tokens as u64 - 1)) as usize);
    }
    let mut guard = 0;
    while set.len() < k.min(n_tokens) && guard < 1000 {
        guard += 1;
        // Square of a uniform leans toward low indices (BTC, ETH, …).
        let i = ((rng.uniform().powi(2)) * n_tokens as f64) as usize;
        if !set.contains(&i) {
            set.push(i.min(n_tokens - 1));
        }
    }
    set.sort_unstable();
    set.dedup();
    set
}

/// An account with no behaviour of its own, funded with `usd`.
pub fn external(usd: f64) -> Persona {
    let mut p = Persona::base(PersonaKind::External, Vec::new());
    p.round_trips_per_day = 0.0;
    p.initial_deposit = usd;
    p
}

pub fn build(seed: u64, n_wallets: usize, n_tokens: usize) -> Vec<Persona> {
    let mut kinds = Vec::with_capacity(n_wallets);
    for (kind, count) in mix(n_wallets) {
        kinds.extend(std::iter::repeat_n(kind, count));
    }
    let mut personas: Vec<Persona> = kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            let mut rng = SimRng::derive(seed, "persona", i as u64);
            persona(*kind, &mut rng, n_tokens)
        })
        .collect();
    // Copy clusters: each leader is a skilled trader followed by 2–4 followers.
    let skilled: Vec<usize> =
        personas.iter().enumerate().filter(|(_, p)| p.kind == PersonaKind::Skilled).map(|(i, _)| i).collect();
    let followers: Vec<usize> =
        personas.iter().enumerate().filter(|(_, p)| p.kind == PersonaKind::Follower).map(|(i, _)| i).collect();
    let mut rng = SimRng::derive(seed, "clusters", 0);
    let mut fi = 0;
    let mut li = 0;
    while fi < followers.len() && !skilled.is_empty() {
        let leader = skilled[li % skilled.len()];
        li += 1;
        let group = rng.range_u64(2, 4) as usize;
        for _ in 0..group {
            if fi >= followers.len() {
                break;
            }
            let f = followers[fi];
            fi += 1;
            personas[f].leader = Some(leader);
            personas[f].tokens = personas[leader].tokens.clone();
            personas[leader].followers.push(f);
        }
    }
    personas
}

fn persona(kind: PersonaKind, rng: &mut SimRng, n_tokens: usize) -> Persona {
    use PersonaKind::*;
    let mut p = Persona::base(kind, Vec::new());
    p.builder = rng.chance(0.15);
    match kind {
        MarketMaker => {
            p.tokens = (0..n_tokens).collect();
            p.initial_deposit = rng.range(40e6, 80e6);
            p.leverage = 10;
            p.label = Some("Market Maker".into());
            p.builder = false;
        }
        Skilled => {
            p.tokens = token_set(rng, n_tokens, (3, 6), true);
            p.accuracy = rng.range(0.66, 0.74);
            p.round_trips_per_day = rng.range(1.6, 2.6);
            p.hold_hours = (5.0, 14.0);
            p.exposure = rng.range(0.45, 0.7);
            p.max_concurrent = 2;
            p.leverage = rng.range_u64(3, 5) as u32;
            p.isolated = rng.chance(0.6);
            p.reduce_chance = 0.2;
            p.initial_deposit = rng.log_uniform(200_000.0, 1_500_000.0);
            let r = rng.uniform();
            p.label = if r < 0.35 {
                Some("Smart HL Perps Trader".into())
            } else if r < 0.45 {
                Some("Fund".into())
            } else if r < 0.6 {
                Some("HL Perps Swing Trader".into())
            } else {
                None
            };
        }
        PositionTrader => {
            p.tokens = token_set(rng, n_tokens, (2, 4), true);
            p.accuracy = rng.range(0.6, 0.7);
            p.round_trips_per_day = rng.range(0.1, 0.2);
            p.hold_hours = (72.0, 400.0);
            p.exposure = rng.range(0.4, 0.8);
            p.max_concurrent = 2;
            p.leverage = rng.range_u64(2, 3) as u32;
            p.isolated = rng.chance(0.5);
            p.initial_deposit = rng.log_uniform(300_000.0, 3_000_000.0);
            p.label = if rng.chance(0.3) { Some("Fund".into()) } else { Some("HL Perps Whale".into()) };
        }
        Gambler => {
            p.tokens = token_set(rng, n_tokens, (3, 8), false);
            p.round_trips_per_day = rng.range(2.0, 5.0);
            p.hold_hours = (2.0, 48.0);
            p.exposure = rng.range(1.0, 3.0);
            p.leverage = rng.range_u64(8, 20) as u32;
            p.take_profit = Some(rng.range(0.004, 0.008));
            p.stop_loss = Some(rng.range(0.04, 0.08));
            p.initial_deposit = rng.log_uniform(20_000.0, 400_000.0);
            p.label = rng.chance(0.3).then(|| "High Activity".into());
        }
        Hft => {
            p.tokens = token_set(rng, n_tokens, (2, 4), true);
            p.accuracy = rng.range(0.5, 0.54);
            p.round_trips_per_day = rng.range(18.0, 30.0);
            p.hold_hours = (0.08, 0.5);
            p.exposure = rng.range(0.2, 0.6);
            p.max_concurrent = 1;
            p.leverage = rng.range_u64(2, 5) as u32;
            p.initial_deposit = rng.log_uniform(50_000.0, 500_000.0);
            p.label = Some("Trading Bot".into());
        }
        OverLevered => {
            p.tokens = token_set(rng, n_tokens, (1, 4), false);
            p.accuracy = 0.5;
            p.round_trips_per_day = rng.range(0.5, 2.0);
            p.hold_hours = (2.0, 36.0);
            p.exposure = rng.range(15.0, 30.0);
            p.leverage = rng.range_u64(20, 40) as u32;
            p.isolated = false;
            p.initial_deposit = rng.log_uniform(5_000.0, 150_000.0);
            p.label = rng.chance(0.2).then(|| "HL Perps Shark".into());
        }
        Follower => {
            p.accuracy = 0.5;
            p.round_trips_per_day = 0.0;
            p.exposure = rng.range(0.4, 0.7);
            p.max_concurrent = 3;
            p.leverage = rng.range_u64(3, 5) as u32;
            p.isolated = rng.chance(0.5);
            p.initial_deposit = rng.log_uniform(50_000.0, 600_000.0);
            p.follow_delay_ms = (60_000, 8 * 60_000);
            p.label = rng.chance(0.2).then(|| "HL Perps Whale".into());
        }
        External => return external(100_000.0),
        Retail => {
            p.tokens = token_set(rng, n_tokens, (1, 5), false);
            p.accuracy = rng.range(0.46, 0.52);
            p.round_trips_per_day = rng.range(0.2, 2.0);
            p.hold_hours = (1.0, 72.0);
            p.exposure = rng.range(0.3, 2.0);
            p.max_concurrent = rng.range_u64(1, 3) as usize;
            p.leverage = rng.range_u64(2, 10) as u32;
            p.isolated = rng.chance(0.4);
            p.reduce_chance = 0.1;
            p.initial_deposit = rng.log_uniform(1_000.0, 200_000.0);
            p.label = rng.chance(0.1).then(|| "Token Millionaire".into());
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_300_wallet_world_has_the_documented_mix() {
        let ps = build(1, 300, 30);
        assert_eq!(ps.len(), 300);
        let count = |k| ps.iter().filter(|p| p.kind == k).count();
        assert_eq!(count(PersonaKind::MarketMaker), 5);
        assert_eq!(count(PersonaKind::Skilled), 50);
        assert_eq!(count(PersonaKind::Follower), 24);
        let clusters = ps.iter().filter(|p| !p.followers.is_empty()).count();
        assert!(clusters >= 6, "{clusters} clusters");
        for (i, p) in ps.iter().enumerate() {
            if let Some(l) = p.leader {
                assert!(ps[l].followers.contains(&i));
                assert_eq!(ps[l].kind, PersonaKind::Skilled);
            }
            assert!(p.kind == PersonaKind::Follower || !p.tokens.is_empty());
        }
    }

    #[test]
    fn small_worlds_still_fit() {
        for n in [10, 20, 50] {
            let ps = build(2, n, 5);
            assert_eq!(ps.len(), n);
            assert!(ps.iter().any(|p| p.kind == PersonaKind::MarketMaker));
        }
    }
}
