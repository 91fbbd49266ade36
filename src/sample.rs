//! Token sampling from logits: greedy, temperature and top-p (nucleus), with caller-provided
//! bounded buffers and a small seeded PRNG.
//!
//! Everything is deterministic across targets: the PRNG is integer-only ([`Rng`], PCG32), the
//! uniform draw uses 24 bits so it is exact in `f32`, and ties are broken by the crate rule
//! (score descending, then index ascending).
//!
//! ```
//! use picoformer::sample::{Rng, Sampler};
//! let mut logits = [0.5f32, 2.0, -1.0, 2.0];
//! // greedy: the highest logit, lowest index on ties
//! assert_eq!(picoformer::sample::greedy(&logits)?, 1);
//! let mut idx = [0u32; 4];
//! let mut probs = [0f32; 4];
//! let mut s = Sampler::new(0.8, 0.9, Rng::new(42))?;
//! let tok = s.sample(&mut logits, &mut idx, &mut probs)?;
//! assert!(tok < 4);
//! # Ok::<(), picoformer::Error>(())
//! ```

use crate::{math, Error, Result};

/// PCG32 (O'Neill 2014, `pcg32_random_r`: 64-bit LCG `state = state·6364136223846793005 + inc`,
/// XSH-RR output `rotr32(((old >> 18) ^ old) >> 27, old >> 59)`), seeded like `pcg32_srandom_r`
/// (`state = 0; step; state += seed; step`) with the fixed increment
/// `inc = 1442695040888963407` (pcg-cpp's default stream). Integer-only, so the sequence is
/// identical on every target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rng {
    state: u64,
}

const PCG_MUL: u64 = 6364136223846793005;
const PCG_INC: u64 = 1442695040888963407;

impl Rng {
    /// A generator seeded with `seed`.
    pub const fn new(seed: u64) -> Rng {
        let mut r = Rng { state: 0 };
        r.state = r.state.wrapping_mul(PCG_MUL).wrapping_add(PCG_INC);
        r.state = r.state.wrapping_add(seed);
        r.state = r.state.wrapping_mul(PCG_MUL).wrapping_add(PCG_INC);
        r
    }

    /// Next 32 uniformly distributed bits.
    pub fn next_u32(&mut self) -> u32 {
        let old = self.state;
        self.state = old.wrapping_mul(PCG_MUL).wrapping_add(PCG_INC);
        let xorshifted = (((old >> 18) ^ old) >> 27) as u32;
        let rot = (old >> 59) as u32;
        xorshifted.rotate_right(rot)
    }

    /// Uniform in `[0, 1)`: the top 24 bits of [`Rng::next_u32`] times `2^-24` (exact in f32).
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0)
    }
}

/// Scratch elements [`top_p`] and [`Sampler::sample`] need for a vocabulary of `vocab`
/// tokens: `vocab` indices (`u32`) and `vocab` probabilities (`f32`).
pub const fn scratch_len(vocab: usize) -> usize {
    vocab
}

fn check_finite(logits: &[f32]) -> Result<()> {
    if logits.is_empty() {
        return Err(Error::InvalidParam {
            what: "sampling needs at least one logit",
        });
    }
    if logits.iter().any(|x| x.is_nan()) {
        return Err(Error::NonFinite { what: "logits" });
    }
    Ok(())
}

/// `argmax_i logits[i]`, the lowest index on ties ([`ops::argmax`](crate::ops::argmax)).
///
/// # Errors
/// [`Error::InvalidParam`] for empty logits, [`Error::NonFinite`] if any is NaN.
pub fn greedy(logits: &[f32]) -> Result<u32> {
    if logits.is_empty() {
        return Err(Error::InvalidParam {
            what: "sampling needs at least one logit",
        });
    }
    let best = crate::ops::argmax(logits).map_err(|_| Error::NonFinite { what: "logits" })?;
    u32::try_from(best).map_err(|_| Error::InvalidParam {
        what: "vocabulary exceeds u32",
    })
}

/// In place: `p_i = exp((x_i − max)/T) / Σ_j exp((x_j − max)/T)`.
fn softmax_t(x: &mut [f32], temperature: f32) {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f32;
    for v in x.iter_mut() {
        *v = math::exp((*v - max) / temperature);
        sum += *v;
    }
    let inv = 1.0 / sum;
    for v in x.iter_mut() {
        *v *= inv;
    }
}

fn check_temperature(t: f32) -> Result<()> {
    if !(t.is_finite() && t > 0.0) {
        return Err(Error::InvalidParam {
            what: "temperature must be finite and > 0 (use greedy for T = 0)",
        });
    }
    Ok(())
}

/// Samples from `softmax(logits / T)` by inverse CDF with one draw `u ∈ [0,1)`: the first `i`
/// whose cumulative probability exceeds `u` (the last token if rounding leaves `u` uncovered).
/// `logits` is overwritten with the probabilities.
///
/// # Errors
/// [`Error::InvalidParam`] for empty logits or `T ≤ 0`, [`Error::NonFinite`] for NaN.
pub fn temperature(logits: &mut [f32], t: f32, rng: &mut Rng) -> Result<u32> {
    check_finite(logits)?;
    check_temperature(t)?;
    softmax_t(logits, t);
    let u = rng.next_f32();
    let mut cdf = 0.0f32;
    let last = logits.len() - 1;
    let mut chosen = last;
    for (i, &p) in logits.iter().enumerate() {
        cdf += p;
        if u < cdf {
            chosen = i;
            break;
        }
    }
    u32::try_from(chosen).map_err(|_| Error::InvalidParam {
        what: "vocabulary exceeds u32",
    })
}

