//! Measured regions for instruction counting: each kernel is run once on deterministic
//! pseudo-random data, wrapped by the caller's `measure` callback (which places the markers).
//! Also [`check_q8_simd`]: the SIMD (e.g. Arm DSP) `Q8_0 × Q8_0` path against the scalar one.

use picoformer::ops;
use picoformer::quant::{quantize_row_q8_0, DType, Matrix};

/// Largest matrix measured: 288 x 288 (the llama2.c 15M model's dim and CMSIS-NN anchor).
const R: usize = 288;
const C: usize = 288;
/// F16 is measured on fewer rows: software f16 conversion makes it ~10x slower per MAC.
const R16: usize = 32;

/// One spare byte: the unaligned-F32 region reads the same weights from offset 1.
static mut W32: [u8; R * C * 4 + 1] = [0; R * C * 4 + 1];
static mut W16: [u8; R16 * C * 2] = [0; R16 * C * 2];
static mut WQ8: [u8; R * (C / 32) * 34] = [0; R * (C / 32) * 34];
static mut XQ8: [u8; ops::matvec_q8_scratch_len(C)] = [0; ops::matvec_q8_scratch_len(C)];

/// xorshift32 pseudo-random numbers for the measured regions' data (and the boards' own
/// checks).
pub struct Rng(pub u32);
impl Rng {
    /// The next 32 random bits.
    pub fn bits(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }
    pub(crate) fn next(&mut self) -> f32 {
        (self.bits() >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0
    }
}

/// Rows / blocks per row of the SIMD-vs-scalar check: 11 rows (two 4-row groups + 3 single
/// rows), 25 blocks (more than two 12-block chunks of the Arm DSP kernel).
const CR: usize = 11;
const CB: usize = 25;
const CROW: usize = CB * 34;

/// Fills `dst` with random `Q8_0` blocks: random finite f16 scales (both signs, normal and
/// subnormal) and quants that are random, all -128, all 127, or random with extra -128s.
fn random_q8_blocks(rng: &mut Rng, dst: &mut [u8]) {
    for block in dst.chunks_exact_mut(34) {
        let r = rng.bits();
        let exp = (r >> 16) % 31; // 0 (subnormal) ..= 30, never inf/NaN
        let d = ((r & 0x8000) | (exp << 10) | (r & 0x3ff)) as u16;
        block[..2].copy_from_slice(&d.to_le_bytes());
        let kind = (r >> 24) % 4;
        for q in block[2..].iter_mut() {
            let v = rng.bits();
            *q = match kind {
                0 => v as u8,
                1 => 0x80,
                2 => 0x7f,
                _ if v & 3 == 0 => 0x80,
                _ => (v >> 8) as u8,
            };
        }
    }
}

/// The SIMD `Q8_0 × Q8_0` dot product and matvec (4-row passes and single rows, unaligned
/// rows) must equal the portable scalar `dot_blocks_q8` bit for bit on random blocks,
/// including -128 × -128 blocks (the largest i32 block sum). Skipped (not reported) when the
/// build has no SIMD path for it.
pub fn check_q8_simd(f: &mut dyn FnMut(&crate::Check)) {
    use picoformer::quant::testing::{dot_q8_scalar, dot_q8_simd};
    check_quantize_q8(f);
    if dot_q8_simd(&[], &[]).is_none() {
        return;
    }
    let mut rng = Rng(0x9e37_79b9);
    let mut mismatches = 0u32;
    let mut ok = true;
    let mut w = [0u8; CR * CROW + 1];
    let mut xq = [0u8; CROW];
    for round in 0..8 {
        random_q8_blocks(&mut rng, &mut xq);
        // Odd rounds use rows at an odd byte offset (unaligned word loads).
        let rows = &mut w[round % 2..round % 2 + CR * CROW];
        random_q8_blocks(&mut rng, rows);
        let mut out = [0.0f32; CR];
        let Ok(m) = Matrix::new(DType::Q8_0, CR, CB * 32, rows) else {
            ok = false;
            break;
        };
        ok &= ops::matvec_q8_pre(&mut out, &m, &xq).is_ok();
        for (r, o) in rows.chunks_exact(CROW).zip(out) {
            let want = dot_q8_scalar(r, &xq);
            let got = dot_q8_simd(r, &xq).unwrap_or(f32::NAN);
            mismatches += u32::from(want.to_bits() != got.to_bits());
            mismatches += u32::from(want.to_bits() != o.to_bits());
        }
    }
    f(&crate::Check {
        name: "simd/q8_0xq8_0_vs_scalar_bitexact",
        worst: mismatches as f32,
        pass: ok && mismatches == 0,
    });
}

/// The SIMD `Q8_0 × f32` dot product and matvec (Helium on M55; elsewhere the portable path,
/// so trivially equal) must equal the scalar path bit for bit: [`random_q8_blocks`] weights,
/// activations of mixed magnitude and sign, 9 blocks per row, rows at even and odd addresses,
/// 5 rows (two 2-row passes + one single row), and a row longer than `x`.
pub fn check_q8_f32_simd(f: &mut dyn FnMut(&crate::Check)) {
    use picoformer::quant::testing::{dot_scalar, dot_simd};
    if dot_simd(DType::Q8_0, &[], &[]).is_none() {
        return;
    }
    const NB: usize = 9;
    const ROWS: usize = 5;
    const RB: usize = NB * 34;
    let mut rng = Rng(0x85eb_ca6b);
    let mut mismatches = 0u32;
    let mut ok = true;
    let mut buf = [0u8; ROWS * RB + 1];
    let mut x = [0.0f32; NB * 32];
    for round in 0..8 {
        for v in x.iter_mut() {
            *v = rng.next() * (1 << (rng.bits() % 16)) as f32;
        }
        let off = round % 2;
        random_q8_blocks(&mut rng, &mut buf[off..off + ROWS * RB]);
        let rows = &buf[off..off + ROWS * RB];
        for r in rows.chunks_exact(RB) {
            for n in [NB * 32, 5 * 32 + 7] {
                let got = dot_simd(DType::Q8_0, r, &x[..n]).unwrap_or(f32::NAN);
                mismatches +=
                    u32::from(dot_scalar(DType::Q8_0, r, &x[..n]).to_bits() != got.to_bits());
            }
        }
        let mut out = [0.0f32; ROWS];
        let Ok(m) = Matrix::new(DType::Q8_0, ROWS, NB * 32, rows) else {
            ok = false;
            break;
        };
        ok &= ops::matvec(&mut out, &m, &x).is_ok();
        for (r, o) in rows.chunks_exact(RB).zip(out) {
            mismatches += u32::from(dot_scalar(DType::Q8_0, r, &x).to_bits() != o.to_bits());
        }
    }
    f(&crate::Check {
        name: "simd/q8_0xf32_vs_scalar_bitexact",
        worst: mismatches as f32,
        pass: ok && mismatches == 0,
    });
}

/// The activation quantiser `quantize_row_q8_0` must equal the reference
/// `q8_0::quantize_row_q8_0_ref` (ggml's formula with libm `fabsf`/`roundf`) bit for bit, on
/// every target (run from [`check_q8_simd`], also where there is no SIMD path): blocks of random
/// magnitude 2^-149 .. 2^30 (tiny-scale blocks, f16-subnormal and overflowing scales, zeros,
/// negative zeros) and blocks of exact ties `(j + 0.5) · 2^k` after scaling and their neighbours.
fn check_quantize_q8(f: &mut dyn FnMut(&crate::Check)) {
    use picoformer::quant::q8_0::quantize_row_q8_0_ref;
    let mut rng = Rng(0x6c07_8965);
    let mut mismatches = 0u32;
    let mut x = [0.0f32; 64];
    let (mut a, mut b) = ([0u8; 68], [0u8; 68]);
    for round in 0..400u32 {
        if round % 4 == 0 {
            // Ties: amax = 127 · 2^k gives d = 2^k and id = 2^-k exactly.
            let k = (round / 4) as i32 % 48 - 32;
            let s = pow2(k);
            for (i, v) in x.iter_mut().enumerate() {
                let t = ((i * 7 + round as usize) % 127) as f32 + 0.5;
                let t = t * s;
                *v = match (i + (round as usize / 4)) % 4 {
                    0 => t,
                    1 => -t,
                    2 => f32::from_bits(t.to_bits() + 1),
                    _ => -f32::from_bits(t.to_bits() - 1),
                };
            }
            x[0] = 127.0 * s;
            x[33] = -127.0 * s;
        } else {
            let top = (rng.bits() % 180) as i32 - 149;
            let spread = (rng.bits() % 40) as i32;
            for v in x.iter_mut() {
                let r = rng.bits();
                *v = match r % 16 {
                    0 => 0.0,
                    1 => -0.0,
                    _ => {
                        let e = (top - (r >> 4) as i32 % (spread + 1)).max(-149);
                        let m = 1.0 + (rng.bits() >> 9) as f32 / 8_388_608.0;
                        let v = m * pow2(e);
                        if r & (1 << 31) != 0 {
                            -v
                        } else {
                            v
                        }
                    }
                };
            }
        }
        let (ra, rb) = (
            quantize_row_q8_0(&x, &mut a),
            quantize_row_q8_0_ref(&x, &mut b),
        );
        mismatches += u32::from(ra != rb || (ra.is_ok() && a != b));
    }
    f(&crate::Check {
        name: "quant/quantize_q8_0_vs_ref_bitexact",
        worst: mismatches as f32,
        pass: mismatches == 0,
    });
}

/// `2^e` for `-149 <= e <= 127`.
fn pow2(e: i32) -> f32 {
    if e >= -126 {
        f32::from_bits(((127 + e) as u32) << 23)
    } else {
        f32::from_bits(1 << (e + 149))
    }
}

/// `measure(name, macs, kernel)` must call `kernel` exactly once between its markers.
/// Returns false if a kernel reported an error.
pub fn run(measure: &mut dyn FnMut(&'static str, usize, &mut dyn FnMut())) -> bool {
    // SAFETY: single-threaded firmware; the statics are only touched here, through these
    // exclusive references taken once.
    let (w32, w16, wq8, xq8) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(W32),
            &mut *core::ptr::addr_of_mut!(W16),
            &mut *core::ptr::addr_of_mut!(WQ8),
            &mut *core::ptr::addr_of_mut!(XQ8),
        )
    };
    let mut rng = Rng(0x1234_5678);
    let mut row = [0.0f32; C];
    for r in 0..R {
        for v in row.iter_mut() {
            *v = rng.next() * 0.1;
        }
        for (c, v) in row.iter().enumerate() {
            let i = (r * C + c) * 4;
            w32[i..i + 4].copy_from_slice(&v.to_le_bytes());
            if r < R16 {
                let j = (r * C + c) * 2;
                w16[j..j + 2].copy_from_slice(&half::f16::from_f32(*v).to_le_bytes());
            }
        }
        let rb = (C / 32) * 34;
        if quantize_row_q8_0(&row, &mut wq8[r * rb..(r + 1) * rb]).is_err() {
            return false;
        }
    }
    let mut x = [0.0f32; C];
    for v in x.iter_mut() {
        *v = rng.next();
    }
    let mut out = [0.0f32; R];
    let mut ok = true;
    let (Ok(m32), Ok(m16), Ok(mq8)) = (
        Matrix::new(DType::F32, R, C, &w32[..R * C * 4]),
        Matrix::new(DType::F16, R16, C, w16),
        Matrix::new(DType::Q8_0, R, C, wq8),
    ) else {
        return false;
    };
    // Calibration: marker overhead, subtracted from every region by scripts/icount.sh.
    measure("empty", 0, &mut || {});
    measure("matvec_f32_288x288", R * C, &mut || {
        ok &= ops::matvec(&mut out, &m32, &x).is_ok()
    });
    // The same weights at an odd address (e.g. an F32 GGUF embedded with `include_bytes!`).
    w32.copy_within(0..R * C * 4, 1);
    let Ok(m32u) = Matrix::new(DType::F32, R, C, &w32[1..]) else {
        return false;
    };
    measure("matvec_f32_unaligned_288x288", R * C, &mut || {
        ok &= ops::matvec(&mut out, &m32u, &x).is_ok()
    });
    measure("matvec_f16_32x288", R16 * C, &mut || {
        ok &= ops::matvec(&mut out[..R16], &m16, &x).is_ok()
    });
    measure("matvec_q8_0_f32act_288x288", R * C, &mut || {
        ok &= ops::matvec(&mut out, &mq8, &x).is_ok()
    });
    measure("matvec_q8_0_q8act_288x288", R * C, &mut || {
        ok &= ops::matvec_q8(&mut out, &mq8, &x, xq8).is_ok()
    });
    // The activation quantiser alone ("MACs" = values quantised).
    measure("quantize_q8_0_288", C, &mut || {
        ok &= quantize_row_q8_0(&x, xq8).is_ok()
    });
    // The same with the activations already quantised (as for Q, K and V sharing one input).
    measure("matvec_q8_0_q8pre_288x288", R * C, &mut || {
        ok &= ops::matvec_q8_pre(&mut out, &mq8, xq8).is_ok()
    });
    let mut v = [0.0f32; C];
    v.copy_from_slice(&x);
    measure("rmsnorm_288", C, &mut || {
        ok &= ops::rmsnorm_inplace(&mut v, &row, 1e-6).is_ok()
    });
    measure("softmax_288", C, &mut || ok &= ops::softmax(&mut v).is_ok());
    ok
}

