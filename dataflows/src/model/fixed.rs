//! `Fixed`: the exact decimal number every amount, price, size and ratio is built on.
//!
//! **Why fixed-point `i128` with 18 decimals, and not an exact decimal crate.**
//! Records flow through differential dataflow, which consolidates them by `Ord` and
//! ships them between workers serialized. A decimal type with a variable scale
//! (`1.0` vs `1.00`) has several byte representations for one value, so which one
//! survives consolidation — and so what a report prints — could depend on the
//! worker count. A single fixed scale gives exactly one representation per value:
//! `Eq`, `Ord`, `Hash`, the serialized bytes and the printed text all agree, which
//! is what makes outputs byte-identical across runs and workers (DESIGN §3).
//! Addition and comparison — the dataflow's hot path — are native integer
//! operations. The range (±1.7·10²⁰ with 10⁻¹⁸ resolution) holds every number the
//! APIs send exactly (Hyperliquid's wire format has at most 8 decimals) with room
//! for products: multiplication and division go through a 256-bit intermediate and
//! round half-to-even once, so `a × b` is the correctly rounded product.
//!
//! Arithmetic is checked: overflow and division by zero are errors, never a wrap or
//! a panic, because the operands come from outside.

use std::fmt;
use std::str::FromStr;

use ethnum::U256;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Number of decimal digits after the point.
pub const DECIMALS: u32 = 18;
const SCALE: i128 = 1_000_000_000_000_000_000;
/// Longest input echoed back in an error message.
const ECHO_LIMIT: usize = 48;

/// Why a number could not be parsed or computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumError {
    #[error("empty number")]
    Empty,
    #[error("not a decimal number: {0:?}")]
    Malformed(String),
    #[error("exponent notation is not accepted here: {0:?} (write it as a plain decimal)")]
    Exponent(String),
    #[error("{0:?} has more than {DECIMALS} decimal places")]
    TooPrecise(String),
    #[error("{0:?} is out of range (|x| < 1.7e20)")]
    OutOfRange(String),
    #[error("not a finite number: {0}")]
    NotFinite(String),
    #[error("arithmetic overflow in {0}")]
    Overflow(&'static str),
    #[error("division by zero")]
    DivisionByZero,
    #[error("outside the domain: {0}")]
    Domain(&'static str),
}

fn echo(s: &str) -> String {
    if s.len() <= ECHO_LIMIT {
        s.to_string()
    } else {
        let mut end = ECHO_LIMIT;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    }
}

/// How to round a value that does not fit the requested precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Rounding {
    /// Toward zero (truncate): sizes are cut down, never rounded up past a cap.
    TowardZero,
    /// Away from zero.
    AwayFromZero,
    /// Toward −∞.
    Floor,
    /// Toward +∞.
    Ceil,
    /// To nearest, ties to even (unbiased; what every multiplication here uses).
    HalfEven,
}

/// An exact decimal number: an `i128` count of 10⁻¹⁸.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Fixed(i128);

/// Largest magnitude allowed; `i128::MIN` is excluded so negation never overflows.
const MAX_RAW: i128 = i128::MAX;

impl Fixed {
    pub const ZERO: Fixed = Fixed(0);
    pub const ONE: Fixed = Fixed(SCALE);
    pub const MAX: Fixed = Fixed(MAX_RAW);
    pub const MIN: Fixed = Fixed(-MAX_RAW);

    /// The value `raw × 10⁻¹⁸`.
    pub const fn from_raw(raw: i128) -> Fixed {
        Fixed(raw)
    }

    /// The raw count of 10⁻¹⁸.
    pub const fn raw(self) -> i128 {
        self.0
    }

    /// An integer value (every `i64` fits).
    pub const fn from_int(n: i64) -> Fixed {
        Fixed(n as i128 * SCALE)
    }

