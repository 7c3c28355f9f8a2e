//! The entry-copy evaluation of a tracked wallet's fill (strategy-rules.md §10,
//! seed 001; decisions.md 6 and 8): nine steps in order, the first that
//! refuses decides, and every decision keeps the numbers it compared.
//! Steps 1–3 read the fill alone ([`screen`]); steps 4–9 run when the
//! confirmation delay has passed ([`decide`]), against the state then.

use serde::{Deserialize, Serialize};

use crate::config::{EntryConfig, RiskConfig};
use crate::model::{Fill, FillAction, Fixed, HOUR_MS, MINUTE_MS, NumError, PositionSide, Price, Ratio, TimeMs, Usd};

use super::risk::AccountState;

/// Named numbers a decision used.
pub type Numbers = Vec<(String, Fixed)>;

fn numbers(items: &[(&str, Fixed)]) -> Numbers {
    let mut v: Numbers = items.iter().map(|(k, x)| (k.to_string(), *x)).collect();
    v.sort();
    v
}

/// A fill that passed steps 1–3, waiting for step 4.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Screened {
    pub fill: Fill,
    pub side: PositionSide,
    pub value_usd: Usd,
    pub position_weight: Ratio,
}

impl Screened {
    /// When the confirmation delay ends (step 4).
    pub fn due(&self, cfg: &EntryConfig) -> TimeMs {
        self.fill.time_ms.saturating_add(cfg.copy_delay_minutes * MINUTE_MS)
    }
}

/// A refusal: the step's code and its numbers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Skip {
    pub code: &'static str,
    pub numbers: Numbers,
}

fn skip(code: &'static str, items: &[(&str, Fixed)]) -> Skip {
    Skip { code, numbers: numbers(items) }
}

/// Steps 1–3 on a fill of a primary wallet. `last_open` is the wallet's latest
/// Open of the same token and side within 24 h before the fill;
/// `trader_account` its account value.
pub fn screen(
    fill: &Fill,
    last_open: Option<TimeMs>,
    trader_account: Usd,
    cfg: &EntryConfig,
) -> Result<Result<Screened, Skip>, NumError> {
    let Some(side) = PositionSide::of(fill.signed_size()) else { return Ok(Err(skip("SKIP_ACTION_TYPE", &[]))) };
    match fill.action() {
        FillAction::Open => {}
        FillAction::Add => {
            let Some(open) = last_open else { return Ok(Err(skip("SKIP_ADD_NO_OPEN", &[]))) };
            let hours = Fixed::from_int(fill.time_ms.saturating_sub(open) as i64).checked_div_int(HOUR_MS as i64)?;
            if fill.time_ms.saturating_sub(open) > cfg.add_max_age_hours * HOUR_MS {
                return Ok(Err(skip("SKIP_ADD_TOO_OLD", &[("add_age_hours", hours)])));
            }
        }
        _ => return Ok(Err(skip("SKIP_ACTION_TYPE", &[]))),
    }
    let value_usd = fill.price.notional(fill.size)?.abs();
    let min = cfg.min_trade_value_usd.get(&fill.token);
    if value_usd < min {
        return Ok(Err(skip("SKIP_SIZE_TOO_SMALL", &[("value_usd", value_usd.fixed()), ("min_usd", min.fixed())])));
    }
    let position_weight = if trader_account.is_positive() { value_usd.ratio_to(trader_account)? } else { Ratio::ZERO };
    if position_weight < cfg.min_position_weight {
        return Ok(Err(skip(
            "SKIP_LOW_WEIGHT",
            &[("position_weight", position_weight.fixed()), ("min_weight", cfg.min_position_weight.fixed())],
        )));
    }
    Ok(Ok(Screened { fill: fill.clone(), side, value_usd, position_weight }))
}

/// What steps 4–9 read at the time of the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context<'a> {
    pub now: TimeMs,
    /// The token's current (fresh) price.
    pub price: Price,
    /// The trader's current signed position in the token.
    pub trader_position: Fixed,
    /// |trader position value| now, and the trader's account value.
    pub trader_position_value: Usd,
    pub trader_account: Usd,
    pub trader_score: Ratio,
    /// The ROI tier multiplier of the trader's 7-day ROI (§10.3 step 2).
    pub roi_tier: Ratio,
    /// Tracked traders holding the token on the same side, the copied one included.
    pub same_side_traders: u32,
    pub account: &'a AccountState,
}

