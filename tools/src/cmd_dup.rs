//! `pico dup`: dup prompting evaluation over an openai-compatible endpoint.

/// Arguments of `pico dup`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `pico dup`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`pico dup` is not implemented yet")
}
