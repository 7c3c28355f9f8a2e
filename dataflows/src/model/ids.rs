//! Validated identifiers: wallet addresses, token symbols, client order ids and
//! transaction hashes. Each parses once at the edge and is then a small `Copy`
//! value that is cheap to clone through the dataflow.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha3::{Digest, Keccak256};

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("address {0:?} is not 0x followed by 40 hex digits")]
    AddressFormat(String),
    #[error("address {0:?} has mixed case that fails its EIP-55 checksum")]
    AddressChecksum(String),
    #[error("token symbol {0:?} is invalid: {1}")]
    Token(String, &'static str),
    #[error("cloid {0:?} is not 0x followed by 32 hex digits")]
    Cloid(String),
    #[error("transaction hash {0:?} is not 0x followed by 64 hex digits")]
    TxHash(String),
}

fn echo(s: &str) -> String {
    s.chars().take(80).collect()
}

/// keccak256, as Ethereum and Hyperliquid use it.
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    Keccak256::digest(data).into()
}

/// Parses `0x` + exactly `2 × N` hex digits.
fn parse_hex_fixed<const N: usize>(s: &str) -> Option<[u8; N]> {
    let hex_part = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    if hex_part.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(hex_part, &mut out).ok()?;
    Some(out)
}

macro_rules! string_serde {
    ($ty:ident, $expecting:literal) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&self.canonical())
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$ty, E> {
                        v.parse().map_err(E::custom)
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}

/// A wallet address (20 bytes). Stored and serialized lower-case, as the APIs and
/// signing expect; displayed with its EIP-55 checksum for people.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Address([u8; 20]);

impl Address {
    pub const fn from_bytes(bytes: [u8; 20]) -> Address {
        Address(bytes)
    }
    pub const fn bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// Accepts `0x` + 40 hex digits in lower, upper or correct EIP-55 mixed case.
    /// Mixed case with a wrong checksum is refused: it is the usual sign of a
    /// mistyped address.
    pub fn parse(s: &str) -> Result<Address, IdError> {
        let bytes = parse_hex_fixed::<20>(s).ok_or_else(|| IdError::AddressFormat(echo(s)))?;
        let addr = Address(bytes);
        let hex_part = &s[2..];
        let has_lower = hex_part.bytes().any(|b| b.is_ascii_lowercase());
        let has_upper = hex_part.bytes().any(|b| b.is_ascii_uppercase());
        if has_lower && has_upper && addr.checksummed()[2..] != *hex_part {
            return Err(IdError::AddressChecksum(echo(s)));
        }
        Ok(addr)
    }

    /// `0x` + 40 lower-case hex digits: the wire and storage form.
    pub fn canonical(&self) -> String {
        format!("0x{}", hex::encode(self.0))
    }

    /// EIP-55 mixed-case checksum form.
    pub fn checksummed(&self) -> String {
        let lower = hex::encode(self.0);
        let hash = keccak256(lower.as_bytes());
        let mut out = String::with_capacity(42);
        out.push_str("0x");
        for (i, c) in lower.chars().enumerate() {
            let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
            out.push(if c.is_ascii_alphabetic() && nibble >= 8 { c.to_ascii_uppercase() } else { c });
        }
        out
    }
}

impl FromStr for Address {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Address, IdError> {
        Address::parse(s)
    }
}
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.checksummed())
    }
}
impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({})", self.canonical())
    }
}
string_serde!(Address, "a 0x-prefixed 20-byte hex address");

/// Capacity of a token symbol in bytes.
pub const TOKEN_MAX_LEN: usize = 31;

/// A perp market's symbol as Hyperliquid names it: `BTC`, `kPEPE`, or a
/// builder-deployed market with its dex prefix, `xyz:NCLD`. Case is significant
/// (`kPEPE` is not `KPEPE`). Stored inline (no allocation, `Copy`); ordered as the
/// string is.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Token {
    // Zero-padded: lexicographic order of the array equals the string's order.
    bytes: [u8; TOKEN_MAX_LEN],
}

impl Token {
    /// Below every real token (the empty name): the start of a range over a map keyed by (_, Token).
    pub const MIN: Token = Token { bytes: [0; TOKEN_MAX_LEN] };

    pub fn parse(s: &str) -> Result<Token, IdError> {
        let err = |why| IdError::Token(echo(s), why);
        if s.is_empty() {
            return Err(err("empty"));
        }
        if s.len() > TOKEN_MAX_LEN {
            return Err(err("longer than 31 bytes"));
        }
        let (dex, coin) = match s.split_once(':') {
            Some((dex, coin)) => (Some(dex), coin),
            None => (None, s),
        };
        if let Some(dex) = dex
            && (dex.is_empty() || !dex.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        {
            return Err(err("the dex prefix must be lower-case letters and digits"));
        }
        if coin.is_empty() || !coin.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(err("the symbol must be ASCII letters and digits"));
        }
        let mut bytes = [0u8; TOKEN_MAX_LEN];
        bytes[..s.len()].copy_from_slice(s.as_bytes());
        Ok(Token { bytes })
    }

    pub fn as_str(&self) -> &str {
        let len = self.bytes.iter().position(|b| *b == 0).unwrap_or(TOKEN_MAX_LEN);
        // Only ASCII was ever written (checked in `parse`).
        std::str::from_utf8(&self.bytes[..len]).unwrap_or("")
    }

