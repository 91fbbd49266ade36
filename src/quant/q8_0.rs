//! ggml's `Q8_0` block: 32 weights sharing one f16 scale.
//!
//! Layout of one 34-byte block (ggml `block_q8_0`): `d: f16` (little-endian) followed by
//! `qs: [i8; 32]`; element `j` is `d · qs[j]`. A row of `n` values (`n % 32 == 0`) is `n / 32`
//! consecutive blocks.
//!
//! [`quantize_row_q8_0`] reproduces ggml's reference quantiser `quantize_row_q8_0_ref`
//! bit-for-bit (checked against the `gguf` Python package's `gguf.quants.quantize`, which
//! implements the same rounding, in `tests/ops_golden.rs`).

use half::f16;

use crate::{Error, Result};

/// Values per `Q8_0` block (ggml `QK8_0`).
pub const QK8_0: usize = 32;

/// Bytes per `Q8_0` block: 2 (f16 scale) + 32 (i8 quants).
pub const Q8_0_BLOCK_BYTES: usize = 2 + QK8_0;

/// Bytes of a `Q8_0` row holding `n` values, rounding `n` up to whole blocks (saturating).
///
/// This is the scratch size for quantising an activation vector of length `n`
/// (see [`crate::ops::matvec_q8`]).
///
/// ```
/// assert_eq!(picoformer::quant::q8_0_row_bytes(288), 9 * 34);
/// ```
pub const fn q8_0_row_bytes(n: usize) -> usize {
    n.div_ceil(QK8_0).saturating_mul(Q8_0_BLOCK_BYTES)
}

/// Checks that a `Q8_0` row of `n` values is exactly `bytes` long.
fn check_row(n: usize, bytes: usize) -> Result<()> {
    if !n.is_multiple_of(QK8_0) {
        return Err(Error::Shape {
            what: "Q8_0 row length (multiple of 32)",
            expected: n.div_ceil(QK8_0).saturating_mul(QK8_0),
            got: n,
        });
    }
    let need = q8_0_row_bytes(n);
    if bytes != need {
        return Err(Error::Shape {
            what: "Q8_0 row bytes",
            expected: need,
            got: bytes,
        });
    }
    Ok(())
}

/// Splits a block into its f32 scale and its 32 quants (empty quants if the block is short,
/// which the callers' `chunks_exact` rules out).
#[inline(always)]
pub(crate) fn split_block(block: &[u8]) -> (f32, &[u8]) {
    match block.split_first_chunk::<2>() {
        Some((d, qs)) => (super::f16_to_f32(u16::from_le_bytes(*d)), qs),
        None => (0.0, &[]),
    }
}

/// Quantises `src` into `Q8_0` blocks written to `dst`, exactly as ggml's
/// `quantize_row_q8_0_ref`: per block of 32, `amax = max|x|`, `d = amax / 127`,
/// `id = if d != 0 { 1/d } else { 0 }`, `q = roundf(x · id)` (round half away from zero), and
/// the scale is stored as `f16(d)` (round to nearest even).
///
/// The result is bit-identical to that formula for every finite input (it is the reference
/// [`quantize_row_q8_0_ref`] computed without `libm` calls): `amax` is taken on the sign-cleared
/// bit patterns (integer order = float order for finite values), `f16(d)` by an exact integer
/// round-to-nearest-even, and `q = roundf(v)` for `v = x · id` from `t = trunc(v · 2²⁴)` (exact,
/// `|v| < 128`) as `q = (t + 2²³ − [t < 0]) >> 24` (arithmetic shift). Blocks whose `max|x|`
/// is below 2⁻⁸⁹ but not zero (where `v · 2²⁴` could overflow) take the reference path. On
/// Arm cores with the DSP extension the amax and rounding loops are `asm!` with the same
/// arithmetic (`dsp::amax2_bits`, `dsp::quantize_qs`; about 10.7 instructions per value on
/// Cortex-M4F, checked bit for bit against the reference in the firmware self-test).
///
/// Errors: [`Error::Shape`] unless `src.len() % 32 == 0` and
/// `dst.len() == q8_0_row_bytes(src.len())`; [`Error::NonFinite`] if `src` holds NaN or ±inf,
/// or if a block's scale overflows f16 (`max|x| > 127 · 65504`, where ggml would store an
/// infinite scale). On error the contents of `dst` are unspecified.
///
/// ```
/// use picoformer::quant::{quantize_row_q8_0, dequantize_row_q8_0, q8_0_row_bytes};
/// let x: [f32; 32] = core::array::from_fn(|i| i as f32 - 16.0);
/// let mut q = [0u8; q8_0_row_bytes(32)];
/// quantize_row_q8_0(&x, &mut q)?;
/// let mut y = [0.0f32; 32];
/// dequantize_row_q8_0(&q, &mut y)?;
/// assert!((y[0] + 16.0).abs() < 0.07);
/// # Ok::<(), picoformer::Error>(())
/// ```
pub fn quantize_row_q8_0(src: &[f32], dst: &mut [u8]) -> Result<()> {
    check_row(src.len(), dst.len())?;
    let (xs, _) = src.as_chunks::<QK8_0>();
    let (blocks, _) = dst.as_chunks_mut::<Q8_0_BLOCK_BYTES>();
    for (x, block) in xs.iter().zip(blocks) {
        quantize_block(x, block)?;
    }
    Ok(())
}

