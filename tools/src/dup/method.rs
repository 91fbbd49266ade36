//! The prompting methods, run on one item (spec §1.1 chaining):
//!
//! ```text
//! zero-shot:  Q                                  -> R
//! zs-cot:     Q + " Let's think step by step."   -> R
//! dup:        S1(Q) -> CQ;  S2(Q, CQ) -> PSI;  S3(Q, CQ, PSI) -> R
//! dup-s:      one call with the `dup_s` template -> R; answer from its `Output Json:` line
//! then        extraction: rule(R), or one more call extract(Q, R)
//! ```
//! Every call is one fresh `user` message without a system prompt. With `samples = k > 1`
//! (self-consistency) the method runs k times with seeds `seed + i` at the sampling temperature
//! and the final answer is the majority of the normalised answers (ties: earliest sample).

use super::answer::{extract_by_rule, normalise, Answer, AnswerKind};
use super::templates::{fill, TemplateSet};
use crate::llm::{ChatRequest, Client};

/// A prompting method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// The bare question.
    ZeroShot,
    /// Question + " Let's think step by step." (Kojima et al. 2022).
    ZsCot,
    /// The three DUP stages.
    Dup,
    /// DUP-s: the stages folded into one call with a JSON answer line.
    DupS,
}

impl Method {
    /// CLI / report name.
    pub fn name(self) -> &'static str {
        match self {
            Method::ZeroShot => "zero-shot",
            Method::ZsCot => "zs-cot",
            Method::Dup => "dup",
            Method::DupS => "dup-s",
        }
    }

    /// LLM calls per sample before extraction.
    pub fn calls(self) -> usize {
        match self {
            Method::Dup => 3,
            Method::ZeroShot | Method::ZsCot | Method::DupS => 1,
        }
    }
}

/// How the final answer is taken from the solution text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Extraction {
    /// Rule-based extraction from the solution text (`answer::extract_by_rule`; no extra call).
    Rule,
    /// One more LLM call with the `extract` template (official pipeline).
    Llm,
}

/// DUP stage-1 prompt.
pub fn stage1_prompt(t: &TemplateSet, q: &str) -> String {
    fill(&t.stage1, q, "", "", "")
}
/// DUP stage-2 prompt.
pub fn stage2_prompt(t: &TemplateSet, q: &str, cq: &str) -> String {
    fill(&t.stage2, q, cq, "", "")
}
/// DUP stage-3 prompt.
pub fn stage3_prompt(t: &TemplateSet, q: &str, cq: &str, psi: &str) -> String {
    fill(&t.stage3, q, cq, psi, "")
}
/// Answer-extraction prompt.
pub fn extract_prompt(t: &TemplateSet, q: &str, r: &str) -> String {
    fill(&t.extract, q, "", "", r)
}

/// One LLM call of a sample, for the results file.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StageCall {
    /// `s1`, `s2`, `s3`, `answer` or `extract`.
    pub stage: String,
    /// Exact prompt.
    pub prompt: String,
    /// Reply.
    pub response: String,
}

/// One sample of a method on an item.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Sample {
    /// Calls in order.
    pub calls: Vec<StageCall>,
    /// Extracted answer string (rule or LLM extractor output).
    pub extracted: String,
    /// Normalised prediction (`None` = unparsable).
    pub pred: Option<String>,
}

/// Settings shared by all items of a run.
pub struct Runner<'a> {
    /// Chat client.
    pub client: &'a Client,
    /// Templates.
    pub templates: &'a TemplateSet,
    /// Model name.
    pub model: String,
    /// Temperature for single-sample runs (DUP: 0).
    pub temperature: f64,
    /// Temperature for self-consistency samples.
    pub sc_temperature: f64,
    /// Samples per item (1 = no self-consistency).
    pub samples: usize,
    /// Base seed (sample i uses `seed + i` when sampling).
    pub seed: u64,
    /// Completion cap.
    pub max_tokens: Option<u32>,
    /// Extraction mode.
    pub extraction: Extraction,
    /// Answer kind of the data set.
    pub kind: AnswerKind,
}

