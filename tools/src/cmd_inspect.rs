//! `pico inspect`: print the per-layer table, parameter count and memory plan of a model or preset.

/// Arguments of `pico inspect`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `pico inspect`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`pico inspect` is not implemented yet")
}