/// Sign-cleared bits of the smallest non-zero `max|x|` the fast path takes: 2⁻⁸⁹. From there
/// up to the f16 limit `127 · 65504`, `d`, `id` and `id · 2²⁴` are normal f32 numbers, so
/// `x · (id · 2²⁴)` is exactly `(x · id) · 2²⁴` whenever `x · id` is normal (and both truncate
/// to 0 otherwise).
const FAST_MIN_AMAX_BITS: u32 = (127 - 89) << 23;

/// `2²⁴`: the fixed-point scale of the rounding in [`quantize_block`].
const FIX: f32 = 16_777_216.0;

/// One block of [`quantize_row_q8_0`].
#[inline]
fn quantize_block(x: &[f32; QK8_0], block: &mut [u8; Q8_0_BLOCK_BYTES]) -> Result<()> {
    // max |x| as bits: for finite f32, the order of the sign-cleared bit patterns as integers
    // is the order of the magnitudes; NaN and ±inf are exactly the patterns ≥ 0x7f80_0000.
    #[cfg(all(target_arch = "arm", picoformer_arm_dsp))]
    let amax_bits = super::dsp::amax2_bits(x) >> 1;
    #[cfg(not(all(target_arch = "arm", picoformer_arm_dsp)))]
    let amax_bits = x.iter().fold(0u32, |m, v| m.max(v.to_bits() & 0x7fff_ffff));
    if amax_bits >= 0x7f80_0000 {
        return Err(Error::NonFinite {
            what: "Q8_0 quantiser input",
        });
    }
    if amax_bits != 0 && amax_bits < FAST_MIN_AMAX_BITS {
        return quantize_block_ref(x, block);
    }
    let d = f32::from_bits(amax_bits) / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    let dh = f32_to_f16_rne(d);
    if dh >= 0x7c00 {
        return Err(Error::NonFinite {
            what: "Q8_0 scale (max |x| exceeds 127 * 65504)",
        });
    }
    let (dbytes, qs) = block.split_at_mut(2);
    dbytes.copy_from_slice(&dh.to_le_bytes());
    // `id · 2²⁴` is exact (a normal number, see FAST_MIN_AMAX_BITS), and `|x · id| ≤ 127 ·
    // (1 + 3 · 2⁻²⁴)` (three roundings from `amax · 127 / amax`), so `t` fits an i32 and
    // `t + 2²³` does not overflow.
    let ids = id * FIX;
    // The same rounding with `SMLAD`-era DSP instructions, four quants per store.
    #[cfg(all(target_arch = "arm", picoformer_arm_dsp))]
    if let Ok(qs) = <&mut [u8; QK8_0]>::try_from(qs) {
        super::dsp::quantize_qs(x, ids, qs);
    }
    #[cfg(not(all(target_arch = "arm", picoformer_arm_dsp)))]
    for (q, &v) in qs.iter_mut().zip(x) {
        let t = (v * ids) as i32;
        // roundf(v) = floor((t + 2²³) / 2²⁴) for t ≥ 0 and −floor((−t + 2²³) / 2²⁴) =
        // floor((t + 2²³ − 1) / 2²⁴) for t < 0 (`t >> 31` is −1 exactly when t < 0).
        let r = t.wrapping_add(1 << 23).wrapping_add(t >> 31);
        *q = (r >> 24) as u8;
    }
    Ok(())
}

