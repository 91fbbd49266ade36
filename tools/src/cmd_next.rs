//! `pico next`: NExT execution traces, repair and self-training data.
//!
//! ```text
//! pico next trace   --code prog.py --call "f([1, 2, 3])"
//! pico next check   --data tools/data/humanevalpack_python.jsonl --which buggy
//! pico next repair  --data tools/data/humanevalpack_python.jsonl --samples 10 --k 1 --k 5 [--no-trace]
//! pico next collect --data repair.jsonl --samples 32 --temperature 0.8 --out sft.jsonl
//! ```

use crate::llm::cli::LlmArgs;
use crate::llm::pool::{map_bounded, progress};
use crate::llm::Client;
use crate::next::collect::{collect, CollectSettings};
use crate::next::repair::{repair_task, summarise, Settings};
use crate::next::sandbox::{run_program, Limits};
use crate::next::tasks::{self, RepairTask};
use crate::next::trace::{trace, Knobs, Status};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `pico next`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub cmd: Cmd,
}

/// `pico next` subcommands.
#[derive(clap::Subcommand)]
pub enum Cmd {
    /// Run a Python function under the tracer and print the program with inline states.
    Trace(TraceArgs),
    /// Sandbox sanity run: canonical or buggy solutions against their tests.
    Check(CheckArgs),
    /// Repair buggy programs with an LLM; report fix rate and pass@k.
    Repair(RepairArgs),
    /// Self-training data step: sample, keep test-passing rationales, write SFT JSONL.
    Collect(CollectArgs),
}

/// Sandbox limits.
#[derive(clap::Args, Clone)]
pub struct SandboxArgs {
    /// Wall-clock limit of one Python run (s).
    #[arg(long, default_value_t = 5.0)]
    pub py_timeout: f64,
    /// Address-space limit of one Python run (MiB).
    #[arg(long, default_value_t = 1024)]
    pub py_mem_mb: u64,
}

impl SandboxArgs {
    fn limits(&self) -> Limits {
        Limits {
            timeout: Duration::from_secs_f64(self.py_timeout.clamp(0.01, 3600.0)),
            mem_mb: self.py_mem_mb,
            cpu_s: self.py_timeout.ceil().max(1.0) as u64 + 1,
        }
    }
}

/// `pico next trace`.
#[derive(clap::Args)]
pub struct TraceArgs {
    /// Python source file defining the function.
    #[arg(long)]
    pub code: PathBuf,
    /// Expression or statement to trace, e.g. `f([1, 2, 3])`.
    #[arg(long)]
    pub call: String,
    /// Write the annotated program here instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub knobs: Knobs,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// Which solution `check` runs.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Which {
    /// HumanEvalPack `prompt + canonical_solution`.
    Canonical,
    /// `declaration + buggy_solution` (or the repair file's buggy code).
    Buggy,
}

/// `pico next check`.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// Repair tasks (HumanEvalPack JSONL or MBPP-style repair JSONL).
    #[arg(long)]
    pub data: PathBuf,
    /// Solutions to run.
    #[arg(long, value_enum, default_value = "canonical")]
    pub which: Which,
    /// First N tasks only.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Parallel Python processes.
    #[arg(long, default_value_t = 4)]
    pub workers: usize,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// Options shared by `repair` and `collect`.
#[derive(clap::Args)]
pub struct SampleArgs {
    /// Repair tasks (HumanEvalPack JSONL or MBPP-style repair JSONL).
    #[arg(long)]
    pub data: PathBuf,
    /// First N tasks only.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Candidates per task.
    #[arg(long, default_value_t = 1)]
    pub samples: usize,
    /// Sampling temperature.
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f64,
    /// Sample i uses seed + i.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Leave the execution trace out of the prompt (ablation).
    #[arg(long)]
    pub no_trace: bool,
    /// Test statements listed in the prompt.
    #[arg(long, default_value_t = 10)]
    pub max_tests: usize,
    #[command(flatten)]
    pub knobs: Knobs,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
    #[command(flatten)]
    pub llm: LlmArgs,
}

impl SampleArgs {
    fn settings(&self) -> Settings {
        Settings {
            model: self.llm.model.clone(),
            samples: self.samples.max(1),
            temperature: self.temperature,
            seed: self.seed,
            max_tokens: self.llm.max_tokens,
            with_trace: !self.no_trace,
            knobs: self.knobs,
            limits: self.sandbox.limits(),
            stmt_timeout: (self.sandbox.py_timeout / 2.0).max(0.1),
            max_tests: self.max_tests,
        }
    }

