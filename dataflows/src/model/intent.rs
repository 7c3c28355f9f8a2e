//! What the engine decides: signals (every decision, including the ones a gate
//! refused) and order intents (what passed the risk module), each with an id
//! derived from what caused it so that replay and recovery find the same ids
//! (DESIGN §5).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::events::{PositionSide, Side, TimeMs};
use super::fixed::Fixed;
use super::ids::{Address, Cloid, Token, keccak256};
use super::numeric::{Price, Ratio, Size};

/// A trading strategy of the engine (DESIGN §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Cluster-aware consensus per token (seed 000).
    Consensus,
    /// Copy each entry of a primary wallet (seed 001).
    Entry,
    /// Allocation-weighted index portfolio with periodic rebalancing (seed 002).
    Index,
}

impl Strategy {
    pub const ALL: [Strategy; 3] = [Strategy::Consensus, Strategy::Entry, Strategy::Index];

    pub const fn name(self) -> &'static str {
        match self {
            Strategy::Consensus => "consensus",
            Strategy::Entry => "entry",
            Strategy::Index => "index",
        }
    }

    pub fn from_name(name: &str) -> Option<Strategy> {
        Strategy::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What an intent does to our position in a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentKind {
    Open,
    Increase,
    Decrease,
    Close,
    /// The resting reduce-only stop that protects a position on the venue.
    StopLoss,
}

impl IntentKind {
    pub const fn name(self) -> &'static str {
        match self {
            IntentKind::Open => "open",
            IntentKind::Increase => "increase",
            IntentKind::Decrease => "decrease",
            IntentKind::Close => "close",
            IntentKind::StopLoss => "stop_loss",
        }
    }
}

/// Deterministic identity of an order intent: a hash of (strategy, token, the
/// time of the signal that caused it, kind). The same inputs give the same id in
/// live runs, backfills and after a restart.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IntentId([u8; 16]);

impl IntentId {
    pub fn derive(strategy: Strategy, token: Token, signal_time_ms: TimeMs, kind: IntentKind) -> IntentId {
        let mut pre = Vec::with_capacity(64);
        pre.extend_from_slice(b"mirrorflow/intent/v1\0");
        pre.extend_from_slice(strategy.name().as_bytes());
        pre.push(0);
        pre.extend_from_slice(token.as_str().as_bytes());
        pre.push(0);
        pre.extend_from_slice(&signal_time_ms.to_be_bytes());
        pre.extend_from_slice(kind.name().as_bytes());
        let hash = keccak256(&pre);
        let mut id = [0u8; 16];
        id.copy_from_slice(&hash[..16]);
        IntentId(id)
    }

    pub const fn bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The client order id of send attempt `attempt` (0, 1, …) of this intent. A
    /// retry after a definite rejection uses the next attempt and so a new cloid;
    /// the same attempt always maps to the same cloid, so a resend is recognisable.
    pub fn cloid(&self, attempt: u32) -> Cloid {
        let mut pre = Vec::with_capacity(44);
        pre.extend_from_slice(b"mirrorflow/cloid/v1\0");
        pre.extend_from_slice(&self.0);
        pre.extend_from_slice(&attempt.to_be_bytes());
        let hash = keccak256(&pre);
        let mut c = [0u8; 16];
        c.copy_from_slice(&hash[..16]);
        Cloid::from_bytes(c)
    }
}

impl fmt::Display for IntentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", hex::encode(self.0))
    }
}
impl fmt::Debug for IntentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IntentId({self})")
    }
}

/// Time in force of a limit order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TimeInForce {
    /// Good till cancelled.
    Gtc,
    /// Immediate or cancel.
    Ioc,
    /// Add liquidity only (post-only).
    Alo,
}

/// How an intent is to be executed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OrderType {
    /// An aggressive IOC limit bounded by `max_slippage_percent` from the mark
    /// (market orders do not exist on Hyperliquid's wire).
    Market {
        max_slippage_percent: Ratio,
    },
    Limit {
        price: Price,
        tif: TimeInForce,
    },
    /// A reduce-only stop that rests on the venue and fires as a market order
    /// when the mark crosses `trigger_price`.
    StopMarket {
        trigger_price: Price,
    },
}

/// A wallet behind an intent, its copy cluster and its share of the decision
/// (consensus: its share of the weighted volume; entry: its position weight;
/// index: its share of the token's target).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Attribution {
    pub wallet: Address,
    pub cluster: Option<Address>,
    pub weight: Ratio,
}

/// An order the risk module let through, before it is sent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OrderIntent {
    pub id: IntentId,
    pub time_ms: TimeMs,
    pub strategy: Strategy,
    pub token: Token,
    pub kind: IntentKind,
    pub side: Side,
    /// Positive quantity to trade.
    pub size: Size,
    /// Reference price the size was computed at (mark or signal price).
    pub price: Price,
    pub order_type: OrderType,
    pub reduce_only: bool,
    /// Isolated-margin leverage to set before an entry.
    pub leverage: Ratio,
    /// The rule or gate that produced the intent.
    pub reason: String,
    /// The wallets (and clusters) that caused it, with their weights.
    pub attribution: Vec<Attribution>,
}

/// The outcome of evaluating a candidate trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Passed every gate; becomes an order intent.
    Execute,
    /// Waiting (confirmation window, deferred re-check).
    Pending,
    /// Refused by a gate.
    Skip,
    /// A pending signal that was withdrawn (consensus broke, side flipped).
    Cancelled,
    /// An exit of one of our positions fired.
    Exit,
}

/// One decision of a strategy, with the gate that made it and the numbers it used.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Signal {
    pub time_ms: TimeMs,
    pub strategy: Strategy,
    pub token: Token,
    pub side: PositionSide,
    /// The tracked wallet the decision is about (entry copies), if one.
    pub wallet: Option<Address>,
    pub decision: Decision,
    /// The deciding gate's code, e.g. `SKIP_SLIPPAGE_EXCEEDED`.
    pub gate: String,
    /// The named numbers the gate compared (sorted by name for canonical output).
    pub numbers: Vec<(String, Fixed)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intent_ids_are_deterministic_and_distinct() {
        let btc = Token::parse("BTC").unwrap();
        let a = IntentId::derive(Strategy::Consensus, btc, 1_000, IntentKind::Open);
        assert_eq!(a, IntentId::derive(Strategy::Consensus, btc, 1_000, IntentKind::Open));
        assert_ne!(a, IntentId::derive(Strategy::Consensus, btc, 1_001, IntentKind::Open));
        assert_ne!(a, IntentId::derive(Strategy::Entry, btc, 1_000, IntentKind::Open));
        assert_ne!(a, IntentId::derive(Strategy::Consensus, btc, 1_000, IntentKind::Close));
        assert_ne!(a, IntentId::derive(Strategy::Consensus, Token::parse("ETH").unwrap(), 1_000, IntentKind::Open));
    }

    #[test]
    fn each_attempt_has_its_own_stable_cloid() {
        let id = IntentId::derive(Strategy::Index, Token::parse("SOL").unwrap(), 5, IntentKind::Close);
        assert_eq!(id.cloid(0), id.cloid(0));
        assert_ne!(id.cloid(0), id.cloid(1));
        let text = id.cloid(3).to_string();
        assert_eq!(text.len(), 34);
        assert_eq!(Cloid::parse(&text).unwrap(), id.cloid(3));
    }

    #[test]
    fn strategy_names_round_trip() {
        for s in Strategy::ALL {
            assert_eq!(Strategy::from_name(s.name()), Some(s));
        }
        assert_eq!(Strategy::from_name("momentum"), None);
    }
}
