//! Hand-checked values and error behaviour of the core kernels (spec checks from
//! `openelm.md` §8 and ggml layout facts).

use picoformer::ops::*;
use picoformer::quant::*;
use picoformer::Error;

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Error allowance of the `fast-math` feature's sin/cos/exp approximations (tests/math_error.rs).
const FAST: f32 = if cfg!(feature = "fast-math") {
    2.5e-3
} else {
    0.0
};

#[test]
fn rmsnorm_spec_check_6() {
    let mut y = [0.0; 4];
    rmsnorm(&mut y, &[1.0, 2.0, 3.0, 4.0], &[1.0; 4], 1e-6).unwrap();
    let want = [0.36514837, 0.73029673, 1.095445, 1.4605935];
    for (a, b) in y.iter().zip(want) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
    let mut x = [1.0, 2.0, 3.0, 4.0];
    rmsnorm_inplace(&mut x, &[1.0; 4], 1e-6).unwrap();
    assert_eq!(x, y);
}

#[test]
fn rope_spec_check_5() {
    let want = [1.0, 0.7498942, 0.56234133, 0.4216965];
    for (j, w) in want.iter().enumerate() {
        assert!((rope_inv_freq(j, 64, 10000.0) - w).abs() < 1e-7);
    }
    assert!((rope_inv_freq(31, 64, 10000.0) - 1.3335215e-4).abs() < 1e-10);
    // e_0 at position p: out[0] = cos p, out[32] = sin p, out[1] == 0 (not interleaved)
    for p in [1usize, 7, 100] {
        let mut x = [0.0f32; 64];
        x[0] = 1.0;
        rope_direct(&mut x, 64, p, 10000.0, RopeStyle::Neox).unwrap();
        assert!((x[0] - (p as f32).cos()).abs() < 1e-5 + FAST);
        assert!((x[32] - (p as f32).sin()).abs() < 1e-5 + FAST);
        assert_eq!(x[1], 0.0);
        let mut y = [0.0f32; 64];
        y[0] = 1.0;
        rope_direct(&mut y, 64, p, 10000.0, RopeStyle::Norm).unwrap();
        assert!((y[1] - (p as f32).sin()).abs() < 1e-5 + FAST);
        assert_eq!(y[32], 0.0);
    }
}

#[test]
fn rope_table_equals_direct() {
    let (hd, maxp) = (16, 9);
    let mut buf = vec![0.0; rope_table_len(hd, maxp)];
    rope_table_fill(&mut buf, hd, maxp, 500.0).unwrap();
    let t = RopeTable::new(&buf, hd, maxp).unwrap();
    for style in [RopeStyle::Neox, RopeStyle::Norm] {
        for p in 0..maxp {
            let mut a: Vec<f32> = (0..3 * hd).map(|i| (i as f32 * 0.37).sin()).collect();
            let mut b = a.clone();
            rope(&mut a, p, style, &t).unwrap();
            rope_direct(&mut b, hd, p, 500.0, style).unwrap();
            assert_eq!(a, b);
        }
    }
    let mut x = [0.0; 16];
    assert!(matches!(
        rope(&mut x, maxp, RopeStyle::Neox, &t),
        Err(Error::Capacity { .. })
    ));
    let mut x = [0.0; 17];
    assert!(matches!(
        rope(&mut x, 0, RopeStyle::Neox, &t),
        Err(Error::Shape { .. })
    ));
    assert!(rope_direct(&mut x, 0, 0, 1e4, RopeStyle::Neox).is_err());
    assert!(rope_direct(&mut [0.0; 6], 3, 0, 1e4, RopeStyle::Neox).is_err());
    assert!(rope_direct(&mut [0.0; 6], 2, 0, f32::NAN, RopeStyle::Neox).is_err());
}

