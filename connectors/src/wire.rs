//! Number encodings of the wire formats, exact in both directions.
//!
//! Hyperliquid sends prices, sizes and USD amounts as decimal strings (`"26951.0"`)
//! and ids and times as integers — which some recordings stringify (`"1770458548926"`).
//! Nansen sends JSON numbers on most endpoints and strings on others. These serde
//! helpers read either form exactly into [`Decimal`] (no float ever holds a value)
//! and write each API's own form.

use std::fmt;
use std::str::FromStr;

pub use rust_decimal::Decimal;
use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};

/// Parses decimal text exactly: plain (`"-3.5"`) or with an exponent (`"1.25e-05"`).
pub fn parse_decimal(s: &str) -> Result<Decimal, String> {
    let t = s.trim();
    let parsed = if t.contains(['e', 'E']) { Decimal::from_scientific(t) } else { Decimal::from_str_exact(t) };
    parsed.map_err(|e| format!("{s:?} is not an exact decimal: {e}"))
}

/// A float through its shortest round-trip text (`0.1` → exactly 0.1).
pub fn decimal_from_f64(x: f64) -> Result<Decimal, String> {
    if !x.is_finite() {
        return Err(format!("{x} is not a finite number"));
    }
    parse_decimal(&format!("{x}"))
}

/// Hyperliquid's text form: no trailing zeros, but at least one decimal (`"26951.0"`, `"0.0"`).
pub fn hl_string(d: &Decimal) -> String {
    let n = d.normalize();
    let text = n.to_string();
    let text = if text == "-0" { "0".to_string() } else { text };
    if text.contains('.') { text } else { format!("{text}.0") }
}

/// The value as a JSON float (Nansen's number fields). Exact values beyond f64's
/// precision are rounded here, as they are by Nansen itself.
pub fn to_f64(d: &Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    d.to_f64().unwrap_or(0.0)
}

struct DecimalVisitor;

impl Visitor<'_> for DecimalVisitor {
    type Value = Decimal;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal number or decimal string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        parse_decimal(v).map_err(E::custom)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        decimal_from_f64(v).map_err(E::custom)
    }
}

/// A decimal written as Hyperliquid's string, read from a string or a number.
pub mod dec_str {
    use super::*;
    pub fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hl_string(d))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        d.deserialize_any(DecimalVisitor)
    }
}

/// An optional decimal string; `null` when absent.
pub mod dec_str_opt {
    use super::*;
    use serde::Deserialize;
    pub fn serialize<S: Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&hl_string(d)),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        #[derive(Deserialize)]
        struct W(#[serde(with = "super::dec_str")] Decimal);
        Option::<W>::deserialize(d).map(|w| w.map(|w| w.0))
    }
}

/// A decimal written as a JSON number (Nansen), read from a number or a string.
pub mod dec_num {
    use super::*;
    pub fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(to_f64(d))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        d.deserialize_any(DecimalVisitor)
    }
}

/// An optional decimal JSON number; `null` when absent.
pub mod dec_num_opt {
    use super::*;
    use serde::Deserialize;
    pub fn serialize<S: Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_f64(to_f64(d)),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        #[derive(Deserialize)]
        struct W(#[serde(with = "super::dec_num")] Decimal);
        Option::<W>::deserialize(d).map(|w| w.map(|w| w.0))
    }
}

struct U64Visitor;

impl Visitor<'_> for U64Visitor {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an unsigned integer or its decimal string")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::custom(format!("{v} is negative")))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        u64::from_str(v.trim()).map_err(|_| E::custom(format!("{v:?} is not an unsigned integer")))
    }
}

/// An integer written as a JSON number, read from a number or a string.
pub mod u64_flex {
    use super::*;
    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(*v)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        d.deserialize_any(U64Visitor)
    }
}

/// An optional integer; `null` when absent.
pub mod u64_flex_opt {
    use super::*;
    use serde::Deserialize;
    pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_u64(*v),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        #[derive(Deserialize)]
        struct W(#[serde(with = "super::u64_flex")] u64);
        Option::<W>::deserialize(d).map(|w| w.map(|w| w.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Row {
        #[serde(with = "dec_str")]
        px: Decimal,
        #[serde(with = "dec_num")]
        value: Decimal,
        #[serde(with = "u64_flex")]
        oid: u64,
    }

    #[test]
    fn reads_strings_and_numbers_exactly() {
        let r: Row = serde_json::from_str(r#"{"px":"26951.0","value":1.25e-05,"oid":"314848230306"}"#).unwrap();
        assert_eq!(r.px, Decimal::from(26951));
        assert_eq!(r.value.to_string(), "0.0000125");
        assert_eq!(r.oid, 314_848_230_306);
        let r: Row = serde_json::from_str(r#"{"px":0.1,"value":"3","oid":7}"#).unwrap();
        assert_eq!(r.px.to_string(), "0.1");
        assert!(serde_json::from_str::<Row>(r#"{"px":"abc","value":1,"oid":1}"#).is_err());
        assert!(serde_json::from_str::<Row>(r#"{"px":"1","value":1,"oid":-1}"#).is_err());
    }

    #[test]
    fn writes_each_apis_form() {
        let r = Row { px: Decimal::from(26951), value: parse_decimal("1553.04").unwrap(), oid: 5 };
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"px":"26951.0","value":1553.04,"oid":5}"#);
        assert_eq!(hl_string(&parse_decimal("0.00785000").unwrap()), "0.00785");
        assert_eq!(hl_string(&parse_decimal("-0").unwrap()), "0.0");
    }
}
