//! mirrorflow's domain model: exact numbers, validated identifiers, and the events
//! and decisions that flow through the dataflow (DESIGN §1).
//!
//! Everything here is plain data — `Ord + Hash + Clone + serde` — so it can be a
//! differential-dataflow record, a redb value and a line of a report alike.

pub mod events;
pub mod fixed;
pub mod ids;
pub mod intent;
pub mod numeric;

use std::fmt::Display;

pub use events::{
    AccountValue, DAY_MS, Fill, FillAction, FundingRate, HOUR_MS, Halt, LeaderboardRow, LeaderboardWindow, MINUTE_MS,
    MarginMode, MarkPrice, Origin, OwnPosition, PositionSide, PositionSnapshot, PriceStatus, SECOND_MS, Side, TimeMs,
    Validate,
};
pub use fixed::{Fixed, NumError, Rounding};
pub use ids::{Address, Cloid, IdError, Token, TxHash};
pub use intent::{Attribution, Decision, IntentId, IntentKind, OrderIntent, OrderType, Signal, Strategy, TimeInForce};
pub use numeric::{Price, Ratio, Size, Usd};

/// A record that breaks the model's rules; names the field and the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("{field} = {value}: {reason}")]
    Field { field: &'static str, value: String, reason: &'static str },
    #[error(transparent)]
    Number(#[from] NumError),
    #[error(transparent)]
    Id(#[from] IdError),
}

impl ModelError {
    pub fn field(field: &'static str, value: impl Display, reason: &'static str) -> ModelError {
        ModelError::Field { field, value: value.to_string(), reason }
    }
}
