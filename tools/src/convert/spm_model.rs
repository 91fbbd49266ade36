//! A minimal reader for SentencePiece `tokenizer.model` files (a `ModelProto` protobuf), enough
//! to export the vocabulary as llama.cpp does (`_set_vocab_sentencepiece`).
//!
//! Fields read (sentencepiece `sentencepiece_model.proto`):
//! - `ModelProto.pieces = 1` (repeated `SentencePiece { piece = 1: string, score = 2: float,
//!   type = 3: enum }`, type default NORMAL = 1);
//! - `ModelProto.trainer_spec = 2`: `unk_id = 40` (default 0), `bos_id = 41` (1),
//!   `eos_id = 42` (2);
//! - `ModelProto.normalizer_spec = 3`: `add_dummy_prefix = 3` (default true).
//!
//! Token types as llama.cpp writes them: unknown 2, control 3, unused 5, byte 6, everything
//! else (normal, user-defined) 1.

use anyhow::{bail, ensure, Context, Result};

use super::SpmVocab;

/// A protobuf field value.
enum Field<'a> {
    Varint(u64),
    Fixed64,
    Bytes(&'a [u8]),
    Fixed32(u32),
}

/// Iterates `(field number, value)` over a protobuf message.
fn fields(mut b: &[u8]) -> impl Iterator<Item = Result<(u64, Field<'_>)>> {
    std::iter::from_fn(move || {
        if b.is_empty() {
            return None;
        }
        let r = (|| {
            let key = varint(&mut b)?;
            let f = match key & 7 {
                0 => Field::Varint(varint(&mut b)?),
                1 => {
                    ensure!(b.len() >= 8, "protobuf truncated");
                    b = &b[8..];
                    Field::Fixed64
                }
                2 => {
                    let n = varint(&mut b)? as usize;
                    ensure!(b.len() >= n, "protobuf truncated");
                    let (v, rest) = b.split_at(n);
                    b = rest;
                    Field::Bytes(v)
                }
                5 => {
                    ensure!(b.len() >= 4, "protobuf truncated");
                    let v = u32::from_le_bytes(b[..4].try_into().unwrap());
                    b = &b[4..];
                    Field::Fixed32(v)
                }
                w => bail!("protobuf wire type {w} not supported"),
            };
            Ok((key >> 3, f))
        })();
        if r.is_err() {
            b = &[];
        }
        Some(r)
    })
}

fn varint(b: &mut &[u8]) -> Result<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = b.split_first().context("protobuf varint truncated")?;
        *b = rest;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
    bail!("protobuf varint too long")
}

/// Parses a SentencePiece model into llama.cpp's SPM vocabulary.
pub fn parse(bytes: &[u8]) -> Result<SpmVocab> {
    let mut v = SpmVocab {
        unk: 0,
        bos: 1,
        eos: 2,
        add_space_prefix: true,
        ..SpmVocab::default()
    };
    for f in fields(bytes) {
        match f? {
            (1, Field::Bytes(p)) => {
                let (mut piece, mut score, mut ty) = (Vec::new(), 0.0f32, 1u64);
                for g in fields(p) {
                    match g? {
                        (1, Field::Bytes(s)) => piece = s.to_vec(),
                        (2, Field::Fixed32(s)) => score = f32::from_bits(s),
                        (3, Field::Varint(t)) => ty = t,
                        _ => {}
                    }
                }
                v.tokens.push(piece);
                v.scores.push(score);
                v.types.push(match ty {
                    2 => 2,
                    3 => 3,
                    5 => 5,
                    6 => 6,
                    _ => 1,
                });
            }
            (2, Field::Bytes(t)) => {
                for g in fields(t) {
                    match g? {
                        (40, Field::Varint(x)) => v.unk = x as u32,
                        (41, Field::Varint(x)) => v.bos = x as u32,
                        (42, Field::Varint(x)) => v.eos = x as u32,
                        _ => {}
                    }
                }
            }
            (3, Field::Bytes(n)) => {
                for g in fields(n) {
                    if let (3, Field::Varint(x)) = g? {
                        v.add_space_prefix = x != 0;
                    }
                }
            }
            _ => {}
        }
    }
    ensure!(!v.tokens.is_empty(), "tokenizer.model has no pieces");
    let n = v.tokens.len() as u32;
    ensure!(
        v.bos < n && v.eos < n && v.unk < n,
        "tokenizer.model special ids (bos {}, eos {}, unk {}) outside its {n} pieces",
        v.bos,
        v.eos,
        v.unk
    );
    Ok(v)
}

impl SpmVocab {
    /// Pads the vocabulary to `n` entries with `[PAD{i}]` unused tokens (score −10000), as
    /// llama.cpp does when the model's vocabulary is larger than the tokenizer's.
    pub fn pad_to(&mut self, n: usize) {
        for i in self.tokens.len()..n {
            self.tokens.push(format!("[PAD{i}]").into_bytes());
            self.scores.push(-10000.0);
            self.types.push(5);
        }
    }
}
