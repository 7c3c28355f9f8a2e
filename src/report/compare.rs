//! The benchmarks a strategy is judged against in the same run: buy-and-hold
//! BTC from the start capital, the naive mirror, the lagged-signal null and
//! the copied traders' own exits (see `counterfactual`). The report's table
//! says which wins.

use dataflows::feed::Input;
use dataflows::model::{TimeMs, Token};
use serde_json::{Value, json};

use super::stats::{EquityStats, Stat};

const HOUR_MS: TimeMs = 3_600_000;

/// The start capital in BTC at the first BTC mark at or after `start`, valued
/// at the last mark of each hour; empty when the data has no BTC price.
pub fn btc_buy_and_hold(inputs: &[Input], start: TimeMs, capital: f64) -> Vec<(TimeMs, f64)> {
    let Ok(btc) = Token::parse("BTC") else { return Vec::new() };
    let mut marks: Vec<(TimeMs, f64)> = inputs
        .iter()
        .filter_map(|i| match i {
            Input::Mark(m) if m.token == btc && m.time_ms >= start => Some((m.time_ms, m.price.to_f64())),
            _ => None,
        })
        .collect();
    marks.sort_by_key(|m| m.0);
    let Some(&(_, first)) = marks.first() else { return Vec::new() };
    let mut curve: Vec<(TimeMs, f64)> = vec![(start, capital)];
    for (t, px) in marks {
        let v = capital * px / first;
        match curve.last_mut() {
            Some(last) if last.0 / HOUR_MS == t / HOUR_MS && last.0 != start => *last = (t, v),
            _ => curve.push((t, v)),
        }
    }
    curve
}

/// The benchmark of a strategy's entries with the copied traders' exits.
pub const THEIR_EXITS: &str = "the copied traders' own exits";

/// A row for a benchmark that does not apply to the strategy, saying why.
pub fn not_comparable(name: &str, strategy: &EquityStats, why: &str) -> Value {
    json!({
        "benchmark": name,
        "strategy_total_return": strategy.total_return,
        "benchmark_total_return": "n/a",
        "strategy_sharpe": strategy.sharpe,
        "benchmark_sharpe": "n/a",
        "strategy_max_drawdown": strategy.max_drawdown,
        "benchmark_max_drawdown": "n/a",
        "winner": format!("n/a: {why}"),
    })
}

/// One row of the comparison: the strategy against a benchmark, on total
/// return and Sharpe; the winner is the higher total return.
pub fn versus(name: &str, strategy: &EquityStats, other: &EquityStats) -> Value {
    let winner = match (strategy.total_return, other.total_return) {
        (Stat::Value(a), Stat::Value(b)) if a > b => "strategy".to_string(),
        (Stat::Value(a), Stat::Value(b)) if a < b => name.to_string(),
        (Stat::Value(_), Stat::Value(_)) => "tie".to_string(),
        _ => "n/a: a return is missing".to_string(),
    };
    json!({
        "benchmark": name,
        "strategy_total_return": strategy.total_return,
        "benchmark_total_return": other.total_return,
        "strategy_sharpe": strategy.sharpe,
        "benchmark_sharpe": other.sharpe,
        "strategy_max_drawdown": strategy.max_drawdown,
        "benchmark_max_drawdown": other.max_drawdown,
        "winner": winner,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataflows::model::{MarkPrice, Price};

    fn mark(t: TimeMs, token: &str, px: &str) -> Input {
        Input::Mark(MarkPrice { time_ms: t, token: Token::parse(token).unwrap(), price: Price::parse(px).unwrap() })
    }

    #[test]
    fn buy_and_hold_follows_the_btc_mark_hourly_from_the_start_capital() {
        let inputs = [
            mark(0, "ETH", "10"),
            mark(1_000, "BTC", "50000"),
            mark(2_000, "BTC", "55000"),
            mark(HOUR_MS + 5, "BTC", "60000"),
            mark(HOUR_MS + 9, "BTC", "40000"),
        ];
        let c = btc_buy_and_hold(&inputs, 0, 100.0);
        assert_eq!(c, vec![(0, 100.0), (2_000, 110.0), (HOUR_MS + 9, 80.0)]);
        assert!(btc_buy_and_hold(&[mark(0, "ETH", "1")], 0, 100.0).is_empty());
    }
}
