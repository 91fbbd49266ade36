//! [`Matrix`]: a checked, zero-copy, row-major weight view in ggml layout.

use super::{backend, row, DType};
use crate::{Error, Result};

/// A row-major `rows × cols` weight matrix borrowed from raw little-endian bytes in ggml
/// layout (a GGUF tensor with `ne = [cols, rows]`).
///
/// [`Matrix::new`] checks the byte length once; afterwards every row is a valid slice of
/// [`Matrix::row_stride`] bytes. There is no alignment requirement.
///
/// ```
/// use picoformer::quant::{DType, Matrix};
/// // 2 × 3 f32 matrix [[1, 2, 3], [4, 5, 6]]
/// let mut bytes = [0u8; 24];
/// for (i, c) in bytes.chunks_exact_mut(4).enumerate() {
///     c.copy_from_slice(&(i as f32 + 1.0).to_le_bytes());
/// }
/// let w = Matrix::new(DType::F32, 2, 3, &bytes)?;
/// assert_eq!(w.dot_row(1, &[1.0, 1.0, 1.0])?, 15.0);
/// # Ok::<(), picoformer::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Matrix<'a> {
    dtype: DType,
    rows: usize,
    cols: usize,
    stride: usize,
    bytes: &'a [u8],
}

/// Shows the shape and type, not the (possibly megabytes of) weight bytes.
impl core::fmt::Debug for Matrix<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Matrix")
            .field("dtype", &self.dtype)
            .field("rows", &self.rows)
            .field("cols", &self.cols)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

impl<'a> Matrix<'a> {
    /// Wraps `bytes` as a `rows × cols` matrix of `dtype`.
    ///
    /// Errors: [`Error::InvalidParam`] if `cols == 0` or the size overflows `usize`;
    /// [`Error::Shape`] if `dtype` is `Q8_0` and `cols % 32 != 0`, or if
    /// `bytes.len()` is not exactly `rows · row_stride`.
    pub fn new(dtype: DType, rows: usize, cols: usize, bytes: &'a [u8]) -> Result<Self> {
        if cols == 0 {
            return Err(Error::InvalidParam {
                what: "matrix cols must be > 0",
            });
        }
        if !cols.is_multiple_of(dtype.block_len()) {
            return Err(Error::Shape {
                what: "matrix cols (multiple of the dtype block length)",
                expected: cols
                    .div_ceil(dtype.block_len())
                    .saturating_mul(dtype.block_len()),
                got: cols,
            });
        }
        let stride = dtype.bytes_for(cols).ok_or(Error::InvalidParam {
            what: "matrix row size overflows usize",
        })?;
        let total = stride.checked_mul(rows).ok_or(Error::InvalidParam {
            what: "matrix size overflows usize",
        })?;
        if bytes.len() != total {
            return Err(Error::Shape {
                what: "matrix bytes",
                expected: total,
                got: bytes.len(),
            });
        }
        Ok(Matrix {
            dtype,
            rows,
            cols,
            stride,
            bytes,
        })
    }

    /// Number of rows (outputs of a matvec).
    pub const fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (inputs of a matvec).
    pub const fn cols(&self) -> usize {
        self.cols
    }

    /// Element type.
    pub const fn dtype(&self) -> DType {
        self.dtype
    }

    /// Bytes per row.
    pub const fn row_stride(&self) -> usize {
        self.stride
    }

    /// All bytes of the matrix.
    pub const fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Iterator over the rows' bytes (exactly [`rows`](Self::rows) items).
    pub fn rows_iter(&self) -> core::slice::ChunksExact<'a, u8> {
        // `stride > 0` because `cols > 0`.
        self.bytes.chunks_exact(self.stride.max(1))
    }

    fn check_row(&self, r: usize) -> Result<()> {
        if r >= self.rows {
            return Err(Error::Shape {
                what: "matrix row index (< rows)",
                expected: self.rows,
                got: r,
            });
        }
        Ok(())
    }

    fn check_x(&self, n: usize, what: &'static str) -> Result<()> {
        if n != self.cols {
            return Err(Error::Shape {
                what,
                expected: self.cols,
                got: n,
            });
        }
        Ok(())
    }

    /// The raw bytes of row `r` ([`Error::Shape`] if `r >= rows`).
    pub fn row_bytes(&self, r: usize) -> Result<&'a [u8]> {
        self.check_row(r)?;
        let start = r * self.stride; // r < rows, so start + stride <= bytes.len()
        self.bytes
            .get(start..start + self.stride)
            .ok_or(Error::Shape {
                what: "matrix row index (< rows)",
                expected: self.rows,
                got: r,
            })
    }

    /// The sub-matrix of rows `start .. start + count` (e.g. the Q, K, V parts of a fused QKV
    /// projection, or one expert of a stacked expert tensor).
    ///
    /// Errors: [`Error::Shape`] if the range exceeds [`rows`](Self::rows).
    pub fn slice_rows(&self, start: usize, count: usize) -> Result<Matrix<'a>> {
        let end = start.checked_add(count).filter(|&e| e <= self.rows);
        let Some(end) = end else {
            return Err(Error::Shape {
                what: "matrix row range (end <= rows)",
                expected: self.rows,
                got: start.saturating_add(count),
            });
        };
        let bytes = self
            .bytes
            .get(start * self.stride..end * self.stride)
            .ok_or(Error::Shape {
                what: "matrix row range (end <= rows)",
                expected: self.rows,
                got: end,
            })?;
        Ok(Matrix {
            rows: count,
            bytes,
            ..*self
        })
    }

    /// Dequantises row `r` into `out` (an embedding lookup): `out[c] = W[r][c]` as f32.
    ///
    /// Errors: [`Error::Shape`] if `r >= rows` or `out.len() != cols`. Stored NaN/inf (or a
    /// NaN/inf `Q8_0` scale) propagate into `out`.
    pub fn dequant_row(&self, r: usize, out: &mut [f32]) -> Result<()> {
        self.check_x(out.len(), "dequant_row output length (= cols)")?;
        let bytes = self.row_bytes(r)?;
        row::dequant(self.dtype, bytes, out);
        Ok(())
    }

    /// `Σ_c W[r][c] · x[c]` with f32 accumulation.
    ///
    /// Errors: [`Error::Shape`] if `r >= rows` or `x.len() != cols`. NaN/inf propagate.
    pub fn dot_row(&self, r: usize, x: &[f32]) -> Result<f32> {
        self.check_x(x.len(), "dot_row input length (= cols)")?;
        let bytes = self.row_bytes(r)?;
        Ok(backend::dot(self.dtype, bytes, x))
    }
}
