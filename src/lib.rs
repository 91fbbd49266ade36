//! # picoformer
//!
//! `#![no_std]` inference kernels for small transformers and diffusion samplers on
//! microcontrollers (Cortex-M0+/M4F/M7/M33, RISC-V) and ARM SoCs (Cortex-A, aarch64).
//!
//! - [`gguf`]: zero-copy GGUF v3 reader (weights stay in flash or an mmap).
//! - [`quant`]: F32 / F16 / Q8_0 weight views (ggml layouts) and their dot products.
//! - [`ops`]: slice kernels (matvec, RMSNorm, softmax, RoPE, SwiGLU, top-k, argmax).
//! - [`elm`]: OpenELM layer-scaled transformer (and uniform Llama models).
//! - [`tokenizer`]: SentencePiece-BPE (llama.cpp `llama` vocab) and byte tokenizers from GGUF
//!   metadata, no heap.
//! - [`moe`]: multi-head mixture-of-experts (MH-MoE) feed-forward layers.
//! - [`kv`]: fixed-capacity KV ring cache with SnapKV compression.
//! - [`ays`]: Align Your Steps schedules and σ-space diffusion samplers.
//!
//! No kernel allocates: every buffer is provided by the caller, and each kernel that needs
//! scratch memory exposes a `const fn` giving its size. Every fallible call returns
//! [`Result`]; bad input is an [`Error`], never a panic.
//!
//! ## Features
//! | feature | effect |
//! |---|---|
//! | `alloc` | convenience constructors that allocate (never used by kernels) |
//! | `std` | implies `alloc`; runtime SIMD detection on the host |
//! | `defmt` | `defmt::Format` for public types |
//! | `fast-math` | `micromath` approximations instead of the default `exp_poly` and `libm` (see [`math`]) |
#![no_std]
#![deny(missing_docs)]
#![forbid(unsafe_op_in_unsafe_fn)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod ays;
pub mod elm;
mod error;
pub mod gguf;
pub mod kv;
pub mod math;
pub mod moe;
pub mod ops;
pub mod plan;
pub mod quant;
pub mod sample;
pub mod tokenizer;

pub use error::{Error, Result, TensorProblem};
