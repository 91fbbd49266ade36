//! [`KvCache`]: the fixed-capacity KV store of a whole model in caller memory.

use super::config::{KvConfig, HEADER_WORDS};
use super::reference::{select, Buffers, Selection, Shape};
use super::stats::LayerStats;
use super::view::LayerView;
use super::{pool, row, topk, vote};
use crate::{Error, Result};

// Per-layer header words.
const H_LEN: usize = 0;
const H_HEAD: usize = 1;
const H_EVICTED: usize = 2;
const H_COMPRESSIONS: usize = 3;
const H_QNEXT: usize = 4;
const H_QFILL: usize = 5;
const H_SEEN: usize = 6;

/// Where one layer lives in the cache memory.
#[derive(Clone, Copy)]
struct LayerLoc {
    start: usize,
    words: usize,
    q_heads: usize,
    kv_heads: usize,
    lanes: usize,
}

/// The KV cache of a whole model: per layer, `lanes` lanes of `C` rows (absolute position, K
/// row, V row), in caller-provided memory of [`KvConfig::words`] 32-bit words. See the
/// [module docs](super) for the layout, the full-ring policies and the order-invariance argument.
#[derive(Debug)]
pub struct KvCache<'a> {
    cfg: KvConfig<'a>,
    mem: &'a mut [u32],
}

impl<'a> KvCache<'a> {
    /// Builds an empty cache in `mem` (at least [`KvConfig::words`] words; extra words are
    /// unused).
    ///
    /// Errors: invalid configuration ([`KvConfig::validate`]); `mem` too small →
    /// [`Error::Capacity`] (in words).
    pub fn new(cfg: KvConfig<'a>, mem: &'a mut [u32]) -> Result<Self> {
        cfg.validate()?;
        let needed = cfg.words();
        if needed == usize::MAX || mem.len() < needed {
            return Err(Error::Capacity {
                what: "kv cache memory (u32 words)",
                needed,
                available: mem.len(),
            });
        }
        let (mem, _) = mem.split_at_mut(needed);
        let mut cache = KvCache { cfg, mem };
        cache.reset();
        Ok(cache)
    }

