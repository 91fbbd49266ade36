//! Rotary position embedding (Su et al. 2021, "RoFormer"), in both memory conventions.
//!
//! Angle for position `p` and frequency index `j < hd/2`: `φ(p, j) = p · inv_freq[j]` with
//! `inv_freq[j] = 1 / θ^(2j/hd)` (f32, as HF `1.0 / base ** (arange(0, hd, 2) / hd)` and
//! llama2.c). The two conventions rotate different element pairs:
//!
//! - [`RopeStyle::Neox`] (rotate-half; GPT-NeoX, HF Llama, **OpenELM**, spec `openelm.md`
//!   §5.3): pairs `(j, j + hd/2)`:
//!   `out[j] = x[j]·cos φ_j − x[j+hd/2]·sin φ_j`, `out[j+hd/2] = x[j+hd/2]·cos φ_j + x[j]·sin φ_j`.
//! - [`RopeStyle::Norm`] (interleaved; llama2.c, llama.cpp's `llama` arch, GPT-J): pairs
//!   `(2j, 2j+1)`: `out[2j] = x[2j]·cos φ_j − x[2j+1]·sin φ_j`,
//!   `out[2j+1] = x[2j+1]·cos φ_j + x[2j]·sin φ_j`.
//!
//! A precomputed [`RopeTable`] (`max_pos · hd` floats) trades memory for the `sin`/`cos`
//! calls; [`rope_direct`] computes the same angles on the fly (bit-identical results).
//! NaN/inf in `x` propagate.

use crate::{math, Error, Result};

/// Which elements form a rotation pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RopeStyle {
    /// Rotate-half: pairs `(j, j + hd/2)` (GPT-NeoX, HF Llama, OpenELM; llama.cpp `NEOX`).
    Neox,
    /// Interleaved: pairs `(2j, 2j + 1)` (llama2.c, GPT-J; llama.cpp `NORM`).
    Norm,
}

/// Floats in a RoPE table for `head_dim` and positions `0..max_pos`: `max_pos · head_dim`
/// (for each position, `hd/2` cosines then `hd/2` sines). Saturates on overflow.
///
/// ```
/// static mut TABLE: [f32; picoformer::ops::rope_table_len(64, 128)] = [0.0; 64 * 128];
/// ```
pub const fn rope_table_len(head_dim: usize, max_pos: usize) -> usize {
    (head_dim / 2).saturating_mul(2).saturating_mul(max_pos)
}

fn check_params(head_dim: usize, theta: f32) -> Result<()> {
    if head_dim == 0 || !head_dim.is_multiple_of(2) {
        return Err(Error::InvalidParam {
            what: "rope head_dim must be even and > 0",
        });
    }
    if !(theta.is_finite() && theta > 0.0) {
        return Err(Error::InvalidParam {
            what: "rope theta must be finite and > 0",
        });
    }
    Ok(())
}

/// `inv_freq[j] = 1 / θ^(2j / head_dim)` in f32.
///
/// Always computed with libm `powf`, even under `fast-math`: an error in `inv_freq` is
/// multiplied by the position (micromath's `powf` is off by up to 7.5e-4 relative, i.e. a
/// 1.5 rad angle error at position 2048). The per-angle `sin`/`cos` use [`crate::math`].
/// Meaningful for `j < head_dim / 2`; never panics (`head_dim = 0` gives NaN/inf).
///
/// ```
/// let f = picoformer::ops::rope_inv_freq(1, 64, 10000.0);
/// assert!((f - 0.7498942).abs() < 1e-6); // OpenELM spec §8 check 5
/// ```
pub fn rope_inv_freq(j: usize, head_dim: usize, theta: f32) -> f32 {
    1.0 / libm::powf(theta, 2.0 * j as f32 / head_dim as f32)
}

/// Fills `table` (length exactly [`rope_table_len`]`(head_dim, max_pos)`) with
/// `cos φ(p, j)` and `sin φ(p, j)` for `p < max_pos`, `j < head_dim/2`.
///
/// Errors: [`Error::InvalidParam`] for an odd or zero `head_dim` or a non-positive/non-finite
/// `theta`; [`Error::Shape`] for a wrong table length.
pub fn rope_table_fill(
    table: &mut [f32],
    head_dim: usize,
    max_pos: usize,
    theta: f32,
) -> Result<()> {
    check_params(head_dim, theta)?;
    super::check_len(
        "rope table length",
        rope_table_len(head_dim, max_pos),
        table.len(),
    )?;
    for (p, row) in table.chunks_exact_mut(head_dim).enumerate() {
        fill_row(row, head_dim, p, theta);
    }
    Ok(())
}

