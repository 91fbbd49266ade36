//! llama2.c checkpoint (`.bin`) → GGUF architecture `llama`.
//!
//! Checkpoint layout (llama2.c `run.c`, `read_checkpoint` + `memory_map_weights`), all
//! little-endian: a header of 7 `i32` — `dim, hidden_dim, n_layers, n_heads, n_kv_heads,
//! vocab_size, seq_len` (a negative `vocab_size` means an untied classifier follows) — then
//! f32 arrays, matrices row-major `[out, in]` (PyTorch `Linear` layout):
//!
//! | array | shape | GGUF tensor |
//! |---|---|---|
//! | token_embedding | `[V, d]` | `token_embd.weight` |
//! | rms_att | `[L, d]` | `blk.N.attn_norm.weight` |
//! | wq | `[L, H·hd, d]` | `blk.N.attn_q.weight` |
//! | wk, wv | `[L, KV·hd, d]` | `blk.N.attn_k.weight`, `blk.N.attn_v.weight` |
//! | wo | `[L, d, H·hd]` | `blk.N.attn_output.weight` |
//! | rms_ffn | `[L, d]` | `blk.N.ffn_norm.weight` |
//! | w1 | `[L, I, d]` | `blk.N.ffn_gate.weight` |
//! | w2 | `[L, d, I]` | `blk.N.ffn_down.weight` |
//! | w3 | `[L, I, d]` | `blk.N.ffn_up.weight` |
//! | rms_final | `[d]` | `output_norm.weight` |
//! | freq_cis_real, freq_cis_imag | `[seq_len·hd/2]` each | skipped (legacy) |
//! | wcls (untied only) | `[V, d]` | `output.weight` |
//!
//! llama2.c applies RoPE to interleaved pairs `(2i, 2i+1)` — llama.cpp's `llama` (NORM) rope —
//! and its exporter already un-permutes Hugging Face Q/K rows into that (Meta) order, so Q and K
//! are copied unchanged, as llama.cpp's `convert-llama2c-to-ggml` does. RMSNorm ε is 1e-5
//! (llama2.c), θ = 10000.
//!
//! `tokenizer.bin` (llama2.c `build_tokenizer`): `i32 max_token_length`, then per token
//! `f32 score, i32 len, len bytes`. llama2.c's exporter replaced `▁` by a space and wrote BOS
//! and EOS as `"\n<s>\n"` / `"\n</s>\n"`; the conversion undoes both and restores token types
//! (0 unknown, 1/2 control, `<0xXX>` byte, else normal), giving llama.cpp's SPM vocabulary.

use std::path::Path;

use anyhow::{bail, ensure, Context, Result};

use super::{add_f32_tensor, is_byte_piece, OutType, SpmVocab};
use crate::gguf_writer::GgufWriter;

/// The checkpoint header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Model width `d`.
    pub dim: usize,
    /// FFN inner width `I`.
    pub hidden_dim: usize,
    /// Layers.
    pub n_layers: usize,
    /// Query heads.
    pub n_heads: usize,
    /// KV heads.
    pub n_kv_heads: usize,
    /// Vocabulary size (absolute value of the header field).
    pub vocab_size: usize,
    /// Whether the classifier is the embedding (header `vocab_size > 0`).
    pub shared: bool,
    /// Trained context.
    pub seq_len: usize,
}

/// Header bytes.
pub const HEADER_BYTES: usize = 28;

impl Header {
    /// Parses and checks the header.
    pub fn parse(bytes: &[u8]) -> Result<Header> {
        ensure!(
            bytes.len() >= HEADER_BYTES,
            "llama2.c checkpoint shorter than its header"
        );
        let f = |i: usize| i32::from_le_bytes(bytes[4 * i..4 * i + 4].try_into().unwrap());
        let pos = |i: usize, what: &str| -> Result<usize> {
            let v = f(i);
            ensure!(v > 0, "llama2.c header: {what} = {v} must be positive");
            Ok(v as usize)
        };
        let vocab = f(5);
        ensure!(
            vocab != 0 && vocab != i32::MIN,
            "llama2.c header: vocab_size = {vocab}"
        );
        let h = Header {
            dim: pos(0, "dim")?,
            hidden_dim: pos(1, "hidden_dim")?,
            n_layers: pos(2, "n_layers")?,
            n_heads: pos(3, "n_heads")?,
            n_kv_heads: pos(4, "n_kv_heads")?,
            vocab_size: vocab.unsigned_abs() as usize,
            shared: vocab > 0,
            seq_len: pos(6, "seq_len")?,
        };
        ensure!(
            h.dim.is_multiple_of(h.n_heads),
            "dim {} not divisible by n_heads {}",
            h.dim,
            h.n_heads
        );
        ensure!(
            h.n_heads.is_multiple_of(h.n_kv_heads),
            "n_heads {} not divisible by n_kv_heads {}",
            h.n_heads,
            h.n_kv_heads
        );
        ensure!(
            (h.dim / h.n_heads).is_multiple_of(2),
            "head size {} must be even (RoPE pairs)",
            h.dim / h.n_heads
        );
        Ok(h)
    }

