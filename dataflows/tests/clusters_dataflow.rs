//! Cluster components by minimum-label propagation against the reference
//! union-find, after every step of random correlations appearing and expiring:
//! components merge and split again, and the id is the smallest address.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use dataflows::intel::clusters::components;
use dataflows::model::Address;
use dataflows::rules::clusters;
use differential_dataflow::input::InputSession;
use proptest::prelude::*;

type Update = ((Address, Address), u64, isize);

fn addr(n: u8) -> Address {
    Address::from_bytes([n; 20])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn components_equal_the_reference_as_edges_come_and_go(
        steps in proptest::collection::vec(proptest::collection::vec((0u8..10, 0u8..10, any::<bool>()), 1..5), 1..25),
    ) {
        let wallets: BTreeSet<Address> = (0..10).map(addr).collect();
        let output: Arc<Mutex<Vec<Update>>> = Arc::default();
        let sink = output.clone();
        let ws = wallets.clone();
        let plan = steps.clone();
        let states = timely::execute_directly(move |worker| {
            let mut wallet_input = InputSession::<u64, Address, isize>::new();
            let mut edge_input = InputSession::<u64, (Address, Address), isize>::new();
            let probe = worker.dataflow::<u64, _, _>(|scope| {
                let (probe, out) =
                    components(wallet_input.to_collection(scope), edge_input.to_collection(scope)).probe();
                out.inspect(move |(d, t, r)| sink.lock().unwrap().push((*d, *t, *r)));
                probe
            });
            for w in &ws {
                wallet_input.update_at(*w, 0, 1);
            }
            let mut edges: BTreeSet<(Address, Address)> = BTreeSet::new();
            let mut states = Vec::new();
            for (i, step) in plan.iter().enumerate() {
                let now = i as u64;
                for &(a, b, add) in step {
                    let e = (addr(a), addr(b));
                    if add && edges.insert(e) {
                        edge_input.update_at(e, now, 1);
                    } else if !add && edges.remove(&e) {
                        edge_input.update_at(e, now, -1);
                    }
                }
                wallet_input.advance_to(now + 1);
                edge_input.advance_to(now + 1);
                wallet_input.flush();
                edge_input.flush();
                worker.step_while(|| probe.less_than(&(now + 1)));
                states.push((now, edges.clone()));
            }
            states
        });
        let updates = output.lock().unwrap().clone();
        for (now, edges) in states {
            let mut acc: BTreeMap<(Address, Address), isize> = BTreeMap::new();
            for (d, t, r) in &updates {
                if *t <= now {
                    *acc.entry(*d).or_default() += r;
                }
            }
            acc.retain(|_, r| *r != 0);
            prop_assert!(acc.values().all(|r| *r == 1), "multiplicities at {now}: {acc:?}");
            let got: BTreeMap<Address, Address> = acc.into_keys().collect();
            let edges: Vec<(Address, Address)> = edges.into_iter().collect();
            prop_assert_eq!(got, clusters::components(&wallets, &edges), "at step {}", now);
        }
    }
}
