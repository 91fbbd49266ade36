//! `pico serve`: serve a GGUF model through an OpenAI-compatible HTTP API.
//!
//! ```text
//! pico serve model.gguf --port 8080 --chat-template plain
//! curl -s 127.0.0.1:8080/v1/chat/completions -d '{"model":"m","messages":[{"role":"user","content":"Hi"}]}'
//! ```
//! Endpoints: `POST /v1/chat/completions` (non-streaming; `stream: true` is refused with 400),
//! `GET /v1/models`, `GET /health`. Requests are served one at a time by the crate's
//! transformer (`picoformer::elm`), with a fresh session per request sized by the crate's
//! `Plan`. Request fields used: `messages`, `temperature` (0 = greedy, default 0.8), `top_p`
//! (default 1), `max_tokens` (default `--max-tokens`), `seed`, `stop`. A prompt longer than
//! the context window minus the completion budget keeps its LAST tokens (`"truncated": true`
//! in the response).

use crate::llm::chat_template::{render, ChatTemplate};
use crate::llm::http_server::{spawn, HttpRequest, HttpResponse};
use crate::llm::request::Message;
use crate::model_util::Mapped;
use anyhow::{Context, Result};
use picoformer::elm::{Model, Session};
use picoformer::gguf::File;
use picoformer::plan::Plan;
use picoformer::sample::{self, Rng, Sampler};
use picoformer::tokenizer::{Symbol, Tokenizer};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Arguments of `pico serve`.
#[derive(clap::Args)]
pub struct Args {
    /// GGUF model file (with a tokenizer).
    pub model: PathBuf,
    /// Listen address.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Listen port (0 = any free port; the bound address is printed).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Chat template.
    #[arg(long, value_enum, default_value = "plain")]
    pub chat_template: ChatTemplate,
    /// Default completion budget when a request has no `max_tokens`.
    #[arg(long, default_value_t = 128)]
    pub max_tokens: usize,
    /// Context window (default: the model's trained context).
    #[arg(long)]
    pub ctx: Option<usize>,
    /// Model id reported by `/v1/models` and in responses (default: the file stem).
    #[arg(long)]
    pub model_id: Option<String>,
}

/// A loaded model shared by the request threads.
struct Engine {
    bytes: &'static [u8],
    id: String,
    template: ChatTemplate,
    max_tokens: usize,
    ctx: usize,
    lock: Mutex<()>,
}

/// One completion.
struct Completion {
    text: String,
    prompt_tokens: usize,
    completion_tokens: usize,
    finish_reason: &'static str,
    truncated: bool,
}

fn err(status: u16, msg: &str) -> HttpResponse {
    HttpResponse::json(
        status,
        serde_json::json!({"error": {"message": msg, "type": "invalid_request_error"}}).to_string(),
    )
}

