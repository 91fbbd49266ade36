//! Fixed-capacity KV ring cache with SnapKV compression (issue 5; Li et al. 2024, "SnapKV: LLM
//! Knows What You are Looking for Before Generation", arXiv 2404.14469; spec
//! `snapkv.md` §3, §7, §8).
//!
//! # Memory and layout
//! The whole cache lives in one caller slice of `u32` words whose length is the `const fn`
//! [`KvConfig::words`] (bytes: [`KvConfig::bytes`]), so firmware can size a `static`:
//!
//! ```text
//! for each layer l:
//!   header   8 words: live rows, ring head, evicted, compressions, query-ring next/fill, seen
//!   lanes    lanes(l) × lane, lane = [ pos: C × u32 | K: C × row | V: C × row ]
//!   qring    (SnapKV only) w × q_heads(l) × D f32 bits: the last w queries, oldest first from "next"
//! scratch    (SnapKV only) 4·C words shared by all layers: logits, votes, pooled, indices
//! ```
//! `row` is `D` words ([`KvStorage::F32`]) or `⌈D/2⌉` words ([`KvStorage::F16`], two halves a
//! word). `lanes(l)` is `kv_heads[l]`, or `q_heads[l]` under [`Gqa::Repeat`] (the reference
//! stores KV repeated to every query head). Rows `0..len` of every lane are live; attention
//! reads them through [`LayerView`] / [`HeadView`] (`k_dot`, `v_axpy`, `scores`,
//! `weighted_v`), which hide the storage type and never expose dead rows.
//!
//! # Order invariance (why rows may sit anywhere)
//! Attention `softmax(q·Kᵀ/√D)·V` is invariant under any permutation applied to the rows of
//! K and V together. RoPE is applied to each key **before** it is stored, using its absolute
//! position, so a stored row never needs to know its slot. Hence a ring may overwrite any slot,
//! and SnapKV may keep rows in ascending position order (in-place compaction) instead of the
//! reference's top-k order (spec §7). Every row keeps its absolute position (`u32`, per lane,
//! because each head selects independently) for masking, statistics and tests. **RoPE for a new
//! token always uses the true, uncompressed position counter** (the number of tokens seen, spec
//! §4 step 6, invariant 11), never the cache length: the caller passes it as `pos`.
//!
//! # When a layer is full
//! - SnapKV off ([`KvConfig::snapkv`] `= None`): **plain ring** — the oldest row (slot `head`)
//!   is overwritten; the cache then holds the last `C` tokens (sliding window).
//! - SnapKV on: **streaming compression** — before the next append, the layer is compressed to
//!   `C − chunk` rows with the selection of spec §3 driven by the last `w` queries (kept in the
//!   per-layer query ring, so [`KvCache::append_with_query`] is required): each lane keeps its
//!   `C − chunk − w` best prefix rows plus the `w` window rows. Votes are streamed with `O(C)`
//!   scratch (two passes per window row, spec §7). This is the crate's fixed-memory policy;
//!   the reference compresses once after prefill and then lets the cache grow (spec §4 step 5).
//!   Unlike the reference, later prompt tokens attend to the compressed cache (the memory is
//!   fixed), and the prefill attention of a token only sees rows kept so far.
//!
//! # Reference mode
//! [`select`] runs spec §3 on one layer's full prompt keys (caller staging) and last `w`
//! queries: votes, pooled scores and the kept prefix positions per head (deterministic tie
//! rule: pooled score descending, then position ascending), `L < C` → no compression.
//!
//! # `pico snapkv` (stable interface)
//! `pico snapkv --input case.json` (`-` = stdin) reads
//! `{"q":[H][L][D], "k":[Hkv][L][D], "window":w, "capacity":C, "kernel":ks,
//! "pool":"avg"|"max", "gqa":"repeat"|"group"}` (keys RoPE-rotated; only the last `w` rows of
//! `q` are used) and prints `{"kept":[[sorted kept prefix positions] per selecting head],
//! "votes":[[...] per head], "pooled":[[...] per head], "compressed":bool,
//! "retained_mass":[...]}` computed by [`select`] and [`retained_mass`]. Selecting heads are
//! the `H` query heads (`repeat`) or the `Hkv` KV heads (`group`); the window `L−w..L` is kept
//! on top of `kept`.
//!
//! # Example
//! ```
//! use picoformer::kv::{KvCache, KvConfig, KvStorage};
//! const CFG: KvConfig<'static> = KvConfig {
//!     q_heads: &[4, 6],
//!     kv_heads: &[2, 3],
//!     head_dim: 4,
//!     capacity: 8,
//!     storage: KvStorage::F32,
//!     snapkv: None,
//!     chunk: 1,
//! };
//! let mut mem = [0u32; CFG.words()];
//! let mut cache = KvCache::new(CFG, &mut mem)?;
//! cache.append(0, 0, &[1.0; 8], &[2.0; 8])?;
//! let view = cache.layer(0)?;
//! let head = view.head(view.lane_for_query(3)).ok_or(picoformer::Error::InvalidParam { what: "lane" })?;
//! assert_eq!(head.k_dot(0, &[1.0; 4]), 4.0);
//! # Ok::<(), picoformer::Error>(())
//! ```

mod cache;
mod cell;
mod config;
mod pool;
mod reference;
mod row;
mod stats;
mod topk;
mod view;
mod vote;

pub use cache::KvCache;
pub use config::{Gqa, KvConfig, KvStorage, Pool, SnapKv};
pub use reference::{retained_mass, select, Buffers, Selection, Shape};
pub(crate) use row::dot_cells;
pub use stats::LayerStats;
pub use view::{HeadView, LayerView};
