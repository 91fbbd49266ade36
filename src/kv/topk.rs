//! Top-k selection of prefix positions (spec §3 step 8) with the crate's deterministic tie
//! rule: pooled score descending, then position ascending.

use super::cell::Cell;
use crate::{Error, Result};
use core::cmp::Ordering;

/// Writes into `idx[..k]` the `k` positions of `pooled` ranked first by (score descending,
/// position ascending), sorted by position ascending, and returns that slice.
///
/// `idx` needs `pooled.len()` cells (scratch). Scores compare with `f32::total_cmp`, so a
/// NaN cannot break the order. O(n) expected (`select_nth_unstable_by`) plus O(k log k).
pub(crate) fn top_k<'i, P: Cell>(
    pooled: &[P],
    k: usize,
    idx: &'i mut [u32],
) -> Result<&'i mut [u32]> {
    let n = pooled.len();
    if k > n {
        return Err(Error::InvalidParam {
            what: "snapkv top-k larger than the prefix",
        });
    }
    if u32::try_from(n).is_err() {
        return Err(Error::InvalidParam {
            what: "snapkv prefix longer than u32::MAX",
        });
    }
    let available = idx.len();
    let idx = idx.get_mut(..n).ok_or(Error::Capacity {
        what: "snapkv selection index scratch",
        needed: n,
        available,
    })?;
    for (i, x) in idx.iter_mut().enumerate() {
        *x = i as u32;
    }
    let score = |i: u32| {
        pooled
            .get(i as usize)
            .map_or(f32::NEG_INFINITY, |p| p.get())
    };
    let rank = |a: &u32, b: &u32| -> Ordering { score(*b).total_cmp(&score(*a)).then(a.cmp(b)) };
    if k < n && k > 0 {
        idx.select_nth_unstable_by(k, rank);
    }
    let kept = idx.get_mut(..k).unwrap_or(&mut []);
    kept.sort_unstable();
    Ok(kept)
}
