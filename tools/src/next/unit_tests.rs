//! Runs each top-level statement of a task's `check` function separately (helper mode `tests`),
//! giving per-assert results and, optionally, the trace of the first failing statement.

use super::sandbox::{run_helper, Limits};
use super::tasks::RepairTask;
use super::trace::{from_json, Knobs, Trace};

/// One statement of `check` and its outcome.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StmtResult {
    /// Source of the statement (as written in the test).
    pub src: String,
    /// `PASSED`, `FAILED: AssertionError`, `FAILED: <Exc>: <msg>`, `FAILED: timeout`, `NOT RUN`.
    pub status: String,
    /// Whether the statement is an `assert`.
    pub is_assert: bool,
}

/// Results of all statements.
#[derive(Clone, Debug)]
pub struct TestRun {
    /// Per statement, in order.
    pub results: Vec<StmtResult>,
    /// Index of the first statement that did not pass.
    pub first_failing: Option<usize>,
    /// Trace of `code` while running the first failing statement (if requested).
    pub trace: Option<Trace>,
    /// Program or test module failed to load (`Type: message`).
    pub load_error: Option<String>,
    /// The whole run was killed by the wall-clock limit (e.g. a statement stuck in C code,
    /// which the per-statement alarm cannot interrupt); `results` is then empty.
    pub killed: bool,
}

/// Runs the task's tests against `code`; `stmt_timeout` bounds each statement.
pub fn run_tests(
    task: &RepairTask,
    code: &str,
    with_trace: bool,
    knobs: &Knobs,
    stmt_timeout: f64,
    limits: &Limits,
) -> anyhow::Result<TestRun> {
    let req = serde_json::json!({
        "mode": "tests", "code": code, "test": task.test, "entry_point": task.entry_point,
        "stmt_timeout": stmt_timeout, "trace": with_trace, "knobs": knobs,
    });
    let out = run_helper(&req, limits)?;
    let Some(v) = out.json else {
        if out.timed_out {
            return Ok(TestRun {
                results: Vec::new(),
                first_failing: None,
                trace: None,
                load_error: None,
                killed: true,
            });
        }
        anyhow::bail!(
            "{}: helper died (exit {:?}): {}",
            task.task_id,
            out.code,
            out.stderr
        );
    };
    if let Some(e) = v.get("error") {
        anyhow::bail!("{}: helper error: {e}", task.task_id);
    }
    let results: Vec<StmtResult> = v["results"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| StmtResult {
                    src: r["src"].as_str().unwrap_or("").to_string(),
                    status: r["status"].as_str().unwrap_or("").to_string(),
                    is_assert: r["is_assert"].as_bool().unwrap_or(false),
                })
                .collect()
        })
        .unwrap_or_default();
    let trace = match v.get("trace") {
        Some(t) if !t.is_null() => Some(from_json(t)?),
        _ => None,
    };
    Ok(TestRun {
        results,
        first_failing: v["first_failing"].as_u64().map(|i| i as usize),
        trace,
        load_error: v["load_error"].as_str().map(str::to_string),
        killed: false,
    })
}
