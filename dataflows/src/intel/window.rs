//! Rolling windows by event time. A record enters at the time it is inserted
//! and leaves when its own data time plus the window has passed: at
//! `max(inserted, data_time + W)`. Windowing on the data's time rather than the
//! insertion time keeps late records (a gap backfill) and retractions exact:
//! a retraction leaves with the record it cancels, so nothing ever goes negative.

use differential_dataflow::{AsCollection, Data, VecCollection};
use timely::dataflow::operators::vec::Map;

/// `records` while `now < expires_at(record)`, retracted at that time.
pub fn expiring<'s, D: Data>(
    records: VecCollection<'s, u64, D>,
    expires_at: impl Fn(&D) -> u64 + 'static,
) -> VecCollection<'s, u64, D> {
    let leaving = records.inner.clone().map(move |(d, t, r)| {
        let at = expires_at(&d).max(t);
        (d, at, -r)
    });
    records.concat(leaving.as_collection())
}
