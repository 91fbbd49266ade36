//! The repair prompt (spec §2.2, crate layout) and parsing of the model's answer.
//!
//! ```text
//! ### Task
//! <description>
//!
//! ### Buggy code (with execution trace of failing test)      <- "### Buggy code" without traces
//! ```python
//! <code with inline trace comments>
//! ```
//!
//! ### Tests
//! ```python
//! assert f(1) == 2  # PASSED
//! assert f(2) == 3  # FAILED: AssertionError
//! ```
//!
//! <instruction: write `### Rationale`, then `### Fixed code` with one python block>
//! ```
//! The model's fix is the LAST fenced code block of its answer; the rationale is the text
//! between `### Rationale` and `### Fixed code` (else everything before that block).

use super::unit_tests::StmtResult;

/// The instruction closing every repair prompt.
pub const INSTRUCTION: &str = "The code above fails some tests. First explain step by step under `### Rationale` why it fails, using the execution trace if given. Then write the complete corrected program under `### Fixed code` as one ```python fenced block.";

/// Assembles the prompt. `code` is the annotated program (trace mode) or the plain one.
/// At most `max_tests` statements are listed; the first failing one is always among them.
pub fn repair_prompt(
    description: &str,
    code: &str,
    with_trace: bool,
    tests: &[StmtResult],
    max_tests: usize,
) -> String {
    let heading = if with_trace {
        "### Buggy code (with execution trace of failing test)"
    } else {
        "### Buggy code"
    };
    let mut shown: Vec<&StmtResult> = tests.iter().take(max_tests).collect();
    if let Some(f) = tests.iter().position(|t| t.status != "PASSED") {
        if f >= max_tests {
            if let Some(t) = tests.get(f) {
                shown.pop();
                shown.push(t);
            }
        }
    }
    let mut t = String::new();
    for r in shown {
        t.push_str(r.src.trim_end());
        t.push_str("  # ");
        t.push_str(&r.status);
        t.push('\n');
    }
    if tests.len() > max_tests {
        t.push_str(&format!("# ... {} more tests\n", tests.len() - max_tests));
    }
    format!(
        "### Task\n{}\n\n{heading}\n```python\n{}\n```\n\n### Tests\n```python\n{t}```\n\n{INSTRUCTION}",
        description.trim_end(),
        code.trim_end(),
    )
}

/// A parsed model answer.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Answer {
    /// Natural-language rationale.
    pub rationale: String,
    /// Fixed program (`None`: no fenced block found).
    pub code: Option<String>,
}

/// Fenced blocks as `(start_of_opening_fence, body)`; the info string is skipped.
fn fenced_blocks(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut open: Option<(usize, String)> = None;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        let trimmed = bare.trim_start();
        match open.as_mut() {
            None if trimmed.starts_with("```") => open = Some((pos, String::new())),
            None => {}
            Some(_) if trimmed == "```" => {
                if let Some(b) = open.take() {
                    out.push(b);
                }
            }
            Some((_, body)) => {
                body.push_str(bare);
                body.push('\n');
            }
        }
        pos += line.len();
    }
    out
}

/// Extracts rationale and the last fenced code block.
pub fn parse_answer(text: &str) -> Answer {
    let blocks = fenced_blocks(text);
    let last = blocks.last();
    let code = last.map(|(_, b)| b.clone());
    let cut = last.map(|(p, _)| *p).unwrap_or(text.len());
    let head = text.get(..cut).unwrap_or(text);
    let rationale = match head.find("### Rationale") {
        Some(p) => {
            let r = &head[p + "### Rationale".len()..];
            r.split("### Fixed code").next().unwrap_or(r)
        }
        None => head.split("### Fixed code").next().unwrap_or(head),
    };
    Answer {
        rationale: rationale.trim().to_string(),
        code,
    }
}