/// `f16(f)` bits, rounded to nearest even, for a non-negative finite `f` (the scale `d`):
/// `0x7c00` (inf) at and above 65520.
#[inline]
fn f32_to_f16_rne(f: f32) -> u16 {
    let b = f.to_bits() & 0x7fff_ffff;
    if b >= 0x477f_f000 {
        // ≥ 65520 = 65504 + half an ulp: rounds to infinity (NaN never reaches here).
        return 0x7c00;
    }
    if b >= 0x3880_0000 {
        // Normal f16 (≥ 2⁻¹⁴): rebias the exponent by 127 − 15 and round the 13 dropped
        // mantissa bits to nearest even; a carry out of the mantissa bumps the exponent, which
        // is the correctly rounded result.
        let m = b - (112 << 23);
        return ((m + 0xfff + ((m >> 13) & 1)) >> 13) as u16;
    }
    // Subnormal f16 (or zero): units of 2⁻²⁴; f = man · 2^(e − 150), so the count of units is
    // man / 2^(126 − e), rounded to nearest even. f32 subnormals (e = 0) are below 2⁻¹²⁶ and
    // round to 0, as does everything below 2⁻²⁵ (shift ≥ 25 > 24 mantissa bits).
    let e = b >> 23;
    if e < 101 {
        return 0;
    }
    let man = (b & 0x7f_ffff) | 0x80_0000;
    let shift = 126 - e; // 14..=25
    let half = 1u32 << (shift - 1);
    ((man + half - 1 + ((man >> shift) & 1)) >> shift) as u16
}

/// ggml's `quantize_row_q8_0_ref` for one block, written directly with `libm` (the oracle of
/// [`quantize_row_q8_0`], and its path for blocks with a tiny non-zero `max|x|`).
fn quantize_block_ref(x: &[f32], block: &mut [u8]) -> Result<()> {
    let mut amax = 0.0f32;
    let mut finite = true;
    for &v in x {
        finite &= v.is_finite();
        let a = libm::fabsf(v);
        if a > amax {
            amax = a;
        }
    }
    if !finite {
        return Err(Error::NonFinite {
            what: "Q8_0 quantiser input",
        });
    }
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    let dh = f16::from_f32(d);
    if !dh.is_finite() {
        return Err(Error::NonFinite {
            what: "Q8_0 scale (max |x| exceeds 127 * 65504)",
        });
    }
    if let Some((dbytes, qs)) = block.split_first_chunk_mut::<2>() {
        *dbytes = dh.to_bits().to_le_bytes();
        for (q, &v) in qs.iter_mut().zip(x) {
            *q = (libm::roundf(v * id) as i8) as u8;
        }
    }
    Ok(())
}

/// The reference quantiser (ggml's `quantize_row_q8_0_ref` written directly with `libm`
/// `fabsf`/`roundf` and the `half` crate's f16 conversion): the oracle [`quantize_row_q8_0`]
/// is tested against (host tests and the firmware self-test). Same contract and errors.
#[doc(hidden)]
pub fn quantize_row_q8_0_ref(src: &[f32], dst: &mut [u8]) -> Result<()> {
    check_row(src.len(), dst.len())?;
    for (x, block) in src
        .chunks_exact(QK8_0)
        .zip(dst.chunks_exact_mut(Q8_0_BLOCK_BYTES))
    {
        quantize_block_ref(x, block)?;
    }
    Ok(())
}

/// Dequantises `Q8_0` blocks: `dst[32·b + j] = f32(d_b) · qs_b[j]`.
///
/// Errors: [`Error::Shape`] unless `dst.len() % 32 == 0` and
/// `src.len() == q8_0_row_bytes(dst.len())`. NaN/inf scales (possible in foreign files)
/// propagate into the output.
pub fn dequantize_row_q8_0(src: &[u8], dst: &mut [f32]) -> Result<()> {
    check_row(dst.len(), src.len())?;
    dequant_blocks(src, dst);
    Ok(())
}

/// Dequantisation without length checks (the shorter input bounds the work).
#[inline]
pub(crate) fn dequant_blocks(src: &[u8], dst: &mut [f32]) {
    for (block, y) in src
        .chunks_exact(Q8_0_BLOCK_BYTES)
        .zip(dst.chunks_exact_mut(QK8_0))
    {
        let (d, qs) = split_block(block);
        for (o, &q) in y.iter_mut().zip(qs) {
            *o = d * f32::from(q as i8);
        }
    }
}