    /// A literal `mantissa × 10^(−decimals)` for constants: `Fixed::lit(125, 2)` is
    /// 1.25. Evaluated at compile time in `const` items, where a value out of range
    /// is a build error.
    pub const fn lit(mantissa: i64, decimals: u32) -> Fixed {
        assert!(decimals <= DECIMALS, "at most 18 decimals");
        Fixed(mantissa as i128 * 10i128.pow(DECIMALS - decimals))
    }

    /// `mantissa × 10^(−decimals)`, e.g. `from_parts(25, 2)` = 0.25. Errors when
    /// `decimals` exceeds 18 or the value is out of range.
    pub fn from_parts(mantissa: i128, decimals: u32) -> Result<Fixed, NumError> {
        if decimals > DECIMALS {
            return Err(NumError::TooPrecise(format!("{mantissa}e-{decimals}")));
        }
        let factor = 10i128.pow(DECIMALS - decimals);
        mantissa.checked_mul(factor).filter(|r| *r != i128::MIN).map(Fixed).ok_or(NumError::Overflow("from_parts"))
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }
    /// −1, 0 or 1.
    pub const fn signum(self) -> i32 {
        self.0.signum() as i32
    }
    pub const fn abs(self) -> Fixed {
        Fixed(self.0.abs())
    }
    pub const fn neg(self) -> Fixed {
        Fixed(-self.0)
    }
    pub fn min(self, other: Fixed) -> Fixed {
        Ord::min(self, other)
    }
    pub fn max(self, other: Fixed) -> Fixed {
        Ord::max(self, other)
    }
    /// `self` clamped into `[lo, hi]`.
    pub fn clamp(self, lo: Fixed, hi: Fixed) -> Fixed {
        self.max(lo).min(hi)
    }

    pub fn checked_add(self, rhs: Fixed) -> Result<Fixed, NumError> {
        self.0.checked_add(rhs.0).filter(|r| *r != i128::MIN).map(Fixed).ok_or(NumError::Overflow("addition"))
    }

    pub fn checked_sub(self, rhs: Fixed) -> Result<Fixed, NumError> {
        self.0.checked_sub(rhs.0).filter(|r| *r != i128::MIN).map(Fixed).ok_or(NumError::Overflow("subtraction"))
    }

    /// `self × rhs`, rounded half-to-even to 18 decimals.
    pub fn checked_mul(self, rhs: Fixed) -> Result<Fixed, NumError> {
        mul_div(self.0, rhs.0, SCALE, Rounding::HalfEven).map(Fixed).ok_or(NumError::Overflow("multiplication"))
    }

    /// `self ÷ rhs`, rounded half-to-even to 18 decimals.
    pub fn checked_div(self, rhs: Fixed) -> Result<Fixed, NumError> {
        if rhs.0 == 0 {
            return Err(NumError::DivisionByZero);
        }
        mul_div(self.0, SCALE, rhs.0, Rounding::HalfEven).map(Fixed).ok_or(NumError::Overflow("division"))
    }

    /// `self × num ÷ den` with a single rounding (more exact than two steps).
    pub fn checked_mul_div(self, num: Fixed, den: Fixed, mode: Rounding) -> Result<Fixed, NumError> {
        if den.0 == 0 {
            return Err(NumError::DivisionByZero);
        }
        mul_div(self.0, num.0, den.0, mode).map(Fixed).ok_or(NumError::Overflow("mul_div"))
    }

    /// Multiplication by an integer.
    pub fn checked_mul_int(self, n: i64) -> Result<Fixed, NumError> {
        self.0.checked_mul(n as i128).filter(|r| *r != i128::MIN).map(Fixed).ok_or(NumError::Overflow("multiplication"))
    }

    /// Division by an integer, rounded half-to-even.
    pub fn checked_div_int(self, n: i64) -> Result<Fixed, NumError> {
        if n == 0 {
            return Err(NumError::DivisionByZero);
        }
        mul_div(self.0, 1, n as i128, Rounding::HalfEven).map(Fixed).ok_or(NumError::Overflow("division"))
    }

