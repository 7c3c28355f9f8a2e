//! Per-token tables: a value for named tokens and one for every `other` token
//! (e.g. `BTC = 50000, ETH = 25000, other = 5000`).

use std::collections::BTreeMap;
use std::fmt;

use crate::model::Token;
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The key that holds the value for tokens not listed by name.
pub const OTHER_KEY: &str = "other";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenTable<T> {
    pub other: T,
    pub named: BTreeMap<Token, T>,
}

impl<T: Copy> TokenTable<T> {
    /// A table from `(symbol, value)` pairs of valid constant symbols.
    pub fn new(other: T, named: &[(&str, T)]) -> TokenTable<T> {
        let named = named.iter().filter_map(|(symbol, value)| Token::parse(symbol).ok().map(|t| (t, *value))).collect();
        TokenTable { other, named }
    }

    /// The value for `token`: its own entry, else `other`.
    pub fn get(&self, token: &Token) -> T {
        self.named.get(token).copied().unwrap_or(self.other)
    }

    /// Every value with the key it is configured under (`other` first).
    pub fn entries(&self) -> impl Iterator<Item = (String, T)> + '_ {
        std::iter::once((OTHER_KEY.to_string(), self.other))
            .chain(self.named.iter().map(|(t, v)| (t.as_str().to_string(), *v)))
    }
}

impl<T: Serialize> Serialize for TokenTable<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.named.len() + 1))?;
        for (token, value) in &self.named {
            map.serialize_entry(token.as_str(), value)?;
        }
        map.serialize_entry(OTHER_KEY, &self.other)?;
        map.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for TokenTable<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TokenTable<T>, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = TokenTable<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of token symbols and `other`")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TokenTable<T>, A::Error> {
                let mut other = None;
                let mut named = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    if key == OTHER_KEY {
                        other = Some(map.next_value()?);
                        continue;
                    }
                    let token = Token::parse(&key).map_err(de::Error::custom)?;
                    if named.insert(token, map.next_value()?).is_some() {
                        return Err(de::Error::custom(format!("token {key} is listed twice")));
                    }
                }
                let other = other.ok_or_else(|| de::Error::missing_field(OTHER_KEY))?;
                Ok(TokenTable { other, named })
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Usd;

    #[derive(Deserialize, Serialize)]
    struct Holder {
        t: TokenTable<Usd>,
    }

    #[test]
    fn lookup_falls_back_to_other() {
        let h: Holder = toml::from_str("[t]\nBTC = 50000\nkPEPE = \"12.5\"\nother = 5000\n").unwrap();
        assert_eq!(h.t.get(&Token::parse("BTC").unwrap()), Usd::from_int(50_000));
        assert_eq!(h.t.get(&Token::parse("kPEPE").unwrap()), Usd::parse("12.5").unwrap());
        assert_eq!(h.t.get(&Token::parse("DOGE").unwrap()), Usd::from_int(5_000));
    }

    #[test]
    fn other_is_required_and_symbols_are_validated() {
        let e = toml::from_str::<Holder>("[t]\nBTC = 1\n").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("other"), "{e}");
        let e =
            toml::from_str::<Holder>("[t]\n\"B TC\" = 1\nother = 1\n").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("B TC"), "{e}");
    }
}
