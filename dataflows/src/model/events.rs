//! The facts mirrorflow observes: fills, position snapshots, account values, marks,
//! funding rates and leaderboard rows. These are the records of the dataflow's input
//! collections; each carries the event time (ms since the Unix epoch) its source
//! gave it. Ingestion validates every event with [`Validate`] before it enters.

use serde::{Deserialize, Serialize};

use super::ModelError;
use super::ids::{Address, Token, TxHash};
use super::numeric::{Price, Ratio, Size, Usd};

/// Event time: milliseconds since the Unix epoch (the dataflow's timestamp).
pub type TimeMs = u64;

pub const SECOND_MS: TimeMs = 1_000;
pub const MINUTE_MS: TimeMs = 60 * SECOND_MS;
pub const HOUR_MS: TimeMs = 60 * MINUTE_MS;
pub const DAY_MS: TimeMs = 24 * HOUR_MS;

/// Checks a record's own invariants (signs, ranges, consistency of its fields).
pub trait Validate {
    fn validate(&self) -> Result<(), ModelError>;
}

/// The side of an order or fill: buying or selling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    /// `+1` for a buy, `-1` for a sell: the sign a fill adds to a position.
    pub const fn sign(self) -> i32 {
        match self {
            Side::Buy => 1,
            Side::Sell => -1,
        }
    }
    pub const fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }
    /// The order side that opens or adds to a position of `side`.
    pub const fn opening(side: PositionSide) -> Side {
        match side {
            PositionSide::Long => Side::Buy,
            PositionSide::Short => Side::Sell,
        }
    }
}

/// The direction of a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PositionSide {
    Long,
    Short,
}

impl PositionSide {
    /// The side of a signed position size; `None` when flat.
    pub fn of(size: Size) -> Option<PositionSide> {
        match size.signum() {
            1 => Some(PositionSide::Long),
            -1 => Some(PositionSide::Short),
            _ => None,
        }
    }
    pub const fn opposite(self) -> PositionSide {
        match self {
            PositionSide::Long => PositionSide::Short,
            PositionSide::Short => PositionSide::Long,
        }
    }
}

/// What a fill did to the position it traded against, derived from the position
/// before the fill and the signed fill size (Hyperliquid's `dir` is display-only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum FillAction {
    /// From flat to a position.
    Open,
    /// Same direction, larger.
    Add,
    /// Same direction, smaller but not flat.
    Reduce,
    /// To exactly flat.
    Close,
    /// Through zero to the other side in one fill.
    Flip,
}

impl FillAction {
    /// Classifies a change of position from `start` by `delta` (signed). `None` for
    /// a zero delta, which is not a fill.
    pub fn classify(start: Size, delta: Size) -> Option<FillAction> {
        if delta.is_zero() {
            return None;
        }
        if start.is_zero() {
            return Some(FillAction::Open);
        }
        if start.signum() == delta.signum() {
            return Some(FillAction::Add);
        }
        Some(match delta.abs().cmp(&start.abs()) {
            std::cmp::Ordering::Less => FillAction::Reduce,
            std::cmp::Ordering::Equal => FillAction::Close,
            std::cmp::Ordering::Greater => FillAction::Flip,
        })
    }
}

/// One fill of a wallet, with Hyperliquid's semantics.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Fill {
    pub time_ms: TimeMs,
    pub wallet: Address,
    pub token: Token,
    pub side: Side,
    pub price: Price,
    /// Always positive; the direction is `side`.
    pub size: Size,
    /// The wallet's signed position in `token` before this fill.
    pub start_position: Size,
    /// Realised PnL of the part of the fill that reduced the position.
    pub closed_pnl: Usd,
    /// Fee paid (negative = rebate).
    pub fee: Usd,
    pub tx_hash: TxHash,
    /// Hyperliquid's trade id; unique together with time and token.
    pub trade_id: u64,
    /// The fill was a liquidation of this wallet.
    pub liquidation: bool,
}

