//! The durable state file (redb): a schema version, run metadata, and typed
//! tables that later layers (input log, checkpoints, executor state) declare.
//!
//! Values are MessagePack with field names (so a record gains optional fields
//! without breaking old files); keys use an order-preserving byte encoding so that
//! range scans follow numeric order. Every commit is durable (fsync) unless a
//! caller opts out for a batch. Decoding failures are typed errors naming the
//! table, never panics: the file is outside input.

use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The layout version this build writes. A file with a higher version was written
/// by a newer mirrorflow and is refused rather than misread.
pub const SCHEMA_VERSION: u32 = 1;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const SCHEMA_KEY: &str = "schema_version";
const WRITER_KEY: &str = "written_by";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open state file {path}: {message}")]
    Open { path: PathBuf, message: String },
    #[error(
        "state file {path} has schema version {found}, newer than this mirrorflow supports ({supported}); \
         upgrade mirrorflow or use another --state-dir"
    )]
    NewerSchema { path: PathBuf, found: u32, supported: u32 },
    #[error("state file {path} has schema version {found}, which this mirrorflow cannot migrate")]
    UnknownSchema { path: PathBuf, found: u32 },
    #[error("state file: table {table}: record {key} cannot be decoded: {message}")]
    Corrupt { table: &'static str, key: String, message: String },
    #[error("state file: table {table}: value cannot be encoded: {message}")]
    Encode { table: &'static str, message: String },
    #[error("state file: {0}")]
    Storage(String),
}

fn storage(e: impl std::fmt::Display) -> StoreError {
    StoreError::Storage(e.to_string())
}

/// A key with an order-preserving byte encoding.
pub trait StoreKey: Sized {
    fn encode(&self) -> Vec<u8>;
    fn decode(bytes: &[u8]) -> Option<Self>;
}

impl StoreKey for u64 {
    fn encode(&self) -> Vec<u8> {
        self.to_be_bytes().to_vec()
    }
    fn decode(bytes: &[u8]) -> Option<u64> {
        Some(u64::from_be_bytes(bytes.try_into().ok()?))
    }
}

impl StoreKey for String {
    fn encode(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
    fn decode(bytes: &[u8]) -> Option<String> {
        String::from_utf8(bytes.to_vec()).ok()
    }
}

impl<const N: usize> StoreKey for [u8; N] {
    fn encode(&self) -> Vec<u8> {
        self.to_vec()
    }
    fn decode(bytes: &[u8]) -> Option<[u8; N]> {
        bytes.try_into().ok()
    }
}

/// `(u64, u32)` sorts by the first, then the second (e.g. time, sequence).
impl StoreKey for (u64, u32) {
    fn encode(&self) -> Vec<u8> {
        let mut v = self.0.to_be_bytes().to_vec();
        v.extend_from_slice(&self.1.to_be_bytes());
        v
    }
    fn decode(bytes: &[u8]) -> Option<(u64, u32)> {
        if bytes.len() != 12 {
            return None;
        }
        Some((u64::from_be_bytes(bytes[..8].try_into().ok()?), u32::from_be_bytes(bytes[8..].try_into().ok()?)))
    }
}

/// A typed table: its name, key type and value type.
pub struct Table<K, V> {
    name: &'static str,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Table<K, V> {
    pub const fn new(name: &'static str) -> Table<K, V> {
        Table { name, _types: PhantomData }
    }
    pub const fn name(&self) -> &'static str {
        self.name
    }
    fn def(&self) -> TableDefinition<'static, &'static [u8], &'static [u8]> {
        TableDefinition::new(self.name)
    }
}

fn decode_value<V: DeserializeOwned>(table: &'static str, key: &[u8], bytes: &[u8]) -> Result<V, StoreError> {
    rmp_serde::from_slice(bytes).map_err(|e| StoreError::Corrupt { table, key: hex_key(key), message: e.to_string() })
}

fn decode_entry<K: StoreKey, V: DeserializeOwned>(
    table: &'static str,
    key: &[u8],
    value: &[u8],
) -> Result<(K, V), StoreError> {
    let k = K::decode(key).ok_or_else(|| StoreError::Corrupt {
        table,
        key: hex_key(key),
        message: "key has the wrong encoding".into(),
    })?;
    Ok((k, decode_value(table, key, value)?))
}