    /// Head size `d / H`.
    pub fn head_size(&self) -> usize {
        self.dim / self.n_heads
    }

    /// Total f32 values after the header, in `memory_map_weights` order.
    pub fn n_floats(&self) -> usize {
        let (d, hd, l) = (self.dim, self.head_size(), self.n_layers);
        let (q, kv, i, v) = (
            self.n_heads * hd,
            self.n_kv_heads * hd,
            self.hidden_dim,
            self.vocab_size,
        );
        v * d
            + l * d
            + l * q * d
            + 2 * l * kv * d
            + l * d * q
            + l * d
            + 3 * l * i * d
            + d
            + self.seq_len * hd
            + if self.shared { 0 } else { v * d }
    }
}

/// Reads `n` f32 values at float index `at` (after the header).
fn floats(bytes: &[u8], at: usize, n: usize) -> Result<Vec<f32>> {
    let start = HEADER_BYTES + 4 * at;
    let s = bytes
        .get(start..start + 4 * n)
        .context("llama2.c checkpoint truncated")?;
    Ok(s.chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect())
}

/// Builds the GGUF for a checkpoint held in `bytes`.
pub fn build<'a>(
    bytes: &'a [u8],
    vocab: Option<&SpmVocab>,
    out: OutType,
) -> Result<GgufWriter<'a>> {
    let h = Header::parse(bytes)?;
    let want = HEADER_BYTES as u64 + 4 * h.n_floats() as u64;
    ensure!(
        bytes.len() as u64 == want,
        "llama2.c checkpoint is {} bytes, header {h:?} implies {want}",
        bytes.len()
    );
    if let Some(v) = vocab {
        ensure!(
            v.tokens.len() == h.vocab_size,
            "tokenizer has {} tokens, checkpoint vocab_size is {}",
            v.tokens.len(),
            h.vocab_size
        );
    }
    let (d, hd, l) = (h.dim, h.head_size(), h.n_layers);
    let (q, kv, ff, nv) = (
        h.n_heads * hd,
        h.n_kv_heads * hd,
        h.hidden_dim,
        h.vocab_size,
    );
    let u = |x: usize| x as u64;

    let mut w = GgufWriter::new();
    w.add_str("general.architecture", "llama");
    w.add_str("general.name", "llama2.c");
    w.add_u32("general.file_type", out.file_type());
    w.add_u32("llama.context_length", h.seq_len as u32);
    w.add_u32("llama.embedding_length", d as u32);
    w.add_u32("llama.feed_forward_length", ff as u32);
    w.add_u32("llama.attention.head_count", h.n_heads as u32);
    w.add_u32("llama.attention.head_count_kv", h.n_kv_heads as u32);
    w.add_u32("llama.block_count", l as u32);
    w.add_u32("llama.rope.dimension_count", hd as u32);
    w.add_f32("llama.rope.freq_base", 10000.0);
    w.add_f32("llama.attention.layer_norm_rms_epsilon", 1e-5);
    w.add_u32("llama.vocab_size", nv as u32);
    if let Some(v) = vocab {
        v.write(&mut w);
    }

    // Float offsets of the arrays, in file order.
    let mut at = 0usize;
    let mut take = |n: usize| {
        let a = at;
        at += n;
        a
    };
    let emb = take(nv * d);
    let rms_att = take(l * d);
    let wq = take(l * q * d);
    let wk = take(l * kv * d);
    let wv = take(l * kv * d);
    let wo = take(l * d * q);
    let rms_ffn = take(l * d);
    let w1 = take(l * ff * d);
    let w2 = take(l * d * ff);
    let w3 = take(l * ff * d);
    let rms_final = take(d);
    take(h.seq_len * hd); // freq_cis_real + freq_cis_imag
    let wcls = if h.shared { None } else { Some(take(nv * d)) };

    let mut t = |name: String, dims: &[u64], at: usize| {
        let n = dims.iter().product::<u64>() as usize;
        add_f32_tensor(&mut w, &name, dims, out, move || floats(bytes, at, n));
    };
    t("token_embd.weight".into(), &[u(d), u(nv)], emb);
    for i in 0..l {
        t(
            format!("blk.{i}.attn_norm.weight"),
            &[u(d)],
            rms_att + i * d,
        );
        t(
            format!("blk.{i}.attn_q.weight"),
            &[u(d), u(q)],
            wq + i * q * d,
        );
        t(
            format!("blk.{i}.attn_k.weight"),
            &[u(d), u(kv)],
            wk + i * kv * d,
        );
        t(
            format!("blk.{i}.attn_v.weight"),
            &[u(d), u(kv)],
            wv + i * kv * d,
        );
        t(
            format!("blk.{i}.attn_output.weight"),
            &[u(q), u(d)],
            wo + i * d * q,
        );
        t(format!("blk.{i}.ffn_norm.weight"), &[u(d)], rms_ffn + i * d);
        t(
            format!("blk.{i}.ffn_gate.weight"),
            &[u(d), u(ff)],
            w1 + i * ff * d,
        );
        t(
            format!("blk.{i}.ffn_down.weight"),
            &[u(ff), u(d)],
            w2 + i * d * ff,
        );
        t(
            format!("blk.{i}.ffn_up.weight"),
            &[u(d), u(ff)],
            w3 + i * ff * d,
        );
    }
    t("output_norm.weight".into(), &[u(d)], rms_final);
    if let Some(c) = wcls {
        t("output.weight".into(), &[u(d), u(nv)], c);
    }
    Ok(w)
}

