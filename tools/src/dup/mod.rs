//! DUP ("Deeply Understanding the Problems", Zhong et al., arXiv 2404.14963) and its baselines.
//!
//! - [`templates`]: stage texts (built-in `paper` set, user template files) and slot filling.
//! - [`method`]: zero-shot, zero-shot-CoT and the three chained DUP stages, per item.
//! - [`answer`]: answer kinds, rule extraction, normalisers and the scoring rule (spec §1.2).
//! - [`dataset`]: GSM8K-style and generic question/answer JSONL loaders.
//! - [`replay`]: re-scoring of stored answer files (official run outputs).
//! - [`stats`]: Wilson interval and exact McNemar test.
//! - [`eval`]: evaluation over a data set, report.
//!
//! Written as a library inside the binary: the integration tests include these sources with
//! `#[path]`, and some items are used only there, hence `allow(dead_code)`.
#![allow(dead_code, unused_imports)]

pub mod answer;
pub mod dataset;
pub mod eval;
pub mod method;
pub mod replay;
pub mod stats;
pub mod templates;