/// Nucleus sampling (Holtzman et al. 2020, as in llama2.c `sample_topp`): probabilities
/// `softmax(logits / T)`; keep the smallest prefix of tokens sorted by probability (descending,
/// index ascending on ties) whose mass reaches `p`; sample within it by inverse CDF scaled to the
/// kept mass. Tokens with probability below `(1 − p)/(V − 1)` cannot be in the nucleus and are
/// skipped before sorting (llama2.c's cut-off).
///
/// `idx` and `probs` are caller scratch of at least [`scratch_len`]`(V)` elements; `logits` is
/// overwritten with the probabilities.
///
/// # Errors
/// [`Error::Capacity`] for short scratch, [`Error::InvalidParam`] for `T ≤ 0`, `p ∉ (0, 1]` or
/// empty logits, [`Error::NonFinite`] for NaN.
pub fn top_p(
    logits: &mut [f32],
    t: f32,
    p: f32,
    rng: &mut Rng,
    idx: &mut [u32],
    probs: &mut [f32],
) -> Result<u32> {
    check_finite(logits)?;
    check_temperature(t)?;
    if !(p > 0.0 && p <= 1.0) {
        return Err(Error::InvalidParam {
            what: "top_p must be in (0, 1]",
        });
    }
    let n = logits.len();
    if idx.len() < n || probs.len() < n {
        return Err(Error::Capacity {
            what: "top-p scratch (elements)",
            needed: n,
            available: idx.len().min(probs.len()),
        });
    }
    if u32::try_from(n).is_err() {
        return Err(Error::InvalidParam {
            what: "vocabulary exceeds u32",
        });
    }
    softmax_t(logits, t);
    let cutoff = if n > 1 {
        (1.0 - p) / (n - 1) as f32
    } else {
        0.0
    };
    let mut m = 0usize;
    for (i, &pr) in logits.iter().enumerate() {
        if pr >= cutoff {
            if let (Some(ix), Some(px)) = (idx.get_mut(m), probs.get_mut(m)) {
                *ix = i as u32;
                *px = pr;
                m += 1;
            }
        }
    }
    let idx = idx.get_mut(..m).unwrap_or(&mut []);
    let probs = probs.get_mut(..m).unwrap_or(&mut []);
    // Sort (index, prob) pairs: probability descending, index ascending. `idx` carries the
    // permutation; `probs` is refilled from it afterwards.
    idx.sort_unstable_by(|&a, &b| {
        let pa = logits.get(a as usize).copied().unwrap_or(0.0);
        let pb = logits.get(b as usize).copied().unwrap_or(0.0);
        pb.total_cmp(&pa).then(a.cmp(&b))
    });
    let mut kept = m;
    let mut mass = 0.0f32;
    for (k, (&i, pr)) in idx.iter().zip(probs.iter_mut()).enumerate() {
        *pr = logits.get(i as usize).copied().unwrap_or(0.0);
        mass += *pr;
        if mass >= p {
            kept = k + 1;
            break;
        }
    }
    let u = rng.next_f32() * mass;
    let mut cdf = 0.0f32;
    let mut chosen = idx.get(kept.saturating_sub(1)).copied().unwrap_or(0);
    for (&i, &pr) in idx.iter().zip(probs.iter()).take(kept) {
        cdf += pr;
        if u < cdf {
            chosen = i;
            break;
        }
    }
    Ok(chosen)
}

/// A sampling policy: `temperature == 0` → greedy; `top_p < 1` → nucleus; else plain
/// temperature sampling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sampler {
    /// Temperature `T ≥ 0` (0 = greedy).
    pub temperature: f32,
    /// Nucleus mass `p ∈ (0, 1]` (1 = off).
    pub top_p: f32,
    /// The generator.
    pub rng: Rng,
}

impl Sampler {
    /// A checked sampler.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] for a negative or non-finite `T` or `p ∉ (0, 1]`.
    pub fn new(temperature: f32, top_p: f32, rng: Rng) -> Result<Sampler> {
        if !(temperature.is_finite() && temperature >= 0.0) {
            return Err(Error::InvalidParam {
                what: "temperature must be finite and >= 0",
            });
        }
        if !(top_p > 0.0 && top_p <= 1.0) {
            return Err(Error::InvalidParam {
                what: "top_p must be in (0, 1]",
            });
        }
        Ok(Sampler {
            temperature,
            top_p,
            rng,
        })
    }

    /// Greedy sampler (`T = 0`).
    pub const fn greedy() -> Sampler {
        Sampler {
            temperature: 0.0,
            top_p: 1.0,
            rng: Rng::new(0),
        }
    }

    /// Picks the next token; `logits` may be overwritten; `idx`/`probs` need
    /// [`scratch_len`]`(V)` elements when `top_p < 1` (unused otherwise).
    ///
    /// # Errors
    /// As [`greedy`], [`temperature`] and [`top_p`].
    pub fn sample(
        &mut self,
        logits: &mut [f32],
        idx: &mut [u32],
        probs: &mut [f32],
    ) -> Result<u32> {
        if self.temperature == 0.0 {
            greedy(logits)
        } else if self.top_p < 1.0 {
            top_p(
                logits,
                self.temperature,
                self.top_p,
                &mut self.rng,
                idx,
                probs,
            )
        } else {
            temperature(logits, self.temperature, &mut self.rng)
        }
    }
}
