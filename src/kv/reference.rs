//! Reference-mode SnapKV selection on caller slices (spec §3, `SnapKVCluster.update_kv`):
//! the prompt's full K of one layer and its last `w` queries in, votes, pooled scores and the
//! kept prefix positions of every selecting head out.

use super::config::{Gqa, SnapKv};
use super::{pool, topk, vote};
use crate::{Error, Result};

/// Shape of one layer's reference-mode input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Query heads `H`.
    pub q_heads: usize,
    /// KV heads `Hkv` (divides `H`).
    pub kv_heads: usize,
    /// Prompt length `L`.
    pub len: usize,
    /// Head dimension `D`.
    pub head_dim: usize,
}

impl Shape {
    /// Heads that select independently: `H` under [`Gqa::Repeat`], `Hkv` under [`Gqa::Group`].
    pub const fn selecting_heads(&self, gqa: Gqa) -> usize {
        match gqa {
            Gqa::Repeat => self.q_heads,
            Gqa::Group => self.kv_heads,
        }
    }

    /// Prefix length `L_p = L − w` (0 when `L < w`).
    pub const fn prefix(&self, window: usize) -> usize {
        self.len.saturating_sub(window)
    }

    /// Prefix positions kept per head: `C − w` when `L ≥ C`, else all `L_p` (no compression).
    pub const fn kept(&self, window: usize, capacity: usize) -> usize {
        if self.len < capacity {
            self.prefix(window)
        } else {
            capacity.saturating_sub(window)
        }
    }
}

/// Caller buffers of [`select`]. Lengths: `logits ≥ L`, `idx ≥ L_p`, `votes` and `pooled`
/// `= heads · L_p`, `kept = heads · kept` (see [`Shape`]); `heads` = [`Shape::selecting_heads`].
#[derive(Debug)]
pub struct Buffers<'b> {
    /// Scratch, one row of logits.
    pub logits: &'b mut [f32],
    /// Scratch for the selection.
    pub idx: &'b mut [u32],
    /// Out: votes per head (`[heads][L_p]`).
    pub votes: &'b mut [f32],
    /// Out: pooled votes per head (`[heads][L_p]`).
    pub pooled: &'b mut [f32],
    /// Out: kept prefix positions per head, ascending (`[heads][kept]`).
    pub kept: &'b mut [u32],
}

/// What [`select`] produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    /// Selecting heads.
    pub heads: usize,
    /// Prefix length `L_p`.
    pub prefix: usize,
    /// Prefix positions kept per head.
    pub kept: usize,
    /// `false` when `L < C` (reference returns K/V unchanged; all prefix positions are kept).
    pub compressed: bool,
}