impl Fill {
    /// The size signed by side: positive for a buy.
    pub fn signed_size(&self) -> Size {
        match self.side {
            Side::Buy => self.size,
            Side::Sell => self.size.neg(),
        }
    }
    /// The position after this fill.
    pub fn end_position(&self) -> Result<Size, ModelError> {
        Ok(self.start_position.checked_add(self.signed_size())?)
    }
    /// Open / Add / Reduce / Close / Flip.
    pub fn action(&self) -> FillAction {
        // `validate` guarantees size > 0, so the delta is never zero.
        FillAction::classify(self.start_position, self.signed_size()).unwrap_or(FillAction::Open)
    }
    /// `price × size`.
    pub fn notional(&self) -> Result<Usd, ModelError> {
        Ok(self.price.notional(self.size)?)
    }
    /// The identity used to drop duplicates (a trade seen twice, or on both the
    /// WebSocket and a REST backfill).
    pub fn dedup_key(&self) -> (Address, Token, TimeMs, u64) {
        (self.wallet, self.token, self.time_ms, self.trade_id)
    }
}

impl Validate for Fill {
    fn validate(&self) -> Result<(), ModelError> {
        if !self.price.is_positive() {
            return Err(ModelError::field("fill.price", self.price, "must be > 0"));
        }
        if !self.size.is_positive() {
            return Err(ModelError::field("fill.size", self.size, "must be > 0"));
        }
        self.end_position()?;
        self.notional()?;
        Ok(())
    }
}

/// Margin mode of a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MarginMode {
    Cross,
    Isolated,
}

/// A wallet's open position in one token at one time (`clearinghouseState`'s
/// `assetPositions[].position`). A flat position is absent from a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PositionSnapshot {
    pub time_ms: TimeMs,
    pub wallet: Address,
    pub token: Token,
    /// Signed size: negative = short. Never zero in a valid snapshot.
    pub size: Size,
    pub entry_price: Price,
    /// Absolute value of the position at the mark.
    pub position_value: Usd,
    pub leverage: Ratio,
    pub margin_mode: MarginMode,
    /// `None` when the venue reports no liquidation price (e.g. well collateralised cross).
    pub liquidation_price: Option<Price>,
    pub margin_used: Usd,
    pub unrealized_pnl: Usd,
}

impl PositionSnapshot {
    pub fn side(&self) -> Option<PositionSide> {
        PositionSide::of(self.size)
    }
}

impl Validate for PositionSnapshot {
    fn validate(&self) -> Result<(), ModelError> {
        if self.size.is_zero() {
            return Err(ModelError::field("position.size", self.size, "must be non-zero (flat positions are absent)"));
        }
        if !self.entry_price.is_positive() {
            return Err(ModelError::field("position.entry_price", self.entry_price, "must be > 0"));
        }
        if self.position_value.is_negative() {
            return Err(ModelError::field("position.position_value", self.position_value, "must be ≥ 0"));
        }
        if !self.leverage.is_positive() {
            return Err(ModelError::field("position.leverage", self.leverage, "must be > 0"));
        }
        if let Some(liq) = self.liquidation_price
            && liq.is_negative()
        {
            return Err(ModelError::field("position.liquidation_price", liq, "must be ≥ 0"));
        }
        if self.margin_used.is_negative() {
            return Err(ModelError::field("position.margin_used", self.margin_used, "must be ≥ 0"));
        }
        Ok(())
    }
}

/// Which strategy opened one of our positions, and the wallet it copied (the
/// executor knows from its intent ledger; the venue does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Origin {
    pub strategy: super::intent::Strategy,
    pub wallet: Option<Address>,
}

/// One of *our* positions as the venue reports it, with its origin: the
/// exits and the account state read these, never the intended positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OwnPosition {
    pub time_ms: TimeMs,
    pub token: Token,
    /// Signed size: negative = short; never zero.
    pub size: Size,
    pub entry_price: Price,
    pub liquidation_price: Option<Price>,
    pub leverage: Ratio,
    /// When the position was opened (an increase keeps it: decisions.md 7).
    pub opened_at: TimeMs,
    pub origin: Origin,
}