/// The F16 KV cache's `out += w · v` (`HeadView::v_axpy`; the `VCVTB` kernel on DSP builds for
/// each group of 8) must give exactly `o + w · v` per element: values exactly representable in
/// binary16 (so storing them loses nothing), head dims with and without a tail after the
/// last group of 8. Skipped (and compiled out) on builds without a SIMD path, where the
/// portable code runs (tested on the host, `tests/kv_ring.rs`).
pub fn check_kv_f16_axpy(f: &mut dyn FnMut(&crate::Check)) {
    use picoformer::kv::{KvCache, KvConfig, KvStorage};
    use picoformer::quant::testing::dot_simd;
    if dot_simd(DType::F16, &[], &[]).is_none() {
        return;
    }
    let mut rng = Rng(0x51ed_270b);
    let mut mismatches = 0u32;
    let mut ok = true;
    for hd in [8usize, 13, 64] {
        let cfg = KvConfig {
            q_heads: &[1],
            kv_heads: &[1],
            head_dim: hd,
            capacity: 3,
            storage: KvStorage::F16,
            snapkv: None,
            chunk: 1,
        };
        let mut mem = [0u32; 512];
        let Some(mem) = mem.get_mut(..cfg.words()) else {
            ok = false;
            continue;
        };
        let Ok(mut cache) = KvCache::new(cfg, mem) else {
            ok = false;
            continue;
        };
        // multiples of 2^-10 in (-1, 1) and of 2^-4 in (-64, 64): exact in binary16
        let mut v = [0.0f32; 64];
        let k = [0.0f32; 64];
        for (i, x) in v.iter_mut().take(hd).enumerate() {
            *x = if i % 2 == 0 {
                (rng.bits() % 2047) as f32 / 1024.0 - 1.0
            } else {
                (rng.bits() % 2047) as f32 / 16.0 - 64.0
            };
        }
        ok &= cache.append(0, 0, &k[..hd], &v[..hd]).is_ok();
        let Ok(head) = cache.layer(0).and_then(|l| {
            l.head(0)
                .ok_or(picoformer::Error::InvalidParam { what: "lane" })
        }) else {
            ok = false;
            continue;
        };
        let w = rng.next();
        let mut out = [0.0f32; 64];
        let mut want = [0.0f32; 64];
        for (o, x) in out.iter_mut().zip(want.iter_mut()).take(hd) {
            *o = rng.next() * 8.0;
            *x = *o;
        }
        head.v_axpy(0, w, &mut out[..hd]);
        for (x, vv) in want.iter_mut().zip(v).take(hd) {
            *x += w * vv;
        }
        for (a, b) in out.iter().zip(want).take(hd) {
            mismatches += u32::from(a.to_bits() != b.to_bits());
        }
    }
    f(&crate::Check {
        name: "kv/f16_axpy_bitexact",
        worst: mismatches as f32,
        pass: ok && mismatches == 0,
    });
}

