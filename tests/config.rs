//! Configuration: the example file, coverage of the Section 5 constants table,
//! validation messages, environment overrides and the rendered output.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use mirrorflow::config::section5::{Mapping, SECTION5};
use mirrorflow::config::{self, Config, ConfigError};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn example_path() -> PathBuf {
    root().join("config/mirrorflow.example.toml")
}

/// `shared/` beside the checkout, or where `MIRRORFLOW_SHARED` points.
fn shared_dir() -> PathBuf {
    std::env::var_os("MIRRORFLOW_SHARED").map(PathBuf::from).unwrap_or_else(|| root().join("../shared"))
}

fn no_env() -> BTreeMap<String, String> {
    BTreeMap::new()
}

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn write_config(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mirrorflow.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// Every dotted path in a TOML value: tables and their leaves.
fn paths(value: &toml::Value, prefix: &str, out: &mut BTreeSet<String>) {
    if let toml::Value::Table(t) = value {
        for (k, v) in t {
            let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            out.insert(p.clone());
            paths(v, &p, out);
        }
    }
}

fn default_paths() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    paths(&toml::Value::try_from(Config::default()).unwrap(), "", &mut out);
    // Optional keys absent from the defaults but documented in the example.
    for k in [
        "hyperliquid.vault_address",
        "keys.private_key_file",
        "keys.nansen_api_key_file",
        "keys.account_address",
        "alerts.webhook_url",
        "alerts.telegram_chat_id",
    ] {
        out.insert(k.to_string());
    }
    out
}

#[test]
fn example_file_is_valid_and_shows_the_defaults() {
    let loaded = config::load(Some(&example_path()), &no_env()).expect("example must load");
    let mut want = Config::default();
    // Paths are resolved against the file's directory.
    want.state.dir = example_path().parent().unwrap().join("mirrorflow-state");
    assert_eq!(loaded.config, want);
}

/// Each key line (and each table header) in the example is preceded by a comment,
/// except entries of symbol- or number-keyed tables, which the header documents.
#[test]
fn every_key_in_the_example_is_documented() {
    let text = std::fs::read_to_string(example_path()).unwrap();
    let mut previous = "";
    let mut table = String::new();
    let mut undocumented = Vec::new();
    let mut keys_seen = BTreeSet::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            table = line.trim_matches(|c| c == '[' || c == ']').to_string();
            let is_repeat = line.starts_with("[[") && keys_seen.contains(&table);
            if !previous.starts_with('#') && !is_repeat {
                undocumented.push(line.to_string());
            }
            keys_seen.insert(table.clone());
        } else if let Some((key, _)) = line.split_once('=').filter(|_| !line.starts_with('#')) {
            let key = key.trim().trim_matches('"');
            let map_entry = key == "other"
                || key.bytes().all(|b| b.is_ascii_digit())
                || key.bytes().any(|b| b.is_ascii_uppercase());
            let in_tier = table == "exits.profit_tiers";
            if !map_entry && !in_tier && !previous.starts_with('#') {
                undocumented.push(format!("{table}.{key}"));
            }
            keys_seen.insert(format!("{table}.{key}"));
        } else if let Some(commented) = line.strip_prefix("# ").and_then(|l| l.split_once(" = ")) {
            // Optional keys shown commented out.
            keys_seen.insert(format!("{table}.{}", commented.0));
        }
        if !line.is_empty() {
            previous = line;
        }
    }
    assert!(undocumented.is_empty(), "undocumented keys in the example: {undocumented:?}");
    let missing: Vec<_> = default_paths().into_iter().filter(|p| !keys_seen.contains(p)).collect();
    assert!(missing.is_empty(), "keys missing from the example: {missing:?}");
}

