//! `pico`: host tooling for picoformer.
//!
//! Each subcommand lives in its own module (`cmd_*.rs`); `main` only parses and dispatches.

use clap::{Parser, Subcommand};

mod cmd_ays;
mod cmd_convert;
mod cmd_dup;
mod cmd_inspect;
mod cmd_next;
mod cmd_run;
mod cmd_serve;
mod cmd_snapkv;
mod convert;
mod dup;
mod gguf_writer;
mod llm;
mod model_util;
mod next;

#[derive(Parser)]
#[command(name = "pico", version, about = "picoformer host tools")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Convert checkpoints (Apple HF OpenELM safetensors, llama2.c .bin) to GGUF.
    Convert(cmd_convert::Args),
    /// Print the per-layer table, parameter count and memory plan of a model or preset.
    Inspect(cmd_inspect::Args),
    /// Run a GGUF model on the host: generate text or dump logits.
    Run(cmd_run::Args),
    /// Run the crate's SnapKV selection on a JSON case and print kept positions.
    Snapkv(cmd_snapkv::Args),
    /// Align Your Steps: schedules, optimiser, plots.
    Ays(cmd_ays::Args),
    /// DUP prompting evaluation over an OpenAI-compatible endpoint.
    Dup(cmd_dup::Args),
    /// NExT execution traces, repair and self-training data.
    Next(cmd_next::Args),
    /// Serve a GGUF model through an OpenAI-compatible HTTP API.
    Serve(cmd_serve::Args),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().cmd {
        Cmd::Convert(a) => cmd_convert::run(a),
        Cmd::Inspect(a) => cmd_inspect::run(a),
        Cmd::Run(a) => cmd_run::run(a),
        Cmd::Snapkv(a) => cmd_snapkv::run(a),
        Cmd::Ays(a) => cmd_ays::run(a),
        Cmd::Dup(a) => cmd_dup::run(a),
        Cmd::Next(a) => cmd_next::run(a),
        Cmd::Serve(a) => cmd_serve::run(a),
    }
}
