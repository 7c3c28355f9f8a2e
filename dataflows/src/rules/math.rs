//! Deterministic transcendental functions on [`Fixed`]: the same bits on every
//! run, machine and worker count (DESIGN §3), unlike `f64::exp`, whose last bit
//! may differ between libm implementations. Both are good to the rules' 1e-12
//! relative precision wherever the result is at least 1e-6; below that the
//! 18th decimal (an absolute 1e-18) is the limit.

use ethnum::U256;

use crate::model::{Fixed, NumError};

const SCALE: i128 = 1_000_000_000_000_000_000;
/// ln 2 × 10^18, rounded.
const LN2_RAW: i128 = 693_147_180_559_945_309;

/// √x, rounded down to the 18th decimal; an error for x < 0.
pub fn sqrt(x: Fixed) -> Result<Fixed, NumError> {
    if x.is_negative() {
        return Err(NumError::Domain("square root of a negative number"));
    }
    // √(r / 10^18) = √(r × 10^18) / 10^18: an integer square root in 256 bits.
    let n = U256::from(x.raw() as u128) * U256::from(SCALE as u128);
    if n == U256::ZERO {
        return Ok(Fixed::ZERO);
    }
    // Newton from above converges to ⌊√n⌋.
    let mut y = U256::ONE << ((256 - n.leading_zeros()).div_ceil(2));
    loop {
        let next = (y + n / y) >> 1;
        if next >= y {
            break;
        }
        y = next;
    }
    Ok(Fixed::from_raw(y.as_i128()))
}

/// eˣ. Range reduction x = k·ln2 + r with |r| ≤ ln2/2, a Taylor series for eʳ
/// in 10^-18 fixed point, then a shift by k. Underflows to 0 below about −41;
/// an error when the result would not fit.
pub fn exp(x: Fixed) -> Result<Fixed, NumError> {
    let raw = x.raw();
    // k = round(x / ln2), computed exactly in integers.
    let k = (raw + raw.signum() * LN2_RAW / 2) / LN2_RAW;
    let r = raw - k * LN2_RAW;
    // eʳ = Σ rⁿ/n!, the terms carrying two guard digits (10^20 scale; a term
    // times r stays below 4e37, inside i128).
    const GUARD: i128 = 100;
    let one_g = SCALE * GUARD;
    let mut term = one_g;
    let mut sum = one_g;
    for n in 1..40 {
        term = term * r / SCALE / n;
        if term == 0 {
            break;
        }
        sum += term;
    }
    let e_r = (sum + GUARD / 2) / GUARD;
    let out = if k >= 0 {
        if k > 100 || e_r > (Fixed::MAX.raw() >> k) {
            return Err(NumError::Overflow("exp"));
        }
        e_r << k
    } else if k < -126 {
        0
    } else {
        // Rounded half up on the shift.
        let s = (-k) as u32;
        (e_r + (1i128 << (s - 1))) >> s
    };
    Ok(Fixed::from_raw(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Fixed {
        Fixed::parse(s).unwrap()
    }

    fn close(a: Fixed, b: f64, rel: f64) {
        let a = a.to_f64();
        let ok = if b.abs() >= 1e-6 { ((a - b) / b).abs() < rel } else { (a - b).abs() <= 1e-18 };
        assert!(ok, "{a} vs {b}");
    }

    #[test]
    fn sqrt_is_exact_on_squares_and_close_elsewhere() {
        assert_eq!(sqrt(f("4")).unwrap(), f("2"));
        assert_eq!(sqrt(f("0.0001")).unwrap(), f("0.01"));
        assert_eq!(sqrt(Fixed::ZERO).unwrap(), Fixed::ZERO);
        close(sqrt(f("2")).unwrap(), std::f64::consts::SQRT_2, 1e-15);
        close(sqrt(f("123456789.123")).unwrap(), 123456789.123f64.sqrt(), 1e-15);
        assert!(sqrt(f("-1")).is_err());
    }

    #[test]
    fn exp_matches_the_reference_to_1e_12() {
        for x in ["0", "1", "-1", "-0.693", "-4.2", "10", "-20", "0.34", "-0.35", "30"] {
            let v = f(x);
            close(exp(v).unwrap(), v.to_f64().exp(), 1e-12);
        }
        assert_eq!(exp(Fixed::ZERO).unwrap(), Fixed::ONE);
        assert_eq!(exp(f("-100")).unwrap(), Fixed::ZERO);
        assert!(exp(f("100")).is_err());
        // The rules' recency decay at one half-life (literal 0.693): 0.50007.
        let d = exp(f("-0.693")).unwrap();
        assert_eq!(d.round_dp(5, crate::model::Rounding::HalfEven).unwrap(), f("0.50007"));
    }
}
