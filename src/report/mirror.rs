//! The naive-mirror benchmark (seed 000; decisions.md 18): follow the single
//! best trader — the top-scored eligible wallet at each daily refresh, as
//! known at that midnight, never the best in hindsight — holding what it
//! holds, scaled from its account value to ours, through the same paper
//! executor (latency, slippage, fees, funding). No gates, no risk module, no
//! exits of our own: what the strategies add over plain copying shows
//! against it.

use std::collections::BTreeMap;

use dataflows::feed::Input;
use dataflows::model::{
    Address, IntentId, IntentKind, OrderIntent, OrderType, Ratio, Side, Size, Strategy, TimeMs, Token,
};
use dataflows::replay::{Change, Venue};
use dataflows::rules::trader::Standing;

use super::counterfactual::{self, Policy};
use super::equity::Recording;
use crate::executor::paper::PaperVenue;

const DAY_MS: TimeMs = 86_400_000;

/// Orders under this notional are not sent (the venue's minimum).
const MIN_ORDER_USD: f64 = 10.0;

/// The leader of each day: the top-scored eligible wallet as of its midnight.
pub fn leaders(standings: &[Change<Standing>], first: TimeMs, last: TimeMs) -> BTreeMap<TimeMs, Option<Address>> {
    let mut by_time: BTreeMap<TimeMs, Vec<&Change<Standing>>> = BTreeMap::new();
    for c in standings {
        by_time.entry(c.time_ms).or_default().push(c);
    }
    let mut held: BTreeMap<Address, Standing> = BTreeMap::new();
    let mut changes = by_time.into_iter().peekable();
    let mut out = BTreeMap::new();
    let mut midnight = (first / DAY_MS + 1) * DAY_MS;
    while midnight <= last {
        while let Some((_, cs)) = changes.next_if(|(t, _)| *t <= midnight) {
            for c in cs.iter().filter(|c| c.diff < 0) {
                if held.get(&c.wallet) == Some(&c.value) {
                    held.remove(&c.wallet);
                }
            }
            for c in cs.iter().filter(|c| c.diff > 0) {
                held.insert(c.wallet, c.value);
            }
        }
        let best = held
            .iter()
            .filter(|(_, s)| s.eligible())
            .max_by(|(a, x), (b, y)| x.score.final_score.cmp(&y.score.final_score).then(b.cmp(a)))
            .map(|(w, _)| *w);
        out.insert(midnight, best);
        midnight += DAY_MS;
    }
    out
}

/// The mirror's account over `inputs` (any order; replayed by time).
pub fn run(inputs: &[Input], standings: &[Change<Standing>], venue: PaperVenue) -> Recording {
    let times = inputs.iter().filter(|i| !matches!(i, Input::Tick(_) | Input::Now(_))).map(Input::time);
    let (first, last) = times.fold((TimeMs::MAX, 0), |(a, b), t| (a.min(t), b.max(t)));
    let days = if first <= last { leaders(standings, first, last) } else { BTreeMap::new() };
    let mut m = Mirror { days, ..Mirror::default() };
    counterfactual::drive(inputs, venue, &mut m)
}

impl Policy for Mirror {
    fn before(&mut self, v: &mut Recording, t: TimeMs) {
        while let Some((midnight, leader)) = self.days.first_key_value().filter(|(m, _)| **m <= t) {
            let (midnight, leader) = (*midnight, *leader);
            self.days.remove(&midnight);
            if leader != self.leader {
                self.leader = leader;
                let tokens: Vec<Token> = self.ordered.keys().chain(self.positions_of(leader).keys()).copied().collect();
                for token in tokens {
                    self.follow(v, token, midnight);
                }
            }
        }
    }

    fn after(&mut self, v: &mut Recording, input: &Input) {
        match input {
            Input::Fill(f) => {
                let after = f.start_position.to_f64() + if f.side == Side::Buy { 1.0 } else { -1.0 } * f.size.to_f64();
                self.positions.insert((f.wallet, f.token), after);
                if Some(f.wallet) == self.leader {
                    self.follow(v, f.token, f.time_ms);
                }
            }
            Input::Account(a) => {
                self.accounts.insert(a.wallet, a.value.to_f64());
            }
            Input::Mark(p) => {
                self.marks.insert(p.token, p.price.to_f64());
            }
            _ => {}
        }
    }
}

#[derive(Default)]
struct Mirror {
    /// The leader of each midnight still to come.
    days: BTreeMap<TimeMs, Option<Address>>,
    leader: Option<Address>,
    positions: BTreeMap<(Address, Token), f64>,
    accounts: BTreeMap<Address, f64>,
    marks: BTreeMap<Token, f64>,
    /// What we ordered per token (market orders without a bound always fill).
    ordered: BTreeMap<Token, f64>,
    sent: u64,
}

impl Mirror {
    fn positions_of(&self, w: Option<Address>) -> BTreeMap<Token, f64> {
        let Some(w) = w else { return BTreeMap::new() };
        self.positions.iter().filter(|((a, _), _)| *a == w).map(|((_, t), s)| (*t, *s)).collect()
    }

