//! Instruction-count regions for aarch64 (`bash scripts/icount.sh a53`): each 288 × 288 matvec
//! once through the portable scalar row kernels (`picoformer::quant::testing::*_scalar`, one
//! call per row, exactly what the scalar backend's matvec does) and once through the
//! dispatched kernels (`picoformer::ops`, NEON on aarch64), between the markers
//! `icount_start` / `icount_end`. Prints `region <name> macs=<n>` before each region; the
//! script counts the executed instructions between the markers in QEMU's exec log.
//!
//! Afterwards the dispatched results are checked against the scalar ones (exit status 1 on a
//! mismatch): `Q8_0 × Q8_0` bit for bit, the float kernels within `1e-6 · Σ|w·x|` per row.

use picoformer::ops;
use picoformer::quant::testing::{dot_q8_scalar, dot_scalar};
use picoformer::quant::{q8_0_row_bytes, quantize_row_q8_0, simd_backend, DType, Matrix};

const R: usize = 288;
const C: usize = 288;

/// Instruction-count start marker (found by name); its body differs from [`icount_end`] so
/// LLVM cannot merge the two.
#[inline(never)]
#[no_mangle]
pub extern "C" fn icount_start() {
    // SAFETY: a `nop` has no effect.
    unsafe { core::arch::asm!("nop") }
}

/// Instruction-count end marker.
#[inline(never)]
#[no_mangle]
pub extern "C" fn icount_end() {
    // SAFETY: a `nop` has no effect.
    unsafe { core::arch::asm!("nop", "nop") }
}

fn measure(name: &str, macs: usize, f: &mut dyn FnMut()) {
    println!("region {name} macs={macs}");
    icount_start();
    f();
    icount_end();
}

/// xorshift32 in [-1, 1).
struct Rng(u32);
impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        (self.0 >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0
    }
}

/// Scalar matvec over the rows of a stored matrix, as the scalar backend does it.
fn scalar_rows(out: &mut [f32], dtype: DType, w: &[u8], x: &[f32]) {
    let stride = w.len() / out.len();
    for (o, r) in out.iter_mut().zip(w.chunks_exact(stride)) {
        *o = dot_scalar(dtype, r, x);
    }
}

fn scalar_rows_q8(out: &mut [f32], w: &[u8], xq: &[u8]) {
    for (o, r) in out.iter_mut().zip(w.chunks_exact(xq.len())) {
        *o = dot_q8_scalar(r, xq);
    }
}

/// Worst `|a - b| / Σ|w·x|` over the rows (the bound the tests use is 1e-6).
fn worst_rel(a: &[f32], b: &[f32], scale: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .zip(scale)
        .map(|((p, q), s)| (p - q).abs() / s.max(1e-30))
        .fold(0.0, f32::max)
}

