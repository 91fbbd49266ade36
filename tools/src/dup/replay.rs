//! Offline re-scoring of stored runs (spec §7.1): one answer per line (the official runs store
//! a Python `repr` string per line, e.g. `'18'`), labels likewise, scored with the §1.2 rule.

use super::answer::{is_correct, normalise, AnswerKind};
use std::path::Path;

/// Undoes a Python string `repr` (`'…'` or `"…"`, with `\\ \' \" \n \t \r` escapes); other
/// lines are returned trimmed.
pub fn unrepr(line: &str) -> String {
    let t = line.trim();
    let inner = match (t.chars().next(), t.chars().last()) {
        (Some(q @ ('\'' | '"')), Some(l)) if l == q && t.len() >= 2 => &t[1..t.len() - 1],
        _ => return t.to_string(),
    };
    let mut out = String::with_capacity(inner.len());
    let mut it = inner.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(o) => out.push(o),
            None => out.push('\\'),
        }
    }
    out
}

/// Replay result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replay {
    /// Lines scored.
    pub n: usize,
    /// Correct lines.
    pub correct: usize,
    /// 1-based line numbers whose answer did not parse (scored wrong).
    pub unparsable: Vec<usize>,
}

/// Scores `answers` against `labels` line by line (both files must have the same line count).
pub fn score_lines(answers: &str, labels: &str, kind: AnswerKind) -> anyhow::Result<Replay> {
    let a: Vec<&str> = answers.lines().collect();
    let l: Vec<&str> = labels.lines().collect();
    if a.len() != l.len() {
        anyhow::bail!("{} answers but {} labels", a.len(), l.len());
    }
    let mut r = Replay {
        n: a.len(),
        correct: 0,
        unparsable: Vec::new(),
    };
    for (i, (ans, lab)) in a.iter().zip(&l).enumerate() {
        let label = normalise(kind, &unrepr(lab))
            .ok_or_else(|| anyhow::anyhow!("label line {}: `{lab}` does not parse", i + 1))?;
        let pred = normalise(kind, &unrepr(ans));
        if pred.is_none() {
            r.unparsable.push(i + 1);
        }
        r.correct += usize::from(is_correct(pred.as_ref(), &label));
    }
    Ok(r)
}

/// [`score_lines`] on two files.
pub fn score_files(answers: &Path, labels: &Path, kind: AnswerKind) -> anyhow::Result<Replay> {
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))
    };
    score_lines(&read(answers)?, &read(labels)?, kind)
}
