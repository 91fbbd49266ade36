//! `pico snapkv`: run the crate's snapkv selection on a json case and print kept positions.

/// Arguments of `pico snapkv`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `pico snapkv`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`pico snapkv` is not implemented yet")
}
