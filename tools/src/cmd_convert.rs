//! `pico convert`: checkpoints → GGUF (see `convert/` for the formats).
//!
//! ```text
//! pico convert llama2c model.bin -o out.gguf --type f32|f16|q8_0 [--tokenizer tokenizer.bin]
//! pico convert openelm <hf_dir> -o out.gguf --type f32|f16|q8_0 [--tokenizer tokenizer.model]
//! ```

use std::path::PathBuf;

use crate::convert::{self, OutType};

/// Arguments of `pico convert`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    from: From,
}

#[derive(clap::Subcommand)]
enum From {
    /// llama2.c `.bin` checkpoint → GGUF `llama` (optionally with its `tokenizer.bin`).
    Llama2c {
        /// The llama2.c checkpoint (e.g. stories15M.bin).
        model: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Apple HF OpenELM directory (config.json + *.safetensors) → GGUF `openelm`.
    Openelm {
        /// Directory holding config.json and model.safetensors.
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(clap::Args)]
struct Common {
    /// Output GGUF path.
    #[arg(short, long)]
    output: PathBuf,
    /// Weight type of the matrices (vectors stay F32).
    #[arg(long = "type", value_enum, default_value = "f32")]
    ty: OutType,
    /// Vocabulary: llama2.c `tokenizer.bin`, or SentencePiece `tokenizer.model` for OpenELM
    /// (default: `<dir>/tokenizer.model` if present).
    #[arg(long)]
    tokenizer: Option<PathBuf>,
}

/// Runs `pico convert`.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.from {
        From::Llama2c { model, common } => convert::llama2c::run(
            &model,
            common.tokenizer.as_deref(),
            common.ty,
            &common.output,
        ),
        From::Openelm { dir, common } => {
            convert::openelm::run(&dir, common.tokenizer.as_deref(), common.ty, &common.output)
        }
    }
}