    /// Orders `token` to the leader's position scaled to our account.
    fn follow(&mut self, v: &mut Recording, token: Token, t: TimeMs) {
        let target = match self.leader {
            Some(w) => {
                let theirs = self.positions.get(&(w, token)).copied().unwrap_or(0.0);
                match self.accounts.get(&w).filter(|a| **a > 0.0) {
                    Some(account) => theirs * v.venue.account_value().to_f64() / account,
                    None => 0.0,
                }
            }
            None => 0.0,
        };
        let ours = self.ordered.get(&token).copied().unwrap_or(0.0);
        let delta = target - ours;
        let Some(mark) = self.marks.get(&token).copied() else { return };
        if (delta * mark).abs() < MIN_ORDER_USD {
            return;
        }
        let Ok(size) = Size::parse(&format!("{:.5}", delta.abs())) else { return };
        let Ok(price) = dataflows::model::Price::from_f64(mark) else { return };
        if !size.is_positive() {
            return;
        }
        self.sent += 1;
        let kind = if target == 0.0 { IntentKind::Close } else { IntentKind::Open };
        let intent = OrderIntent {
            // One id per order: the derivation's time is widened by the order count.
            id: IntentId::derive(Strategy::Entry, token, t.saturating_mul(1_000) + self.sent % 1_000, kind),
            time_ms: t,
            strategy: Strategy::Entry,
            token,
            kind,
            side: if delta > 0.0 { Side::Buy } else { Side::Sell },
            size,
            price,
            order_type: OrderType::Market { max_slippage_percent: Ratio::ZERO },
            reduce_only: false,
            leverage: Ratio::from_int(1),
            reason: "naive mirror of the best trader".into(),
            attribution: vec![],
        };
        let filled = ours + if delta > 0.0 { size.to_f64() } else { -size.to_f64() };
        self.ordered.insert(token, filled);
        v.submit(t, &[intent]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataflows::model::{MarkPrice, Price, Usd};
    use dataflows::rules::eligibility::Ineligible;
    use dataflows::rules::metrics::Style;
    use dataflows::rules::score::Score;
    use dataflows::rules::trader::Pace;

    fn wallet(b: u8) -> Address {
        Address::parse(&format!("0x{}", hex::encode([b; 20]))).unwrap()
    }

    fn standing(score: &str, gate: Option<Ineligible>) -> Standing {
        let pace = Pace {
            avg_hold_hours: Ratio::from_int(5),
            hours_since_last_trade: Ratio::from_int(1),
            style: Style::Swing,
            trades_per_day: Ratio::from_int(1),
        };
        let score = Score { final_score: Ratio::parse(score).unwrap(), ..Score::default() };
        Standing { pace, roi_7d: Ratio::ZERO, roi_30d: Ratio::ZERO, roi_90d: Ratio::ZERO, score, gate }
    }

    fn change(t: TimeMs, w: u8, s: Standing, diff: i64) -> Change<Standing> {
        Change { time_ms: t, wallet: wallet(w), value: s, diff }
    }

    #[test]
    fn the_leader_is_the_best_eligible_wallet_known_at_each_midnight() {
        let (a, b) = (standing("0.5", None), standing("0.7", None));
        let b_out = standing("0.9", Some(Ineligible::ThirtyDayGate));
        let changes = [
            change(1_000, 1, a, 1),
            change(1_000, 2, b, 1),
            // After the first midnight: B fails a gate (its higher score no longer counts).
            change(DAY_MS + 5, 2, b, -1),
            change(DAY_MS + 5, 2, b_out, 1),
        ];
        let l = leaders(&changes, 0, 3 * DAY_MS);
        assert_eq!(l[&DAY_MS], Some(wallet(2)));
        assert_eq!(l[&(2 * DAY_MS)], Some(wallet(1)));
        assert_eq!(l.len(), 3);
        assert_eq!(leaders(&[], 0, 2 * DAY_MS)[&DAY_MS], None, "no eligible wallet: hold cash");
    }

    #[test]
    fn the_mirror_holds_the_leaders_position_scaled_to_our_account() {
        let btc = Token::parse("BTC").unwrap();
        let mut v =
            Recording::new(PaperVenue::new(crate::config::SimulationConfig::default(), 300, Usd::from_int(100_000), 0));
        v.observe(&Input::Mark(MarkPrice { time_ms: 0, token: btc, price: Price::from_int(50_000) }));
        let mut m = Mirror { leader: Some(wallet(1)), ..Mirror::default() };
        m.accounts.insert(wallet(1), 10_000.0);
        m.marks.insert(btc, 50_000.0);
        // The leader (a $10k account) is long 0.1 BTC: we (a $100k one) go long 1 BTC.
        m.positions.insert((wallet(1), btc), 0.1);
        m.follow(&mut v, btc, 0);
        assert_eq!(m.ordered[&btc], 1.0);
        // It closes: so do we; a leader with no account value known is not followed.
        m.positions.insert((wallet(1), btc), 0.0);
        m.follow(&mut v, btc, 10);
        assert_eq!(m.ordered[&btc], 0.0);
        m.accounts.clear();
        m.positions.insert((wallet(1), btc), 0.5);
        m.follow(&mut v, btc, 20);
        assert_eq!(m.ordered[&btc], 0.0);
        while let Some(t) = v.next_due() {
            v.due(t);
        }
        let fills: Vec<_> = v.venue.executions().into_values().filter(|e| e.size.is_positive()).collect();
        assert_eq!(fills.len(), 2, "{fills:?}");
    }
}
