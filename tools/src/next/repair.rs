//! Repair loop (spec §2.2/§2.3 metric): build the prompt from the buggy code's failing test
//! (with or without its trace), sample n answers, parse rationale + code, run all tests on each
//! candidate, count c passing, report fix rate = mean unbiased pass@1 and pass@k.

use super::passk::mean_pass_at_k;
use super::prompt::{parse_answer, repair_prompt};
use super::sandbox::{run_program, Limits};
use super::tasks::RepairTask;
use super::trace::Knobs;
use super::unit_tests::run_tests;
use crate::llm::{ChatRequest, Client};

/// Settings of a repair run.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Model name.
    pub model: String,
    /// Candidates per task.
    pub samples: usize,
    /// Sampling temperature.
    pub temperature: f64,
    /// Sample i uses seed `seed + i` (when `samples > 1`).
    pub seed: u64,
    /// Completion cap.
    pub max_tokens: Option<u32>,
    /// Put the failing test's trace into the prompt.
    pub with_trace: bool,
    /// Trace knobs.
    pub knobs: Knobs,
    /// Sandbox limits for each Python run.
    pub limits: Limits,
    /// Per-statement timeout inside a test run (s).
    pub stmt_timeout: f64,
    /// Statements listed under `### Tests`.
    pub max_tests: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            model: "default".into(),
            samples: 1,
            temperature: 0.0,
            seed: 0,
            max_tokens: None,
            with_trace: true,
            knobs: Knobs::default(),
            limits: Limits::default(),
            stmt_timeout: 2.0,
            max_tests: 10,
        }
    }
}

/// One sampled candidate.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Candidate {
    /// Sample index.
    pub sample: usize,
    /// Parsed rationale.
    pub rationale: String,
    /// Parsed code (`None`: no code block).
    pub code: Option<String>,
    /// Passed every test.
    pub passed: bool,
    /// Failure reason.
    pub error: String,
}

/// Result of one task.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TaskResult {
    /// Task id.
    pub task_id: String,
    /// The repair prompt.
    pub prompt: String,
    /// Candidates sampled.
    pub n: usize,
    /// Candidates passing all tests.
    pub c: usize,
    /// Candidates.
    pub candidates: Vec<Candidate>,
    /// Error preparing the task or calling the model.
    pub error: Option<String>,
}

/// Builds the repair prompt for `task` (runs its tests on the buggy code, tracing the first
/// failing statement when `with_trace`).
pub fn build_prompt(task: &RepairTask, s: &Settings) -> anyhow::Result<String> {
    let run = run_tests(
        task,
        &task.buggy_code,
        s.with_trace,
        &s.knobs,
        s.stmt_timeout,
        &s.limits,
    )?;
    let code = match (&run.trace, s.with_trace) {
        (Some(t), true) => t.annotated.clone(),
        _ => task.buggy_code.clone(),
    };
    let mut tests = run.results;
    if run.killed {
        // No per-statement results: show the test module as a whole.
        tests.push(super::unit_tests::StmtResult {
            src: task.test.trim().to_string(),
            status: format!(
                "FAILED: timeout (whole test run killed after {:?})",
                s.limits.timeout
            ),
            is_assert: false,
        });
    }
    if let Some(e) = run.load_error {
        tests.push(super::unit_tests::StmtResult {
            src: "# (program failed to load)".into(),
            status: format!("FAILED: {e}"),
            is_assert: false,
        });
    }
    Ok(repair_prompt(
        &task.description,
        &code,
        s.with_trace,
        &tests,
        s.max_tests,
    ))
}

/// Whether `code` passes all of the task's tests (one sandboxed run of code + test + check).
pub fn passes(task: &RepairTask, code: &str, limits: &Limits) -> (bool, String) {
    match run_program(&task.program_with_tests(code), limits) {
        Ok(r) => r,
        Err(e) => (false, format!("{e:#}")),
    }
}

/// Samples and checks `s.samples` candidates for one task.
pub fn repair_task(client: &Client, task: &RepairTask, s: &Settings) -> TaskResult {
    let mut res = TaskResult {
        task_id: task.task_id.clone(),
        prompt: String::new(),
        n: 0,
        c: 0,
        candidates: Vec::new(),
        error: None,
    };
    match build_prompt(task, s) {
        Ok(p) => res.prompt = p,
        Err(e) => {
            res.error = Some(format!("{e:#}"));
            return res;
        }
    }
    let stage = if s.with_trace {
        "repair/trace"
    } else {
        "repair/no-trace"
    };
    for i in 0..s.samples.max(1) {
        let mut req = ChatRequest::user(&s.model, &res.prompt, s.temperature);
        req.max_tokens = s.max_tokens;
        if s.samples > 1 {
            req.seed = Some(s.seed.wrapping_add(i as u64));
        }
        let reply = match client.chat(stage, &format!("{}#{i}", task.task_id), &req) {
            Ok(r) => r,
            Err(e) => {
                res.error = Some(format!("{e:#}"));
                break;
            }
        };
        let ans = parse_answer(&reply);
        let (passed, error) = match &ans.code {
            Some(code) => passes(task, code, &s.limits),
            None => (false, "no fenced code block in the answer".into()),
        };
        res.n += 1;
        res.c += usize::from(passed);
        res.candidates.push(Candidate {
            sample: i,
            rationale: ans.rationale,
            code: ans.code,
            passed,
            error,
        });
    }
    res
}

/// Aggregate metrics.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Summary {
    /// Tasks.
    pub tasks: usize,
    /// Tasks with at least one passing candidate.
    pub fixed_any: usize,
    /// Fix rate = mean unbiased pass@1.
    pub fix_rate: f64,
    /// `(k, mean pass@k)` for each requested k (`None` when no task has n ≥ k).
    pub pass_at_k: Vec<(usize, Option<f64>)>,
    /// Tasks that errored.
    pub errors: usize,
}

/// Fix rate and pass@k over task results (errored tasks count with n = samples, c = 0).
pub fn summarise(results: &[TaskResult], samples: usize, ks: &[usize]) -> Summary {
    let counts: Vec<(usize, usize)> = results
        .iter()
        .map(|r| {
            if r.n == 0 {
                (samples.max(1), 0)
            } else {
                (r.n, r.c)
            }
        })
        .collect();
    Summary {
        tasks: results.len(),
        fixed_any: results.iter().filter(|r| r.c > 0).count(),
        fix_rate: mean_pass_at_k(&counts, 1).unwrap_or(0.0),
        pass_at_k: ks
            .iter()
            .map(|&k| (k, mean_pass_at_k(&counts, k)))
            .collect(),
        errors: results.iter().filter(|r| r.error.is_some()).count(),
    }
}
