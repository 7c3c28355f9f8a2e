//! The paper executor: fills the brain's intents against the marks it sees,
//! with the simulation model of decisions.md 13 — latency uniform in
//! `[latency_min_ms, latency_max_ms]`, adverse slippage from the per-token
//! table × `(1 + size_usd / 100 000 × size_factor)`, the fee on notional,
//! missed and partial limit fills (seed 002), funding on every rate the
//! replay carries — and keeps our account: positions
//! by the one position model every other source uses (`connectors::position`),
//! cash, and the value at marks (reported after each fill and on the hour
//! after a mark while positions are open). Every draw is a function of the seed and the
//! intent id, so a backfill is reproducible whatever the order of events.
//!
//! Order types: a market order is an IOC bounded by its slippage limit (it
//! misses when the modelled slippage is beyond it); a limit order fills at its
//! price once the mark reaches it, or is cancelled at the limit timeout; a
//! stop rests until the mark crosses its trigger while we hold the position it
//! protects, then fills as a market order; it is dropped when that position is
//! closed. Reduce-only orders never grow or flip a position.

use std::collections::{BTreeMap, BTreeSet};

use connectors::position;
use dataflows::feed::Input;
use dataflows::model::{
    Fixed, FundingRate, Halt, IntentId, IntentKind, OrderIntent, OrderType, Origin, OwnPosition, Price, Ratio,
    Rounding, Side, Size, TimeInForce, TimeMs, Token, Usd,
};
use dataflows::replay::Venue;
use serde::{Deserialize, Serialize};

use crate::config::SimulationConfig;
use crate::decimal::{to_decimal, to_fixed};

const HOUR_MS: u64 = 3_600_000;

/// Maintenance margin rate used for the liquidation estimate of our isolated
/// positions: Hyperliquid's is half the initial margin at the asset's maximum
/// leverage (1 % at 50×); a backfill does not know every asset's maximum.
const MAINTENANCE_RATE: Fixed = Fixed::lit(1, 2);

/// What became of one intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Filled,
    PartiallyFilled,
    /// A limit order the market never reached, cancelled at its timeout.
    Cancelled,
    /// A market order whose slippage would have passed its bound, or a limit
    /// order the model missed.
    Missed,
    /// A reduce-only order with nothing to reduce.
    Rejected,
    /// A stop whose position closed before it triggered.
    Expired,
    /// Still resting when the replay ended.
    Open,
}

/// One intent's execution, for `orders.jsonl` and the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Execution {
    pub outcome: Outcome,
    pub time_ms: Option<TimeMs>,
    pub price: Option<Price>,
    pub size: Size,
    pub fee: Usd,
    /// PnL the fill realised (closing part, before fees).
    pub closed_pnl: Usd,
}

/// Our position in one token.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Held {
    size: Fixed,
    entry: Price,
    opened_at: TimeMs,
    leverage: Ratio,
    origin: Origin,
}

/// Serializable whole: the daemon commits it with every step, so a restart
/// continues exactly where the last committed step left it.
#[derive(Serialize, Deserialize)]
pub struct PaperVenue {
    cfg: SimulationConfig,
    limit_timeout_ms: u64,
    marks: BTreeMap<Token, Price>,
    /// Orders waiting for their latency to pass, by (due time, id).
    pending: BTreeMap<(TimeMs, IntentId), OrderIntent>,
    /// Limit orders and stops resting on the book.
    resting: BTreeMap<IntentId, OrderIntent>,
    /// Resting orders the last marks made executable: due at that mark's time.
    triggered: BTreeSet<(TimeMs, IntentId)>,
    positions: BTreeMap<Token, Held>,
    cash: Usd,
    funding_paid: Usd,
    /// Our account must be (re)reported at this time: the start, after a
    /// fill, and hourly while positions are open (their value moves).
    report_at: Option<TimeMs>,
    executions: BTreeMap<IntentId, Execution>,
}

impl PaperVenue {
    pub fn new(cfg: SimulationConfig, limit_timeout_secs: u64, capital: Usd, start: TimeMs) -> PaperVenue {
        PaperVenue {
            cfg,
            limit_timeout_ms: limit_timeout_secs * 1_000,
            marks: BTreeMap::new(),
            pending: BTreeMap::new(),
            resting: BTreeMap::new(),
            triggered: BTreeSet::new(),
            positions: BTreeMap::new(),
            cash: capital,
            funding_paid: Usd::ZERO,
            report_at: Some(start),
            executions: BTreeMap::new(),
        }
    }

    /// Whether an intent was ever submitted.
    pub fn knows(&self, id: IntentId) -> bool {
        self.executions.contains_key(&id)
            || self.resting.contains_key(&id)
            || self.pending.keys().any(|(_, p)| *p == id)
    }

