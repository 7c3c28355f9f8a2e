//! Nonces for `/exchange`: millisecond timestamps, strictly increasing, never
//! reused — across concurrent senders (one lock) and across restarts (a
//! high-water mark reserved ahead in a file, so even a clock that steps back
//! after a crash cannot hand out a nonce already used).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Nonces reserved per write of the high-water file.
const RESERVE: u64 = 10_000;

#[derive(Debug)]
struct State {
    last: u64,
    /// Every nonce up to here may have been issued by an earlier run.
    reserved: u64,
}

#[derive(Debug)]
pub struct NonceManager {
    state: Mutex<State>,
    file: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum NonceError {
    #[error("nonce file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("nonce file {0} does not hold a number")]
    Corrupt(PathBuf),
}

impl NonceManager {
    /// In memory only, above `floor`.
    pub fn new(floor: u64) -> NonceManager {
        NonceManager { state: Mutex::new(State { last: floor, reserved: u64::MAX }), file: None }
    }

    /// Persisted in `path`: a restart continues above everything reserved before.
    pub fn with_file(path: &Path) -> Result<NonceManager, NonceError> {
        let floor = match std::fs::read_to_string(path) {
            Ok(text) => text.trim().parse::<u64>().map_err(|_| NonceError::Corrupt(path.to_path_buf()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(source) => return Err(NonceError::Io { path: path.to_path_buf(), source }),
        };
        Ok(NonceManager { state: Mutex::new(State { last: floor, reserved: floor }), file: Some(path.to_path_buf()) })
    }

    fn persist(&self, value: u64) -> Result<(), NonceError> {
        let Some(path) = &self.file else { return Ok(()) };
        let io = |source| NonceError::Io { path: path.clone(), source };
        let part = path.with_extension("part");
        std::fs::write(&part, value.to_string()).map_err(io)?;
        std::fs::rename(&part, path).map_err(io)
    }

    /// The next nonce: `now_ms`, or one above the last when that is not higher.
    pub fn next(&self, now_ms: u64) -> Result<u64, NonceError> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let nonce = now_ms.max(s.last + 1);
        if nonce > s.reserved {
            let reserve = nonce + RESERVE;
            self.persist(reserve)?;
            s.reserved = reserve;
        }
        s.last = nonce;
        Ok(nonce)
    }

    /// The last nonce handed out.
    pub fn last(&self) -> u64 {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_increase_and_survive_a_restart_with_a_clock_that_stepped_back() {
        let dir = std::env::temp_dir().join(format!("mirrorflow-nonce-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("nonce");
        let _ = std::fs::remove_file(&path);
        let n = NonceManager::with_file(&path).unwrap();
        assert_eq!(n.next(1_000).unwrap(), 1_000);
        assert_eq!(n.next(1_000).unwrap(), 1_001);
        assert_eq!(n.next(900).unwrap(), 1_002);
        assert_eq!(n.next(5_000).unwrap(), 5_000);
        drop(n);
        // Restarted with the clock behind everything issued: still above it.
        let n = NonceManager::with_file(&path).unwrap();
        assert!(n.next(1_000).unwrap() > 5_000);
        std::fs::write(&path, "garbage").unwrap();
        assert!(matches!(NonceManager::with_file(&path), Err(NonceError::Corrupt(_))));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn concurrent_senders_never_share_a_nonce() {
        let n = std::sync::Arc::new(NonceManager::new(0));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let n = n.clone();
                std::thread::spawn(move || (0..1000).map(|_| n.next(42).unwrap()).collect::<Vec<_>>())
            })
            .collect();
        let mut all: Vec<u64> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 4000);
    }
}