/// `Σ_b d_b · Σ_j qs_b[j] · x[32·b + j]` with f32 accumulation; lengths are checked by the
/// caller (the shorter input bounds the work).
#[inline]
pub(crate) fn dot_blocks_f32(row: &[u8], x: &[f32]) -> f32 {
    let (blocks, _) = row.as_chunks::<Q8_0_BLOCK_BYTES>();
    let (xs, _) = x.as_chunks::<QK8_0>();
    let mut sum = 0.0f32;
    for (block, xb) in blocks.iter().zip(xs) {
        let (d, qs) = block_parts(block);
        // Widen the block to f32 first, then 8 independent lanes: both loops have fixed
        // trip counts, so they unroll and vectorise.
        let mut w = [0.0f32; QK8_0];
        for (o, &q) in w.iter_mut().zip(qs) {
            *o = f32::from(q as i8);
        }
        let mut acc = [0.0f32; 8];
        for (w8, x8) in w.as_chunks::<8>().0.iter().zip(xb.as_chunks::<8>().0) {
            for l in 0..8 {
                acc[l] += w8[l] * x8[l];
            }
        }
        sum += d * acc.iter().sum::<f32>();
    }
    sum
}

/// The scale and quants of one block.
#[inline(always)]
fn block_parts(block: &[u8; Q8_0_BLOCK_BYTES]) -> (f32, &[u8; QK8_0]) {
    let (d, qs) = block
        .split_first_chunk::<2>()
        .map_or((&[0u8; 2], &[0u8; QK8_0][..]), |(d, q)| (d, q));
    let qs: &[u8; QK8_0] = qs.try_into().unwrap_or(&[0u8; QK8_0]);
    (super::f16_to_f32(u16::from_le_bytes(*d)), qs)
}

