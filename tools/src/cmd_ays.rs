//! `pico ays`: align your steps: schedules, optimiser, plots.

/// Arguments of `pico ays`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `pico ays`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`pico ays` is not implemented yet")
}