fn main() {
    let mut rng = Rng(0x1234_5678);
    let wf: Vec<f32> = (0..R * C).map(|_| rng.next() * 0.1).collect();
    let x: Vec<f32> = (0..C).map(|_| rng.next()).collect();
    let w32: Vec<u8> = wf.iter().flat_map(|v| v.to_le_bytes()).collect();
    let w16: Vec<u8> = wf
        .iter()
        .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
        .collect();
    let rb = q8_0_row_bytes(C);
    let mut wq8 = vec![0u8; R * rb];
    for (src, dst) in wf.chunks_exact(C).zip(wq8.chunks_exact_mut(rb)) {
        quantize_row_q8_0(src, dst).expect("quantise");
    }
    let mut xq = vec![0u8; rb];
    let mut xq2 = vec![0u8; rb];
    quantize_row_q8_0(&x, &mut xq).expect("quantise");
    // The same F32 weights at an odd address (e.g. embedded with `include_bytes!`).
    let mut w32u = vec![0u8; w32.len() + 1];
    w32u[1..].copy_from_slice(&w32);
    let w32u = &w32u[1..];
    let m32 = Matrix::new(DType::F32, R, C, &w32).expect("f32 matrix");
    let m32u = Matrix::new(DType::F32, R, C, w32u).expect("f32 matrix");
    let m16 = Matrix::new(DType::F16, R, C, &w16).expect("f16 matrix");
    let mq8 = Matrix::new(DType::Q8_0, R, C, &wq8).expect("q8_0 matrix");

    let mut s = [[0.0f32; R]; 6];
    let mut v = [[0.0f32; R]; 6];
    let mut ok = true;
    let macs = R * C;
    println!("backend {}", simd_backend());
    measure("empty", 0, &mut || {});
    measure("matvec_f32_288x288/scalar", macs, &mut || {
        scalar_rows(&mut s[0], DType::F32, &w32, &x)
    });
    measure("matvec_f32_288x288/dispatch", macs, &mut || {
        ok &= ops::matvec(&mut v[0], &m32, &x).is_ok()
    });
    measure("matvec_f32_unaligned_288x288/scalar", macs, &mut || {
        scalar_rows(&mut s[5], DType::F32, w32u, &x)
    });
    measure("matvec_f32_unaligned_288x288/dispatch", macs, &mut || {
        ok &= ops::matvec(&mut v[5], &m32u, &x).is_ok()
    });
    measure("matvec_f16_288x288/scalar", macs, &mut || {
        scalar_rows(&mut s[1], DType::F16, &w16, &x)
    });
    measure("matvec_f16_288x288/dispatch", macs, &mut || {
        ok &= ops::matvec(&mut v[1], &m16, &x).is_ok()
    });
    measure("matvec_q8_0_f32act_288x288/scalar", macs, &mut || {
        scalar_rows(&mut s[2], DType::Q8_0, &wq8, &x)
    });
    measure("matvec_q8_0_f32act_288x288/dispatch", macs, &mut || {
        ok &= ops::matvec(&mut v[2], &mq8, &x).is_ok()
    });
    // Including the quantisation of x (the same portable quantiser in both).
    measure("matvec_q8_0_q8act_288x288/scalar", macs, &mut || {
        ok &= quantize_row_q8_0(&x, &mut xq2).is_ok();
        scalar_rows_q8(&mut s[3], &wq8, &xq2)
    });
    measure("matvec_q8_0_q8act_288x288/dispatch", macs, &mut || {
        ok &= ops::matvec_q8(&mut v[3], &mq8, &x, &mut xq2).is_ok()
    });
    // x already quantised (Q, K and V share one input).
    measure("matvec_q8_0_q8pre_288x288/scalar", macs, &mut || {
        scalar_rows_q8(&mut s[4], &wq8, &xq)
    });
    measure("matvec_q8_0_q8pre_288x288/dispatch", macs, &mut || {
        ok &= ops::matvec_q8_pre(&mut v[4], &mq8, &xq).is_ok()
    });

    // Checks (outside the regions).
    let abs_scale = |dtype: DType, w: &[u8], xs: &[f32]| -> Vec<f32> {
        let m = Matrix::new(dtype, R, C, w).expect("matrix");
        let mut row = vec![0.0f32; C];
        (0..R)
            .map(|r| {
                m.dequant_row(r, &mut row).expect("dequant");
                row.iter().zip(xs).map(|(a, b)| (a * b).abs()).sum()
            })
            .collect()
    };
    let mut xd = vec![0.0f32; C];
    picoformer::quant::dequantize_row_q8_0(&xq, &mut xd).expect("dequant");
    // (name, dtype, weights, x as the kernel sees it, bit-exact required)
    for (i, (name, dtype, w, xs, need_exact)) in [
        ("f32", DType::F32, &w32[..], &x, false),
        ("f16", DType::F16, &w16[..], &x, false),
        ("q8_0_f32act", DType::Q8_0, &wq8[..], &x, false),
        ("q8_0_q8act", DType::Q8_0, &wq8[..], &xd, true),
        ("q8_0_q8pre", DType::Q8_0, &wq8[..], &xd, true),
        ("f32_unaligned", DType::F32, w32u, &x, false),
    ]
    .into_iter()
    .enumerate()
    {
        let worst = worst_rel(&s[i], &v[i], &abs_scale(dtype, w, xs));
        let exact = s[i]
            .iter()
            .zip(&v[i])
            .all(|(a, b)| a.to_bits() == b.to_bits());
        let pass = worst <= 1e-6 && (exact || !need_exact);
        eprintln!("check {name}: dispatch vs scalar worst |Δ|/Σ|w·x| = {worst:.2e}, bit-exact: {exact}, {}", if pass { "ok" } else { "FAIL" });
        ok &= pass;
    }
    std::process::exit(if ok { 0 } else { 1 });
}
