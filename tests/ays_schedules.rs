//! AYS schedules vs the NumPy reference `tests/golden/ays/make_schedules.py` (ComfyUI / A1111 /
//! k-diffusion formulas re-typed in float64) and the values printed in spec §2, §5, §6.
//!
//! Tolerances: f32 outputs within 1 ulp of NumPy's (float64 → float32) values; f64 outputs
//! within 1e-12 relative; SD σ(t) within 1e-9 absolute of the published 10-digit sigmas.

use picoformer::ays::{self, AysOptions, Convention, Model, SdSigmas};
use picoformer::Error;

const GOLDEN: &str = include_str!("golden/ays/schedules.txt");

fn model(name: &str) -> Model {
    match name {
        "sd15" => Model::Sd15,
        "sdxl" => Model::Sdxl,
        "svd" => Model::Svd,
        other => panic!("unknown model {other}"),
    }
}

fn floats(s: &str) -> Vec<f64> {
    s.split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap())
        .collect()
}

fn ulps(a: f32, b: f32) -> u32 {
    (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as u32
}

fn rel(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / b.abs().max(1e-300)
    }
}

#[test]
fn interpolation_matches_numpy() {
    let mut n_cases = 0;
    let mut max_ulps = 0;
    let mut max_rel = 0.0f64;
    for line in GOLDEN.lines().filter(|l| l.starts_with("case ")) {
        let parts: Vec<&str> = line.split(" ; ").collect();
        let head: Vec<&str> = parts[0].split_whitespace().collect();
        let convention = match head[1] {
            "comfy" => Convention::Comfy,
            _ => Convention::A1111,
        };
        let m = model(head[2]);
        let steps: usize = head[3].parse().unwrap();
        let denoise: f64 = head[4].parse().unwrap();
        let want64 = floats(parts[1]);
        let want32: Vec<f32> = parts[2]
            .split_whitespace()
            .skip(1)
            .map(|b| f32::from_bits(b.parse().unwrap()))
            .collect();
        let opts = AysOptions {
            denoise,
            convention,
        };
        let mut out = vec![f32::NAN; steps + 1];
        let n = ays::ays(m, steps, opts, &mut out).unwrap();
        assert_eq!(n, want32.len(), "{line}");
        for (g, w) in out[..n].iter().zip(&want32) {
            let u = ulps(*g, *w);
            max_ulps = max_ulps.max(u);
            assert!(u <= 1, "{line}: got {g}, want {w}");
        }
        let mut out64 = vec![f64::NAN; steps + 1];
        let n = ays::ays_f64(m, steps, opts, &mut out64).unwrap();
        assert_eq!(n, want64.len());
        for (g, w) in out64[..n].iter().zip(&want64) {
            max_rel = max_rel.max(rel(*g, *w));
            assert!(rel(*g, *w) <= 1e-12, "{line}: got {g}, want {w}");
        }
        // Invariants: strictly decreasing, ends with 0.
        if n > 0 {
            assert_eq!(out[n - 1], 0.0);
            assert!(out[..n].windows(2).all(|w| w[0] > w[1]), "{line}");
        }
        n_cases += 1;
    }
    assert!(n_cases > 200);
    println!("{n_cases} cases, max {max_ulps} ulp (f32), max rel {max_rel:e} (f64)");
}

#[test]
fn precomputed_tables_equal_runtime_interpolation() {
    for m in [Model::Sd15, Model::Sdxl, Model::Svd] {
        for &steps in ays::PRECOMPUTED_STEPS.iter() {
            let table = ays::precomputed(m, steps).unwrap();
            let mut f = vec![0.0f64; steps + 1];
            ays::ays_f64(m, steps, AysOptions::default(), &mut f).unwrap();
            assert_eq!(table.len(), steps + 1);
            for (t, v) in table.iter().zip(&f) {
                assert!(ulps(*t, *v as f32) <= 1, "{m:?} {steps}: {t} vs {v}");
            }
        }
        assert!(ays::precomputed(m, 7).is_none());
    }
}