    /// Every intent's execution so far; resting orders as `Open`.
    pub fn executions(&self) -> BTreeMap<IntentId, Execution> {
        let mut out = self.executions.clone();
        for id in self.resting.keys().chain(self.pending.keys().map(|(_, id)| id)) {
            out.entry(*id).or_insert(Execution {
                outcome: Outcome::Open,
                time_ms: None,
                price: None,
                size: Size::ZERO,
                fee: Usd::ZERO,
                closed_pnl: Usd::ZERO,
            });
        }
        out
    }

    /// Cash plus the open positions at their marks.
    pub fn account_value(&self) -> Usd {
        let mut v = self.cash;
        for (token, h) in &self.positions {
            let mark = self.marks.get(token).copied().unwrap_or(h.entry);
            let pnl = mark.fixed().checked_sub(h.entry.fixed()).and_then(|d| d.checked_mul(h.size));
            if let Ok(p) = pnl.and_then(|p| v.checked_add(Usd::new(p))) {
                v = p;
            }
        }
        v
    }

    /// A uniform draw in [0, 1) from the seed, the intent and what it is for.
    fn draw(&self, id: &IntentId, purpose: u64) -> Fixed {
        let mut z = self.cfg.seed ^ purpose.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for chunk in id.to_string().as_bytes().chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            z = splitmix(z ^ u64::from_le_bytes(b));
        }
        // 53 random bits scaled onto [0, 1) at 18 places.
        Fixed::from_raw((i128::from(z >> 11) * 1_000_000_000_000_000_000) >> 53)
    }

    fn uniform(&self, id: &IntentId, purpose: u64, lo: Fixed, hi: Fixed) -> Fixed {
        let span = hi.checked_sub(lo).unwrap_or(Fixed::ZERO);
        lo.checked_add(span.checked_mul(self.draw(id, purpose)).unwrap_or(Fixed::ZERO)).unwrap_or(lo)
    }

    /// The adverse slippage fraction for `notional` of `token` (decisions.md 13).
    fn slippage(&self, token: &Token, notional: Usd) -> Fixed {
        let base = self.cfg.slippage_percent.get(token).fixed();
        let size = notional
            .fixed()
            .checked_mul_div(self.cfg.size_factor_per_100k.fixed(), Fixed::from_int(100_000), Rounding::HalfEven)
            .unwrap_or(Fixed::ZERO);
        base.checked_mul(Fixed::ONE.checked_add(size).unwrap_or(Fixed::ONE))
            .and_then(|x| x.checked_div_int(100))
            .unwrap_or(Fixed::ZERO)
    }

    fn is_buy(intent: &OrderIntent) -> bool {
        intent.side == Side::Buy
    }

    /// The size a reduce-only order may trade now (zero: nothing to reduce).
    fn reducible(&self, intent: &OrderIntent) -> Fixed {
        let held = self.positions.get(&intent.token).map(|h| h.size).unwrap_or(Fixed::ZERO);
        let reduces = if Self::is_buy(intent) { held.is_negative() } else { held.is_positive() };
        if reduces { intent.size.fixed().min(held.abs()) } else { Fixed::ZERO }
    }

    /// Executes a due order at `now` (market, or a resting order that became
    /// executable), or puts it on the book.
    fn execute(&mut self, intent: OrderIntent, now: TimeMs) {
        let mark = self.marks.get(&intent.token).copied().unwrap_or(intent.price);
        let buy = Self::is_buy(&intent);
        let mut size = intent.size.fixed();
        if intent.reduce_only {
            size = self.reducible(&intent);
            if size.is_zero() {
                let outcome = if intent.kind == IntentKind::StopLoss { Outcome::Expired } else { Outcome::Rejected };
                self.finish(intent.id, outcome, Some(now));
                return;
            }
        }
        let taker = |v: &Self| {
            let notional = mark.notional(Size::new(size)).unwrap_or(Usd::ZERO);
            let slip = v.slippage(&intent.token, notional);
            (slip, adverse(mark, slip, buy))
        };
        let (price, maker) = match intent.order_type {
            OrderType::Market { max_slippage_percent } => {
                let (slip, price) = taker(self);
                let bound = max_slippage_percent.fixed().checked_div_int(100).unwrap_or(Fixed::ZERO);
                if max_slippage_percent.is_positive() && slip > bound {
                    self.finish(intent.id, Outcome::Missed, Some(now));
                    return;
                }
                (price, false)
            }
            // A stop that reached `execute` has triggered: a market order.
            OrderType::StopMarket { .. } => (taker(self).1, false),
            OrderType::Limit { price: limit, tif: TimeInForce::Ioc } => {
                let price = taker(self).1;
                if if buy { price > limit } else { price < limit } {
                    self.finish(intent.id, Outcome::Missed, Some(now));
                    return;
                }
                (price, false)
            }
            OrderType::Limit { price: limit, .. } => {
                let reached = if buy { mark <= limit } else { mark >= limit };
                if !reached {
                    self.resting.insert(intent.id, intent);
                    return;
                }
                if self.draw(&intent.id, 2) < self.cfg.limit_miss_rate.fixed() {
                    self.finish(intent.id, Outcome::Missed, Some(now));
                    return;
                }
                if self.draw(&intent.id, 3) < self.cfg.partial_fill_rate.fixed() {
                    let (lo, hi) = (self.cfg.partial_fill_min.fixed(), self.cfg.partial_fill_max.fixed());
                    let f = self.uniform(&intent.id, 4, lo, hi);
                    size = size.checked_mul(f).unwrap_or(size);
                }
                (limit, true)
            }
        };
        self.fill(&intent, now, price, size, maker);
    }

    /// Books a fill: position, cash (realised PnL less the fee), the record.
    fn fill(&mut self, intent: &OrderIntent, now: TimeMs, price: Price, size: Fixed, maker: bool) {
        let buy = Self::is_buy(intent);
        let held = self.positions.get(&intent.token).copied();
        let (start, entry) = held.map(|h| (h.size, h.entry)).unwrap_or((Fixed::ZERO, price));
        // The one position model, in the wire's decimals; a number either
        // side cannot hold exactly refuses the fill rather than rounding it.
        let change = match (to_decimal(start), to_decimal(entry.fixed()), to_decimal(price.fixed()), to_decimal(size)) {
            (Some(s), Some(e), Some(p), Some(z)) => position::apply(s, e, buy, p, z),
            _ => return self.finish(intent.id, Outcome::Rejected, None),
        };
        let (Ok(end), Ok(new_entry), Ok(closed)) =
            (to_fixed(&change.end), to_fixed(&change.entry), to_fixed(&change.closed_pnl))
        else {
            return self.finish(intent.id, Outcome::Rejected, None);
        };
        let notional = price.notional(Size::new(size)).unwrap_or(Usd::ZERO);
        let fee = notional
            .checked_mul_ratio(self.cfg.fee_percent)
            .and_then(|f| f.checked_div_ratio(Ratio::from_int(100)))
            .and_then(|f| f.round_dp(6, Rounding::HalfEven))
            .unwrap_or(Usd::ZERO);
        self.cash = self.cash.checked_add(Usd::new(closed)).and_then(|c| c.checked_sub(fee)).unwrap_or(self.cash);
        if end.is_zero() {
            self.positions.remove(&intent.token);
            // Stops of a closed position have nothing left to protect.
            let token = intent.token;
            let stale: Vec<IntentId> =
                self.resting.iter().filter(|(_, o)| o.token == token && o.reduce_only).map(|(id, _)| *id).collect();
            for id in stale {
                self.resting.remove(&id);
                self.finish(id, Outcome::Expired, Some(now));
            }
        } else {
            let opened_at = if change.opened { now } else { held.map(|h| h.opened_at).unwrap_or(now) };
            let origin = match held {
                Some(h) if !change.opened => h.origin,
                _ => Origin { strategy: intent.strategy, wallet: intent.attribution.first().map(|a| a.wallet) },
            };
            let leverage = if intent.leverage.is_positive() { intent.leverage } else { Ratio::ONE };
            let held = Held { size: end, entry: Price::new(new_entry), opened_at, leverage, origin };
            self.positions.insert(intent.token, held);
        }
        let outcome = if maker && size < intent.size.fixed() { Outcome::PartiallyFilled } else { Outcome::Filled };
        let exec = Execution {
            outcome,
            time_ms: Some(now),
            price: Some(price),
            size: Size::new(size),
            fee,
            closed_pnl: Usd::new(closed),
        };
        self.executions.insert(intent.id, exec);
        self.report_at = Some(now);
    }

    fn finish(&mut self, id: IntentId, outcome: Outcome, time_ms: Option<TimeMs>) {
        self.executions.insert(
            id,
            Execution { outcome, time_ms, price: None, size: Size::ZERO, fee: Usd::ZERO, closed_pnl: Usd::ZERO },
        );
    }

    /// Our account as the brain reads it: every position, then the value.
    fn snapshot(&self, now: TimeMs) -> Vec<Input> {
        let mut out: Vec<Input> = self
            .positions
            .iter()
            .map(|(token, h)| {
                Input::OwnPosition(OwnPosition {
                    time_ms: now,
                    token: *token,
                    size: Size::new(h.size),
                    entry_price: h.entry,
                    liquidation_price: liquidation_price(h),
                    leverage: h.leverage,
                    opened_at: h.opened_at,
                    origin: h.origin,
                })
            })
            .collect();
        out.push(Input::OwnAccount { time_ms: now, value: self.account_value() });
        out
    }

    /// Resting orders the mark of `token` at `t` makes executable.
    fn check_resting(&mut self, token: Token, mark: Price, t: TimeMs) {
        for (id, o) in &self.resting {
            if o.token != token {
                continue;
            }
            let buy = o.side == Side::Buy;
            let hit = match o.order_type {
                OrderType::StopMarket { trigger_price } => {
                    if buy {
                        mark >= trigger_price
                    } else {
                        mark <= trigger_price
                    }
                }
                OrderType::Limit { price, .. } => {
                    if buy {
                        mark <= price
                    } else {
                        mark >= price
                    }
                }
                OrderType::Market { .. } => true,
            };
            if hit {
                self.triggered.insert((t, *id));
            }
        }
    }

    /// Funding on our position in the rate's token, at its mark: a positive
    /// rate makes longs pay shorts (`payment = size × mark × rate`).
    /// Cancels the Open/Increase orders resting on the book in the tokens
    /// `which` selects; stops and exits stay.
    fn cancel_entries(&mut self, which: impl Fn(&Token) -> bool, at: TimeMs) {
        let entries: Vec<IntentId> = self
            .resting
            .iter()
            .filter(|(_, o)| which(&o.token) && matches!(o.kind, IntentKind::Open | IntentKind::Increase))
            .map(|(id, _)| *id)
            .collect();
        for id in entries {
            self.resting.remove(&id);
            self.finish(id, Outcome::Cancelled, Some(at));
        }
    }

    fn charge_funding(&mut self, f: &FundingRate) {
        let Some(h) = self.positions.get(&f.token) else { return };
        let mark = self.marks.get(&f.token).copied().unwrap_or(h.entry);
        let paid = h
            .size
            .checked_mul(mark.fixed())
            .and_then(|n| n.checked_mul(f.rate.fixed()))
            .and_then(|p| p.round_dp(6, Rounding::HalfEven));
        if let Ok(paid) = paid
            && let (Ok(cash), Ok(total)) =
                (self.cash.checked_sub(Usd::new(paid)), self.funding_paid.checked_add(Usd::new(paid)))
        {
            self.cash = cash;
            self.funding_paid = total;
            self.report_at.get_or_insert(f.time_ms);
        }
    }

    /// Funding paid so far (negative: received).
    pub fn funding_paid(&self) -> Usd {
        self.funding_paid
    }

    fn next_timeout(&self) -> Option<TimeMs> {
        self.resting
            .values()
            .filter(|o| matches!(o.order_type, OrderType::Limit { .. }))
            .map(|o| o.time_ms + self.limit_timeout_ms)
            .min()
    }
}