/// `Q8_0 × Q8_0` dot product as ggml's `ggml_vec_dot_q8_0_q8_0`:
/// `Σ_b f32(Σ_j qa·qb) · (d_a · d_b)` with exact i32 block sums.
#[inline]
pub(crate) fn dot_blocks_q8(a: &[u8], b: &[u8]) -> f32 {
    let (ab, _) = a.as_chunks::<Q8_0_BLOCK_BYTES>();
    let (bb, _) = b.as_chunks::<Q8_0_BLOCK_BYTES>();
    let mut sum = 0.0f32;
    for (ba, bb) in ab.iter().zip(bb) {
        let (da, qa) = block_parts(ba);
        let (db, qb) = block_parts(bb);
        let mut sumi = 0i32;
        for l in 0..QK8_0 {
            sumi += i32::from(qa[l] as i8) * i32::from(qb[l] as i8);
        }
        sum += sumi as f32 * (da * db);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64 for the randomised cases.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// Both quantisers on one row: same result (Ok bytes or the same error).
    fn same(x: &[f32]) {
        let n = q8_0_row_bytes(x.len());
        let (mut a, mut b) = ([0u8; 4 * Q8_0_BLOCK_BYTES], [0u8; 4 * Q8_0_BLOCK_BYTES]);
        let (a, b) = (&mut a[..n], &mut b[..n]);
        let (ra, rb) = (quantize_row_q8_0(x, a), quantize_row_q8_0_ref(x, b));
        assert_eq!(ra, rb, "{x:?}");
        if ra.is_ok() {
            assert_eq!(a, b, "{x:?}");
        }
    }

    /// `roundf(v)` from the fixed-point truncation, as in `quantize_block`.
    fn round_fix(v: f32) -> i32 {
        let t = (v * FIX) as i32;
        t.wrapping_add(1 << 23).wrapping_add(t >> 31) >> 24
    }

    /// Every |v| < 127.5 (the quantiser's `|x · id| ≤ 127 · (1 + 3 · 2⁻²⁴)` with room to spare)
    /// at a stride (all of them in the ignored exhaustive test), plus ±2 ulp around every k and
    /// k + 0.5.
    #[test]
    fn fixed_point_rounding_is_roundf() {
        let check = |b: u32| {
            for v in [f32::from_bits(b), -f32::from_bits(b)] {
                assert_eq!(round_fix(v), libm::roundf(v) as i32, "{v:e}");
            }
        };
        for b in (0..0x42ff_0000u32).step_by(97) {
            check(b);
        }
        for k in 0..127 {
            for c in [k as f32 + 1.0, k as f32 + 0.5] {
                let b = c.to_bits();
                for d in 0..3 {
                    check(b + d);
                    check(b.saturating_sub(d));
                }
            }
        }
    }

    #[test]
    #[ignore = "exhaustive (about 2·10⁹ conversions); run with --ignored"]
    fn fixed_point_rounding_is_roundf_exhaustive() {
        for b in 0..0x42ff_0000u32 {
            let v = f32::from_bits(b);
            assert_eq!(round_fix(v), libm::roundf(v) as i32, "{v:e}");
            assert_eq!(round_fix(-v), libm::roundf(-v) as i32, "{v:e}");
        }
    }

    /// The integer f16 rounding against the `half` crate: every non-negative finite f32 at a
    /// stride, and ±2 ulp around every f16 value and every midpoint between two f16 values.
    #[test]
    fn f16_rounding_matches_half() {
        let check = |b: u32| {
            let f = f32::from_bits(b);
            let want = f16::from_f32(f).to_bits();
            let want = if want > 0x7c00 { 0x7c00 } else { want };
            assert_eq!(f32_to_f16_rne(f), want, "{f:e}");
        };
        for b in (0..0x7f80_0000u32).step_by(61) {
            check(b);
        }
        for h in 0..0x7c00u16 {
            let lo = f16::from_bits(h).to_f32();
            let hi = f16::from_bits(h + 1).to_f32();
            let mid = (f64::from(lo) + f64::from(hi)) / 2.0;
            for c in [lo, mid as f32] {
                let b = c.to_bits();
                for d in 0..3 {
                    check(b + d);
                    check(b.saturating_sub(d));
                }
            }
        }
        check(f32::MAX.to_bits());
    }

    #[test]
    #[ignore = "exhaustive (about 2·10⁹ conversions); run with --ignored"]
    fn f16_rounding_matches_half_exhaustive() {
        for b in 0..0x7f80_0000u32 {
            let f = f32::from_bits(b);
            let want = f16::from_f32(f).to_bits();
            assert_eq!(f32_to_f16_rne(f), want.min(0x7c00), "{f:e}");
        }
    }

    /// Ties after scaling: amax = 127 · 2^k makes d = 2^k and id = 2^-k exact, so
    /// x = (j + 0.5) · 2^k scales to exactly j + 0.5; also their f32 neighbours.
    #[test]
    fn ties_match_reference() {
        for k in -30..=16 {
            let s = libm::ldexpf(1.0, k);
            for start in (0..128).step_by(31) {
                let mut x = [0.0f32; 32];
                x[0] = 127.0 * s;
                for (i, v) in x.iter_mut().enumerate().skip(1) {
                    let j = ((start + i) % 128) as f32;
                    let t = (j + 0.5) * s;
                    *v = match (i + start) % 4 {
                        0 => t,
                        1 => -t,
                        2 => f32::from_bits(t.to_bits() + 1),
                        _ => -f32::from_bits(t.to_bits() - 1),
                    };
                }
                same(&x);
                x[0] = -x[0];
                same(&x);
            }
        }
    }

    /// Random blocks over the whole finite range: magnitudes 2^-149 .. 2^127 (including blocks
    /// on the slow path, f16-subnormal and f16-overflowing scales), zeros, negative zeros.
    #[test]
    fn random_blocks_match_reference() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let r = rng.next();
            let e_top = (r % 254) as i32 - 126; // block magnitude exponent
            let spread = ((r >> 8) % 40) as i32;
            let mut x = [0.0f32; 32];
            for v in x.iter_mut() {
                let r = rng.next();
                *v = match r % 16 {
                    0 => 0.0,
                    1 => -0.0,
                    _ => {
                        let e = (e_top - (r >> 4) as i32 % (spread + 1)).max(-149);
                        let m = 1.0 + ((r >> 16) & 0x7f_ffff) as f32 / 8_388_608.0;
                        let v = libm::ldexpf(m, e);
                        if r & (1 << 60) != 0 {
                            -v
                        } else {
                            v
                        }
                    }
                };
            }
            same(&x);
        }
    }

    #[test]
    fn special_blocks_match_reference() {
        same(&[0.0; 32]);
        same(&[-0.0; 32]);
        let mut x = [0.0f32; 64];
        for (i, v) in x.iter_mut().enumerate() {
            *v = (i as f32 - 31.5) * 0.37;
        }
        same(&x);
        for amax in [
            f32::from_bits(1),
            f32::MIN_POSITIVE,
            f32::from_bits(FAST_MIN_AMAX_BITS - 1),
            f32::from_bits(FAST_MIN_AMAX_BITS),
            f32::from_bits(FAST_MIN_AMAX_BITS + 1),
            127.0 * 65504.0,
            127.0 * 65519.0,
            127.0 * 65520.0,
            f32::MAX,
        ] {
            let mut y = x;
            y[5] = amax;
            y[40] = -amax;
            same(&y);
            let mut z = [0.0f32; 32];
            z[31] = -amax;
            same(&z);
        }
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let mut y = x;
            y[33] = bad;
            same(&y);
        }
    }
}
