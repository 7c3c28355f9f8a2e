//! The index strategy's target portfolio, risk overlay and rebalance diff
//! (strategy-rules.md §11, seed 002; decisions.md 7): tracked positions
//! weighted by the allocations, netted per token, scaled and truncated, then
//! the six-step overlay, then the banded diff against what we hold.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::{IndexConfig, RiskConfig};
use crate::model::{Address, Fixed, NumError, PositionSide, Ratio, Rounding, Token, Usd};

use super::risk::Exposure;

/// One tracked position's share of the index, as a fraction of *our* account:
/// `sign × value / trader account × copy ratio × allocation weight` (§11.1 step 2
/// with decisions.md 7's weights), and its leverage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Contribution {
    pub wallet: Address,
    pub fraction: Fixed,
    pub value: Usd,
    pub leverage: Ratio,
}

/// A tracked position's contribution (`None` when the trader's account is not positive).
pub fn contribution(
    wallet: Address,
    side: PositionSide,
    value: Usd,
    trader_account: Usd,
    leverage: Ratio,
    weight: Ratio,
    copy_ratio: Ratio,
) -> Result<Option<Contribution>, NumError> {
    if !trader_account.is_positive() || !weight.is_positive() {
        return Ok(None);
    }
    let f = value.ratio_to(trader_account)?.checked_mul(copy_ratio)?.checked_mul(weight)?.fixed();
    let fraction = if side == PositionSide::Long { f } else { f.neg() };
    Ok(Some(Contribution { wallet, fraction, value, leverage }))
}

/// A token's net line of the book: long minus short, and the value-weighted
/// leverage of the positions behind it (the leverage the overlay's step 6 uses),
/// and each wallet's signed share (the intents' attribution).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BookLine {
    pub net_fraction: Fixed,
    pub leverage: Ratio,
    pub contributors: Vec<(Address, Fixed)>,
}

/// Nets a token's contributions (decisions.md 7: one position per token).
pub fn book_line(contributions: &[Contribution]) -> Result<BookLine, NumError> {
    let mut net = Fixed::ZERO;
    let mut value = Fixed::ZERO;
    let mut lev = Fixed::ZERO;
    let mut contributors: BTreeMap<Address, Fixed> = BTreeMap::new();
    for c in contributions {
        let e = contributors.entry(c.wallet).or_insert(Fixed::ZERO);
        *e = e.checked_add(c.fraction)?;
        net = net.checked_add(c.fraction)?;
        value = value.checked_add(c.value.fixed())?;
        lev = lev.checked_add(c.leverage.fixed().checked_mul(c.value.fixed())?)?;
    }
    let leverage = if value.is_positive() { Ratio::new(lev.checked_div(value)?) } else { Ratio::ONE };
    Ok(BookLine { net_fraction: net, leverage, contributors: contributors.into_iter().collect() })
}

/// A target position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Target {
    pub side: PositionSide,
    pub usd: Usd,
    /// The computed leverage (capped by the risk module).
    pub leverage: Ratio,
}

fn scale_all(t: &mut BTreeMap<Token, Target>, side: Option<PositionSide>, limit: Usd) -> Result<(), NumError> {
    let sum = Usd::checked_sum(t.values().filter(|x| side.is_none_or(|s| x.side == s)).map(|x| x.usd))?;
    if sum > limit {
        for x in t.values_mut().filter(|x| side.is_none_or(|s| x.side == s)) {
            x.usd = Usd::new(x.usd.fixed().checked_mul_div(limit.fixed(), sum.fixed(), Rounding::TowardZero)?);
        }
    }
    Ok(())
}

/// The target portfolio (§11.1 in the plan's order, then the overlay §11.2).
pub fn targets(
    book: &BTreeMap<Token, BookLine>,
    account: Usd,
    risk: &RiskConfig,
) -> Result<BTreeMap<Token, Target>, NumError> {
    let mut t: BTreeMap<Token, Target> = BTreeMap::new();
    for (token, line) in book {
        let usd = Usd::new(line.net_fraction.abs()).checked_mul_ratio(Ratio::new(account.fixed()))?;
        let Some(side) = PositionSide::of(crate::model::Size::new(line.net_fraction)) else { continue };
        if usd.is_positive() {
            t.insert(*token, Target { side, usd, leverage: line.leverage });
        }
    }
    // Step 4: deploy at most the total exposure.
    scale_all(&mut t, None, account.checked_mul_ratio(risk.max_total_exposure_fraction)?)?;
    // Step 5: the largest `max_total_positions` (ties by token).
    let mut ranked: Vec<(Token, Target)> = t.into_iter().collect();
    ranked.sort_by(|a, b| b.1.usd.cmp(&a.1.usd).then(a.0.cmp(&b.0)));
    ranked.truncate(risk.max_total_positions as usize);
    let mut t: BTreeMap<Token, Target> = ranked.into_iter().collect();
    // Overlay 1–2: single and per-token caps.
    let single = account.checked_mul_ratio(risk.max_single_position_fraction)?.min(risk.max_single_position_usd);
    let per_token = account.checked_mul_ratio(risk.max_exposure_per_token_fraction)?;
    for x in t.values_mut() {
        x.usd = x.usd.min(single).min(per_token);
    }
    // Overlay 3–4: directional, then total.
    scale_all(&mut t, Some(PositionSide::Long), account.checked_mul_ratio(risk.max_long_exposure_fraction)?)?;
    scale_all(&mut t, Some(PositionSide::Short), account.checked_mul_ratio(risk.max_short_exposure_fraction)?)?;
    scale_all(&mut t, None, account.checked_mul_ratio(risk.max_total_exposure_fraction)?)?;
    // Overlay 6: leverage.
    for x in t.values_mut() {
        x.leverage = x.leverage.min(risk.max_leverage);
    }
    Ok(t)
}

