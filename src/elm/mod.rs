//! OpenELM: the layer-wise scaled decoder-only transformer (and uniform Llama models).
//!
//! Spec: `openelm.md` (apple/corenet `general_gpt.py`, HF `modeling_openelm.py`).
//!
//! - [`config`]: per-layer shapes, layer-wise scaling with an integer-exact `make_divisible`,
//!   the released presets, all `const`; [`Config::from_gguf`] reads llama.cpp's keys.
//! - [`Model`]: the checked, zero-copy weights of a GGUF file.
//! - [`Session`]: the forward pass over caller memory sized by a [`Plan`](crate::plan::Plan).
//!
//! ```no_run
//! # fn demo(bytes: &[u8]) -> picoformer::Result<()> {
//! use picoformer::{elm::{Model, Session}, gguf::File, plan::Plan, sample};
//! let model = Model::new(File::parse(bytes)?)?;
//! let plan = Plan::new(model.config(), 128)?;
//! let (mut scratch, mut kv) = (vec![0f32; plan.scratch_floats()], vec![0u32; plan.kv_words()]);
//! let mut session = Session::new(&model, &plan, &mut scratch, &mut kv)?;
//! let mut next = sample::greedy(session.prefill(&[1, 300, 42])?)?;
//! for _ in 0..16 {
//!     next = sample::greedy(session.step(next)?)?;
//! }
//! # Ok(()) }
//! ```

pub mod config;
mod load;
mod model;
mod scaling;
mod session;

pub use config::{Arch, Config, LayerShape, Preset, RopeStyle, Scaling, MAX_LAYERS};
pub use model::{Block, Ffn, Model, Qkv};
pub use scaling::{linspace_x100, make_divisible_x100};
pub use session::{attend, Session};
