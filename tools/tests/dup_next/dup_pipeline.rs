//! DUP / baselines against a real HTTP mock on 127.0.0.1 (spec §7.3): exact calls per item,
//! cache replay with zero HTTP calls, retries on 429/500/timeouts, the `pico dup` CLI.

use crate::dup::answer::AnswerKind;
use crate::dup::dataset::{load, Format, Item};
use crate::dup::eval::evaluate;
use crate::dup::method::{Extraction, Method, Runner};
use crate::dup::templates::TemplateSet;
use crate::llm::{Client, ClientConfig};
use crate::mock::{dup_replies, start, Fault};
use std::time::Duration;

fn gsm8k3() -> Vec<Item> {
    let (items, kind) = load(
        &crate::crate_dir().join("data/gsm8k_test.jsonl"),
        Format::Auto,
        None,
    )
    .expect("load");
    assert_eq!(kind, AnswerKind::Number);
    assert_eq!(items.len(), 1319);
    items.into_iter().take(3).collect()
}

fn answers(items: &[Item]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|it| (it.question.clone(), it.label_raw.clone()))
        .collect()
}

fn config(base_url: String, cache: Option<std::path::PathBuf>) -> ClientConfig {
    ClientConfig {
        base_url,
        timeout: Duration::from_millis(2000),
        max_retries: 3,
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_millis(50),
        cache_dir: cache,
        ..ClientConfig::default()
    }
}

fn runner<'a>(client: &'a Client, t: &'a TemplateSet, extraction: Extraction) -> Runner<'a> {
    Runner {
        client,
        templates: t,
        model: "mock".into(),
        temperature: 0.0,
        sc_temperature: 0.7,
        samples: 1,
        seed: 0,
        max_tokens: None,
        extraction,
        kind: AnswerKind::Number,
    }
}

#[test]
fn dup_calls_per_item_and_cache_replay() {
    let items = gsm8k3();
    assert_eq!(
        items
            .iter()
            .map(|i| i.label_raw.as_str())
            .collect::<Vec<_>>(),
        ["18", "3", "70000"]
    );
    let mock = start(vec![], dup_replies(answers(&items)));
    let cache = crate::temp_dir("cache-replay");
    let t = TemplateSet::paper();

    // LLM extraction: 3 stages + 1 extractor call per item.
    let client = Client::new(config(mock.base_url(), Some(cache.clone()))).expect("client");
    let rep = evaluate(
        &runner(&client, &t, Extraction::Llm),
        &items,
        &[Method::Dup],
        3,
        false,
    );
    assert_eq!(mock.hits(), 4 * 3);
    assert_eq!(client.stats().http_calls, 12);
    assert_eq!(rep.methods[0].correct, 3, "{}", rep.markdown());
    // Every stage-2 prompt carries its stage-1 output, every stage-3 prompt the stage-2 output.
    for s in &rep.items[0] {
        let c = &s.samples[0].calls;
        assert_eq!(c.len(), 4);
        assert!(c[1].prompt.contains(&c[0].response));
        assert!(c[2].prompt.contains(&c[1].response) && c[2].prompt.contains(&c[0].response));
        assert!(c[3].prompt.contains(&c[2].response));
    }

    // Re-run: everything from the cache, zero HTTP calls.
    let client2 = Client::new(config(mock.base_url(), Some(cache.clone()))).expect("client");
    let rep2 = evaluate(
        &runner(&client2, &t, Extraction::Llm),
        &items,
        &[Method::Dup],
        2,
        false,
    );
    assert_eq!(mock.hits(), 12, "rerun must not call the server");
    assert_eq!(client2.stats().cache_hits, 12);
    assert_eq!(client2.stats().http_calls, 0);
    assert_eq!(rep2.methods[0].correct, 3);

    // Offline replay works without the server too.
    drop(mock);
    let mut cfg = config("http://127.0.0.1:9/v1".into(), Some(cache.clone()));
    cfg.base_url = client2.config().base_url.clone();
    cfg.offline = true;
    let client3 = Client::new(cfg).expect("client");
    let rep3 = evaluate(
        &runner(&client3, &t, Extraction::Llm),
        &items,
        &[Method::Dup],
        1,
        false,
    );
    assert_eq!(rep3.methods[0].correct, 3);
    assert_eq!(client3.stats().http_calls, 0);
}

