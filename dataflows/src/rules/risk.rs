//! The leverage-aware risk module (strategy-rules.md §12, seed 004; decisions.md
//! 5, 6, 12 and 14): the only path from a strategy's signal to an order intent,
//! so every cap is checked here and nowhere else is a size made larger.
//!
//! Strategies hand over a *base notional* built by their own seed's formula
//! (copy ratio and ROI tier included where the seed has them, never a leverage
//! penalty); the module resolves the leverage, applies the penalty once, caps
//! the leverage, and clips to every room the account has left.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::{LeveragePenaltyConfig, LiquidationBufferConfig, RiskConfig};
use crate::model::{Fixed, NumError, PositionSide, Price, Ratio, Rounding, Token, Usd};

/// One of our positions as the account state sees it: side and absolute value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Exposure {
    pub side: PositionSide,
    pub value: Usd,
}

/// Our account: its value and the exposure of each position (seed 004's
/// `AccountState`). Built from our own positions as the venue reports them —
/// the real account, not the intended one.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AccountState {
    pub account_value: Usd,
    pub positions: BTreeMap<Token, Exposure>,
}

impl AccountState {
    /// Σ |position value| (`total_open_positions_usd`).
    pub fn total(&self) -> Result<Usd, NumError> {
        Usd::checked_sum(self.positions.values().map(|e| e.value))
    }
    /// Σ |value| of the positions on `side`.
    pub fn directional(&self, side: PositionSide) -> Result<Usd, NumError> {
        Usd::checked_sum(self.positions.values().filter(|e| e.side == side).map(|e| e.value))
    }
    /// Exposure in `token` (0 when flat).
    pub fn token(&self, token: &Token) -> Usd {
        self.positions.get(token).map(|e| e.value).unwrap_or(Usd::ZERO)
    }
    /// Adds an entry of `usd` on `side` in `token` (an intent in flight counts
    /// as exposure until the venue reports the position).
    pub fn add(&mut self, token: Token, side: PositionSide, usd: Usd) -> Result<(), NumError> {
        let e = self.positions.entry(token).or_insert(Exposure { side, value: Usd::ZERO });
        if e.side == side {
            e.value = e.value.checked_add(usd)?;
        } else {
            // The opposite side nets first (a close, then an open).
            let net = e.value.checked_sub(usd)?;
            if net.is_negative() {
                *e = Exposure { side, value: net.abs() };
            } else {
                e.value = net;
            }
        }
        if e.value.is_zero() {
            self.positions.remove(&token);
        }
        Ok(())
    }
    /// Removes `usd` of exposure from `token` (a reduce or close).
    pub fn reduce(&mut self, token: Token, usd: Usd) -> Result<(), NumError> {
        if let Some(e) = self.positions.get_mut(&token) {
            e.value = e.value.checked_sub(usd)?.max(Usd::ZERO);
            if e.value.is_zero() {
                self.positions.remove(&token);
            }
        }
        Ok(())
    }
}

/// What a strategy asks the risk module to size (seed 004 `SizingRequest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SizingRequest {
    /// The strategy's base notional (its own seed's formula).
    pub base_usd: Usd,
    pub token: Token,
    pub side: PositionSide,
    /// The copied trader's leverage, when known.
    pub trader_leverage: Option<Ratio>,
    /// The trader's position value and margin, to infer the leverage from.
    pub trader_position_value: Option<Usd>,
    pub trader_margin_used: Option<Usd>,
}

/// Where the resolved leverage came from (step 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeverageSource {
    Given,
    Inferred,
    Default,
}

/// Why the risk module refused an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Refusal {
    /// Already at `max_total_positions` and this would open another.
    MaxPositions,
    /// We hold the token on the other side; one position per token (close first).
    OppositePosition,
    TotalExposure,
    TokenExposure,
    LongExposure,
    ShortExposure,
    /// Under the venue's $10 minimum (or it would leave dust).
    BelowMinimum,
}

