//! `pico serve`: serve a gguf model through an openai-compatible http api.

/// Arguments of `pico serve`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `pico serve`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`pico serve` is not implemented yet")
}
