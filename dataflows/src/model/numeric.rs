//! Typed exact quantities: `Usd`, `Price`, `Size` and `Ratio`, all on [`Fixed`].
//!
//! Separate types keep units straight at compile time: a price times a size is a
//! dollar amount, dollars over dollars is a ratio, and adding a size to a price
//! does not compile. Every operation that can overflow returns `Result`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::fixed::{Fixed, NumError, Rounding};

macro_rules! quantity {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(Fixed);

        impl $name {
            pub const ZERO: $name = $name(Fixed::ZERO);

            pub const fn new(value: Fixed) -> $name {
                $name(value)
            }
            pub const fn fixed(self) -> Fixed {
                self.0
            }
            pub const fn from_int(n: i64) -> $name {
                $name(Fixed::from_int(n))
            }
            /// A literal for constants: `lit(125, 2)` is 1.25 (see [`Fixed::lit`]).
            pub const fn lit(mantissa: i64, decimals: u32) -> $name {
                $name(Fixed::lit(mantissa, decimals))
            }
            /// Strict decimal text, as the APIs send numbers (see [`Fixed::parse`]).
            pub fn parse(s: &str) -> Result<$name, NumError> {
                Fixed::parse(s).map($name)
            }
            /// Decimal text that may use exponent notation.
            pub fn parse_scientific(s: &str) -> Result<$name, NumError> {
                Fixed::parse_scientific(s).map($name)
            }
            /// Through the float's shortest round-trip text (see [`Fixed::from_f64`]).
            pub fn from_f64(x: f64) -> Result<$name, NumError> {
                Fixed::from_f64(x).map($name)
            }
            pub fn to_f64(self) -> f64 {
                self.0.to_f64()
            }
            pub const fn is_zero(self) -> bool {
                self.0.is_zero()
            }
            pub const fn is_positive(self) -> bool {
                self.0.is_positive()
            }
            pub const fn is_negative(self) -> bool {
                self.0.is_negative()
            }
            pub const fn signum(self) -> i32 {
                self.0.signum()
            }
            pub const fn abs(self) -> $name {
                $name(self.0.abs())
            }
            pub const fn neg(self) -> $name {
                $name(self.0.neg())
            }
            pub fn min(self, other: $name) -> $name {
                Ord::min(self, other)
            }
            pub fn max(self, other: $name) -> $name {
                Ord::max(self, other)
            }
            pub fn checked_add(self, rhs: $name) -> Result<$name, NumError> {
                self.0.checked_add(rhs.0).map($name)
            }
            pub fn checked_sub(self, rhs: $name) -> Result<$name, NumError> {
                self.0.checked_sub(rhs.0).map($name)
            }
            /// Scaled by a dimensionless factor.
            pub fn checked_mul_ratio(self, factor: Ratio) -> Result<$name, NumError> {
                self.0.checked_mul(factor.0).map($name)
            }
            /// Divided by a dimensionless factor.
            pub fn checked_div_ratio(self, factor: Ratio) -> Result<$name, NumError> {
                self.0.checked_div(factor.0).map($name)
            }
            /// `self ÷ other` as a ratio (e.g. a position's weight in an account).
            pub fn ratio_to(self, other: $name) -> Result<Ratio, NumError> {
                self.0.checked_div(other.0).map(Ratio)
            }
            pub fn round_dp(self, dp: u32, mode: Rounding) -> Result<$name, NumError> {
                self.0.round_dp(dp, mode).map($name)
            }
            /// Sum of many values; overflow is an error.
            pub fn checked_sum<I: IntoIterator<Item = $name>>(items: I) -> Result<$name, NumError> {
                items.into_iter().try_fold($name::ZERO, |acc, x| acc.checked_add(x))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
        impl FromStr for $name {
            type Err = NumError;
            fn from_str(s: &str) -> Result<$name, NumError> {
                $name::parse(s)
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.0.serialize(s)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                Fixed::deserialize(d).map($name)
            }
        }
    };
}

quantity!(
    /// An amount of US dollars (USDC): account values, notionals, PnL, fees.
    Usd
);
quantity!(
    /// A price in USD per unit of the token.
    Price
);
quantity!(
    /// A quantity of a token; signed where it is a position (negative = short).
    Size
);
quantity!(
    /// A dimensionless number: fractions, percentages (named `_percent` where they
    /// are), leverage, scores, funding rates.
    Ratio
);

impl Ratio {
    pub const ONE: Ratio = Ratio(Fixed::ONE);
    pub const HUNDRED: Ratio = Ratio(Fixed::from_int(100));

    pub fn checked_mul(self, rhs: Ratio) -> Result<Ratio, NumError> {
        self.0.checked_mul(rhs.0).map(Ratio)
    }
    pub fn checked_div(self, rhs: Ratio) -> Result<Ratio, NumError> {
        self.0.checked_div(rhs.0).map(Ratio)
    }
    /// A percentage (5.0) as a fraction (0.05).
    pub fn percent_to_fraction(self) -> Result<Ratio, NumError> {
        self.checked_div(Ratio::HUNDRED)
    }
    /// A fraction (0.05) as a percentage (5.0).
    pub fn fraction_to_percent(self) -> Result<Ratio, NumError> {
        self.checked_mul(Ratio::HUNDRED)
    }
}

impl Price {
    /// Notional value of `size` at this price: `|size| × price` keeps the sign of size.
    pub fn notional(self, size: Size) -> Result<Usd, NumError> {
        self.0.checked_mul(size.0).map(Usd)
    }
    /// Relative move from `self` to `other` in percent: `|other − self| / self × 100`.
    pub fn abs_change_percent(self, other: Price) -> Result<Ratio, NumError> {
        let diff = other.0.checked_sub(self.0)?.abs();
        diff.checked_mul_div(Fixed::from_int(100), self.0, Rounding::HalfEven).map(Ratio)
    }
}

impl Usd {
    /// How many units of a token `self` buys at `price`.
    pub fn div_price(self, price: Price) -> Result<Size, NumError> {
        self.0.checked_div(price.0).map(Size)
    }
}

impl Size {
    /// Value of this quantity at `price` (same as [`Price::notional`]).
    pub fn value_at(self, price: Price) -> Result<Usd, NumError> {
        price.notional(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_combine_as_they_should() {
        let px = Price::parse("67123").unwrap();
        let sz = Size::parse("0.00123").unwrap();
        assert_eq!(px.notional(sz).unwrap(), Usd::parse("82.56129").unwrap());
        let usd = Usd::parse("1000").unwrap();
        assert_eq!(usd.div_price(Price::parse("250").unwrap()).unwrap(), Size::from_int(4));
        let w = Usd::from_int(10_000).ratio_to(Usd::from_int(100_000)).unwrap();
        assert_eq!(w, Ratio::parse("0.1").unwrap());
        assert_eq!(Ratio::parse("5").unwrap().percent_to_fraction().unwrap(), Ratio::parse("0.05").unwrap());
    }

    #[test]
    fn slippage_percent_is_exact() {
        let p0 = Price::from_int(100);
        assert_eq!(p0.abs_change_percent(Price::parse("101.5").unwrap()).unwrap(), Ratio::parse("1.5").unwrap());
        assert_eq!(p0.abs_change_percent(Price::parse("97.5").unwrap()).unwrap(), Ratio::parse("2.5").unwrap());
        assert!(Price::ZERO.abs_change_percent(p0).is_err());
    }

    #[test]
    fn debug_names_the_unit_and_display_is_canonical() {
        assert_eq!(format!("{:?}", Usd::parse("12.50").unwrap()), "Usd(12.5)");
        assert_eq!(Size::parse("-0.010").unwrap().to_string(), "-0.01");
    }

    #[test]
    fn sums_are_checked() {
        let xs = [Usd::from_int(1), Usd::from_int(2), Usd::parse("0.5").unwrap()];
        assert_eq!(Usd::checked_sum(xs).unwrap(), Usd::parse("3.5").unwrap());
        assert!(Usd::checked_sum([Usd::new(Fixed::MAX), Usd::from_int(1)]).is_err());
    }
}
