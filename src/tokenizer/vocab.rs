//! A zero-copy SentencePiece vocabulary over GGUF arrays, with a caller-provided lookup index.
//!
//! The pieces stay where they are in the GGUF bytes (`tokenizer.ggml.tokens`, a string array:
//! each element is a little-endian `u64` length followed by that many bytes). Random access by
//! id and lookup by text both need an index, which the caller provides once as a `&mut [u32]`
//! of [`Vocab::index_len`]`(n)` words (8 bytes per token: 256 KiB for a 32 000-piece vocabulary):
//!
//! - words `0..n`: byte offset of piece `i`'s length prefix inside the string-array payload;
//! - words `n..2n`: the ids sorted by (piece bytes, id), so lookup is a binary search,
//!   `O(log n)` piece comparisons (no hash map, no heap).
//!
//! Building the index walks the array once and sorts it in place (`core`'s `sort_unstable_by`,
//! no allocation): `O(n log n)`, a few milliseconds on a host for 32 000 pieces.

use crate::{Error, Result};

/// The kind of a vocabulary entry: GGUF `tokenizer.ggml.token_type` (llama.cpp's
/// `llama_token_type`; SentencePiece's `ModelProto.SentencePiece.Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TokenKind {
    /// 1: an ordinary piece; decodes to its text with `▁` → space.
    Normal,
    /// 2: the unknown token; decodes to nothing.
    Unknown,
    /// 3: a control token (BOS, EOS, ...); decodes to nothing.
    Control,
    /// 4: a user-defined piece; decodes to its text verbatim.
    UserDefined,
    /// 5: an unused piece; decodes to nothing.
    Unused,
    /// 6: a byte piece `<0xXX>`; decodes to that raw byte.
    Byte,
}

impl TokenKind {
    /// Maps the GGUF `token_type` value; 0 (undefined) and unknown values are `Normal`
    /// (llama.cpp would print nothing for an undefined token; converters never write 0).
    pub const fn from_gguf(v: i32) -> TokenKind {
        match v {
            2 => TokenKind::Unknown,
            3 => TokenKind::Control,
            4 => TokenKind::UserDefined,
            5 => TokenKind::Unused,
            6 => TokenKind::Byte,
            _ => TokenKind::Normal,
        }
    }
}

/// Name used in errors about the token list.
const TOKENS: &str = "tokenizer.ggml.tokens";

/// A SentencePiece vocabulary: pieces, scores and kinds, borrowed from a GGUF file.
#[derive(Debug, Clone, Copy)]
pub struct Vocab<'a> {
    /// The string-array payload, from its first element's length prefix.
    strings: &'a [u8],
    /// `n` little-endian f32 scores (empty: all 0).
    scores: &'a [u8],
    /// `n` little-endian i32 token types (empty: all `Normal`).
    types: &'a [u8],
    /// Offsets of the pieces' length prefixes in `strings`.
    offsets: &'a [u32],
    /// Ids sorted by (piece, id).
    sorted: &'a [u32],
}

impl<'a> Vocab<'a> {
    /// Words of index memory [`Vocab::new`] needs for `n_tokens` pieces: `2·n_tokens`.
    pub const fn index_len(n_tokens: usize) -> usize {
        2 * n_tokens
    }

