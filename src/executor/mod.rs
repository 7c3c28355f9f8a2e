//! The executor sink: what turns the brain's order intents into orders and
//! brings our own fills and positions back as inputs (DESIGN §5).
//! `paper` fills against the marks with the simulation model; `journal` keeps
//! each intent's lifecycle in redb, recorded before anything is sent; `live`
//! sends through the signing exchange client under the journal's discipline.

pub mod journal;
pub mod live;
pub mod own;
pub mod paper;
