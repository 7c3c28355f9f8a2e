//! Numbers on Hyperliquid's wire (hyperliquid-api.md §0): what gets signed is
//! text, so one digit too many or a stray `-0` is a different signature or a
//! rejected order. Exact decimals are formatted without rounding (more than
//! eight decimals is an error, never a silent round); the SDK's float helpers
//! are reproduced for inputs that arrive as floats, minus the SDK's quirks
//! (`NaN`, `Infinity` and `-0` are refused). Prices and sizes are rounded to the
//! venue's tick and lot rules before they are formatted.

use rust_decimal::RoundingStrategy;

use crate::wire::Decimal;

/// Decimal places the wire carries.
pub const WIRE_DECIMALS: u32 = 8;
/// Significant figures a price may have (integers are always allowed).
pub const PRICE_SIG_FIGS: u32 = 5;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("{0} is not a finite number")]
    NotFinite(String),
    #[error("negative zero is never sent")]
    NegativeZero,
    #[error("{0} causes rounding (more than 8 decimals on the wire)")]
    CausesRounding(String),
    #[error("{what} {value} must be positive")]
    NotPositive { what: &'static str, value: String },
    #[error("{0} does not fit the wire's integer range")]
    Range(String),
}

/// An exact decimal as wire text: plain digits, no exponent, no trailing zeros.
pub fn decimal_to_wire(d: Decimal) -> Result<String, NumberError> {
    let n = d.normalize();
    if n.scale() > WIRE_DECIMALS {
        return Err(NumberError::CausesRounding(d.to_string()));
    }
    Ok(if n.is_zero() { "0".into() } else { n.to_string() })
}

/// A positive price or size as wire text.
pub fn positive_to_wire(what: &'static str, d: Decimal) -> Result<String, NumberError> {
    if d <= Decimal::ZERO {
        return Err(NumberError::NotPositive { what, value: d.to_string() });
    }
    decimal_to_wire(d)
}

/// The SDK's `float_to_wire`: eight decimals, refused when that rounds by 1e-12
/// or more, trailing zeros removed — without its quirks.
pub fn float_to_wire(x: f64) -> Result<String, NumberError> {
    if !x.is_finite() {
        return Err(NumberError::NotFinite(x.to_string()));
    }
    let rounded = format!("{x:.8}");
    let back: f64 = rounded.parse().map_err(|_| NumberError::NotFinite(rounded.clone()))?;
    if (back - x).abs() >= 1e-12 {
        return Err(NumberError::CausesRounding(format!("{x:?}")));
    }
    if back == 0.0 && (rounded.starts_with('-') || x.is_sign_negative()) {
        return Err(NumberError::NegativeZero);
    }
    // Trailing zeros and a bare point go (as the SDK's Decimal.normalize does);
    // text, not a decimal type, so magnitudes beyond 28 digits survive.
    let text = rounded.trim_end_matches('0').trim_end_matches('.');
    Ok(if text.is_empty() || text == "-" { "0".into() } else { text.to_string() })
}

/// The SDK's `float_to_int`: `x × 10^power` rounded half-even, refused when
/// that moves it by 1e-3 or more (f64 arithmetic, as the SDK hashes it).
pub fn float_to_int(x: f64, power: i32) -> Result<i128, NumberError> {
    if !x.is_finite() {
        return Err(NumberError::NotFinite(x.to_string()));
    }
    let scaled = x * 10f64.powi(power);
    let rounded = scaled.round_ties_even();
    if (rounded - scaled).abs() >= 1e-3 {
        return Err(NumberError::CausesRounding(format!("{x:?}")));
    }
    if rounded.abs() >= 1.7e38 {
        return Err(NumberError::Range(format!("{x:?}")));
    }
    Ok(rounded as i128)
}

/// USD as the integer micro-dollars of `updateIsolatedMargin` (`ntli`), exactly.
pub fn usd_to_micros(d: Decimal) -> Result<i64, NumberError> {
    use rust_decimal::prelude::ToPrimitive;
    let scaled = d.checked_mul(Decimal::from(1_000_000)).ok_or_else(|| NumberError::Range(d.to_string()))?;
    if !scaled.fract().is_zero() {
        return Err(NumberError::CausesRounding(d.to_string()));
    }
    scaled.to_i64().ok_or_else(|| NumberError::Range(d.to_string()))
}

