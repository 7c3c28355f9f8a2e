//! The simulated world: market, personas and ledger, advanced in event time.
//!
//! Time moves minute by minute; within a minute, persona actions run in time
//! order (ties by scheduling order). At each minute boundary positions whose mark
//! crossed their liquidation price are liquidated; at each hour funding is paid;
//! at each day every account's value is recorded. Every taker fill has a market
//! maker on the other side, so every trade has a buyer and a seller.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};

use rust_decimal::prelude::*;
use sha3::{Digest, Keccak256};

use super::ledger::{Account, LiqInfo, LiquidationRec, round_usd};
use super::market::{DAY_MS, HOUR_MS, MINUTE_MS, Market};
use super::personas::{self, Persona, PersonaKind};
use super::rng::SimRng;
use super::tokens::{CATALOG, Round, TokenSpec, to_f64};
use crate::wire::Decimal;

/// 2026-01-01T00:00:00Z: the default "now" (t0) of a world.
pub const DEFAULT_T0_MS: u64 = 1_767_225_600_000;
const BUILDER_FEE: Decimal = Decimal::from_parts(1, 0, 0, false, 4); // 0.01 %
const FIRST_OID: u64 = 100_000_000_000;

/// What defines a world: same config, same world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    pub seed: u64,
    pub wallets: usize,
    pub tokens: usize,
    /// "Now" at the end of the warm-up: the world's history covers the
    /// `warmup_days` before it.
    pub t0_ms: u64,
    pub warmup_days: u64,
    /// Accounts traded from outside (mirrorflow itself): address and the USDC the
    /// venue deposits for it at the start. They have no persona behaviour.
    pub external_accounts: Vec<([u8; 20], u64)>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 1,
            wallets: 300,
            tokens: 30,
            t0_ms: DEFAULT_T0_MS,
            warmup_days: 90,
            external_accounts: Vec::new(),
        }
    }
}