    /// Rounded to `dp` decimal places (0..=18) with the given mode. Errors only
    /// when rounding away from zero would leave the representable range.
    pub fn round_dp(self, dp: u32, mode: Rounding) -> Result<Fixed, NumError> {
        if dp >= DECIMALS {
            return Ok(self);
        }
        let unit = 10i128.pow(DECIMALS - dp);
        mul_div(self.0, 1, unit, mode)
            .and_then(|q| q.checked_mul(unit))
            .filter(|r| *r != i128::MIN)
            .map(Fixed)
            .ok_or(NumError::Overflow("rounding"))
    }

    /// Number of decimal places needed to write the value exactly (0..=18).
    pub fn scale(self) -> u32 {
        let mut frac = (self.0 % SCALE).unsigned_abs();
        if frac == 0 {
            return 0;
        }
        let mut dp = DECIMALS;
        while frac.is_multiple_of(10) {
            frac /= 10;
            dp -= 1;
        }
        dp
    }

    /// The integer part, truncated toward zero.
    pub const fn trunc_int(self) -> i128 {
        self.0 / SCALE
    }

    /// Nearest `f64`, for reports and charts only — never for decisions.
    pub fn to_f64(self) -> f64 {
        // Split so large values keep their integer digits exactly where f64 can.
        let int = (self.0 / SCALE) as f64;
        let frac = (self.0 % SCALE) as f64 / SCALE as f64;
        int + frac
    }

    /// Strict decimal parser for API strings: an optional sign, digits, an
    /// optional fraction of at most 18 digits. Exponents, `NaN`, `inf`, blanks and
    /// stray characters are errors.
    pub fn parse(s: &str) -> Result<Fixed, NumError> {
        parse_decimal(s, false)
    }

    /// Like [`Fixed::parse`] but also accepts exponent notation (`1e-8`,
    /// `1.25E+3`), which JSON and TOML numbers may use. The result must still be
    /// exact at 18 decimals.
    pub fn parse_scientific(s: &str) -> Result<Fixed, NumError> {
        parse_decimal(s, true)
    }

    /// Converts a binary float through its shortest round-trip text, so `0.1`
    /// becomes exactly 0.1 (the value a person wrote in a config file or an API
    /// serialized), not 0.1000000000000000055….
    pub fn from_f64(x: f64) -> Result<Fixed, NumError> {
        if !x.is_finite() {
            return Err(NumError::NotFinite(x.to_string()));
        }
        // Rust's `Display` for f64 is the shortest round-trip form, never exponent.
        let text = format!("{x}");
        parse_decimal(&text, false).map(|v| if v.is_zero() { Fixed::ZERO } else { v })
    }
}

/// `round(a × b ÷ d)` exactly. `None` on overflow or `d = 0`. Products that fit
/// 128 bits (nearly all) take a native path; the rest go through 256 bits.
fn mul_div(a: i128, b: i128, d: i128, mode: Rounding) -> Option<i128> {
    if d == 0 {
        return None;
    }
    let negative = (a < 0) ^ (b < 0) ^ (d < 0) && a != 0 && b != 0;
    let den = d.unsigned_abs();
    let magnitude = match a.unsigned_abs().checked_mul(b.unsigned_abs()) {
        Some(num) => round_quotient(num / den, num % den, den, negative, mode)?,
        None => {
            let num = U256::from(a.unsigned_abs()) * U256::from(b.unsigned_abs());
            let den256 = U256::from(den);
            let q = num / den256;
            if q > U256::from(u128::MAX) {
                return None;
            }
            // r < den ≤ u128::MAX, so both fit 128 bits.
            round_quotient(q.as_u128(), (num % den256).as_u128(), den, negative, mode)?
        }
    };
    if magnitude > MAX_RAW as u128 {
        return None;
    }
    let magnitude = magnitude as i128;
    Some(if negative { -magnitude } else { magnitude })
}

