//! The state file keeps every committed transaction when the process is killed
//! (SIGKILL) mid-stream, and refuses files it cannot read correctly.
//!
//! The writer is this same test binary re-run as a child (`--exact` selects the
//! test; an environment variable selects the writer role), so the kill hits a real
//! process with the database open and a transaction in flight.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use mirrorflow::store::{SCHEMA_VERSION, Store, StoreError, Table};

const CHILD_VAR: &str = "MIRRORFLOW_STORE_WRITER";
const RECORDS: Table<u64, String> = Table::new("records");

fn payload(i: u64) -> String {
    format!("record {i} {}", "x".repeat((i % 97) as usize))
}

/// The child: commit records one by one, announce each durable commit, and keep
/// writing (with an uncommitted transaction open) until killed.
fn writer(path: &Path) -> ! {
    let store = Store::open(path).expect("child opens the store");
    let mut out = std::io::stdout();
    for i in 0.. {
        let mut w = store.write().expect("write txn");
        w.put(&RECORDS, &i, &payload(i)).expect("put");
        w.commit().expect("commit");
        writeln!(out, "committed {i}").expect("stdout");
        out.flush().expect("flush");
        if i >= 200 {
            // Hold an uncommitted transaction forever: it must not survive the kill.
            let mut w = store.write().expect("write txn");
            w.put(&RECORDS, &u64::MAX, &"uncommitted".to_string()).expect("put");
            loop {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
    }
    unreachable!()
}

#[test]
fn committed_records_survive_sigkill() {
    if let Some(path) = std::env::var_os(CHILD_VAR) {
        writer(Path::new(&path));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["committed_records_survive_sigkill", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_VAR, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut last_committed = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("committed ") {
            let n: u64 = n.parse().unwrap();
            last_committed = Some(n);
            if n == 200 {
                break;
            }
        }
    }
    // Kill while the child holds an open write transaction.
    std::thread::sleep(std::time::Duration::from_millis(100));
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert_eq!(last_committed, Some(200), "the child did not reach 200 commits");

    let store = Store::open(&path).expect("reopens after SIGKILL");
    let records = store.read().unwrap().all(&RECORDS).unwrap();
    assert_eq!(records.len(), 201, "every announced commit is present, and nothing else");
    for (i, (key, value)) in records.iter().enumerate() {
        assert_eq!(*key, i as u64);
        assert_eq!(*value, payload(i as u64));
    }
    assert_eq!(store.read().unwrap().get(&RECORDS, &u64::MAX).unwrap(), None);
}

#[test]
fn a_file_from_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    drop(Store::open(&path).unwrap());
    {
        // Simulate a newer mirrorflow having written the file.
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut meta = txn.open_table(redb::TableDefinition::<&str, &[u8]>::new("meta")).unwrap();
            meta.insert("schema_version", (SCHEMA_VERSION + 1).to_be_bytes().as_slice()).unwrap();
        }
        txn.commit().unwrap();
    }
    match Store::open(&path) {
        Err(e @ StoreError::NewerSchema { found, supported, .. }) => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
            let msg = e.to_string();
            assert!(msg.contains("newer") && msg.contains(&path.display().to_string()), "{msg}");
        }
        other => panic!("expected NewerSchema, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn a_file_that_is_not_a_state_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    std::fs::write(&path, b"this is not a redb file at all, just text").unwrap();
    let err = Store::open(&path).err().expect("garbage must be refused");
    assert!(matches!(err, StoreError::Open { .. }), "{err}");
}

#[test]
fn a_second_opener_is_refused_while_the_first_holds_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let _first = Store::open(&path).unwrap();
    let err = Store::open(&path).err().expect("second open must fail");
    assert!(err.to_string().contains("in use"), "{err}");
}