fn hex_key(key: &[u8]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// An open state file.
pub struct Store {
    db: Database,
    path: PathBuf,
}

impl Store {
    /// Opens `path`, creating it (and its directory) if needed. Refuses a file of a
    /// newer schema, and one that another process holds open.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_err = |message: String| StoreError::Open { path: path.to_path_buf(), message };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_err(format!("cannot create {}: {e}", dir.display())))?;
        }
        let db = Database::create(path).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => open_err("it is in use by another mirrorflow process".into()),
            other => open_err(other.to_string()),
        })?;
        let store = Store { db, path: path.to_path_buf() };
        store.check_schema()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn check_schema(&self) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(storage)?;
        {
            let mut meta = txn.open_table(META).map_err(storage)?;
            let found = match meta.get(SCHEMA_KEY).map_err(storage)? {
                Some(v) => Some(u32::from_be_bytes(v.value().try_into().map_err(|_| StoreError::Corrupt {
                    table: "meta",
                    key: SCHEMA_KEY.into(),
                    message: "schema version is not 4 bytes".into(),
                })?)),
                None => None,
            };
            match found {
                None => {
                    meta.insert(SCHEMA_KEY, SCHEMA_VERSION.to_be_bytes().as_slice()).map_err(storage)?;
                    meta.insert(WRITER_KEY, env!("CARGO_PKG_VERSION").as_bytes()).map_err(storage)?;
                }
                Some(v) if v == SCHEMA_VERSION => {}
                Some(v) if v > SCHEMA_VERSION => {
                    return Err(StoreError::NewerSchema {
                        path: self.path.clone(),
                        found: v,
                        supported: SCHEMA_VERSION,
                    });
                }
                Some(v) => return Err(StoreError::UnknownSchema { path: self.path.clone(), found: v }),
            }
        }
        txn.commit().map_err(storage)
    }

    /// The schema version recorded in the file.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        let txn = self.db.begin_read().map_err(storage)?;
        let meta = txn.open_table(META).map_err(storage)?;
        let v = meta
            .get(SCHEMA_KEY)
            .map_err(storage)?
            .ok_or_else(|| StoreError::Storage("schema version missing".into()))?;
        let bytes: [u8; 4] =
            v.value().try_into().map_err(|_| StoreError::Storage("schema version is not 4 bytes".into()))?;
        Ok(u32::from_be_bytes(bytes))
    }

    /// Starts a write transaction; nothing is visible or durable until `commit`.
    pub fn write(&self) -> Result<WriteTxn, StoreError> {
        Ok(WriteTxn { txn: self.db.begin_write().map_err(storage)? })
    }

    /// A consistent snapshot for reading.
    pub fn read(&self) -> Result<ReadTxn, StoreError> {
        Ok(ReadTxn { txn: self.db.begin_read().map_err(storage)? })
    }
}

pub struct WriteTxn {
    txn: redb::WriteTransaction,
}

impl WriteTxn {
    pub fn put<K: StoreKey, V: Serialize>(
        &mut self,
        table: &Table<K, V>,
        key: &K,
        value: &V,
    ) -> Result<(), StoreError> {
        let bytes = rmp_serde::to_vec_named(value)
            .map_err(|e| StoreError::Encode { table: table.name, message: e.to_string() })?;
        let mut t = self.txn.open_table(table.def()).map_err(storage)?;
        t.insert(key.encode().as_slice(), bytes.as_slice()).map_err(storage)?;
        Ok(())
    }

    /// Removes `key`; true when it was present.
    pub fn remove<K: StoreKey, V>(&mut self, table: &Table<K, V>, key: &K) -> Result<bool, StoreError> {
        let mut t = self.txn.open_table(table.def()).map_err(storage)?;
        Ok(t.remove(key.encode().as_slice()).map_err(storage)?.is_some())
    }

