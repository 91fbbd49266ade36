//! `pico dup`: DUP prompting evaluation over an OpenAI-compatible endpoint.
//!
//! ```text
//! pico dup --data tools/data/gsm8k_test.jsonl --method zs-cot --method dup --limit 50 \
//!          --base-url http://127.0.0.1:8080/v1 --model gpt-4 --extract llm --out runs/gsm8k
//! ```

use crate::dup::answer::AnswerKind;
use crate::dup::dataset::{self, Format};
use crate::dup::eval::evaluate;
use crate::dup::method::{Extraction, Method, Runner};
use crate::dup::templates::TemplateSet;
use crate::llm::cli::LlmArgs;
use crate::llm::Client;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `pico dup`.
#[derive(clap::Args)]
pub struct Args {
    /// Data set (JSONL): GSM8K-style (`#### N`) or generic `{"question","answer"}`.
    #[arg(long, required_unless_present = "score_answers")]
    pub data: Option<PathBuf>,
    /// Replay mode: re-score a stored answer file (one Python-repr string per line, e.g. the
    /// official `DUP_answer.txt`) against `--labels`; no LLM calls.
    #[arg(long, requires = "labels")]
    pub score_answers: Option<PathBuf>,
    /// Labels for `--score-answers` (one per line, e.g. `labels.txt`).
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Row format.
    #[arg(long, value_enum, default_value = "auto")]
    pub format: Format,
    /// Answer kind (default: number for GSM8K, else guessed from the first label).
    #[arg(long, value_enum)]
    pub answer_type: Option<AnswerKind>,
    /// Methods to run (repeatable); all run on the same items and are compared pairwise.
    #[arg(long = "method", value_enum, default_values_t = vec![Method::Dup])]
    pub methods: Vec<Method>,
    /// Template set: `paper` or a template file (sections `=== stage1 ===` ...).
    #[arg(long, default_value = "paper")]
    pub templates: String,
    /// Answer extraction: by rule, or by one more LLM call (official pipeline).
    #[arg(long = "extract", value_enum, default_value = "rule")]
    pub extraction: Extraction,
    /// Self-consistency samples per item (1 = greedy, temperature `--temperature`).
    #[arg(long, default_value_t = 1)]
    pub samples: usize,
    /// Temperature of single-sample runs.
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f64,
    /// Temperature of self-consistency samples.
    #[arg(long, default_value_t = 0.7)]
    pub sc_temperature: f64,
    /// Base seed of self-consistency samples (sample i uses seed + i); also the shuffle seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Use only the first N items (after shuffling).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Shuffle items with `--seed` before `--limit`.
    #[arg(long)]
    pub shuffle: bool,
    /// Output directory: `results.jsonl`, `report.json`, `report.md`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub llm: LlmArgs,
}

/// Deterministic Fisher–Yates with a SplitMix64 stream.
fn shuffle<T>(v: &mut [T], seed: u64) {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    for i in (1..v.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

/// Runs `pico dup`.
pub fn run(args: Args) -> anyhow::Result<()> {
    if let (Some(answers), Some(labels)) = (&args.score_answers, &args.labels) {
        let kind = args.answer_type.unwrap_or(AnswerKind::Number);
        let r = crate::dup::replay::score_files(answers, labels, kind)?;
        let (lo, hi) = crate::dup::stats::wilson(r.correct, r.n, crate::dup::stats::Z95);
        println!(
            "{}/{} = {:.2}% (95% Wilson CI [{:.2}%, {:.2}%]), {} unparsable (scored wrong){}",
            r.correct,
            r.n,
            100.0 * r.correct as f64 / r.n.max(1) as f64,
            100.0 * lo,
            100.0 * hi,
            r.unparsable.len(),
            if r.unparsable.is_empty() {
                String::new()
            } else {
                format!(": lines {:?}", r.unparsable)
            }
        );
        return Ok(());
    }
    let data = args
        .data
        .clone()
        .ok_or_else(|| anyhow::anyhow!("--data is required"))?;
    let templates = TemplateSet::load(&args.templates)?;
    let (mut items, kind) = dataset::load(&data, args.format, args.answer_type)?;
    if args.shuffle {
        shuffle(&mut items, args.seed);
    }
    if let Some(n) = args.limit {
        items.truncate(n);
    }
    let mut methods = args.methods.clone();
    methods.dedup();
    let client = Client::new(args.llm.client_config())?;
    let runner = Runner {
        client: &client,
        templates: &templates,
        model: args.llm.model.clone(),
        temperature: args.temperature,
        sc_temperature: args.sc_temperature,
        samples: args.samples.max(1),
        seed: args.seed,
        max_tokens: args.llm.max_tokens,
        extraction: args.extraction,
        kind,
    };
    let workers = if args.llm.dry_run {
        1
    } else {
        args.llm.concurrency
    };
    let report = evaluate(&runner, &items, &methods, workers, args.llm.show_progress());
    let stats = client.stats();
    if args.llm.dry_run {
        let per_item: usize = methods
            .iter()
            .map(|m| m.calls() + usize::from(args.extraction == Extraction::Llm))
            .sum();
        println!(
            "dry run: {} items x {} samples, {} calls per item and sample",
            items.len(),
            runner.samples,
            per_item
        );
        return Ok(());
    }
    let md = report.markdown();
    println!(
        "data {} ({} items, answers: {:?}), templates {}, extraction {:?}\n",
        data.display(),
        items.len(),
        kind,
        templates.name,
        args.extraction
    );
    print!("{md}");
    println!(
        "\nLLM: {} HTTP calls, {} retries, {} cache hits, {} failed calls",
        stats.http_calls, stats.retries, stats.cache_hits, stats.failures
    );
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)?;
        let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("results.jsonl"))?);
        for rs in &report.items {
            for r in rs {
                writeln!(f, "{}", serde_json::to_string(r)?)?;
            }
        }
        f.flush()?;
        let json = serde_json::json!({
            "data": data, "items": items.len(), "templates": templates.name,
            "extraction": args.extraction, "samples": runner.samples, "model": args.llm.model,
            "base_url": args.llm.base_url, "report": report, "llm": stats,
        });
        std::fs::write(
            dir.join("report.json"),
            serde_json::to_string_pretty(&json)?,
        )?;
        std::fs::write(dir.join("report.md"), md)?;
    }
    let failed: usize = report.methods.iter().map(|m| m.errors).sum();
    if failed > 0 {
        eprintln!("warning: {failed} item runs failed (see the log); they count as wrong");
    }
    Ok(())
}