impl Runner<'_> {
    fn request(&self, prompt: &str, sample: usize) -> ChatRequest {
        let mut r = if self.samples > 1 {
            let mut r = ChatRequest::user(&self.model, prompt, self.sc_temperature);
            r.seed = Some(self.seed.wrapping_add(sample as u64));
            r
        } else {
            ChatRequest::user(&self.model, prompt, self.temperature)
        };
        r.max_tokens = self.max_tokens;
        r
    }

    fn call(
        &self,
        calls: &mut Vec<StageCall>,
        item: &str,
        stage: &str,
        prompt: String,
        sample: usize,
        method: Method,
    ) -> anyhow::Result<String> {
        let label = format!("{}/{stage}", method.name());
        let item_label = if self.samples > 1 {
            format!("{item}#{sample}")
        } else {
            item.to_string()
        };
        let response = self
            .client
            .chat(&label, &item_label, &self.request(&prompt, sample))?;
        calls.push(StageCall {
            stage: stage.to_string(),
            prompt,
            response: response.clone(),
        });
        Ok(response)
    }

    /// Runs one sample of `method` on question `q` of item `id`.
    pub fn sample(&self, id: &str, q: &str, method: Method, i: usize) -> anyhow::Result<Sample> {
        let t = self.templates;
        let mut calls = Vec::new();
        let r = match method {
            Method::ZeroShot => self.call(
                &mut calls,
                id,
                "answer",
                fill(&t.zero_shot, q, "", "", ""),
                i,
                method,
            )?,
            Method::ZsCot => self.call(
                &mut calls,
                id,
                "answer",
                fill(&t.zs_cot, q, "", "", ""),
                i,
                method,
            )?,
            Method::Dup => {
                let cq = self.call(&mut calls, id, "s1", stage1_prompt(t, q), i, method)?;
                let psi = self.call(&mut calls, id, "s2", stage2_prompt(t, q, &cq), i, method)?;
                self.call(
                    &mut calls,
                    id,
                    "s3",
                    stage3_prompt(t, q, &cq, &psi),
                    i,
                    method,
                )?
            }
            Method::DupS => self.call(
                &mut calls,
                id,
                "answer",
                fill(&t.dup_s, q, "", "", ""),
                i,
                method,
            )?,
        };
        let json_answer = match method {
            Method::DupS => dup_s_answer(&r),
            _ => None,
        };
        let extracted = match (json_answer, self.extraction) {
            (Some(a), _) => a,
            (None, Extraction::Rule) => extract_by_rule(self.kind, &r),
            (None, Extraction::Llm) => self.call(
                &mut calls,
                id,
                "extract",
                extract_prompt(t, q, &r),
                i,
                method,
            )?,
        };
        let pred = normalise(self.kind, &extracted).map(|a| a.to_string());
        Ok(Sample {
            calls,
            extracted,
            pred,
        })
    }

    /// Runs all samples and votes; returns the samples and the final normalised answer.
    pub fn item(
        &self,
        id: &str,
        q: &str,
        method: Method,
    ) -> anyhow::Result<(Vec<Sample>, Option<Answer>)> {
        let mut samples = Vec::with_capacity(self.samples.max(1));
        for i in 0..self.samples.max(1) {
            samples.push(self.sample(id, q, method, i)?);
        }
        let winner = majority(samples.iter().map(|s| s.pred.as_deref()));
        Ok((samples, winner.and_then(|w| normalise(self.kind, &w))))
    }
}

/// DUP-s answer parsing (official rule, spec §1.2): the text after the last `Output Json:`,
/// single quotes turned into double quotes, the value of `"final_answer"` up to `}`, with `$`,
/// quotes and surrounding spaces stripped. `None` when there is no such value.
pub fn dup_s_answer(text: &str) -> Option<String> {
    let (_, tail) = text.rsplit_once("Output Json:")?;
    let tail = tail.replace('\'', "\"");
    let (_, after) = tail.split_once("\"final_answer\"")?;
    let after = after.trim_start().strip_prefix(':')?;
    let value = after.split('}').next().unwrap_or(after);
    let v: String = value.chars().filter(|c| *c != '$' && *c != '"').collect();
    let v = v.trim().trim_end_matches(',').trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// Majority vote over normalised answers (unparsable ones do not vote); ties go to the answer
/// seen first.
pub fn majority<'a>(preds: impl Iterator<Item = Option<&'a str>>) -> Option<String> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for p in preds.flatten() {
        match counts.iter_mut().find(|(k, _)| *k == p) {
            Some((_, n)) => *n += 1,
            None => counts.push((p, 1)),
        }
    }
    let mut best: Option<(&str, usize)> = None;
    for (k, n) in counts {
        if best.is_none_or(|(_, bn)| n > bn) {
            best = Some((k, n));
        }
    }
    best.map(|(k, _)| k.to_string())
}
