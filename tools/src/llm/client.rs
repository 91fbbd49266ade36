//! Blocking OpenAI-compatible chat client: retries with exponential backoff, response cache,
//! JSONL call log, dry-run and offline replay.
//!
//! Retry rule: HTTP 429, any 5xx, timeouts and transport errors are retried up to
//! `max_retries` times, sleeping `min(backoff_base · 2^(attempt−1), backoff_max)` before attempt
//! `attempt` (a `Retry-After: <seconds>` header raises the sleep, still capped by `backoff_max`).
//! Other 4xx statuses fail at once.

use super::cache::Cache;
use super::log::JsonlLog;
use super::request::{response_content, truncate, ChatRequest};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Client settings (see `pico dup --help` for the CLI names).
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Base URL up to and including `/v1`, e.g. `http://127.0.0.1:8080/v1`.
    pub base_url: String,
    /// Bearer token (`OPENAI_API_KEY`), sent only when set.
    pub api_key: Option<String>,
    /// Per-request timeout (connect + response).
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff sleep.
    pub backoff_base: Duration,
    /// Backoff cap.
    pub backoff_max: Duration,
    /// Response cache directory (`None`: no cache).
    pub cache_dir: Option<PathBuf>,
    /// JSONL call log (`None`: no log).
    pub log_path: Option<PathBuf>,
    /// Never touch the network: a cache miss is an error.
    pub offline: bool,
    /// Print every prompt instead of sending it; the reply is a placeholder.
    pub dry_run: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            base_url: "http://127.0.0.1:8080/v1".into(),
            api_key: None,
            timeout: Duration::from_secs(120),
            max_retries: 5,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            cache_dir: None,
            log_path: None,
            offline: false,
            dry_run: false,
        }
    }
}

/// Counters of one client (all runs through it).
#[derive(Default, Debug)]
pub struct Stats {
    /// HTTP requests sent (attempts, including retried ones).
    pub http_calls: AtomicU64,
    /// Retries (attempts after the first, per logical call).
    pub retries: AtomicU64,
    /// Logical calls answered from the cache.
    pub cache_hits: AtomicU64,
    /// Logical calls that failed after all retries.
    pub failures: AtomicU64,
}

/// A point-in-time copy of [`Stats`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StatsSnapshot {
    /// HTTP requests sent.
    pub http_calls: u64,
    /// Retries.
    pub retries: u64,
    /// Cache hits.
    pub cache_hits: u64,
    /// Failed logical calls.
    pub failures: u64,
}

/// The chat client; cheap to share between threads (`&Client` is `Sync`).
pub struct Client {
    cfg: ClientConfig,
    agent: ureq::Agent,
    cache: Option<Cache>,
    log: JsonlLog,
    stats: Stats,
    dry_run_lock: std::sync::Mutex<()>,
}

/// Where a reply came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// HTTP call.
    Http,
    /// Response cache.
    Cache,
    /// `--dry-run` placeholder.
    DryRun,
}

enum Attempt {
    Ok(String),
    Retry(String, Option<Duration>),
    Fatal(String),
}

