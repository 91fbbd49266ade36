//! `pico convert`: convert checkpoints (apple hf openelm safetensors, llama2.c .bin) to gguf.

/// Arguments of `pico convert`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `pico convert`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`pico convert` is not implemented yet")
}
