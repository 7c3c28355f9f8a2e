//! The backtest report's figures: statistics of an equity curve and of
//! closed trades, and the round trips the trades are made of.

pub mod equity;
pub mod files;
pub mod stats;
pub mod trades;