impl Refusal {
    /// The code recorded with the refused signal.
    pub const fn code(self) -> &'static str {
        match self {
            Refusal::MaxPositions => "RISK_MAX_POSITIONS",
            Refusal::OppositePosition => "RISK_OPPOSITE_POSITION",
            Refusal::TotalExposure => "RISK_TOTAL_EXPOSURE",
            Refusal::TokenExposure => "RISK_TOKEN_EXPOSURE",
            Refusal::LongExposure => "RISK_LONG_EXPOSURE",
            Refusal::ShortExposure => "RISK_SHORT_EXPOSURE",
            Refusal::BelowMinimum => "RISK_BELOW_MINIMUM",
        }
    }
}

/// Requests the module cannot size at all (seed 004's hard errors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RiskError {
    #[error("sizing request: base_usd = {0} must be > 0")]
    NonPositiveBase(Usd),
    #[error("account state: account_value = {0} must be > 0")]
    NonPositiveAccount(Usd),
    #[error("liquidation buffer: {field} = {value} must be > 0")]
    NonPositivePrice { field: &'static str, value: Price },
    #[error(transparent)]
    Number(#[from] NumError),
}

/// The sizing of one entry, every step's value recorded (seed 004's
/// `sizing_breakdown`), and the refusal if there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Sizing {
    pub base_usd: Usd,
    pub resolved_leverage: Ratio,
    pub leverage_source: LeverageSource,
    /// min(resolved, max leverage): what we trade at, isolated.
    pub effective_leverage: Ratio,
    /// On the uncapped resolved leverage (a 20× trader gets 0.2 though we trade 5×).
    pub penalty: Ratio,
    pub penalised_usd: Usd,
    /// min(fraction × account, hard cap).
    pub single_cap_usd: Usd,
    pub total_room_usd: Usd,
    pub token_room_usd: Usd,
    pub direction_room_usd: Usd,
    /// The size after every clip (zero when refused).
    pub final_usd: Usd,
    /// The slippage the module assumes for the token, percent (§12.1).
    pub slippage_percent: Ratio,
    pub refusal: Option<Refusal>,
}

impl Sizing {
    /// The breakdown as named numbers, for the signal record.
    pub fn numbers(&self) -> Vec<(String, Fixed)> {
        let mut v = vec![
            ("base_usd", self.base_usd.fixed()),
            ("resolved_leverage", self.resolved_leverage.fixed()),
            ("effective_leverage", self.effective_leverage.fixed()),
            ("leverage_penalty", self.penalty.fixed()),
            ("penalised_usd", self.penalised_usd.fixed()),
            ("single_cap_usd", self.single_cap_usd.fixed()),
            ("total_room_usd", self.total_room_usd.fixed()),
            ("token_room_usd", self.token_room_usd.fixed()),
            ("direction_room_usd", self.direction_room_usd.fixed()),
            ("final_usd", self.final_usd.fixed()),
            ("slippage_percent", self.slippage_percent.fixed()),
        ];
        // A clipped target (the index) had its leverage handled before: no resolution to show.
        if self.resolved_leverage == Ratio::ZERO {
            v.retain(|(k, _)| !k.ends_with("_leverage"));
        }
        v.sort_by(|a, b| a.0.cmp(b.0));
        v.into_iter().map(|(k, x)| (k.to_string(), x)).collect()
    }
}

/// Step 1: the trader's leverage if given; else `round(value / margin, 1)` when
/// both are known (a non-positive one gives the default); else the default.
pub fn resolve_leverage(req: &SizingRequest, cfg: &RiskConfig) -> Result<(Ratio, LeverageSource), NumError> {
    if let Some(l) = req.trader_leverage.filter(|l| l.is_positive()) {
        return Ok((l, LeverageSource::Given));
    }
    if let (Some(v), Some(m)) = (req.trader_position_value, req.trader_margin_used) {
        if !v.is_positive() || !m.is_positive() {
            return Ok((cfg.default_leverage, LeverageSource::Default));
        }
        let inferred = v.ratio_to(m)?.round_dp(1, Rounding::HalfEven)?;
        return Ok((inferred, LeverageSource::Inferred));
    }
    Ok((cfg.default_leverage, LeverageSource::Default))
}