impl Venue for PaperVenue {
    fn observe(&mut self, input: &Input) {
        // The kill switch cancels every entry resting on the book (stops stay),
        // as the live daemon does on the venue.
        if let Input::Halt { time_ms, halt: Halt::KillSwitch, active: true } = input {
            self.cancel_entries(|_| true, *time_ms);
        }
        if let Input::Funding(f) = input {
            self.charge_funding(f);
        }
        if let Input::Mark(m) = input {
            self.marks.insert(m.token, m.price);
            self.check_resting(m.token, m.price, m.time_ms);
            // Open positions are revalued on the hour after a mark moved
            // them (only while marks come: a replay's end is its last input).
            if !self.positions.is_empty() && self.report_at.is_none() {
                self.report_at = Some((m.time_ms + 1).div_ceil(HOUR_MS) * HOUR_MS);
            }
        }
    }

    fn submit(&mut self, _now: TimeMs, intents: &[OrderIntent]) {
        for intent in intents {
            // Idempotent: a daemon recovering replays decisions it already sent.
            if self.knows(intent.id) {
                continue;
            }
            if matches!(intent.kind, IntentKind::Close | IntentKind::Decrease) {
                // An exit aborts the position's entries resting on the book
                // (the monitor and a rebalance leg never act on it at once).
                self.cancel_entries(|t| *t == intent.token, intent.time_ms);
            }
            if intent.kind == IntentKind::StopLoss {
                // A protective stop rests from its decision; it acts only on a
                // position it can reduce. It replaces the position's older
                // stop (one stop per position, as on the venue).
                let older: Vec<IntentId> = self
                    .resting
                    .iter()
                    .filter(|(_, o)| o.kind == IntentKind::StopLoss && o.token == intent.token)
                    .map(|(id, _)| *id)
                    .collect();
                for id in older {
                    self.resting.remove(&id);
                    self.finish(id, Outcome::Cancelled, Some(intent.time_ms));
                }
                self.resting.insert(intent.id, intent.clone());
                continue;
            }
            let latency = self
                .uniform(
                    &intent.id,
                    1,
                    Fixed::from_int(self.cfg.latency_min_ms as i64),
                    Fixed::from_int(self.cfg.latency_max_ms as i64),
                )
                .trunc_int()
                .max(0) as u64;
            self.pending.insert((intent.time_ms + latency, intent.id), intent.clone());
        }
    }

