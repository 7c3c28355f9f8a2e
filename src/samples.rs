//! Builders for the unit tests: a BTC fill and an entry-strategy order
//! intent at price 100, with the fields tests rarely vary fixed.

use dataflows::model::{
    Address, Fill, IntentId, IntentKind, OrderIntent, OrderType, Price, Ratio, Side, Size, Strategy, TimeMs, Token,
    TxHash, Usd,
};

pub fn btc() -> Token {
    Token::parse("BTC").unwrap()
}

/// A fill of `wallet` in BTC at 100 from the signed position `start`.
pub fn btc_fill(t: TimeMs, wallet: Address, start: i64, side: Side, size: i64) -> Fill {
    Fill {
        time_ms: t,
        wallet,
        token: btc(),
        side,
        price: Price::from_int(100),
        size: Size::from_int(size),
        start_position: Size::from_int(start),
        closed_pnl: Usd::ZERO,
        fee: Usd::ZERO,
        tx_hash: TxHash::default(),
        trade_id: t,
        liquidation: false,
    }
}

/// An entry-strategy intent in BTC at 100, 3× isolated, reduce-only when it exits.
pub fn btc_intent(kind: IntentKind, side: Side, size: i64, order_type: OrderType, t: TimeMs) -> OrderIntent {
    OrderIntent {
        id: IntentId::derive(Strategy::Entry, btc(), t, kind),
        time_ms: t,
        strategy: Strategy::Entry,
        token: btc(),
        kind,
        side,
        size: Size::from_int(size),
        price: Price::from_int(100),
        order_type,
        reduce_only: matches!(kind, IntentKind::Close | IntentKind::Decrease | IntentKind::StopLoss),
        leverage: Ratio::from_int(3),
        reason: "test".into(),
        attribution: vec![],
    }
}
