//! Trader intelligence as timely/differential dataflow (DESIGN §2): every box
//! is a materialized collection that updates when its inputs change. Time is
//! event time in milliseconds; the clock input moves it forward, and windows
//! move with it (a fill enters a window at its time and leaves it W later, so
//! old fills leave by retraction and their state compacts away).

pub mod clusters;
pub mod metrics;
pub mod replay;