impl SimConfig {
    /// When the world starts (a day boundary).
    pub fn start_ms(&self) -> u64 {
        let t0_day = self.t0_ms - self.t0_ms % DAY_MS;
        t0_day.saturating_sub(self.warmup_days * DAY_MS)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    Wake,
    Close { token: usize },
    Reduce { token: usize },
    Check { token: usize },
    FollowOpen { token: usize, long: bool },
    FollowClose { token: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Event {
    time: u64,
    seq: u64,
    wallet: usize,
    action: Action,
}

/// One trade on the public tape: the aggressor's side, both parties.
#[derive(Debug, Clone, PartialEq)]
pub struct TradeRec {
    pub time: u64,
    pub token: usize,
    /// The aggressor bought.
    pub taker_buy: bool,
    pub px: Decimal,
    pub sz: Decimal,
    pub tid: u64,
    pub buyer: usize,
    pub seller: usize,
}

/// One execution of `wallet` against a market maker.
struct Exec {
    wallet: usize,
    token: usize,
    buy: bool,
    px: Decimal,
    sz: Decimal,
    /// The wallet's fee (builder fee included).
    fee: Decimal,
    builder: Option<Decimal>,
    leverage: u32,
    isolated: bool,
    liquidation: Option<LiqInfo>,
    /// The wallet took liquidity (else the market maker did).
    crossed: bool,
    cloid: Option<[u8; 16]>,
}

#[derive(Debug, Clone)]
struct Plan {
    close_at: u64,
    long: bool,
    entry_mid: f64,
}

pub struct World {
    pub cfg: SimConfig,
    pub market: Market,
    pub accounts: Vec<Account>,
    pub personas: Vec<Persona>,
    pub now_ms: u64,
    pub tape: Vec<TradeRec>,
    pub liquidations: Vec<LiquidationRec>,
    queue: BinaryHeap<Reverse<Event>>,
    seq: u64,
    next_oid: u64,
    plans: BTreeMap<(usize, usize), Plan>,
    rngs: Vec<SimRng>,
    with_positions: BTreeSet<usize>,
    index: HashMap<[u8; 20], usize>,
    market_makers: Vec<usize>,
    dormant_until: Vec<u64>,
    /// Orders, agents and nonces of accounts traded through `/exchange`.
    pub exchange: super::exchange::ExchangeState,
}

fn keccak_u64(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Keccak256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn dec(x: f64, dp: u32) -> Decimal {
    Decimal::from_f64(x).unwrap_or_default().round_dp(dp)
}

impl World {
    pub fn new(cfg: SimConfig) -> World {
        let n_tokens = cfg.tokens.clamp(1, CATALOG.len());
        let tokens: Vec<TokenSpec> = CATALOG[..n_tokens].to_vec();
        let start = cfg.start_ms();
        let market = Market::new(cfg.seed, tokens, start);
        let mut personas = personas::build(cfg.seed, cfg.wallets, n_tokens);
        let mut accounts = Vec::with_capacity(personas.len() + cfg.external_accounts.len());
        let mut index = HashMap::new();
        for i in 0..personas.len() {
            let hash = keccak_u64(&[b"mirrorflow/sim/wallet", &cfg.seed.to_be_bytes(), &(i as u64).to_be_bytes()]);
            let mut addr = [0u8; 20];
            addr.copy_from_slice(&hash[12..]);
            index.insert(addr, i);
            accounts.push(Account::new(addr));
        }
        for (addr, usd) in &cfg.external_accounts {
            index.insert(*addr, accounts.len());
            accounts.push(Account::new(*addr));
            personas.push(personas::external(*usd as f64));
        }
        let rngs = (0..personas.len()).map(|i| SimRng::derive(cfg.seed, "wallet", i as u64)).collect();
        let market_makers =
            personas.iter().enumerate().filter(|(_, p)| p.kind == PersonaKind::MarketMaker).map(|(i, _)| i).collect();
        let n_wallets = personas.len();
        let mut world = World {
            cfg,
            market,
            accounts,
            personas,
            now_ms: start,
            tape: Vec::new(),
            liquidations: Vec::new(),
            queue: BinaryHeap::new(),
            seq: 0,
            next_oid: FIRST_OID,
            plans: BTreeMap::new(),
            rngs,
            with_positions: BTreeSet::new(),
            index,
            market_makers,
            dormant_until: vec![0; n_wallets],
            exchange: Default::default(),
        };
        for w in 0..n_wallets {
            let deposit = dec(world.personas[w].initial_deposit, 2);
            world.accounts[w].transfer(start, deposit);
            let p = &world.personas[w];
            if p.round_trips_per_day > 0.0 && p.kind != PersonaKind::MarketMaker {
                let first = start + (world.rngs[w].uniform() * DAY_MS as f64) as u64;
                world.schedule(first, w, Action::Wake);
            }
        }
        world.snapshot_day(start);
        world
    }

    pub fn specs(&self) -> &[TokenSpec] {
        &self.market.tokens
    }

    pub fn token_index(&self, coin: &str) -> Option<usize> {
        self.market.tokens.iter().position(|t| t.name == coin)
    }

    /// The wallet with this address (any case), if it exists.
    pub fn wallet_index(&self, address: &str) -> Option<usize> {
        let hex_part = address.strip_prefix("0x").or_else(|| address.strip_prefix("0X"))?;
        let mut bytes = [0u8; 20];
        hex::decode_to_slice(hex_part, &mut bytes).ok()?;
        self.index.get(&bytes).copied()
    }

    /// Marks at the current time.
    pub fn mark(&self, token: usize) -> Decimal {
        self.market.mark(token, self.now_ms)
    }

    pub fn account_value(&self, w: usize) -> Decimal {
        let now = self.now_ms;
        self.accounts[w].value(|t| self.market.mark(t, now))
    }

    /// Transaction hash of a trade.
    pub fn trade_hash(&self, tid: u64) -> String {
        format!("0x{}", hex::encode(keccak_u64(&[b"tx", &self.cfg.seed.to_be_bytes(), &tid.to_be_bytes()])))
    }

    /// Transaction hash of a funding payment or transfer.
    pub fn ledger_hash(&self, kind: &str, time: u64, wallet: usize) -> String {
        let h = keccak_u64(&[
            kind.as_bytes(),
            &self.cfg.seed.to_be_bytes(),
            &time.to_be_bytes(),
            &(wallet as u64).to_be_bytes(),
        ]);
        format!("0x{}", hex::encode(h))
    }

    fn schedule(&mut self, time: u64, wallet: usize, action: Action) {
        self.seq += 1;
        self.queue.push(Reverse(Event { time, seq: self.seq, wallet, action }));
    }

    /// Advances the world to `target_ms` (no-op if already there).
    pub fn step_to(&mut self, target_ms: u64) {
        while self.now_ms < target_ms {
            let minute_end = (self.now_ms / MINUTE_MS + 1) * MINUTE_MS;
            let horizon = minute_end.min(target_ms);
            self.market.ensure_minute(self.market.minute_of(minute_end));
            while let Some(Reverse(ev)) = self.queue.peek().copied() {
                if ev.time >= minute_end || ev.time > target_ms {
                    break;
                }
                self.queue.pop();
                self.now_ms = self.now_ms.max(ev.time);
                self.handle(ev);
            }
            self.now_ms = horizon;
            if horizon == minute_end {
                self.match_resting(minute_end);
                self.check_liquidations(minute_end);
                if minute_end.is_multiple_of(HOUR_MS) {
                    self.pay_funding(minute_end);
                }
                if minute_end.is_multiple_of(DAY_MS) {
                    self.snapshot_day(minute_end);
                }
            }
        }
    }

    fn handle(&mut self, ev: Event) {
        let w = ev.wallet;
        match ev.action {
            Action::Wake => self.wake(w),
            Action::Close { token } => self.close(w, token),
            Action::Reduce { token } => self.reduce(w, token),
            Action::Check { token } => self.check(w, token),
            Action::FollowOpen { token, long } => {
                let leader_holds = self.personas[w].leader.is_some_and(|l| {
                    self.accounts[l].positions.get(&token).is_some_and(|p| p.szi.is_sign_positive() == long)
                });
                if leader_holds && !self.accounts[w].positions.contains_key(&token) {
                    self.open(w, token, Some(long));
                }
            }
            Action::FollowClose { token } => self.close(w, token),
        }
    }

    fn equity_f64(&self, w: usize) -> f64 {
        let a = &self.accounts[w];
        let upnl: f64 = a
            .positions
            .iter()
            .map(|(t, p)| (self.market.price_generated(*t, self.now_ms) - to_f64(p.entry)) * to_f64(p.szi))
            .sum();
        to_f64(a.cash) + upnl
    }

    fn wake(&mut self, w: usize) {
        let now = self.now_ms;
        let p = self.personas[w].clone();
        let mean_gap_ms = DAY_MS as f64 / p.round_trips_per_day.max(0.01);
        let next = now + (self.rngs[w].exponential(mean_gap_ms) as u64).max(MINUTE_MS);
        self.schedule(next, w, Action::Wake);
        if self.dormant_until[w] > now {
            return;
        }
        let equity = self.equity_f64(w);
        let blown = equity < 0.15 * p.initial_deposit;
        if blown && matches!(p.kind, PersonaKind::Gambler | PersonaKind::OverLevered | PersonaKind::Retail) {
            if self.accounts[w].positions.is_empty() && self.rngs[w].chance(0.5) {
                let amount = dec(p.initial_deposit * self.rngs[w].range(0.5, 1.5), 2);
                self.accounts[w].transfer(now, amount);
            } else {
                self.dormant_until[w] = now + (self.rngs[w].range(2.0, 10.0) * DAY_MS as f64) as u64;
            }
            return;
        }
        if matches!(p.kind, PersonaKind::Skilled | PersonaKind::PositionTrader)
            && self.accounts[w].positions.is_empty()
            && self.rngs[w].chance(0.02)
        {
            let amount = dec(to_f64(self.accounts[w].cash) * self.rngs[w].range(0.05, 0.15), 2);
            if amount > Decimal::ZERO {
                self.accounts[w].transfer(now, -amount);
            }
        }
        if self.accounts[w].positions.len() >= p.max_concurrent || p.tokens.is_empty() {
            return;
        }
        let free: Vec<usize> =
            p.tokens.iter().copied().filter(|t| !self.accounts[w].positions.contains_key(t)).collect();
        if free.is_empty() {
            return;
        }
        let token = *self.rngs[w].pick(&free);
        self.open(w, token, None);
    }

    fn open(&mut self, w: usize, token: usize, direction: Option<bool>) {
        let now = self.now_ms;
        let p = self.personas[w].clone();
        let hold_h = self.rngs[w].range(p.hold_hours.0, p.hold_hours.1);
        let close_at = now + (hold_h * HOUR_MS as f64) as u64;
        let mid = self.market.price(token, now);
        let long = match direction {
            Some(long) => long,
            None => {
                let future = self.market.price(token, close_at);
                let right = future > mid;
                if self.rngs[w].chance(p.accuracy) { right } else { !right }
            }
        };
        let spec = self.market.tokens[token].clone();
        let leverage = p.leverage.min(spec.max_leverage).max(1);
        let equity = self.equity_f64(w);
        if equity <= 0.0 {
            return;
        }
        let notional = (equity * p.exposure).min(equity * leverage as f64 * 0.9);
        let sz = spec.round_size_down(notional / mid);
        if to_f64(sz) * mid < 11.0 {
            return;
        }
        self.taker(w, token, long, sz, leverage, p.isolated);
        self.plans.insert((w, token), Plan { close_at, long, entry_mid: mid });
        if p.kind != PersonaKind::Follower {
            if p.take_profit.is_some() || p.stop_loss.is_some() {
                let check = now + (self.rngs[w].range(10.0, 30.0) * MINUTE_MS as f64) as u64;
                self.schedule(check.min(close_at), w, Action::Check { token });
            }
            self.schedule(close_at, w, Action::Close { token });
            if self.rngs[w].chance(p.reduce_chance) {
                self.schedule(now + (close_at - now) / 2, w, Action::Reduce { token });
            }
        }
        for f in p.followers {
            let (lo, hi) = self.personas[f].follow_delay_ms;
            let delay = self.rngs[f].range_u64(lo, hi);
            self.schedule(now + delay, f, Action::FollowOpen { token, long });
        }
    }

    fn close(&mut self, w: usize, token: usize) {
        let Some(pos) = self.accounts[w].positions.get(&token).cloned() else { return };
        self.plans.remove(&(w, token));
        let long = pos.szi.is_sign_positive();
        self.taker(w, token, !long, pos.szi.abs(), pos.leverage, pos.isolated);
        self.followers_exit(w, token);
    }

    fn followers_exit(&mut self, w: usize, token: usize) {
        let now = self.now_ms;
        for f in self.personas[w].followers.clone() {
            let (lo, hi) = self.personas[f].follow_delay_ms;
            let delay = self.rngs[f].range_u64(lo, hi);
            self.schedule(now + delay, f, Action::FollowClose { token });
        }
    }

    fn reduce(&mut self, w: usize, token: usize) {
        let Some(pos) = self.accounts[w].positions.get(&token).cloned() else { return };
        let spec = &self.market.tokens[token];
        let half = spec.round_size_down(to_f64(pos.szi.abs()) / 2.0);
        let px = self.market.price(token, self.now_ms);
        if half.is_zero() || to_f64(half) * px < 11.0 || half >= pos.szi.abs() {
            return;
        }
        self.taker(w, token, !pos.szi.is_sign_positive(), half, pos.leverage, pos.isolated);
    }

    fn check(&mut self, w: usize, token: usize) {
        let Some(plan) = self.plans.get(&(w, token)).cloned() else { return };
        if !self.accounts[w].positions.contains_key(&token) {
            return;
        }
        let p = &self.personas[w];
        let (tp, sl) = (p.take_profit, p.stop_loss);
        let px = self.market.price(token, self.now_ms);
        let gain = (px / plan.entry_mid - 1.0) * if plan.long { 1.0 } else { -1.0 };
        if tp.is_some_and(|tp| gain >= tp) || sl.is_some_and(|sl| gain <= -sl) {
            self.close(w, token);
        } else if self.now_ms < plan.close_at {
            let next = self.now_ms + (self.rngs[w].range(10.0, 30.0) * MINUTE_MS as f64) as u64;
            self.schedule(next.min(plan.close_at), w, Action::Check { token });
        }
    }

    fn ids(&mut self) -> (u64, u64, u64) {
        let taker_oid = self.next_oid;
        let maker_oid = self.next_oid + 1;
        self.next_oid += 2;
        let h = keccak_u64(&[&taker_oid.to_be_bytes(), &maker_oid.to_be_bytes()]);
        let tid = u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]) & ((1 << 50) - 1);
        (taker_oid, maker_oid, tid)
    }

    fn market_maker_for(&self, token: usize) -> usize {
        self.market_makers[(self.tape.len() + token) % self.market_makers.len()]
    }

    /// A market order of `w` filled by a market maker at the mid plus spread and
    /// size-dependent impact, on the tick grid.
    fn taker(&mut self, w: usize, token: usize, buy: bool, sz: Decimal, leverage: u32, isolated: bool) {
        let px = self.book_price(token, buy, sz);
        let notional = px * sz;
        let builder = self.personas[w].builder.then(|| round_usd(notional * BUILDER_FEE));
        let fee = crate::position::fee(notional, true) + builder.unwrap_or_default();
        self.execute(Exec {
            wallet: w,
            token,
            buy,
            px,
            sz,
            fee,
            builder,
            leverage,
            isolated,
            liquidation: None,
            crossed: true,
            cloid: None,
        });
    }

    /// The price a market order of `sz` gets now: the mid plus half the spread
    /// plus impact growing with its notional, on the tick grid, rounded against
    /// the taker.
    pub fn book_price(&mut self, token: usize, buy: bool, sz: Decimal) -> Decimal {
        let mid = self.market.price(token, self.now_ms);
        let spec = &self.market.tokens[token];
        let slip = spec.half_spread * (1.0 + to_f64(sz) * mid / 250_000.0);
        if buy {
            spec.round_price(mid * (1.0 + slip), Round::Up)
        } else {
            spec.round_price(mid * (1.0 - slip), Round::Down)
        }
    }

    /// A fresh order id.
    pub fn allocate_oid(&mut self) -> u64 {
        self.next_oid += 1;
        self.next_oid
    }

    /// A fill of an account traded through `/exchange`: taker at `px` (from the
    /// book) or maker (its resting order traded through), carrying its cloid.
    #[allow(clippy::too_many_arguments)]
    pub fn external_fill(
        &mut self,
        w: usize,
        token: usize,
        buy: bool,
        px: Decimal,
        sz: Decimal,
        taker: bool,
        leverage: u32,
        isolated: bool,
        cloid: Option<&str>,
    ) {
        let fee = crate::position::fee(px * sz, taker);
        let cloid = cloid.and_then(|c| {
            let mut b = [0u8; 16];
            hex::decode_to_slice(c.trim_start_matches("0x"), &mut b).ok().map(|_| b)
        });
        self.execute(Exec {
            wallet: w,
            token,
            buy,
            px,
            sz,
            fee,
            builder: None,
            leverage,
            isolated,
            liquidation: None,
            crossed: taker,
            cloid,
        });
    }

    fn execute(&mut self, e: Exec) {
        let now = self.now_ms;
        let Exec { wallet: w, token, buy, px, sz, fee, builder, leverage, isolated, liquidation, crossed, cloid } = e;
        let mm = self.market_maker_for(token);
        let (taker_oid, maker_oid, tid) = self.ids();
        let (w_oid, mm_oid) = if crossed { (taker_oid, maker_oid) } else { (maker_oid, taker_oid) };
        let notional = px * sz;
        let mm_fee = crate::position::fee(notional, !crossed);
        let specs = self.market.tokens.clone();
        let mm_lev = self.personas[mm].leverage;
        self.accounts[w].apply_fill(
            &specs,
            token,
            buy,
            px,
            sz,
            now,
            fee,
            builder,
            leverage,
            isolated,
            (w_oid, tid),
            crossed,
            liquidation.clone(),
        );
        if let Some(f) = self.accounts[w].fills.last_mut() {
            f.cloid = cloid;
        }
        self.accounts[mm].apply_fill(
            &specs,
            token,
            !buy,
            px,
            sz,
            now,
            mm_fee,
            None,
            mm_lev,
            false,
            (mm_oid, tid),
            !crossed,
            liquidation,
        );
        for who in [w, mm] {
            if self.accounts[who].positions.is_empty() {
                self.with_positions.remove(&who);
            } else {
                self.with_positions.insert(who);
            }
        }
        let (buyer, seller) = if buy { (w, mm) } else { (mm, w) };
        // The aggressor's side: the wallet's when it crossed, else the maker's.
        let taker_buy = if crossed { buy } else { !buy };
        self.tape.push(TradeRec { time: now, token, taker_buy, px, sz, tid, buyer, seller });
    }

    fn check_liquidations(&mut self, t: u64) {
        let mut due = Vec::new();
        for &w in &self.with_positions {
            for (&token, pos) in &self.accounts[w].positions {
                let Some(liq) = pos.liq else { continue };
                let px = self.market.price_generated(token, t);
                let long = pos.szi.is_sign_positive();
                let near = if long { px <= pos.liq_f * 1.000_001 } else { px >= pos.liq_f * 0.999_999 };
                if near {
                    let mark = self.market.mark(token, t);
                    if (long && mark <= liq) || (!long && mark >= liq) {
                        due.push((w, token, mark, liq));
                    }
                }
            }
        }
        for (w, token, mark, liq) in due {
            self.liquidate(w, token, mark, liq, t);
        }
    }

    /// Closes the position at the mark, or at its bankruptcy price (a backstop
    /// liquidation) when the mark gapped past it, so losses never exceed margin.
    fn liquidate(&mut self, w: usize, token: usize, mark: Decimal, liq: Decimal, t: u64) {
        let Some(pos) = self.accounts[w].positions.get(&token).cloned() else { return };
        let s = pos.szi.abs();
        let long = pos.szi.is_sign_positive();
        let spec = self.market.tokens[token].clone();
        let bankrupt = if long { pos.entry - pos.margin / s } else { pos.entry + pos.margin / s };
        let covered = if long { mark >= bankrupt } else { mark <= bankrupt };
        let (px, fee) = if covered {
            (mark, crate::position::fee(mark * s, true))
        } else {
            let r = if long { Round::Up } else { Round::Down };
            (spec.round_price(to_f64(bankrupt), r), Decimal::ZERO)
        };
        self.plans.remove(&(w, token));
        let info = LiqInfo { liquidated: w, mark };
        self.execute(Exec {
            wallet: w,
            token,
            buy: !long,
            px,
            sz: s,
            fee,
            builder: None,
            leverage: pos.leverage,
            isolated: pos.isolated,
            liquidation: Some(info),
            crossed: true,
            cloid: None,
        });
        self.liquidations.push(LiquidationRec {
            time: t,
            wallet: w,
            token,
            szi: pos.szi,
            liquidation_px: liq,
            mark,
            fill_px: px,
        });
        self.followers_exit(w, token);
    }

    fn pay_funding(&mut self, hour_ms: u64) {
        let specs = self.market.tokens.clone();
        let wallets: Vec<usize> = self.with_positions.iter().copied().collect();
        for w in wallets {
            let market = &self.market;
            self.accounts[w].apply_funding(&specs, hour_ms, |t| {
                (market.funding_rate(t, hour_ms).unwrap_or_default(), market.mark(t, hour_ms))
            });
        }
    }

    fn snapshot_day(&mut self, day_ms: u64) {
        for w in 0..self.accounts.len() {
            let v = self.accounts[w].value(|t| self.market.mark(t, day_ms));
            self.accounts[w].daily_value.push((day_ms, v));
        }
    }

    /// Open interest of a token: the sum of all long sizes (equal to all short sizes).
    pub fn open_interest(&self, token: usize) -> Decimal {
        self.accounts
            .iter()
            .filter_map(|a| a.positions.get(&token))
            .filter(|p| p.szi > Decimal::ZERO)
            .map(|p| p.szi)
            .sum()
    }

    /// The funding rate of the last completed hour.
    pub fn latest_funding(&self, token: usize) -> Option<Decimal> {
        self.market.funding_rate(token, self.now_ms - self.now_ms % HOUR_MS)
    }

    /// Account value at a recorded day boundary at or before `ms`.
    pub fn value_at_day(&self, w: usize, ms: u64) -> Option<Decimal> {
        let days = &self.accounts[w].daily_value;
        let i = days.partition_point(|(t, _)| *t <= ms);
        (i > 0).then(|| days[i - 1].1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> SimConfig {
        SimConfig { seed: 5, wallets: 40, tokens: 6, warmup_days: 10, ..SimConfig::default() }
    }

    #[test]
    fn worlds_are_deterministic() {
        let mut a = World::new(small());
        let mut b = World::new(small());
        let end = small().t0_ms;
        a.step_to(end);
        // b reaches the same time in uneven steps.
        let mut t = small().start_ms();
        while t < end {
            t = (t + 7_777_777).min(end);
            b.step_to(t);
        }
        assert_eq!(a.tape, b.tape);
        assert!(a.tape.len() > 100, "{} trades", a.tape.len());
        for w in 0..a.accounts.len() {
            assert_eq!(a.accounts[w].fills, b.accounts[w].fills);
            assert_eq!(a.accounts[w].cash, b.accounts[w].cash);
        }
        let mut c = World::new(SimConfig { seed: 6, ..small() });
        c.step_to(end);
        assert_ne!(a.tape, c.tape);
    }

    #[test]
    fn every_trade_has_a_buyer_and_a_seller_with_matching_fills() {
        let mut w = World::new(small());
        w.step_to(small().start_ms() + 3 * DAY_MS);
        for trade in w.tape.iter().take(200) {
            let buyer_fill = w.accounts[trade.buyer].fills.iter().find(|f| f.tid == trade.tid).unwrap();
            let seller_fill = w.accounts[trade.seller].fills.iter().find(|f| f.tid == trade.tid).unwrap();
            assert!(buyer_fill.buy && !seller_fill.buy);
            assert_eq!((buyer_fill.px, buyer_fill.sz), (seller_fill.px, seller_fill.sz));
            assert_ne!(trade.buyer, trade.seller);
        }
    }
}
