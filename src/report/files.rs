//! The report's files beside `report.json`: `trades.csv`, `report.md`, and
//! the result hash that says two runs decided the same.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use dataflows::model::Strategy;
use dataflows::model::ids::keccak256;
use serde_json::Value;

use super::trades::Trade;

/// `trades.csv`: every closed round trip, by strategy, in closing order.
pub fn write_trades(path: &Path, trades: &[(Strategy, &Trade)]) -> anyhow::Result<()> {
    let mut text = String::from("strategy,token,opened_at_ms,closed_at_ms,hold_hours,pnl_usd,fees_usd\n");
    for (s, t) in trades {
        let hold = t.closed_at.saturating_sub(t.opened_at) as f64 / 3_600_000.0;
        text.push_str(&format!(
            "{},{},{},{},{hold:.4},{},{}\n",
            s.name(),
            t.token,
            t.opened_at,
            t.closed_at,
            t.pnl,
            t.fees
        ));
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Keccak-256 over `signals.jsonl` then `orders.jsonl` in `dir`: equal for
/// two runs exactly when they decided and filled the same.
pub fn result_hash(dir: &Path) -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    for name in ["signals.jsonl", "orders.jsonl"] {
        let path = dir.join(name);
        bytes.extend(std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?);
    }
    Ok(hex::encode(keccak256(&bytes)))
}

/// `report.md`: the fill assumptions, each account's figures, a table per
/// strategy, the comparisons and the allocation diagnostics, from
/// `report.json`'s values (so the two never disagree).
pub fn markdown(report: &Value, assumptions: &[String]) -> String {
    let mut md = String::from("# Backtest report\n\n");
    md.push_str(&format!(
        "Version {}, config `{}`, result `{}`; {} events. {}.\n\n![equity and drawdown](equity.svg)\n\n",
        text(&report["version"]),
        text(&report["config_hash"]),
        text(&report["result_hash"]),
        text(&report["events"]),
        text(&report["accounts"]),
    ));
    md.push_str("## Fill assumptions\n\n");
    for a in assumptions {
        md.push_str(&format!("- {a}\n"));
    }
    if let Some(accounts) = report["account"].as_object() {
        md.push_str("\n## Accounts\n\n");
        let columns: Vec<(&String, BTreeMap<String, &Value>)> =
            accounts.iter().map(|(name, a)| (name, flatten(a))).collect();
        table(&mut md, &columns);
    }
    let Some(strategies) = report["strategies"].as_object() else { return md };
    md.push_str("\n## Strategies\n\n");
    let columns: Vec<(&String, BTreeMap<String, &Value>)> = strategies
        .iter()
        .map(|(name, s)| {
            let mut f = flatten(s);
            f.retain(|k, _| !k.starts_with("account.") && !k.starts_with("comparisons"));
            (name, f)
        })
        .collect();
    table(&mut md, &columns);
    for (name, s) in strategies {
        let Some(rows) = s["comparisons"].as_array() else { continue };
        md.push_str(&format!("\n### {name} against the benchmarks\n\n"));
        md.push_str("| benchmark | strategy return | benchmark return | strategy Sharpe | benchmark Sharpe | wins |\n");
        md.push_str("|---|---|---|---|---|---|\n");
        for r in rows {
            md.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                text(&r["benchmark"]),
                text(&r["strategy_total_return"]),
                text(&r["benchmark_total_return"]),
                text(&r["strategy_sharpe"]),
                text(&r["benchmark_sharpe"]),
                text(&r["winner"]),
            ));
        }
    }
    if report["eligibility"].is_object() {
        md.push_str("\n## Eligibility of the scored wallets\n\n| figure | wallets |\n|---|---|\n");
        for (k, v) in flatten(&report["eligibility"]) {
            md.push_str(&format!("| {k} | {} |\n", text(v)));
        }
    }
    if report["allocation"].is_object() {
        md.push_str("\n## Allocation diagnostics\n\n| figure | value |\n|---|---|\n");
        for (k, v) in flatten(&report["allocation"]) {
            md.push_str(&format!("| {k} | {} |\n", text(v)));
        }
    }
    md
}

/// An object's leaves under dotted keys.
fn flatten(v: &Value) -> BTreeMap<String, &Value> {
    fn walk<'a>(prefix: &str, v: &'a Value, out: &mut BTreeMap<String, &'a Value>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    walk(&key, x, out);
                }
            }
            other => {
                out.insert(prefix.to_string(), other);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("", v, &mut out);
    out
}

/// A table with one row per figure any column has, one column per name.
fn table(md: &mut String, columns: &[(&String, BTreeMap<String, &Value>)]) {
    let figures: std::collections::BTreeSet<&String> = columns.iter().flat_map(|(_, f)| f.keys()).collect();
    md.push_str("| figure |");
    for (name, _) in columns {
        md.push_str(&format!(" {name} |"));
    }
    md.push_str("\n|---|");
    md.push_str(&"---|".repeat(columns.len()));
    md.push('\n');
    for f in figures {
        md.push_str(&format!("| {f} |"));
        for (_, c) in columns {
            md.push_str(&format!(" {} |", c.get(f).map(|v| text(v)).unwrap_or_else(|| "—".into())));
        }
        md.push('\n');
    }
}

/// A JSON value as table text: numbers to 4 decimals, strings bare.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_f64() => n.as_f64().map(|x| format!("{x:.4}")).unwrap_or_default(),
        Value::Null => "—".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_markdown_shows_every_figure_and_assumption() {
        let report = json!({
            "version": "0.1.0", "config_hash": "ab", "result_hash": "cd", "events": 10,
            "accounts": "each strategy trades its own paper account",
            "account": { "entry": { "start_capital_usd": "100000", "final_account_value_usd": "99000",
                       "funding_paid_usd": "1", "equity": { "sharpe": "n/a: zero variance", "max_drawdown": 0.01 } } },
            "strategies": {
                "entry": { "signals": 3, "intents": 2, "trades_open_at_end": 0,
                           "trades": { "trades": 1, "win_rate": 1.0 } },
                "index": { "signals": 0, "intents": 0, "trades_open_at_end": 0,
                           "trades": { "trades": 0, "win_rate": "n/a: no trades" } }
            }
        });
        let md = markdown(&report, &["latency 30–60 s".into()]);
        for needle in [
            "- latency 30–60 s",
            "| equity.sharpe | n/a: zero variance |",
            "| equity.max_drawdown | 0.0100 |",
            "| figure | entry | index |",
            "| trades.win_rate | 1.0000 | n/a: no trades |",
            "result `cd`",
        ] {
            assert!(md.contains(needle), "{needle:?} not in\n{md}");
        }
    }
}