#[test]
fn matrix_checks_lengths() {
    assert!(matches!(
        Matrix::new(DType::F32, 2, 3, &[0; 23]),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        Matrix::new(DType::Q8_0, 1, 48, &[0; 51]),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        Matrix::new(DType::F16, 1, 0, &[]),
        Err(Error::InvalidParam { .. })
    ));
    assert!(matches!(
        Matrix::new(DType::F32, usize::MAX, 2, &[]),
        Err(Error::InvalidParam { .. })
    ));
    assert!(Matrix::new(DType::F32, 0, 2, &[]).is_ok());
    let bytes = f32_bytes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let m = Matrix::new(DType::F32, 3, 2, &bytes).unwrap();
    let mut out = [0.0; 3];
    assert!(matches!(
        matvec(&mut out, &m, &[1.0]),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        matvec(&mut out[..2], &m, &[1.0, 1.0]),
        Err(Error::Shape { .. })
    ));
    matvec(&mut out, &m, &[1.0, -1.0]).unwrap();
    assert_eq!(out, [-1.0, -1.0, -1.0]);
    let s = m.slice_rows(1, 2).unwrap();
    assert_eq!(s.rows(), 2);
    assert_eq!(s.dot_row(0, &[1.0, 1.0]).unwrap(), 7.0);
    assert!(m.slice_rows(2, 2).is_err());
    assert!(m.slice_rows(usize::MAX, 2).is_err());
    assert!(m.row_bytes(3).is_err());
    let mut row = [0.0; 2];
    m.dequant_row(2, &mut row).unwrap();
    assert_eq!(row, [5.0, 6.0]);
    assert!(m.dequant_row(3, &mut row).is_err());
    // NaN propagates through matvec
    matvec(&mut out, &m, &[f32::NAN, 1.0]).unwrap();
    assert!(out.iter().all(|v| v.is_nan()));
}

#[test]
fn q8_0_roundtrip_and_errors() {
    let x: Vec<f32> = (0..64).map(|i| (i as f32 - 31.5) * 0.1).collect();
    let mut q = vec![0u8; q8_0_row_bytes(64)];
    quantize_row_q8_0(&x, &mut q).unwrap();
    let mut y = vec![0.0; 64];
    dequantize_row_q8_0(&q, &mut y).unwrap();
    for (a, b) in x.iter().zip(&y) {
        assert!((a - b).abs() <= 3.15 / 127.0 * 0.5 + 1e-3);
    }
    assert!(matches!(
        quantize_row_q8_0(&x[..40], &mut q),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        quantize_row_q8_0(&x, &mut q[..67]),
        Err(Error::Shape { .. })
    ));
    let mut bad = x.clone();
    bad[5] = f32::NAN;
    assert!(matches!(
        quantize_row_q8_0(&bad, &mut q),
        Err(Error::NonFinite { .. })
    ));
    bad[5] = f32::INFINITY;
    assert!(matches!(
        quantize_row_q8_0(&bad, &mut q),
        Err(Error::NonFinite { .. })
    ));
    bad[5] = 1e10;
    assert!(matches!(
        quantize_row_q8_0(&bad, &mut q),
        Err(Error::NonFinite { .. })
    ));
    // all-zero block: d = 0, q = 0
    let mut z = vec![0xAAu8; 34];
    quantize_row_q8_0(&[0.0; 32], &mut z).unwrap();
    assert!(z.iter().all(|&b| b == 0));
}

#[test]
fn matvec_q8_scratch_and_type() {
    let x: Vec<f32> = (0..64).map(|i| (i as f32).sin()).collect();
    let mut wq = vec![0u8; 2 * q8_0_row_bytes(64)];
    quantize_row_q8_0(&[x.clone(), x.clone()].concat(), &mut wq).unwrap();
    let w = Matrix::new(DType::Q8_0, 2, 64, &wq).unwrap();
    let mut out = [0.0; 2];
    let mut scratch = [0u8; matvec_q8_scratch_len(64)];
    matvec_q8(&mut out, &w, &x, &mut scratch).unwrap();
    let exact: f32 = x.iter().map(|v| v * v).sum();
    assert!(
        (out[0] - exact).abs() < 0.05 * exact,
        "{} vs {exact}",
        out[0]
    );
    assert!(matches!(
        matvec_q8(&mut out, &w, &x, &mut scratch[..67]),
        Err(Error::Capacity { .. })
    ));
    let mut big = [0u8; 200];
    matvec_q8(&mut out, &w, &x, &mut big).unwrap();
    let f = f32_bytes(&x);
    let wf = Matrix::new(DType::F32, 1, 64, &f).unwrap();
    assert!(matches!(
        matvec_q8(&mut out[..1], &wf, &x, &mut scratch),
        Err(Error::Unsupported { .. })
    ));
    let mut nan = x.clone();
    nan[0] = f32::NAN;
    assert!(matches!(
        matvec_q8(&mut out, &w, &nan, &mut scratch),
        Err(Error::NonFinite { .. })
    ));
}

