//! The report's files beside `report.json`: `trades.csv`, `report.md`, and
//! the result hash that says two runs decided the same.

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

/// `report.md`: the fill assumptions, the account's figures and a table per
/// strategy, from `report.json`'s values (so the two never disagree).
pub fn markdown(report: &Value, assumptions: &[String]) -> String {
    let mut md = String::from("# Backtest report\n\n");
    md.push_str(&format!(
        "Version {}, config `{}`, result `{}`; {} events.\n\n",
        text(&report["version"]),
        text(&report["config_hash"]),
        text(&report["result_hash"]),
        text(&report["events"])
    ));
    md.push_str("## Fill assumptions\n\n");
    for a in assumptions {
        md.push_str(&format!("- {a}\n"));
    }
    let paper = &report["paper"];
    md.push_str("\n## Account\n\n| figure | value |\n|---|---|\n");
    for key in ["start_capital_usd", "final_account_value_usd", "funding_paid_usd"] {
        md.push_str(&format!("| {key} | {} |\n", text(&paper[key])));
    }
    if let Some(equity) = paper["equity"].as_object() {
        for (key, v) in equity {
            md.push_str(&format!("| {key} | {} |\n", text(v)));
        }
    }
    md.push_str("\n## Strategies\n\n");
    let Some(strategies) = report["strategies"].as_object() else { return md };
    let figures: Vec<String> = strategies
        .values()
        .next()
        .and_then(|s| s["trades"].as_object())
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default();
    md.push_str("| figure |");
    for name in strategies.keys() {
        md.push_str(&format!(" {name} |"));
    }
    md.push_str("\n|---|");
    md.push_str(&"---|".repeat(strategies.len()));
    md.push('\n');
    let mut row = |label: &str, get: &dyn Fn(&Value) -> &Value| {
        md.push_str(&format!("| {label} |"));
        for s in strategies.values() {
            md.push_str(&format!(" {} |", text(get(s))));
        }
        md.push('\n');
    };
    row("signals", &|s| &s["signals"]);
    row("intents", &|s| &s["intents"]);
    for f in &figures {
        row(f, &|s| &s["trades"][f.as_str()]);
    }
    row("trades open at the end", &|s| &s["trades_open_at_end"]);
    md
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
            "paper": { "start_capital_usd": "100000", "final_account_value_usd": "99000",
                       "funding_paid_usd": "1", "equity": { "sharpe": "n/a: zero variance", "max_drawdown": 0.01 } },
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
            "| sharpe | n/a: zero variance |",
            "| max_drawdown | 0.0100 |",
            "| figure | entry | index |",
            "| win_rate | 1.0000 | n/a: no trades |",
            "result `cd`",
        ] {
            assert!(md.contains(needle), "{needle:?} not in\n{md}");
        }
    }
}
