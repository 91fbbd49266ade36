//! Samplers vs the independent NumPy k-diffusion transcription
//! `tests/golden/ays/make_golden.py` (exact Gaussian and Gaussian-mixture denoisers, a fixed
//! noise sequence). Tolerances: f64 state 1e-12 (relative to max(1, |x|)); f32 state 1e-5.

use picoformer::ays::{
    self, Denoiser, EpsDenoiser, EpsModel, GaussianDenoiser, MixtureDenoiser, NoNoise, Sampler,
    SdSigmas, SliceNoise,
};
use picoformer::{Error, Result};

const GOLDEN: &str = include_str!("golden/ays/samplers.txt");
const MIX_W: [f64; 3] = [0.5, 0.3, 0.2];
const MIX_MU: [f64; 6] = [-2.0, 0.0, 1.5, 1.0, 0.5, -2.5];
const MIX_VAR: [f64; 3] = [0.09, 0.25, 0.04];

fn values(line: &str, skip: usize) -> Vec<f64> {
    line.split_whitespace()
        .skip(skip)
        .map(|v| v.parse().unwrap())
        .collect()
}

fn sampler(name: &str, params: &str) -> Sampler {
    let p: Vec<f64> = if params == "-" {
        vec![]
    } else {
        params.split(',').map(|v| v.parse().unwrap()).collect()
    };
    match name {
        "euler" => Sampler::Euler,
        "heun" => Sampler::Heun,
        "dpmpp_2m" => Sampler::DpmPp2m,
        "dpmpp_2m_sde" => Sampler::DpmPp2mSde {
            eta: p[0],
            s_noise: p[1],
            heun: p[2] == 1.0,
        },
        "ddim" => Sampler::Ddim { eta: p[0] },
        "euler_ancestral" => Sampler::EulerAncestral {
            eta: p[0],
            s_noise: p[1],
        },
        other => panic!("{other}"),
    }
}

struct Golden {
    noise: Vec<f64>,
    sigmas: Vec<(String, Vec<f64>)>,
    xinit: Vec<f64>,
    cases: Vec<(String, String, Sampler, usize, Vec<f64>)>,
}

fn golden() -> Golden {
    let mut g = Golden {
        noise: vec![],
        sigmas: vec![],
        xinit: vec![],
        cases: vec![],
    };
    for line in GOLDEN.lines() {
        let mut w = line.split_whitespace();
        match w.next() {
            Some("noise") => g.noise = values(line, 1),
            Some("xinit") => g.xinit = values(line, 1),
            Some("sigmas") => g
                .sigmas
                .push((w.next().unwrap().to_string(), values(line, 2))),
            Some("case") => {
                let (head, tail) = line.split_once(" ; ").unwrap();
                let h: Vec<&str> = head.split_whitespace().collect();
                g.cases.push((
                    h[1].to_string(),
                    h[2].to_string(),
                    sampler(h[3], h[4]),
                    h[5].parse().unwrap(),
                    values(tail, 0),
                ));
            }
            _ => {}
        }
    }
    g
}

fn run<T: ays::Real>(g: &Golden, den: &str, sched: &str, s: Sampler) -> (Vec<T>, usize) {
    let sig = &g.sigmas.iter().find(|(n, _)| n == sched).unwrap().1;
    let n = if den == "gauss" { 3 } else { 8 };
    let mut x: Vec<T> = g.xinit[..n]
        .iter()
        .map(|v| T::from_f64(v * sig[0]))
        .collect();
    let mut scratch = vec![T::ZERO; s.scratch_len(n)];
    let mut noise = SliceNoise::new(&g.noise);
    let mut gauss = GaussianDenoiser { variance: 0.25 };
    let mut mix = MixtureDenoiser::new(2, &MIX_W, &MIX_MU, &MIX_VAR).unwrap();
    let d: &mut dyn Denoiser<T> = if den == "gauss" { &mut gauss } else { &mut mix };
    ays::sample(s, &mut x, sig, d, &mut noise, &mut scratch).unwrap();
    (x, noise.consumed())
}

#[test]
fn samplers_match_numpy_f64() {
    let g = golden();
    assert_eq!(g.cases.len(), 60);
    let mut worst = 0.0f64;
    for (den, sched, s, used, want) in &g.cases {
        let (x, consumed) = run::<f64>(&g, den, sched, *s);
        assert_eq!(consumed, *used, "{den} {sched} {s:?}: noise consumption");
        for (a, b) in x.iter().zip(want) {
            let e = (a - b).abs() / b.abs().max(1.0);
            worst = worst.max(e);
            assert!(e <= 1e-12, "{den} {sched} {s:?}: {a} vs {b}");
        }
    }
    println!("f64: max error {worst:e}");
}

#[test]
fn samplers_match_numpy_f32() {
    let g = golden();
    let mut worst = 0.0f64;
    for (den, sched, s, _, want) in &g.cases {
        let (x, _) = run::<f32>(&g, den, sched, *s);
        for (a, b) in x.iter().zip(want) {
            let e = (f64::from(*a) - b).abs() / b.abs().max(1.0);
            worst = worst.max(e);
            assert!(e <= 1e-5, "{den} {sched} {s:?}: {a} vs {b}");
        }
    }
    println!("f32: max error {worst:e}");
}

#[test]
fn deterministic_ddim_is_euler() {
    let g = golden();
    for sched in ["ays10", "karras7", "partial"] {
        let (a, _) = run::<f64>(&g, "mix", sched, Sampler::Euler);
        let (b, _) = run::<f64>(&g, "mix", sched, Sampler::Ddim { eta: 0.0 });
        for (u, v) in a.iter().zip(&b) {
            assert!((u - v).abs() < 1e-12);
        }
    }
}