#[test]
fn rule_extraction_and_baselines_call_counts() {
    let items = gsm8k3();
    let mock = start(vec![], dup_replies(answers(&items)));
    let t = TemplateSet::paper();
    let client = Client::new(config(mock.base_url(), None)).expect("client");
    let rep = evaluate(
        &runner(&client, &t, Extraction::Rule),
        &items,
        &[Method::Dup, Method::ZsCot, Method::ZeroShot],
        2,
        false,
    );
    // dup 3 calls/item, zs-cot 1, zero-shot 1.
    assert_eq!(mock.hits(), 3 * 3 + 3 + 3);
    for m in &rep.methods {
        assert_eq!((m.n, m.correct, m.errors), (3, 3, 0), "{}", m.method);
    }
    assert_eq!(rep.paired.len(), 3);
    assert_eq!(rep.paired[0].p_value, 1.0);
    let prompts = mock.prompts.lock().expect("lock").clone();
    let cot: Vec<_> = prompts
        .iter()
        .filter(|p| p.ends_with(" Let's think step by step."))
        .collect();
    assert_eq!(cot.len(), 3);
    assert!(
        prompts.iter().any(|p| *p == items[0].question),
        "zero-shot sends the bare question"
    );
}

#[test]
fn self_consistency_calls_and_distinct_seeds() {
    let items = gsm8k3();
    let mock = start(vec![], dup_replies(answers(&items)));
    let t = TemplateSet::paper();
    let cache = crate::temp_dir("sc-cache");
    let client = Client::new(config(mock.base_url(), Some(cache))).expect("client");
    let mut r = runner(&client, &t, Extraction::Rule);
    r.samples = 3;
    let rep = evaluate(&r, &items[..1], &[Method::Dup], 1, false);
    // 3 samples x 3 stages; distinct seeds make distinct cache keys (no accidental hits).
    assert_eq!(mock.hits(), 9);
    assert_eq!(client.stats().cache_hits, 0);
    assert_eq!(rep.methods[0].correct, 1);
}

#[test]
fn retries_on_429_500_and_timeout() {
    let items = gsm8k3();
    let t = TemplateSet::paper();
    // 429, then 500, then a reply slower than the client timeout, then normal service.
    let mock = start(
        vec![
            Fault::Status(429),
            Fault::Status(500),
            Fault::Delay(Duration::from_millis(4000)),
        ],
        dup_replies(answers(&items)),
    );
    let mut cfg = config(mock.base_url(), None);
    cfg.timeout = Duration::from_millis(1500);
    let log = crate::temp_dir("retry-log").join("calls.jsonl");
    cfg.log_path = Some(log.clone());
    let client = Client::new(cfg).expect("client");
    let rep = evaluate(
        &runner(&client, &t, Extraction::Rule),
        &items[..1],
        &[Method::Dup],
        1,
        false,
    );
    assert_eq!(rep.methods[0].correct, 1);
    let s = client.stats();
    assert_eq!(s.retries, 3);
    assert_eq!(s.http_calls, 3 + 3);
    assert_eq!(mock.hits(), 6);
    let lines = std::fs::read_to_string(&log).expect("log");
    let kinds: Vec<String> = lines
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("jsonl")["kind"].to_string())
        .collect();
    assert_eq!(kinds.iter().filter(|k| k.contains("llm_retry")).count(), 3);
    assert_eq!(kinds.iter().filter(|k| k.contains("llm_call")).count(), 3);
    assert_eq!(
        kinds.iter().filter(|k| k.contains("item_result")).count(),
        1
    );
}

#[test]
fn retries_are_bounded_and_4xx_is_fatal() {
    let items = gsm8k3();
    let t = TemplateSet::paper();
    let mock = start(vec![Fault::Status(503); 10], dup_replies(answers(&items)));
    let client = Client::new(config(mock.base_url(), None)).expect("client");
    let rep = evaluate(
        &runner(&client, &t, Extraction::Rule),
        &items[..1],
        &[Method::Dup],
        1,
        false,
    );
    // 1 attempt + 3 retries, then the item fails (counted wrong, error recorded).
    assert_eq!(mock.hits(), 4);
    assert_eq!(client.stats().failures, 1);
    assert_eq!((rep.methods[0].correct, rep.methods[0].errors), (0, 1));

    let mock = start(vec![Fault::Status(401)], dup_replies(answers(&items)));
    let client = Client::new(config(mock.base_url(), None)).expect("client");
    let rep = evaluate(
        &runner(&client, &t, Extraction::Rule),
        &items[..1],
        &[Method::Dup],
        1,
        false,
    );
    assert_eq!(mock.hits(), 1, "401 is not retried");
    assert_eq!(rep.methods[0].errors, 1);
}