    fn next_due(&self) -> Option<TimeMs> {
        [
            self.pending.keys().next().map(|(t, _)| *t),
            self.triggered.iter().next().map(|(t, _)| *t),
            self.next_timeout(),
            self.report_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn due(&mut self, now: TimeMs) -> Vec<Input> {
        while let Some(entry) = self.pending.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let intent = entry.remove();
            self.execute(intent, now);
        }
        while let Some(&(t, id)) = self.triggered.iter().next() {
            if t > now {
                break;
            }
            self.triggered.remove(&(t, id));
            if let Some(mut o) = self.resting.remove(&id) {
                if let OrderType::StopMarket { .. } = o.order_type {
                    // A triggered stop is a market order bounded by the token's slippage.
                    o.order_type = OrderType::Market { max_slippage_percent: Ratio::ZERO };
                }
                self.execute(o, now);
            }
        }
        let expired: Vec<IntentId> = self
            .resting
            .iter()
            .filter(|(_, o)| {
                matches!(o.order_type, OrderType::Limit { .. }) && o.time_ms + self.limit_timeout_ms <= now
            })
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            self.resting.remove(&id);
            self.finish(id, Outcome::Cancelled, Some(now));
        }
        match self.report_at {
            Some(t) if t <= now => {
                self.report_at = None;
                self.snapshot(now)
            }
            _ => Vec::new(),
        }
    }
}

