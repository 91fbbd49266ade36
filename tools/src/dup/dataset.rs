//! Loaders: GSM8K-style JSONL (`answer` ends in `#### N`), generic question/answer JSONL
//! (`question`/`answer`, or SVAMP's `Body`+`Question`/`Answer`).

use super::answer::{gsm8k_label, normalise, Answer, AnswerKind};
use std::path::Path;

/// One evaluation item.
#[derive(Clone, Debug)]
pub struct Item {
    /// Row index in the file (0-based) as a string, or the row's `id` field.
    pub id: String,
    /// Question text sent as `{Q}`.
    pub question: String,
    /// Label as written (after GSM8K `####` extraction and comma removal).
    pub label_raw: String,
    /// Normalised label (`None`: the label itself does not parse; the item can never be right).
    pub label: Option<Answer>,
}

/// Row format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// GSM8K if the first row's answer contains `####`, else generic.
    Auto,
    /// `{"question", "answer": "... #### N"}`.
    Gsm8k,
    /// `{"question", "answer"}` or `{"Body", "Question", "Answer"}`.
    Qa,
}

fn label_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(if *b { "yes" } else { "no" }.to_string()),
        _ => None,
    }
}

/// Guesses the answer kind from a label.
pub fn guess_kind(label: &str) -> AnswerKind {
    let t = label.trim();
    if normalise(AnswerKind::Number, t).is_some() {
        AnswerKind::Number
    } else if t.len() == 1 && normalise(AnswerKind::Letter, t).is_some() {
        AnswerKind::Letter
    } else if normalise(AnswerKind::Yesno, t).is_some() && t.split_whitespace().count() == 1 {
        AnswerKind::Yesno
    } else {
        AnswerKind::Text
    }
}

/// Loads a JSONL file. `kind = None` guesses from the first label.
pub fn load(
    path: &Path,
    format: Format,
    kind: Option<AnswerKind>,
) -> anyhow::Result<(Vec<Item>, AnswerKind)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), i + 1))?;
        rows.push((i, v));
    }
    let gsm8k = match format {
        Format::Gsm8k => true,
        Format::Qa => false,
        Format::Auto => rows
            .first()
            .and_then(|(_, v)| v.get("answer"))
            .and_then(|a| a.as_str())
            .is_some_and(|a| a.contains("####")),
    };
    let mut items = Vec::with_capacity(rows.len());
    for (n, (line, v)) in rows.iter().enumerate() {
        let at = || format!("{}:{}", path.display(), line + 1);
        let question = match (v.get("question"), v.get("Body"), v.get("Question")) {
            (Some(q), _, _) => q.as_str().map(str::to_string),
            (None, Some(b), Some(q)) => match (b.as_str(), q.as_str()) {
                (Some(b), Some(q)) => Some(format!("{} {}", b.trim_end(), q.trim_start())),
                _ => None,
            },
            _ => None,
        }
        .ok_or_else(|| anyhow::anyhow!("{}: no string `question`", at()))?;
        let raw = v
            .get("answer")
            .or_else(|| v.get("Answer"))
            .and_then(label_text)
            .ok_or_else(|| anyhow::anyhow!("{}: no `answer`", at()))?;
        let label_raw = if gsm8k {
            gsm8k_label(&raw).ok_or_else(|| anyhow::anyhow!("{}: answer without ####", at()))?
        } else {
            raw.trim().to_string()
        };
        let id = v
            .get("id")
            .and_then(label_text)
            .unwrap_or_else(|| n.to_string());
        items.push(Item {
            id,
            question,
            label_raw,
            label: None,
        });
    }
    let kind = match kind {
        Some(k) => k,
        None if gsm8k => AnswerKind::Number,
        None => items
            .first()
            .map(|it| guess_kind(&it.label_raw))
            .unwrap_or(AnswerKind::Number),
    };
    for it in &mut items {
        it.label = normalise(kind, &it.label_raw);
    }
    Ok((items, kind))
}