impl OwnPosition {
    pub fn side(&self) -> Option<PositionSide> {
        PositionSide::of(self.size)
    }
}

impl Validate for OwnPosition {
    fn validate(&self) -> Result<(), ModelError> {
        if self.size.is_zero() {
            return Err(ModelError::field(
                "own_position.size",
                self.size,
                "must be non-zero (flat positions are absent)",
            ));
        }
        if !self.entry_price.is_positive() {
            return Err(ModelError::field("own_position.entry_price", self.entry_price, "must be > 0"));
        }
        if !self.leverage.is_positive() {
            return Err(ModelError::field("own_position.leverage", self.leverage, "must be > 0"));
        }
        Ok(())
    }
}

/// A wallet's total account value (margin summary) at one time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AccountValue {
    pub time_ms: TimeMs,
    pub wallet: Address,
    pub value: Usd,
}

impl Validate for AccountValue {
    fn validate(&self) -> Result<(), ModelError> {
        if self.value.is_negative() {
            return Err(ModelError::field("account.value", self.value, "must be ≥ 0"));
        }
        Ok(())
    }
}

/// A token's mark (or mid) price at one time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MarkPrice {
    pub time_ms: TimeMs,
    pub token: Token,
    pub price: Price,
}

impl Validate for MarkPrice {
    fn validate(&self) -> Result<(), ModelError> {
        if !self.price.is_positive() {
            return Err(ModelError::field("mark.price", self.price, "must be > 0"));
        }
        Ok(())
    }
}

/// Whether a token's live price is current: the engine must not act on a
/// price the socket stopped delivering (DESIGN §1), so the feed says when a
/// token went stale (> 30 s without a socket price; REST polling stands in)
/// and when it recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PriceStatus {
    pub time_ms: TimeMs,
    pub token: Token,
    pub stale: bool,
}

/// Why new entries are stopped by the operator (exits always go on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Halt {
    /// The kill switch: resting orders are cancelled and no entry is made.
    KillSwitch,
    /// `mirrorflow pause`: no entry until `resume`.
    Paused,
}

impl Halt {
    /// The gate code of an entry it refuses.
    pub const fn code(self) -> &'static str {
        match self {
            Halt::KillSwitch => "SKIP_KILL_SWITCH",
            Halt::Paused => "SKIP_PAUSED",
        }
    }
}

/// A token's hourly funding rate (a fraction of notional; positive: longs pay).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FundingRate {
    pub time_ms: TimeMs,
    pub token: Token,
    pub rate: Ratio,
}

/// Funding beyond ±4 % per hour is not a real market (Hyperliquid caps it far lower).
const MAX_ABS_HOURLY_FUNDING: Ratio = Ratio::lit(4, 2);

impl Validate for FundingRate {
    fn validate(&self) -> Result<(), ModelError> {
        if self.rate.abs() > MAX_ABS_HOURLY_FUNDING {
            return Err(ModelError::field("funding.rate", self.rate, "must be within ±0.04 per hour"));
        }
        Ok(())
    }
}

/// The period a leaderboard row covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum LeaderboardWindow {
    #[serde(rename = "1d")]
    Day1,
    #[serde(rename = "7d")]
    Day7,
    #[serde(rename = "30d")]
    Day30,
    #[serde(rename = "90d")]
    Day90,
}

impl LeaderboardWindow {
    pub const fn days(self) -> u64 {
        match self {
            LeaderboardWindow::Day1 => 1,
            LeaderboardWindow::Day7 => 7,
            LeaderboardWindow::Day30 => 30,
            LeaderboardWindow::Day90 => 90,
        }
    }
    pub fn from_days(days: u64) -> Option<LeaderboardWindow> {
        match days {
            1 => Some(LeaderboardWindow::Day1),
            7 => Some(LeaderboardWindow::Day7),
            30 => Some(LeaderboardWindow::Day30),
            90 => Some(LeaderboardWindow::Day90),
            _ => None,
        }
    }
}

