//! A bounds-checked little-endian reader over a byte slice.
//!
//! Every read either returns the value and advances, or returns [`Error::Truncated`] without
//! panicking. Offsets in errors are positions in the slice the cursor was created over (for
//! [`File::parse`](super::File::parse), the whole file).

use crate::{Error, Result};

/// Reads little-endian fields from `buf`, starting at `pos`.
#[derive(Clone, Debug)]
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at byte `pos` of `buf` (`pos` may be past the end: every read then fails).
    pub(crate) fn at(buf: &'a [u8], pos: usize) -> Self {
        Cursor { buf, pos }
    }

    /// Current position.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left after the current position.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// The bytes from `start` up to the current position.
    pub(crate) fn since(&self, start: usize) -> Option<&'a [u8]> {
        self.buf.get(start..self.pos)
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let truncated = Error::Truncated {
            offset: self.pos,
            needed: n,
        };
        let end = self.pos.checked_add(n).ok_or(truncated)?;
        let bytes = self.buf.get(self.pos..end).ok_or(truncated)?;
        self.pos = end;
        Ok(bytes)
    }

    /// The next `N` bytes as an array.
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let at = self.pos;
        self.take(N)?.try_into().map_err(|_| Error::Truncated {
            offset: at,
            needed: N,
        })
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16> {
        self.array().map(u16::from_le_bytes)
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        self.array().map(u32::from_le_bytes)
    }

    pub(crate) fn u64(&mut self) -> Result<u64> {
        self.array().map(u64::from_le_bytes)
    }

    /// A length or count field (`u64` in GGUF v2/v3) that must fit in `usize`.
    pub(crate) fn len_u64(&mut self, what: &'static str) -> Result<usize> {
        let offset = self.pos;
        let n = self.u64()?;
        usize::try_from(n).map_err(|_| Error::Malformed { what, offset })
    }

    /// A GGUF string: `u64` byte length, then that many bytes of UTF-8 (no terminator).
    pub(crate) fn str(&mut self, what: &'static str) -> Result<&'a str> {
        let bytes = self.raw_str()?;
        core::str::from_utf8(bytes).map_err(|_| Error::Malformed {
            what,
            offset: self.pos.saturating_sub(bytes.len()),
        })
    }

    /// A GGUF string's bytes, without UTF-8 validation (for skipping already-checked data).
    pub(crate) fn raw_str(&mut self) -> Result<&'a [u8]> {
        let n = self.len_u64("string length")?;
        self.take(n)
    }
}
