//! Inline execution traces (spec §2.1, crate format):
//!
//! ```text
//! def f(xs):        # (0) xs=[1, 2, 3]
//!     s = 0         # (1) s=0
//!     for x in xs:  # (2) x=1; (4) x=2; (6) x=3
//!         s += x    # (3) s=1; (5) s=3; (7) s=6
//!     return s      # (8) __return__=6
//! ```
//! `(k)` counts recorded states; a state lists the variables a line created or changed
//! (`repr` differs), captured when the frame reaches its next line or returns. A line keeps at
//! most `keep_first` + `keep_last` states (`...` between); values longer than `max_repr_chars`
//! end in `...`; `__exception__=<repr>` marks a raising line and `__timeout__` the line running
//! when `max_events` line events were used up (a deterministic budget, so the output is
//! byte-stable; the wall-clock limit is only a backstop). Comments start two spaces after the
//! longest line. The tracer itself is `tools/py/next_tracer.py`.

use super::sandbox::{run_helper, Limits};

/// Trace rendering and budget knobs.
#[derive(Clone, Copy, Debug, serde::Serialize, clap::Args)]
pub struct Knobs {
    /// States kept at the start of a line's list.
    #[arg(long, default_value_t = 2)]
    pub keep_first: usize,
    /// States kept at the end of a line's list.
    #[arg(long, default_value_t = 1)]
    pub keep_last: usize,
    /// Longest value repr before truncation with `...`.
    #[arg(long, default_value_t = 60)]
    pub max_repr_chars: usize,
    /// Total states recorded; later ones are counted in a final `# ... N more states` line.
    #[arg(long, default_value_t = 2000)]
    pub max_total_states: usize,
    /// Line events before the run is cut with `__timeout__`.
    #[arg(long, default_value_t = 20000)]
    pub max_events: usize,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            keep_first: 2,
            keep_last: 1,
            max_repr_chars: 60,
            max_total_states: 2000,
            max_events: 20000,
        }
    }
}

/// How the traced call ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Returned normally.
    Ok,
    /// Raised (`Type: message`).
    Exception(String),
    /// Event budget exhausted.
    Timeout,
}

/// An annotated program.
#[derive(Clone, Debug)]
pub struct Trace {
    /// Source with inline state comments.
    pub annotated: String,
    /// Outcome of the call.
    pub status: Status,
}

/// Parses the helper's `{"status","detail","annotated"}` object.
pub fn from_json(v: &serde_json::Value) -> anyhow::Result<Trace> {
    let annotated = v["annotated"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("tracer answered without `annotated`: {v}"))?
        .to_string();
    let status = match v["status"].as_str() {
        Some("ok") => Status::Ok,
        Some("timeout") => Status::Timeout,
        _ => Status::Exception(v["detail"].as_str().unwrap_or("").to_string()),
    };
    Ok(Trace { annotated, status })
}

/// Executes `code` (untraced), then traces `call` (an expression or statement using names
/// defined by `code`), annotating the lines of `code`.
pub fn trace(code: &str, call: &str, knobs: &Knobs, limits: &Limits) -> anyhow::Result<Trace> {
    let req = serde_json::json!({"mode": "trace", "code": code, "call": call, "knobs": knobs});
    let out = run_helper(&req, limits)?;
    if out.timed_out {
        anyhow::bail!(
            "tracer killed after {:?} (wall-clock limit)",
            limits.timeout
        );
    }
    match out.json {
        Some(v) if v.get("annotated").is_some() => from_json(&v),
        Some(v) => anyhow::bail!("tracer error: {v}"),
        None => anyhow::bail!("tracer died (exit {:?}): {}", out.code, out.stderr),
    }
}
