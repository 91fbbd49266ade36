//! DUP stage templates (spec §1.1) and user template files.
//!
//! Slots: `{Q}` question, `{CQ}` core question (stage-1 output), `{PSI}` problem-solving
//! information (stage-2 output), `{R}` free-text solution (extractor only). Slots are filled in a
//! single left-to-right pass, so slot-like text inside a filled value is never re-expanded.
//!
//! Built-in set `paper` (the paper's sentences in the official code's layout, spec §1.1 proposal):
//! - S1 = `{Q}` + `" "` + stage-1 sentence
//! - S2 = `{Q}` + `" \n"` + stage-2 sentence with `{CQ}`
//! - S3 = `"question:\n{Q}\nHint:{PSI}\n{CQ}\n"` + stage-3 tail (`" Please understand …"`)
//!
//! The official code's sentences are not shipped (that repository has no licence): load them
//! from a template file with the same slots (`tools/data/templates/official_code_layout.txt`
//! shows the layout with placeholder sentences).
//!
//! File format: sections introduced by a line `=== <name> ===` (`stage1`, `stage2`, `stage3`,
//! `extract`, `zero_shot`, `zs_cot`, `dup_s`); a section's text is every byte after its header line up to
//! the newline before the next header (or the end of the file, one final newline dropped).
//! Missing sections keep the built-in text.

use std::collections::BTreeMap;
use std::path::Path;

/// The stage-1 sentence of the paper set.
pub const PAPER_STAGE1: &str =
    "Please extract core question, only extract the most comprehensive and detailed one!";
/// The stage-2 sentence of the paper set (`{CQ}` = core question).
pub const PAPER_STAGE2: &str = "Note: Please extract the problem-solving information related to the core question {CQ}, Only extract the most useful information, list them one by one!";
/// The stage-3 tail of the paper set.
pub const PAPER_STAGE3_TAIL: &str = " Please understand the Hint and question information, then solve the problem step by step and show the answer.";
/// Zero-shot-CoT trigger (Kojima et al. 2022), appended after a space.
pub const ZS_COT_TRIGGER: &str = "Let's think step by step.";
/// The project's own answer-extraction prompt (not the official code's wording).
pub const EXTRACT: &str = "QUESTION: {Q}\nANSWER: {R}\nExtract the final answer to the QUESTION from the ANSWER. Reply with the answer only: a plain number without units, commas or a $ sign; or one option letter; or yes/no; or the short answer string. If there is no answer, reply 0.\nThe final answer is:";

/// The project's own DUP-s prompt (one call; the official wording is not shipped). Same
/// actions and output scaffold as the official `DUP_simplified_prompting` (spec §1.2).
pub const DUP_S: &str = "Solve the math word problem in triple back-ticks. Do four things:\n1. State the core question of the problem in one sentence.\n2. List the pieces of information needed to answer the core question.\n3. Reason step by step with that information.\n4. Give the final answer as JSON with one key, final_answer, whose value is a number.\nAnswer in this layout:\nCore Question: <one sentence>\nHints: <list>\nReason Steps: <steps>\nOutput Json: {\"final_answer\": <number>}\n\nText: ```{Q}```";

/// A complete set of prompt templates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateSet {
    /// Name (`paper` or the file path).
    pub name: String,
    /// DUP stage 1 (slots: Q).
    pub stage1: String,
    /// DUP stage 2 (slots: Q, CQ).
    pub stage2: String,
    /// DUP stage 3 (slots: Q, CQ, PSI).
    pub stage3: String,
    /// Answer extraction by LLM (slots: Q, R).
    pub extract: String,
    /// Zero-shot baseline (slots: Q).
    pub zero_shot: String,
    /// Zero-shot-CoT baseline (slots: Q).
    pub zs_cot: String,
    /// DUP-s, the one-call variant (slots: Q); the answer is read from its `Output Json:` line.
    pub dup_s: String,
}

impl TemplateSet {
    /// The built-in `paper` set.
    pub fn paper() -> Self {
        TemplateSet {
            name: "paper".into(),
            stage1: format!("{{Q}} {PAPER_STAGE1}"),
            stage2: format!("{{Q}} \n{PAPER_STAGE2}"),
            stage3: format!("question:\n{{Q}}\nHint:{{PSI}}\n{{CQ}}\n{PAPER_STAGE3_TAIL}"),
            extract: EXTRACT.into(),
            zero_shot: "{Q}".into(),
            zs_cot: format!("{{Q}} {ZS_COT_TRIGGER}"),
            dup_s: DUP_S.into(),
        }
    }

    /// `paper`, or a template file layered over `paper`.
    pub fn load(spec: &str) -> anyhow::Result<Self> {
        if spec == "paper" {
            return Ok(Self::paper());
        }
        let text = std::fs::read_to_string(Path::new(spec))
            .map_err(|e| anyhow::anyhow!("cannot read template file {spec}: {e}"))?;
        let mut set = Self::paper();
        set.name = spec.to_string();
        for (name, body) in parse_sections(&text)? {
            let slot = match name.as_str() {
                "stage1" => &mut set.stage1,
                "stage2" => &mut set.stage2,
                "stage3" => &mut set.stage3,
                "extract" => &mut set.extract,
                "zero_shot" => &mut set.zero_shot,
                "zs_cot" => &mut set.zs_cot,
                "dup_s" => &mut set.dup_s,
                other => anyhow::bail!("{spec}: unknown template section `{other}`"),
            };
            *slot = body;
        }
        Ok(set)
    }
}

/// Splits a template file into `(section, text)` pairs (see the module docs for the format).
pub fn parse_sections(text: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    let mut preamble_nonblank = false;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if let Some(name) = bare
            .strip_prefix("=== ")
            .and_then(|r| r.strip_suffix(" ==="))
        {
            if let Some((n, mut b)) = current.take() {
                if b.ends_with('\n') {
                    b.pop();
                }
                out.insert(n, b);
            }
            current = Some((name.trim().to_string(), String::new()));
        } else if let Some((_, b)) = current.as_mut() {
            b.push_str(line);
        } else if !bare.trim().is_empty() && !bare.starts_with('#') {
            preamble_nonblank = true;
        }
    }
    if let Some((n, mut b)) = current.take() {
        if b.ends_with('\n') {
            b.pop();
        }
        out.insert(n, b);
    }
    if preamble_nonblank {
        anyhow::bail!("template file: text before the first `=== section ===` header");
    }
    Ok(out)
}

/// Fills `{Q}`, `{CQ}`, `{PSI}`, `{R}` in one pass; other braces are literal.
pub fn fill(template: &str, q: &str, cq: &str, psi: &str, r: &str) -> String {
    let mut out = String::with_capacity(template.len() + q.len() + cq.len() + psi.len() + r.len());
    let mut rest = template;
    while let Some(pos) = rest.find('{') {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        let (value, len) = if tail.starts_with("{Q}") {
            (q, 3)
        } else if tail.starts_with("{CQ}") {
            (cq, 4)
        } else if tail.starts_with("{PSI}") {
            (psi, 5)
        } else if tail.starts_with("{R}") {
            (r, 3)
        } else {
            ("{", 1)
        };
        out.push_str(value);
        rest = &tail[len..];
    }
    out.push_str(rest);
    out
}
