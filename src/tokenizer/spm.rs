//! SentencePiece-BPE encoding and decoding, as llama.cpp runs it for
//! `tokenizer.ggml.model = "llama"` (`llm_tokenizer_spm` + `llama_vocab::detokenize`), which
//! agrees id for id with SentencePiece's own BPE encoder on LLaMA-style models (identity
//! normaliser, no whitespace squashing, dummy prefix, byte fallback): see
//! `tests/tokenizer_golden.rs`.
//!
//! **Encode** `text` (raw bytes, no special-token parsing):
//! 1. if `add_space_prefix`, prepend a space; replace every `' '` (0x20 only) by `▁` (U+2581);
//! 2. split into UTF-8 characters (a truncated or stray byte is a 1-byte symbol);
//! 3. repeatedly merge the adjacent pair whose concatenation is a vocabulary piece of the
//!    **highest score**, ties to the **leftmost** pair (llama.cpp's bigram priority queue,
//!    `score` descending then `left` ascending), until no adjacent pair is a piece;
//! 4. emit each symbol's id; a symbol that is not a piece (only single characters can be:
//!    merged symbols are pieces by construction, so llama.cpp's resegmentation never splits
//!    further) is emitted as its bytes' `<0xXX>` tokens (byte fallback), else the
//!    single-byte piece, else the unknown id.
//!
//! The merge loop rescans the live symbols for the best pair after each merge: `O(m²)` byte
//! comparisons for `m` escaped bytes, no priority queue memory; it yields exactly the queue's
//! order because each live adjacent pair has exactly one valid queue entry in llama.cpp.
//!
//! **Decode** token by token as `llama_token_to_piece` with `special = false`: `Normal` pieces
//! with `▁` → space, `UserDefined` verbatim, `Byte` pieces as their raw byte, `Control`,
//! `Unknown` and `Unused` as nothing. [`Spm::decode`] is `llama_detokenize(remove_special =
//! false, unparse_special = false)`: when `add_space_prefix` is set, **one leading space of the
//! first token's output is removed, and only the first token's** — so `decode(encode(s))`
//! is `s`, while a sequence starting with BOS keeps the space after it (BOS consumes the
//! strip and prints nothing; llama.cpp does the same).

use super::vocab::{TokenKind, Vocab};
use crate::{Error, Result};

/// `▁` (U+2581) in UTF-8: SentencePiece's visible space.
const SPACE_ESCAPE: [u8; 3] = [0xE2, 0x96, 0x81];
/// "No link / no pair" marker.
const NONE: u32 = u32::MAX;

/// One byte of the escaped text, plus the merge state of the symbol starting at it.
///
/// Encoding needs one `Symbol` per escaped byte ([`Spm::scratch_len`]); 20 bytes each.
#[derive(Debug, Clone, Copy)]
pub struct Symbol {
    /// The text byte.
    byte: u8,
    /// Byte length of the symbol starting here (0: inside another symbol).
    len: u32,
    /// Start of the previous symbol (`NONE` for the first).
    prev: u32,
    /// Piece id of this symbol merged with the next one (`NONE`: not a piece).
    pair_id: u32,
    /// Score of `pair_id`.
    pair_score: f32,
}

impl Symbol {
    /// An initial value for scratch arrays (`[Symbol::EMPTY; N]`).
    pub const EMPTY: Symbol = Symbol {
        byte: 0,
        len: 0,
        prev: NONE,
        pair_id: NONE,
        pair_score: 0.0,
    };
}

/// A SentencePiece-BPE tokenizer over a borrowed [`Vocab`].
#[derive(Debug, Clone, Copy)]
pub struct Spm<'a> {
    vocab: Vocab<'a>,
    bos: Option<u32>,
    eos: Option<u32>,
    unk: Option<u32>,
    add_space_prefix: bool,
}

