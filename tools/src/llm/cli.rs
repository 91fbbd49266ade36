//! Command-line options for the LLM endpoint, shared by `pico dup` and `pico next`.

use super::client::ClientConfig;
use std::path::PathBuf;
use std::time::Duration;

/// Endpoint, sampling, retry, cache and logging options.
#[derive(clap::Args, Clone, Debug)]
pub struct LlmArgs {
    /// OpenAI-compatible base URL (up to and including `/v1`).
    #[arg(long, default_value = "http://127.0.0.1:8080/v1")]
    pub base_url: String,
    /// Model name sent in each request.
    #[arg(long, default_value = "default")]
    pub model: String,
    /// Maximum completion tokens per call.
    #[arg(long)]
    pub max_tokens: Option<u32>,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 120.0)]
    pub timeout_secs: f64,
    /// Retries on 429/5xx/timeouts (exponential backoff).
    #[arg(long, default_value_t = 5)]
    pub retries: u32,
    /// First backoff sleep in milliseconds (doubles per retry, capped at 30 s).
    #[arg(long, default_value_t = 500)]
    pub backoff_ms: u64,
    /// Concurrent requests (worker threads).
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Response cache directory.
    #[arg(long, default_value = ".pico-cache/llm")]
    pub cache_dir: PathBuf,
    /// Do not read or write the response cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Replay from the cache only; a miss is an error (zero HTTP calls).
    #[arg(long)]
    pub offline: bool,
    /// JSONL log of every LLM call.
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Print the exact prompts instead of calling the endpoint.
    #[arg(long)]
    pub dry_run: bool,
    /// Hide progress bars.
    #[arg(long)]
    pub no_progress: bool,
}

impl LlmArgs {
    /// Client configuration; the API key comes from the `OPENAI_API_KEY` environment variable.
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig {
            base_url: self.base_url.clone(),
            api_key: std::env::var("OPENAI_API_KEY").ok(),
            timeout: Duration::from_secs_f64(self.timeout_secs.clamp(0.001, 86_400.0)),
            max_retries: self.retries,
            backoff_base: Duration::from_millis(self.backoff_ms),
            backoff_max: Duration::from_secs(30),
            cache_dir: (!self.no_cache).then(|| self.cache_dir.clone()),
            log_path: self.log.clone(),
            offline: self.offline,
            dry_run: self.dry_run,
        }
    }

    /// Whether to draw progress bars.
    pub fn show_progress(&self) -> bool {
        !self.no_progress && !self.dry_run
    }
}
