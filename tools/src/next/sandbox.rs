//! Runs the Python helper (`tools/py/next_tracer.py`, embedded) in a `python3` subprocess.
//!
//! Limits: wall-clock timeout enforced here (the child is killed), and inside the child
//! `resource` limits on address space, CPU seconds, file size and core dumps. The child runs in
//! a fresh temporary working directory, without `site` (`-S`: no site-packages), with a cleared environment (`PATH`, `PYTHONHASHSEED=0`
//! for stable `set` reprs). This bounds runaway programs; it is not a security boundary.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The helper script.
pub const HELPER: &str = include_str!("../../py/next_tracer.py");

/// Largest stdout/stderr kept from a child (bytes).
const MAX_OUTPUT: u64 = 8 << 20;

/// Resource limits of one run.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Wall-clock timeout; the child is killed after it.
    pub timeout: Duration,
    /// Address-space limit (MiB).
    pub mem_mb: u64,
    /// CPU-time limit (s).
    pub cpu_s: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(5),
            mem_mb: 1024,
            cpu_s: 10,
        }
    }
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The helper's JSON answer (last stdout line), if it got that far.
    pub json: Option<serde_json::Value>,
    /// Killed by the wall-clock timeout.
    pub timed_out: bool,
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Child stderr (truncated).
    pub stderr: String,
    /// Wall time.
    pub elapsed: Duration,
}

static RUN_ID: AtomicU64 = AtomicU64::new(0);

fn python() -> String {
    std::env::var("PICO_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Runs the helper with `request` (its `limits` field is filled from `limits`).
pub fn run_helper(request: &serde_json::Value, limits: &Limits) -> anyhow::Result<Outcome> {
    let mut req = request.clone();
    if let Some(obj) = req.as_object_mut() {
        obj.insert(
            "limits".into(),
            serde_json::json!({"mem_mb": limits.mem_mb, "cpu_s": limits.cpu_s, "fsize_mb": 16}),
        );
    }
    let input = req.to_string();
    let dir = std::env::temp_dir().join(format!(
        "pico-sbx-{}-{}",
        std::process::id(),
        RUN_ID.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir)?;
    let script = dir.join("next_tracer.py");
    std::fs::write(&script, HELPER)?;
    let started = Instant::now();
    let mut child = Command::new(python())
        .arg("-S")
        .arg("-B")
        .arg(&script)
        .current_dir(&dir)
        .env_clear()
        .env(
            "PATH",
            std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into()),
        )
        .env("PYTHONHASHSEED", "0")
        .env("PYTHONIOENCODING", "utf-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", python()))?;
    let mut stdin = child.stdin.take();
    let writer = std::thread::spawn(move || {
        if let Some(s) = stdin.as_mut() {
            let _ = s.write_all(input.as_bytes());
        }
        drop(stdin);
    });
    let read_all = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(r) = r {
                let _ = r.take(MAX_OUTPUT).read_to_end(&mut buf);
            }
            buf
        })
    };
    let out_t = read_all(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err_t = read_all(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let mut timed_out = false;
    let status = loop {
        if let Some(st) = child.try_wait()? {
            break Some(st);
        }
        if started.elapsed() >= limits.timeout {
            timed_out = true;
            let _ = child.kill();
            break child.wait().ok();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = writer.join();
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&stdout);
    let json = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .and_then(|l| serde_json::from_str(l).ok());
    let mut stderr = String::from_utf8_lossy(&stderr).to_string();
    stderr.truncate(stderr.floor_char_boundary_compat(4000));
    Ok(Outcome {
        json: if timed_out { None } else { json },
        timed_out,
        code: status.and_then(|s| s.code()),
        stderr,
        elapsed: started.elapsed(),
    })
}

trait FloorBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}

impl FloorBoundary for String {
    fn floor_char_boundary_compat(&self, i: usize) -> usize {
        let mut i = i.min(self.len());
        while !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}

/// Runs a whole program (`mode = run`): passes iff it exits normally within the limits.
pub fn run_program(code: &str, limits: &Limits) -> anyhow::Result<(bool, String)> {
    let o = run_helper(&serde_json::json!({"mode": "run", "code": code}), limits)?;
    if o.timed_out {
        return Ok((false, "timeout".into()));
    }
    match o.json {
        Some(v) if v["ok"] == serde_json::Value::Bool(true) => Ok((true, String::new())),
        Some(v) => Ok((false, v["error"].as_str().unwrap_or("failed").to_string())),
        None => Ok((
            false,
            format!("helper died (exit {:?}): {}", o.code, o.stderr),
        )),
    }
}