/// Step 3 (decisions.md 5): piecewise-linear between the anchors, the lowest
/// anchor's value below it, `above_max` beyond the highest.
pub fn leverage_penalty(leverage: Ratio, cfg: &LeveragePenaltyConfig) -> Result<Ratio, NumError> {
    let mut below: Option<(Fixed, Ratio)> = None;
    for (&anchor, &value) in &cfg.anchors {
        let x = Fixed::from_int(i64::from(anchor));
        if leverage.fixed() == x {
            return Ok(value);
        }
        if leverage.fixed() < x {
            let Some((x0, v0)) = below else { return Ok(value) };
            // v0 + (v − v0) × (lev − x0) / (x − x0)
            let dv = value.fixed().checked_sub(v0.fixed())?;
            let step = dv.checked_mul_div(leverage.fixed().checked_sub(x0)?, x.checked_sub(x0)?, Rounding::HalfEven)?;
            return Ok(Ratio::new(v0.fixed().checked_add(step)?));
        }
        below = Some((x, value));
    }
    Ok(if below.is_some() { cfg.above_max } else { Ratio::ONE })
}

/// The room left under a cap of `fraction × account` given `used`.
fn room(account: Usd, fraction: Ratio, used: Usd) -> Result<Usd, NumError> {
    account.checked_mul_ratio(fraction)?.checked_sub(used)
}

/// Sizes an entry (or an increase) against the account (seed 004
/// `calculate_position_size`, plus the position-count and one-per-token caps
/// and the venue minimum).
pub fn size_entry(req: &SizingRequest, account: &AccountState, cfg: &RiskConfig) -> Result<Sizing, RiskError> {
    if !req.base_usd.is_positive() {
        return Err(RiskError::NonPositiveBase(req.base_usd));
    }
    let acct = account.account_value;
    if !acct.is_positive() {
        return Err(RiskError::NonPositiveAccount(acct));
    }
    let (resolved, source) = resolve_leverage(req, cfg)?;
    let effective = resolved.min(cfg.max_leverage);
    let penalty = leverage_penalty(resolved, &cfg.leverage_penalty)?;
    let penalised = req.base_usd.checked_mul_ratio(penalty)?;
    let mut s = clip(req.token, req.side, penalised, account, cfg)?;
    s.base_usd = req.base_usd;
    s.resolved_leverage = resolved;
    s.leverage_source = source;
    s.effective_leverage = effective;
    s.penalty = penalty;
    Ok(s)
}

/// The leverage part of sizing alone, for a strategy that sizes a *target*
/// rather than an order (the index): the penalised notional and the leverage
/// to trade at. The order that moves a holding toward it is then [`clip`]ped,
/// so the penalty is applied once, to the target.
pub fn size_target(req: &SizingRequest, cfg: &RiskConfig) -> Result<(Usd, Ratio), RiskError> {
    let (resolved, _) = resolve_leverage(req, cfg)?;
    let penalty = leverage_penalty(resolved, &cfg.leverage_penalty)?;
    Ok((req.base_usd.checked_mul_ratio(penalty)?, resolved.min(cfg.max_leverage)))
}

/// Clips an increase of exposure of `usd` on `side` in `token` to every cap
/// (single, total, token, direction, count, one per token) and the minimum.
pub fn clip(
    token: Token,
    side: PositionSide,
    usd: Usd,
    account: &AccountState,
    cfg: &RiskConfig,
) -> Result<Sizing, RiskError> {
    let acct = account.account_value;
    if !acct.is_positive() {
        return Err(RiskError::NonPositiveAccount(acct));
    }
    let held = account.positions.get(&token);
    // Seed 004 as written: the single cap bounds each order; the position as a
    // whole is bounded by the token cap.
    let single_cap = acct.checked_mul_ratio(cfg.max_single_position_fraction)?.min(cfg.max_single_position_usd);
    let total_room = room(acct, cfg.max_total_exposure_fraction, account.total()?)?;
    let token_room = room(acct, cfg.max_exposure_per_token_fraction, account.token(&token))?;
    let direction_fraction = match side {
        PositionSide::Long => cfg.max_long_exposure_fraction,
        PositionSide::Short => cfg.max_short_exposure_fraction,
    };
    let direction_room = room(acct, direction_fraction, account.directional(side)?)?;
    let mut s = Sizing {
        base_usd: usd,
        resolved_leverage: Ratio::ZERO,
        leverage_source: LeverageSource::Given,
        effective_leverage: Ratio::ZERO,
        penalty: Ratio::ONE,
        penalised_usd: usd,
        single_cap_usd: single_cap,
        total_room_usd: total_room,
        token_room_usd: token_room,
        direction_room_usd: direction_room,
        final_usd: Usd::ZERO,
        slippage_percent: cfg.slippage_percent.get(&token),
        refusal: None,
    };
    let refusal = if held.is_some_and(|e| e.side != side) {
        Some(Refusal::OppositePosition)
    } else if held.is_none() && account.positions.len() >= cfg.max_total_positions as usize {
        Some(Refusal::MaxPositions)
    } else if !total_room.is_positive() {
        Some(Refusal::TotalExposure)
    } else if !token_room.is_positive() {
        Some(Refusal::TokenExposure)
    } else if !direction_room.is_positive() {
        Some(match side {
            PositionSide::Long => Refusal::LongExposure,
            PositionSide::Short => Refusal::ShortExposure,
        })
    } else {
        None
    };
    if let Some(r) = refusal {
        s.refusal = Some(r);
        return Ok(s);
    }
    // Cents, rounded down: a clip never rounds up past a cap.
    let size = usd.min(single_cap).min(total_room).min(token_room).min(direction_room);
    let size = size.round_dp(2, Rounding::TowardZero)?;
    if size < cfg.min_order_usd {
        s.refusal = Some(Refusal::BelowMinimum);
        return Ok(s);
    }
    s.final_usd = size;
    Ok(s)
}