/// One rebalance action (§11.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Action {
    /// Close the holding (no target, or the target is on the other side).
    Close,
    Decrease(Usd),
    Increase(Usd),
    Open(PositionSide, Usd),
}

impl Action {
    /// Execution order: closes, then adjustments, then opens.
    fn group(&self) -> u8 {
        match self {
            Action::Close => 0,
            Action::Decrease(_) | Action::Increase(_) => 1,
            Action::Open(..) => 2,
        }
    }
}

/// A change within the band that was skipped, with its relative size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Banded {
    pub token: Token,
    pub change: Ratio,
}

/// A rebalance: the actions in execution order (ties by token) and the
/// changes the band skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub actions: Vec<(Token, Action)>,
    pub banded: Vec<Banded>,
}

/// The diff of targets against holdings.
pub fn diff(
    targets: &BTreeMap<Token, Target>,
    holdings: &BTreeMap<Token, Exposure>,
    cfg: &IndexConfig,
) -> Result<Plan, NumError> {
    let mut out = Vec::new();
    let mut banded = Vec::new();
    for (token, h) in holdings {
        match targets.get(token) {
            None => out.push((*token, Action::Close)),
            Some(t) if t.side != h.side => {
                out.push((*token, Action::Close));
                out.push((*token, Action::Open(t.side, t.usd)));
            }
            Some(t) => {
                let delta = t.usd.checked_sub(h.value)?;
                let change = if h.value.is_positive() { delta.abs().ratio_to(h.value)? } else { Ratio::ONE };
                if change < cfg.rebalance_band {
                    banded.push(Banded { token: *token, change });
                } else if delta.is_positive() {
                    out.push((*token, Action::Increase(delta)));
                } else if delta.is_negative() {
                    out.push((*token, Action::Decrease(delta.abs())));
                }
            }
        }
    }
    for (token, t) in targets {
        if !holdings.contains_key(token) {
            out.push((*token, Action::Open(t.side, t.usd)));
        }
    }
    out.sort_by(|a, b| a.1.group().cmp(&b.1.group()).then(a.0.cmp(&b.0)));
    Ok(Plan { actions: out, banded })
}

/// Whether an increase goes out as a market order (`|delta| > threshold ×
/// current`; exactly the threshold is a limit). Everything else is market.
pub fn increase_is_market(delta: Usd, current: Usd, cfg: &IndexConfig) -> Result<bool, NumError> {
    Ok(delta.abs() > current.checked_mul_ratio(cfg.market_delta_threshold)?)
}

#[cfg(test)]
mod tests {
    //! Seed 002 phase 3's named tests.
    use super::*;

    fn tok(s: &str) -> Token {
        Token::parse(s).unwrap()
    }
    fn usd(n: i64) -> Usd {
        Usd::from_int(n)
    }
    fn line(f: &str) -> BookLine {
        BookLine { net_fraction: Fixed::parse(f).unwrap(), leverage: Ratio::from_int(3), contributors: vec![] }
    }
    fn book(lines: &[(&str, &str)]) -> BTreeMap<Token, BookLine> {
        lines.iter().map(|(t, f)| (tok(t), line(f))).collect()
    }

    #[test]
    fn single_position_cap_with_various_account_sizes() {
        let r = RiskConfig::default();
        let t = targets(&book(&[("BTC", "0.3")]), usd(100_000), &r).unwrap();
        assert_eq!(t[&tok("BTC")].usd, usd(10_000));
        let t = targets(&book(&[("BTC", "0.3")]), usd(1_000_000), &r).unwrap();
        assert_eq!(t[&tok("BTC")].usd, usd(50_000));
    }

    #[test]
    fn per_token_cap() {
        let r = RiskConfig {
            max_single_position_fraction: Ratio::ONE,
            max_single_position_usd: usd(10_000_000),
            ..Default::default()
        };
        let t = targets(&book(&[("ETH", "0.4")]), usd(100_000), &r).unwrap();
        assert_eq!(t[&tok("ETH")].usd, usd(15_000));
    }