#[test]
fn softmax_nonfinite() {
    let mut x = [1.0, f32::NEG_INFINITY, 3.0];
    softmax(&mut x).unwrap();
    assert_eq!(x[1], 0.0);
    assert!((x.iter().sum::<f32>() - 1.0).abs() < 1e-6 + FAST);
    for bad in [
        [1.0, f32::NAN, 0.0],
        [1.0, f32::INFINITY, 0.0],
        [f32::NEG_INFINITY; 3],
    ] {
        let mut y = bad;
        assert!(matches!(softmax(&mut y), Err(Error::NonFinite { .. })));
        assert_eq!(
            y.map(f32::to_bits),
            bad.map(f32::to_bits),
            "unchanged on error"
        );
    }
    softmax(&mut []).unwrap();
    // large values don't overflow
    let mut big = [1000.0, 1000.0];
    softmax(&mut big).unwrap();
    assert_eq!(big, [0.5, 0.5]);
}

#[test]
fn rmsnorm_errors() {
    let mut o = [0.0; 3];
    assert!(matches!(
        rmsnorm(&mut o, &[1.0; 3], &[1.0; 2], 1e-6),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        rmsnorm(&mut o[..2], &[1.0; 3], &[1.0; 3], 1e-6),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        rmsnorm(&mut [], &[], &[], 1e-6),
        Err(Error::InvalidParam { .. })
    ));
    assert!(matches!(
        rmsnorm(&mut o, &[1.0; 3], &[1.0; 3], -1.0),
        Err(Error::InvalidParam { .. })
    ));
    assert!(matches!(
        rmsnorm(&mut o, &[1.0, f32::NAN, 0.0], &[1.0; 3], 1e-6),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(
        rmsnorm(&mut o, &[1.0, f32::INFINITY, 0.0], &[1.0; 3], 1e-6),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(
        rmsnorm(&mut o, &[1e30; 3], &[1.0; 3], 1e-6),
        Err(Error::NonFinite { .. })
    ));
    rmsnorm(&mut o, &[0.0; 3], &[1.0; 3], 0.0).unwrap();
    assert_eq!(o, [0.0; 3]);
}

#[test]
fn silu_swiglu() {
    assert_eq!(silu(0.0), 0.0);
    assert!((silu(1.0) - 0.7310586).abs() < 1e-6 + FAST);
    assert!(silu(f32::NAN).is_nan());
    assert_eq!(silu(f32::INFINITY), f32::INFINITY);
    assert!(silu(f32::NEG_INFINITY).is_nan());
    assert_eq!(silu(-200.0), 0.0);
    let mut o = [0.0; 2];
    swiglu(&mut o, &[1.0, 0.0], &[2.0, 5.0]).unwrap();
    assert!((o[0] - 1.4621172).abs() < 1e-6 + 2.0 * FAST && o[1] == 0.0);
    assert!(swiglu(&mut o, &[1.0], &[2.0, 5.0]).is_err());
    let mut g = [1.0, 0.0];
    swiglu_inplace(&mut g, &[2.0, 5.0]).unwrap();
    assert_eq!(g, o);
}

#[test]
fn topk_and_argmax_rules() {
    let s = [1.0, 3.0, 3.0, -0.0, 0.0, f32::INFINITY, f32::NEG_INFINITY];
    assert_eq!(topk::<8>(&s, 7).unwrap().as_slice(), &[5, 1, 2, 0, 3, 4, 6]);
    assert_eq!(topk::<8>(&s, 0).unwrap().len(), 0);
    assert!(matches!(topk::<2>(&s, 3), Err(Error::Capacity { .. })));
    assert!(matches!(topk::<9>(&s, 8), Err(Error::Shape { .. })));
    assert!(matches!(
        topk::<2>(&[0.0, f32::NAN], 1),
        Err(Error::NonFinite { .. })
    ));
    assert_eq!(argmax(&s).unwrap(), 5);
    assert_eq!(argmax(&[2.0, 7.0, 7.0]).unwrap(), 1);
    assert!(matches!(argmax(&[]), Err(Error::Shape { .. })));
    assert!(matches!(argmax(&[f32::NAN]), Err(Error::NonFinite { .. })));
    assert!(matches!(
        argmax(&[1.0, f32::NAN]),
        Err(Error::NonFinite { .. })
    ));
}

#[test]
fn dtype_ids() {
    for d in [DType::F32, DType::F16, DType::Q8_0] {
        assert_eq!(DType::from_ggml_type(d.ggml_type()), Ok(d));
    }
    assert!(matches!(
        DType::from_ggml_type(2),
        Err(Error::Unsupported { value: 2, .. })
    ));
    assert_eq!(DType::Q8_0.bytes_for(usize::MAX - 31), None);
}

#[test]
fn dot_axpy() {
    let a: Vec<f32> = (0..19).map(|i| i as f32).collect();
    assert_eq!(
        dot(&a, &a).unwrap(),
        (0..19).map(|i| (i * i) as f32).sum::<f32>()
    );
    assert!(dot(&a, &a[1..]).is_err());
    let mut y = [1.0, 1.0];
    axpy(&mut y, 2.0, &[1.0, 2.0]).unwrap();
    assert_eq!(y, [3.0, 5.0]);
    assert!(axpy(&mut y, 2.0, &[1.0]).is_err());
}

/// Weights at any byte offset (GGUF data in flash need not be aligned) give bit-identical
/// results, for every dtype and the dispatched (possibly SIMD) kernels.
#[test]
fn unaligned_weights_match_aligned() {
    let (rows, cols) = (5, 96);
    let w: Vec<f32> = (0..rows * cols)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.01)
        .collect();
    let x: Vec<f32> = (0..cols).map(|i| (i as f32 * 0.3).sin()).collect();
    for dtype in [DType::F32, DType::F16, DType::Q8_0] {
        let bytes: Vec<u8> = match dtype {
            DType::F32 => f32_bytes(&w),
            DType::F16 => w
                .iter()
                .flat_map(|v| half::f16::from_f32(*v).to_bits().to_le_bytes())
                .collect(),
            DType::Q8_0 => {
                let mut q = vec![0u8; rows * q8_0_row_bytes(cols)];
                quantize_row_q8_0(&w, &mut q).unwrap();
                q
            }
        };
        let base = Matrix::new(dtype, rows, cols, &bytes).unwrap();
        let mut want = vec![0.0; rows];
        matvec(&mut want, &base, &x).unwrap();
        for off in 1..8 {
            let mut shifted = vec![0u8; off];
            shifted.extend_from_slice(&bytes);
            let m = Matrix::new(dtype, rows, cols, &shifted[off..]).unwrap();
            let mut got = vec![0.0; rows];
            matvec(&mut got, &m, &x).unwrap();
            assert_eq!(
                got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "{dtype:?} offset {off}"
            );
        }
    }
}

#[test]
fn rope_row_rejects_bad_shapes() {
    use picoformer::ops::{rope_row, rope_row_fill, RopeStyle};
    let mut row = [0.0f32; 4];
    assert!(rope_row_fill(&mut row, 3, 0, 1e4).is_err()); // odd head_dim
    assert!(rope_row_fill(&mut row, 6, 0, 1e4).is_err()); // row length != head_dim
    assert!(rope_row_fill(&mut row, 4, 0, f32::NAN).is_err());
    assert!(rope_row_fill(&mut row, 4, 0, 0.0).is_err());
    rope_row_fill(&mut row, 4, 7, 1e4).unwrap();
    assert!(rope_row(&mut [0.0; 6], &row, RopeStyle::Neox).is_err()); // not whole heads
    assert!(rope_row(&mut [0.0; 3], &row[..3], RopeStyle::Norm).is_err()); // odd row
    assert!(rope_row(&mut [0.0; 0], &[], RopeStyle::Norm).is_err()); // empty row
    rope_row(&mut [0.0; 8], &row, RopeStyle::Norm).unwrap();
}