    fn tasks(&self) -> anyhow::Result<Vec<RepairTask>> {
        let mut t = tasks::load(&self.data)?;
        if let Some(n) = self.limit {
            t.truncate(n);
        }
        Ok(t)
    }
}

/// `pico next repair`.
#[derive(clap::Args)]
pub struct RepairArgs {
    #[command(flatten)]
    pub common: SampleArgs,
    /// k values of pass@k (repeatable; pass@1 is always reported as the fix rate).
    #[arg(long = "k")]
    pub ks: Vec<usize>,
    /// Run with and without traces on the same tasks and compare them (McNemar).
    #[arg(long, conflicts_with = "no_trace")]
    pub both: bool,
    /// Output directory: `results_trace.jsonl` / `results_no_trace.jsonl`, `summary.json`.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `pico next collect`.
#[derive(clap::Args)]
pub struct CollectArgs {
    #[command(flatten)]
    pub common: SampleArgs,
    /// Hard-task threshold m on the estimated pass@1.
    #[arg(long, default_value_t = 0.1)]
    pub hard_threshold: f64,
    /// Self-training iteration number written into the records.
    #[arg(long, default_value_t = 0)]
    pub iter: u32,
    /// Keep passing samples of every task, not only the hard ones.
    #[arg(long)]
    pub all_tasks: bool,
    /// Restrict to the tasks marked hard in a previous step's stats JSONL.
    #[arg(long)]
    pub hard_tasks: Option<PathBuf>,
    /// SFT JSONL output (`{task_id, iter, prompt, rationale, fixed_code}`).
    #[arg(long)]
    pub out: PathBuf,
    /// Per-task stats JSONL (default: `<out>.stats.jsonl`).
    #[arg(long)]
    pub stats: Option<PathBuf>,
}

/// Runs `pico next`.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.cmd {
        Cmd::Trace(a) => run_trace(a),
        Cmd::Check(a) => run_check(a),
        Cmd::Repair(a) => run_repair(a),
        Cmd::Collect(a) => run_collect(a),
    }
}

fn run_trace(a: TraceArgs) -> anyhow::Result<()> {
    let code = std::fs::read_to_string(&a.code)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", a.code.display()))?;
    let t = trace(&code, &a.call, &a.knobs, &a.sandbox.limits())?;
    match &a.output {
        Some(p) => std::fs::write(p, &t.annotated)?,
        None => print!("{}", t.annotated),
    }
    match t.status {
        Status::Ok => {}
        Status::Exception(e) => eprintln!("call raised {e}"),
        Status::Timeout => eprintln!(
            "call cut after {} line events (__timeout__)",
            a.knobs.max_events
        ),
    }
    Ok(())
}

fn run_check(a: CheckArgs) -> anyhow::Result<()> {
    let mut ts = tasks::load(&a.data)?;
    if let Some(n) = a.limit {
        ts.truncate(n);
    }
    let limits = a.sandbox.limits();
    let pb = progress(ts.len(), "check", true);
    let res = map_bounded(&ts, a.workers, &pb, |_, t| {
        let code = match (a.which, &t.prompt, &t.canonical_solution) {
            (Which::Canonical, Some(p), Some(c)) => format!("{p}{c}"),
            (Which::Canonical, _, _) => t.reference_code.clone().unwrap_or_default(),
            (Which::Buggy, _, _) => t.buggy_code.clone(),
        };
        run_program(&t.program_with_tests(&code), &limits)
            .unwrap_or_else(|e| (false, format!("{e:#}")))
    });
    let pass = res.iter().filter(|(ok, _)| *ok).count();
    for (t, (ok, err)) in ts.iter().zip(&res) {
        if !ok && err == "timeout" {
            println!("{}: timeout", t.task_id);
        }
    }
    println!("{pass}/{} passed", ts.len());
    Ok(())
}