    /// The configuration.
    pub fn config(&self) -> &KvConfig<'a> {
        &self.cfg
    }

    /// Empties every layer and clears the statistics (row contents are not erased).
    pub fn reset(&mut self) {
        for l in 0..self.cfg.layers() {
            if let Some(loc) = self.loc(l) {
                if let Some(h) = self.mem.get_mut(loc.start..loc.start + HEADER_WORDS) {
                    h.fill(0);
                }
            }
        }
    }

    fn loc(&self, layer: usize) -> Option<LayerLoc> {
        let mut start = 0usize;
        for (l, (&q, &kv)) in self.cfg.q_heads.iter().zip(self.cfg.kv_heads).enumerate() {
            let words = self.cfg.layer_words(q, kv);
            if l == layer {
                return Some(LayerLoc {
                    start,
                    words,
                    q_heads: q,
                    kv_heads: kv,
                    lanes: self.cfg.lanes_of(q, kv),
                });
            }
            start = start.checked_add(words)?;
        }
        None
    }

    fn loc_or_err(&self, layer: usize) -> Result<LayerLoc> {
        self.loc(layer).ok_or(Error::InvalidParam {
            what: "kv cache layer index out of range",
        })
    }

    fn header(&self, loc: LayerLoc, word: usize) -> usize {
        self.mem.get(loc.start + word).map_or(0, |&x| x as usize)
    }

    /// Live rows of `layer` (0 for an out-of-range layer).
    pub fn len(&self, layer: usize) -> usize {
        self.loc(layer).map_or(0, |loc| self.header(loc, H_LEN))
    }

    /// `true` when `layer` holds no row.
    pub fn is_empty(&self, layer: usize) -> bool {
        self.len(layer) == 0
    }

    /// Read view of the live rows of `layer`.
    pub fn layer(&self, layer: usize) -> Result<LayerView<'_>> {
        let loc = self.loc_or_err(layer)?;
        let len = self.header(loc, H_LEN);
        let lanes_start = loc.start + HEADER_WORDS;
        let lanes_words = loc.lanes * self.cfg.lane_words();
        let mem =
            self.mem
                .get(lanes_start..lanes_start + lanes_words)
                .ok_or(Error::InvalidParam {
                    what: "kv cache layout",
                })?;
        Ok(LayerView {
            storage: self.cfg.storage,
            head_dim: self.cfg.head_dim,
            capacity: self.cfg.capacity,
            lanes: loc.lanes,
            q_per_lane: loc.q_heads / loc.lanes.max(1),
            len,
            mem,
        })
    }

    /// Statistics of `layer` (zeros for an out-of-range layer).
    pub fn stats(&self, layer: usize) -> LayerStats {
        match self.loc(layer) {
            Some(loc) => LayerStats {
                kept: self.header(loc, H_LEN),
                evicted: self.header(loc, H_EVICTED),
                seen: self.header(loc, H_SEEN),
                compressions: self.header(loc, H_COMPRESSIONS),
            },
            None => LayerStats::default(),
        }
    }

    /// Appends the K and V rows of one token at absolute position `pos` to `layer`
    /// (`k`, `v`: `kv_heads[layer] · head_dim` values, head-major).
    ///
    /// When the layer is full: plain ring (SnapKV off) overwrites the oldest row. With SnapKV
    /// on this returns [`Error::InvalidParam`]: use [`append_with_query`](Self::append_with_query).
    pub fn append(&mut self, layer: usize, pos: u32, k: &[f32], v: &[f32]) -> Result<()> {
        self.append_with_query(layer, pos, &[], k, v)
    }

    /// Appends one token like [`append`](Self::append) and records its query
    /// (`q`: `q_heads[layer] · head_dim` values, RoPE applied) in the layer's query ring.
    /// `q` is ignored (may be empty) when SnapKV is off.
    ///
    /// With SnapKV on, a full layer is first compressed to `C − chunk` rows (streaming mode,
    /// [`compress`](Self::compress)) using the last `w` recorded queries.
    pub fn append_with_query(
        &mut self,
        layer: usize,
        pos: u32,
        q: &[f32],
        k: &[f32],
        v: &[f32],
    ) -> Result<()> {
        let loc = self.loc_or_err(layer)?;
        let hd = self.cfg.head_dim;
        let kv_len = loc.kv_heads * hd;
        for (what, got) in [
            ("kv cache append k", k.len()),
            ("kv cache append v", v.len()),
        ] {
            if got != kv_len {
                return Err(Error::Shape {
                    what,
                    expected: kv_len,
                    got,
                });
            }
        }
        let cap = self.cfg.capacity;
        let mut len = self.header(loc, H_LEN);
        let slot;
        match self.cfg.snapkv {
            None => {
                if len < cap {
                    slot = len;
                    len += 1;
                } else {
                    slot = self.header(loc, H_HEAD) % cap;
                    self.set(loc, H_HEAD, (slot + 1) % cap);
                    let e = self.header(loc, H_EVICTED);
                    self.set(loc, H_EVICTED, e.saturating_add(1));
                }
            }
            Some(s) => {
                let q_len = loc.q_heads * hd;
                if q.len() != q_len {
                    return Err(Error::Shape {
                        what: "kv cache append query (snapkv on: use append_with_query)",
                        expected: q_len,
                        got: q.len(),
                    });
                }
                if len >= cap {
                    self.compress(layer, cap - self.cfg.chunk)?;
                    len = self.header(loc, H_LEN);
                }
                slot = len;
                len += 1;
                // Record the query.
                let qnext = self.header(loc, H_QNEXT) % s.window;
                let qfill = self.header(loc, H_QFILL);
                let qstart =
                    loc.start + loc.words - self.cfg.qring_words(loc.q_heads) + qnext * q_len;
                if let Some(dst) = self.mem.get_mut(qstart..qstart + q_len) {
                    for (d, x) in dst.iter_mut().zip(q) {
                        *d = x.to_bits();
                    }
                }
                self.set(loc, H_QNEXT, (qnext + 1) % s.window);
                self.set(loc, H_QFILL, (qfill + 1).min(s.window));
            }
        }
        let rw = self.cfg.storage.row_words(hd);
        let lane_words = self.cfg.lane_words();
        let per_kv = loc.lanes / loc.kv_heads.max(1);
        for lane in 0..loc.lanes {
            let kvh = lane / per_kv.max(1);
            let src = kvh * hd..(kvh + 1) * hd;
            let (Some(ks), Some(vs)) = (k.get(src.clone()), v.get(src)) else {
                continue;
            };
            let base = loc.start + HEADER_WORDS + lane * lane_words;
            if let Some(p) = self.mem.get_mut(base + slot) {
                *p = pos;
            }
            let kb = base + cap + slot * rw;
            if let Some(dst) = self.mem.get_mut(kb..kb + rw) {
                row::write(self.cfg.storage, dst, ks);
            }
            let vb = base + cap + cap * rw + slot * rw;
            if let Some(dst) = self.mem.get_mut(vb..vb + rw) {
                row::write(self.cfg.storage, dst, vs);
            }
        }
        self.set(loc, H_LEN, len);
        let seen = self.header(loc, H_SEEN);
        self.set(loc, H_SEEN, seen.saturating_add(1));
        Ok(())
    }

    fn set(&mut self, loc: LayerLoc, word: usize, value: usize) {
        if let Some(h) = self.mem.get_mut(loc.start + word) {
            *h = u32::try_from(value).unwrap_or(u32::MAX);
        }
    }

    /// Reference-mode prefill of `layer` (spec §3–§4, `update_kv` after a full-prompt
    /// prefill): replaces the layer's content with the SnapKV selection of a whole prompt.
    ///
    /// `k`, `v`: the prompt's K and V, `[Hkv][L][D]` (RoPE applied; caller staging memory);
    /// `q_window`: its last `w` queries, `[H][w][D]`; token `j` has absolute position
    /// `first_pos + j`. Runs [`select`] with `C` = the cache capacity (scratch and outputs in
    /// `buf`, sized for `L`), then stores per lane its kept prefix rows (ascending) followed by
    /// the `w` window rows, and records the window queries in the query ring, so streaming
    /// compression can continue from there. `L < C` stores the prompt unchanged.
    ///
    /// Errors: SnapKV off → [`Error::InvalidParam`]; the errors of [`select`]; `k`/`v` not a
    /// whole number of `[Hkv][·][D]` rows → [`Error::Shape`].
    pub fn load_prompt(
        &mut self,
        layer: usize,
        first_pos: u32,
        q_window: &[f32],
        k: &[f32],
        v: &[f32],
        buf: Buffers<'_>,
    ) -> Result<Selection> {
        let loc = self.loc_or_err(layer)?;
        let Some(snap) = self.cfg.snapkv else {
            return Err(Error::InvalidParam {
                what: "kv cache load_prompt needs snapkv on",
            });
        };
        let hd = self.cfg.head_dim;
        let per_token = loc.kv_heads * hd;
        if !k.len().is_multiple_of(per_token.max(1)) || v.len() != k.len() {
            return Err(Error::Shape {
                what: "kv cache load_prompt k/v [Hkv][L][D]",
                expected: k.len() - k.len() % per_token.max(1),
                got: v.len(),
            });
        }
        let len = k.len() / per_token.max(1);
        if u32::try_from(len)
            .ok()
            .and_then(|l| first_pos.checked_add(l))
            .is_none()
        {
            return Err(Error::InvalidParam {
                what: "kv cache load_prompt positions overflow u32",
            });
        }
        let shape = Shape {
            q_heads: loc.q_heads,
            kv_heads: loc.kv_heads,
            len,
            head_dim: hd,
        };
        let sel = select(
            &snap,
            self.cfg.capacity,
            shape,
            q_window,
            k,
            Buffers {
                logits: &mut *buf.logits,
                idx: &mut *buf.idx,
                votes: &mut *buf.votes,
                pooled: &mut *buf.pooled,
                kept: &mut *buf.kept,
            },
        )?;
        let w = snap.window;
        let kept_n = sel.kept;
        let cap = self.cfg.capacity;
        let storage = self.cfg.storage;
        let rw = storage.row_words(hd);
        let lane_words = self.cfg.lane_words();
        let per_kv = loc.lanes / loc.kv_heads.max(1);
        for lane in 0..loc.lanes {
            let kvh = lane / per_kv.max(1);
            let kept = buf
                .kept
                .get(lane * kept_n..(lane + 1) * kept_n)
                .unwrap_or(&[]);
            let sources = kept.iter().map(|&x| x as usize).chain(len - w..len);
            let base = loc.start + HEADER_WORDS + lane * lane_words;
            for (dst, src) in sources.enumerate() {
                let at = (kvh * len + src) * hd;
                let (Some(ks), Some(vs)) = (k.get(at..at + hd), v.get(at..at + hd)) else {
                    continue;
                };
                if let Some(p) = self.mem.get_mut(base + dst) {
                    *p = first_pos.saturating_add(src as u32);
                }
                let kb = base + cap + dst * rw;
                if let Some(d) = self.mem.get_mut(kb..kb + rw) {
                    row::write(storage, d, ks);
                }
                let vb = base + cap + cap * rw + dst * rw;
                if let Some(d) = self.mem.get_mut(vb..vb + rw) {
                    row::write(storage, d, vs);
                }
            }
        }
        // Query ring: window row i in entry i (oldest first, next = 0).
        let q_len = loc.q_heads * hd;
        let qstart = loc.start + loc.words - self.cfg.qring_words(loc.q_heads);
        for i in 0..w {
            for qh in 0..loc.q_heads {
                let src = (qh * w + i) * hd;
                let dst = qstart + i * q_len + qh * hd;
                if let (Some(d), Some(s)) =
                    (self.mem.get_mut(dst..dst + hd), q_window.get(src..src + hd))
                {
                    for (d, x) in d.iter_mut().zip(s) {
                        *d = x.to_bits();
                    }
                }
            }
        }
        let stored = kept_n + w;
        self.set(loc, H_LEN, stored);
        self.set(loc, H_HEAD, 0);
        self.set(loc, H_EVICTED, len - stored);
        self.set(loc, H_COMPRESSIONS, usize::from(sel.compressed));
        self.set(loc, H_QNEXT, 0);
        self.set(loc, H_QFILL, w);
        self.set(loc, H_SEEN, len);
        Ok(sel)
    }

    /// Streaming SnapKV compression of `layer` down to `target` rows (spec §3 applied to the
    /// ring, §7): the window is the last `w` rows (the tokens whose queries the query ring
    /// holds); the prefix is every other live row. Each lane (query head under
    /// [`Gqa::Repeat`](super::Gqa::Repeat), KV head under [`Gqa::Group`](super::Gqa::Group) with votes summed over its query group)
    /// keeps its `target − w` best prefix rows (pooled score descending, then storage index
    /// ascending) followed by the window, compacted in place in storage order (= position
    /// order, since a SnapKV ring never wraps). Votes use O(C) scratch (two passes per window
    /// row), never a `w × C` matrix.
    ///
    /// No-op when `target ≥ len`. Errors: SnapKV off, `target < w`, or fewer than `w` queries
    /// recorded → [`Error::InvalidParam`].
    pub fn compress(&mut self, layer: usize, target: usize) -> Result<()> {
        let loc = self.loc_or_err(layer)?;
        let Some(s) = self.cfg.snapkv else {
            return Err(Error::InvalidParam {
                what: "kv cache compress needs snapkv on",
            });
        };
        let len = self.header(loc, H_LEN);
        if target >= len {
            return Ok(());
        }
        let w = s.window;
        if target < w {
            return Err(Error::InvalidParam {
                what: "snapkv compress target must be >= window",
            });
        }
        if self.header(loc, H_QFILL) < w {
            return Err(Error::InvalidParam {
                what: "snapkv compress needs window queries recorded",
            });
        }
        let cap = self.cfg.capacity;
        let hd = self.cfg.head_dim;
        let storage = self.cfg.storage;
        let rw = storage.row_words(hd);
        let lane_words = self.cfg.lane_words();
        let prefix = len - w;
        let keep = target - w;
        let qnext = self.header(loc, H_QNEXT) % w;
        let q_len = loc.q_heads * hd;
        let qring_words = self.cfg.qring_words(loc.q_heads);
        let group = loc.q_heads / loc.lanes.max(1);

        let layers_end = self.mem.len().saturating_sub(self.cfg.scratch_words());
        let (body, scratch) = self.mem.split_at_mut(layers_end);
        let layer_mem =
            body.get_mut(loc.start..loc.start + loc.words)
                .ok_or(Error::InvalidParam {
                    what: "kv cache layout",
                })?;
        let layout = Error::InvalidParam {
            what: "kv cache layout",
        };
        let (lanes_mem, qring) = layer_mem
            .split_at_mut_checked(loc.words.saturating_sub(qring_words))
            .ok_or(layout)?;
        let lanes_mem = lanes_mem.get_mut(HEADER_WORDS..).unwrap_or(&mut []);
        let (logits, rest) = scratch.split_at_mut_checked(cap).ok_or(layout)?;
        let (votes, rest) = rest.split_at_mut_checked(cap).ok_or(layout)?;
        let (pooled, idx) = rest.split_at_mut_checked(cap).ok_or(layout)?;

        for lane in 0..loc.lanes {
            let lane_mem = lanes_mem
                .get_mut(lane * lane_words..(lane + 1) * lane_words)
                .ok_or(Error::InvalidParam {
                    what: "kv cache layout",
                })?;
            let votes = votes.get_mut(..prefix).unwrap_or(&mut []);
            votes.fill(0);
            {
                let keys = lane_mem.get(cap..cap + len * rw).unwrap_or(&[]);
                for qh in lane * group..(lane + 1) * group {
                    for i in 0..w {
                        let e = (qnext + i) % w;
                        let qs = e * q_len + qh * hd;
                        let q = qring.get(qs..qs + hd).unwrap_or(&[]);
                        vote::accumulate_row(prefix, i, hd, logits, votes, |j| {
                            row::dot(storage, keys.get(j * rw..(j + 1) * rw).unwrap_or(&[]), q)
                        })?;
                    }
                }
            }
            let pooled = pooled.get_mut(..prefix).unwrap_or(&mut []);
            pool::pool(votes, s.kernel, s.pool, pooled)?;
            let kept = topk::top_k(pooled, keep, idx)?;
            // Compact: kept prefix rows (ascending), then the window, to rows 0..target.
            // Every source index is >= its destination, so copying forward is safe.
            let sources = kept.iter().map(|&x| x as usize).chain(prefix..len);
            for (dst, src) in sources.enumerate() {
                if dst == src {
                    continue;
                }
                copy(lane_mem, src, dst, 1);
                copy(lane_mem, cap + src * rw, cap + dst * rw, rw);
                let v0 = cap + cap * rw;
                copy(lane_mem, v0 + src * rw, v0 + dst * rw, rw);
            }
        }
        self.set(loc, H_LEN, target);
        self.set(loc, H_HEAD, 0);
        let e = self.header(loc, H_EVICTED);
        self.set(loc, H_EVICTED, e.saturating_add(len - target));
        let c = self.header(loc, H_COMPRESSIONS);
        self.set(loc, H_COMPRESSIONS, c.saturating_add(1));
        Ok(())
    }
}

/// `mem[dst..dst + n] = mem[src..src + n]`, nothing when either range is out of bounds.
fn copy(mem: &mut [u32], src: usize, dst: usize, n: usize) {
    let end = src.max(dst).saturating_add(n);
    if end <= mem.len() {
        mem.copy_within(src..src + n, dst);
    }
}