/// The SIMD F32 row dot product and matvec must equal the scalar one bit for bit: random
/// values of mixed magnitude and sign, lengths with and without a tail (not a multiple of 8),
/// odd and even numbers of 8-value chunks, aligned and unaligned rows (`VLDM` and `LDR`
/// weight loads). Skipped when the build has no SIMD path.
pub fn check_f32_simd(f: &mut dyn FnMut(&crate::Check)) {
    let mut rng = Rng(0x2545_f491);
    check_rows_simd(
        f,
        DType::F32,
        "simd/f32_vs_scalar_bitexact",
        1,
        &mut |i, c| {
            let v = rng.next() / (1 << (i % 11)) as f32;
            c.copy_from_slice(&v.to_le_bytes());
        },
    );
}

/// The same for F16 rows (`VCVTB` on DSP builds, Helium on M55; the F16 KV cache's `q · k`
/// goes through the same kernel): random f16 weights of every finite exponent (subnormals and
/// ±0 included), rows at odd addresses (the `LDR` path; Helium loads bytes).
pub fn check_f16_simd(f: &mut dyn FnMut(&crate::Check)) {
    let mut rng = Rng(0x9e37_79b9);
    check_rows_simd(
        f,
        DType::F16,
        "simd/f16_vs_scalar_bitexact",
        1,
        &mut |_, c| {
            let h = (rng.bits() & 0x83ff) as u16 | (((rng.bits() % 31) as u16) << 10);
            c.copy_from_slice(&h.to_le_bytes());
        },
    );
}

