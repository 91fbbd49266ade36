//! Routing statistics of one MH-MoE layer: expert loads, drops, coverage, per-token divergence
//! and the paper's activation ratio (spec `mhmoe.md` §5).
//!
//! Collection is opt-in: the forward functions take `Option<&mut MoeStats>` and do no
//! statistics work at all when it is `None`.

use crate::{Error, Result};

/// Denominator of the activation ratio `r_e = c_e / T` (spec §5 item 2: the paper says
/// "tokens"; sub-tokens `T·h` are the other reading, so both are offered).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Per {
    /// `T` = tokens.
    Token,
    /// `T·h` = sub-tokens.
    SubToken,
}

/// Counters of one MoE layer over the tokens it has seen.
///
/// `counts` is caller memory of length `E` (no allocation). All counters saturate.
#[derive(Debug, PartialEq, Eq)]
pub struct MoeStats<'a> {
    counts: &'a mut [u32],
    /// Tokens seen `T`.
    pub tokens: u64,
    /// Sub-tokens seen `T·h`.
    pub sub_tokens: u64,
    /// Expert evaluations performed (sub-token × selected expert, after capacity drops).
    pub routed: u64,
    /// Selections dropped by capacity emulation (0 in dropless mode).
    pub dropped: u64,
    /// `Σ_tokens` of the number of distinct experts selected by the token's `h` sub-tokens
    /// (spec §5 item 7, the paper's Fig. 7 "divergence"; all `k` choices counted).
    pub divergence_sum: u64,
    /// Multiply-accumulates performed: head, merge, router and the experts actually run.
    pub macs: u64,
}

impl<'a> MoeStats<'a> {
    /// Wraps `counts` (length `E`, zeroed here).
    ///
    /// Errors: [`Error::InvalidParam`] if `counts` is empty.
    pub fn new(counts: &'a mut [u32]) -> Result<Self> {
        if counts.is_empty() {
            return Err(Error::InvalidParam {
                what: "moe stats: counts needs one slot per expert",
            });
        }
        counts.fill(0);
        Ok(MoeStats {
            counts,
            tokens: 0,
            sub_tokens: 0,
            routed: 0,
            dropped: 0,
            divergence_sum: 0,
            macs: 0,
        })
    }

    /// Clears every counter.
    pub fn reset(&mut self) {
        self.counts.fill(0);
        self.tokens = 0;
        self.sub_tokens = 0;
        self.routed = 0;
        self.dropped = 0;
        self.divergence_sum = 0;
        self.macs = 0;
    }

    /// `c_e`: top-k selections of each expert (sub-token level, spec §5 item 1), counted at
    /// routing time, i.e. before any capacity drop.
    pub fn counts(&self) -> &[u32] {
        self.counts
    }

    /// Number of experts `E` (length of `counts`).
    pub fn experts(&self) -> usize {
        self.counts.len()
    }

    /// Coverage: experts with `c_e > 0`.
    pub fn coverage(&self) -> usize {
        self.counts.iter().filter(|&&c| c > 0).count()
    }

    /// Largest `c_e`.
    pub fn max_load(&self) -> u32 {
        self.counts.iter().copied().max().unwrap_or(0)
    }

    /// Mean `c_e` over the `E` experts (= `T·h·k / E` when nothing saturates).
    pub fn mean_load(&self) -> f32 {
        let sum: u64 = self.counts.iter().map(|&c| u64::from(c)).sum();
        sum as f32 / self.counts.len().max(1) as f32
    }

    /// Mean per-token divergence (`divergence_sum / tokens`; 0 before any token).
    pub fn mean_divergence(&self) -> f32 {
        if self.tokens == 0 {
            0.0
        } else {
            self.divergence_sum as f32 / self.tokens as f32
        }
    }

    /// Experts counted as activated: `c_e / T > threshold` with `T` chosen by `per`
    /// (spec §5 items 2–3; the paper does not give the threshold τ < 1). 0 before any token.
    pub fn activated(&self, threshold: f32, per: Per) -> usize {
        let t = match per {
            Per::Token => self.tokens,
            Per::SubToken => self.sub_tokens,
        };
        if t == 0 {
            return 0;
        }
        self.counts
            .iter()
            .filter(|&&c| c as f32 / t as f32 > threshold)
            .count()
    }

    /// This layer's activation ratio `#activated / E`.
    pub fn activation_ratio(&self, threshold: f32, per: Per) -> f32 {
        self.activated(threshold, per) as f32 / self.counts.len().max(1) as f32
    }

    pub(crate) fn count_selection(&mut self, e: usize) {
        if let Some(c) = self.counts.get_mut(e) {
            *c = c.saturating_add(1);
        }
    }
}

/// The paper's activation ratio over several MoE layers: activated (layer, expert) cells /
/// `Σ_layers E` (spec §5 item 4).
///
/// ```
/// use picoformer::moe::{activation_ratio, MoeStats, Per};
/// let (mut a, mut b) = ([0u32; 4], [0u32; 4]);
/// let layers = [MoeStats::new(&mut a)?, MoeStats::new(&mut b)?];
/// assert_eq!(activation_ratio(&layers, 0.1, Per::Token), 0.0);
/// # Ok::<(), picoformer::Error>(())
/// ```
pub fn activation_ratio(layers: &[MoeStats<'_>], threshold: f32, per: Per) -> f32 {
    let cells: usize = layers.iter().map(MoeStats::experts).sum();
    let active: usize = layers.iter().map(|s| s.activated(threshold, per)).sum();
    if cells == 0 {
        0.0
    } else {
        active as f32 / cells as f32
    }
}