/// The first column of every row of strategy-rules.md's Section 5 table.
fn section5_rows() -> Vec<String> {
    let path = shared_dir().join("reference/strategy-rules.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let section = text.split("## Section 5").nth(1).expect("Section 5 heading");
    section
        .lines()
        .filter(|l| l.starts_with("| "))
        .skip(2) // header and separator
        .map(|l| l.split('|').nth(1).unwrap_or("").trim().replace('`', ""))
        .collect()
}

#[test]
fn every_section5_row_maps_to_documented_keys_that_config_show_prints() {
    let rows = section5_rows();
    assert!(rows.len() >= 90, "only {} rows read from Section 5", rows.len());
    let mapping: BTreeMap<&str, Mapping> = SECTION5.iter().copied().collect();
    let known = default_paths();
    let example = std::fs::read_to_string(example_path()).unwrap();
    let loaded = config::load(None, &no_env()).unwrap();
    let shown: toml::Value = toml::from_str(&config::render(&loaded).unwrap()).unwrap();
    let mut shown_paths = BTreeSet::new();
    paths(&shown, "", &mut shown_paths);

    let mut problems = Vec::new();
    for row in &rows {
        match mapping.get(row.as_str()) {
            None => problems.push(format!("row {row:?} has no mapping")),
            Some(Mapping::Omitted(reason)) => assert!(reason.len() > 20, "row {row:?}: omission needs a reason"),
            Some(Mapping::Keys(keys)) => {
                for key in *keys {
                    if !known.contains(*key) {
                        problems.push(format!("row {row:?}: key {key} does not exist"));
                    }
                    if !shown_paths.contains(*key) {
                        problems.push(format!("row {row:?}: key {key} is not printed by config show"));
                    }
                    let leaf = key.rsplit('.').next().unwrap();
                    if !example.contains(leaf) {
                        problems.push(format!("row {row:?}: key {key} is not in the example file"));
                    }
                }
            }
        }
    }
    let row_set: BTreeSet<&str> = rows.iter().map(String::as_str).collect();
    for (name, _) in SECTION5 {
        if !row_set.contains(name) {
            problems.push(format!("mapping entry {name:?} matches no row of the table"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn issues_of(text: &str) -> Vec<String> {
    let (_dir, path) = write_config(text);
    match config::load(Some(&path), &no_env()) {
        Err(ConfigError::Invalid { issues, .. }) => issues.iter().map(ToString::to_string).collect(),
        other => panic!("expected validation issues for {text:?}, got {other:?}"),
    }
}

#[test]
fn a_misspelled_key_is_refused_by_name() {
    let (_dir, path) = write_config("[exits]\nstop_los_percent = 5.0\n");
    let err = config::load(Some(&path), &no_env()).unwrap_err().to_string();
    assert!(err.contains("stop_los_percent"), "{err}");
    assert!(err.contains("exits"), "{err}");
    let (_dir, path) = write_config("[riks]\ncopy_ratio = 0.5\n");
    let err = config::load(Some(&path), &no_env()).unwrap_err().to_string();
    assert!(err.contains("riks"), "{err}");
}

#[test]
fn a_negative_stop_loss_is_refused_by_name() {
    let issues = issues_of("[exits]\nstop_loss_percent = -5.0\n");
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert!(issues[0].starts_with("exits.stop_loss_percent = -5:"), "{issues:?}");
}

#[test]
fn a_cap_above_100_percent_is_refused_by_name() {
    let issues = issues_of("[risk]\nmax_total_exposure_fraction = 1.5\n");
    assert!(
        issues.iter().any(|i| i.starts_with("risk.max_total_exposure_fraction = 1.5") && i.contains("≤ 1")),
        "{issues:?}"
    );
}

#[test]
fn contradictions_and_impossible_values_are_each_named() {
    let issues = issues_of(
        "[scoring.weights]\nroi = 0.5\n\n[consensus]\nfreshness_time_constant_hours = 0\n\n\
         [risk.liquidation_buffer]\nemergency_close_percent = 25\n\n[eligibility]\nwin_rate_min = 0.9\n\n\
         [risk]\nmargin_mode = \"cross\"\nmin_order_usd = 5\n\n[http]\nlisten = \"localhost\"\n",
    );
    for key in [
        "scoring.weights",
        "consensus.freshness_time_constant_hours",
        "risk.liquidation_buffer.emergency_close_percent",
        "eligibility.win_rate_min",
        "risk.margin_mode",
        "risk.min_order_usd",
        "http.listen",
    ] {
        assert!(issues.iter().any(|i| i.starts_with(key)), "{key} not reported in {issues:?}");
    }
}

#[test]
fn wrong_types_name_the_key() {
    let (_dir, path) = write_config("[risk]\nmax_total_positions = \"five\"\n");
    let err = config::load(Some(&path), &no_env()).unwrap_err().to_string();
    assert!(err.contains("risk.max_total_positions"), "{err}");
    let (_dir, path) = write_config("[risk]\ncopy_ratio = \"1e-1\"\n");
    let err = config::load(Some(&path), &no_env()).unwrap_err().to_string();
    assert!(err.contains("risk.copy_ratio") && err.contains("exponent"), "{err}");
    let (_dir, path) = write_config("[strategies]\nenabled = [\"momentum\"]\n");
    let err = config::load(Some(&path), &no_env()).unwrap_err().to_string();
    assert!(err.contains("strategies.enabled") && err.contains("momentum"), "{err}");
}

#[test]
fn environment_overrides_apply_and_are_validated() {
    let vars = env(&[
        ("MIRRORFLOW__RISK__COPY_RATIO", "0.25"),
        ("MIRRORFLOW__CONSENSUS__SIZE_THRESHOLD_USD__BTC", "75000"),
        ("MIRRORFLOW__CONSENSUS__SIZE_THRESHOLD_USD__DOGE", "1500"),
        ("MIRRORFLOW__STRATEGIES__ENABLED", "[\"index\"]"),
        ("MIRRORFLOW__HYPERLIQUID__API_URL", "http://127.0.0.1:8080"),
        ("UNRELATED", "x"),
    ]);
    let loaded = config::load(None, &vars).unwrap();
    let c = &loaded.config;
    assert_eq!(c.risk.copy_ratio.to_string(), "0.25");
    let btc = dataflows::model::Token::parse("BTC").unwrap();
    let doge = dataflows::model::Token::parse("DOGE").unwrap();
    assert_eq!(c.consensus.size_threshold_usd.get(&btc).to_string(), "75000");
    assert_eq!(c.consensus.size_threshold_usd.get(&doge).to_string(), "1500");
    assert_eq!(c.strategies.enabled, vec![dataflows::model::Strategy::Index]);
    assert_eq!(c.hyperliquid.api_url, "http://127.0.0.1:8080");
    assert_eq!(loaded.overrides.len(), 5);

    let err = config::load(None, &env(&[("MIRRORFLOW__RISK__COPY_RATOI", "0.2")])).unwrap_err().to_string();
    assert!(err.contains("MIRRORFLOW__RISK__COPY_RATOI") && err.contains("copy_ratoi"), "{err}");
    let err = config::load(None, &env(&[("MIRRORFLOW__NOPE__X", "1")])).unwrap_err().to_string();
    assert!(err.contains("MIRRORFLOW__NOPE__X"), "{err}");
    let err = config::load(None, &env(&[("MIRRORFLOW__EXITS__STOP_LOSS_PERCENT", "-1")])).unwrap_err().to_string();
    assert!(err.contains("exits.stop_loss_percent"), "{err}");
}

#[test]
fn rendered_configuration_loads_back_identically() {
    let (_dir, path) = write_config(
        "[alerts]\ntelegram_chat_id = \"-1001234567890\"\nwebhook_url = \"http://127.0.0.1:9/hook\"\n\n\
         [risk]\ncopy_ratio = \"0.123456789012345678\"\n\n[hyperliquid]\nvault_address = \"0x7e5f4552091a69125d5dfcb7b8c2659029395bdf\"\n",
    );
    let loaded = config::load(Some(&path), &no_env()).unwrap();
    let text = config::render(&loaded).unwrap();
    let again = config::parse_str(&text, "rendered").unwrap();
    assert_eq!(again, loaded.config);
    assert!(
        text.contains("copy_ratio = \"0.123456789012345678\""),
        "exact values that floats cannot hold stay strings"
    );
}

#[test]
fn relative_paths_resolve_against_the_config_file() {
    let (dir, path) = write_config("[state]\ndir = \"state\"\n");
    let loaded = config::load(Some(&path), &no_env()).unwrap();
    assert_eq!(loaded.config.state.dir, dir.path().join("state"));
    let absolute = Path::new("/var/lib/mirrorflow");
    let (_dir, path) = write_config(&format!("[state]\ndir = \"{}\"\n", absolute.display()));
    assert_eq!(config::load(Some(&path), &no_env()).unwrap().config.state.dir, absolute);
}
