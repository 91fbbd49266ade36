//! Property tests of the core kernels (proptest): softmax normalisation, top-k tie rules,
//! RoPE norm preservation, RMSNorm scale invariance, matvec (F32 / F16 / Q8_0 / Q8_0×Q8_0)
//! against an f64 reference, Q8_0 round-trip bound, and no panics on arbitrary shapes.

use picoformer::ops::*;
use picoformer::quant::*;
use proptest::prelude::*;

fn cfg() -> ProptestConfig {
    ProptestConfig {
        cases: 128,
        ..ProptestConfig::default()
    }
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn f16_bytes(v: &[f32]) -> Vec<u8> {
    v.iter()
        .flat_map(|x| half::f16::from_f32(*x).to_bits().to_le_bytes())
        .collect()
}

/// Reference order: score descending, index ascending.
fn ref_order(s: &[f32]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..s.len()).collect();
    idx.sort_by(|&a, &b| s[b].partial_cmp(&s[a]).unwrap().then(a.cmp(&b)));
    idx
}

/// Builds a `rows × cols` matrix of `dtype` from `w`; returns the bytes and the exactly
/// stored values (as f64).
fn store(dtype: DType, rows: usize, cols: usize, w: &[f32]) -> (Vec<u8>, Vec<f64>) {
    let bytes = match dtype {
        DType::F32 => f32_bytes(w),
        DType::F16 => f16_bytes(w),
        DType::Q8_0 => {
            let mut q = vec![0u8; rows * q8_0_row_bytes(cols)];
            quantize_row_q8_0(w, &mut q).unwrap();
            q
        }
    };
    let m = Matrix::new(dtype, rows, cols, &bytes).unwrap();
    let mut exact = vec![0.0f32; rows * cols];
    for (r, row) in exact.chunks_exact_mut(cols).enumerate() {
        m.dequant_row(r, row).unwrap();
    }
    (bytes, exact.iter().map(|&v| v as f64).collect())
}

fn dtype_strategy() -> impl Strategy<Value = DType> {
    prop_oneof![Just(DType::F32), Just(DType::F16), Just(DType::Q8_0)]
}