    pub fn get<K: StoreKey, V: DeserializeOwned>(&self, table: &Table<K, V>, key: &K) -> Result<Option<V>, StoreError> {
        let t = self.txn.open_table(table.def()).map_err(storage)?;
        let k = key.encode();
        match t.get(k.as_slice()).map_err(storage)? {
            Some(v) => decode_value(table.name, &k, v.value()).map(Some),
            None => Ok(None),
        }
    }

    /// Makes the transaction's writes visible and durable (fsync before returning).
    pub fn commit(self) -> Result<(), StoreError> {
        self.txn.commit().map_err(storage)
    }

    /// Commits without waiting for the disk: a crash may lose it, never corrupt the
    /// file. For bulk loads that are redone on failure.
    pub fn commit_fast(mut self) -> Result<(), StoreError> {
        self.txn.set_durability(redb::Durability::None).map_err(storage)?;
        self.txn.commit().map_err(storage)
    }
}

pub struct ReadTxn {
    txn: redb::ReadTransaction,
}

impl ReadTxn {
    pub fn get<K: StoreKey, V: DeserializeOwned>(&self, table: &Table<K, V>, key: &K) -> Result<Option<V>, StoreError> {
        let t = match self.txn.open_table(table.def()) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(storage(e)),
        };
        let k = key.encode();
        match t.get(k.as_slice()).map_err(storage)? {
            Some(v) => decode_value(table.name, &k, v.value()).map(Some),
            None => Ok(None),
        }
    }

    /// Every record in key order.
    pub fn all<K: StoreKey, V: DeserializeOwned>(&self, table: &Table<K, V>) -> Result<Vec<(K, V)>, StoreError> {
        let t = match self.txn.open_table(table.def()) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(storage(e)),
        };
        let mut out = Vec::new();
        for entry in t.iter().map_err(storage)? {
            let (k, v) = entry.map_err(storage)?;
            out.push(decode_entry(table.name, k.value(), v.value())?);
        }
        Ok(out)
    }

    /// The record with the greatest key.
    pub fn last<K: StoreKey, V: DeserializeOwned>(&self, table: &Table<K, V>) -> Result<Option<(K, V)>, StoreError> {
        let t = match self.txn.open_table(table.def()) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(storage(e)),
        };
        let Some((k, v)) = t.last().map_err(storage)? else { return Ok(None) };
        decode_entry(table.name, k.value(), v.value()).map(Some)
    }

    pub fn len<K, V>(&self, table: &Table<K, V>) -> Result<u64, StoreError> {
        match self.txn.open_table(table.def()) {
            Ok(t) => t.len().map_err(storage),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(0),
            Err(e) => Err(storage(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataflows::model::{Token, Usd};
    use serde::Deserialize;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Rec {
        token: Token,
        value: Usd,
    }

    const RECS: Table<u64, Rec> = Table::new("recs");

    #[test]
    fn typed_records_round_trip_in_key_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("state.redb")).unwrap();
        let mut w = store.write().unwrap();
        for i in [300u64, 2, 1_000_000, 7] {
            let rec = Rec { token: Token::parse("BTC").unwrap(), value: Usd::from_int(i as i64) };
            w.put(&RECS, &i, &rec).unwrap();
        }
        assert!(w.remove(&RECS, &7).unwrap());
        w.commit().unwrap();
        let r = store.read().unwrap();
        let keys: Vec<u64> = r.all(&RECS).unwrap().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, [2, 300, 1_000_000]);
        assert_eq!(r.get(&RECS, &300).unwrap().unwrap().value, Usd::from_int(300));
        assert_eq!(r.get(&RECS, &7).unwrap(), None);
        assert_eq!(r.len(&RECS).unwrap(), 3);
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn undecodable_records_are_typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("state.redb")).unwrap();
        const RAW: Table<u64, String> = Table::new("recs");
        let mut w = store.write().unwrap();
        w.put(&RAW, &1, &"not a record".to_string()).unwrap();
        w.commit().unwrap();
        let err = store.read().unwrap().get(&RECS, &1).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { table: "recs", .. }), "{err}");
    }

    #[test]
    fn missing_tables_read_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        let r = store.read().unwrap();
        assert_eq!(r.all(&RECS).unwrap(), vec![]);
        assert_eq!(r.len(&RECS).unwrap(), 0);
    }
}
