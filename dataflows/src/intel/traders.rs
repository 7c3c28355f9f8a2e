//! Per-wallet standings (scores, pace, eligibility), the blacklist and the
//! tiers as collections. A fill re-reduces its own wallet; a clock tick moves
//! every wallet's pace and recency (that is what a tick means), and the tiers
//! re-rank only the eligible wallets' final scores.

use differential_dataflow::VecCollection;

use crate::model::{Address, Ratio, TimeMs};
use crate::rules::eligibility::Gates;
use crate::rules::eligibility::{Tier, Windows, tiers};
use crate::rules::metrics::WindowMetrics;
use crate::rules::trader::{Activity, Holding, PACE_WINDOW_DAYS, Pace, Standing, activity, standing};

use super::metrics::WindowedFills;

/// Wallets blacklisted now: those with a liquidation (a liquidation fill or a
/// detected one) in the last 14 days; `events` holds each for 14 days.
pub fn blacklist<'s>(events: VecCollection<'s, u64, (Address, TimeMs)>) -> VecCollection<'s, u64, Address> {
    events.map(|(w, _)| w).distinct()
}

/// Each wallet's clock-free activity over the pace window.
pub fn activities<'s>(windowed: WindowedFills<'s>) -> VecCollection<'s, u64, (Address, Activity)> {
    windowed.filter(|((_, days), _)| *days == PACE_WINDOW_DAYS).map(|((w, _), f)| (w, f)).reduce(
        |_wallet, group, out| {
            let fills = group.iter().flat_map(|(f, n)| std::iter::repeat_n(*f, (*n).max(0) as usize));
            out.push((activity(fills), 1));
        },
    )
}

/// What a wallet's standing reads, in the order its reduce sees them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
enum Fact {
    Window(u64, WindowMetrics),
    Pace(Pace),
    Holding(Holding),
    Label(String),
    Blacklisted,
}

/// Standings of every wallet with a fill in the pace window, once the clock
/// has ticked. `clock` holds one row, the time now.
pub fn standings<'s>(
    metrics: VecCollection<'s, u64, ((Address, u64), WindowMetrics)>,
    activities: VecCollection<'s, u64, (Address, Activity)>,
    holdings: VecCollection<'s, u64, (Address, Holding)>,
    labels: VecCollection<'s, u64, (Address, String)>,
    blacklist: VecCollection<'s, u64, Address>,
    clock: VecCollection<'s, u64, TimeMs>,
    gates: Gates,
) -> VecCollection<'s, u64, (Address, Standing)> {
    let paces = activities
        .map(|(w, a)| ((), (w, a)))
        .join_map(clock.map(|now| ((), now)), |_, (w, a), now| (*w, Pace::of(a, *now).ok()))
        .flat_map(|(w, p)| p.map(|p| (w, Fact::Pace(p))));
    let facts = metrics
        .map(|((w, days), m)| (w, Fact::Window(days, m)))
        .concat(paces)
        .concat(holdings.map(|(w, h)| (w, Fact::Holding(h))))
        .concat(labels.map(|(w, l)| (w, Fact::Label(l))))
        .concat(blacklist.map(|w| (w, Fact::Blacklisted)));
    facts.reduce(move |_wallet, group, out| {
        let mut windows =
            Windows { d7: WindowMetrics::default(), d30: WindowMetrics::default(), d90: WindowMetrics::default() };
        let (mut pace, mut label, mut banned) = (None, None, false);
        let mut held: Vec<Holding> = Vec::new();
        for (fact, _) in group {
            match fact {
                Fact::Window(7, m) => windows.d7 = *m,
                Fact::Window(30, m) => windows.d30 = *m,
                Fact::Window(_, m) => windows.d90 = *m,
                Fact::Pace(p) => pace = Some(*p),
                Fact::Holding(h) => held.push(*h),
                Fact::Label(l) => label = Some(l.as_str()),
                Fact::Blacklisted => banned = true,
            }
        }
        if let Some(pace) = pace
            && let Ok(s) = standing(&windows, pace, &held, label, banned, &gates)
        {
            out.push((s, 1));
        }
    })
}

/// Primary and secondary tiers among the eligible wallets.
pub fn tiers_of<'s>(standings: VecCollection<'s, u64, (Address, Standing)>) -> VecCollection<'s, u64, (Address, Tier)> {
    standings
        .filter(|(_, s)| s.eligible())
        .map(|(w, s)| ((), (w, s.score.final_score)))
        .reduce(|_, group, out| {
            let scores: Vec<(Address, Ratio)> = group.iter().map(|((w, s), _)| (*w, *s)).collect();
            for row in tiers(&scores) {
                out.push((row, 1));
            }
        })
        .map(|((), row)| row)
}
