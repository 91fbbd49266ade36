//! Vector primitives for attention: dot product and `y += a·x`.

use super::check_len;
use crate::Result;

/// `Σ_i a[i] · b[i]` with f32 accumulation: 8 independent lane sums, then the rest in order
/// (the KV cache's order, `kv::row::dot_cells`).
///
/// Errors: [`Error::Shape`](crate::Error::Shape) if the lengths differ. NaN/inf propagate.
///
/// ```
/// assert_eq!(picoformer::ops::dot(&[1.0, 2.0], &[3.0, 4.0])?, 11.0);
/// # Ok::<(), picoformer::Error>(())
/// ```
pub fn dot(a: &[f32], b: &[f32]) -> Result<f32> {
    check_len("dot operand length", a.len(), b.len())?;
    Ok(crate::kv::dot_cells(a, b))
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
