//! Between the engine's exact `Fixed` (18 places) and the wire's `Decimal`
//! (rust_decimal, 28 significant digits): exact both ways or refused, never
//! a silently rounded copy.

use connectors::wire::{Decimal, parse_decimal};
use dataflows::model::{Fixed, NumError};

/// A wire decimal as the engine's fixed point.
pub fn to_fixed(d: &Decimal) -> Result<Fixed, NumError> {
    Fixed::parse(&d.normalize().to_string())
}

/// An engine number for the wire; `None` when it has more digits than a `Decimal` holds.
pub fn to_decimal(x: Fixed) -> Option<Decimal> {
    parse_decimal(&x.to_string()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_exactly_or_refuses() {
        for s in ["0", "-1.5", "266.90391459074733096", "0.000000000000000001"] {
            let x = Fixed::parse(s).unwrap();
            assert_eq!(to_fixed(&to_decimal(x).unwrap()).unwrap(), x, "{s}");
        }
        let huge = Fixed::parse("123456789012345.123456789012345678").unwrap();
        assert_eq!(to_decimal(huge), None, "33 digits do not fit a Decimal");
        assert!(to_fixed(&parse_decimal("0.0000000000000000001").unwrap()).is_err(), "19 places");
    }
}