/// Spec §5: ComfyUI 10- and 20-step outputs (float32, 9 significant digits).
#[test]
fn spec_reference_outputs() {
    let cases: [(Model, usize, &[f64]); 4] = [
        (
            Model::Sd15,
            10,
            &[
                14.6146412,
                6.474576,
                3.86367464,
                2.69461513,
                1.88419211,
                1.39438045,
                0.964258373,
                0.652368605,
                0.397745639,
                0.151523262,
                0.0,
            ],
        ),
        (
            Model::Sd15,
            20,
            &[
                14.6146412,
                9.72746658,
                6.474576,
                5.00156546,
                3.86367464,
                3.22662616,
                2.69461513,
                2.25325823,
                1.88419211,
                1.62088883,
                1.39438045,
                1.15954435,
                0.964258373,
                0.793127894,
                0.652368605,
                0.509388626,
                0.397745639,
                0.245494843,
                0.151523262,
                0.0664793402,
                0.0,
            ],
        ),
        (
            Model::Sdxl,
            10,
            &[
                14.6146412,
                6.31844854,
                3.76817894,
                2.18114805,
                1.34052444,
                0.86207211,
                0.555069327,
                0.379854083,
                0.233236417,
                0.111418821,
                0.0,
            ],
        ),
        (
            Model::Sdxl,
            20,
            &[
                14.6146412,
                9.60946751,
                6.31844854,
                4.87945127,
                3.76817894,
                2.86687231,
                2.18114805,
                1.70993638,
                1.34052444,
                1.07500172,
                0.86207211,
                0.69174403,
                0.555069327,
                0.459178984,
                0.379854083,
                0.297650456,
                0.233236417,
                0.161204606,
                0.111418821,
                0.0570067577,
                0.0,
            ],
        ),
    ];
    for (m, steps, want) in cases {
        let mut out = [0f32; 21];
        // Both the precomputed path (ays) and the computed one (ays_f64 cast) must agree.
        let n = ays::ays(m, steps, AysOptions::default(), &mut out).unwrap();
        let mut out64 = [0f64; 21];
        ays::ays_f64(m, steps, AysOptions::default(), &mut out64).unwrap();
        assert_eq!(n, want.len());
        for i in 0..n {
            let w = want[i] as f32;
            assert!(
                ulps(out[i], w) <= 1,
                "{m:?} {steps} [{i}]: {} vs {w}",
                out[i]
            );
            assert!(ulps(out64[i] as f32, w) <= 1);
        }
    }
    // 10 steps = the published table verbatim, last value 0, f32 bit-exact.
    for m in [Model::Sd15, Model::Sdxl, Model::Svd] {
        let mut out = [0f32; 11];
        ays::ays(m, 10, AysOptions::default(), &mut out).unwrap();
        for (o, t) in out.iter().zip(m.sigmas()).take(10) {
            assert_eq!(*o, *t as f32);
        }
        assert_eq!(out[10], 0.0);
    }
}