/// Applies `mode` to the quotient `q` with remainder `r` of a division by `den`.
fn round_quotient(q: u128, r: u128, den: u128, negative: bool, mode: Rounding) -> Option<u128> {
    let up = r != 0
        && match mode {
            Rounding::TowardZero => false,
            Rounding::AwayFromZero => true,
            Rounding::Floor => negative,
            Rounding::Ceil => !negative,
            // Compare r with den − r instead of 2r with den: no overflow.
            Rounding::HalfEven => r > den - r || (r == den - r && q % 2 == 1),
        };
    if up { q.checked_add(1) } else { Some(q) }
}

fn parse_decimal(input: &str, allow_exponent: bool) -> Result<Fixed, NumError> {
    if input.is_empty() {
        return Err(NumError::Empty);
    }
    let malformed = || NumError::Malformed(echo(input));
    let bytes = input.as_bytes();
    let (negative, rest) = match bytes[0] {
        b'-' => (true, &input[1..]),
        b'+' => (false, &input[1..]),
        _ => (false, input),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(pos) => {
            if !allow_exponent {
                let looks_numeric = rest[..pos].bytes().all(|b| b.is_ascii_digit() || b == b'.');
                return Err(if looks_numeric && pos > 0 { NumError::Exponent(echo(input)) } else { malformed() });
            }
            let exp_text = &rest[pos + 1..];
            let exp_digits = exp_text.strip_prefix(['+', '-']).unwrap_or(exp_text);
            if exp_digits.is_empty() || exp_digits.len() > 4 || !exp_digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(malformed());
            }
            let exp: i32 = exp_text.parse().map_err(|_| malformed())?;
            (&rest[..pos], exp)
        }
        None => (rest, 0),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int_part.is_empty() || !digits_ok(int_part) || !digits_ok(frac_part) {
        return Err(malformed());
    }
    if mantissa.ends_with('.') {
        return Err(malformed());
    }
    // All digits as one integer, and the power of ten that places the point.
    let frac_trimmed = frac_part.trim_end_matches('0');
    let mut digits: String = String::with_capacity(int_part.len() + frac_trimmed.len());
    digits.push_str(int_part.trim_start_matches('0'));
    digits.push_str(frac_trimmed);
    let point = exponent - frac_trimmed.len() as i32; // value = digits × 10^point
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Ok(Fixed::ZERO);
    }
    let shift = point + DECIMALS as i32; // raw = digits × 10^shift
    if shift < 0 {
        return Err(NumError::TooPrecise(echo(input)));
    }
    if digits.len() > 39 || shift > 38 {
        return Err(NumError::OutOfRange(echo(input)));
    }
    let out_of_range = || NumError::OutOfRange(echo(input));
    let base: i128 = digits.parse().map_err(|_| out_of_range())?;
    let raw = base.checked_mul(10i128.pow(shift as u32)).filter(|r| *r != i128::MIN).ok_or_else(out_of_range)?;
    Ok(Fixed(if negative { -raw } else { raw }))
}

impl FromStr for Fixed {
    type Err = NumError;
    fn from_str(s: &str) -> Result<Fixed, NumError> {
        Fixed::parse(s)
    }
}

/// Canonical text: no trailing zeros, no exponent, no `-0`.
impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let magnitude = self.0.unsigned_abs();
        let int = magnitude / SCALE as u128;
        let frac = magnitude % SCALE as u128;
        let sign = if self.0 < 0 { "-" } else { "" };
        if frac == 0 {
            return f.pad_integral(true, "", &format!("{sign}{int}"));
        }
        let frac_text = format!("{frac:018}");
        let text = format!("{sign}{int}.{}", frac_text.trim_end_matches('0'));
        f.pad(&text)
    }
}

impl fmt::Debug for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Text formats (JSON, TOML) carry the canonical decimal string; binary formats
/// (timely's exchange, redb records) carry the raw `i128`.
impl Serialize for Fixed {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() { serializer.collect_str(self) } else { serializer.serialize_i128(self.0) }
    }
}

