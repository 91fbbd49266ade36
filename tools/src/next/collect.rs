//! One self-training data step (spec §2.3, STaR/ReST-style with unit tests as weak supervision):
//! sample n (rationale, fix) candidates per task, estimate pass@1 = c/n, mark the task hard when
//! it is below the threshold m (paper: n = 32, m = 0.1, T = 0.8), and keep every candidate that
//! passes all tests (the rationale is not checked) as an SFT record. Training is external.

use super::repair::{repair_task, Settings, TaskResult};
use super::tasks::RepairTask;
use crate::llm::pool::map_bounded;
use crate::llm::Client;
use indicatif::ProgressBar;

/// One SFT example.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SftRecord {
    /// Task id.
    pub task_id: String,
    /// Self-training iteration.
    pub iter: u32,
    /// The repair prompt.
    pub prompt: String,
    /// Model rationale.
    pub rationale: String,
    /// Test-passing fixed program.
    pub fixed_code: String,
}

/// Per-task statistics of the step.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TaskStat {
    /// Task id.
    pub task_id: String,
    /// Samples.
    pub n: usize,
    /// Passing samples.
    pub c: usize,
    /// c / n.
    pub pass1: f64,
    /// pass1 < threshold.
    pub hard: bool,
    /// Error, if the task could not be sampled.
    pub error: Option<String>,
}

/// Step settings.
#[derive(Clone, Debug)]
pub struct CollectSettings {
    /// Sampling / sandbox settings.
    pub repair: Settings,
    /// Hardness threshold m on the estimated pass@1.
    pub hard_threshold: f64,
    /// Iteration number written into the records.
    pub iter: u32,
    /// Keep records only from hard tasks (by this step's own estimate).
    pub only_hard: bool,
}

/// Runs the step over `tasks` with `workers` concurrent tasks.
pub fn collect(
    client: &Client,
    tasks: &[RepairTask],
    s: &CollectSettings,
    workers: usize,
    pb: &ProgressBar,
) -> (Vec<SftRecord>, Vec<TaskStat>) {
    let results: Vec<TaskResult> =
        map_bounded(tasks, workers, pb, |_, t| repair_task(client, t, &s.repair));
    let mut records = Vec::new();
    let mut stats = Vec::new();
    for r in results {
        let pass1 = if r.n == 0 {
            0.0
        } else {
            r.c as f64 / r.n as f64
        };
        let hard = pass1 < s.hard_threshold;
        if hard || !s.only_hard {
            for c in r.candidates.iter().filter(|c| c.passed) {
                if let Some(code) = &c.code {
                    records.push(SftRecord {
                        task_id: r.task_id.clone(),
                        iter: s.iter,
                        prompt: r.prompt.clone(),
                        rationale: c.rationale.clone(),
                        fixed_code: code.clone(),
                    });
                }
            }
        }
        stats.push(TaskStat {
            task_id: r.task_id,
            n: r.n,
            c: r.c,
            pass1,
            hard,
            error: r.error,
        });
    }
    (records, stats)
}