    #[test]
    fn directional_cap_scales_an_all_long_portfolio() {
        let r = RiskConfig {
            max_single_position_fraction: Ratio::ONE,
            max_exposure_per_token_fraction: Ratio::ONE,
            max_total_exposure_fraction: Ratio::ONE,
            max_long_exposure_fraction: Ratio::lit(6, 1),
            ..Default::default()
        };
        let t = targets(&book(&[("A", "0.4"), ("B", "0.4")]), usd(100_000), &r).unwrap();
        assert_eq!((t[&tok("A")].usd, t[&tok("B")].usd), (usd(30_000), usd(30_000)));
    }

    #[test]
    fn total_exposure_cap_and_five_position_truncation() {
        let r = RiskConfig::default();
        let lines: Vec<(String, String)> = (0..8).map(|i| (format!("T{i}"), format!("0.0{}", i + 2))).collect();
        let b: BTreeMap<Token, BookLine> = lines.iter().map(|(t, f)| (tok(t), line(f))).collect();
        let t = targets(&b, usd(100_000), &r).unwrap();
        assert_eq!(t.len(), 5);
        assert!(t.contains_key(&tok("T7")) && !t.contains_key(&tok("T2")), "the largest survive");
        let total = Usd::checked_sum(t.values().map(|x| x.usd)).unwrap();
        assert!(total <= usd(50_000), "{total}");
        // Σ 0.02..0.09 = 0.44 → 44 000 ≤ 50 000, no scaling; truncated to the top five.
        assert_eq!(t[&tok("T7")].usd, usd(9_000));
    }

    #[test]
    fn longs_and_shorts_net_per_token() {
        let c = |side, v: i64| {
            contribution(
                Address::from_bytes([1; 20]),
                side,
                usd(v),
                usd(100_000),
                Ratio::from_int(2),
                Ratio::lit(5, 1),
                Ratio::lit(5, 1),
            )
            .unwrap()
            .unwrap()
        };
        let l = book_line(&[c(PositionSide::Long, 40_000), c(PositionSide::Short, 10_000)]).unwrap();
        assert_eq!(l.net_fraction, Fixed::parse("0.075").unwrap());
        assert_eq!(l.leverage, Ratio::from_int(2));
    }

    fn hold(side: PositionSide, v: i64) -> Exposure {
        Exposure { side, value: usd(v) }
    }
    fn tgt(side: PositionSide, v: i64) -> Target {
        Target { side, usd: usd(v), leverage: Ratio::from_int(3) }
    }

    #[test]
    fn band_skips_8_percent_and_executes_12() {
        let cfg = IndexConfig::default();
        let h = [(tok("BTC"), hold(PositionSide::Long, 10_000))].into_iter().collect();
        let Plan { actions: a, banded } =
            diff(&[(tok("BTC"), tgt(PositionSide::Long, 10_800))].into_iter().collect(), &h, &cfg).unwrap();
        assert!(a.is_empty());
        assert_eq!(banded[0].change, Ratio::lit(8, 2));
        let a = diff(&[(tok("BTC"), tgt(PositionSide::Long, 11_200))].into_iter().collect(), &h, &cfg).unwrap().actions;
        assert_eq!(a, vec![(tok("BTC"), Action::Increase(usd(1_200)))]);
        let a = diff(&[(tok("BTC"), tgt(PositionSide::Long, 9_000))].into_iter().collect(), &h, &cfg).unwrap().actions;
        assert_eq!(a, vec![(tok("BTC"), Action::Decrease(usd(1_000)))], "exactly 10 % executes");
    }

    #[test]
    fn side_flip_is_close_then_open_and_order_is_grouped() {
        let cfg = IndexConfig::default();
        let h = [(tok("BTC"), hold(PositionSide::Long, 10_000)), (tok("ETH"), hold(PositionSide::Long, 5_000))]
            .into_iter()
            .collect();
        let t = [(tok("BTC"), tgt(PositionSide::Short, 8_000)), (tok("AAA"), tgt(PositionSide::Long, 3_000))]
            .into_iter()
            .collect();
        let a = diff(&t, &h, &cfg).unwrap().actions;
        assert_eq!(
            a,
            vec![
                (tok("BTC"), Action::Close),
                (tok("ETH"), Action::Close),
                (tok("AAA"), Action::Open(PositionSide::Long, usd(3_000))),
                (tok("BTC"), Action::Open(PositionSide::Short, usd(8_000))),
            ]
        );
    }

    #[test]
    fn increase_order_type() {
        let cfg = IndexConfig::default();
        assert!(!increase_is_market(usd(2_000), usd(10_000), &cfg).unwrap(), "20 % exactly → limit");
        assert!(increase_is_market(usd(2_001), usd(10_000), &cfg).unwrap());
    }
}