fn pico() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_pico"))
}

#[test]
fn cli_dup_limit3_then_offline_replay() {
    let items = gsm8k3();
    let mock = start(vec![], dup_replies(answers(&items)));
    let dir = crate::temp_dir("cli");
    let data = crate::crate_dir().join("data/gsm8k_test.jsonl");
    let run = |extra: &[&str]| {
        let out = pico()
            .args([
                "dup",
                "--limit",
                "3",
                "--method",
                "zs-cot",
                "--method",
                "dup",
                "--extract",
                "llm",
            ])
            .arg("--data")
            .arg(&data)
            .arg("--base-url")
            .arg(mock.base_url())
            .arg("--cache-dir")
            .arg(dir.join("cache"))
            .arg("--out")
            .arg(dir.join("out"))
            .arg("--log")
            .arg(dir.join("calls.jsonl"))
            .args(extra)
            .output()
            .expect("run pico");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    let out = run(&[]);
    assert!(out.contains("| dup | 3 | 3 | 100.00% |"), "{out}");
    assert!(out.contains("| zs-cot | 3 | 3 | 100.00% |"), "{out}");
    // 3 x (3 stages + extractor) + 3 x (1 + extractor) = 18 logical calls; the mock gives the
    // same solution text to both methods, so the 3 extractor prompts of the second method are
    // byte-identical to the first's and come from the cache.
    assert!(
        out.contains("LLM: 15 HTTP calls, 0 retries, 3 cache hits"),
        "{out}"
    );
    assert_eq!(mock.hits(), 15);
    let out = run(&["--offline"]);
    assert!(
        out.contains("LLM: 0 HTTP calls, 0 retries, 18 cache hits"),
        "{out}"
    );
    assert_eq!(mock.hits(), 15);
    let results = std::fs::read_to_string(dir.join("out/results.jsonl")).expect("results");
    assert_eq!(results.lines().count(), 6);

    // --dry-run prints the exact prompts and sends nothing.
    let out = pico()
        .args([
            "dup",
            "--limit",
            "1",
            "--dry-run",
            "--base-url",
            "http://127.0.0.1:9/v1",
        ])
        .arg("--data")
        .arg(&data)
        .output()
        .expect("run pico");
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(s.contains(&format!(
        "{} Please extract core question, only extract the most comprehensive and detailed one!",
        items[0].question
    )));
    assert!(
        s.contains("dry run: 1 items x 1 samples, 3 calls per item and sample"),
        "{s}"
    );
}

#[test]
fn api_key_is_sent_as_bearer_token() {
    let items = gsm8k3();
    let t = TemplateSet::paper();
    let mock = start(vec![], dup_replies(answers(&items)));
    let mut cfg = config(mock.base_url(), None);
    cfg.api_key = Some("sk-test".into());
    let client = Client::new(cfg).expect("client");
    evaluate(
        &runner(&client, &t, Extraction::Rule),
        &items[..1],
        &[Method::ZsCot],
        1,
        false,
    );
    let mock2 = start(vec![], dup_replies(answers(&items)));
    let client2 = Client::new(config(mock2.base_url(), None)).expect("client");
    evaluate(
        &runner(&client2, &t, Extraction::Rule),
        &items[..1],
        &[Method::ZsCot],
        1,
        false,
    );
    assert_eq!(
        *mock.auth.lock().expect("lock"),
        [Some("Bearer sk-test".to_string())]
    );
    assert_eq!(*mock2.auth.lock().expect("lock"), [None]);
}

#[test]
fn dup_s_is_one_call_with_json_answer() {
    let items = gsm8k3();
    let t = TemplateSet::paper();
    let mock = start(vec![], dup_replies(answers(&items)));
    let client = Client::new(config(mock.base_url(), None)).expect("client");
    // Even with LLM extraction selected, a parsable `Output Json:` line needs no extra call.
    let rep = evaluate(
        &runner(&client, &t, Extraction::Llm),
        &items,
        &[Method::DupS],
        2,
        false,
    );
    assert_eq!(mock.hits(), 3);
    assert_eq!(rep.methods[0].correct, 3, "{}", rep.markdown());
    let p = &rep.items[0][0].samples[0].calls[0].prompt;
    assert!(
        p.ends_with(&format!("Text: ```{}```", items[0].question)),
        "{p}"
    );
}