fn run_repair(a: RepairArgs) -> anyhow::Result<()> {
    let c = &a.common;
    let ts = c.tasks()?;
    let client = Client::new(c.llm.client_config())?;
    let workers = if c.llm.dry_run { 1 } else { c.llm.concurrency };
    let modes: Vec<bool> = if a.both {
        vec![true, false]
    } else {
        vec![!c.no_trace]
    };
    let mut all = Vec::new();
    for with_trace in modes {
        let s = Settings {
            with_trace,
            ..c.settings()
        };
        let label = if with_trace { "repair+trace" } else { "repair" };
        let pb = progress(ts.len(), label, c.llm.show_progress());
        let results = map_bounded(&ts, workers, &pb, |_, t| repair_task(&client, t, &s));
        if c.llm.dry_run {
            continue;
        }
        let sum = summarise(&results, s.samples, &a.ks);
        println!(
            "{} tasks, {} samples each, trace {}: fix rate (pass@1) {:.2}%, fixed by any sample {}/{}, errors {}",
            sum.tasks,
            s.samples,
            if with_trace { "on" } else { "off" },
            100.0 * sum.fix_rate,
            sum.fixed_any,
            sum.tasks,
            sum.errors
        );
        for (k, v) in &sum.pass_at_k {
            match v {
                Some(v) => println!("  pass@{k} = {:.2}%", 100.0 * v),
                None => println!("  pass@{k}: n < k for every task"),
            }
        }
        all.push((with_trace, results, sum));
    }
    if c.llm.dry_run {
        return Ok(());
    }
    if let [(_, ra, _), (_, rb, _)] = all.as_slice() {
        let a_ok: Vec<bool> = ra.iter().map(|r| r.c > 0).collect();
        let b_ok: Vec<bool> = rb.iter().map(|r| r.c > 0).collect();
        let (both, only_a, only_b, neither) = crate::dup::stats::paired_counts(&a_ok, &b_ok);
        println!(
            "trace vs no-trace (fixed by any sample): both {both}, only trace {only_a}, only no-trace {only_b}, neither {neither}, McNemar exact p = {:.4}",
            crate::dup::stats::mcnemar_exact(only_a, only_b)
        );
    }
    let st = client.stats();
    println!(
        "LLM: {} HTTP calls, {} retries, {} cache hits, {} failed calls",
        st.http_calls, st.retries, st.cache_hits, st.failures
    );
    if let Some(dir) = &a.out {
        std::fs::create_dir_all(dir)?;
        let mut summaries = Vec::new();
        for (with_trace, results, sum) in &all {
            let name = if *with_trace {
                "results_trace.jsonl"
            } else {
                "results_no_trace.jsonl"
            };
            let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join(name))?);
            for r in results {
                writeln!(f, "{}", serde_json::to_string(r)?)?;
            }
            f.flush()?;
            summaries.push(serde_json::json!({"trace": with_trace, "summary": sum}));
        }
        std::fs::write(
            dir.join("summary.json"),
            serde_json::to_string_pretty(&serde_json::json!({"runs": summaries, "llm": st}))?,
        )?;
    }
    Ok(())
}

fn run_collect(a: CollectArgs) -> anyhow::Result<()> {
    let c = &a.common;
    let mut ts = c.tasks()?;
    if let Some(p) = &a.hard_tasks {
        let text = std::fs::read_to_string(p)?;
        let hard: std::collections::BTreeSet<String> = text
            .lines()
            .filter_map(|l| serde_json::from_str::<crate::next::collect::TaskStat>(l).ok())
            .filter(|s| s.hard)
            .map(|s| s.task_id)
            .collect();
        ts.retain(|t| hard.contains(&t.task_id));
    }
    let s = CollectSettings {
        repair: c.settings(),
        hard_threshold: a.hard_threshold,
        iter: a.iter,
        only_hard: !a.all_tasks,
    };
    let client = Client::new(c.llm.client_config())?;
    let workers = if c.llm.dry_run { 1 } else { c.llm.concurrency };
    let pb = progress(ts.len(), "collect", c.llm.show_progress());
    let (records, stats) = collect(&client, &ts, &s, workers, &pb);
    if c.llm.dry_run {
        return Ok(());
    }
    if let Some(parent) = a.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(&a.out)?);
    for r in &records {
        writeln!(f, "{}", serde_json::to_string(r)?)?;
    }
    f.flush()?;
    let stats_path = a
        .stats
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}.stats.jsonl", a.out.display())));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&stats_path)?);
    for st in &stats {
        writeln!(f, "{}", serde_json::to_string(st)?)?;
    }
    f.flush()?;
    let hard = stats.iter().filter(|s| s.hard).count();
    println!(
        "{} tasks, {hard} hard (pass@1 < {}), {} SFT records -> {} (stats {})",
        stats.len(),
        a.hard_threshold,
        records.len(),
        a.out.display(),
        stats_path.display()
    );
    Ok(())
}
