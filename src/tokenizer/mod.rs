//! Tokenizers read from GGUF metadata, without heap: SentencePiece-BPE (LLaMA / OpenELM,
//! `tokenizer.ggml.model = "llama"`) and the plain byte tokenizer (`"bytes"`).
//!
//! Memory is the caller's:
//! - an index of [`Tokenizer::index_len`] `u32` words, filled once by
//!   [`Tokenizer::from_gguf`] (8 bytes per vocabulary piece; 0 for the byte tokenizer): the
//!   pieces stay in the GGUF bytes, the index gives random access and a sorted order for
//!   binary-search lookup (see [`Vocab`]);
//! - per [`Tokenizer::encode`] call, [`Tokenizer::scratch_len`]`(max_text_bytes)` [`Symbol`]s
//!   and up to [`Tokenizer::max_tokens`]`(max_text_bytes)` output ids.
//!
//! ```
//! use picoformer::tokenizer::{Symbol, Tokenizer};
//! # fn demo(file: &picoformer::gguf::File<'_>) -> picoformer::Result<()> {
//! const MAX_TEXT: usize = 64;
//! let mut index = [0u32; 2 * 512]; // Tokenizer::index_len(file) words, 512-piece vocab
//! let tok = Tokenizer::from_gguf(file, &mut index)?;
//! let mut scratch = [Symbol::EMPTY; Tokenizer::scratch_len(MAX_TEXT)];
//! let mut ids = [0u32; Tokenizer::max_tokens(MAX_TEXT)];
//! let n = tok.encode(b"Hello world", true, &mut scratch, &mut ids)?;
//! let mut text = [0u8; 256];
//! let len = tok.decode(&ids[..n], &mut text)?;
//! # let _ = len; Ok(()) }
//! ```

mod bytes;
mod spm;
mod vocab;

pub use bytes::Bytes;
pub use spm::{Spm, Symbol};
pub use vocab::{TokenKind, Vocab};

use crate::gguf::File;
use crate::{Error, Result};

/// GGUF key of the tokenizer model name.
pub const KEY_MODEL: &str = "tokenizer.ggml.model";
/// GGUF key of the piece list (string array).
pub const KEY_TOKENS: &str = "tokenizer.ggml.tokens";
/// GGUF key of the piece scores (f32 array).
pub const KEY_SCORES: &str = "tokenizer.ggml.scores";
/// GGUF key of the piece kinds (i32 array, see [`TokenKind`]).
pub const KEY_TOKEN_TYPE: &str = "tokenizer.ggml.token_type";

/// A tokenizer: SentencePiece-BPE or bytes, chosen by `tokenizer.ggml.model`.
#[derive(Debug, Clone, Copy)]
pub struct Tokenizer<'a> {
    kind: Kind<'a>,
    add_bos: bool,
}

#[derive(Debug, Clone, Copy)]
enum Kind<'a> {
    Spm(Spm<'a>),
    Bytes(Bytes),
}

impl<'a> Tokenizer<'a> {
    /// Scratch [`Symbol`]s [`Tokenizer::encode`] needs for texts of at most `max_text_bytes`
    /// bytes (`3·max_text_bytes + 3`; the byte tokenizer needs none but accepts them).
    pub const fn scratch_len(max_text_bytes: usize) -> usize {
        Spm::scratch_len(max_text_bytes)
    }

    /// Most ids [`Tokenizer::encode`] produces for `max_text_bytes` bytes, BOS included.
    pub const fn max_tokens(max_text_bytes: usize) -> usize {
        Spm::max_tokens(max_text_bytes)
    }

    /// Index words [`Tokenizer::from_gguf`] needs for this file: `2·n_tokens` for a
    /// SentencePiece vocabulary, 0 for the byte tokenizer or when the file has no token list.
    pub fn index_len(file: &File<'_>) -> usize {
        match file.get_str(KEY_MODEL) {
            Some("llama") => file
                .get_array(KEY_TOKENS)
                .map_or(0, |a| Vocab::index_len(a.len())),
            _ => 0,
        }
    }

