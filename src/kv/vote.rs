//! SnapKV votes (spec §3 steps 3–6, streamed as in §7): the softmax of each observation-window
//! query over all keys it may see, summed over the window rows, kept for prefix keys only.

use super::cell::Cell;
use crate::{math, Error, Result};

/// Adds one window row's attention probabilities to `votes`.
///
/// Window row `i` (0-based inside the window of `w` rows) of a prompt whose prefix has `P` rows
/// sees keys `0 ..= P + i` (prefix columns are never masked, window columns `j > i` are, spec §3
/// step 4). With `ℓ_j = dot(j) / √D`, `m = max_j ℓ_j` and `s = Σ_j e^{ℓ_j − m}`:
///
/// `votes[j] += e^{ℓ_j − m} / s` for `j < P`.
///
/// `logits` is O(L) scratch (at least `P + i + 1` cells); `votes` has at least `P` cells.
/// `dot(j)` returns the raw `q_i · k_j`.
pub(crate) fn accumulate_row<S: Cell, V: Cell>(
    prefix: usize,
    i: usize,
    head_dim: usize,
    logits: &mut [S],
    votes: &mut [V],
    mut dot: impl FnMut(usize) -> f32,
) -> Result<()> {
    let keys = prefix.saturating_add(i).saturating_add(1);
    let available = logits.len();
    let logits = logits.get_mut(..keys).ok_or(Error::Capacity {
        what: "snapkv logits scratch",
        needed: keys,
        available,
    })?;
    let available = votes.len();
    let votes = votes.get_mut(..prefix).ok_or(Error::Capacity {
        what: "snapkv votes",
        needed: prefix,
        available,
    })?;
    let sqrt_d = math::sqrt(head_dim as f32);
    // Pass 1: logits and their maximum.
    let mut m = f32::NEG_INFINITY;
    for (j, l) in logits.iter_mut().enumerate() {
        let x = dot(j) / sqrt_d;
        m = m.max(x);
        *l = S::of(x);
    }
    // Pass 2: exponentials and their sum.
    let mut s = 0.0f32;
    for l in logits.iter_mut() {
        let e = math::exp(l.get() - m);
        s += e;
        *l = S::of(e);
    }
    // Pass 3: normalised probabilities of the prefix keys.
    for (v, e) in votes.iter_mut().zip(logits.iter()) {
        *v = V::of(v.get() + e.get() / s);
    }
    Ok(())
}
