//! The body of an OpenAI-compatible `POST /v1/chat/completions` request.
//!
//! Serialisation is deterministic (struct field order, `None`/empty fields omitted), so the
//! exact request JSON can be hashed for the response cache.

use serde::{Deserialize, Serialize};

/// One chat message (`role` is `system`, `user` or `assistant`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Message {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// Message text.
    pub content: String,
}

/// A chat-completions request. DUP sends one fresh `user` message per stage, no system prompt.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ChatRequest {
    /// Model name (single-model servers usually ignore it).
    pub model: String,
    /// Conversation; DUP and NExT send exactly one `user` message.
    pub messages: Vec<Message>,
    /// Sampling temperature (DUP: 0).
    pub temperature: f64,
    /// Nucleus sampling mass.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub top_p: Option<f64>,
    /// Completion length cap.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub max_tokens: Option<u32>,
    /// Sampling seed; distinct seeds stand in for `n > 1` (not honoured by every server).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub seed: Option<u64>,
    /// Stop strings.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub stop: Vec<String>,
}

impl ChatRequest {
    /// A request holding one `user` message.
    pub fn user(model: &str, content: &str, temperature: f64) -> Self {
        ChatRequest {
            model: model.to_string(),
            messages: vec![Message {
                role: "user".into(),
                content: content.to_string(),
            }],
            temperature,
            top_p: None,
            max_tokens: None,
            seed: None,
            stop: Vec::new(),
        }
    }

    /// The exact JSON body sent on the wire (and hashed by the cache).
    pub fn to_json(&self) -> String {
        // Serialising plain strings/numbers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Text of the last `user` message (what `--dry-run` prints).
    pub fn prompt(&self) -> &str {
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == "user")
            .map(|m| m.content.as_str())
            .unwrap_or("")
    }
}

/// Extracts `choices[0].message.content` from a chat-completions response body.
pub fn response_content(body: &str) -> anyhow::Result<String> {
    let v: serde_json::Value = serde_json::from_str(body)
        .map_err(|e| anyhow::anyhow!("response is not JSON ({e}): {}", truncate(body, 200)))?;
    v.pointer("/choices/0/message/content")
        .and_then(|c| c.as_str())
        .map(str::to_string)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "response has no choices[0].message.content: {}",
                truncate(body, 200)
            )
        })
}

/// The first `max` characters of `s` (char boundary safe).
pub fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