impl<'a> Spm<'a> {
    /// Scratch symbols [`Spm::encode`] needs for a text of at most `max_text_bytes` bytes:
    /// `3·max_text_bytes + 3` (every byte a space escaped to 3 bytes, plus the prefix).
    /// [`Spm::scratch_needed`] gives the exact count for one text.
    pub const fn scratch_len(max_text_bytes: usize) -> usize {
        3 * max_text_bytes + 3
    }

    /// Output ids [`Spm::encode`] can produce at most for `max_text_bytes` bytes: one per
    /// escaped byte (byte fallback) plus BOS.
    pub const fn max_tokens(max_text_bytes: usize) -> usize {
        Self::scratch_len(max_text_bytes) + 1
    }

    /// Creates the tokenizer. `bos`/`eos`/`unk` must be inside the vocabulary when given.
    pub fn new(
        vocab: Vocab<'a>,
        bos: Option<u32>,
        eos: Option<u32>,
        unk: Option<u32>,
        add_space_prefix: bool,
    ) -> Result<Spm<'a>> {
        for (id, what) in [
            (bos, "tokenizer.ggml.bos_token_id outside the vocabulary"),
            (eos, "tokenizer.ggml.eos_token_id outside the vocabulary"),
            (
                unk,
                "tokenizer.ggml.unknown_token_id outside the vocabulary",
            ),
        ] {
            if id.is_some_and(|i| i as usize >= vocab.len()) {
                return Err(Error::InvalidParam { what });
            }
        }
        Ok(Spm {
            vocab,
            bos,
            eos,
            unk,
            add_space_prefix,
        })
    }

    /// The vocabulary.
    pub fn vocab(&self) -> &Vocab<'a> {
        &self.vocab
    }

    /// Beginning-of-sequence id.
    pub fn bos(&self) -> Option<u32> {
        self.bos
    }

    /// End-of-sequence id.
    pub fn eos(&self) -> Option<u32> {
        self.eos
    }

    /// Unknown-token id.
    pub fn unk(&self) -> Option<u32> {
        self.unk
    }

    /// Whether a space is prepended before encoding (and stripped from the first decoded token).
    pub fn add_space_prefix(&self) -> bool {
        self.add_space_prefix
    }

    /// Exact scratch symbols needed to encode `text`.
    pub fn scratch_needed(&self, text: &[u8]) -> usize {
        if text.is_empty() {
            return 0;
        }
        let spaces = text.iter().filter(|&&b| b == b' ').count();
        text.len() + 2 * spaces + if self.add_space_prefix { 3 } else { 0 }
    }

    /// Encodes `text` into `out`, optionally preceded by BOS; returns the number of ids.
    ///
    /// An empty text gives no ids (just BOS if asked), as llama.cpp. Errors:
    /// [`Error::Capacity`] if `scratch` or `out` is too small, [`Error::InvalidParam`] if
    /// `add_bos` is set without a BOS id or a byte has no token and there is no unknown id.
    pub fn encode(
        &self,
        text: &[u8],
        add_bos: bool,
        scratch: &mut [Symbol],
        out: &mut [u32],
    ) -> Result<usize> {
        let mut out = Out { buf: out, n: 0 };
        if add_bos {
            out.push(self.bos.ok_or(Error::InvalidParam {
                what: "add_bos requested but the vocabulary has no BOS id",
            })?)?;
        }
        let m = self.scratch_needed(text);
        if m == 0 {
            return Ok(out.n);
        }
        if u32::try_from(m).is_err() {
            return Err(Error::InvalidParam {
                what: "text longer than 4 GiB",
            });
        }
        let available = scratch.len();
        let syms = scratch.get_mut(..m).ok_or(Error::Capacity {
            what: "tokenizer scratch symbols",
            needed: m,
            available,
        })?;

        // 1. Escaped text, one byte per symbol slot.
        let prefix: &[u8] = if self.add_space_prefix {
            &SPACE_ESCAPE
        } else {
            &[]
        };
        let mut slots = syms.iter_mut();
        let mut put = |b: u8| {
            if let Some(s) = slots.next() {
                *s = Symbol {
                    byte: b,
                    ..Symbol::EMPTY
                };
            }
        };
        prefix.iter().for_each(|&b| put(b));
        for &b in text {
            if b == b' ' {
                SPACE_ESCAPE.iter().for_each(|&e| put(e));
            } else {
                put(b);
            }
        }

        // 2. UTF-8 characters.
        let mut pos = 0usize;
        let mut prev = NONE;
        while let Some(s) = syms.get_mut(pos) {
            let len = utf8_len(s.byte).min(m - pos);
            s.len = len as u32;
            s.prev = prev;
            prev = pos as u32;
            pos += len;
        }

        // 3. Merges.
        let mut pos = 0usize;
        while pos < m {
            self.update_pair(syms, pos);
            pos += sym_len(syms, pos).max(1);
        }
        loop {
            let mut best: Option<(usize, f32)> = None;
            let mut pos = 0usize;
            while let Some(s) = syms.get(pos) {
                if s.pair_id != NONE && best.is_none_or(|(_, sc)| s.pair_score > sc) {
                    best = Some((pos, s.pair_score));
                }
                pos += (s.len as usize).max(1);
            }
            let Some((left, _)) = best else { break };
            let right = left + sym_len(syms, left);
            let merged = sym_len(syms, left) + sym_len(syms, right);
            if let Some(s) = syms.get_mut(left) {
                s.len = merged as u32;
            }
            if let Some(s) = syms.get_mut(right) {
                s.len = 0;
                s.pair_id = NONE;
            }
            if let Some(s) = syms.get_mut(left + merged) {
                s.prev = left as u32;
            }
            let before = syms.get(left).map_or(NONE, |s| s.prev);
            if before != NONE {
                self.update_pair(syms, before as usize);
            }
            self.update_pair(syms, left);
        }

        // 4. Output, with byte fallback.
        let mut pos = 0usize;
        while pos < m {
            let len = sym_len(syms, pos).max(1);
            let text = syms.get(pos..pos + len).unwrap_or(&[]);
            match self.vocab.find(text.iter().map(|s| s.byte)) {
                Some(id) => out.push(id)?,
                None => {
                    for s in text {
                        out.push(self.byte_token(s.byte)?)?;
                    }
                }
            }
            pos += len;
        }
        Ok(out.n)
    }

    /// Recomputes the merge candidate of the symbol at `pos` with its successor.
    fn update_pair(&self, syms: &mut [Symbol], pos: usize) {
        let len = sym_len(syms, pos);
        let next_len = sym_len(syms, pos + len);
        let found = if len == 0 || next_len == 0 {
            None
        } else {
            syms.get(pos..pos + len + next_len)
                .and_then(|t| self.vocab.find(t.iter().map(|s| s.byte)))
        };
        if let Some(s) = syms.get_mut(pos) {
            s.pair_id = found.unwrap_or(NONE);
            s.pair_score = found.map_or(0.0, |id| self.vocab.score(id));
        }
    }

    /// The token for a raw byte: `<0xXX>` (upper-case hex, as llama.cpp spells it), else the
    /// one-byte piece, else the unknown id.
    pub fn byte_token(&self, b: u8) -> Result<u32> {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let name = [
            b'<',
            b'0',
            b'x',
            HEX[(b >> 4) as usize],
            HEX[(b & 15) as usize],
            b'>',
        ];
        self.vocab
            .find(name.iter().copied())
            .or_else(|| self.vocab.find(core::iter::once(b)))
            .or(self.unk)
            .ok_or(Error::InvalidParam {
                what: "a byte has no token and the vocabulary has no unknown id",
            })
    }

    /// Writes the text of token `id` to `out` (see the module docs for what each kind prints);
    /// with `strip_space`, one leading space of that text is dropped. Returns the byte count.
    pub fn decode_token(&self, id: u32, strip_space: bool, out: &mut [u8]) -> Result<usize> {
        let piece = self.vocab.piece(id).ok_or(Error::InvalidParam {
            what: "token id outside the vocabulary",
        })?;
        let mut w = Writer {
            buf: out,
            n: 0,
            strip: strip_space,
        };
        match self.vocab.kind(id) {
            TokenKind::Normal => {
                let mut i = 0usize;
                while let Some(&b) = piece.get(i) {
                    if piece.get(i..i + 3) == Some(&SPACE_ESCAPE[..]) {
                        w.put(b' ')?;
                        i += 3;
                    } else {
                        w.put(b)?;
                        i += 1;
                    }
                }
            }
            TokenKind::UserDefined => {
                for &b in piece {
                    w.put(b)?;
                }
            }
            TokenKind::Byte => w.put(parse_byte_piece(piece)?)?,
            TokenKind::Unknown | TokenKind::Control | TokenKind::Unused => {}
        }
        Ok(w.n)
    }

    /// Decodes `ids` into `out` (`llama_detokenize` semantics, see the module docs); returns
    /// the byte count. [`Error::Capacity`] if `out` is too small.
    pub fn decode(&self, ids: &[u32], out: &mut [u8]) -> Result<usize> {
        let cap = out.len();
        let mut n = 0usize;
        for (i, &id) in ids.iter().enumerate() {
            let rest = out.get_mut(n..).unwrap_or(&mut []);
            n += self
                .decode_token(id, i == 0 && self.add_space_prefix, rest)
                .map_err(|e| match e {
                    Error::Capacity { what, needed, .. } => Error::Capacity {
                        what,
                        needed: n + needed,
                        available: cap,
                    },
                    e => e,
                })?;
        }
        Ok(n)
    }
}

