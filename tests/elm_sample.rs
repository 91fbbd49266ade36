//! Sampling: PCG32 known answers, greedy tie rule, temperature / top-p distributions, errors.

use picoformer::sample::{self, Rng, Sampler};
use picoformer::Error;

#[test]
fn pcg32_known_answer() {
    // Independent Python implementation of pcg32_srandom_r(seed=42, inc=1442695040888963407)
    // + pcg32_random_r (see the comment on `Rng`):
    // state=step(0); state+=42; state=step(state); then XSH-RR outputs.
    let mut r = Rng::new(42);
    let got: Vec<u32> = (0..5).map(|_| r.next_u32()).collect();
    assert_eq!(
        got,
        [3270867926, 1795671209, 1924641435, 1143034755, 4121910957]
    );
    let mut r = Rng::new(7);
    for _ in 0..10_000 {
        let u = r.next_f32();
        assert!((0.0..1.0).contains(&u));
    }
}

#[test]
fn greedy_ties_lowest_index() {
    assert_eq!(sample::greedy(&[1.0, 3.0, 3.0, -2.0]).unwrap(), 1);
    assert_eq!(sample::greedy(&[f32::NEG_INFINITY; 3]).unwrap(), 0);
    assert!(matches!(
        sample::greedy(&[1.0, f32::NAN]),
        Err(Error::NonFinite { .. })
    ));
    assert!(sample::greedy(&[]).is_err());
}

/// The two-pass greedy equals the plain first-strict-maximum scan on every length 1..=40 and
/// values drawn from a small set (many ties, ±0, ±inf) with the maximum at every position;
/// any NaN anywhere is an error.
#[test]
fn greedy_equals_the_reference_scan() {
    let reference = |x: &[f32]| {
        let mut best = 0;
        for (i, &v) in x.iter().enumerate() {
            if v > x[best] {
                best = i;
            }
        }
        best as u32
    };
    let pool = [
        -1.5f32,
        -0.0,
        0.0,
        0.5,
        2.0,
        2.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
    ];
    let mut rng = Rng::new(7);
    for len in 1..=40usize {
        for _ in 0..200 {
            let mut x: Vec<f32> = (0..len)
                .map(|_| pool[rng.next_u32() as usize % pool.len()])
                .collect();
            assert_eq!(sample::greedy(&x).unwrap(), reference(&x), "{x:?}");
            let at = rng.next_u32() as usize % len;
            x[at] = f32::NAN;
            assert!(matches!(sample::greedy(&x), Err(Error::NonFinite { .. })));
        }
    }
}

fn histogram(n: usize, draws: usize, mut f: impl FnMut() -> u32) -> Vec<f64> {
    let mut h = vec![0usize; n];
    for _ in 0..draws {
        h[f() as usize] += 1;
    }
    h.into_iter().map(|c| c as f64 / draws as f64).collect()
}

#[test]
fn temperature_matches_softmax() {
    let logits = [0.0f32, 1.0, 2.0, -1.0];
    let t = 0.7f32;
    let z: f64 = logits.iter().map(|&x| ((x / t) as f64).exp()).sum();
    let want: Vec<f64> = logits.iter().map(|&x| ((x / t) as f64).exp() / z).collect();
    let mut rng = Rng::new(1);
    let got = histogram(4, 200_000, || {
        let mut l = logits;
        sample::temperature(&mut l, t, &mut rng).unwrap()
    });
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 0.005, "{got:?} vs {want:?}");
    }
}

#[test]
fn top_p_keeps_nucleus_only() {
    // probs ≈ [0.6439, 0.2369, 0.0871, 0.0321]; p = 0.85 keeps tokens {0, 1} (mass 0.881)
    let logits = [3.0f32, 2.0, 1.0, 0.0];
    let z: f64 = logits.iter().map(|&x| (x as f64).exp()).sum();
    let p0 = (3.0f64).exp() / z;
    let p1 = (2.0f64).exp() / z;
    let mut rng = Rng::new(3);
    let mut idx = [0u32; 4];
    let mut pr = [0f32; 4];
    let got = histogram(4, 100_000, || {
        let mut l = logits;
        sample::top_p(&mut l, 1.0, 0.85, &mut rng, &mut idx, &mut pr).unwrap()
    });
    assert_eq!(got[2] + got[3], 0.0, "{got:?}");
    assert!((got[0] - p0 / (p0 + p1)).abs() < 0.01, "{got:?}");
    // tiny p: always the argmax, lowest index on ties
    let mut l = [1.0f32, 5.0, 5.0, 0.0];
    for _ in 0..100 {
        let mut l2 = l;
        assert_eq!(
            sample::top_p(&mut l2, 1.0, 1e-6, &mut rng, &mut idx, &mut pr).unwrap(),
            1
        );
    }
    // short scratch → capacity error
    let mut small = [0u32; 2];
    assert!(matches!(
        sample::top_p(&mut l, 1.0, 0.9, &mut rng, &mut small, &mut pr),
        Err(Error::Capacity { .. })
    ));
    assert!(sample::top_p(&mut l, 1.0, 1.5, &mut rng, &mut idx, &mut pr).is_err());
    assert!(sample::top_p(&mut l, 0.0, 0.5, &mut rng, &mut idx, &mut pr).is_err());
}

#[test]
fn sampler_policies_are_deterministic() {
    let logits: Vec<f32> = (0..50).map(|i| ((i * 37 % 11) as f32) * 0.3).collect();
    let run = |seed| {
        let mut s = Sampler::new(0.9, 0.8, Rng::new(seed)).unwrap();
        let mut idx = vec![0u32; sample::scratch_len(50)];
        let mut pr = vec![0f32; sample::scratch_len(50)];
        (0..20)
            .map(|_| s.sample(&mut logits.clone(), &mut idx, &mut pr).unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6));
    let mut g = Sampler::greedy();
    assert_eq!(
        g.sample(&mut logits.clone(), &mut [], &mut []).unwrap(),
        sample::greedy(&logits).unwrap()
    );
    assert!(Sampler::new(-1.0, 1.0, Rng::new(0)).is_err());
}
