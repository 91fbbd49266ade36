//! Checkpoint → GGUF converters behind `pico convert` (see `cmd_convert.rs`).
//!
//! - [`llama2c`]: Karpathy's llama2.c `.bin` checkpoints (+ optional `tokenizer.bin`) →
//!   GGUF architecture `llama`.
//! - [`openelm`]: Apple's Hugging Face OpenELM directory (`model.safetensors` + `config.json`,
//!   optional SentencePiece `tokenizer.model`) → GGUF architecture `openelm`.
//!
//! Both write llama.cpp's key and tensor names (`docs/GGUF.md`) and share the tensor encoding
//! rule of llama.cpp's `convert_hf_to_gguf.py`: 1-D tensors stay F32; F16 via IEEE
//! round-to-nearest-even (`half`, as NumPy's `astype(float16)`); Q8_0 via the crate's
//! `quantize_row_q8_0` (ggml's reference quantiser), falling back to F16 for a tensor whose
//! row length is not a multiple of 32 (as the Python converter does on `QuantError`).

pub mod llama2c;
pub mod openelm;
pub mod spm_model;

use anyhow::{bail, Result};

use crate::gguf_writer::{GgmlType, GgufWriter};

/// Requested output type of the weight matrices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutType {
    /// 32-bit float everywhere.
    F32,
    /// IEEE half for matrices, F32 for vectors.
    F16,
    /// ggml Q8_0 for matrices (F16 when a row is not a multiple of 32), F32 for vectors.
    #[value(name = "q8_0")]
    Q8_0,
}

impl OutType {
    /// `general.file_type` (llama.cpp `llama_ftype`: ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q8_0 7).
    pub fn file_type(self) -> u32 {
        match self {
            OutType::F32 => 0,
            OutType::F16 => 1,
            OutType::Q8_0 => 7,
        }
    }

    /// The ggml type a tensor of GGUF shape `dims` (innermost first) is written as.
    pub fn tensor_type(self, dims: &[u64]) -> GgmlType {
        if dims.len() <= 1 {
            return GgmlType::F32;
        }
        match self {
            OutType::F32 => GgmlType::F32,
            OutType::F16 => GgmlType::F16,
            OutType::Q8_0 if dims[0].is_multiple_of(32) => GgmlType::Q8_0,
            OutType::Q8_0 => GgmlType::F16,
        }
    }
}

/// Encodes row-major f32 `values` (rows of `row_len`) as `ty`.
pub fn encode(values: &[f32], row_len: usize, ty: GgmlType) -> Result<Vec<u8>> {
    if let Some(bad) = values.iter().position(|v| !v.is_finite()) {
        bail!("non-finite weight at element {bad}");
    }
    Ok(match ty {
        GgmlType::F32 => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        GgmlType::F16 => values
            .iter()
            .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
            .collect(),
        GgmlType::Q8_0 => {
            if row_len == 0 || !row_len.is_multiple_of(32) || !values.len().is_multiple_of(row_len)
            {
                bail!("Q8_0 needs rows of a multiple of 32 values (row {row_len})");
            }
            let row_bytes = picoformer::quant::q8_0_row_bytes(row_len);
            let mut out = vec![0u8; values.len() / row_len * row_bytes];
            for (src, dst) in values
                .chunks_exact(row_len)
                .zip(out.chunks_exact_mut(row_bytes))
            {
                picoformer::quant::quantize_row_q8_0(src, dst)
                    .map_err(|e| anyhow::anyhow!("Q8_0: {e}"))?;
            }
            out
        }
    })
}

/// Adds a tensor whose f32 values `get` returns (row-major, GGUF `dims` innermost first),
/// encoded per [`OutType::tensor_type`].
pub fn add_f32_tensor<'a>(
    w: &mut GgufWriter<'a>,
    name: &str,
    dims: &[u64],
    out: OutType,
    get: impl FnOnce() -> Result<Vec<f32>> + 'a,
) {
    let ty = out.tensor_type(dims);
    let row_len = dims.first().copied().unwrap_or(1) as usize;
    let n: u64 = dims.iter().product();
    let name_owned = name.to_owned();
    w.add_tensor(name, dims, ty, move || {
        let v = get()?;
        if v.len() as u64 != n {
            bail!("{name_owned}: {} values, shape needs {n}", v.len());
        }
        encode(&v, row_len, ty)
    });
}

/// A SentencePiece vocabulary to write as `tokenizer.ggml.*` (llama.cpp's SPM layout).
#[derive(Debug, Clone, Default)]
pub struct SpmVocab {
    /// Pieces, `▁` for spaces.
    pub tokens: Vec<Vec<u8>>,
    /// Scores.
    pub scores: Vec<f32>,
    /// Token types (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte).
    pub types: Vec<i32>,
    /// BOS id.
    pub bos: u32,
    /// EOS id.
    pub eos: u32,
    /// Unknown id.
    pub unk: u32,
    /// SentencePiece `add_dummy_prefix`.
    pub add_space_prefix: bool,
}

impl SpmVocab {
    /// Writes the keys llama.cpp's `_set_vocab_sentencepiece` writes.
    pub fn write(&self, w: &mut GgufWriter<'_>) {
        w.add_str("tokenizer.ggml.model", "llama");
        w.add_str("tokenizer.ggml.pre", "default");
        w.add_str_array("tokenizer.ggml.tokens", &self.tokens);
        w.add_f32_array("tokenizer.ggml.scores", &self.scores);
        w.add_i32_array("tokenizer.ggml.token_type", &self.types);
        w.add_u32("tokenizer.ggml.bos_token_id", self.bos);
        w.add_u32("tokenizer.ggml.eos_token_id", self.eos);
        w.add_u32("tokenizer.ggml.unknown_token_id", self.unk);
        w.add_bool("tokenizer.ggml.add_space_prefix", self.add_space_prefix);
        w.add_bool("tokenizer.ggml.add_bos_token", true);
        w.add_bool("tokenizer.ggml.add_eos_token", false);
    }
}

/// Whether `piece` is a byte piece `<0xXX>`.
pub fn is_byte_piece(piece: &[u8]) -> bool {
    matches!(piece, [b'<', b'0', b'x', h, l, b'>'] if h.is_ascii_hexdigit() && l.is_ascii_hexdigit())
}
