//! Slice kernels: f32 activations, f32 accumulation, caller-provided buffers.
//!
//! | kernel | module | NaN / ±inf in the input |
//! |---|---|---|
//! | [`matvec`] (F32 / F16 / Q8_0 weights) | `matvec` | propagate (IEEE arithmetic) |
//! | [`matvec_q8`] / [`matvec_q8_pre`] (Q8_0 × Q8_0) | `matvec` | [`Error::NonFinite`] (from the quantiser) |
//! | [`rmsnorm`], [`rmsnorm_inplace`] | `rmsnorm` | [`Error::NonFinite`] |
//! | [`softmax`] | `softmax` | NaN or `+inf` → error; `-inf` → probability 0 (masking) |
//! | [`rope`], [`rope_direct`], [`rope_row`] | `rope` | propagate |
//! | [`silu`], [`swiglu`] | `activation` | propagate (as PyTorch) |
//! | [`topk`], [`topk_into`], [`argmax`] | `topk` | NaN → error; ±inf are ordinary values |
//! | [`dot`], [`axpy`] | `vector` | propagate |
//!
//! With the `std` feature, `matvec_threads` / `matvec_q8_pre_threads` split the rows over
//! scoped threads (bit-identical to the single-thread kernels).
//!
//! Wrong lengths are always [`Error::Shape`]. No kernel here needs
//! scratch memory except [`matvec_q8`], whose scratch size is [`matvec_q8_scratch_len`].

mod activation;
mod matvec;
#[cfg(feature = "std")]
mod par;
pub(crate) mod qinput;
mod rmsnorm;
mod rope;
mod softmax;
mod topk;
mod vector;

pub use activation::{silu, silu_inplace, swiglu, swiglu_inplace};
pub use matvec::{matvec, matvec_q8, matvec_q8_pre, matvec_q8_scratch_len};
#[cfg(feature = "std")]
pub use par::{matvec_q8_pre_threads, matvec_threads, PAR_MIN_MACS};
pub use rmsnorm::{rmsnorm, rmsnorm_inplace};
pub use rope::{
    rope, rope_direct, rope_inv_freq, rope_row, rope_row_fill, rope_table_fill, rope_table_len,
    RopeStyle, RopeTable,
};
pub use softmax::softmax;
pub use topk::{argmax, topk, topk_into};
pub use vector::{axpy, dot};

use crate::{Error, Result};

/// `Err(Shape)` unless `got == expected`.
#[inline]
pub(crate) fn check_len(what: &'static str, expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::Shape {
            what,
            expected,
            got,
        })
    }
}