#[test]
fn denoise_uses_half_to_even() {
    // steps 5, denoise 0.5 → round(2.5) = 2 steps (Python); 15 × 0.5 = 7.5 → 8.
    let mut out = [0f32; 16];
    let n = ays::ays(
        Model::Sd15,
        5,
        AysOptions {
            denoise: 0.5,
            ..Default::default()
        },
        &mut out,
    )
    .unwrap();
    assert_eq!(n, 3);
    let n = ays::ays(
        Model::Sd15,
        15,
        AysOptions {
            denoise: 0.5,
            ..Default::default()
        },
        &mut out,
    )
    .unwrap();
    assert_eq!(n, 9);
    let n = ays::ays(
        Model::Sd15,
        15,
        AysOptions {
            denoise: 0.0,
            ..Default::default()
        },
        &mut out,
    )
    .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn bad_input_is_an_error() {
    let mut out = [0f32; 11];
    let d = AysOptions::default();
    assert!(matches!(
        ays::ays(Model::Sd15, 0, d, &mut out),
        Err(Error::InvalidParam { .. })
    ));
    for denoise in [-0.1, 1.5, f64::NAN] {
        let o = AysOptions { denoise, ..d };
        assert!(matches!(
            ays::ays(Model::Sd15, 10, o, &mut out),
            Err(Error::InvalidParam { .. })
        ));
    }
    let o = AysOptions {
        denoise: 0.5,
        convention: Convention::A1111,
    };
    assert!(ays::ays(Model::Sd15, 10, o, &mut out).is_err());
    assert!(matches!(
        ays::ays(Model::Sd15, 11, d, &mut out),
        Err(Error::Capacity {
            needed: 12,
            available: 11,
            ..
        })
    ));
    assert!(matches!(
        ays::ays(Model::Sd15, 10, d, &mut out[..10]),
        Err(Error::Capacity { needed: 11, .. })
    ));
    assert!(ays::ays(Model::Sd15, ays::MAX_STEPS + 1, d, &mut out).is_err());
    let mut b = [0f64; 4];
    assert!(ays::karras(3, 1.0, 0.5, 7.0, &mut b).is_err());
    assert!(ays::karras(3, 0.1, 1.0, 0.0, &mut b).is_err());
    assert!(ays::karras(0, 0.1, 1.0, 7.0, &mut b).is_err());
    assert!(ays::kl_optimal(1, 0.1, 1.0, &mut b).is_err());
    assert!(matches!(
        ays::exponential(4, 0.1, 1.0, &mut b),
        Err(Error::Capacity { .. })
    ));
    // Custom schedules for the samplers.
    assert!(ays::check_schedule(&[3.0f32, 2.0, 1.0, 0.0]).is_ok());
    assert!(ays::check_schedule(&[3.0f32, 2.0, 2.0, 0.0]).is_err());
    assert!(ays::check_schedule(&[3.0f32, 4.0, 0.0]).is_err());
    assert!(ays::check_schedule(&[3.0f32, 0.0, -1.0]).is_err());
    assert!(ays::check_schedule(&[3.0f32]).is_err());
    assert!(matches!(
        ays::check_schedule(&[f32::NAN, 0.0]),
        Err(Error::NonFinite { .. })
    ));
}

#[test]
fn baselines_match_numpy() {
    let sd = SdSigmas::new();
    let mut max_rel = 0.0f64;
    for line in GOLDEN.lines().filter(|l| l.starts_with("base ")) {
        let parts: Vec<&str> = line.split(" ; ").collect();
        let h: Vec<&str> = parts[0].split_whitespace().collect();
        let n: usize = h[2].parse().unwrap();
        let (smin, smax, rho): (f64, f64, f64) = (
            h[3].parse().unwrap(),
            h[4].parse().unwrap(),
            h[5].parse().unwrap(),
        );
        let want = floats(parts[1]);
        let mut out = vec![0f64; n + 1];
        let len = match h[1] {
            "karras" => ays::karras(n, smin, smax, rho, &mut out),
            "exponential" => ays::exponential(n, smin, smax, &mut out),
            "kl_optimal" => ays::kl_optimal(n, smin, smax, &mut out),
            "time_uniform" => ays::time_uniform(n, &sd, &mut out),
            other => panic!("{other}"),
        }
        .unwrap();
        assert_eq!(len, want.len(), "{line}");
        for (g, w) in out.iter().zip(&want) {
            max_rel = max_rel.max(rel(*g, *w));
            assert!(rel(*g, *w) <= 1e-12, "{line}: {g} vs {w}");
        }
    }
    println!("baselines: max rel {max_rel:e}");
    // Spec §6 printed values (SD1 endpoints, n = 10, 6 significant digits).
    let (smin, smax) = (sd.sigma_min(), sd.sigma_max());
    let mut k = [0f32; 11];
    ays::karras(10, smin, smax, 7.0, &mut k).unwrap();
    let want_k = [
        14.6146, 9.10293, 5.47839, 3.16860, 1.74942, 0.914072, 0.446918, 0.201398, 0.0819102,
        0.0291672, 0.0,
    ];
    let mut e = [0f32; 11];
    ays::exponential(10, smin, smax, &mut e).unwrap();
    let want_e = [
        14.6146, 7.32487, 3.67123, 1.84002, 0.922222, 0.462218, 0.231664, 0.116110, 0.0581946,
        0.0291672, 0.0,
    ];
    let mut kl = [0f32; 11];
    ays::kl_optimal(10, smin, smax, &mut kl).unwrap();
    let want_kl = [
        14.6146412,
        4.23235049,
        2.39371889,
        1.59706618,
        1.13299687,
        0.815244526,
        0.572914229,
        0.372484183,
        0.195288346,
        0.0291671582,
        0.0,
    ];
    for (got, want, tol) in [(k, want_k, 1e-5), (e, want_e, 1e-5), (kl, want_kl, 1e-7)] {
        for (g, w) in got.iter().zip(want.iter()) {
            assert!(rel(*g as f64, *w) <= tol, "{g} vs {w}");
        }
    }
}

#[test]
fn sd_sigma_reproduces_published_tables() {
    let sd = SdSigmas::new();
    assert!((sd.sigma_max() - 14.614641229333639).abs() < 1e-12);
    assert!((sd.sigma_min() - 0.029167158151720367).abs() < 1e-15);
    let mut worst = 0.0f64;
    for m in [Model::Sd15, Model::Sdxl] {
        let ts = m.timesteps().unwrap();
        let sig = m.sigmas();
        // Published σ list i ↔ timestep i; the last σ is σ(0) (timestep list ends in 0).
        for (t, s) in ts.iter().zip(sig.iter()) {
            let d = (sd.sigma(*t as usize).unwrap() - s).abs();
            worst = worst.max(d);
            assert!(
                d < 1e-9,
                "{m:?} t={t}: {} vs {s}",
                sd.sigma(*t as usize).unwrap()
            );
        }
    }
    println!("σ(t) vs published: max abs diff {worst:e}");
    for line in GOLDEN.lines() {
        let p: Vec<&str> = line.split_whitespace().collect();
        let (a, b): (f64, f64) = match p.first() {
            Some(&"sd_sigma") | Some(&"t_to_sigma") | Some(&"sigma_to_t") => {
                (p[1].parse().unwrap(), p[2].parse().unwrap())
            }
            _ => continue,
        };
        let got = match p[0] {
            "sd_sigma" => sd.sigma(a as usize).unwrap(),
            "t_to_sigma" => sd.t_to_sigma(a).unwrap(),
            _ => sd.sigma_to_t(a).unwrap(),
        };
        assert!((got - b).abs() <= 1e-12 * b.abs().max(1.0), "{line}: {got}");
    }
    assert!(sd.sigma_to_t(0.0).is_err());
    assert!(sd.t_to_sigma(1000.0).is_err());
}