impl<'de> Deserialize<'de> for Fixed {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Fixed, D::Error> {
        if deserializer.is_human_readable() {
            deserializer.deserialize_any(FixedVisitor)
        } else {
            i128::deserialize(deserializer).and_then(|raw| {
                if raw == i128::MIN { Err(de::Error::custom("fixed-point value out of range")) } else { Ok(Fixed(raw)) }
            })
        }
    }
}

struct FixedVisitor;

impl Visitor<'_> for FixedVisitor {
    type Value = Fixed;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal number or a decimal string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Fixed, E> {
        Fixed::parse(v).map_err(E::custom)
    }
    /// The binary form (the raw `i128`, big-endian, as MessagePack writes it)
    /// reaching this visitor through serde's buffering, which says "human
    /// readable" — inside an internally tagged enum such as `OrderType`.
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Fixed, E> {
        let raw: [u8; 16] = v.try_into().map_err(|_| E::invalid_length(v.len(), &"16 bytes"))?;
        match i128::from_be_bytes(raw) {
            i128::MIN => Err(E::custom("fixed-point value out of range")),
            raw => Ok(Fixed(raw)),
        }
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Fixed, E> {
        Ok(Fixed::from_int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Fixed, E> {
        Fixed::from_parts(v as i128, 0).map_err(E::custom)
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Fixed, E> {
        Fixed::from_parts(v, 0).map_err(E::custom)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Fixed, E> {
        Fixed::from_f64(v).map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Fixed {
        Fixed::parse(s).expect(s)
    }

    #[test]
    fn parses_api_strings_exactly() {
        assert_eq!(f("0.0012").raw(), 1_200_000_000_000_000);
        assert_eq!(f("-3.5").raw(), -3_500_000_000_000_000_000);
        assert_eq!(f("67123"), Fixed::from_int(67123));
        assert_eq!(f("+1.50"), f("1.5"));
        assert_eq!(f("0.000000000000000001").raw(), 1);
        assert_eq!(f("-0"), Fixed::ZERO);
        assert_eq!(f("000123.4500"), f("123.45"));
    }

    #[test]
    fn rejects_what_is_not_a_plain_decimal() {
        for bad in ["", "-", "+", ".5", "1.", "1..2", "1.2.3", "abc", "NaN", "inf", " 1", "1 ", "1,5", "--1", "0x10"] {
            assert!(Fixed::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(Fixed::parse("1e-8"), Err(NumError::Exponent("1e-8".into())));
        assert_eq!(Fixed::parse("0.0000000000000000001"), Err(NumError::TooPrecise("0.0000000000000000001".into())));
        assert!(matches!(Fixed::parse("1000000000000000000000"), Err(NumError::OutOfRange(_))));
    }

    #[test]
    fn exponent_notation_is_opt_in() {
        assert_eq!(Fixed::parse_scientific("1e-8").unwrap(), f("0.00000001"));
        assert_eq!(Fixed::parse_scientific("1.25E+3").unwrap(), f("1250"));
        assert_eq!(Fixed::parse_scientific("-2.5e0").unwrap(), f("-2.5"));
        assert!(Fixed::parse_scientific("1e-19").is_err());
        assert!(Fixed::parse_scientific("1e").is_err());
        assert!(Fixed::parse_scientific("1e99999").is_err());
    }

    #[test]
    fn displays_without_float_noise() {
        assert_eq!(f("100.0").to_string(), "100");
        assert_eq!(f("0.30").to_string(), "0.3");
        assert_eq!(f("-0.5").to_string(), "-0.5");
        assert_eq!(f("0.00000001").to_string(), "0.00000001");
        assert_eq!(Fixed::from_f64(0.1 + 0.2).unwrap().to_string(), "0.30000000000000004");
        assert_eq!(Fixed::from_f64(-0.0).unwrap().to_string(), "0");
        assert_eq!(format!("{:>6}", f("1.5")), "   1.5");
    }

    #[test]
    fn floats_convert_through_their_shortest_text() {
        assert_eq!(Fixed::from_f64(0.1).unwrap(), f("0.1"));
        assert_eq!(Fixed::from_f64(1e-8).unwrap(), f("0.00000001"));
        assert!(Fixed::from_f64(f64::NAN).is_err());
        assert!(Fixed::from_f64(f64::INFINITY).is_err());
        assert!(Fixed::from_f64(1e30).is_err());
    }

    #[test]
    fn multiplication_rounds_half_even_once() {
        assert_eq!(f("1.5").checked_mul(f("2")).unwrap(), f("3"));
        assert_eq!(f("67123").checked_mul(f("0.00123")).unwrap(), f("82.56129"));
        // 1e-18 × 0.5 = 0.5e-18 → ties to even (0).
        assert_eq!(Fixed::from_raw(1).checked_mul(f("0.5")).unwrap(), Fixed::ZERO);
        assert_eq!(Fixed::from_raw(3).checked_mul(f("0.5")).unwrap(), Fixed::from_raw(2));
        assert_eq!(Fixed::from_raw(-3).checked_mul(f("0.5")).unwrap(), Fixed::from_raw(-2));
        // Large operands do not overflow in the intermediate product.
        assert_eq!(f("100000000000").checked_mul(f("0.000000001")).unwrap(), f("100"));
    }

    #[test]
    fn division_is_exact_where_possible_and_checked() {
        assert_eq!(f("1").checked_div(f("4")).unwrap(), f("0.25"));
        assert_eq!(f("1").checked_div(f("3")).unwrap().to_string(), "0.333333333333333333");
        assert_eq!(f("2").checked_div(f("3")).unwrap().to_string(), "0.666666666666666667");
        assert_eq!(f("1").checked_div(Fixed::ZERO), Err(NumError::DivisionByZero));
        assert_eq!(f("-7").checked_div_int(2).unwrap(), f("-3.5"));
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        assert!(Fixed::MAX.checked_add(Fixed::from_raw(1)).is_err());
        assert!(Fixed::MIN.checked_sub(Fixed::from_raw(1)).is_err());
        assert!(f("100000000000000000000").checked_mul(f("2")).is_err());
        assert!(f("100000000000000000000").checked_div(f("0.1")).is_err());
        assert!(Fixed::MAX.checked_mul_int(2).is_err());
    }

    #[test]
    fn rounding_modes_to_decimal_places() {
        let x = f("2.345");
        let r = |v: Fixed, mode| v.round_dp(2, mode).unwrap();
        assert_eq!(r(x, Rounding::TowardZero), f("2.34"));
        assert_eq!(r(x, Rounding::AwayFromZero), f("2.35"));
        assert_eq!(r(x, Rounding::HalfEven), f("2.34"));
        assert_eq!(r(f("2.355"), Rounding::HalfEven), f("2.36"));
        assert_eq!(r(f("-2.345"), Rounding::Floor), f("-2.35"));
        assert_eq!(r(f("-2.345"), Rounding::Ceil), f("-2.34"));
        assert_eq!(Fixed::MIN.round_dp(0, Rounding::Floor), Err(NumError::Overflow("rounding")));
        assert_eq!(f("0.123").scale(), 3);
        assert_eq!(f("12").scale(), 0);
    }

    #[test]
    fn serde_text_is_a_string_and_binary_is_raw() {
        let v = f("-12.5");
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"-12.5\"");
        assert_eq!(serde_json::from_str::<Fixed>("\"-12.5\"").unwrap(), v);
        assert_eq!(serde_json::from_str::<Fixed>("-12.5").unwrap(), v);
        assert_eq!(serde_json::from_str::<Fixed>("3").unwrap(), f("3"));
        assert!(serde_json::from_str::<Fixed>("\"1e5\"").is_err());
        let bin = rmp_serde::to_vec(&v).unwrap();
        assert_eq!(rmp_serde::from_slice::<Fixed>(&bin).unwrap(), v);
    }
}
