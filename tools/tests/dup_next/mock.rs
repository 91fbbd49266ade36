//! A canned OpenAI-compatible endpoint on 127.0.0.1 (real TCP, the crate's HTTP server).

use crate::llm::http_server::{completion_body, spawn, HttpRequest, HttpResponse, ServerHandle};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Injected fault for one request (applied to requests 1, 2, ... in order).
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this status and an error body.
    Status(u16),
    /// Answer normally but only after this delay (client timeout test).
    Delay(Duration),
}

/// A running mock with request counters.
pub struct Mock {
    pub server: ServerHandle,
    /// HTTP requests received on /v1/chat/completions.
    pub hits: Arc<AtomicUsize>,
    /// Every user prompt received (after faults), in arrival order.
    pub prompts: Arc<Mutex<Vec<String>>>,
    /// `Authorization` header of every chat request, in arrival order.
    pub auth: Arc<Mutex<Vec<Option<String>>>>,
}

impl Mock {
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }
}

/// Starts a mock whose replies come from `reply(prompt)`; the first requests get `faults`.
pub fn start(faults: Vec<Fault>, reply: impl Fn(&str) -> String + Send + Sync + 'static) -> Mock {
    let hits = Arc::new(AtomicUsize::new(0));
    let prompts = Arc::new(Mutex::new(Vec::new()));
    let auth = Arc::new(Mutex::new(Vec::new()));
    let (h2, p2, a2) = (hits.clone(), prompts.clone(), auth.clone());
    let handler = Arc::new(move |req: &HttpRequest| -> HttpResponse {
        if req.method == "GET" && req.path.ends_with("/models") {
            return HttpResponse::json(200, r#"{"object":"list","data":[{"id":"mock"}]}"#);
        }
        if req.path != "/v1/chat/completions" {
            return HttpResponse::json(404, r#"{"error":"not found"}"#);
        }
        let n = h2.fetch_add(1, Ordering::SeqCst);
        a2.lock()
            .expect("lock")
            .push(req.header("authorization").map(str::to_string));
        let mut delay = None;
        if let Some(f) = faults.get(n) {
            match f {
                Fault::Status(s) => {
                    return HttpResponse::json(*s, r#"{"error":{"message":"injected"}}"#)
                }
                Fault::Delay(d) => delay = Some(*d),
            }
        }
        let v: serde_json::Value = match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(_) => return HttpResponse::json(400, r#"{"error":"bad json"}"#),
        };
        let prompt = v
            .pointer("/messages/0/content")
            .and_then(|c| c.as_str())
            .unwrap_or("")
            .to_string();
        p2.lock().expect("lock").push(prompt.clone());
        let mut r = HttpResponse::json(200, completion_body("mock", &reply(&prompt)));
        r.delay = delay;
        r
    });
    Mock {
        server: spawn("127.0.0.1:0", handler).expect("bind mock"),
        hits,
        prompts,
        auth,
    }
}

/// A DUP-aware reply function: canned stage outputs; the solution and the extractor give the
/// answer of whichever known question the prompt contains.
pub fn dup_replies(answers: Vec<(String, String)>) -> impl Fn(&str) -> String + Send + Sync {
    move |p: &str| {
        let ans = answers
            .iter()
            .find(|(q, _)| p.contains(q.as_str()))
            .map(|(_, a)| a.clone())
            .unwrap_or_else(|| "0".into());
        if p.contains("Please extract core question") {
            "What is asked?".to_string()
        } else if p.contains("Note: Please extract the problem-solving information") {
            "- fact one\n- fact two".to_string()
        } else if p.starts_with("Solve the math word problem in triple back-ticks") {
            format!(
                "Core Question: what?\nHints: - a\nReason Steps: 1 + 1 = 2\nOutput Json: {{'final_answer': '${ans}'}}"
            )
        } else if p.starts_with("QUESTION: ") {
            ans
        } else {
            format!("Step 1: 2 + 2 = 4.\nStep 2: 4 * 3 = 12.\nThe answer is {ans}.")
        }
    }
}
