//! A small MLP denoiser read from GGUF, with EDM preconditioning (Karras et al. 2022, §5):
//! `D(x; σ) = c_skip·x + c_out·F(c_in·x, c_noise)`, `c_skip = σ_d²/(σ² + σ_d²)`,
//! `c_out = σ·σ_d/sqrt(σ² + σ_d²)`, `c_in = 1/sqrt(σ² + σ_d²)`, `c_noise = ln(σ)/4`.
//!
//! `F` is an MLP over `[c_in·x, c_noise, sin(2^k c_noise), cos(2^k c_noise) (k < K)]` with SiLU
//! between layers and none after the last. Weights stay in the GGUF bytes (zero copy,
//! [`Matrix`] views; F32, F16 or Q8_0 where the width allows).
//!
//! The few transcendental functions per point (ln, sin/cos, sqrt, and `exp` in SiLU) always use
//! `libm`, also under `fast-math`: micromath's approximations moved D(x; σ) by up to 10% on
//! the test points (`tests/ays_mlp.rs`), while the cost per point is dominated by the
//! matrix-vector products.
//!
//! GGUF contents (`general.architecture = "mlp_denoiser"`, written by
//! `tools/ays/train_denoiser.py`):
//!
//! | key / tensor | type / ne | meaning |
//! |---|---|---|
//! | `mlp_denoiser.dim` | u32 | point dimension `n` |
//! | `mlp_denoiser.sigma_data` | f32 | σ_d |
//! | `mlp_denoiser.fourier_count` | u32 | `K` |
//! | `mlp_denoiser.block_count` | u32 | linear layers `L` (1..=8) |
//! | `blk.N.weight` | `[in_N, out_N]` | layer `N` (`in_0 = n + 1 + 2K`, `out_{L−1} = n`) |
//! | `blk.N.bias` | `[out_N]`, F32 | bias |

use super::denoiser::Denoiser;
use super::real::Real;
use crate::gguf::File;
use crate::quant::Matrix;
use crate::{Error, Result, TensorProblem};

/// Widest layer (input or output) the denoiser accepts (stack buffers of this size).
pub const MLP_MAX_WIDTH: usize = 256;
/// Most Fourier frequencies `K`.
pub const MLP_MAX_FOURIER: usize = 32;
/// Most linear layers.
pub const MLP_MAX_LAYERS: usize = 8;

const NAMES_W: [&str; MLP_MAX_LAYERS] = [
    "blk.0.weight",
    "blk.1.weight",
    "blk.2.weight",
    "blk.3.weight",
    "blk.4.weight",
    "blk.5.weight",
    "blk.6.weight",
    "blk.7.weight",
];
const NAMES_B: [&str; MLP_MAX_LAYERS] = [
    "blk.0.bias",
    "blk.1.bias",
    "blk.2.bias",
    "blk.3.bias",
    "blk.4.bias",
    "blk.5.bias",
    "blk.6.bias",
    "blk.7.bias",
];

#[derive(Debug, Clone, Copy)]
struct Layer<'a> {
    w: Matrix<'a>,
    bias: &'a [u8],
}

/// The MLP denoiser: borrowed weights, no heap; implements [`Denoiser`] (batches of points
/// back to back).
#[derive(Debug, Clone)]
pub struct MlpDenoiser<'a> {
    dim: usize,
    sigma_data: f32,
    fourier: usize,
    layers: heapless::Vec<Layer<'a>, MLP_MAX_LAYERS>,
}

fn key_u32(f: &File<'_>, key: &'static str) -> Result<usize> {
    f.get_u32(key)
        .map(|v| v as usize)
        .ok_or(Error::MissingKey { key })
}

impl<'a> MlpDenoiser<'a> {
    /// Reads and checks the model (every shape once; afterwards `denoise` cannot fail on
    /// shapes).
    pub fn from_gguf(f: &File<'a>) -> Result<Self> {
        if f.architecture() != Some("mlp_denoiser") {
            return Err(Error::MissingKey {
                key: "general.architecture = mlp_denoiser",
            });
        }
        let dim = key_u32(f, "mlp_denoiser.dim")?;
        let fourier = key_u32(f, "mlp_denoiser.fourier_count")?;
        let n_layers = key_u32(f, "mlp_denoiser.block_count")?;
        let sigma_data = f
            .get_f32("mlp_denoiser.sigma_data")
            .ok_or(Error::MissingKey {
                key: "mlp_denoiser.sigma_data",
            })?;
        if !(sigma_data.is_finite() && sigma_data > 0.0) {
            return Err(Error::InvalidParam {
                what: "mlp_denoiser.sigma_data must be finite and > 0",
            });
        }
        if fourier > MLP_MAX_FOURIER {
            return Err(Error::InvalidParam {
                what: "mlp_denoiser.fourier_count must be <= 32",
            });
        }
        if n_layers == 0 || n_layers > MLP_MAX_LAYERS {
            return Err(Error::InvalidParam {
                what: "mlp_denoiser.block_count must be in 1..=8",
            });
        }
        let mut width = dim
            .checked_add(1)
            .and_then(|v| v.checked_add(fourier.checked_mul(2)?))
            .ok_or(Error::InvalidParam {
                what: "mlp_denoiser.dim",
            })?;
        if dim == 0 || width > MLP_MAX_WIDTH {
            return Err(Error::InvalidParam {
                what: "mlp_denoiser input width must be in 1..=256",
            });
        }
        let mut layers = heapless::Vec::new();
        for (i, (wn, bn)) in NAMES_W
            .iter()
            .zip(NAMES_B.iter())
            .take(n_layers)
            .enumerate()
        {
            let tensor_err = |name, problem| Error::Tensor {
                name,
                layer: None,
                problem,
            };
            let w = f
                .tensor(wn)
                .ok_or(tensor_err(*wn, TensorProblem::Missing))?
                .matrix()?;
            let out = if i + 1 == n_layers { dim } else { w.rows() };
            if w.cols() != width || w.rows() != out || out > MLP_MAX_WIDTH {
                return Err(tensor_err(*wn, TensorProblem::WrongShape));
            }
            let b = f
                .tensor(bn)
                .ok_or(tensor_err(*bn, TensorProblem::Missing))?;
            if b.ggml_type.id() != 0 {
                return Err(tensor_err(*bn, TensorProblem::WrongType));
            }
            if b.n_elements() != out as u64 || b.data.len() != out * 4 {
                return Err(tensor_err(*bn, TensorProblem::WrongShape));
            }
            layers
                .push(Layer { w, bias: b.data })
                .map_err(|_| Error::InvalidParam { what: "layers" })?;
            width = out;
        }
        Ok(Self {
            dim,
            sigma_data,
            fourier,
            layers,
        })
    }

