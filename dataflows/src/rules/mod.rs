//! The strategy rules as pure, documented functions on exact types
//! (strategy-rules.md with decisions.md). The dataflow operators call them, and
//! so do the plain-Rust reference implementations in the tests, so the two can
//! only disagree about *what* is recomputed, never about a formula.

pub mod allocation;
pub mod breakers;
pub mod clusters;
pub mod consensus;
pub mod eligibility;
pub mod entry;
pub mod exits;
pub mod index;
pub mod math;
pub mod metrics;
pub mod risk;
pub mod score;
pub mod trader;
