//! Properties of the signing path over random valid actions and keys: the
//! signature recovers the signing address (for L1 and user-signed actions), and
//! the MessagePack that is hashed decodes back to the same action.

use std::collections::HashMap;

use connectors::hyperliquid::actions::{Action, Grouping, OidOrCloid, Tif, TpSl};
use connectors::hyperliquid::builders::{self, OrderKind, OrderRequest};
use connectors::hyperliquid::keys::Signer;
use connectors::hyperliquid::signing::{l1_digest, recover_signer, user_signed_digest};
use connectors::wire::Decimal;
use proptest::prelude::*;

const COINS: [&str; 4] = ["BTC", "ETH", "SOL", "kPEPE"];

fn assets() -> HashMap<String, u32> {
    COINS.iter().enumerate().map(|(i, c)| (c.to_string(), i as u32)).collect()
}

/// A positive decimal with at most eight places.
fn amount() -> impl Strategy<Value = Decimal> {
    (1u64..10_000_000_000, 0u32..=8).prop_map(|(m, scale)| Decimal::new(m as i64, scale))
}

fn cloid() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(any::<[u8; 16]>().prop_map(|b| format!("0x{}", hex::encode(b))))
}

fn order() -> impl Strategy<Value = OrderRequest> {
    let kind = prop_oneof![
        prop_oneof![Just(Tif::Gtc), Just(Tif::Ioc), Just(Tif::Alo)].prop_map(OrderKind::Limit),
        (amount(), any::<bool>(), any::<bool>()).prop_map(|(px, is_market, tp)| OrderKind::Trigger {
            trigger_px: px,
            is_market,
            tpsl: if tp { TpSl::Tp } else { TpSl::Sl },
        }),
    ];
    (0..COINS.len(), any::<bool>(), amount(), amount(), kind, any::<bool>(), cloid()).prop_map(
        |(c, is_buy, sz, limit_px, kind, reduce_only, cloid)| OrderRequest {
            coin: COINS[c].into(),
            is_buy,
            sz,
            limit_px,
            kind,
            reduce_only,
            cloid,
        },
    )
}

fn action() -> impl Strategy<Value = Action> {
    let a = assets();
    let (a1, a2, a3, a4) = (a.clone(), a.clone(), a.clone(), a.clone());
    prop_oneof![
        (proptest::collection::vec(order(), 1..5), 0..3usize).prop_map(move |(orders, g)| {
            let grouping = [Grouping::Na, Grouping::NormalTpsl, Grouping::PositionTpsl][g];
            builders::order(&orders, grouping, None, &a1).unwrap()
        }),
        proptest::collection::vec((0..COINS.len(), any::<u64>()), 1..4).prop_map(move |c| builders::cancel(
            &c.iter().map(|(i, o)| (COINS[*i], *o)).collect::<Vec<_>>(),
            &a2
        )
        .unwrap()),
        (order(), any::<u64>())
            .prop_map(move |(o, oid)| builders::batch_modify(&[(OidOrCloid::Oid(oid), o)], &a3).unwrap()),
        (0..COINS.len(), 1u32..50, any::<bool>())
            .prop_map(move |(c, l, cross)| builders::update_leverage(COINS[c], l, cross, &a4).unwrap()),
        proptest::option::of(any::<u64>()).prop_map(builders::schedule_cancel),
    ]
}

fn key() -> impl Strategy<Value = Signer> {
    any::<[u8; 32]>().prop_filter_map("a valid secp256k1 key", |k| Signer::from_bytes(k).ok())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn l1_signatures_recover_the_signer_and_msgpack_round_trips(
        action in action(),
        signer in key(),
        nonce in 1u64..u64::MAX / 2,
        mainnet in any::<bool>(),
        vault in proptest::option::of(any::<[u8; 20]>().prop_map(|a| format!("0x{}", hex::encode(a)))),
    ) {
        let bytes = action.msgpack().unwrap();
        let back: Action = rmp_serde::from_slice(&bytes).unwrap();
        prop_assert_eq!(&back, &action);
        let digest = l1_digest(&action, nonce, vault.as_deref(), None, mainnet).unwrap();
        let sig = signer.sign(&digest).unwrap();
        prop_assert_eq!(recover_signer(&digest, &sig).unwrap(), signer.address());
        // Another nonce is another digest: the signature does not carry over.
        let other = l1_digest(&action, nonce + 1, vault.as_deref(), None, mainnet).unwrap();
        prop_assert_ne!(recover_signer(&other, &sig).ok(), Some(signer.address()));
    }

    #[test]
    fn user_signed_actions_recover_the_signer(
        signer in key(),
        amount in amount(),
        time in 1u64..u64::MAX / 2,
        mainnet in any::<bool>(),
        to in any::<[u8; 20]>(),
    ) {
        let dest = format!("0x{}", hex::encode(to));
        for action in [
            builders::usd_send(&dest, amount, time, mainnet).unwrap(),
            builders::withdraw(&dest, amount, time, mainnet).unwrap(),
            builders::approve_agent(&dest, None, time, mainnet).unwrap(),
        ] {
            let digest = user_signed_digest(action.signed()).unwrap();
            prop_assert_eq!(user_signed_digest(&action.posted()).unwrap(), digest);
            let sig = signer.sign(&digest).unwrap();
            prop_assert_eq!(recover_signer(&digest, &sig).unwrap(), signer.address());
        }
    }
}
