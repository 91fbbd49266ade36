//! Answer kinds, normalisers, rule-based extraction and the scoring rule (spec §1.2).
//!
//! Scoring (official `main.py`, ported without `eval`): the label and the prediction are
//! stripped and their thousands commas removed; a prediction that does not parse is wrong, an
//! empty one is wrong; numbers are equal iff `pred − label == 0` or `|pred − label| ≤ 1e-9`.
//! Numbers parse as `f64` or as a fraction `a/b` (the official code would `eval` `3/4`), after
//! dropping `$` signs and a trailing period. Letters, yes/no and strings go through the
//! per-dataset normalisers below.

use std::fmt;

/// Tolerance of the numeric comparison.
pub const NUMERIC_TOL: f64 = 1e-9;

/// What kind of answer a data set has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AnswerKind {
    /// A number (GSM8K, SVAMP, AddSub, MultiArith, SingleEq).
    Number,
    /// An option letter A–E (AQuA, CommonsenseQA).
    Letter,
    /// yes / no (StrategyQA, Coin Flip).
    Yesno,
    /// A short string (Last Letters).
    Text,
}

/// A normalised answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// Numeric value.
    Number(f64),
    /// Upper-case option letter.
    Letter(char),
    /// yes = true.
    YesNo(bool),
    /// Lower-cased string without surrounding quotes/punctuation.
    Text(String),
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Number(x) => write!(f, "{x}"),
            Answer::Letter(c) => write!(f, "{c}"),
            Answer::YesNo(b) => f.write_str(if *b { "yes" } else { "no" }),
            Answer::Text(s) => f.write_str(s),
        }
    }
}

const QUOTES: &[char] = &['"', '\'', '`', '“', '”', '‘', '’'];

/// Parses a number the way the scorer does: strip, drop commas and `$`, a trailing period, then
/// `f64` or `a/b`. Non-finite values and empty strings are `None`.
pub fn parse_number(s: &str) -> Option<f64> {
    let t: String = s
        .trim()
        .trim_matches(QUOTES)
        .chars()
        .filter(|c| *c != ',' && *c != '$')
        .collect();
    let t = t.trim().trim_end_matches('.');
    if t.is_empty() {
        return None;
    }
    let v = if let Some((a, b)) = t.split_once('/') {
        let a: f64 = a.trim().parse().ok()?;
        let b: f64 = b.trim().parse().ok()?;
        if b == 0.0 {
            return None;
        }
        a / b
    } else {
        t.parse::<f64>().ok()?
    };
    v.is_finite().then_some(v)
}

/// Normalises an extractor output (or a label) of the given kind; `None` = unparsable (wrong).
pub fn normalise(kind: AnswerKind, s: &str) -> Option<Answer> {
    let t = s.trim().trim_matches(QUOTES).trim();
    match kind {
        AnswerKind::Number => parse_number(t).map(Answer::Number),
        AnswerKind::Letter => letter(t).map(Answer::Letter),
        AnswerKind::Yesno => {
            let w = t
                .trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase();
            let first: String = w.chars().take_while(|c| c.is_alphabetic()).collect();
            match first.as_str() {
                "yes" | "true" => Some(Answer::YesNo(true)),
                "no" | "false" => Some(Answer::YesNo(false)),
                _ => None,
            }
        }
        AnswerKind::Text => {
            let w = t
                .trim_matches(|c: char| c.is_ascii_punctuation() || QUOTES.contains(&c))
                .trim()
                .to_lowercase();
            (!w.is_empty()).then_some(Answer::Text(w))
        }
    }
}

/// `(A) complete job` → A; `A` / `A)` / `A.` → A; otherwise the first `(X)` with X in A–E.
fn letter(t: &str) -> Option<char> {
    let up = |c: char| c.to_ascii_uppercase();
    let is_opt = |c: char| ('A'..='E').contains(&up(c));
    let cs: Vec<char> = t.chars().collect();
    match cs.as_slice() {
        ['(', c, ')', ..] if is_opt(*c) => return Some(up(*c)),
        [c] if is_opt(*c) => return Some(up(*c)),
        [c, d, ..] if c.is_ascii_uppercase() && is_opt(*c) && !d.is_alphanumeric() => {
            return Some(*c)
        }
        _ => {}
    }
    cs.windows(3)
        .find(|w| w[0] == '(' && w[2] == ')' && is_opt(w[1]))
        .map(|w| up(w[1]))
}

/// Whether `pred` scores as correct against `label` (spec §1.2).
pub fn is_correct(pred: Option<&Answer>, label: &Answer) -> bool {
    match (pred, label) {
        (Some(Answer::Number(p)), Answer::Number(l)) => {
            let d = p - l;
            d == 0.0 || d.abs() <= NUMERIC_TOL
        }
        (Some(p), l) => p == l,
        (None, _) => false,
    }
}