/// SnapKV selection for one layer (spec §3 steps 2–8).
///
/// Inputs: `q_window` = the last `w` query rows, `[H][w][D]`, and `k` = all keys, `[Hkv][L][D]`,
/// both RoPE-rotated. For every selecting head `h` (query head under [`Gqa::Repeat`], the
/// reference; KV head under [`Gqa::Group`], a **deviation**: votes summed over the `H/Hkv`
/// query heads of the group):
/// 1. `votes[h][j] = Σ_{i<w} softmax_j(q_i · k_j / √D)` over keys `j ≤ L_p + i` (causal mask
///    inside the window only), for prefix `j < L_p`;
/// 2. `pooled[h] = pool_ks(votes[h])` ([`Pool`](super::Pool), odd `ks`);
/// 3. `kept[h]` = the `C − w` best prefix positions by (pooled descending, position ascending),
///    sorted ascending; when `L < C` every prefix position is kept. The window `L_p..L` is
///    always kept on top of these (in order).
///
/// The cache's streaming [`compress`](super::KvCache::compress) runs the same kernels.
///
/// Errors: bad [`SnapKv`] parameters or `L < w` → [`Error::InvalidParam`]; wrong slice
/// lengths → [`Error::Shape`] / [`Error::Capacity`]; NaN/∞ in `q_window` or `k` →
/// [`Error::NonFinite`].
pub fn select(
    snap: &SnapKv,
    capacity: usize,
    shape: Shape,
    q_window: &[f32],
    k: &[f32],
    buf: Buffers<'_>,
) -> Result<Selection> {
    snap.check(capacity)?;
    let Shape {
        q_heads,
        kv_heads,
        len,
        head_dim,
    } = shape;
    let w = snap.window;
    if q_heads == 0 || kv_heads == 0 || !q_heads.is_multiple_of(kv_heads) || head_dim == 0 {
        return Err(Error::InvalidParam {
            what: "snapkv heads: need kv_heads | q_heads, head_dim >= 1",
        });
    }
    if len < w {
        return Err(Error::InvalidParam {
            what: "snapkv prompt shorter than the window",
        });
    }
    let n_rep = q_heads / kv_heads;
    let heads = shape.selecting_heads(snap.gqa);
    let prefix = shape.prefix(w);
    let kept_n = shape.kept(w, capacity);
    let checks = [
        (
            "snapkv q_window [H][w][D]",
            q_heads.checked_mul(w).and_then(|x| x.checked_mul(head_dim)),
            q_window.len(),
        ),
        (
            "snapkv k [Hkv][L][D]",
            kv_heads
                .checked_mul(len)
                .and_then(|x| x.checked_mul(head_dim)),
            k.len(),
        ),
        (
            "snapkv votes [heads][L_p]",
            heads.checked_mul(prefix),
            buf.votes.len(),
        ),
        (
            "snapkv pooled [heads][L_p]",
            heads.checked_mul(prefix),
            buf.pooled.len(),
        ),
        (
            "snapkv kept [heads][kept]",
            heads.checked_mul(kept_n),
            buf.kept.len(),
        ),
    ];
    for (what, expected, got) in checks {
        let expected = expected.ok_or(Error::InvalidParam {
            what: "snapkv shape overflows usize",
        })?;
        if expected != got {
            return Err(Error::Shape {
                what,
                expected,
                got,
            });
        }
    }
    if !q_window.iter().all(|x| x.is_finite()) {
        return Err(Error::NonFinite {
            what: "snapkv q_window",
        });
    }
    if !k.iter().all(|x| x.is_finite()) {
        return Err(Error::NonFinite { what: "snapkv k" });
    }
    let group = match snap.gqa {
        Gqa::Repeat => 1,
        Gqa::Group => n_rep,
    };
    let row_len = len * head_dim;
    let votes_rows = buf.votes.chunks_exact_mut(prefix.max(1));
    let pooled_rows = buf.pooled.chunks_exact_mut(prefix.max(1));
    let kept_rows = buf.kept.chunks_exact_mut(kept_n.max(1));
    let mut out = votes_rows.zip(pooled_rows).zip(kept_rows);
    for h in 0..heads {
        let kh = match snap.gqa {
            Gqa::Repeat => h / n_rep,
            Gqa::Group => h,
        };
        let keys = k.get(kh * row_len..(kh + 1) * row_len).unwrap_or(&[]);
        let (votes, pooled, kept_out): (&mut [f32], &mut [f32], &mut [u32]) = match out.next() {
            Some(((v, p), kk)) => (v, p, kk),
            None => (&mut [], &mut [], &mut []),
        };
        votes.fill(0.0);
        for qh in h * group..(h + 1) * group {
            for i in 0..w {
                let qs = (qh * w + i) * head_dim;
                let q = q_window.get(qs..qs + head_dim).unwrap_or(&[]);
                vote::accumulate_row(prefix, i, head_dim, buf.logits, votes, |j| {
                    let kr = keys.get(j * head_dim..(j + 1) * head_dim).unwrap_or(&[]);
                    super::row::dot_cells(kr, q)
                })?;
            }
        }
        pool::pool(votes, snap.kernel, snap.pool, pooled)?;
        let kept = topk::top_k(pooled, kept_n, buf.idx)?;
        for (d, s) in kept_out.iter_mut().zip(kept.iter()) {
            *d = *s;
        }
    }
    Ok(Selection {
        heads,
        prefix,
        kept: kept_n,
        compressed: len >= capacity,
    })
}

/// Attention mass of the observation window retained by a selection (issue 5 item 5, host
/// statistics): `1 − Σ_{j dropped} votes[j] / n_queries`, where `votes` are one head's votes
/// from [`select`] (`L_p` values), `kept` its kept prefix positions and `n_queries` the number
/// of softmax rows summed into the votes (`w`, or `w · H/Hkv` under [`Gqa::Group`]). Each row
/// sums to 1 over all keys it sees and the window rows are always kept, so this is the mean,
/// over the window queries, of the probability mass on rows the cache keeps. Positions in
/// `kept` that are out of range are ignored.
pub fn retained_mass(votes: &[f32], kept: &[u32], n_queries: usize) -> f32 {
    if n_queries == 0 {
        return 1.0;
    }
    let total: f32 = votes.iter().sum();
    let kept_sum: f32 = kept.iter().filter_map(|&j| votes.get(j as usize)).sum();
    1.0 - (total - kept_sum) / n_queries as f32
}