/// `row = [cos φ(pos, j) for j < hd/2 | sin φ(pos, j) for j < hd/2]`.
fn fill_row(row: &mut [f32], head_dim: usize, pos: usize, theta: f32) {
    let (cos, sin) = row.split_at_mut(head_dim / 2);
    for (j, (c, s)) in cos.iter_mut().zip(sin.iter_mut()).enumerate() {
        let phi = pos as f32 * rope_inv_freq(j, head_dim, theta);
        *c = math::cos(phi);
        *s = math::sin(phi);
    }
}

/// Fills `row` (length exactly `head_dim`) with the cosines and sines of one position: row
/// `pos` of [`rope_table_fill`]'s table, without the rest of the table. A decoder computes it
/// once per token and applies it to every head of every layer with [`rope_row`].
///
/// Errors: [`Error::InvalidParam`] for an odd or zero `head_dim` or a non-positive/non-finite
/// `theta`; [`Error::Shape`] for a wrong row length.
pub fn rope_row_fill(row: &mut [f32], head_dim: usize, pos: usize, theta: f32) -> Result<()> {
    check_params(head_dim, theta)?;
    super::check_len("rope row length", head_dim, row.len())?;
    fill_row(row, head_dim, pos, theta);
    Ok(())
}

/// Applies RoPE to every head of `x` with one position's `row` from [`rope_row_fill`] (its
/// length is the head dimension). Equal bit for bit to [`rope`] and [`rope_direct`] at that
/// position.
///
/// Errors: [`Error::InvalidParam`] for an odd or empty `row`; [`Error::Shape`] if
/// `!x.len().is_multiple_of(row.len())`.
///
/// ```
/// use picoformer::ops::{rope_direct, rope_row, rope_row_fill, RopeStyle};
/// let mut row = [0.0f32; 4];
/// rope_row_fill(&mut row, 4, 3, 10000.0)?;
/// let (mut a, mut b) = ([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]);
/// rope_row(&mut a, &row, RopeStyle::Neox)?;
/// rope_direct(&mut b, 4, 3, 10000.0, RopeStyle::Neox)?;
/// assert_eq!(a, b);
/// # Ok::<(), picoformer::Error>(())
/// ```
pub fn rope_row(x: &mut [f32], row: &[f32], style: RopeStyle) -> Result<()> {
    let hd = row.len();
    check_params(hd, 1.0)?;
    check_heads(x, hd)?;
    let (cos, sin) = row.split_at(hd / 2);
    rotate_heads(x, cos, sin, style);
    Ok(())
}

/// A validated, borrowed RoPE table (see [`rope_table_fill`]).
#[derive(Debug, Clone, Copy)]
pub struct RopeTable<'a> {
    data: &'a [f32],
    head_dim: usize,
    max_pos: usize,
}

impl<'a> RopeTable<'a> {
    /// Wraps a table filled by [`rope_table_fill`] with the same `head_dim` and `max_pos`.
    ///
    /// Errors: [`Error::InvalidParam`] for an odd or zero `head_dim`; [`Error::Shape`] for a
    /// wrong length.
    pub fn new(data: &'a [f32], head_dim: usize, max_pos: usize) -> Result<Self> {
        check_params(head_dim, 1.0)?;
        super::check_len(
            "rope table length",
            rope_table_len(head_dim, max_pos),
            data.len(),
        )?;
        Ok(RopeTable {
            data,
            head_dim,
            max_pos,
        })
    }

    /// Head dimension the table was built for.
    pub const fn head_dim(&self) -> usize {
        self.head_dim
    }

    /// Positions covered: `0..max_pos`.
    pub const fn max_pos(&self) -> usize {
        self.max_pos
    }

    /// `(cos, sin)` rows (each `head_dim/2` long) for position `pos`.
    ///
    /// Errors: [`Error::Capacity`] if `pos >= max_pos`.
    pub fn cos_sin(&self, pos: usize) -> Result<(&'a [f32], &'a [f32])> {
        let start = pos.checked_mul(self.head_dim);
        let row = start
            .and_then(|s| self.data.get(s..s.checked_add(self.head_dim)?))
            .ok_or(Error::Capacity {
                what: "rope table positions",
                needed: pos.saturating_add(1),
                available: self.max_pos,
            })?;
        Ok(row.split_at(self.head_dim / 2))
    }
}

