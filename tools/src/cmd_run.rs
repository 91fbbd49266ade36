//! `pico run`: run a gguf model on the host: generate text or dump logits.

/// Arguments of `pico run`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `pico run`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`pico run` is not implemented yet")
}
