//! OpenELM: the layer-wise scaled decoder-only transformer (and uniform Llama models).
//!
//! Spec: `openelm.md` (apple/corenet `general_gpt.py`, HF `modeling_openelm.py`).
//!
//! - [`config`]: per-layer shapes, layer-wise scaling with an integer-exact `make_divisible`,
//!   the released presets, all `const`.

pub mod config;
mod scaling;

pub use config::{Arch, Config, LayerShape, Preset, RopeStyle, Scaling, MAX_LAYERS};
pub use scaling::{linspace_x100, make_divisible_x100};