    /// The builder dex (`xyz` of `xyz:NCLD`); `None` on the main perp dex.
    pub fn dex(&self) -> Option<&str> {
        self.as_str().split_once(':').map(|(d, _)| d)
    }

    fn canonical(&self) -> &str {
        self.as_str()
    }
}

impl FromStr for Token {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Token, IdError> {
        Token::parse(s)
    }
}
impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}
impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({})", self.as_str())
    }
}
string_serde!(Token, "a token symbol such as BTC or xyz:NCLD");

macro_rules! hex_id {
    ($(#[$meta:meta])* $name:ident, $len:literal, $err:ident, $expecting:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name([u8; $len]);

        impl $name {
            pub const fn from_bytes(bytes: [u8; $len]) -> $name {
                $name(bytes)
            }
            pub const fn bytes(&self) -> &[u8; $len] {
                &self.0
            }
            /// `0x` + the hex digits, any case.
            pub fn parse(s: &str) -> Result<$name, IdError> {
                parse_hex_fixed::<$len>(s).map($name).ok_or_else(|| IdError::$err(echo(s)))
            }
            /// `0x` + lower-case hex: the wire form.
            pub fn canonical(&self) -> String {
                format!("0x{}", hex::encode(self.0))
            }
        }
        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<$name, IdError> {
                $name::parse(s)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.canonical())
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.canonical())
            }
        }
        string_serde!($name, $expecting);
    };
}

hex_id!(
    /// A client order id: 16 bytes, written `0x` + 32 lower-case hex digits (it is
    /// hashed as that literal string when an order is signed).
    Cloid, 16, Cloid, "a 0x-prefixed 16-byte hex cloid"
);
hex_id!(
    /// An L1 transaction hash (32 bytes). TWAP slice fills carry the all-zero hash.
    TxHash, 32, TxHash, "a 0x-prefixed 32-byte hex transaction hash"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_normalises_to_lower_case_and_displays_eip55() {
        // The signer of the shared signing vectors (private key 0x…01).
        let a = Address::parse("0x7e5f4552091a69125d5dfcb7b8c2659029395bdf").unwrap();
        assert_eq!(a.to_string(), "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
        assert_eq!(a.canonical(), "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf");
        assert_eq!(Address::parse("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf").unwrap(), a);
        assert_eq!(Address::parse("0X7E5F4552091A69125D5DFCB7B8C2659029395BDF").unwrap(), a);
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"0x7e5f4552091a69125d5dfcb7b8c2659029395bdf\"");
    }

    #[test]
    fn address_rejects_bad_forms_and_checksums() {
        for bad in [
            "",
            "0x",
            "7e5f4552091a69125d5dfcb7b8c2659029395bdf",
            "0x7e5f",
            "0x7e5f4552091a69125d5dfcb7b8c2659029395bdg",
        ] {
            assert!(matches!(Address::parse(bad), Err(IdError::AddressFormat(_))), "{bad}");
        }
        assert!(matches!(
            Address::parse("0x7e5F4552091A69125d5DfCb7b8C2659029395Bdf"),
            Err(IdError::AddressChecksum(_))
        ));
    }

    #[test]
    fn token_symbols_follow_hyperliquid_naming() {
        for ok in ["BTC", "kPEPE", "xyz:NCLD", "HYPE", "1000PEPE"] {
            assert_eq!(Token::parse(ok).unwrap().as_str(), ok);
        }
        assert_eq!(Token::parse("xyz:NCLD").unwrap().dex(), Some("xyz"));
        assert_eq!(Token::parse("BTC").unwrap().dex(), None);
        for bad in ["", "BT C", "BTC/USDC", ":BTC", "XYZ:BTC", "xyz:", "a:b:c", "€"] {
            assert!(Token::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Token::parse(&"A".repeat(32)).is_err());
        let mut v = [Token::parse("SOL").unwrap(), Token::parse("BTC").unwrap(), Token::parse("BTCX").unwrap()];
        v.sort();
        assert_eq!(v.iter().map(Token::as_str).collect::<Vec<_>>(), ["BTC", "BTCX", "SOL"]);
    }

    #[test]
    fn cloid_and_tx_hash_round_trip() {
        let c = Cloid::parse("0x00000000000000000000000000000001").unwrap();
        assert_eq!(c.to_string(), "0x00000000000000000000000000000001");
        assert_eq!(
            Cloid::parse("0xABCDEF00000000000000000000000001").unwrap().to_string(),
            "0xabcdef00000000000000000000000001"
        );
        assert!(Cloid::parse("0x0001").is_err());
        let h = "0x".to_string() + &"ab".repeat(32);
        assert_eq!(TxHash::parse(&h).unwrap().to_string(), h);
        assert!(TxHash::parse("0xabc").is_err());
    }

    #[test]
    fn identifiers_deserialize_with_validation() {
        assert!(serde_json::from_str::<Token>("\"ETH\"").is_ok());
        let err = serde_json::from_str::<Token>("\"E TH\"").unwrap_err().to_string();
        assert!(err.contains("E TH"), "{err}");
    }
}
