//! A parsed GGUF file: validated once, then read without checks or copies.

use super::array::ArrayView;
use super::cursor::Cursor;
use super::header::{Header, HEADER_LEN};
use super::metadata::{self, MetadataIter};
use super::tensor::{is_blk_name, read_tensor_info, TensorInfo, TensorIter};
use super::unique::check_unique;
use super::value::Value;
use crate::{Error, Result};

/// A GGUF file borrowed from memory (flash, an mmap, an `include_bytes!`).
///
/// [`File::parse`] checks the whole structure once; afterwards every lookup walks the already
/// validated tables (linear scans, no allocation) and cannot fail except by not finding what
/// was asked for. `File` is a small `Copy` value: the section offsets and counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct File<'a> {
    bytes: &'a [u8],
    version: u32,
    alignment: u32,
    metadata_count: usize,
    tensor_count: usize,
    tensor_info_start: usize,
    data_start: usize,
}

impl<'a> File<'a> {
    /// Parses and validates a GGUF v3 (or v2, same layout) file.
    ///
    /// Checked: magic, version, counts (bounded by the bytes left), every metadata value of
    /// every type (strings UTF-8, bools 0 or 1, arrays nested at most
    /// [`MAX_ARRAY_DEPTH`](super::MAX_ARRAY_DEPTH) deep), unique keys, `general.alignment` (a
    /// `u32`, nonzero power of two; default 32), tensor infos (UTF-8 unique names, `n_dims`
    /// ≤ 4, dimensions and their product ≤ `i64::MAX`, known ggml type, row length a multiple
    /// of the type's block size), and for each tensor an offset that is a multiple of the
    /// alignment with all its bytes inside `bytes`.
    ///
    /// Work is linear in `bytes.len()` plus the duplicate-key and duplicate-name checks, which
    /// walk each table once per 64 entries (once for typical metadata) and do O(n²/128) hash
    /// look-ups for `n` entries (`n ≤ bytes / 13`); the stack holds 1 KiB for them.
    ///
    /// Errors: [`Error::Malformed`] (with the byte offset of the offending field),
    /// [`Error::Truncated`], [`Error::Unsupported`] (version, ggml type id, nesting depth).
    pub fn parse(bytes: &'a [u8]) -> Result<File<'a>> {
        let mut cur = Cursor::at(bytes, 0);
        let header = Header::read(&mut cur)?;
        let (metadata_end, alignment) =
            metadata::validate(bytes, HEADER_LEN, header.metadata_count)?;

        // Tensor infos: each record checked on its own, then placed once the data section
        // (aligned after the last record) is known.
        let tensor_info_start = metadata_end;
        let mut cur = Cursor::at(bytes, tensor_info_start);
        for _ in 0..header.tensor_count {
            read_tensor_info(&mut cur)?;
        }
        let info_end = cur.pos();
        let data_start = align_up(info_end, alignment).ok_or(Error::Malformed {
            what: "tensor data section offset overflows",
            offset: info_end,
        })?;

        let mut cur = Cursor::at(bytes, tensor_info_start);
        for _ in 0..header.tensor_count {
            read_tensor_info(&mut cur)?.locate(bytes, data_start, alignment)?;
        }
        let names = || {
            let mut cur = Cursor::at(bytes, tensor_info_start);
            (0..header.tensor_count).map_while(move |_| {
                let at = cur.pos();
                Some((at, read_tensor_info(&mut cur).ok()?.name.as_bytes()))
            })
        };
        check_unique(bytes, names, "duplicate tensor name")?;

        Ok(File {
            bytes,
            version: header.version,
            alignment,
            metadata_count: header.metadata_count,
            tensor_count: header.tensor_count,
            tensor_info_start,
            data_start,
        })
    }

    /// The whole file.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The GGUF version (2 or 3).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Tensor data alignment in bytes (`general.alignment`, default 32).
    pub fn alignment(&self) -> u32 {
        self.alignment
    }

    /// Number of metadata key/value pairs.
    pub fn metadata_count(&self) -> usize {
        self.metadata_count
    }

    /// Number of tensors.
    pub fn tensor_count(&self) -> usize {
        self.tensor_count
    }

    /// Byte offset of the tensor data section (a multiple of the alignment). May equal or
    /// exceed `bytes().len()` in a file whose tensors are all empty.
    pub fn data_offset(&self) -> usize {
        self.data_start
    }

    /// All metadata pairs, in file order.
    pub fn metadata(&self) -> MetadataIter<'a> {
        MetadataIter::new(self.bytes, HEADER_LEN, self.metadata_count)
    }

    /// The value of metadata `key`.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        self.metadata().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The value of the key `{prefix}.{suffix}`, matched without formatting (e.g.
    /// `get_dotted("llama", "block_count")`).
    pub fn get_dotted(&self, prefix: &str, suffix: &str) -> Option<Value<'a>> {
        self.metadata()
            .find(|(k, _)| {
                k.strip_prefix(prefix)
                    .and_then(|r| r.strip_prefix('.'))
                    .is_some_and(|r| r == suffix)
            })
            .map(|(_, v)| v)
    }

    /// `general.architecture`, e.g. `"llama"` or `"openelm"`.
    pub fn architecture(&self) -> Option<&'a str> {
        self.get_str("general.architecture")
    }

    /// The value of the key `{general.architecture}.{suffix}` (e.g. `get_arch("block_count")`).
    pub fn get_arch(&self, suffix: &str) -> Option<Value<'a>> {
        self.get_dotted(self.architecture()?, suffix)
    }

    /// An integer value that fits `u32` (any integer type).
    pub fn get_u32(&self, key: &str) -> Option<u32> {
        self.get(key)?.as_u32()
    }

    /// An integer value that fits `i32` (any integer type).
    pub fn get_i32(&self, key: &str) -> Option<i32> {
        self.get(key)?.as_i32()
    }

    /// An integer value that fits `u64` (any integer type).
    pub fn get_u64(&self, key: &str) -> Option<u64> {
        self.get(key)?.as_u64()
    }

    /// An `f32` value.
    pub fn get_f32(&self, key: &str) -> Option<f32> {
        self.get(key)?.as_f32()
    }

    /// A `bool` value.
    pub fn get_bool(&self, key: &str) -> Option<bool> {
        self.get(key)?.as_bool()
    }

    /// A string value.
    pub fn get_str(&self, key: &str) -> Option<&'a str> {
        self.get(key)?.as_str()
    }

    /// An array value.
    pub fn get_array(&self, key: &str) -> Option<ArrayView<'a>> {
        self.get(key)?.as_array()
    }

    /// All tensors, in file order.
    pub fn tensors(&self) -> TensorIter<'a> {
        TensorIter::new(
            self.bytes,
            self.tensor_info_start,
            self.tensor_count,
            self.data_start,
            self.alignment,
        )
    }

    /// The tensor called `name`.
    pub fn tensor(&self, name: &str) -> Option<TensorInfo<'a>> {
        self.tensors().find(|t| t.name == name)
    }

    /// The tensor called `blk.{layer}.{suffix}`, matched without formatting.
    pub fn tensor_blk(&self, layer: u32, suffix: &str) -> Option<TensorInfo<'a>> {
        self.tensors().find(|t| is_blk_name(t.name, layer, suffix))
    }
}

/// `x` rounded up to a multiple of the power of two `align`, or `None` on overflow.
fn align_up(x: usize, align: u32) -> Option<usize> {
    let a = usize::try_from(align)
        .ok()
        .filter(|a| a.is_power_of_two())?;
    Some(x.checked_add(a - 1)? & !(a - 1))
}
