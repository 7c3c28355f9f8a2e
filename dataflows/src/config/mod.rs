//! The trading configuration the strategies and the risk module run with: the
//! caps, exits, the three strategies' gates and execution. The engine's TOML
//! configuration (the `mirrorflow` crate) embeds these structs as its sections,
//! so a key read from the file is the value a rule uses. Defaults are the seed
//! plans' values as `strategy-rules.md` Section 5 and `decisions.md` give them.

pub mod token_table;
pub mod trading;

pub use token_table::TokenTable;
pub use trading::{
    ConsensusConfig, EntryConfig, ExecutionConfig, ExitsConfig, IndexConfig, LeveragePenaltyConfig,
    LiquidationBufferConfig, ProfitTier, RiskConfig, VoteWeight,
};
