//! 1-D pooling of the votes along the prefix axis (spec §3 step 7): kernel `ks` (odd), stride 1,
//! padding `ks / 2`, output length = input length.

use super::cell::Cell;
use super::config::Pool;
use crate::{Error, Result};

/// `out[j] = pool(votes[j − r ..= j + r])` with `r = ks / 2`, over in-range elements only:
/// - [`Pool::Avg`]: `Σ / ks` — zero padding counted (PyTorch `count_include_pad=True`), so
///   edge outputs are divided by `ks` too;
/// - [`Pool::Max`]: maximum of the in-range elements (padding is −∞).
///
/// Errors: even `ks` → [`Error::InvalidParam`]; `out.len() != votes.len()` → [`Error::Shape`].
pub(crate) fn pool<A: Cell, B: Cell>(
    votes: &[A],
    ks: usize,
    kind: Pool,
    out: &mut [B],
) -> Result<()> {
    if ks.is_multiple_of(2) {
        return Err(Error::InvalidParam {
            what: "snapkv kernel size must be odd",
        });
    }
    if out.len() != votes.len() {
        return Err(Error::Shape {
            what: "snapkv pooled length",
            expected: votes.len(),
            got: out.len(),
        });
    }
    let r = ks / 2;
    let n = votes.len();
    for (j, o) in out.iter_mut().enumerate() {
        let lo = j.saturating_sub(r);
        let hi = j.saturating_add(r).saturating_add(1).min(n);
        let win = votes.get(lo..hi).unwrap_or(&[]);
        let y = match kind {
            Pool::Avg => win.iter().fold(0.0f32, |a, v| a + v.get()) / ks as f32,
            Pool::Max => win.iter().fold(f32::NEG_INFINITY, |a, v| a.max(v.get())),
        };
        *o = B::of(y);
    }
    Ok(())
}
