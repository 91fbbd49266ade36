//! Vector primitives for attention: dot product and `y += a·x`.

use super::check_len;
use crate::Result;

/// `Σ_i a[i] · b[i]` with f32 accumulation (8 independent partial sums).
///
/// Errors: [`Error::Shape`](crate::Error::Shape) if the lengths differ. NaN/inf propagate.
///
/// ```
/// assert_eq!(picoformer::ops::dot(&[1.0, 2.0], &[3.0, 4.0])?, 11.0);
/// # Ok::<(), picoformer::Error>(())
/// ```
pub fn dot(a: &[f32], b: &[f32]) -> Result<f32> {
    check_len("dot operand length", a.len(), b.len())?;
    Ok(dot_unchecked(a, b))
}

/// [`dot`] without the length check (the shorter slice bounds the sum).
#[inline]
pub(crate) fn dot_unchecked(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let ab = a.chunks_exact(8);
    let bb = b.chunks_exact(8);
    let (at, bt) = (ab.remainder(), bb.remainder());
    for (a8, b8) in ab.zip(bb) {
        for ((s, &x), &y) in acc.iter_mut().zip(a8).zip(b8) {
            *s += x * y;
        }
    }
    let mut tail = 0.0f32;
    for (&x, &y) in at.iter().zip(bt) {
        tail += x * y;
    }
    acc.iter().sum::<f32>() + tail
}

/// `y[i] += a · x[i]` (attention's weighted sum of values, residual adds with `a = 1`).
///
/// Errors: [`Error::Shape`](crate::Error::Shape) if the lengths differ. NaN/inf propagate.
pub fn axpy(y: &mut [f32], a: f32, x: &[f32]) -> Result<()> {
    check_len("axpy operand length", y.len(), x.len())?;
    for (o, &v) in y.iter_mut().zip(x) {
        *o += a * v;
    }
    Ok(())
}
