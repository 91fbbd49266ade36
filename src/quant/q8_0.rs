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
    for (x, block) in src
        .chunks_exact(QK8_0)
        .zip(dst.chunks_exact_mut(Q8_0_BLOCK_BYTES))
    {
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
