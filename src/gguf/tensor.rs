//! Tensor infos: name, shape, element type and the tensor's bytes.
//!
//! A tensor info record is, little-endian: name (`u64` length + UTF-8), `n_dims: u32` (≤ 4),
//! `n_dims` × `u64` dimensions (innermost first), `ggml_type: u32`, `offset: u64` (from the
//! start of the tensor data section, a multiple of the file's alignment).

use super::cursor::Cursor;
use super::ggml_type::GgmlType;
use crate::quant::{DType, Matrix};
use crate::{Error, Result};

/// Most dimensions a tensor may have (`GGML_MAX_DIMS`).
pub const MAX_DIMS: usize = 4;

/// One tensor of a parsed [`File`](super::File): everything borrowed, nothing copied.
///
/// Fields are public for reading; a `TensorInfo` obtained from a parsed file satisfies:
/// `dims[n_dims..] == 1`, every dimension and their product are ≤ `i64::MAX`,
/// `dims[0]` is a multiple of `ggml_type.block_size()`, and `data.len()` is exactly
/// `n_elements() / block_size · type_size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TensorInfo<'a> {
    /// Tensor name, e.g. `blk.0.attn_qkv.weight`.
    pub name: &'a str,
    /// Number of meaningful dimensions (0..=4).
    pub n_dims: usize,
    /// Dimensions in GGUF order, innermost (contiguous) first; unused ones are 1. A PyTorch
    /// `[out, in]` matrix has `dims = [in, out, 1, 1]`.
    pub dims: [u64; MAX_DIMS],
    /// Element type.
    pub ggml_type: GgmlType,
    /// Offset of the data from the start of the file's tensor data section.
    pub offset: u64,
    /// Exactly the tensor's bytes.
    pub data: &'a [u8],
}

impl<'a> TensorInfo<'a> {
    /// The meaningful dimensions, `dims[..n_dims]`.
    pub fn shape(&self) -> &[u64] {
        self.dims.get(..self.n_dims).unwrap_or(&self.dims)
    }

    /// Number of elements: the product of the dimensions (saturating; never saturates for a
    /// tensor from a parsed file, whose product was checked to be ≤ `i64::MAX`).
    pub fn n_elements(&self) -> u64 {
        self.dims.iter().fold(1u64, |acc, &d| acc.saturating_mul(d))
    }

    /// The tensor as a row-major weight matrix: `cols = dims[0]` (contiguous),
    /// `rows = dims[1] · dims[2] · dims[3]`.
    ///
    /// Errors: [`Error::Unsupported`] unless the type is F32, F16 or Q8_0 (see
    /// [`quant::DType`](crate::quant::DType)), or if a dimension does not fit `usize`; the
    /// errors of [`Matrix::new`].
    pub fn matrix(&self) -> Result<Matrix<'a>> {
        let dtype = DType::from_ggml_type(self.ggml_type.id())?;
        let [d0, d1, d2, d3] = self.dims;
        let rows = d1.checked_mul(d2).and_then(|r| r.checked_mul(d3));
        let too_big = |v: u64| Error::Unsupported {
            what: "tensor dimension exceeds usize",
            value: v,
        };
        let rows = rows.ok_or(too_big(u64::MAX))?;
        let rows = usize::try_from(rows).map_err(|_| too_big(rows))?;
        let cols = usize::try_from(d0).map_err(|_| too_big(d0))?;
        Matrix::new(dtype, rows, cols, self.data)
    }

    /// Whether the name is `blk.{layer}.{suffix}` (decimal `layer`, no leading zeros), checked
    /// without formatting.
    pub fn is_blk(&self, layer: u32, suffix: &str) -> bool {
        is_blk_name(self.name, layer, suffix)
    }
}

/// Whether `name` is exactly `blk.{layer}.{suffix}`.
pub(crate) fn is_blk_name(name: &str, layer: u32, suffix: &str) -> bool {
    blk_suffix(name, layer) == Some(suffix)
}

/// `rest` if `name` is `blk.{layer}.{rest}` (decimal `layer`, no leading zeros), parsed
/// without formatting.
pub(crate) fn blk_suffix(name: &str, layer: u32) -> Option<&str> {
    let (digits, rest) = name.strip_prefix("blk.")?.split_once('.')?;
    if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
        return None;
    }
    let mut n: u32 = 0;
    for b in digits.bytes() {
        let d = (b as char).to_digit(10)?;
        n = n.checked_mul(10)?.checked_add(d)?;
    }
    (n == layer).then_some(rest)
}

/// A tensor info record, read and checked on its own (before the data section is known).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawTensorInfo<'a> {
    pub(crate) name: &'a str,
    pub(crate) n_dims: usize,
    pub(crate) dims: [u64; MAX_DIMS],
    pub(crate) ggml_type: GgmlType,
    pub(crate) offset: u64,
    /// File offset of the `offset` field (for error messages).
    pub(crate) offset_at: usize,
    /// Data size in bytes.
    pub(crate) size: u64,
}