/// `mark` moved against the taker by `slip` (a fraction).
fn adverse(mark: Price, slip: Fixed, buy: bool) -> Price {
    let f = if buy { Fixed::ONE.checked_add(slip) } else { Fixed::ONE.checked_sub(slip) };
    f.and_then(|f| mark.fixed().checked_mul(f))
        .and_then(|p| p.round_dp(8, Rounding::HalfEven))
        .map(Price::new)
        .unwrap_or(mark)
}

/// Where an isolated position at its leverage runs out of margin:
/// long `entry × (L − 1) / (L × (1 − r))`, short `entry × (L + 1) / (L × (1 + r))`,
/// to 8 places like entry prices.
fn liquidation_price(h: &Held) -> Option<Price> {
    let l = h.leverage.fixed();
    let (num, den) = if h.size.is_positive() {
        (l.checked_sub(Fixed::ONE).ok()?, l.checked_mul(Fixed::ONE.checked_sub(MAINTENANCE_RATE).ok()?).ok()?)
    } else {
        (l.checked_add(Fixed::ONE).ok()?, l.checked_mul(Fixed::ONE.checked_add(MAINTENANCE_RATE).ok()?).ok()?)
    };
    let px =
        h.entry.fixed().checked_mul_div(num, den, Rounding::HalfEven).ok()?.round_dp(8, Rounding::HalfEven).ok()?;
    px.is_positive().then_some(Price::new(px))
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples::{btc, btc_intent as intent};
    use dataflows::model::MarkPrice;

    const T: TimeMs = 1_700_000_000_000;

    fn cfg() -> SimulationConfig {
        SimulationConfig {
            limit_miss_rate: Ratio::ZERO,
            partial_fill_rate: Ratio::ZERO,
            seed: 9,
            ..SimulationConfig::default()
        }
    }

    fn venue() -> PaperVenue {
        let mut v = PaperVenue::new(cfg(), 300, Usd::from_int(100_000), T);
        v.observe(&mark(T, "100"));
        v
    }

    fn mark(t: TimeMs, px: &str) -> Input {
        Input::Mark(MarkPrice { time_ms: t, token: btc(), price: Price::parse(px).unwrap() })
    }

    fn market() -> OrderType {
        OrderType::Market { max_slippage_percent: Ratio::lit(5, 1) }
    }

    /// Runs the venue until nothing is due before `until`; returns what it fed.
    fn run(v: &mut PaperVenue, until: TimeMs) -> Vec<Input> {
        let mut out = Vec::new();
        while let Some(t) = v.next_due().filter(|t| *t <= until) {
            out.extend(v.due(t));
        }
        out
    }

    fn own(inputs: &[Input]) -> Vec<OwnPosition> {
        inputs.iter().filter_map(|i| if let Input::OwnPosition(p) = i { Some(*p) } else { None }).collect()
    }

    #[test]
    fn the_start_reports_the_capital() {
        let mut v = venue();
        assert_eq!(v.next_due(), Some(T));
        let fed = v.due(T);
        assert_eq!(fed, vec![Input::OwnAccount { time_ms: T, value: Usd::from_int(100_000) }]);
        assert_eq!(v.next_due(), None, "nothing open, nothing to revalue");
    }

    #[test]
    fn a_market_buy_fills_after_its_latency_at_the_mark_plus_slippage() {
        let mut v = venue();
        run(&mut v, T);
        let i = intent(IntentKind::Open, Side::Buy, 100, market(), T);
        v.submit(T, std::slice::from_ref(&i));
        let due = v.next_due().unwrap();
        assert!((T + 30_000..=T + 60_000).contains(&due), "latency {}", due - T);
        let fed = run(&mut v, due);
        // $10,000 of BTC: 0.03 % × (1 + 0.1 × 0.5) = 0.0315 % adverse.
        let e = &v.executions()[&i.id];
        assert_eq!(e.outcome, Outcome::Filled);
        assert_eq!(e.price, Some(Price::parse("100.0315").unwrap()));
        assert_eq!(e.fee, Usd::parse("5.001575").unwrap(), "0.05 % of 10,003.15");
        let p = own(&fed);
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].size, p[0].entry_price, p[0].opened_at), (Size::from_int(100), e.price.unwrap(), due));
        // Isolated 3×: 100.0315 × (2/3) / 0.99.
        assert_eq!(p[0].liquidation_price.unwrap().to_string(), "67.36127946");
        let value = fed.last().unwrap();
        // Marked at 100: −3.15 of slippage and the fee.
        assert_eq!(value, &Input::OwnAccount { time_ms: due, value: Usd::parse("99991.848425").unwrap() });
    }

    #[test]
    fn draws_are_a_function_of_seed_and_intent() {
        let i = intent(IntentKind::Open, Side::Buy, 100, market(), T);
        let (mut a, mut b) = (venue(), venue());
        a.submit(T, std::slice::from_ref(&i));
        b.submit(T, std::slice::from_ref(&i));
        assert_eq!(a.next_due(), b.next_due());
        let mut c = PaperVenue::new(SimulationConfig { seed: 10, ..cfg() }, 300, Usd::from_int(100_000), T);
        c.due(T);
        a.due(T);
        c.submit(T, std::slice::from_ref(&i));
        assert_ne!(a.next_due(), c.next_due(), "another seed, another latency");
    }

    #[test]
    fn a_round_trip_books_pnl_less_fees_and_closes_the_position() {
        let mut v = venue();
        run(&mut v, T);
        let open = intent(IntentKind::Open, Side::Buy, 100, market(), T);
        v.submit(T, std::slice::from_ref(&open));
        run(&mut v, T + 60_000);
        v.observe(&mark(T + 3_600_000, "110"));
        let close = intent(IntentKind::Close, Side::Sell, 100, market(), T + 3_600_000);
        v.submit(T + 3_600_000, std::slice::from_ref(&close));
        let fed = run(&mut v, T + 3_700_000);
        let (o, c) = (&v.executions()[&open.id], &v.executions()[&close.id]);
        assert_eq!(c.outcome, Outcome::Filled);
        let expected =
            c.price.unwrap().fixed().checked_sub(o.price.unwrap().fixed()).unwrap().checked_mul_int(100).unwrap();
        assert_eq!(c.closed_pnl.fixed(), expected);
        let fees = o.fee.fixed().checked_add(c.fee.fixed()).unwrap();
        let cash = Fixed::from_int(100_000).checked_add(expected).unwrap().checked_sub(fees).unwrap();
        assert_eq!(v.account_value().fixed(), cash, "flat: the account is its cash");
        assert!(own(&fed).is_empty() || own(&fed).iter().all(|p| p.time_ms < c.time_ms.unwrap()));
        assert_eq!(fed.last(), Some(&Input::OwnAccount { time_ms: c.time_ms.unwrap(), value: Usd::new(cash) }));
    }

    #[test]
    fn reduce_only_never_grows_or_flips() {
        let mut v = venue();
        run(&mut v, T);
        let nothing = intent(IntentKind::Close, Side::Sell, 5, market(), T);
        v.submit(T, std::slice::from_ref(&nothing));
        run(&mut v, T + 60_000);
        assert_eq!(v.executions()[&nothing.id].outcome, Outcome::Rejected);
        let open = intent(IntentKind::Open, Side::Buy, 10, market(), T + 100_000);
        v.submit(T + 100_000, std::slice::from_ref(&open));
        run(&mut v, T + 200_000);
        let big = intent(IntentKind::Close, Side::Sell, 25, market(), T + 300_000);
        v.submit(T + 300_000, std::slice::from_ref(&big));
        run(&mut v, T + 400_000);
        assert_eq!(v.executions()[&big.id].size, Size::from_int(10), "clamped to the position");
        assert!(v.positions.is_empty());
    }

    #[test]
    fn a_market_order_beyond_its_slippage_bound_misses() {
        let mut v = venue();
        run(&mut v, T);
        let tight = OrderType::Market { max_slippage_percent: Ratio::lit(1, 2) };
        let i = intent(IntentKind::Open, Side::Buy, 100, tight, T);
        v.submit(T, std::slice::from_ref(&i));
        let fed = run(&mut v, T + 60_000);
        assert_eq!(v.executions()[&i.id].outcome, Outcome::Missed, "0.0315 % > 0.01 %");
        assert!(own(&fed).is_empty());
    }

    #[test]
    fn a_limit_rests_until_the_mark_reaches_it_or_its_timeout() {
        let mut v = venue();
        run(&mut v, T);
        let limit = |px| OrderType::Limit { price: Price::from_int(px), tif: TimeInForce::Gtc };
        let fills = intent(IntentKind::Open, Side::Buy, 10, limit(99), T);
        v.submit(T, std::slice::from_ref(&fills));
        run(&mut v, T + 60_000);
        assert_eq!(v.executions()[&fills.id].outcome, Outcome::Open, "100 is above the limit");
        v.observe(&mark(T + 120_000, "98.5"));
        run(&mut v, T + 120_000);
        let e = &v.executions()[&fills.id];
        assert_eq!((e.outcome, e.price, e.time_ms), (Outcome::Filled, Some(Price::from_int(99)), Some(T + 120_000)));

        let never = intent(IntentKind::Increase, Side::Buy, 10, limit(90), T + 200_000);
        v.submit(T + 200_000, std::slice::from_ref(&never));
        run(&mut v, T + 200_000 + 299_000);
        assert_eq!(v.executions()[&never.id].outcome, Outcome::Open);
        run(&mut v, T + 200_000 + 300_000);
        assert_eq!(v.executions()[&never.id].outcome, Outcome::Cancelled, "5 minutes");
    }

    #[test]
    fn partial_and_missed_limit_fills_follow_their_rates() {
        let mut c = cfg();
        c.limit_miss_rate = Ratio::lit(2, 1);
        c.partial_fill_rate = Ratio::lit(3, 1);
        let mut v = PaperVenue::new(c, 300, Usd::from_int(10_000_000), T);
        v.observe(&mark(T, "100"));
        let limit = OrderType::Limit { price: Price::from_int(101), tif: TimeInForce::Gtc };
        let (mut missed, mut partial, n) = (0, 0, 400);
        for k in 0..n {
            let i = intent(IntentKind::Open, Side::Buy, 1, limit.clone(), T + k);
            v.submit(T + k, std::slice::from_ref(&i));
            run(&mut v, T + k + 60_000);
            let e = &v.executions()[&i.id];
            match e.outcome {
                Outcome::Missed => missed += 1,
                Outcome::PartiallyFilled => {
                    assert!(e.size >= Size::lit(5, 1) && e.size <= Size::lit(9, 1), "{e:?}");
                    partial += 1;
                }
                Outcome::Filled => assert_eq!(e.size, Size::from_int(1)),
                o => panic!("{o:?}"),
            }
        }
        assert!((50..110).contains(&missed), "{missed} of {n} missed at 20 %");
        // Partial among the ones not missed: 30 % of ~320.
        assert!((60..135).contains(&partial), "{partial} partial");
    }

    #[test]
    fn a_stop_protects_the_position_and_expires_with_it() {
        let mut v = venue();
        run(&mut v, T);
        let open = intent(IntentKind::Open, Side::Buy, 10, market(), T);
        let stop = OrderType::StopMarket { trigger_price: Price::from_int(95) };
        let guard = intent(IntentKind::StopLoss, Side::Sell, 10, stop.clone(), T);
        v.submit(T, &[open.clone(), guard.clone()]);
        run(&mut v, T + 60_000);
        v.observe(&mark(T + 100_000, "96"));
        run(&mut v, T + 100_000);
        assert_eq!(v.executions()[&guard.id].outcome, Outcome::Open);
        v.observe(&mark(T + 200_000, "94"));
        let fed = run(&mut v, T + 200_000);
        let e = &v.executions()[&guard.id];
        assert_eq!((e.outcome, e.time_ms), (Outcome::Filled, Some(T + 200_000)));
        assert!(e.price.unwrap() < Price::from_int(94), "a market sell below the mark");
        assert!(own(&fed).is_empty() && v.positions.is_empty());

        // A second position closed by another order takes its stop with it.
        let open2 = intent(IntentKind::Open, Side::Buy, 10, market(), T + 300_000);
        let guard2 = intent(IntentKind::StopLoss, Side::Sell, 10, stop, T + 300_000);
        v.submit(T + 300_000, &[open2, guard2.clone()]);
        run(&mut v, T + 400_000);
        let close = intent(IntentKind::Close, Side::Sell, 10, market(), T + 500_000);
        v.submit(T + 500_000, &[close]);
        run(&mut v, T + 600_000);
        assert_eq!(v.executions()[&guard2.id].outcome, Outcome::Expired);
        v.observe(&mark(T + 700_000, "50"));
        assert!(v.triggered.is_empty(), "nothing rests any more");
    }

    #[test]
    fn an_exit_aborts_the_positions_resting_entries() {
        let mut v = venue();
        run(&mut v, T);
        v.submit(T, &[intent(IntentKind::Open, Side::Buy, 10, market(), T)]);
        run(&mut v, T + 60_000);
        let below = OrderType::Limit { price: Price::from_int(90), tif: TimeInForce::Gtc };
        let leg = intent(IntentKind::Increase, Side::Buy, 10, below, T + 100_000);
        v.submit(T + 100_000, std::slice::from_ref(&leg));
        run(&mut v, T + 160_000);
        assert_eq!(v.executions()[&leg.id].outcome, Outcome::Open, "the leg rests on the book");
        v.submit(T + 200_000, &[intent(IntentKind::Close, Side::Sell, 10, market(), T + 200_000)]);
        assert_eq!(v.executions()[&leg.id].outcome, Outcome::Cancelled);
        run(&mut v, T + 300_000);
        v.observe(&mark(T + 310_000, "89"));
        run(&mut v, T + 310_000);
        assert!(v.positions.is_empty(), "the aborted leg never fills: {:?}", v.positions);
    }

    #[test]
    fn the_kill_switch_cancels_resting_entries_and_keeps_the_stops() {
        let mut v = venue();
        run(&mut v, T);
        let open = intent(IntentKind::Open, Side::Buy, 10, market(), T);
        let trigger = OrderType::StopMarket { trigger_price: Price::from_int(80) };
        let stop = intent(IntentKind::StopLoss, Side::Sell, 10, trigger, T);
        v.submit(T, &[open, stop.clone()]);
        run(&mut v, T + 60_000);
        let below = OrderType::Limit { price: Price::from_int(90), tif: TimeInForce::Gtc };
        let leg = intent(IntentKind::Increase, Side::Buy, 10, below.clone(), T + 100_000);
        let eth = Token::parse("ETH").unwrap();
        let other = OrderIntent { token: eth, ..intent(IntentKind::Open, Side::Buy, 1, below, T + 100_000) };
        v.submit(T + 100_000, &[leg.clone(), other.clone()]);
        run(&mut v, T + 160_000);
        assert_eq!(v.executions()[&leg.id].outcome, Outcome::Open, "the leg rests on the book");
        v.observe(&Input::Halt { time_ms: T + 200_000, halt: Halt::KillSwitch, active: true });
        assert_eq!(v.executions()[&leg.id].outcome, Outcome::Cancelled);
        assert_eq!(v.executions()[&other.id].outcome, Outcome::Cancelled);
        assert_eq!(v.executions()[&stop.id].outcome, Outcome::Open, "the stop still protects the position");
        v.observe(&mark(T + 300_000, "79"));
        run(&mut v, T + 400_000);
        assert!(v.positions.is_empty(), "the stop closed the position: {:?}", v.positions);
    }

    #[test]
    fn a_newer_stop_replaces_the_positions_older_one() {
        let mut v = venue();
        run(&mut v, T);
        let open = intent(IntentKind::Open, Side::Buy, 10, market(), T);
        let stop = |px: i64, t| {
            intent(
                IntentKind::StopLoss,
                Side::Sell,
                10,
                OrderType::StopMarket { trigger_price: Price::from_int(px) },
                t,
            )
        };
        let (first, moved) = (stop(90, T), stop(97, T + 100_000));
        v.submit(T, &[open, first.clone()]);
        run(&mut v, T + 60_000);
        v.submit(T + 100_000, std::slice::from_ref(&moved));
        assert_eq!(v.executions()[&first.id].outcome, Outcome::Cancelled);
        v.observe(&mark(T + 200_000, "96"));
        run(&mut v, T + 200_000);
        assert_eq!(v.executions()[&moved.id].outcome, Outcome::Filled, "the moved stop acts at its own level");
        assert!(v.positions.is_empty());
    }

    #[test]
    fn funding_is_charged_on_our_positions_at_the_mark() {
        let mut v = venue();
        run(&mut v, T);
        let open = intent(IntentKind::Open, Side::Buy, 10, market(), T);
        v.submit(T, &[open]);
        run(&mut v, T + 60_000);
        let cash = v.cash;
        let rate = |token, r: &str| {
            Input::Funding(FundingRate { time_ms: T + HOUR_MS, token, rate: Ratio::parse(r).unwrap() })
        };
        v.observe(&rate(btc(), "0.0001"));
        // Long 10 at a mark of 100, 0.01 %: pays 0.10.
        assert_eq!(v.funding_paid(), Usd::parse("0.1").unwrap());
        assert_eq!(v.cash, cash.checked_sub(Usd::parse("0.1").unwrap()).unwrap());
        v.observe(&rate(btc(), "-0.0002"));
        assert_eq!(v.funding_paid(), Usd::parse("-0.1").unwrap(), "a negative rate pays longs");
        v.observe(&rate(Token::parse("ETH").unwrap(), "0.01"));
        assert_eq!(v.funding_paid(), Usd::parse("-0.1").unwrap(), "no ETH position, nothing charged");
        assert_eq!(v.next_due(), Some(T + HOUR_MS), "the account is re-reported");
    }

    #[test]
    fn open_positions_are_revalued_hourly() {
        let mut v = venue();
        run(&mut v, T);
        let open = intent(IntentKind::Open, Side::Buy, 10, market(), T);
        v.submit(T, &[open]);
        run(&mut v, T + 60_000);
        v.observe(&mark(T + 1_800_000, "120"));
        let next = v.next_due().unwrap();
        assert_eq!(next % HOUR_MS, 0);
        let fed = v.due(next);
        assert_eq!(own(&fed).len(), 1, "the position is re-reported with the value");
        match fed.last() {
            Some(Input::OwnAccount { value, .. }) => assert!(*value > Usd::from_int(100_150)),
            x => panic!("{x:?}"),
        }
    }
}
