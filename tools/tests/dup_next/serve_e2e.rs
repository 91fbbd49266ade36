//! End to end (spec issue 7): `pico serve` with a small real GGUF model (the crate's own
//! `tests/golden/elm/openelm_q8_0.gguf`, random weights, byte tokenizer) and `pico dup --limit 3`
//! against it. Quality is not the point: the plumbing is (HTTP, chat template, tokenizer,
//! transformer, sampling, the DUP pipeline with LLM extraction).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn model() -> std::path::PathBuf {
    crate::crate_dir().join("../tests/golden/elm/openelm_q8_0.gguf")
}

fn serve() -> (KillOnDrop, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pico"))
        .args(["serve", "--port", "0", "--max-tokens", "8"])
        .arg(model())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn pico serve");
    let stdout = child.stdout.take().expect("stdout");
    let guard = KillOnDrop(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("banner");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in banner: {line}"))
        .to_string();
    (guard, url)
}

#[test]
fn serve_answers_chat_completions() {
    let (_srv, url) = serve();
    let client = crate::llm::Client::new(crate::llm::ClientConfig {
        base_url: url.clone(),
        timeout: std::time::Duration::from_secs(30),
        max_retries: 0,
        ..Default::default()
    })
    .expect("client");
    let mut req = crate::llm::ChatRequest::user("m", "Hello", 0.0);
    req.max_tokens = Some(5);
    let a = client.chat("t", "0", &req).expect("completion");
    let b = client.chat("t", "0", &req).expect("completion");
    assert_eq!(a, b, "greedy decoding is deterministic");
    assert_eq!(client.stats().http_calls, 2);
    // Streaming is refused with a clear 400 (not retried).
    let resp = ureq::post(&format!("{url}/chat/completions"))
        .config()
        .http_status_as_error(false)
        .build()
        .send(r#"{"messages":[{"role":"user","content":"x"}],"stream":true}"#)
        .expect("send");
    assert_eq!(resp.status().as_u16(), 400);
}

#[test]
fn serve_then_dup_limit3() {
    let (_srv, url) = serve();
    let dir = crate::temp_dir("serve-e2e");
    let out = Command::new(env!("CARGO_BIN_EXE_pico"))
        .args([
            "dup",
            "--limit",
            "3",
            "--extract",
            "llm",
            "--no-progress",
            "--max-tokens",
            "8",
        ])
        .arg("--data")
        .arg(crate::crate_dir().join("data/gsm8k_test.jsonl"))
        .arg("--base-url")
        .arg(&url)
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .expect("run pico dup");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("| dup | 3 |"), "{stdout}");
    assert!(
        stdout.contains("LLM: 12 HTTP calls, 0 retries, 0 cache hits, 0 failed calls"),
        "{stdout}"
    );
    let results = std::fs::read_to_string(dir.join("out/results.jsonl")).expect("results");
    assert_eq!(results.lines().count(), 3);
}

#[test]
fn chat_templates() {
    use crate::llm::chat_template::{render, ChatTemplate};
    use crate::llm::Message;
    let m = |role: &str, content: &str| Message {
        role: role.into(),
        content: content.into(),
    };
    let one = [m("user", "Q?")];
    assert_eq!(render(ChatTemplate::Plain, &one), "Q?");
    let two = [m("system", "Be brief."), m("user", "Q?")];
    assert_eq!(
        render(ChatTemplate::Plain, &two),
        "System: Be brief.\n\nUser: Q?\n\nAssistant:"
    );
    assert_eq!(
        render(ChatTemplate::Chatml, &two),
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\n"
    );
    assert_eq!(
        render(ChatTemplate::Llama2, &two),
        "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nQ? [/INST]"
    );
}
