//! Prompt assembly goldens (spec §7.2): byte-exact stage strings for both template sets,
//! generated independently by `tools/tests/golden/dup/make_prompts.py`.

use crate::crate_dir;
use crate::dup::method::{extract_prompt, stage1_prompt, stage2_prompt, stage3_prompt};
use crate::dup::templates::{fill, parse_sections, TemplateSet};

fn golden(name: &str) -> String {
    let p = crate_dir().join("tests/golden/dup").join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn gsm8k_item0() -> String {
    let text = std::fs::read_to_string(crate_dir().join("data/gsm8k_test.jsonl")).expect("gsm8k");
    let v: serde_json::Value =
        serde_json::from_str(text.lines().next().expect("row")).expect("json");
    v["question"].as_str().expect("question").to_string()
}

fn fake() -> (String, String) {
    let v: serde_json::Value =
        serde_json::from_str(&golden("fake_outputs.json")).expect("fake outputs");
    (
        v["cq"].as_str().expect("cq").to_string(),
        v["psi"].as_str().expect("psi").to_string(),
    )
}

fn check_set(t: &TemplateSet, prefix: &str) {
    let q = gsm8k_item0();
    let (cq, psi) = fake();
    let s1 = stage1_prompt(t, &q);
    let s2 = stage2_prompt(t, &q, &cq);
    let s3 = stage3_prompt(t, &q, &cq, &psi);
    assert_eq!(s1, golden(&format!("{prefix}_s1.txt")), "{prefix} stage 1");
    assert_eq!(s2, golden(&format!("{prefix}_s2.txt")), "{prefix} stage 2");
    assert_eq!(s3, golden(&format!("{prefix}_s3.txt")), "{prefix} stage 3");
    // Q in all stages; CQ in 2 and 3; PSI only in 3.
    assert!(s1.contains(&q) && s2.contains(&q) && s3.contains(&q));
    assert!(!s1.contains(&cq) && s2.contains(&cq) && s3.contains(&cq));
    assert!(!s1.contains(&psi) && !s2.contains(&psi) && s3.contains(&psi));
}

#[test]
fn paper_set_matches_golden() {
    check_set(&TemplateSet::paper(), "paper");
}

#[test]
fn official_layout_file_matches_golden() {
    let path = crate_dir().join("data/templates/official_code_layout.txt");
    let t = TemplateSet::load(path.to_str().expect("utf8 path")).expect("load");
    check_set(&t, "official_layout");
    // Sections the file does not override keep the built-in text.
    assert_eq!(t.extract, TemplateSet::paper().extract);
}

#[test]
fn paper_stage_texts_are_the_spec_wording() {
    let t = TemplateSet::paper();
    assert_eq!(
        t.stage1,
        "{Q} Please extract core question, only extract the most comprehensive and detailed one!"
    );
    assert!(t
        .stage3
        .ends_with("then solve the problem step by step and show the answer."));
    assert_eq!(
        fill(&t.zs_cot, "Q?", "", "", ""),
        "Q? Let's think step by step."
    );
}

#[test]
fn fill_is_single_pass() {
    // A question containing slot names is not re-expanded.
    assert_eq!(fill("{Q}|{CQ}", "{CQ}", "x", "", ""), "{CQ}|x");
    assert_eq!(fill("a {b} {PSI}", "", "", "p", ""), "a {b} p");
    let t = TemplateSet::paper();
    assert!(extract_prompt(&t, "q", "r").starts_with("QUESTION: q\nANSWER: r\n"));
}

#[test]
fn template_file_sections() {
    let s = parse_sections("# comment\n=== stage1 ===\nA {Q}\n\n=== stage2 ===\nB\n").expect("ok");
    assert_eq!(s["stage1"], "A {Q}\n");
    assert_eq!(s["stage2"], "B");
    assert!(parse_sections("stray\n=== stage1 ===\nx").is_err());
    let dir = crate::temp_dir("tpl");
    let p = dir.join("bad.txt");
    std::fs::write(&p, "=== stage9 ===\nx\n").expect("write");
    assert!(TemplateSet::load(p.to_str().expect("utf8")).is_err());
}
