//! NExT (Ni et al., arXiv 2404.14662): execution traces, repair and self-training data.
//!
//! Written as a library inside the binary: the integration tests include these sources with
//! `#[path]`, and some items are used only there, hence `allow(dead_code)`.
//!
//! - [`sandbox`]: runs the Python helper `tools/py/next_tracer.py` in a resource-limited
//!   `python3` subprocess with a wall-clock timeout.
//! - [`trace`]: inline execution-trace annotation of a program (spec §2.1 format).
//! - [`tasks`]: repair tasks (HumanEvalFix = HumanEvalPack Python, MBPP-style repair JSONL).
//! - [`prompt`]: the repair prompt (spec §2.2) and parsing of the model's answer.
//! - [`passk`]: unbiased pass@k.
//! - [`repair`]: sample candidates, run tests, fix rate / pass@k.
//! - [`unit_tests`]: per-statement test results and the failing test's trace.
//! - [`collect`]: one self-training data step (hard filter, sampling, keep passing samples).
#![allow(dead_code, unused_imports)]

pub mod collect;
pub mod passk;
pub mod prompt;
pub mod repair;
pub mod sandbox;
pub mod tasks;
pub mod trace;
pub mod unit_tests;
