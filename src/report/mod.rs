//! The backtest report's figures: statistics of an equity curve and of
//! closed trades, the round trips the trades are made of, execution and
//! exposure figures, allocation diagnostics, the benchmarks, and the chart.

pub mod allocation;
pub mod chart;
pub mod compare;
pub mod counterfactual;
pub mod eligibility;
pub mod equity;
pub mod figures;
pub mod files;
pub mod mirror;
pub mod stats;
pub mod trades;