impl Client {
    /// Builds the client (opens the log, prepares the cache directory path).
    pub fn new(cfg: ClientConfig) -> anyhow::Result<Self> {
        let agent_cfg = ureq::Agent::config_builder()
            .timeout_global(Some(cfg.timeout))
            .http_status_as_error(false)
            .max_idle_connections(0)
            .build();
        let log = JsonlLog::open(cfg.log_path.as_deref())?;
        let cache = cfg.cache_dir.as_deref().map(Cache::new);
        Ok(Client {
            agent: agent_cfg.into(),
            cache,
            log,
            stats: Stats::default(),
            dry_run_lock: std::sync::Mutex::new(()),
            cfg,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    /// Current counters.
    pub fn stats(&self) -> StatsSnapshot {
        StatsSnapshot {
            http_calls: self.stats.http_calls.load(Ordering::SeqCst),
            retries: self.stats.retries.load(Ordering::SeqCst),
            cache_hits: self.stats.cache_hits.load(Ordering::SeqCst),
            failures: self.stats.failures.load(Ordering::SeqCst),
        }
    }

    /// Appends a free-form record to the run log.
    pub fn log(&self, value: &serde_json::Value) {
        self.log.record(value);
    }

    /// Sends `req` (or answers it from the cache) and returns the completion text.
    /// `stage` and `item` only label the log record.
    pub fn chat(&self, stage: &str, item: &str, req: &ChatRequest) -> anyhow::Result<String> {
        self.chat_with_source(stage, item, req).map(|(c, _)| c)
    }

    /// Like [`Client::chat`], also telling where the reply came from.
    pub fn chat_with_source(
        &self,
        stage: &str,
        item: &str,
        req: &ChatRequest,
    ) -> anyhow::Result<(String, Source)> {
        let body = req.to_json();
        if self.cfg.dry_run {
            let _g = self.dry_run_lock.lock();
            println!(
                "----- [{item}] stage {stage} (model {}, temperature {}) -----\n{}\n",
                req.model,
                req.temperature,
                req.prompt()
            );
            return Ok((format!("<{stage} output>"), Source::DryRun));
        }
        let key = Cache::key(&self.cfg.base_url, &body);
        if let Some(c) = self.cache.as_ref().and_then(|c| c.get(&key)) {
            self.stats.cache_hits.fetch_add(1, Ordering::SeqCst);
            self.log.record(&serde_json::json!({
                "kind": "llm_call", "stage": stage, "item": item, "source": "cache",
                "key": key, "prompt": req.prompt(), "response": c,
            }));
            return Ok((c, Source::Cache));
        }
        if self.cfg.offline {
            self.stats.failures.fetch_add(1, Ordering::SeqCst);
            anyhow::bail!(
                "offline replay: no cached response for [{item}] stage {stage} (key {key})"
            );
        }
        let url = format!(
            "{}/chat/completions",
            self.cfg.base_url.trim_end_matches('/')
        );
        let started = Instant::now();
        let mut last_err = String::new();
        for attempt in 0..=self.cfg.max_retries {
            if attempt > 0 {
                self.stats.retries.fetch_add(1, Ordering::SeqCst);
            }
            self.stats.http_calls.fetch_add(1, Ordering::SeqCst);
            let t0 = Instant::now();
            let outcome = self.attempt(&url, &body);
            let latency_ms = t0.elapsed().as_secs_f64() * 1e3;
            match outcome {
                Attempt::Ok(content) => {
                    if let Some(c) = &self.cache {
                        if let Err(e) = c.put(&key, &self.cfg.base_url, &body, &content) {
                            eprintln!("warning: cannot write cache entry {key}: {e}");
                        }
                    }
                    self.log.record(&serde_json::json!({
                        "kind": "llm_call", "stage": stage, "item": item, "source": "http",
                        "key": key, "attempts": attempt + 1, "latency_ms": latency_ms,
                        "total_ms": started.elapsed().as_secs_f64() * 1e3,
                        "prompt": req.prompt(), "response": content,
                    }));
                    return Ok((content, Source::Http));
                }
                Attempt::Retry(msg, retry_after) => {
                    self.log.record(&serde_json::json!({
                        "kind": "llm_retry", "stage": stage, "item": item, "attempt": attempt + 1,
                        "error": msg, "latency_ms": latency_ms,
                    }));
                    last_err = msg;
                    if attempt < self.cfg.max_retries {
                        std::thread::sleep(self.backoff(attempt + 1, retry_after));
                    }
                }
                Attempt::Fatal(msg) => {
                    last_err = msg;
                    break;
                }
            }
        }
        self.stats.failures.fetch_add(1, Ordering::SeqCst);
        self.log.record(&serde_json::json!({
            "kind": "llm_error", "stage": stage, "item": item, "error": last_err,
            "prompt": req.prompt(),
        }));
        anyhow::bail!("LLM call [{item}] stage {stage} failed: {last_err}")
    }

    /// Sleep before attempt `attempt` (1-based retry index).
    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        let exp = self
            .cfg
            .backoff_base
            .checked_mul(factor)
            .unwrap_or(self.cfg.backoff_max);
        exp.max(retry_after.unwrap_or(Duration::ZERO))
            .min(self.cfg.backoff_max)
    }

    fn attempt(&self, url: &str, body: &str) -> Attempt {
        let mut rq = self
            .agent
            .post(url)
            .header("Content-Type", "application/json");
        if let Some(k) = self.cfg.api_key.as_deref().filter(|k| !k.is_empty()) {
            rq = rq.header("Authorization", format!("Bearer {k}"));
        }
        match rq.send(body) {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let retry_after = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                let text = match resp.body_mut().read_to_string() {
                    Ok(t) => t,
                    Err(e) => return Attempt::Retry(format!("reading body: {e}"), None),
                };
                if (200..300).contains(&status) {
                    match response_content(&text) {
                        Ok(c) => Attempt::Ok(c),
                        Err(e) => Attempt::Fatal(e.to_string()),
                    }
                } else if status == 429 || status >= 500 {
                    Attempt::Retry(
                        format!("HTTP {status}: {}", truncate(&text, 200)),
                        retry_after,
                    )
                } else {
                    Attempt::Fatal(format!("HTTP {status}: {}", truncate(&text, 500)))
                }
            }
            Err(e) => Attempt::Retry(format!("transport: {e}"), None),
        }
    }
}