/// How much of a position a reduction sells, under the venue's minimum and
/// the no-dust rule (decisions.md 14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Reduction {
    /// Close everything (asked for, or the remainder would be under the minimum).
    Full,
    /// Sell this much notional.
    Part(Usd),
    /// Not sendable: the order would be under the minimum and the position is not dust to close.
    TooSmall,
}

/// A reduction of `usd` of a position worth `value`: never an order under
/// `min_order`, never a remainder under `min_order` (it closes fully instead).
pub fn reduction(value: Usd, usd: Usd, min_order: Usd) -> Result<Reduction, NumError> {
    let left = value.checked_sub(usd)?;
    if !left.is_positive() || left < min_order {
        return Ok(if value < min_order { Reduction::TooSmall } else { Reduction::Full });
    }
    if usd < min_order {
        return Ok(Reduction::TooSmall);
    }
    Ok(Reduction::Part(usd))
}

/// Distance from the mark to the liquidation price, percent of the mark
/// (§12.2): long `(mark − liq) / mark × 100`, short `(liq − mark) / mark × 100`.
pub fn liquidation_buffer_percent(side: PositionSide, mark: Price, liq: Price) -> Result<Ratio, RiskError> {
    if !mark.is_positive() {
        return Err(RiskError::NonPositivePrice { field: "mark", value: mark });
    }
    if !liq.is_positive() {
        return Err(RiskError::NonPositivePrice { field: "liquidation_price", value: liq });
    }
    let gap = match side {
        PositionSide::Long => mark.fixed().checked_sub(liq.fixed())?,
        PositionSide::Short => liq.fixed().checked_sub(mark.fixed())?,
    };
    Ok(Ratio::new(gap.checked_mul_div(Fixed::from_int(100), mark.fixed(), Rounding::HalfEven)?))
}

/// What the liquidation-buffer monitor does about a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BufferAction {
    /// Below the emergency level (strict): close 100 %, never delayed.
    EmergencyClose,
    /// Below the reduce level (strict): sell `reduce_position_percent`.
    Reduce,
}