/// [`check_f32_simd`] / [`check_f16_simd`]: rows of `dtype` filled element by element by
/// `fill(index, bytes)`, every other round at byte offset `odd` (an unaligned row), checked
/// through `dot_simd` and `ops::matvec` against `dot_scalar`, bit for bit.
fn check_rows_simd(
    f: &mut dyn FnMut(&crate::Check),
    dtype: DType,
    name: &'static str,
    odd: usize,
    fill: &mut dyn FnMut(usize, &mut [u8]),
) {
    use picoformer::quant::testing::{dot_scalar, dot_simd};
    if dot_simd(dtype, &[], &[]).is_none() {
        return;
    }
    const N: usize = 75; // 9 chunks of 8 + a tail of 3
    const ROWS: usize = 5;
    const MAX: usize = ROWS * N * 4 + 4;
    let size = if dtype == DType::F16 { 2 } else { 4 };
    let mut rng = Rng(0x1234_5678);
    let mut mismatches = 0u32;
    let mut ok = true;
    // Backing storage aligned to 4 so offset 0 is an aligned row and `odd` an unaligned one.
    let mut buf = [0u32; MAX / 4];
    let mut x = [0.0f32; N];
    for round in 0..8 {
        for v in x.iter_mut() {
            *v = rng.next() * (1 << (rng.bits() % 16)) as f32;
        }
        let off = odd * (round % 2);
        let mut bytes = [0u8; MAX];
        for (i, c) in bytes[off..off + ROWS * N * size]
            .chunks_exact_mut(size)
            .enumerate()
        {
            fill(i, c);
        }
        for (w, c) in buf.iter_mut().zip(bytes.chunks_exact(4)) {
            *w = u32::from_ne_bytes([c[0], c[1], c[2], c[3]]);
        }
        // SAFETY: `buf` is plain u32 storage of exactly `bytes.len()` bytes, viewed as bytes.
        let view = unsafe { core::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), bytes.len()) };
        let rows = &view[off..off + ROWS * N * size];
        for n in [N, N - 3, 64, 16, 8, 5] {
            for r in rows.chunks_exact(N * size) {
                let r = &r[..n * size];
                let want = dot_scalar(dtype, r, &x[..n]);
                let got = dot_simd(dtype, r, &x[..n]).unwrap_or(f32::NAN);
                mismatches += u32::from(want.to_bits() != got.to_bits());
            }
        }
        let mut out = [0.0f32; ROWS];
        let Ok(m) = Matrix::new(dtype, ROWS, N, rows) else {
            ok = false;
            break;
        };
        ok &= ops::matvec(&mut out, &m, &x).is_ok();
        for (r, o) in rows.chunks_exact(N * size).zip(out) {
            mismatches += u32::from(dot_scalar(dtype, r, &x).to_bits() != o.to_bits());
        }
    }
    f(&crate::Check {
        name,
        worst: mismatches as f32,
        pass: ok && mismatches == 0,
    });
}