impl Engine {
    fn complete(&self, body: &serde_json::Value) -> Result<Completion> {
        let messages: Vec<Message> = serde_json::from_value(body["messages"].clone())
            .context("`messages` must be a list of {role, content}")?;
        let prompt_text = render(self.template, &messages);
        let temperature = body["temperature"].as_f64().unwrap_or(0.8) as f32;
        let top_p = body["top_p"].as_f64().unwrap_or(1.0) as f32;
        let seed = body["seed"].as_u64().unwrap_or(0);
        let stops: Vec<String> = match &body["stop"] {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(a) => a
                .iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        let want = body["max_tokens"]
            .as_u64()
            .map(|n| n as usize)
            .unwrap_or(self.max_tokens);
        let max_new = want.clamp(1, (self.ctx / 2).max(1));

        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let file = File::parse(self.bytes)?;
        let model = Model::new(file)?;
        let cfg = *model.config();
        let mut index = vec![0u32; Tokenizer::index_len(&file)];
        let tok = Tokenizer::from_gguf(&file, &mut index)
            .map_err(|e| anyhow::anyhow!("the model has no usable tokenizer: {e}"))?;
        let text = prompt_text.as_bytes();
        let mut scratch = vec![Symbol::EMPTY; Tokenizer::scratch_len(text.len())];
        let mut ids = vec![0u32; Tokenizer::max_tokens(text.len())];
        let n = tok.encode(text, tok.add_bos_default(), &mut scratch, &mut ids)?;
        ids.truncate(n);
        let budget = self.ctx.saturating_sub(max_new).max(1);
        let truncated = ids.len() > budget;
        if truncated {
            ids.drain(..ids.len() - budget);
        }
        if ids.is_empty() {
            anyhow::bail!("empty prompt");
        }
        let plan = Plan::new(&cfg, (ids.len() + max_new).min(self.ctx))?;
        let mut scratch = vec![0f32; plan.scratch_floats()];
        let mut kv = vec![0u32; plan.kv_words()];
        let mut session = Session::new(&model, &plan, &mut scratch, &mut kv)?;
        let mut sampler = Sampler::new(temperature.max(0.0), top_p, Rng::new(seed))?;
        let mut idx = vec![0u32; sample::scratch_len(cfg.vocab_size)];
        let mut probs = vec![0f32; sample::scratch_len(cfg.vocab_size)];
        let eos = tok.eos();
        let mut out: Vec<u8> = Vec::new();
        let mut piece = [0u8; 256];
        let mut logits = session.prefill(&ids)?.to_vec();
        let mut generated = 0usize;
        let mut finish = "length";
        while generated < max_new {
            let next = sampler.sample(&mut logits, &mut idx, &mut probs)?;
            if Some(next) == eos {
                finish = "stop";
                break;
            }
            generated += 1;
            let k = tok.decode_token(next, out.is_empty(), &mut piece)?;
            out.extend_from_slice(piece.get(..k).unwrap_or(&[]));
            let so_far = String::from_utf8_lossy(&out);
            if let Some(cut) = stops.iter().filter_map(|s| so_far.find(s.as_str())).min() {
                let t = so_far[..cut].to_string();
                out = t.into_bytes();
                finish = "stop";
                break;
            }
            if session.pos() >= plan.ctx_len {
                break;
            }
            logits = session.step(next)?.to_vec();
        }
        Ok(Completion {
            text: String::from_utf8_lossy(&out).into_owned(),
            prompt_tokens: ids.len(),
            completion_tokens: generated,
            finish_reason: finish,
            truncated,
        })
    }

    fn handle(&self, req: &HttpRequest) -> HttpResponse {
        match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/health") => HttpResponse::json(200, r#"{"status":"ok"}"#),
            ("GET", "/v1/models") => HttpResponse::json(
                200,
                serde_json::json!({"object": "list", "data": [
                    {"id": self.id, "object": "model", "owned_by": "picoformer"}]})
                .to_string(),
            ),
            ("POST", "/v1/chat/completions") => {
                let body: serde_json::Value = match serde_json::from_slice(&req.body) {
                    Ok(v) => v,
                    Err(e) => return err(400, &format!("body is not JSON: {e}")),
                };
                if body["stream"].as_bool() == Some(true) {
                    return err(400, "streaming is not supported by pico serve");
                }
                match self.complete(&body) {
                    Ok(c) => HttpResponse::json(
                        200,
                        serde_json::json!({
                            "id": "chatcmpl-pico", "object": "chat.completion", "created": 0,
                            "model": self.id,
                            "choices": [{"index": 0, "finish_reason": c.finish_reason,
                                "message": {"role": "assistant", "content": c.text}}],
                            "usage": {"prompt_tokens": c.prompt_tokens,
                                "completion_tokens": c.completion_tokens,
                                "total_tokens": c.prompt_tokens + c.completion_tokens},
                            "truncated": c.truncated,
                        })
                        .to_string(),
                    ),
                    Err(e) => err(400, &format!("{e:#}")),
                }
            }
            _ => err(404, "unknown endpoint"),
        }
    }
}

/// Runs `pico serve` (blocks).
pub fn run(args: Args) -> Result<()> {
    let map = Mapped::open(&args.model)?;
    // The server lives until the process ends: keep the mapping for 'static.
    let map: &'static Mapped = Box::leak(Box::new(map));
    let bytes = map.bytes();
    let file = File::parse(bytes).with_context(|| format!("parsing {}", args.model.display()))?;
    let model = Model::new(file).with_context(|| format!("loading {}", args.model.display()))?;
    let cfg = *model.config();
    let mut index = vec![0u32; Tokenizer::index_len(&file)];
    Tokenizer::from_gguf(&file, &mut index)
        .map_err(|e| anyhow::anyhow!("{}: no usable tokenizer: {e}", args.model.display()))?;
    let ctx = args
        .ctx
        .unwrap_or(cfg.context_len)
        .min(cfg.context_len.max(1));
    let id = args.model_id.clone().unwrap_or_else(|| {
        args.model
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into())
    });
    let engine = Arc::new(Engine {
        bytes,
        id,
        template: args.chat_template,
        max_tokens: args.max_tokens,
        ctx,
        lock: Mutex::new(()),
    });
    let e2 = engine.clone();
    let server = spawn(
        &format!("{}:{}", args.host, args.port),
        Arc::new(move |r: &HttpRequest| e2.handle(r)),
    )?;
    println!(
        "pico serve: {} (ctx {ctx}) on {}",
        engine.id,
        server.base_url()
    );
    use std::io::Write;
    std::io::stdout().flush()?;
    server.join();
    Ok(())
}