    /// Reads the tokenizer of a GGUF file.
    ///
    /// Keys: `tokenizer.ggml.model` (`"llama"` or `"bytes"`); for `"llama"`:
    /// `tokenizer.ggml.tokens` (string array), optional `.scores` (f32 array),
    /// `.token_type` (i32 array), `.bos_token_id`, `.eos_token_id`, `.unknown_token_id`,
    /// `.add_space_prefix` (bool, default true), `.add_bos_token` (default true); for
    /// `"bytes"`: optional `.bos_token_id`, `.eos_token_id` (≥ 256), `.add_bos_token`
    /// (default false). `index` must hold [`Tokenizer::index_len`] words.
    ///
    /// Errors: [`Error::MissingKey`] for an absent or mistyped key, [`Error::Unsupported`] for
    /// another tokenizer model, plus those of [`Vocab::new`] and [`Spm::new`].
    pub fn from_gguf(file: &File<'a>, index: &'a mut [u32]) -> Result<Tokenizer<'a>> {
        let model = file
            .get_str(KEY_MODEL)
            .ok_or(Error::MissingKey { key: KEY_MODEL })?;
        let id = |key: &'static str| -> Result<Option<u32>> {
            match file.get(key) {
                None => Ok(None),
                Some(v) => v.as_u32().map(Some).ok_or(Error::MissingKey { key }),
            }
        };
        let flag = |key: &'static str, default: bool| -> Result<bool> {
            match file.get(key) {
                None => Ok(default),
                Some(v) => v.as_bool().ok_or(Error::MissingKey { key }),
            }
        };
        let bos = id("tokenizer.ggml.bos_token_id")?;
        let eos = id("tokenizer.ggml.eos_token_id")?;
        match model {
            "llama" => {
                let tokens = file
                    .get_array(KEY_TOKENS)
                    .filter(|a| a.iter_str().is_some())
                    .ok_or(Error::MissingKey { key: KEY_TOKENS })?;
                let scores = match file.get(KEY_SCORES) {
                    None => &[][..],
                    Some(v) => v
                        .as_array()
                        .filter(|a| a.iter_f32().is_some())
                        .ok_or(Error::MissingKey { key: KEY_SCORES })?
                        .bytes(),
                };
                let types = match file.get(KEY_TOKEN_TYPE) {
                    None => &[][..],
                    Some(v) => v
                        .as_array()
                        .filter(|a| a.elem_type().fixed_size() == Some(4) && a.iter_i32().is_some())
                        .ok_or(Error::MissingKey {
                            key: KEY_TOKEN_TYPE,
                        })?
                        .bytes(),
                };
                let vocab = Vocab::new(tokens.bytes(), tokens.len(), scores, types, index)?;
                let spm = Spm::new(
                    vocab,
                    bos,
                    eos,
                    id("tokenizer.ggml.unknown_token_id")?,
                    flag("tokenizer.ggml.add_space_prefix", true)?,
                )?;
                Ok(Tokenizer {
                    kind: Kind::Spm(spm),
                    add_bos: flag("tokenizer.ggml.add_bos_token", true)?,
                })
            }
            "bytes" => Ok(Tokenizer {
                kind: Kind::Bytes(Bytes::new(bos, eos)?),
                add_bos: flag("tokenizer.ggml.add_bos_token", false)?,
            }),
            _ => Err(Error::Unsupported {
                what: "tokenizer.ggml.model (only \"llama\" and \"bytes\")",
                value: 0,
            }),
        }
    }

    /// A SentencePiece tokenizer built from parts (e.g. not from a GGUF file).
    pub fn from_spm(spm: Spm<'a>, add_bos: bool) -> Tokenizer<'a> {
        Tokenizer {
            kind: Kind::Spm(spm),
            add_bos,
        }
    }

    /// A byte tokenizer built from parts.
    pub fn from_bytes(bytes: Bytes, add_bos: bool) -> Tokenizer<'a> {
        Tokenizer {
            kind: Kind::Bytes(bytes),
            add_bos,
        }
    }

    /// The SentencePiece tokenizer, if that is the kind.
    pub fn spm(&self) -> Option<&Spm<'a>> {
        match &self.kind {
            Kind::Spm(s) => Some(s),
            Kind::Bytes(_) => None,
        }
    }

    /// Beginning-of-sequence id.
    pub fn bos(&self) -> Option<u32> {
        match &self.kind {
            Kind::Spm(s) => s.bos(),
            Kind::Bytes(b) => b.bos(),
        }
    }

    /// End-of-sequence id.
    pub fn eos(&self) -> Option<u32> {
        match &self.kind {
            Kind::Spm(s) => s.eos(),
            Kind::Bytes(b) => b.eos(),
        }
    }

    /// The file's `tokenizer.ggml.add_bos_token` (what a runner should pass as `add_bos`).
    pub fn add_bos_default(&self) -> bool {
        self.add_bos
    }

    /// Encodes `text` into `out` (BOS first if `add_bos`); returns the number of ids. See
    /// [`Spm::encode`] for the algorithm and errors.
    pub fn encode(
        &self,
        text: &[u8],
        add_bos: bool,
        scratch: &mut [Symbol],
        out: &mut [u32],
    ) -> Result<usize> {
        match &self.kind {
            Kind::Spm(s) => s.encode(text, add_bos, scratch, out),
            Kind::Bytes(b) => b.encode(text, add_bos, out),
        }
    }

    /// Writes the text of one token; `strip_space` drops one leading space (pass `true` only
    /// for the first token of a text when [`Spm::add_space_prefix`] is set, as
    /// [`Tokenizer::decode`] does). For streaming generated tokens after a prompt pass `false`.
    pub fn decode_token(&self, id: u32, strip_space: bool, out: &mut [u8]) -> Result<usize> {
        match &self.kind {
            Kind::Spm(s) => s.decode_token(id, strip_space, out),
            Kind::Bytes(b) => b.decode_token(id, out),
        }
    }

    /// Decodes `ids` into `out`; returns the byte count (`llama_detokenize` semantics for
    /// SentencePiece, see [`Spm::decode`]).
    pub fn decode(&self, ids: &[u32], out: &mut [u8]) -> Result<usize> {
        match &self.kind {
            Kind::Spm(s) => s.decode(ids, out),
            Kind::Bytes(b) => {
                let mut n = 0;
                for &id in ids {
                    n += b.decode_token(id, out.get_mut(n..).unwrap_or(&mut []))?;
                }
                Ok(n)
            }
        }
    }
}