/// Rotates every `2 · cos.len()`-long head of `x` (the caller checked the shape).
#[inline]
fn rotate_heads(x: &mut [f32], cos: &[f32], sin: &[f32], style: RopeStyle) {
    for head in x.chunks_exact_mut((2 * cos.len()).max(1)) {
        rotate_head(head, cos, sin, style);
    }
}

/// Rotates one head given its `cos`/`sin` rows (`hd/2` each).
#[inline]
fn rotate_head(head: &mut [f32], cos: &[f32], sin: &[f32], style: RopeStyle) {
    match style {
        RopeStyle::Neox => {
            let (a, b) = head.split_at_mut(head.len() / 2);
            for (((x0, x1), &c), &s) in a.iter_mut().zip(b.iter_mut()).zip(cos).zip(sin) {
                let (u, v) = (*x0, *x1);
                *x0 = u * c - v * s;
                *x1 = v * c + u * s;
            }
        }
        RopeStyle::Norm => {
            for ((pair, &c), &s) in head.chunks_exact_mut(2).zip(cos).zip(sin) {
                if let [x0, x1] = pair {
                    let (u, v) = (*x0, *x1);
                    *x0 = u * c - v * s;
                    *x1 = v * c + u * s;
                }
            }
        }
    }
}

fn check_heads(x: &[f32], head_dim: usize) -> Result<()> {
    if !x.len().is_multiple_of(head_dim) {
        return Err(Error::Shape {
            what: "rope input length (multiple of head_dim)",
            expected: x.len().div_ceil(head_dim).saturating_mul(head_dim),
            got: x.len(),
        });
    }
    Ok(())
}

/// Applies RoPE at position `pos` to every head of `x` (`x.len()` a multiple of the table's
/// `head_dim`; heads contiguous), using a precomputed table.
///
/// Errors: [`Error::Shape`] if `!x.len().is_multiple_of(head_dim)`; [`Error::Capacity`] if
/// `pos >= table.max_pos()`.
///
/// ```
/// use picoformer::ops::{rope, rope_table_fill, rope_table_len, RopeStyle, RopeTable};
/// let mut buf = [0.0f32; rope_table_len(4, 8)];
/// rope_table_fill(&mut buf, 4, 8, 10000.0)?;
/// let table = RopeTable::new(&buf, 4, 8)?;
/// let mut q = [1.0, 0.0, 0.0, 0.0];
/// rope(&mut q, 3, RopeStyle::Neox, &table)?;
/// // 1e-6 with libm; `fast-math` (micromath sin/cos) is within 1.4e-3
/// assert!((q[0] - 3f32.cos()).abs() < 2e-3 && (q[2] - 3f32.sin()).abs() < 2e-3);
/// # Ok::<(), picoformer::Error>(())
/// ```
pub fn rope(x: &mut [f32], pos: usize, style: RopeStyle, table: &RopeTable<'_>) -> Result<()> {
    let hd = table.head_dim();
    check_heads(x, hd)?;
    let (cos, sin) = table.cos_sin(pos)?;
    rotate_heads(x, cos, sin, style);
    Ok(())
}

/// Applies RoPE at position `pos` to every head of `x` without a table, computing each
/// angle's `cos`/`sin` once per call (results equal [`rope`]'s bit for bit).
///
/// Errors: [`Error::InvalidParam`] for an odd or zero `head_dim` or a bad `theta`;
/// [`Error::Shape`] if `!x.len().is_multiple_of(head_dim)`.
pub fn rope_direct(
    x: &mut [f32],
    head_dim: usize,
    pos: usize,
    theta: f32,
    style: RopeStyle,
) -> Result<()> {
    check_params(head_dim, theta)?;
    check_heads(x, head_dim)?;
    let half = head_dim / 2;
    let n_heads = x.len() / head_dim;
    let p = pos as f32;
    for j in 0..half {
        let phi = p * rope_inv_freq(j, head_dim, theta);
        let (c, s) = (math::cos(phi), math::sin(phi));
        for h in 0..n_heads {
            let base = h * head_dim;
            let (i0, i1) = match style {
                RopeStyle::Neox => (base + j, base + j + half),
                RopeStyle::Norm => (base + 2 * j, base + 2 * j + 1),
            };
            let (Some(&u), Some(&v)) = (x.get(i0), x.get(i1)) else {
                continue;
            };
            if let Some(o) = x.get_mut(i0) {
                *o = u * c - v * s;
            }
            if let Some(o) = x.get_mut(i1) {
                *o = v * c + u * s;
            }
        }
    }
    Ok(())
}