    /// Point dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// σ_d of the preconditioning.
    pub fn sigma_data(&self) -> f32 {
        self.sigma_data
    }

    /// Denoises one point (`x.len() == out.len() == dim`).
    fn point(&self, x: &[f32], sigma: f32, out: &mut [f32]) -> Result<()> {
        let sd2 = self.sigma_data * self.sigma_data;
        let s2 = sigma * sigma;
        let c_skip = sd2 / (s2 + sd2);
        let c_out = sigma * self.sigma_data * 1.0 / libm::sqrtf(s2 + sd2);
        let c_in = 1.0 / libm::sqrtf(s2 + sd2);
        let c_noise = libm::logf(sigma) * 0.25;
        let mut a = [0f32; MLP_MAX_WIDTH];
        let mut b = [0f32; MLP_MAX_WIDTH];
        let mut width = 0;
        for (dst, &v) in a.iter_mut().zip(x) {
            *dst = c_in * v;
            width += 1;
        }
        // Features after the scaled input: c_noise, then sin/cos(2^k·c_noise).
        let mut feats = [c_noise; 1 + 2 * MLP_MAX_FOURIER];
        let mut freq = 1.0f32;
        for pair in feats
            .get_mut(1..)
            .unwrap_or(&mut [])
            .chunks_exact_mut(2)
            .take(self.fourier)
        {
            if let [s, c] = pair {
                *s = libm::sinf(freq * c_noise);
                *c = libm::cosf(freq * c_noise);
            }
            freq *= 2.0;
        }
        let n_feats = 1 + 2 * self.fourier;
        for (dst, &v) in a.iter_mut().skip(width).zip(feats.iter().take(n_feats)) {
            *dst = v;
        }
        width += n_feats;
        let last = self.layers.len().saturating_sub(1);
        for (i, layer) in self.layers.iter().enumerate() {
            let input = a
                .get(..width)
                .ok_or(Error::InvalidParam { what: "width" })?;
            let rows = layer.w.rows();
            for ((r, o), bb) in b
                .iter_mut()
                .take(rows)
                .enumerate()
                .zip(layer.bias.chunks_exact(4))
            {
                let bias = <[u8; 4]>::try_from(bb).map_or(0.0, f32::from_le_bytes);
                let v = layer.w.dot_row(r, input)? + bias;
                *o = if i == last { v } else { silu(v) };
            }
            core::mem::swap(&mut a, &mut b);
            width = rows;
        }
        for ((o, &xv), &fv) in out.iter_mut().zip(x).zip(a.iter()) {
            *o = c_skip * xv + c_out * fv;
        }
        Ok(())
    }
}

/// SiLU `x / (1 + e^{−x})` with `libm` (see the module docs).
fn silu(x: f32) -> f32 {
    x / (1.0 + libm::expf(-x))
}

impl<T: Real> Denoiser<T> for MlpDenoiser<'_> {
    fn denoise(&mut self, x: &[T], sigma: f64, out: &mut [T]) -> Result<()> {
        if !x.len().is_multiple_of(self.dim) || out.len() != x.len() {
            return Err(Error::Shape {
                what: "mlp denoiser input (multiple of dim)",
                expected: self.dim,
                got: x.len(),
            });
        }
        let mut xi = [0f32; MLP_MAX_WIDTH];
        let mut xo = [0f32; MLP_MAX_WIDTH];
        let n = self.dim;
        for (xs, os) in x.chunks_exact(n).zip(out.chunks_exact_mut(n)) {
            for (d, s) in xi.iter_mut().zip(xs) {
                *d = s.to_f64() as f32;
            }
            let (Some(xin), Some(xout)) = (xi.get(..n), xo.get_mut(..n)) else {
                return Err(Error::InvalidParam { what: "dim" });
            };
            self.point(xin, sigma as f32, xout)?;
            for (d, s) in os.iter_mut().zip(xout.iter()) {
                *d = T::from_f64(f64::from(*s));
            }
        }
        Ok(())
    }
}
