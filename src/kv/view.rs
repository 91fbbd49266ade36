//! Read-only views of the live rows of one layer ([`LayerView`]) and one lane ([`HeadView`]),
//! for the attention loop. Only the `len()` live rows are visible, in storage order (which is
//! irrelevant to attention, see the [module docs](super)).

use super::config::KvStorage;
use super::row;

/// The live rows of one lane (stored head) of one layer.
#[derive(Debug, Clone, Copy)]
pub struct HeadView<'c> {
    pub(crate) storage: KvStorage,
    pub(crate) row_words: usize,
    pub(crate) pos: &'c [u32],
    pub(crate) k: &'c [u32],
    pub(crate) v: &'c [u32],
}

impl<'c> HeadView<'c> {
    /// Live rows.
    pub fn len(&self) -> usize {
        self.pos.len()
    }

    /// `true` when no row is live.
    pub fn is_empty(&self) -> bool {
        self.pos.is_empty()
    }

    /// Absolute positions of the live rows, in storage order.
    pub fn positions(&self) -> &'c [u32] {
        self.pos
    }

    /// Absolute position of `row`, `None` when `row ≥ len()`.
    pub fn pos(&self, row: usize) -> Option<u32> {
        self.pos.get(row).copied()
    }

    fn k_row(&self, row: usize) -> &'c [u32] {
        let start = row.saturating_mul(self.row_words);
        self.k
            .get(start..start.saturating_add(self.row_words))
            .unwrap_or(&[])
    }

    fn v_row(&self, row: usize) -> &'c [u32] {
        let start = row.saturating_mul(self.row_words);
        self.v
            .get(start..start.saturating_add(self.row_words))
            .unwrap_or(&[])
    }

    /// `q · k_row` in f32 (`q` has `head_dim` elements). A row `≥ len()` reads as zeros.
    #[inline]
    pub fn k_dot(&self, row: usize, q: &[f32]) -> f32 {
        row::dot(self.storage, self.k_row(row), q)
    }

    /// `out += weight · v_row` (`out` has `head_dim` elements). A row `≥ len()` adds nothing.
    #[inline]
    pub fn v_axpy(&self, row: usize, weight: f32, out: &mut [f32]) {
        row::axpy(self.storage, self.v_row(row), weight, out)
    }

    /// Decodes K of `row` into `out` (zeros for a row `≥ len()`).
    pub fn k_row_into(&self, row: usize, out: &mut [f32]) {
        row::read(self.storage, self.k_row(row), out)
    }

    /// Decodes V of `row` into `out` (zeros for a row `≥ len()`).
    pub fn v_row_into(&self, row: usize, out: &mut [f32]) {
        row::read(self.storage, self.v_row(row), out)
    }

    /// `scores[r] = scale · (q · k_r)` for every live row `r` (the first `len()` entries of
    /// `scores` are written; a shorter `scores` is filled as far as it goes).
    pub fn scores(&self, q: &[f32], scale: f32, scores: &mut [f32]) {
        let rows = self.k.chunks_exact(self.row_words.max(1));
        for (s, k) in scores.iter_mut().zip(rows).take(self.len()) {
            *s = scale * row::dot(self.storage, k, q);
        }
    }

    /// `out = Σ_r weights[r] · v_r` over the live rows (`out` is overwritten).
    pub fn weighted_v(&self, weights: &[f32], out: &mut [f32]) {
        out.fill(0.0);
        let rows = self.v.chunks_exact(self.row_words.max(1));
        for (w, v) in weights.iter().zip(rows).take(self.len()) {
            row::axpy(self.storage, v, *w, out);
        }
    }
}

/// The live rows of one layer: `lanes()` lanes of `len()` rows each.
#[derive(Debug, Clone, Copy)]
pub struct LayerView<'c> {
    pub(crate) storage: KvStorage,
    pub(crate) head_dim: usize,
    pub(crate) capacity: usize,
    pub(crate) lanes: usize,
    pub(crate) q_per_lane: usize,
    pub(crate) len: usize,
    pub(crate) mem: &'c [u32],
}

impl<'c> LayerView<'c> {
    /// Live rows per lane (all lanes of a layer hold the same number of rows).
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` when no row is live.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Lanes (stored heads): the KV heads, or the query heads under
    /// [`Gqa::Repeat`](super::Gqa::Repeat).
    pub fn lanes(&self) -> usize {
        self.lanes
    }

    /// Head dimension.
    pub fn head_dim(&self) -> usize {
        self.head_dim
    }

    /// The lane query head `q_head` attends to: `q_head / (H / lanes)`.
    pub fn lane_for_query(&self, q_head: usize) -> usize {
        q_head / self.q_per_lane.max(1)
    }

    /// One lane, `None` when `lane ≥ lanes()`.
    pub fn head(&self, lane: usize) -> Option<HeadView<'c>> {
        if lane >= self.lanes {
            return None;
        }
        let rw = self.storage.row_words(self.head_dim);
        let cap = self.capacity;
        let lane_words = cap.checked_mul(2 * rw + 1)?;
        let start = lane.checked_mul(lane_words)?;
        let mem = self.mem.get(start..start.checked_add(lane_words)?)?;
        let (pos, rest) = mem.split_at_checked(cap)?;
        let (k, v) = rest.split_at_checked(cap.checked_mul(rw)?)?;
        let live = self.len.checked_mul(rw)?;
        Some(HeadView {
            storage: self.storage,
            row_words: rw,
            pos: pos.get(..self.len)?,
            k: k.get(..live)?,
            v: v.get(..live)?,
        })
    }

    /// Absolute position of `row` in `lane` (`None` out of range).
    pub fn pos(&self, row: usize, lane: usize) -> Option<u32> {
        self.head(lane)?.pos(row)
    }

    /// `q · k` of `row` in `lane` (0 out of range).
    #[inline]
    pub fn k_dot(&self, row: usize, lane: usize, q: &[f32]) -> f32 {
        self.head(lane).map_or(0.0, |h| h.k_dot(row, q))
    }

    /// `out += weight · v` of `row` in `lane` (nothing out of range).
    #[inline]
    pub fn v_axpy(&self, row: usize, lane: usize, weight: f32, out: &mut [f32]) {
        if let Some(h) = self.head(lane) {
            h.v_axpy(row, weight, out)
        }
    }
}