    /// Builds the vocabulary view.
    ///
    /// - `strings`: the payload of the GGUF string array (`n_tokens` elements, each a `u64`
    ///   LE length and the bytes); trailing bytes after the last element are ignored.
    /// - `scores`: `4·n_tokens` bytes of LE f32 (or empty: all scores 0). NaN is rejected.
    /// - `types`: `4·n_tokens` bytes of LE i32 (or empty: all `Normal`).
    /// - `index`: at least [`Vocab::index_len`]`(n_tokens)` words, filled here.
    ///
    /// Errors: a string running past the payload ([`Error::Malformed`]), array lengths that
    /// disagree ([`Error::Shape`]), a NaN score ([`Error::NonFinite`]), a short index
    /// ([`Error::Capacity`]), a payload over 4 GiB ([`Error::Unsupported`]).
    pub fn new(
        strings: &'a [u8],
        n_tokens: usize,
        scores: &'a [u8],
        types: &'a [u8],
        index: &'a mut [u32],
    ) -> Result<Vocab<'a>> {
        if n_tokens == 0 {
            return Err(Error::InvalidParam {
                what: "tokenizer vocabulary is empty",
            });
        }
        let need = Self::index_len(n_tokens);
        let available = index.len();
        let index = index.get_mut(..need).ok_or(Error::Capacity {
            what: "tokenizer index words",
            needed: need,
            available,
        })?;
        for (bytes, what) in [
            (scores, "tokenizer.ggml.scores"),
            (types, "tokenizer.ggml.token_type"),
        ] {
            if !bytes.is_empty() && bytes.len() != 4 * n_tokens {
                return Err(Error::Shape {
                    what,
                    expected: n_tokens,
                    got: bytes.len() / 4,
                });
            }
        }
        if scores
            .chunks_exact(4)
            .any(|c| <[u8; 4]>::try_from(c).is_ok_and(|a| f32::from_le_bytes(a).is_nan()))
        {
            return Err(Error::NonFinite {
                what: "tokenizer.ggml.scores",
            });
        }
        let (offsets, sorted) = index.split_at_mut(n_tokens);
        let mut pos = 0usize;
        for slot in offsets.iter_mut() {
            let len = read_u64(strings, pos).ok_or(Error::Truncated {
                offset: pos,
                needed: 8,
            })?;
            let end = usize::try_from(len)
                .ok()
                .and_then(|l| pos.checked_add(8)?.checked_add(l))
                .filter(|&e| e <= strings.len())
                .ok_or(Error::Malformed {
                    what: TOKENS,
                    offset: pos,
                })?;
            *slot = u32::try_from(pos).map_err(|_| Error::Unsupported {
                what: "tokenizer string array larger than 4 GiB",
                value: pos as u64,
            })?;
            pos = end;
        }
        for (i, s) in sorted.iter_mut().enumerate() {
            // n_tokens ≤ strings.len() / 8 < 2^32 here, so the id fits.
            *s = i as u32;
        }
        let offsets: &'a [u32] = offsets;
        sorted.sort_unstable_by(|&a, &b| {
            piece_at(strings, offsets, a)
                .cmp(piece_at(strings, offsets, b))
                .then(a.cmp(&b))
        });
        Ok(Vocab {
            strings,
            scores,
            types,
            offsets,
            sorted,
        })
    }

    /// Number of pieces.
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    /// Always false (an empty vocabulary is rejected by [`Vocab::new`]).
    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// The bytes of piece `id` (`None` if out of range).
    pub fn piece(&self, id: u32) -> Option<&'a [u8]> {
        let off = *self.offsets.get(id as usize)? as usize;
        let len = usize::try_from(read_u64(self.strings, off)?).ok()?;
        self.strings
            .get(off.checked_add(8)?..off.checked_add(8)?.checked_add(len)?)
    }

    /// The score of piece `id` (0 when the file has no scores or `id` is out of range).
    pub fn score(&self, id: u32) -> f32 {
        read4(self.scores, id).map_or(0.0, f32::from_le_bytes)
    }

    /// The kind of piece `id` (`Normal` when the file has no token types).
    pub fn kind(&self, id: u32) -> TokenKind {
        read4(self.types, id).map_or(TokenKind::Normal, |b| {
            TokenKind::from_gguf(i32::from_le_bytes(b))
        })
    }

    /// The id of the piece whose bytes equal `key` (compared byte by byte through `key`'s
    /// iterator, so callers need not materialise the text). With duplicate pieces the highest
    /// id wins, as in llama.cpp's `token_to_id` map (built by inserting ids in order).
    pub fn find<I>(&self, key: I) -> Option<u32>
    where
        I: Iterator<Item = u8> + Clone,
    {
        // First position whose piece is greater than `key`; the one before it is the last
        // piece ≤ key in (piece, id) order, i.e. the highest id among equal pieces.
        let upper = self.sorted.partition_point(|&id| {
            let p = piece_at(self.strings, self.offsets, id);
            p.iter().copied().cmp(key.clone()) != core::cmp::Ordering::Greater
        });
        let id = *self.sorted.get(upper.checked_sub(1)?)?;
        let p = piece_at(self.strings, self.offsets, id);
        p.iter().copied().eq(key).then_some(id)
    }
}

/// Piece bytes of `id` (empty when out of range; the constructor validated every piece).
fn piece_at<'s>(strings: &'s [u8], offsets: &[u32], id: u32) -> &'s [u8] {
    let piece = || {
        let off = *offsets.get(id as usize)? as usize;
        let len = usize::try_from(read_u64(strings, off)?).ok()?;
        strings.get(off.checked_add(8)?..off.checked_add(8)?.checked_add(len)?)
    };
    piece().unwrap_or(&[])
}

/// Little-endian `u64` at `pos`.
fn read_u64(b: &[u8], pos: usize) -> Option<u64> {
    let s = b.get(pos..pos.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_le_bytes(a))
}

/// The `id`-th 4-byte element of `b`.
fn read4(b: &[u8], id: u32) -> Option<[u8; 4]> {
    let i = (id as usize).checked_mul(4)?;
    <[u8; 4]>::try_from(b.get(i..i.checked_add(4)?)?).ok()
}
