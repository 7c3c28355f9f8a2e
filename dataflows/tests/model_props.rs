//! Property tests of the exact numeric types and identifiers: parsing round-trips,
//! arithmetic against an independent integer reference, and that no input panics.

use dataflows::model::{Address, Fixed, NumError, Price, Rounding, Size, Token, Usd};
use proptest::prelude::*;

const SCALE: i128 = 1_000_000_000_000_000_000;

/// Any representable value (i128::MIN is excluded by design).
fn any_fixed() -> impl Strategy<Value = Fixed> {
    prop_oneof![
        (-i128::MAX..=i128::MAX).prop_map(Fixed::from_raw),
        (-1_000_000i128..1_000_000).prop_map(Fixed::from_raw),
        (-1_000_000_000i64..1_000_000_000).prop_map(Fixed::from_int),
        Just(Fixed::MAX),
        Just(Fixed::MIN),
        Just(Fixed::ZERO),
    ]
}

/// Values whose raw products still fit in i128, so a plain-integer reference exists.
fn small_raw() -> impl Strategy<Value = i128> {
    -1_000_000_000_000_000_000i128..1_000_000_000_000_000_000
}

/// Reference rounding of `n / d` half-to-even, in plain i128 (n, d small enough).
fn div_half_even(n: i128, d: i128) -> i128 {
    let q = n / d;
    let r = n % d;
    if r == 0 {
        return q;
    }
    let twice = (2 * r).abs();
    let away = twice > d.abs() || (twice == d.abs() && q % 2 != 0);
    if away { q + if (n < 0) ^ (d < 0) { -1 } else { 1 } } else { q }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn display_then_parse_is_identity(x in any_fixed()) {
        let text = x.to_string();
        prop_assert_eq!(Fixed::parse(&text), Ok(x));
        prop_assert!(!text.contains('e') && !text.ends_with('.') && text != "-0");
        if text.contains('.') {
            prop_assert!(!text.ends_with('0'), "trailing zero in {}", text);
        }
    }

    #[test]
    fn serde_round_trips_in_text_and_binary(x in any_fixed()) {
        let json = serde_json::to_string(&x).unwrap();
        prop_assert_eq!(serde_json::from_str::<Fixed>(&json).unwrap(), x);
        let bin = rmp_serde::to_vec(&x).unwrap();
        prop_assert_eq!(rmp_serde::from_slice::<Fixed>(&bin).unwrap(), x);
        // Inside an internally tagged enum serde buffers the value and calls
        // it human readable: the binary form must still read back.
        let tagged = dataflows::model::OrderType::Market { max_slippage_percent: dataflows::model::Ratio::new(x) };
        let bin = rmp_serde::to_vec_named(&tagged).unwrap();
        prop_assert_eq!(rmp_serde::from_slice::<dataflows::model::OrderType>(&bin).unwrap(), tagged);
    }

    #[test]
    fn addition_is_checked_exactly(a in any_fixed(), b in any_fixed()) {
        let want = a.raw().checked_add(b.raw()).filter(|r| *r != i128::MIN);
        match a.checked_add(b) {
            Ok(sum) => {
                prop_assert_eq!(Some(sum.raw()), want);
                prop_assert_eq!(sum.checked_sub(b), Ok(a));
            }
            Err(e) => {
                prop_assert_eq!(want, None);
                prop_assert_eq!(e, NumError::Overflow("addition"));
            }
        }
    }

    #[test]
    fn multiplication_matches_integer_reference(a in small_raw(), b in small_raw()) {
        // |a·b| < 1e36 fits in i128: the reference is exact.
        let got = Fixed::from_raw(a).checked_mul(Fixed::from_raw(b)).unwrap();
        prop_assert_eq!(got.raw(), div_half_even(a * b, SCALE));
        prop_assert_eq!(Fixed::from_raw(b).checked_mul(Fixed::from_raw(a)).unwrap(), got);
        prop_assert_eq!(Fixed::from_raw(a).checked_mul(Fixed::ONE).unwrap().raw(), a);
    }

    #[test]
    fn division_matches_integer_reference(a in -1_000_000_000_000_000_000i128..1_000_000_000_000_000_000, b in small_raw()) {
        prop_assume!(b != 0);
        // a·SCALE < 1e36 fits: exact reference.
        let got = Fixed::from_raw(a).checked_div(Fixed::from_raw(b)).unwrap();
        prop_assert_eq!(got.raw(), div_half_even(a * SCALE, b));
    }

    #[test]
    fn big_products_either_fit_or_report_overflow(a in any_fixed(), b in any_fixed()) {
        match a.checked_mul(b) {
            Ok(p) => {
                // Sign is right and magnitude is consistent with the operands.
                if !p.is_zero() {
                    prop_assert_eq!(p.signum(), a.signum() * b.signum());
                }
            }
            Err(e) => prop_assert_eq!(e, NumError::Overflow("multiplication")),
        }
    }

    #[test]
    fn rounding_stays_within_one_unit(x in any_fixed(), dp in 0u32..18) {
        let unit = 10i128.pow(18 - dp);
        for mode in [Rounding::TowardZero, Rounding::AwayFromZero, Rounding::Floor, Rounding::Ceil, Rounding::HalfEven] {
            let r = match x.round_dp(dp, mode) {
                Ok(r) => r,
                Err(e) => {
                    // Only possible when the rounded value leaves the range.
                    prop_assert_eq!(e, NumError::Overflow("rounding"));
                    prop_assert!(x.abs().raw() > i128::MAX - unit);
                    continue;
                }
            };
            prop_assert!(r.scale() <= dp);
            prop_assert!((r.raw() - x.raw()).abs() < unit, "{:?} {} -> {}", mode, x, r);
            match mode {
                Rounding::TowardZero => prop_assert!(r.abs() <= x.abs()),
                Rounding::Floor => prop_assert!(r <= x),
                Rounding::Ceil => prop_assert!(r >= x),
                _ => {}
            }
        }
    }

    #[test]
    fn floats_become_the_decimal_they_print_as(x in -1.0e15f64..1.0e15) {
        let text = format!("{x}");
        match Fixed::from_f64(x) {
            Ok(v) => {
                let want = if text == "-0" { "0".to_string() } else { text };
                prop_assert_eq!(v.to_string(), want);
            }
            // Only values needing more than 18 decimals are refused.
            Err(e) => prop_assert!(matches!(e, NumError::TooPrecise(_)), "{}", e),
        }
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,40}") {
        let _ = Fixed::parse(&s);
        let _ = Fixed::parse_scientific(&s);
        let _ = Address::parse(&s);
        let _ = Token::parse(&s);
    }

    #[test]
    fn numeric_looking_text_parses_or_names_the_problem(s in "[-+]?[0-9]{0,25}(\\.[0-9]{0,22})?([eE][-+]?[0-9]{1,3})?") {
        match Fixed::parse_scientific(&s) {
            Ok(v) => {
                // Whatever parsed prints canonically and re-parses to itself.
                prop_assert_eq!(Fixed::parse(&v.to_string()), Ok(v));
            }
            Err(e) => prop_assert!(matches!(e,
                NumError::Empty | NumError::Malformed(_) | NumError::TooPrecise(_) | NumError::OutOfRange(_))),
        }
        if s.contains(['e', 'E']) {
            prop_assert!(Fixed::parse(&s).is_err());
        }
    }

    #[test]
    fn exponent_shifts_the_point(m in -999_999i64..999_999, e in -12i32..12) {
        let v = Fixed::parse_scientific(&format!("{m}e{e}")).unwrap();
        let want = if e >= 0 {
            Fixed::from_int(m).checked_mul_int(10i64.pow(e as u32)).unwrap()
        } else {
            Fixed::from_parts(m as i128, (-e) as u32).unwrap()
        };
        prop_assert_eq!(v, want);
    }

    #[test]
    fn addresses_round_trip_in_every_case_form(bytes in proptest::array::uniform20(any::<u8>())) {
        let a = Address::from_bytes(bytes);
        prop_assert_eq!(Address::parse(&a.canonical()), Ok(a));
        prop_assert_eq!(Address::parse(&a.checksummed()), Ok(a));
        prop_assert_eq!(Address::parse(&a.canonical().to_uppercase().replacen("0X", "0x", 1)), Ok(a));
        prop_assert_eq!(serde_json::from_str::<Address>(&serde_json::to_string(&a).unwrap()).unwrap(), a);
    }

    #[test]
    fn token_symbols_round_trip_and_order_as_strings(a in "[a-z]{1,4}:[A-Za-z0-9]{1,10}|[A-Za-z0-9]{1,20}", b in "[A-Za-z0-9]{1,20}") {
        let ta = Token::parse(&a).unwrap();
        let tb = Token::parse(&b).unwrap();
        prop_assert_eq!(ta.as_str(), a.as_str());
        prop_assert_eq!(ta.cmp(&tb), a.as_str().cmp(b.as_str()));
    }

    #[test]
    fn notional_then_division_recovers_size(px in 1i64..10_000_000, sz_raw in 1i128..1_000_000_000_000_000_000_000) {
        let price = Price::from_int(px);
        let size = Size::new(Fixed::from_raw(sz_raw));
        let usd: Usd = price.notional(size).unwrap();
        prop_assert_eq!(usd.div_price(price).unwrap(), size);
    }
}
