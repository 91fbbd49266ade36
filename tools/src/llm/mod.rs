//! OpenAI-compatible chat client for the DUP and NExT tooling.
//!
//! - [`request`]: the `/v1/chat/completions` request body (serialised deterministically).
//! - [`client`]: blocking client with bounded retries (exponential backoff on 429/5xx/timeouts),
//!   a content-addressed response cache ([`cache`]) and a JSONL call log ([`log`]).
//! - [`pool`]: bounded-concurrency map over work items (std threads) with a progress bar.
//! - [`http_server`]: a minimal HTTP/1.1 server (std `TcpListener`), used by `pico serve` and by
//!   the tests' mock endpoint.
//! - [`chat_template`]: messages → prompt for `pico serve`.
//! - [`cli`]: the clap arguments shared by `pico dup` and `pico next`.
//!
//! Written as a library inside the binary: the integration tests include these sources with
//! `#[path]`, and some items are used only there, hence `allow(dead_code)`.
#![allow(dead_code, unused_imports)]

pub mod cache;
pub mod chat_template;
pub mod cli;
pub mod client;
pub mod http_server;
pub mod log;
pub mod pool;
pub mod request;

pub use client::{Client, ClientConfig};
pub use request::{ChatRequest, Message};
