//! `pico next`: next execution traces, repair and self-training data.

/// Arguments of `pico next`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `pico next`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`pico next` is not implemented yet")
}
