//! The MLP denoiser (`models/denoiser.gguf`, trained by `tools/ays/train_denoiser.py`):
//! forward pass vs torch on fixed points (f32, 2e-5 relative to max(1, |D|), with and without
//! `fast-math`: the MLP always uses libm), deterministic seeded sampling (bit-exact vs the
//! committed host samples that the firmware compares against), and sample quality on the
//! 8-Gaussian ring.

use picoformer::ays::{self, Denoiser, GaussianRng, MlpDenoiser, Sampler};
use picoformer::gguf::File;

const MODEL: &[u8] = include_bytes!("../models/denoiser.gguf");
const FORWARD: &str = include_str!("golden/ays/mlp_forward.txt");
const SAMPLES: &str = include_str!("golden/ays/mlp_samples.txt");

fn nums(s: &str) -> Vec<f64> {
    s.split_whitespace().map(|v| v.parse().unwrap()).collect()
}

#[test]
fn forward_matches_torch() {
    let file = File::parse(MODEL).unwrap();
    let mut d = MlpDenoiser::from_gguf(&file).unwrap();
    assert_eq!(d.dim(), 2);
    let tol = if cfg!(feature = "fast-math") {
        3e-2
    } else {
        2e-5
    };
    let mut worst = 0.0f64;
    for line in FORWARD.lines() {
        let p: Vec<&str> = line.split(" ; ").collect();
        let sigma: f64 = p[0].parse().unwrap();
        let x: Vec<f32> = nums(p[1]).iter().map(|v| *v as f32).collect();
        let want = nums(p[2]);
        let mut out = vec![0f32; x.len()];
        d.denoise(&x, sigma, &mut out).unwrap();
        for (g, w) in out.iter().zip(&want) {
            let e = (f64::from(*g) - w).abs() / w.abs().max(1.0);
            worst = worst.max(e);
            assert!(e < tol, "σ={sigma}: {g} vs {w}");
        }
    }
    println!("MLP forward vs torch: max error {worst:e}");
}

/// The firmware comparison case: 16 points, seed 42, the 10-step AYS (KLUB-optimised)
/// schedule stored in the model file (`ays.sigmas`), DPM-Solver++(2M) and stochastic DDIM
/// (η = 1), noise from `GaussianRng::new(42)` (initial noise first, then the DDIM noise).
pub fn host_samples() -> Vec<(String, Vec<f32>)> {
    let file = File::parse(MODEL).unwrap();
    let mut d = MlpDenoiser::from_gguf(&file).unwrap();
    let mut sigmas = [0f32; 11];
    assert_eq!(ays::schedule_from_gguf(&file, &mut sigmas).unwrap(), 11);
    let mut out = vec![];
    for (name, s) in [
        ("dpmpp_2m", Sampler::DpmPp2m),
        ("ddim_eta1", Sampler::Ddim { eta: 1.0 }),
    ] {
        let mut rng = GaussianRng::new(42);
        let mut x = [0f32; 32];
        ays::init_noise(&mut x, f64::from(sigmas[0]), &mut rng).unwrap();
        let mut scratch = [0f32; 64];
        ays::sample(s, &mut x, &sigmas, &mut d, &mut rng, &mut scratch).unwrap();
        out.push((name.to_string(), x.to_vec()));
    }
    out
}

#[test]
fn seeded_sampling_is_deterministic() {
    let a = host_samples();
    let b = host_samples();
    assert_eq!(a, b);
    if std::env::var("AYS_BLESS").is_ok() {
        let text: String = a
            .iter()
            .map(|(n, v)| {
                let bits: Vec<String> = v.iter().map(|x| format!("{:08x}", x.to_bits())).collect();
                format!("{n} {}\n", bits.join(" "))
            })
            .collect();
        std::fs::write("tests/golden/ays/mlp_samples.txt", text).unwrap();
        return;
    }
    for ((name, got), line) in a.iter().zip(SAMPLES.lines()) {
        let mut w = line.split_whitespace();
        assert_eq!(Some(name.as_str()), w.next());
        let want: Vec<f32> = w
            .map(|h| f32::from_bits(u32::from_str_radix(h, 16).unwrap()))
            .collect();
        if picoformer::quant::simd_backend() != "scalar" {
            // AVX2 (x86-64 under `std`) and NEON (aarch64) matvec sum in another order than the
            // portable scalar path: equal up to rounding, not bit for bit. The bit-exact contract
            // holds for the scalar path, which is what the Cortex-M firmware runs
            // (targets/fw-common/src/ays_check.rs checks the same bits on the device).
            let err = got
                .iter()
                .zip(&want)
                .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
            assert!(err <= 1e-3, "{name}: SIMD host samples differ by {err}");
        } else {
            assert_eq!(got, &want, "{name}: host samples changed");
        }
    }
}

#[test]
fn samples_land_on_the_ring() {
    let file = File::parse(MODEL).unwrap();
    let mut d = MlpDenoiser::from_gguf(&file).unwrap();
    let mut sigmas = [0f32; 21];
    ays::karras(20, 0.002, 80.0, 7.0, &mut sigmas).unwrap();
    let mut rng = GaussianRng::new(7);
    let mut x = vec![0f32; 2 * 512];
    ays::init_noise(&mut x, f64::from(sigmas[0]), &mut rng).unwrap();
    let mut scratch = vec![0f32; 2 * x.len()];
    ays::sample(
        Sampler::DpmPp2m,
        &mut x,
        &sigmas,
        &mut d,
        &mut rng,
        &mut scratch,
    )
    .unwrap();
    let radii: Vec<f32> = x.chunks_exact(2).map(|p| p[0].hypot(p[1])).collect();
    let mean = radii.iter().sum::<f32>() / radii.len() as f32;
    let far = radii.iter().filter(|r| (**r - 2.0).abs() > 0.75).count();
    println!("mean radius {mean}, {far}/512 points off the ring");
    assert!((mean - 2.0).abs() < 0.1, "mean radius {mean}");
    assert!(far < 26, "{far} points off the ring");
}

#[test]
fn stored_schedule_is_the_optimised_one() {
    let file = File::parse(MODEL).unwrap();
    let mut s = [0f32; 11];
    ays::schedule_from_gguf(&file, &mut s).unwrap();
    assert_eq!(s[0], 80.0);
    assert_eq!(s[9], 0.002);
    assert_eq!(s[10], 0.0);
    assert!(matches!(
        ays::schedule_from_gguf(&file, &mut [0f32; 10]),
        Err(picoformer::Error::Capacity { .. })
    ));
}

#[test]
fn malformed_model_is_an_error() {
    // Truncated file: a parse error, never a panic.
    assert!(File::parse(&MODEL[..MODEL.len() / 2]).is_err());
}