/// One wallet's row of a leaderboard over a window, as of `time_ms`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LeaderboardRow {
    pub time_ms: TimeMs,
    pub window: LeaderboardWindow,
    pub wallet: Address,
    /// Return over the window in percent (12.5 = 12.5 %).
    pub roi_percent: Ratio,
    pub pnl: Usd,
    pub account_value: Usd,
    /// Nansen's label ("Smart Money", "Fund", …), if any.
    pub label: Option<String>,
}

impl Validate for LeaderboardRow {
    fn validate(&self) -> Result<(), ModelError> {
        if self.account_value.is_negative() {
            return Err(ModelError::field("leaderboard.account_value", self.account_value, "must be ≥ 0"));
        }
        if let Some(label) = &self.label
            && label.len() > 200
        {
            return Err(ModelError::field("leaderboard.label", label.len(), "must be at most 200 bytes"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(s: &str) -> Size {
        Size::parse(s).unwrap()
    }

    #[test]
    fn action_follows_start_position_and_signed_size() {
        use FillAction::*;
        let cases = [
            ("0", "1", Open),
            ("0", "-1", Open),
            ("2", "1", Add),
            ("-2", "-1", Add),
            ("2", "-1", Reduce),
            ("-2", "1", Reduce),
            ("2", "-2", Close),
            ("-2", "2", Close),
            ("2", "-3", Flip),
            ("-2", "3", Flip),
        ];
        for (start, delta, want) in cases {
            assert_eq!(FillAction::classify(size(start), size(delta)), Some(want), "{start} {delta}");
        }
        assert_eq!(FillAction::classify(size("1"), Size::ZERO), None);
    }

    fn fill() -> Fill {
        Fill {
            time_ms: 1_700_000_000_000,
            wallet: Address::parse("0x7e5f4552091a69125d5dfcb7b8c2659029395bdf").unwrap(),
            token: Token::parse("ETH").unwrap(),
            side: Side::Sell,
            price: Price::parse("1891.4").unwrap(),
            size: size("0.5"),
            start_position: size("0.5"),
            closed_pnl: Usd::parse("12.3").unwrap(),
            fee: Usd::parse("0.42").unwrap(),
            tx_hash: TxHash::default(),
            trade_id: 42,
            liquidation: false,
        }
    }

    #[test]
    fn fill_derives_its_effect() {
        let f = fill();
        assert_eq!(f.action(), FillAction::Close);
        assert_eq!(f.end_position().unwrap(), Size::ZERO);
        assert_eq!(f.notional().unwrap(), Usd::parse("945.7").unwrap());
        f.validate().unwrap();
    }

    #[test]
    fn invalid_fills_name_the_field() {
        let mut f = fill();
        f.size = size("-0.5");
        let e = f.validate().unwrap_err();
        assert!(e.to_string().contains("fill.size"), "{e}");
        let mut f = fill();
        f.price = Price::ZERO;
        assert!(f.validate().unwrap_err().to_string().contains("fill.price"));
    }

    #[test]
    fn records_round_trip_through_json_and_msgpack() {
        let f = fill();
        let json = serde_json::to_string(&f).unwrap();
        assert!(json.contains("\"price\":\"1891.4\""), "{json}");
        assert_eq!(serde_json::from_str::<Fill>(&json).unwrap(), f);
        let bin = rmp_serde::to_vec(&f).unwrap();
        assert_eq!(rmp_serde::from_slice::<Fill>(&bin).unwrap(), f);
    }

    #[test]
    fn funding_outside_a_real_range_is_refused() {
        let mut r =
            FundingRate { time_ms: 0, token: Token::parse("BTC").unwrap(), rate: Ratio::parse("0.0000125").unwrap() };
        r.validate().unwrap();
        r.rate = Ratio::parse("-0.5").unwrap();
        assert!(r.validate().is_err());
    }
}