/// `len` of the symbol starting at `pos` (0 past the end or inside a symbol).
fn sym_len(syms: &[Symbol], pos: usize) -> usize {
    syms.get(pos).map_or(0, |s| s.len as usize)
}

/// Byte length of the UTF-8 sequence starting with `b` (1 for continuation/invalid bytes), as
/// llama.cpp's `unicode_len_utf8`.
const fn utf8_len(b: u8) -> usize {
    const LOOKUP: [u8; 16] = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4];
    LOOKUP[(b >> 4) as usize] as usize
}

/// The byte value of a `<0xXX>` piece.
fn parse_byte_piece(piece: &[u8]) -> Result<u8> {
    let hex = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    match piece {
        [b'<', b'0', b'x', h, l, b'>'] => hex(*h).zip(hex(*l)).map(|(h, l)| h << 4 | l),
        _ => None,
    }
    .ok_or(Error::Malformed {
        what: "byte token text (expected <0xXX>)",
        offset: 0,
    })
}

/// Bounded id output.
struct Out<'o> {
    buf: &'o mut [u32],
    n: usize,
}

impl Out<'_> {
    fn push(&mut self, id: u32) -> Result<()> {
        let cap = self.buf.len();
        let slot = self.buf.get_mut(self.n).ok_or(Error::Capacity {
            what: "tokenizer output ids",
            needed: self.n + 1,
            available: cap,
        })?;
        *slot = id;
        self.n += 1;
        Ok(())
    }
}

/// Bounded byte output that can drop one leading space.
struct Writer<'o> {
    buf: &'o mut [u8],
    n: usize,
    strip: bool,
}

impl Writer<'_> {
    fn put(&mut self, b: u8) -> Result<()> {
        if core::mem::take(&mut self.strip) && b == b' ' {
            return Ok(());
        }
        let cap = self.buf.len();
        let slot = self.buf.get_mut(self.n).ok_or(Error::Capacity {
            what: "decoded text bytes",
            needed: self.n + 1,
            available: cap,
        })?;
        *slot = b;
        self.n += 1;
        Ok(())
    }
}