/// Which way to round to the venue's grid: a buy's limit rounds up to stay
/// marketable, a sell's down; sizes round down so a cap is never exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toward {
    Up,
    Down,
    Nearest,
}

impl Toward {
    fn strategy(self) -> RoundingStrategy {
        match self {
            Toward::Up => RoundingStrategy::AwayFromZero,
            Toward::Down => RoundingStrategy::ToZero,
            Toward::Nearest => RoundingStrategy::MidpointNearestEven,
        }
    }
}

/// The tick and lot rules of one asset, from `meta`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssetRules {
    pub sz_decimals: u32,
    /// Perps 6, spot 8.
    pub max_decimals: u32,
}

impl AssetRules {
    pub fn perp(sz_decimals: u32) -> AssetRules {
        AssetRules { sz_decimals, max_decimals: 6 }
    }

    pub fn spot(sz_decimals: u32) -> AssetRules {
        AssetRules { sz_decimals, max_decimals: 8 }
    }

    /// A price on the grid: at most five significant figures (an integer price
    /// is always allowed) and at most `max_decimals − szDecimals` decimals.
    pub fn round_price(&self, px: Decimal, toward: Toward) -> Decimal {
        if px <= Decimal::ZERO {
            return px;
        }
        let decimals = self.max_decimals.saturating_sub(self.sz_decimals);
        let integer_digits = px.trunc().normalize().to_string().trim_start_matches('0').len() as u32;
        let by_sig = if integer_digits >= PRICE_SIG_FIGS {
            // Five or more integer digits: whole numbers only.
            0
        } else if integer_digits > 0 {
            PRICE_SIG_FIGS - integer_digits
        } else {
            // 0.00ddd…: the leading zeros after the point do not count.
            let frac = px.normalize().to_string();
            let zeros = frac.split('.').nth(1).map(|f| f.len() - f.trim_start_matches('0').len()).unwrap_or(0) as u32;
            zeros + PRICE_SIG_FIGS
        };
        px.round_dp_with_strategy(by_sig.min(decimals), toward.strategy()).normalize()
    }

    /// A size on the lot: `szDecimals` decimals.
    pub fn round_size(&self, sz: Decimal, toward: Toward) -> Decimal {
        sz.round_dp_with_strategy(self.sz_decimals, toward.strategy()).normalize()
    }

    /// Whether a price already is on the grid.
    pub fn valid_price(&self, px: Decimal) -> bool {
        self.round_price(px, Toward::Nearest) == px.normalize()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        crate::wire::parse_decimal(s).unwrap()
    }

    #[test]
    fn exact_decimals_format_without_rounding() {
        assert_eq!(decimal_to_wire(d("100.000")).unwrap(), "100");
        assert_eq!(decimal_to_wire(d("0.00000001")).unwrap(), "0.00000001");
        assert_eq!(decimal_to_wire(d("-0.0")).unwrap(), "0");
        assert!(matches!(decimal_to_wire(d("0.000000001")), Err(NumberError::CausesRounding(_))));
        assert!(matches!(positive_to_wire("px", d("0")), Err(NumberError::NotPositive { .. })));
        assert_eq!(usd_to_micros(d("-5.5")).unwrap(), -5_500_000);
        assert!(usd_to_micros(d("0.0000001")).is_err());
    }

    #[test]
    fn prices_round_to_five_significant_figures_and_the_decimal_cap() {
        let perp0 = AssetRules::perp(0);
        assert_eq!(perp0.round_price(d("1.2345678"), Toward::Nearest), d("1.2346"));
        assert_eq!(perp0.round_price(d("123456.7"), Toward::Nearest), d("123457"));
        assert_eq!(perp0.round_price(d("0.0123456"), Toward::Nearest), d("0.012346"));
        assert_eq!(AssetRules::perp(1).round_price(d("0.0123456"), Toward::Nearest), d("0.01235"));
        assert_eq!(perp0.round_price(d("3456.789"), Toward::Up), d("3456.8"));
        assert_eq!(perp0.round_price(d("3456.789"), Toward::Down), d("3456.7"));
        assert_eq!(AssetRules::perp(5).round_size(d("1.23456789"), Toward::Down), d("1.23456"));
        assert!(!perp0.valid_price(d("64999.5")) && perp0.valid_price(d("65000")));
    }
}
