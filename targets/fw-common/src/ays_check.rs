//! Align Your Steps on the device (issue 6): the trained MLP denoiser (`models/denoiser.gguf`)
//! sampled with its stored AYS schedule by DPM-Solver++(2M) and stochastic DDIM (η = 1) from
//! seed 42 must give bit-identical samples to the host (`tests/ays_mlp.rs::host_samples`,
//! committed as `tests/golden/ays/mlp_samples.txt`).

use crate::Check;
use picoformer::ays::{self, GaussianRng, MlpDenoiser, Sampler};
use picoformer::gguf::File;

static MODEL: &[u8] = include_bytes!("../../../models/denoiser.gguf");
static SAMPLES: &str = include_str!("../../../tests/golden/ays/mlp_samples.txt");

fn run(sampler: Sampler, x: &mut [f32; 32]) -> picoformer::Result<()> {
    let file = File::parse(MODEL)?;
    let mut d = MlpDenoiser::from_gguf(&file)?;
    let mut sigmas = [0f32; 11];
    ays::schedule_from_gguf(&file, &mut sigmas)?;
    let mut rng = GaussianRng::new(42);
    ays::init_noise(x, f64::from(sigmas[0]), &mut rng)?;
    let mut scratch = [0f32; 64];
    ays::sample(sampler, x, &sigmas, &mut d, &mut rng, &mut scratch)
}

/// Calls `f` with one check per sampler: pass iff every sample's bits equal the host's.
pub fn for_each_check(f: &mut dyn FnMut(&Check)) {
    for (name, sampler, line) in [
        ("ays/mlp_dpmpp_2m_seed42", Sampler::DpmPp2m, 0),
        ("ays/mlp_ddim_eta1_seed42", Sampler::Ddim { eta: 1.0 }, 1),
    ] {
        let mut x = [0f32; 32];
        let ok = run(sampler, &mut x).is_ok();
        let want = SAMPLES.lines().nth(line).unwrap_or("");
        let mut words = want.split_whitespace().skip(1);
        let mut mismatches = 0usize;
        let mut n = 0;
        for got in x.iter() {
            let w = words.next().and_then(|h| u32::from_str_radix(h, 16).ok());
            if w != Some(got.to_bits()) {
                mismatches += 1;
            }
            n += 1;
        }
        let pass = ok && n == 32 && mismatches == 0 && words.next().is_none();
        f(&Check {
            name,
            worst: mismatches as f32,
            pass,
        });
    }
}