/// Number-like tokens of a free text, in order: optional sign (only when not preceded by an
/// alphanumeric), optional `$`, digits with `,ddd` groups, optional decimals, optional `/den`.
pub fn number_tokens(text: &str) -> Vec<String> {
    let cs: Vec<char> = text.chars().collect();
    let digit = |i: usize| cs.get(i).is_some_and(|c| c.is_ascii_digit());
    let mut out = Vec::new();
    let mut i = 0;
    while i < cs.len() {
        let prev_alnum = i > 0 && cs.get(i - 1).is_some_and(|c| c.is_alphanumeric());
        let mut j = i;
        let mut tok = String::new();
        if cs.get(j) == Some(&'-') && !prev_alnum {
            tok.push('-');
            j += 1;
        }
        if cs.get(j) == Some(&'$') {
            j += 1;
        }
        if !digit(j) {
            i += 1;
            continue;
        }
        while digit(j) {
            tok.push(cs[j]);
            j += 1;
        }
        // thousands groups: ",ddd" not followed by another digit
        while cs.get(j) == Some(&',')
            && digit(j + 1)
            && digit(j + 2)
            && digit(j + 3)
            && !digit(j + 4)
        {
            tok.extend(&cs[j + 1..j + 4]);
            j += 4;
        }
        if cs.get(j) == Some(&'.') && digit(j + 1) {
            tok.push('.');
            j += 1;
            while digit(j) {
                tok.push(cs[j]);
                j += 1;
            }
        }
        if cs.get(j) == Some(&'/') && digit(j + 1) {
            tok.push('/');
            j += 1;
            while digit(j) {
                tok.push(cs[j]);
                j += 1;
            }
        }
        out.push(tok);
        i = j.max(i + 1);
    }
    out
}

/// Markers after which the final answer usually follows (case-insensitive), strongest last.
const MARKERS: &[&str] = &[
    "answer:",
    "answer is",
    "final answer",
    "####",
    "\\boxed{",
    "the final answer is:",
];

/// The text after the last answer marker, if any marker occurs.
fn after_last_marker(text: &str) -> Option<&str> {
    let lower = text.to_lowercase();
    if lower.len() != text.len() {
        // Non-ASCII case folding changed byte offsets: search the ASCII-lowered copy instead.
        let ascii = text.to_ascii_lowercase();
        return MARKERS
            .iter()
            .filter_map(|m| ascii.rfind(m).map(|p| p + m.len()))
            .max()
            .and_then(|p| text.get(p..));
    }
    MARKERS
        .iter()
        .filter_map(|m| lower.rfind(m).map(|p| p + m.len()))
        .max()
        .and_then(|p| text.get(p..))
}

/// Rule-based extraction from a free-text solution: the answer after the last marker
/// ("answer is", "final answer", `####`, `\boxed{`), else the last candidate in the text.
/// Returns the extracted answer string (normalise it with [`normalise`]).
pub fn extract_by_rule(kind: AnswerKind, text: &str) -> String {
    let tail = after_last_marker(text);
    match kind {
        AnswerKind::Number => tail
            .and_then(|t| number_tokens(t).into_iter().next())
            .or_else(|| number_tokens(text).pop())
            .unwrap_or_default(),
        AnswerKind::Letter => {
            let pick = |t: &str| -> Option<char> {
                let t = t.trim_start_matches(|c: char| c == ':' || c.is_whitespace());
                letter(t).or_else(|| {
                    let cs: Vec<char> = t.chars().collect();
                    cs.windows(3)
                        .rev()
                        .find(|w| w[0] == '(' && w[2] == ')' && ('A'..='E').contains(&w[1]))
                        .map(|w| w[1])
                })
            };
            tail.and_then(pick)
                .or_else(|| pick(text))
                .map(String::from)
                .unwrap_or_default()
        }
        AnswerKind::Yesno => {
            let words = |t: &str| -> Option<&'static str> {
                t.split(|c: char| !c.is_alphabetic())
                    .map(str::to_lowercase)
                    .find_map(|w| match w.as_str() {
                        "yes" => Some("yes"),
                        "no" => Some("no"),
                        _ => None,
                    })
            };
            let last = |t: &str| -> Option<&'static str> {
                t.split(|c: char| !c.is_alphabetic())
                    .map(str::to_lowercase)
                    .filter_map(|w| match w.as_str() {
                        "yes" => Some("yes"),
                        "no" => Some("no"),
                        _ => None,
                    })
                    .next_back()
            };
            tail.and_then(words)
                .or_else(|| last(text))
                .unwrap_or_default()
                .to_string()
        }
        AnswerKind::Text => {
            let t = tail.unwrap_or_else(|| text.lines().last().unwrap_or(""));
            let t = t.trim_start_matches(|c: char| c == ':' || c.is_whitespace());
            let end = t.find(['\n', '.']).unwrap_or(t.len());
            t[..end].trim().to_string()
        }
    }
}

/// The label of a GSM8K `answer` field: the text after `####`, stripped, commas removed.
pub fn gsm8k_label(answer: &str) -> Option<String> {
    let (_, tail) = answer.rsplit_once("####")?;
    Some(tail.trim().replace(',', ""))
}
