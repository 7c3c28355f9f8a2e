//! The whole brain in one scope: trader intelligence, then the strategies,
//! the risk module and the exits reading its views (DESIGN §2).

use timely::dataflow::Scope;

use crate::feed::Sessions;
use crate::intel::{self, Views, intelligence};
use crate::trading::{self, Decisions, Params, trading};

pub struct Brain<'s> {
    pub views: Views<'s>,
    pub decisions: Decisions<'s>,
}

/// Builds the brain over the sessions' collections.
pub fn brain<'s>(scope: Scope<'s, u64>, sessions: &mut Sessions, params: &Params) -> Brain<'s> {
    let inputs = intel::Inputs::of(scope, sessions);
    let account_values = inputs.account_values.clone();
    let views = intelligence(inputs, params.gates);
    let decisions = trading(&views, trading::Inputs::of(scope, sessions), account_values, params);
    Brain { views, decisions }
}
