//! Per-layer cache statistics (issue 5 item 5).

/// Counters of one layer since the last [`reset`](super::KvCache::reset).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LayerStats {
    /// Live rows per lane now.
    pub kept: usize,
    /// Rows dropped per lane (ring overwrites or SnapKV evictions).
    pub evicted: usize,
    /// Tokens appended.
    pub seen: usize,
    /// SnapKV compressions run.
    pub compressions: usize,
}

impl LayerStats {
    /// Compression ratio `seen / kept` (1 when nothing was dropped, 0 when empty).
    pub fn ratio(&self) -> f32 {
        if self.kept == 0 {
            0.0
        } else {
            self.seen as f32 / self.kept as f32
        }
    }
}
