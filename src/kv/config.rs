//! Cache configuration: per-layer head counts, head dimension, capacity, row storage, and the
//! optional SnapKV parameters. Every size the cache needs is a `const fn` of this value.

use crate::{Error, Result};

/// Element type of the stored K and V rows. Attention always accumulates in `f32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum KvStorage {
    /// IEEE binary32, one element per 32-bit word.
    F32,
    /// IEEE binary16 (round to nearest even), two elements per 32-bit word.
    F16,
    /// Symmetric 8-bit rows with one f32 scale per row (per token and head):
    /// `s = max|x| / 127`, `q = round(x / s)` (half away from zero), `x̂ = s · q`; one scale
    /// word then four `i8` per word. Error per element ≤ `s / 2`.
    Q8,
}

impl KvStorage {
    /// 32-bit words one stored row of `head_dim` elements takes.
    pub const fn row_words(self, head_dim: usize) -> usize {
        match self {
            KvStorage::F32 => head_dim,
            KvStorage::F16 => head_dim.div_ceil(2),
            KvStorage::Q8 => 1 + head_dim.div_ceil(4),
        }
    }
}

/// 1-D pooling of the votes along the prefix axis (spec §3 step 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Pool {
    /// `F.avg_pool1d(ks, stride 1, padding ks/2)` with `count_include_pad=True`: every output,
    /// edges included, is the in-range window sum divided by `ks`.
    Avg,
    /// `F.max_pool1d(ks, stride 1, padding ks/2)`: padding is −∞, edges use real elements only.
    Max,
}

/// How grouped-query attention (H query heads sharing Hkv < H KV heads) selects rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Gqa {
    /// The reference (spec §4 step 2): K/V are repeated to H heads before compression, every
    /// query head keeps its own rows. The cache stores H lanes per layer (n_rep× the memory).
    Repeat,
    /// **Deviation from the reference**: one selection per KV head, its votes being the sum of
    /// the votes of the query heads of its group. The cache stores Hkv lanes per layer.
    Group,
}

/// SnapKV hyperparameters (spec §2, §5): observation window `w`, pooling kernel `ks`, pooling
/// kind and GQA mode. The capacity `C` (window included) is given separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SnapKv {
    /// Observation window `w` (paper `L_obs`): the last `w` query rows vote; the last `w` rows
    /// are always kept. `1 ≤ w < C`.
    pub window: usize,
    /// Pooling kernel size `ks`; must be odd (even sizes shift the pooled axis, spec §9.3).
    pub kernel: usize,
    /// Pooling kind.
    pub pool: Pool,
    /// GQA mode.
    pub gqa: Gqa,
}

impl SnapKv {
    /// Checks the parameters against a capacity `C`: `w ≥ 1`, `w < C`, odd `ks ≥ 1`.
    pub const fn check(&self, capacity: usize) -> Result<()> {
        if capacity == 0 {
            return Err(Error::InvalidParam {
                what: "snapkv capacity must be > 0",
            });
        }
        if self.window == 0 {
            return Err(Error::InvalidParam {
                what: "snapkv window must be >= 1",
            });
        }
        if self.window >= capacity {
            return Err(Error::InvalidParam {
                what: "snapkv window must be < capacity",
            });
        }
        if self.kernel.is_multiple_of(2) {
            return Err(Error::InvalidParam {
                what: "snapkv kernel size must be odd",
            });
        }
        Ok(())
    }
}

/// Configuration of a [`KvCache`](super::KvCache) for a whole model.
///
/// `q_heads[l]` / `kv_heads[l]` are the query and KV head counts of layer `l` (ragged in
/// OpenELM); `kv_heads[l]` must divide `q_heads[l]`.
///
/// ```
/// use picoformer::kv::{KvConfig, KvStorage};
/// const CFG: KvConfig<'static> = KvConfig {
///     q_heads: &[12, 12, 16, 20],
///     kv_heads: &[3, 3, 4, 5],
///     head_dim: 64,
///     capacity: 256,
///     storage: KvStorage::F16,
///     snapkv: None,
///     chunk: 1,
/// };
/// static mut KV_MEM: [u32; CFG.words()] = [0; CFG.words()];
/// assert_eq!(CFG.bytes(), 4 * CFG.words());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvConfig<'a> {
    /// Query heads per layer.
    pub q_heads: &'a [usize],
    /// KV heads per layer (same length as `q_heads`).
    pub kv_heads: &'a [usize],
    /// Head dimension `D` (same for every layer).
    pub head_dim: usize,
    /// Capacity `C`: rows per lane (per stored head) and layer, SnapKV window included.
    pub capacity: usize,
    /// Row storage.
    pub storage: KvStorage,
    /// `None`: plain ring (when full, the oldest row is overwritten). `Some`: when full, SnapKV
    /// compression frees `chunk` rows (streaming mode).
    pub snapkv: Option<SnapKv>,
    /// Rows a streaming compression frees (`1 ≤ chunk ≤ C − w`); a prefill chunk of at most
    /// this many tokens then fits without another compression. Ignored when `snapkv` is `None`.
    pub chunk: usize,
}

