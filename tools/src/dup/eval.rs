//! Evaluation of one or more methods over a data set, with a paired comparison.

use super::answer::{is_correct, AnswerKind};
use super::dataset::Item;
use super::method::{Method, Runner, Sample};
use super::stats::{mcnemar_exact, paired_counts, wilson, Z95};
use crate::llm::pool::{map_bounded, progress};
use std::fmt::Write as _;

/// Result of one method on one item.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ItemResult {
    /// Item id.
    pub id: String,
    /// Method name.
    pub method: &'static str,
    /// Label as written.
    pub label: String,
    /// Final normalised prediction.
    pub pred: Option<String>,
    /// Scored correct.
    pub correct: bool,
    /// Samples (one unless self-consistency).
    pub samples: Vec<Sample>,
    /// Error of a failed LLM call (the item then counts as wrong).
    pub error: Option<String>,
}

/// Accuracy of one method.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MethodSummary {
    /// Method name.
    pub method: &'static str,
    /// Items.
    pub n: usize,
    /// Correct items.
    pub correct: usize,
    /// Items whose calls failed.
    pub errors: usize,
    /// correct / n.
    pub accuracy: f64,
    /// 95 % Wilson interval.
    pub ci95: (f64, f64),
}

/// McNemar comparison of two methods.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Paired {
    /// Method A.
    pub a: &'static str,
    /// Method B.
    pub b: &'static str,
    /// Both right.
    pub both: usize,
    /// Only A right.
    pub only_a: usize,
    /// Only B right.
    pub only_b: usize,
    /// Both wrong.
    pub neither: usize,
    /// Exact two-sided McNemar p-value.
    pub p_value: f64,
}

/// Everything a run produces.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    /// Answer kind.
    pub kind: AnswerKind,
    /// Per-method accuracy.
    pub methods: Vec<MethodSummary>,
    /// Pairwise comparisons (every pair, in method order).
    pub paired: Vec<Paired>,
    /// Per-item results, grouped by method.
    #[serde(skip)]
    pub items: Vec<Vec<ItemResult>>,
}

/// Runs every method over `items` with `workers` concurrent items.
pub fn evaluate(
    runner: &Runner<'_>,
    items: &[Item],
    methods: &[Method],
    workers: usize,
    show_progress: bool,
) -> Report {
    let mut all = Vec::new();
    for &m in methods {
        let pb = progress(items.len(), m.name(), show_progress);
        let results = map_bounded(items, workers, &pb, |_, it| {
            let (samples, pred, error) = match runner.item(&it.id, &it.question, m) {
                Ok((s, p)) => (s, p, None),
                Err(e) => (Vec::new(), None, Some(format!("{e:#}"))),
            };
            let correct = it
                .label
                .as_ref()
                .is_some_and(|l| is_correct(pred.as_ref(), l));
            let r = ItemResult {
                id: it.id.clone(),
                method: m.name(),
                label: it.label_raw.clone(),
                pred: pred.map(|p| p.to_string()),
                correct,
                samples,
                error,
            };
            runner.client.log(&serde_json::json!({
                "kind": "item_result", "method": r.method, "item": r.id, "label": r.label,
                "pred": r.pred, "correct": r.correct, "error": r.error,
            }));
            r
        });
        all.push(results);
    }
    summarise(runner.kind, methods, all)
}

/// Accuracy, intervals and pairwise tests from per-item results.
pub fn summarise(kind: AnswerKind, methods: &[Method], items: Vec<Vec<ItemResult>>) -> Report {
    let summaries = methods
        .iter()
        .zip(&items)
        .map(|(m, rs)| {
            let n = rs.len();
            let correct = rs.iter().filter(|r| r.correct).count();
            MethodSummary {
                method: m.name(),
                n,
                correct,
                errors: rs.iter().filter(|r| r.error.is_some()).count(),
                accuracy: if n == 0 {
                    0.0
                } else {
                    correct as f64 / n as f64
                },
                ci95: wilson(correct, n, Z95),
            }
        })
        .collect();
    let mut paired = Vec::new();
    for i in 0..methods.len() {
        for j in i + 1..methods.len() {
            let (Some(ra), Some(rb)) = (items.get(i), items.get(j)) else {
                continue;
            };
            let a: Vec<bool> = ra.iter().map(|r| r.correct).collect();
            let b: Vec<bool> = rb.iter().map(|r| r.correct).collect();
            let (both, only_a, only_b, neither) = paired_counts(&a, &b);
            paired.push(Paired {
                a: methods[i].name(),
                b: methods[j].name(),
                both,
                only_a,
                only_b,
                neither,
                p_value: mcnemar_exact(only_a, only_b),
            });
        }
    }
    Report {
        kind,
        methods: summaries,
        paired,
        items,
    }
}

impl Report {
    /// Markdown tables.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "| method | n | correct | accuracy | 95% Wilson CI | errors |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|");
        for m in &self.methods {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {:.2}% | [{:.2}%, {:.2}%] | {} |",
                m.method,
                m.n,
                m.correct,
                100.0 * m.accuracy,
                100.0 * m.ci95.0,
                100.0 * m.ci95.1,
                m.errors
            );
        }
        if !self.paired.is_empty() {
            let _ = writeln!(
                s,
                "\n| A vs B | both | only A | only B | neither | McNemar exact p |"
            );
            let _ = writeln!(s, "|---|---|---|---|---|---|");
            for p in &self.paired {
                let _ = writeln!(
                    s,
                    "| {} vs {} | {} | {} | {} | {} | {:.4} |",
                    p.a, p.b, p.both, p.only_a, p.only_b, p.neither, p.p_value
                );
            }
        }
        s
    }
}