/// Parses a llama2.c `tokenizer.bin` of `n_tokens` entries into an SPM vocabulary
/// (BOS 1, EOS 2, unknown 0, as every llama2.c tokenizer).
pub fn read_tokenizer(bytes: &[u8], n_tokens: usize) -> Result<SpmVocab> {
    let mut pos = 4usize; // max_token_length
    ensure!(bytes.len() >= 4, "tokenizer.bin is empty");
    let mut v = SpmVocab {
        bos: 1,
        eos: 2,
        unk: 0,
        add_space_prefix: true,
        ..SpmVocab::default()
    };
    for id in 0..n_tokens {
        let rd = |p: usize| -> Result<[u8; 4]> {
            Ok(bytes
                .get(p..p + 4)
                .with_context(|| format!("tokenizer.bin truncated at token {id}"))?
                .try_into()
                .unwrap())
        };
        let score = f32::from_le_bytes(rd(pos)?);
        let len = i32::from_le_bytes(rd(pos + 4)?);
        ensure!(len >= 0, "tokenizer.bin: token {id} has length {len}");
        let text = bytes
            .get(pos + 8..pos + 8 + len as usize)
            .with_context(|| format!("tokenizer.bin truncated at token {id}"))?;
        pos += 8 + len as usize;
        let (piece, ty): (Vec<u8>, i32) = match (id, text) {
            (1, b"\n<s>\n") => (b"<s>".to_vec(), 3),
            (2, b"\n</s>\n") => (b"</s>".to_vec(), 3),
            (1 | 2, t) => (t.to_vec(), 3),
            (0, t) => (t.to_vec(), 2),
            (_, t) if is_byte_piece(t) => (t.to_vec(), 6),
            (_, t) => {
                let mut p = Vec::with_capacity(t.len());
                for &b in t {
                    if b == b' ' {
                        p.extend_from_slice("\u{2581}".as_bytes());
                    } else {
                        p.push(b);
                    }
                }
                (p, 1)
            }
        };
        ensure!(
            score.is_finite(),
            "tokenizer.bin: token {id} has a non-finite score"
        );
        v.tokens.push(piece);
        v.scores.push(score);
        v.types.push(ty);
    }
    if pos != bytes.len() {
        bail!(
            "tokenizer.bin has {} bytes after {n_tokens} tokens (vocab_size mismatch?)",
            bytes.len() - pos
        );
    }
    Ok(v)
}

/// `pico convert llama2c`: converts `model` (+ `tokenizer`) to `output`.
pub fn run(model: &Path, tokenizer: Option<&Path>, out: OutType, output: &Path) -> Result<()> {
    let file =
        std::fs::File::open(model).with_context(|| format!("opening {}", model.display()))?;
    // SAFETY: read-only map of a file we do not modify; the converter only reads it.
    let map = unsafe { memmap2::Mmap::map(&file) }?;
    let h = Header::parse(&map)?;
    let vocab = match tokenizer {
        Some(p) => {
            let b = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
            Some(read_tokenizer(&b, h.vocab_size)?)
        }
        None => {
            eprintln!("note: no --tokenizer given, the GGUF has no vocabulary");
            None
        }
    };
    let w = build(&map, vocab.as_ref(), out)?;
    let n = w.write_to_path(output)?;
    eprintln!(
        "wrote {} ({n} bytes): llama, {} layers, d {}, {} heads / {} kv, I {}, vocab {}{}",
        output.display(),
        h.n_layers,
        h.dim,
        h.n_heads,
        h.n_kv_heads,
        h.hidden_dim,
        h.vocab_size,
        if h.shared { " (tied)" } else { "" }
    );
    Ok(())
}