/// Reads one tensor info record at the cursor, checking its name, shape and type.
pub(crate) fn read_tensor_info<'a>(cur: &mut Cursor<'a>) -> Result<RawTensorInfo<'a>> {
    let name = cur.str("tensor name is not UTF-8")?;
    let n_dims_at = cur.pos();
    let n_dims = cur.u32()?;
    let n_dims = match usize::try_from(n_dims) {
        Ok(n) if n <= MAX_DIMS => n,
        _ => {
            return Err(Error::Malformed {
                what: "tensor n_dims > 4",
                offset: n_dims_at,
            })
        }
    };
    let mut dims = [1u64; MAX_DIMS];
    let mut n_elements: u64 = 1;
    for d in dims.iter_mut().take(n_dims) {
        let at = cur.pos();
        *d = cur.u64()?;
        // ggml stores dimensions as int64_t and requires their product to be representable.
        n_elements = n_elements
            .checked_mul(*d)
            .filter(|&n| *d <= i64::MAX as u64 && n <= i64::MAX as u64)
            .ok_or(Error::Malformed {
                what: "tensor dimensions overflow i64",
                offset: at,
            })?;
    }
    let type_at = cur.pos();
    let type_id = cur.u32()?;
    let ggml_type = GgmlType::from_u32(type_id).ok_or(Error::Unsupported {
        what: "ggml tensor type",
        value: type_id.into(),
    })?;
    if !dims[0].is_multiple_of(ggml_type.block_size()) {
        return Err(Error::Malformed {
            what: "tensor row length is not a multiple of its type's block size",
            offset: type_at,
        });
    }
    let size = ggml_type.bytes_for(n_elements).ok_or(Error::Malformed {
        what: "tensor byte size overflows",
        offset: type_at,
    })?;
    let offset_at = cur.pos();
    let offset = cur.u64()?;
    Ok(RawTensorInfo {
        name,
        n_dims,
        dims,
        ggml_type,
        offset,
        offset_at,
        size,
    })
}

impl<'a> RawTensorInfo<'a> {
    /// Places the tensor in the file: its offset must be a multiple of `alignment` and its
    /// bytes must lie inside `file`, in the data section starting at `data_start`.
    pub(crate) fn locate(
        self,
        file: &'a [u8],
        data_start: usize,
        alignment: u32,
    ) -> Result<TensorInfo<'a>> {
        if alignment == 0 || !self.offset.is_multiple_of(u64::from(alignment)) {
            return Err(Error::Malformed {
                what: "tensor data offset is not a multiple of the alignment",
                offset: self.offset_at,
            });
        }
        let outside = Error::Malformed {
            what: "tensor data offset or size outside the file",
            offset: self.offset_at,
        };
        let start = usize::try_from(self.offset)
            .ok()
            .and_then(|o| o.checked_add(data_start))
            .ok_or(outside)?;
        let size = usize::try_from(self.size).map_err(|_| outside)?;
        let end = start.checked_add(size).ok_or(outside)?;
        let data = file.get(start..end).ok_or(Error::Truncated {
            offset: start,
            needed: size,
        })?;
        Ok(TensorInfo {
            name: self.name,
            n_dims: self.n_dims,
            dims: self.dims,
            ggml_type: self.ggml_type,
            offset: self.offset,
            data,
        })
    }
}

/// Iterator over the tensors of a parsed [`File`](super::File), in file order.
#[derive(Debug, Clone)]
pub struct TensorIter<'a> {
    file: &'a [u8],
    cur: Cursor<'a>,
    remaining: usize,
    data_start: usize,
    alignment: u32,
}

impl<'a> TensorIter<'a> {
    /// Iterates `count` validated tensor infos starting at byte `start` of `file`.
    pub(crate) fn new(
        file: &'a [u8],
        start: usize,
        count: usize,
        data_start: usize,
        alignment: u32,
    ) -> Self {
        TensorIter {
            file,
            cur: Cursor::at(file, start),
            remaining: count,
            data_start,
            alignment,
        }
    }
}

impl<'a> TensorIter<'a> {
    /// The next tensor whose raw name bytes satisfy `pred`. The records before it are skimmed
    /// (name, then `n_dims` to skip the fixed-size rest), not decoded: finding one layer's
    /// tensors decodes those ~10 records instead of every record of the file, which was 15 % of
    /// a demo token's instructions on Cortex-M4F when every block lookup decoded them all.
    pub(crate) fn next_named(
        &mut self,
        mut pred: impl FnMut(&[u8]) -> bool,
    ) -> Option<TensorInfo<'a>> {
        while self.remaining > 0 {
            let at = self.cur.pos();
            let Some(name) = skim_tensor_info(&mut self.cur) else {
                // Unreachable for validated data; end rather than panic.
                self.remaining = 0;
                return None;
            };
            if pred(name) {
                self.cur = Cursor::at(self.file, at);
                return self.next();
            }
            self.remaining -= 1;
        }
        None
    }
}

/// Advances `cur` past one tensor-info record (`name`, `n_dims: u32`, `n_dims × u64`,
/// `type: u32`, `offset: u64`) and returns the name bytes; `None` if it is cut short or
/// `n_dims > 4` (never for a file [`File::parse`](super::File::parse) accepted).
fn skim_tensor_info<'a>(cur: &mut Cursor<'a>) -> Option<&'a [u8]> {
    let name = cur.raw_str().ok()?;
    let n_dims = usize::try_from(cur.u32().ok()?)
        .ok()
        .filter(|&n| n <= MAX_DIMS)?;
    cur.take(8 * n_dims + 4 + 8).ok()?;
    Some(name)
}

impl<'a> Iterator for TensorIter<'a> {
    type Item = TensorInfo<'a>;

    fn next(&mut self) -> Option<TensorInfo<'a>> {
        if self.remaining == 0 {
            return None;
        }
        let info = read_tensor_info(&mut self.cur)
            .and_then(|raw| raw.locate(self.file, self.data_start, self.alignment));
        match info {
            Ok(t) => {
                self.remaining -= 1;
                Some(t)
            }
            Err(_) => {
                // Unreachable for validated data; end rather than panic.
                self.remaining = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.remaining))
    }
}
