//! Content-addressed response cache: `sha256(base_url + "\n" + request JSON)` → one file.
//!
//! A run that is interrupted resumes where it stopped, and a finished run replays offline
//! (`--offline`) with zero HTTP calls. Files are written to a temporary name and renamed, so a
//! crash never leaves a half-written entry.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A directory of cached responses, `<dir>/<key[0..2]>/<key>.json`.
#[derive(Clone, Debug)]
pub struct Cache {
    dir: PathBuf,
}

/// One stored entry.
#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    base_url: String,
    request: serde_json::Value,
    content: String,
}

impl Cache {
    /// Uses (and creates on first write) `dir`.
    pub fn new(dir: &Path) -> Self {
        Cache {
            dir: dir.to_path_buf(),
        }
    }

    /// Hex sha256 of `base_url`, a newline and the exact request JSON.
    pub fn key(base_url: &str, request_json: &str) -> String {
        let mut h = Sha256::new();
        h.update(base_url.as_bytes());
        h.update(b"\n");
        h.update(request_json.as_bytes());
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    fn path(&self, key: &str) -> PathBuf {
        let shard = key.get(..2).unwrap_or("00");
        self.dir.join(shard).join(format!("{key}.json"))
    }

    /// The cached completion text for `key`, if any (unreadable entries count as misses).
    pub fn get(&self, key: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.path(key)).ok()?;
        let e: Entry = serde_json::from_str(&text).ok()?;
        Some(e.content)
    }

    /// Stores `content` for `key` atomically (write to a temporary file, then rename).
    pub fn put(
        &self,
        key: &str,
        base_url: &str,
        request_json: &str,
        content: &str,
    ) -> anyhow::Result<()> {
        let path = self.path(key);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let e = Entry {
            base_url: base_url.to_string(),
            request: serde_json::from_str(request_json)?,
            content: content.to_string(),
        };
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, serde_json::to_string(&e)?)?;
        std::fs::rename(&tmp, &path)?;
        Ok(())
    }
}