/// Words of the per-layer header: len, ring head, evicted, compressions, query-ring next,
/// query-ring fill, appended (tokens seen), reserved.
pub(crate) const HEADER_WORDS: usize = 8;

impl KvConfig<'_> {
    /// Number of layers.
    pub const fn layers(&self) -> usize {
        self.kv_heads.len()
    }

    /// Lanes (stored heads) of a layer: `q_heads` under [`Gqa::Repeat`], else `kv_heads`.
    pub(crate) const fn lanes_of(&self, q: usize, kv: usize) -> usize {
        match self.snapkv {
            Some(SnapKv {
                gqa: Gqa::Repeat, ..
            }) => q,
            _ => kv,
        }
    }

    /// Words of one lane: C positions, C K rows, C V rows.
    pub const fn lane_words(&self) -> usize {
        let rw = self.storage.row_words(self.head_dim);
        self.capacity
            .saturating_mul(rw.saturating_mul(2).saturating_add(1))
    }

    /// Words of the query ring of a layer with `q` query heads (`w · q · D` f32 values).
    pub(crate) const fn qring_words(&self, q: usize) -> usize {
        match self.snapkv {
            Some(s) => s.window.saturating_mul(q).saturating_mul(self.head_dim),
            None => 0,
        }
    }

    /// Words of layer `(q, kv)`: header, lanes, query ring.
    pub(crate) const fn layer_words(&self, q: usize, kv: usize) -> usize {
        HEADER_WORDS
            .saturating_add(self.lanes_of(q, kv).saturating_mul(self.lane_words()))
            .saturating_add(self.qring_words(q))
    }

    /// Words of the scratch shared by all layers for SnapKV compression: logits, votes,
    /// pooled scores and an index buffer, `C` each.
    pub const fn scratch_words(&self) -> usize {
        match self.snapkv {
            Some(_) => self.capacity.saturating_mul(4),
            None => 0,
        }
    }

    /// 32-bit words of memory the cache needs (saturates at `usize::MAX` on overflow, which
    /// [`KvCache::new`](super::KvCache::new) then rejects).
    pub const fn words(&self) -> usize {
        let mut total = 0usize;
        let mut q = self.q_heads;
        let mut kv = self.kv_heads;
        while let ([qh, q_rest @ ..], [kvh, kv_rest @ ..]) = (q, kv) {
            total = total.saturating_add(self.layer_words(*qh, *kvh));
            q = q_rest;
            kv = kv_rest;
        }
        total.saturating_add(self.scratch_words())
    }

    /// Bytes of memory the cache needs (`4 · words()`).
    pub const fn bytes(&self) -> usize {
        self.words().saturating_mul(4)
    }

    /// Bytes a full-precision f32 cache of `tokens` rows per KV head would take (no lanes
    /// repeated, no SnapKV): the baseline for "memory saved" reports.
    pub const fn full_f32_bytes(&self, tokens: usize) -> usize {
        let mut total = 0usize;
        let mut kv = self.kv_heads;
        while let [kvh, rest @ ..] = kv {
            total = total.saturating_add(
                kvh.saturating_mul(tokens)
                    .saturating_mul(self.head_dim)
                    .saturating_mul(8),
            );
            kv = rest;
        }
        total
    }

    /// Validates the configuration: at least one layer, equal-length head lists, heads ≥ 1,
    /// `kv_heads[l] | q_heads[l]`, `D ≥ 1`, `C ≥ 1`, and the SnapKV rules (odd `ks`, `w < C`,
    /// `1 ≤ chunk ≤ C − w`). Positions are `u32`, so `C` must fit in a `u32`.
    pub fn validate(&self) -> Result<()> {
        if self.kv_heads.is_empty() {
            return Err(Error::InvalidParam {
                what: "kv cache needs at least one layer",
            });
        }
        if self.q_heads.len() != self.kv_heads.len() {
            return Err(Error::Shape {
                what: "kv cache q_heads vs kv_heads layers",
                expected: self.kv_heads.len(),
                got: self.q_heads.len(),
            });
        }
        for (&q, &kv) in self.q_heads.iter().zip(self.kv_heads) {
            if q == 0 || kv == 0 || !q.is_multiple_of(kv) {
                return Err(Error::InvalidParam {
                    what: "kv cache heads: need q_heads >= 1, kv_heads >= 1, kv_heads | q_heads",
                });
            }
        }
        if self.head_dim == 0 {
            return Err(Error::InvalidParam {
                what: "kv cache head_dim must be > 0",
            });
        }
        if self.capacity == 0 || u32::try_from(self.capacity).is_err() {
            return Err(Error::InvalidParam {
                what: "kv cache capacity must be in 1..=u32::MAX",
            });
        }
        if let Some(s) = self.snapkv {
            s.check(self.capacity)?;
            if self.chunk == 0 || self.chunk > self.capacity - s.window {
                return Err(Error::InvalidParam {
                    what: "snapkv chunk must be in 1..=capacity - window",
                });
            }
        }
        Ok(())
    }
}