/// The order step 6 chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EntryOrderType {
    /// Market with this slippage bound, percent.
    Market(Ratio),
    /// Limit offset from the current price by this, percent.
    Limit(Ratio),
}

/// A fill that passed every step: the base notional for the risk module.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Copy {
    pub side: PositionSide,
    pub order: EntryOrderType,
    pub base_usd: Usd,
    pub numbers: Numbers,
}

/// The outcome of steps 4–9.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Verdict {
    /// Not yet: re-run at this time (step 4).
    Defer(TimeMs),
    Skip(Skip),
    Copy(Copy),
}

/// Steps 4–9 (decisions.md 8: step 6's age counts from the end of the delay).
pub fn decide(s: &Screened, c: &Context<'_>, cfg: &EntryConfig, risk: &RiskConfig) -> Result<Verdict, NumError> {
    let due = s.due(cfg);
    if c.now < due {
        return Ok(Verdict::Defer(due));
    }
    // Step 4: the trader still holds the token on the same side.
    let held = PositionSide::of(crate::model::Size::new(c.trader_position));
    if held != Some(s.side) {
        return Ok(Verdict::Skip(skip("SKIP_REVERSED_AFTER_DELAY", &[("trader_position", c.trader_position)])));
    }
    // Step 5: slippage against the trader's fill price (2.0 exactly passes).
    let slippage = s.fill.price.abs_change_percent(c.price)?;
    let age_ms = c.now - due;
    let age_seconds = Fixed::from_int((age_ms / 1_000) as i64);
    let base = [
        ("value_usd", s.value_usd.fixed()),
        ("position_weight", s.position_weight.fixed()),
        ("slippage_percent", slippage.fixed()),
        ("age_seconds", age_seconds),
        ("trader_score", c.trader_score.fixed()),
        ("price", c.price.fixed()),
    ];
    let with =
        |extra: &[(&'static str, Fixed)]| -> Vec<(&'static str, Fixed)> { base.iter().chain(extra).copied().collect() };
    if slippage > cfg.max_price_slippage_percent {
        return Ok(Verdict::Skip(skip("SKIP_SLIPPAGE_EXCEEDED", &base)));
    }
    // Step 6: timing and order type.
    let order = if age_ms < cfg.market_max_age_minutes * MINUTE_MS {
        EntryOrderType::Market(cfg.market_max_slippage_percent)
    } else if age_ms < cfg.limit_max_age_minutes * MINUTE_MS {
        if slippage < cfg.limit_drift_percent {
            EntryOrderType::Limit(cfg.limit_max_slippage_percent)
        } else {
            return Ok(Verdict::Skip(skip("SKIP_STALE_HIGH_SLIPPAGE", &base)));
        }
    } else if c.trader_score > cfg.old_signal_min_score && s.position_weight > cfg.old_signal_min_weight {
        EntryOrderType::Limit(cfg.limit_max_slippage_percent)
    } else {
        return Ok(Verdict::Skip(skip("SKIP_TOO_OLD", &base)));
    };
    // Step 7: optional consensus.
    if cfg.require_consensus && c.same_side_traders < cfg.consensus_min_traders {
        let n = Fixed::from_int(i64::from(c.same_side_traders));
        return Ok(Verdict::Skip(skip("SKIP_NO_CONSENSUS", &with(&[("same_side_traders", n)]))));
    }
    // Step 8: portfolio limits (≥ skips).
    let acct = c.account.account_value;
    let open = c.account.positions.len();
    if open >= risk.max_total_positions as usize {
        return Ok(Verdict::Skip(skip(
            "SKIP_MAX_POSITIONS",
            &with(&[("open_positions", Fixed::from_int(open as i64))]),
        )));
    }
    let total = c.account.total()?;
    if total >= acct.checked_mul_ratio(risk.max_total_exposure_fraction)? {
        return Ok(Verdict::Skip(skip("SKIP_MAX_EXPOSURE", &with(&[("total_exposure_usd", total.fixed())]))));
    }
    let token = c.account.token(&s.fill.token);
    if token >= acct.checked_mul_ratio(risk.max_exposure_per_token_fraction)? {
        return Ok(Verdict::Skip(skip("SKIP_TOKEN_EXPOSURE", &with(&[("token_exposure_usd", token.fixed())]))));
    }
    // Step 9: the base notional (decisions.md 6) — the risk module adds the
    // leverage penalty and the caps.
    let base_usd = copy_base(acct, c.trader_position_value, c.trader_account, c.roi_tier, risk.copy_ratio)?;
    if !base_usd.is_positive() {
        return Ok(Verdict::Skip(skip("SKIP_SIZE_ZERO", &with(&[("base_usd", base_usd.fixed())]))));
    }
    Ok(Verdict::Copy(Copy {
        side: s.side,
        order,
        base_usd,
        numbers: numbers(&with(&[("base_usd", base_usd.fixed()), ("roi_tier", c.roi_tier.fixed())])),
    }))
}

/// Seed 001's `compute_copy_size` steps 1–2: `our account × (trader position
/// value / trader account) × copy ratio × ROI tier` (0.05 when the trader's
/// account is not positive). Caps, the penalty and the floor come after.
pub fn copy_base(
    our_account: Usd,
    trader_position_value: Usd,
    trader_account: Usd,
    roi_tier: Ratio,
    copy_ratio: Ratio,
) -> Result<Usd, NumError> {
    let alloc =
        if trader_account.is_positive() { trader_position_value.ratio_to(trader_account)? } else { Ratio::lit(5, 2) };
    our_account.checked_mul_ratio(alloc)?.checked_mul_ratio(copy_ratio)?.checked_mul_ratio(roi_tier)
}

#[cfg(test)]
mod tests {
    //! Seed 001 phase 10's named tests (action filter, slippage gate, tiered
    //! sizing through the risk module with the trader's leverage given).
    use super::*;
    use crate::model::{Address, Side, Size, Token, TxHash};
    use crate::rules::risk::{SizingRequest, size_entry};
    use crate::rules::score::roi_tier;

    const T: TimeMs = 1_700_000_000_000;

    fn fill(start: i64, side: Side, size: i64, price: i64) -> Fill {
        Fill {
            time_ms: T,
            wallet: Address::from_bytes([7; 20]),
            token: Token::parse("ETH").unwrap(),
            side,
            price: Price::from_int(price),
            size: Size::from_int(size),
            start_position: Size::from_int(start),
            closed_pnl: Usd::ZERO,
            fee: Usd::ZERO,
            tx_hash: TxHash::default(),
            trade_id: 1,
            liquidation: false,
        }
    }
    fn scr(f: &Fill, open: Option<TimeMs>) -> Result<Screened, Skip> {
        screen(f, open, Usd::from_int(200_000), &EntryConfig::default()).unwrap()
    }

    #[test]
    fn action_filter() {
        assert!(scr(&fill(0, Side::Buy, 20, 2_000), None).is_ok(), "Open passes");
        let add = fill(20, Side::Buy, 20, 2_000);
        assert!(scr(&add, Some(T - 2 * HOUR_MS)).is_ok(), "Add within 2 h passes (exactly 2 h)");
        assert_eq!(scr(&add, Some(T - 2 * HOUR_MS - 1)).unwrap_err().code, "SKIP_ADD_TOO_OLD");
        assert_eq!(scr(&add, None).unwrap_err().code, "SKIP_ADD_NO_OPEN");
        assert_eq!(scr(&fill(40, Side::Sell, 20, 2_000), None).unwrap_err().code, "SKIP_ACTION_TYPE", "Reduce");
        assert_eq!(scr(&fill(20, Side::Sell, 20, 2_000), None).unwrap_err().code, "SKIP_ACTION_TYPE", "Close");
    }

    #[test]
    fn size_and_weight_filters() {
        assert_eq!(scr(&fill(0, Side::Buy, 12, 2_000), None).unwrap_err().code, "SKIP_SIZE_TOO_SMALL");
        let f = fill(0, Side::Buy, 13, 2_000); // 26 000 of a 300 000 account
        let s = screen(&f, None, Usd::from_int(300_000), &EntryConfig::default()).unwrap();
        assert_eq!(s.unwrap_err().code, "SKIP_LOW_WEIGHT");
    }

    fn ctx<'a>(now: TimeMs, price: &str, account: &'a AccountState) -> Context<'a> {
        Context {
            now,
            price: Price::parse(price).unwrap(),
            trader_position: Fixed::from_int(20),
            trader_position_value: Usd::from_int(40_000),
            trader_account: Usd::from_int(200_000),
            trader_score: Ratio::lit(5, 1),
            roi_tier: Ratio::ONE,
            same_side_traders: 1,
            account,
        }
    }

    #[test]
    fn slippage_gate_passes_at_1_5_and_fails_at_2_5() {
        let s = Screened {
            fill: fill(0, Side::Buy, 500, 100),
            side: PositionSide::Long,
            value_usd: Usd::from_int(50_000),
            position_weight: Ratio::lit(25, 2),
        };
        let acct = AccountState { account_value: Usd::from_int(100_000), positions: Default::default() };
        let (e, r) = (EntryConfig::default(), RiskConfig::default());
        let due = s.due(&e);
        assert_eq!(decide(&s, &ctx(due - 1, "101.5", &acct), &e, &r).unwrap(), Verdict::Defer(due));
        assert!(matches!(decide(&s, &ctx(due, "101.5", &acct), &e, &r).unwrap(), Verdict::Copy(_)));
        let v = decide(&s, &ctx(due, "102.5", &acct), &e, &r).unwrap();
        assert!(matches!(v, Verdict::Skip(Skip { code: "SKIP_SLIPPAGE_EXCEEDED", .. })), "{v:?}");
        let mut reversed = ctx(due, "100", &acct);
        reversed.trader_position = Fixed::from_int(-1);
        let v = decide(&s, &reversed, &e, &r).unwrap();
        assert!(matches!(v, Verdict::Skip(Skip { code: "SKIP_REVERSED_AFTER_DELAY", .. })));
        // Age from the end of the delay: 5 min → limit, 10 min → too old.
        let v = decide(&s, &ctx(due + 5 * MINUTE_MS, "100.1", &acct), &e, &r).unwrap();
        assert!(matches!(v, Verdict::Copy(Copy { order: EntryOrderType::Limit(_), .. })), "{v:?}");
        let v = decide(&s, &ctx(due + 10 * MINUTE_MS, "100", &acct), &e, &r).unwrap();
        assert!(matches!(v, Verdict::Skip(Skip { code: "SKIP_TOO_OLD", .. })));
    }

    /// Through the adapter and the risk module, as decisions.md 6 says.
    fn copy_size(our: i64, trader_value: i64, trader_account: i64, roi_7d: i64, leverage: i64) -> Usd {
        let base = copy_base(
            Usd::from_int(our),
            Usd::from_int(trader_value),
            Usd::from_int(trader_account),
            roi_tier(Ratio::from_int(roi_7d)),
            Ratio::lit(5, 1),
        )
        .unwrap();
        let req = SizingRequest {
            base_usd: base,
            token: Token::parse("ETH").unwrap(),
            side: PositionSide::Long,
            trader_leverage: Some(Ratio::from_int(leverage)),
            trader_position_value: None,
            trader_margin_used: None,
        };
        let acct = AccountState { account_value: Usd::from_int(our), positions: Default::default() };
        size_entry(&req, &acct, &RiskConfig::default()).unwrap().final_usd
    }

    #[test]
    fn tiered_sizing() {
        assert_eq!(copy_size(100_000, 100_000, 500_000, 15, 1), Usd::from_int(10_000), "hot");
        assert_eq!(copy_size(100_000, 100_000, 500_000, 5, 1), Usd::from_int(7_500), "lukewarm");
        assert_eq!(copy_size(100_000, 100_000, 500_000, -2, 1), Usd::from_int(5_000), "cold");
        assert_eq!(copy_size(100_000, 100_000, 500_000, 15, 20), Usd::from_int(2_000), "20× → 0.2");
        assert_eq!(copy_size(500_000, 2_000_000, 4_000_000, 15, 1), Usd::from_int(50_000), "125k capped");
    }
}
