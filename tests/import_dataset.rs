//! The dataset importer on real archive bytes (an l2Book hour, asset contexts,
//! SDK cassettes), on node_fills / node_fills_by_block / node_trades lines
//! (plain and LZ4-framed) with bad lines among them, and on the venue's export:
//! one time-ordered stream of domain events, every bad line named and counted.

use std::io::Write;
use std::path::{Path, PathBuf};

use connectors::import::{Format, RowError};
use mirrorflow::ingest::Event;
use mirrorflow::ingest::history::{self, History};

fn shared() -> PathBuf {
    std::env::var_os("MIRRORFLOW_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

fn load(path: &Path, format: Option<Format>) -> (History, Vec<RowError>) {
    let mut errors = Vec::new();
    let h = history::load(path, format, None, |e| errors.push(e), |_, _| {}).unwrap();
    (h, errors)
}

fn assert_time_ordered(h: &History) {
    assert!(h.events.windows(2).all(|w| w[0].time_ms <= w[1].time_ms), "stream out of order");
}

#[test]
fn real_archive_hours_become_marks_and_funding() {
    let (h, errors) = load(&shared().join("data/real/hl-s3-archive-samples"), None);
    assert_eq!(h.summary.format, "dataset");
    // The archive's own README: 5,587 BTC snapshots, mids between 42,651.5 and 42,832.5.
    let btc: Vec<String> = h
        .events
        .iter()
        .filter_map(|s| match &s.event {
            Event::Mark(m) if m.token.as_str() == "BTC" && m.time_ms > 1_704_100_000_000 => Some(m.price.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(btc.len(), 5_587);
    let mids: Vec<f64> = btc.iter().map(|p| p.parse().unwrap()).collect();
    let (lo, hi) = mids.iter().fold((f64::MAX, f64::MIN), |(l, h), m| (l.min(*m), h.max(*m)));
    assert_eq!((lo, hi), (42_651.5, 42_832.5));
    // 19 asset-context rows: a mark and a funding rate each; BTC marked 42330 at midnight.
    assert_eq!(h.summary.events["funding"], 19);
    assert!(h.events.iter().any(|s| matches!(&s.event,
        Event::Mark(m) if m.token.as_str() == "BTC" && m.time_ms == 1_704_067_200_000 && m.price.to_string() == "42330")));
    assert_eq!(errors.len(), 1, "only the README is not data: {errors:?}");
    assert_time_ordered(&h);
}

#[test]
fn sdk_cassettes_give_candles_and_deduplicated_funding() {
    let (h, _) = load(&shared().join("data/real/hl-python-sdk-cassettes/responses"), Some(Format::Dataset));
    let funding = h.events.iter().filter(|s| matches!(s.event, Event::Funding(_))).count();
    // The BTC funding history is recorded more than once: repeats of an hour are duplicates.
    assert_eq!(funding as u64 + h.ingest.duplicates, h.summary.events["funding"]);
    assert!(h.ingest.duplicates > 0);
    assert_eq!(h.summary.events["candle"], 24);
    assert_time_ordered(&h);
}

const FILL: &str = r#"{"coin":"ETH","px":"3000.5","sz":"0.5","side":"B","time":TIME,"startPosition":"0.0","dir":"Open Long","closedPnl":"0.0","hash":"0x0000000000000000000000000000000000000000000000000000000000000000","oid":OID,"crossed":true,"fee":"0.675","tid":OID,"feeToken":"USDC","twapId":null}"#;

fn fill(time: u64, oid: u64) -> String {
    FILL.replace("TIME", &time.to_string()).replace("OID", &oid.to_string())
}

const A: &str = "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf";
const B: &str = "0x2b5ad5c4795c026514f8317c7a215e218dccd6cf";

#[test]
fn node_formats_plain_and_lz4_are_read_in_time_order_with_bad_lines_named() {
    let dir = tempfile::tempdir().unwrap();
    // node_fills: [user, Fill] per line; the third line is broken.
    let node_fills =
        [format!(r#"["{A}",{}]"#, fill(3_000, 1)), format!(r#"["{B}",{}]"#, fill(1_000, 2)), "[\"0xab\", {".into()];
    std::fs::write(dir.path().join("fills.jsonl"), node_fills.join("\n")).unwrap();
    // node_fills_by_block, LZ4-framed.
    let block = format!(
        r#"{{"local_time":"x","block_time":"y","block_number":7,"events":[["{A}",{}],["{B}",{}]]}}"#,
        fill(2_000, 3),
        fill(2_000, 4)
    );
    let mut enc = lz4_flex::frame::FrameEncoder::new(std::fs::File::create(dir.path().join("10.lz4")).unwrap());
    enc.write_all(block.as_bytes()).unwrap();
    enc.finish().unwrap();
    // node_trades: direction, PnL and fee derived; the second line has a NaN price.
    let trade = |px: &str, t: &str| {
        format!(
            r#"{{"coin":"ETH","side":"A","time":"{t}","px":"{px}","sz":"1","hash":"0x00000000000000000000000000000000000000000000000000000000000000cd","trade_dir_override":"Na","side_info":[{{"user":"{A}","start_pos":"0","oid":11,"twap_id":null,"cloid":null}},{{"user":"{B}","start_pos":"0","oid":12,"twap_id":null,"cloid":null}}]}}"#
        )
    };
    std::fs::write(
        dir.path().join("trades.jsonl"),
        [trade("3000", "1970-01-01T00:00:04.000"), trade("NaN", "1970-01-01T00:00:05")].join("\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    let (h, errors) = load(dir.path(), None);
    assert_eq!(h.summary.format, "dataset");
    let fills: Vec<(u64, String)> = h
        .events
        .iter()
        .filter_map(|s| match &s.event {
            Event::Fill(f) => Some((f.time_ms, f.wallet.canonical())),
            _ => None,
        })
        .collect();
    assert_eq!(fills.iter().map(|f| f.0).collect::<Vec<_>>(), vec![1_000, 2_000, 2_000, 3_000, 4_000, 4_000]);
    let sources = &h.summary.sources;
    assert_eq!((sources["node_fills"], sources["node_fills_by_block"], sources["node_trades"]), (1, 1, 1));
    let reasons: Vec<String> = errors.iter().map(|e| format!("{}:{}", e.file, e.line)).collect();
    assert_eq!(reasons, vec!["fills.jsonl:3", "notes.txt:0", "trades.jsonl:2"], "{errors:?}");
    assert_eq!(h.summary.skipped["bad node_fills row"], 1);
    assert_eq!(h.summary.skipped["bad node_trades row"], 1);
    // The derived fill of the node trade: the buyer (A) was a maker opening a long.
    let derived = h.events.iter().find_map(|s| match &s.event {
        Event::Fill(f) if f.time_ms == 4_000 && f.wallet.canonical() == A => Some(f.clone()),
        _ => None,
    });
    let f = derived.unwrap();
    assert_eq!((f.start_position.to_string(), f.fee.to_string()), ("0".into(), "0.45".into()));
}

#[test]
fn the_venue_export_is_one_time_ordered_stream_of_every_input() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = connectors::sim::SimConfig { seed: 23, wallets: 30, tokens: 4, warmup_days: 5, ..Default::default() };
    let manifest = connectors::sim::export::export(cfg, 2, dir.path(), &mut |_: &str, _: u64, _: u64| {}).unwrap();
    let rows = |kind: &str| manifest.files.iter().filter(|f| f.kind == kind).map(|f| f.rows).sum::<u64>();
    // A file inside the export finds the export.
    let (h, errors) = load(&dir.path().join("hyperliquid/node_fills.jsonl"), None);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(h.summary.format, "sim-export");
    let by_kind = history::count_by_kind(&h.events);
    assert_eq!(by_kind["fill"], rows("hl_node_fills"));
    assert_eq!(by_kind["leaderboard"], rows("nansen_leaderboard"));
    assert_eq!(by_kind["account"], rows("hl_account_values"));
    assert_eq!(by_kind["funding"], rows("hl_funding"));
    assert_eq!(by_kind["mark"], rows("hl_candles"));
    assert!(h.summary.sources.contains_key("metadata"));
    assert_eq!(h.ingest.duplicates, 0);
    assert_time_ordered(&h);
}
