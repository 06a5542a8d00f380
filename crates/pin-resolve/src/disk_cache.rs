//! The optional on-disk memory of tag → digest answers (a JSON file with expiry).
//!
//! Only tag resolutions are stored: whether a digest exists is cheap to ask and is exactly
//! what a broken-pin check must not take from memory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub digest: String,
    #[serde(default)]
    pub platforms: Vec<String>,
    /// Seconds since the Unix epoch.
    pub fetched_at: u64,
}

#[derive(Default, Serialize, Deserialize)]
struct FileFormat {
    version: u32,
    entries: BTreeMap<String, Entry>,
}

pub(crate) struct DiskCache {
    path: PathBuf,
    ttl: Duration,
    state: Mutex<(BTreeMap<String, Entry>, bool)>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl DiskCache {
    /// Opens the cache; a missing file is an empty cache, an unreadable one is logged and
    /// ignored (it is only a cache).
    pub fn open(path: &Path, ttl: Duration) -> Self {
        let entries = match std::fs::read(path) {
            Ok(bytes) => match serde_json::from_slice::<FileFormat>(&bytes) {
                Ok(f) if f.version == 1 => f.entries,
                Ok(_) | Err(_) => {
                    tracing::warn!("ignoring unreadable cache file {}", path.display());
                    BTreeMap::new()
                }
            },
            Err(_) => BTreeMap::new(),
        };
        Self {
            path: path.to_owned(),
            ttl,
            state: Mutex::new((entries, false)),
        }
    }

    pub fn get(&self, key: &str) -> Option<Entry> {
        let state = self.state.lock().ok()?;
        let e = state.0.get(key)?;
        (now().saturating_sub(e.fetched_at) < self.ttl.as_secs()).then(|| e.clone())
    }

    pub fn put(&self, key: String, digest: String, platforms: Vec<String>) {
        if let Ok(mut state) = self.state.lock() {
            state.0.insert(
                key,
                Entry {
                    digest,
                    platforms,
                    fetched_at: now(),
                },
            );
            state.1 = true;
        }
    }

    /// Writes the file (atomically, via a temporary file) if anything changed; expired
    /// entries are dropped.
    pub fn persist(&self) -> std::io::Result<()> {
        let Ok(mut state) = self.state.lock() else {
            return Ok(());
        };
        if !state.1 {
            return Ok(());
        }
        let cutoff = now().saturating_sub(self.ttl.as_secs());
        state.0.retain(|_, e| e.fetched_at >= cutoff);
        let file = FileFormat {
            version: 1,
            entries: state.0.clone(),
        };
        let bytes = serde_json::to_vec_pretty(&file).map_err(std::io::Error::other)?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &self.path)?;
        state.1 = false;
        Ok(())
    }
}