/// The action for a buffer: `< emergency` closes, `< reduce` reduces (exactly
/// 10 reduces, exactly 20 does nothing).
pub fn buffer_action(buffer_percent: Ratio, cfg: &LiquidationBufferConfig) -> Option<BufferAction> {
    if buffer_percent < cfg.emergency_close_percent {
        Some(BufferAction::EmergencyClose)
    } else if buffer_percent < cfg.reduce_percent {
        Some(BufferAction::Reduce)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    //! Seed 004 §9's named tests, as written.
    use super::*;

    fn usd(n: i64) -> Usd {
        Usd::from_int(n)
    }
    fn btc() -> Token {
        Token::parse("BTC").unwrap()
    }
    fn eth() -> Token {
        Token::parse("ETH").unwrap()
    }
    fn req(base: i64, lev: Option<i64>) -> SizingRequest {
        SizingRequest {
            base_usd: usd(base),
            token: btc(),
            side: PositionSide::Long,
            trader_leverage: lev.map(Ratio::from_int),
            trader_position_value: None,
            trader_margin_used: None,
        }
    }
    fn account(value: i64, positions: &[(Token, PositionSide, i64)]) -> AccountState {
        AccountState {
            account_value: usd(value),
            positions: positions.iter().map(|(t, s, v)| (*t, Exposure { side: *s, value: usd(*v) })).collect(),
        }
    }
    fn cfg() -> RiskConfig {
        RiskConfig::default()
    }

    #[test]
    fn leverage_20x_is_traded_at_5x() {
        let s = size_entry(&req(1_000, Some(20)), &account(1_000_000, &[]), &cfg()).unwrap();
        assert_eq!(s.effective_leverage, Ratio::from_int(5));
        assert_eq!(s.penalty, Ratio::lit(2, 1), "penalty on the uncapped 20×");
    }

    #[test]
    fn leverage_3x_stays_3x_and_unknown_is_5x() {
        let s = size_entry(&req(1_000, Some(3)), &account(1_000_000, &[]), &cfg()).unwrap();
        assert_eq!(s.effective_leverage, Ratio::from_int(3));
        let s = size_entry(&req(1_000, None), &account(1_000_000, &[]), &cfg()).unwrap();
        assert_eq!((s.effective_leverage, s.leverage_source), (Ratio::from_int(5), LeverageSource::Default));
    }

    #[test]
    fn leverage_is_inferred_from_value_and_margin() {
        let mut r = req(1_000, None);
        r.trader_position_value = Some(usd(25_000));
        r.trader_margin_used = Some(Usd::parse("3333").unwrap());
        let (l, src) = resolve_leverage(&r, &cfg()).unwrap();
        assert_eq!((l, src), (Ratio::parse("7.5").unwrap(), LeverageSource::Inferred));
        r.trader_margin_used = Some(Usd::ZERO);
        assert_eq!(resolve_leverage(&r, &cfg()).unwrap(), (Ratio::from_int(5), LeverageSource::Default));
    }

    #[test]
    fn penalty_interpolates_between_anchors() {
        let p = |l: &str| leverage_penalty(Ratio::parse(l).unwrap(), &LeveragePenaltyConfig::default()).unwrap();
        assert_eq!(p("1"), Ratio::ONE);
        assert_eq!(p("7"), Ratio::parse("0.52").unwrap());
        assert_eq!(p("4"), Ratio::parse("0.7").unwrap());
        assert_eq!(p("20"), Ratio::parse("0.2").unwrap());
        assert_eq!(p("25"), Ratio::parse("0.1").unwrap());
        assert_eq!(p("0.5"), Ratio::ONE);
    }

    #[test]
    fn single_position_is_capped_by_account_and_hard_cap() {
        let s = size_entry(&req(40_000, Some(1)), &account(100_000, &[]), &cfg()).unwrap();
        assert_eq!(s.final_usd, usd(10_000));
        let s = size_entry(&req(400_000, Some(1)), &account(1_000_000, &[]), &cfg()).unwrap();
        assert_eq!(s.final_usd, usd(50_000));
    }

    #[test]
    fn total_exposure_at_50_percent_is_refused() {
        let a = account(
            100_000,
            &[(eth(), PositionSide::Long, 30_000), (Token::parse("SOL").unwrap(), PositionSide::Short, 20_000)],
        );
        let s = size_entry(&req(5_000, Some(1)), &a, &cfg()).unwrap();
        assert_eq!((s.refusal, s.final_usd), (Some(Refusal::TotalExposure), Usd::ZERO));
    }

    #[test]
    fn token_at_14k_of_15k_gets_at_most_1k() {
        let s = size_entry(&req(5_000, Some(1)), &account(100_000, &[(btc(), PositionSide::Long, 14_000)]), &cfg())
            .unwrap();
        assert_eq!(s.final_usd, usd(1_000));
    }

    #[test]
    fn longs_at_59k_leave_1k_and_shorts_at_60k_refuse() {
        let cfg = RiskConfig { max_total_exposure_fraction: Ratio::ONE, max_total_positions: 50, ..cfg() };
        let longs: Vec<_> = ["A", "B", "C", "D", "E", "F"]
            .iter()
            .zip([10_000, 10_000, 10_000, 10_000, 10_000, 9_000])
            .map(|(t, v)| (Token::parse(t).unwrap(), PositionSide::Long, v))
            .collect();
        let s = size_entry(&req(5_000, Some(1)), &account(100_000, &longs), &cfg).unwrap();
        assert_eq!(s.final_usd, usd(1_000));
        let shorts: Vec<_> = longs.iter().map(|(t, _, _)| (*t, PositionSide::Short, 10_000)).collect();
        let mut r = req(5_000, Some(1));
        r.side = PositionSide::Short;
        let s = size_entry(&r, &account(100_000, &shorts), &cfg).unwrap();
        assert_eq!(s.refusal, Some(Refusal::ShortExposure));
    }

    #[test]
    fn full_pipeline_20x_10k_base_200k_account_gives_2000_at_5x() {
        let s = size_entry(&req(10_000, Some(20)), &account(200_000, &[]), &cfg()).unwrap();
        assert_eq!((s.final_usd, s.effective_leverage), (usd(2_000), Ratio::from_int(5)));
    }

    #[test]
    fn hard_errors_and_counts_and_dust() {
        assert_eq!(size_entry(&req(0, None), &account(1, &[]), &cfg()), Err(RiskError::NonPositiveBase(Usd::ZERO)));
        assert!(matches!(size_entry(&req(1, None), &account(0, &[]), &cfg()), Err(RiskError::NonPositiveAccount(_))));
        let five: Vec<_> =
            ["A", "B", "C", "D", "E"].iter().map(|t| (Token::parse(t).unwrap(), PositionSide::Long, 1_000)).collect();
        let s = size_entry(&req(5_000, Some(1)), &account(100_000, &five), &cfg()).unwrap();
        assert_eq!(s.refusal, Some(Refusal::MaxPositions));
        let s = size_entry(&req(12, Some(5)), &account(100_000, &[]), &cfg()).unwrap();
        assert_eq!(s.refusal, Some(Refusal::BelowMinimum), "12 × 0.6 = 7.20 < 10");
        let s = size_entry(&req(12, Some(1)), &account(100_000, &[]), &cfg()).unwrap();
        assert_eq!(s.final_usd, usd(12));
    }

    #[test]
    fn reductions_leave_no_dust() {
        assert_eq!(reduction(usd(100), usd(50), usd(10)).unwrap(), Reduction::Part(usd(50)));
        assert_eq!(reduction(usd(100), usd(95), usd(10)).unwrap(), Reduction::Full);
        assert_eq!(reduction(usd(100), usd(5), usd(10)).unwrap(), Reduction::TooSmall);
        assert_eq!(reduction(usd(8), usd(8), usd(10)).unwrap(), Reduction::TooSmall);
        assert_eq!(reduction(usd(18), usd(9), usd(10)).unwrap(), Reduction::Full);
    }

    #[test]
    fn buffer_levels_are_strict() {
        let c = LiquidationBufferConfig::default();
        let b =
            |m: i64, l: i64, side| liquidation_buffer_percent(side, Price::from_int(m), Price::from_int(l)).unwrap();
        assert_eq!(b(100, 91, PositionSide::Long), Ratio::from_int(9));
        assert_eq!(buffer_action(b(100, 91, PositionSide::Long), &c), Some(BufferAction::EmergencyClose));
        assert_eq!(buffer_action(b(100, 82, PositionSide::Long), &c), Some(BufferAction::Reduce));
        assert_eq!(buffer_action(b(100, 90, PositionSide::Long), &c), Some(BufferAction::Reduce), "exactly 10 reduces");
        assert_eq!(buffer_action(b(100, 80, PositionSide::Long), &c), None, "exactly 20 is fine");
        assert_eq!(buffer_action(b(100, 109, PositionSide::Short), &c), Some(BufferAction::EmergencyClose));
        assert!(liquidation_buffer_percent(PositionSide::Long, Price::ZERO, Price::from_int(1)).is_err());
        assert!(liquidation_buffer_percent(PositionSide::Long, Price::from_int(1), Price::ZERO).is_err());
    }
}