proptest! {
    #![proptest_config(cfg())]

    #[test]
    fn softmax_sums_to_one(mut x in prop::collection::vec(-60.0f32..60.0, 1..300), shift in -100.0f32..100.0) {
        let mut shifted: Vec<f32> = x.iter().map(|v| v + shift).collect();
        softmax(&mut x).unwrap();
        let sum: f64 = x.iter().map(|&v| v as f64).sum();
        let tol = if cfg!(feature = "fast-math") { 5e-3 } else { 1e-5 };
        prop_assert!((sum - 1.0).abs() < tol, "sum {sum}");
        prop_assert!(x.iter().all(|&v| (0.0..=1.0).contains(&v)));
        softmax(&mut shifted).unwrap();
        for (a, b) in x.iter().zip(&shifted) {
            prop_assert!((a - b).abs() <= 1e-4 + 1e-3 * a.abs(), "shift invariance {a} {b}");
        }
    }

    #[test]
    fn topk_follows_tie_rules(raw in prop::collection::vec(-4i8..4, 1..200), kfrac in 0.0f64..1.0) {
        // few distinct values -> many ties; include ±0 and infinities
        let s: Vec<f32> = raw.iter().map(|&v| match v {
            -4 => f32::NEG_INFINITY,
            3 => f32::INFINITY,
            0 => -0.0,
            v => v as f32 * 0.5,
        }).collect();
        let k = ((s.len() as f64) * kfrac) as usize;
        let mut got = vec![0usize; k];
        topk_into(&s, &mut got).unwrap();
        let want = ref_order(&s);
        prop_assert_eq!(&got[..], &want[..k]);
        prop_assert_eq!(argmax(&s).unwrap(), want[0]);
        let bounded = topk::<200>(&s, k).unwrap();
        prop_assert_eq!(bounded.as_slice(), &got[..]);
    }

    #[test]
    fn rope_preserves_pair_norms(
        heads in 1usize..4, half_dim in 1usize..40, pos in 0usize..5000,
        theta in prop_oneof![Just(10000.0f32), Just(500000.0f32), 2.0f32..1e6],
        neox in any::<bool>(), seed in any::<u64>(),
    ) {
        let hd = 2 * half_dim;
        let style = if neox { RopeStyle::Neox } else { RopeStyle::Norm };
        let mut rng = seed;
        let x: Vec<f32> = (0..heads * hd).map(|_| {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((rng >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0
        }).collect();
        let mut y = x.clone();
        rope_direct(&mut y, hd, pos, theta, style).unwrap();
        let pairs = |v: &[f32]| -> Vec<f64> {
            v.chunks_exact(hd).flat_map(|h| (0..half_dim).map(move |j| {
                let (a, b) = if neox { (h[j], h[j + half_dim]) } else { (h[2 * j], h[2 * j + 1]) };
                ((a as f64).powi(2) + (b as f64).powi(2)).sqrt()
            })).collect()
        };
        let tol = if cfg!(feature = "fast-math") { 4e-3 } else { 1e-5 };
        for (a, b) in pairs(&x).iter().zip(pairs(&y)) {
            prop_assert!((a - b).abs() <= tol * (1.0 + a), "pair norm {a} -> {b}");
        }
        if pos == 0 {
            prop_assert_eq!(&x, &y);
        }
        // one precomputed row (what a session computes once per token) gives the same bits
        let mut row = vec![0.0f32; hd];
        rope_row_fill(&mut row, hd, pos, theta).unwrap();
        let mut z = x.clone();
        rope_row(&mut z, &row, style).unwrap();
        prop_assert_eq!(
            y.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            z.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn rmsnorm_is_scale_invariant(x in prop::collection::vec(-10.0f32..10.0, 1..300), c in prop_oneof![1e-3f32..1.0, 1.0f32..1e3]) {
        prop_assume!(x.iter().any(|&v| v.abs() > 1e-3));
        let w: Vec<f32> = (0..x.len()).map(|i| 0.5 + (i % 7) as f32 * 0.25).collect();
        let xc: Vec<f32> = x.iter().map(|v| v * c).collect();
        let (mut a, mut b) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        rmsnorm(&mut a, &x, &w, 0.0).unwrap();
        rmsnorm(&mut b, &xc, &w, 0.0).unwrap();
        for (p, q) in a.iter().zip(&b) {
            prop_assert!((p - q).abs() <= 1e-5 * (1.0 + p.abs()), "{p} vs {q}");
        }
        // mean of squares of the normalised (w = 1) vector is 1
        let ones = vec![1.0; x.len()];
        rmsnorm(&mut a, &x, &ones, 0.0).unwrap();
        let ms: f64 = a.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len() as f64;
        prop_assert!((ms - 1.0).abs() < 1e-5, "mean square {ms}");
    }

    #[test]
    fn matvec_matches_f64_reference(dtype in dtype_strategy(), rows in 1usize..24, blocks in 1usize..10, extra in 0usize..31, seed in any::<u64>()) {
        let cols = if dtype == DType::Q8_0 { 32 * blocks } else { 32 * (blocks - 1) + extra + 1 };
        let mut rng = seed;
        let mut next = || {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((rng >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        };
        let w: Vec<f32> = (0..rows * cols).map(|_| next()).collect();
        let x: Vec<f32> = (0..cols).map(|_| next() * 3.0).collect();
        let (bytes, exact) = store(dtype, rows, cols, &w);
        let m = Matrix::new(dtype, rows, cols, &bytes).unwrap();
        let mut out = vec![0.0; rows];
        matvec(&mut out, &m, &x).unwrap();
        for r in 0..rows {
            let row = &exact[r * cols..(r + 1) * cols];
            let want: f64 = row.iter().zip(&x).map(|(&a, &b)| a * b as f64).sum();
            let scale: f64 = row.iter().zip(&x).map(|(&a, &b)| (a * b as f64).abs()).sum();
            prop_assert!((out[r] as f64 - want).abs() <= 1e-6 * scale + 1e-30, "{dtype:?} row {r}: {} vs {want}", out[r]);
        }
        if dtype == DType::Q8_0 {
            // Q8_0 × Q8_0: compare with the f64 product of the two dequantised operands
            let mut scratch = vec![0u8; matvec_q8_scratch_len(cols)];
            matvec_q8(&mut out, &m, &x, &mut scratch).unwrap();
            let mut xd = vec![0.0; cols];
            dequantize_row_q8_0(&scratch, &mut xd).unwrap();
            for r in 0..rows {
                let row = &exact[r * cols..(r + 1) * cols];
                let want: f64 = row.iter().zip(&xd).map(|(&a, &b)| a * b as f64).sum();
                let scale: f64 = row.iter().zip(&xd).map(|(&a, &b)| (a * b as f64).abs()).sum();
                prop_assert!((out[r] as f64 - want).abs() <= 1e-6 * scale + 1e-30, "q8q8 row {r}: {} vs {want}", out[r]);
            }
        }
    }

    #[test]
    fn q8_0_round_trip_error_is_half_a_step(x in prop::collection::vec(-1e4f32..1e4, 32..=32), tiny in any::<bool>()) {
        let x: Vec<f32> = if tiny { x.iter().map(|v| v * 1e-6).collect() } else { x };
        let mut q = [0u8; 34];
        quantize_row_q8_0(&x, &mut q).unwrap();
        let mut y = [0.0f32; 32];
        dequantize_row_q8_0(&q, &mut y).unwrap();
        let amax = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let d = half::f16::from_le_bytes([q[0], q[1]]).to_f32();
        // stored scale within f16 rounding of amax/127 (or a subnormal f16)
        prop_assert!((d - amax / 127.0).abs() <= 1e-3 * amax / 127.0 + 6e-8);
        // |x − d16·q| ≤ |x − d32·q| + |d32 − d16|·|q| ≤ d32/2 + 127·|d32 − d16| (+ f32 rounding)
        let d32 = amax / 127.0;
        let bound = 0.5 * d32 + 127.0 * (d - d32).abs() + 1e-6 * amax + 1e-38;
        for (a, b) in x.iter().zip(&y) {
            prop_assert!((a - b).abs() <= bound, "{a} -> {b} (d = {d})");
        }
    }

    #[test]
    fn matrix_new_never_panics(t in 0u32..10, rows in 0usize..1 << 20, cols in 0usize..1 << 20, len in 0usize..4096, huge in any::<bool>()) {
        let Ok(dtype) = DType::from_ggml_type(t) else { return Ok(()); };
        let rows = if huge { usize::MAX / 3 } else { rows };
        let bytes = vec![0u8; len];
        if let Ok(m) = Matrix::new(dtype, rows, cols, &bytes) {
            prop_assert_eq!(m.rows() * m.row_stride(), len);
            let x = vec![1.0; cols];
            let mut out = vec![0.0; rows];
            matvec(&mut out, &m, &x).unwrap();
            prop_assert!(out.iter().all(|&v| v == 0.0));
        }
    }
}
