//! The plain byte tokenizer (`tokenizer.ggml.model = "bytes"`, a picoformer convention, see
//! `docs/GGUF.md`): token id = byte value for ids 0..255; optional BOS/EOS ids ≥ 256.

use crate::{Error, Result};

/// Byte-level tokenizer: no vocabulary, no scratch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bytes {
    bos: Option<u32>,
    eos: Option<u32>,
}

impl Bytes {
    /// Creates the tokenizer; BOS/EOS, when given, must be ≥ 256 (ids below are bytes).
    pub fn new(bos: Option<u32>, eos: Option<u32>) -> Result<Bytes> {
        if bos.is_some_and(|b| b < 256) || eos.is_some_and(|e| e < 256) {
            return Err(Error::InvalidParam {
                what: "byte tokenizer BOS/EOS ids must be >= 256",
            });
        }
        Ok(Bytes { bos, eos })
    }

    /// Beginning-of-sequence id.
    pub fn bos(&self) -> Option<u32> {
        self.bos
    }

    /// End-of-sequence id.
    pub fn eos(&self) -> Option<u32> {
        self.eos
    }

    /// `[BOS] + text bytes` into `out`; returns the count.
    pub fn encode(&self, text: &[u8], add_bos: bool, out: &mut [u32]) -> Result<usize> {
        let bos = if add_bos {
            Some(self.bos.ok_or(Error::InvalidParam {
                what: "add_bos requested but the vocabulary has no BOS id",
            })?)
        } else {
            None
        };
        let n = text.len() + usize::from(bos.is_some());
        let available = out.len();
        let dst = out.get_mut(..n).ok_or(Error::Capacity {
            what: "tokenizer output ids",
            needed: n,
            available,
        })?;
        let ids = bos.into_iter().chain(text.iter().map(|&b| u32::from(b)));
        for (d, id) in dst.iter_mut().zip(ids) {
            *d = id;
        }
        Ok(n)
    }

    /// The byte of token `id` (ids ≥ 256, i.e. BOS/EOS/others, print nothing); returns 0 or 1.
    pub fn decode_token(&self, id: u32, out: &mut [u8]) -> Result<usize> {
        let Ok(b) = u8::try_from(id) else {
            return Ok(0);
        };
        let slot = out.first_mut().ok_or(Error::Capacity {
            what: "decoded text bytes",
            needed: 1,
            available: 0,
        })?;
        *slot = b;
        Ok(1)
    }
}