/// Spec §10.6: on N(0, c²) the PF-ODE solution is x(σ) = x(σ₀)·sqrt((c² + σ²)/(c² + σ₀²));
/// higher-order solvers must be closer to it, and everything converges with more steps.
#[test]
fn gaussian_pf_ode_convergence() {
    let c2 = 0.25;
    let exact = |x0: f64, s0: f64| x0 * (c2 / (c2 + s0 * s0)).sqrt();
    let mut errs = vec![];
    for steps in [10, 40] {
        let mut sig = vec![0f64; steps + 1];
        ays::karras(steps, 0.002, 80.0, 7.0, &mut sig).unwrap();
        let mut row = vec![];
        for s in [Sampler::Euler, Sampler::Heun, Sampler::DpmPp2m] {
            let mut x = [80.0f64];
            let mut scratch = [0f64; 3];
            let mut d = GaussianDenoiser { variance: c2 };
            ays::sample(s, &mut x, &sig, &mut d, &mut NoNoise, &mut scratch).unwrap();
            row.push((x[0] - exact(80.0, 80.0)).abs());
        }
        errs.push(row);
    }
    println!("|error| 10 steps {:?}, 40 steps {:?}", errs[0], errs[1]);
    for (fine, coarse) in errs[1].iter().zip(&errs[0]) {
        assert!(fine < coarse);
    }
    assert!(errs[0][1] < errs[0][0] && errs[0][2] < errs[0][0]);
}

#[test]
fn sigma_zero_and_bad_input() {
    let mut d = GaussianDenoiser { variance: 1.0 };
    let mut x = [1.0f32, -2.0];
    let mut scratch = [0f32; 6];
    // A 1-step schedule straight to 0: x = D exactly, for every sampler, no NaN.
    for s in [
        Sampler::Euler,
        Sampler::Heun,
        Sampler::DpmPp2m,
        Sampler::DpmPp2mSde {
            eta: 1.0,
            s_noise: 1.0,
            heun: false,
        },
        Sampler::Ddim { eta: 1.0 },
        Sampler::EulerAncestral {
            eta: 1.0,
            s_noise: 1.0,
        },
    ] {
        let mut y = x;
        ays::sample(
            s,
            &mut y,
            &[1.0f32, 0.0],
            &mut d,
            &mut NoNoise,
            &mut scratch,
        )
        .unwrap();
        assert_eq!(y, [0.5, -1.0], "{s:?}");
    }
    assert!(matches!(
        ays::sample(
            Sampler::Heun,
            &mut x,
            &[1.0f32, 0.0],
            &mut d,
            &mut NoNoise,
            &mut scratch[..5]
        ),
        Err(Error::Capacity { needed: 6, .. })
    ));
    assert!(ays::sample(
        Sampler::Euler,
        &mut x,
        &[1.0f32, 2.0, 0.0],
        &mut d,
        &mut NoNoise,
        &mut scratch
    )
    .is_err());
    assert!(ays::sample(
        Sampler::Ddim { eta: 1.5 },
        &mut x,
        &[1.0f32, 0.0],
        &mut d,
        &mut NoNoise,
        &mut scratch
    )
    .is_err());
    // A stochastic step without a noise source is an error, not a silent deterministic run.
    assert!(ays::sample(
        Sampler::Ddim { eta: 1.0 },
        &mut x,
        &[2.0f32, 1.0, 0.0],
        &mut d,
        &mut NoNoise,
        &mut scratch
    )
    .is_err());
    // A denoiser producing NaN is reported.
    struct Bad;
    impl Denoiser<f32> for Bad {
        fn denoise(&mut self, _: &[f32], _: f64, out: &mut [f32]) -> Result<()> {
            out.fill(f32::NAN);
            Ok(())
        }
    }
    assert!(matches!(
        ays::sample(
            Sampler::Euler,
            &mut x,
            &[1.0f32, 0.0],
            &mut Bad,
            &mut NoNoise,
            &mut scratch
        ),
        Err(Error::NonFinite { .. })
    ));
}

/// An ε-prediction model that is exact for N(0, c²) data under the VP scaling: the wrapper
/// must turn it back into the exact x0 denoiser.
#[test]
fn eps_wrapper_recovers_x0_denoiser() {
    struct ExactEps<'a> {
        table: &'a SdSigmas,
        c2: f64,
    }
    impl EpsModel<f64> for ExactEps<'_> {
        fn eps(&mut self, x_in: &[f64], t: f64, out: &mut [f64]) -> Result<()> {
            let s = self.table.t_to_sigma(t)?;
            let c_in = 1.0 / (s * s + 1.0).sqrt();
            for (o, &xi) in out.iter_mut().zip(x_in) {
                let x = xi / c_in;
                *o = (x - self.c2 / (self.c2 + s * s) * x) / s;
            }
            Ok(())
        }
    }
    let table = SdSigmas::new();
    let mut scratch = [0f64; 2];
    let mut w = EpsDenoiser::new(
        ExactEps {
            table: &table,
            c2: 0.5,
        },
        &table,
        &mut scratch,
    );
    for sigma in [14.6146412293, 3.0, 0.9642583904, 0.1] {
        let x = [1.5, -0.25];
        let mut out = [0f64; 2];
        w.denoise(&x, sigma, &mut out).unwrap();
        for (o, xv) in out.iter().zip(x) {
            let want = 0.5 / (0.5 + sigma * sigma) * xv;
            assert!((o - want).abs() < 1e-9, "σ={sigma}: {o} vs {want}");
        }
    }
}
