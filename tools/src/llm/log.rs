//! JSONL log: one JSON object per line for every LLM call (and any other record a run adds).

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

/// Append-only JSONL writer shared between worker threads; a no-op when no path is given.
pub struct JsonlLog {
    file: Mutex<Option<std::fs::File>>,
}

impl JsonlLog {
    /// Opens `path` for appending (creating parent directories), or a disabled log for `None`.
    pub fn open(path: Option<&Path>) -> anyhow::Result<Self> {
        let file = match path {
            Some(p) => {
                if let Some(parent) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent)?;
                }
                Some(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(p)?,
                )
            }
            None => None,
        };
        Ok(JsonlLog {
            file: Mutex::new(file),
        })
    }

    /// Appends one record as a single line. Logging failures are reported on stderr, not fatal.
    pub fn record(&self, value: &serde_json::Value) {
        let mut guard = match self.file.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(f) = guard.as_mut() {
            let line = format!("{value}\n");
            if let Err(e) = f.write_all(line.as_bytes()) {
                eprintln!("warning: cannot write log: {e}");
            }
        }
    }
}
