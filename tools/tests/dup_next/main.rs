//! Integration tests of the DUP / NExT host tooling (`pico dup`, `pico next`, `pico serve`).
//!
//! The tools crate is a binary, so its library-style modules are included by path.
#![allow(dead_code, unused_imports)]

#[path = "../../src/dup/mod.rs"]
mod dup;
#[path = "../../src/llm/mod.rs"]
mod llm;
#[path = "../../src/next/mod.rs"]
mod next;

mod dup_answers;
mod dup_pipeline;
mod dup_prompts;
mod dup_stats;
mod mock;
mod next_passk;
mod next_repair;
mod next_trace;
mod serve_e2e;

/// `tools/` (the crate root).
pub fn crate_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh empty temporary directory for one test.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("pico-dup-next-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}
