//! The weight element types: ggml's `F32`, `F16` and `Q8_0`.

use crate::{Error, Result};

/// Element type of a weight tensor, with ggml's numbering (`ggml_type`).
///
/// | variant | ggml id | block elements | block bytes |
/// |---|---|---|---|
/// | `F32` | 0 | 1 | 4 |
/// | `F16` | 1 | 1 | 2 |
/// | `Q8_0` | 8 | 32 | 34 (f16 scale `d` + 32 × i8 `qs`, value = `d·q`) |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    /// IEEE-754 binary32, little-endian.
    F32,
    /// IEEE-754 binary16, little-endian.
    F16,
    /// ggml `Q8_0`: blocks of 32 values sharing one f16 scale.
    Q8_0,
}

impl DType {
    /// The ggml type id (`GGML_TYPE_F32 = 0`, `GGML_TYPE_F16 = 1`, `GGML_TYPE_Q8_0 = 8`).
    pub const fn ggml_type(self) -> u32 {
        match self {
            DType::F32 => 0,
            DType::F16 => 1,
            DType::Q8_0 => 8,
        }
    }

    /// The `DType` for a ggml type id; any other id is [`Error::Unsupported`].
    ///
    /// ```
    /// use picoformer::quant::DType;
    /// assert_eq!(DType::from_ggml_type(8), Ok(DType::Q8_0));
    /// assert!(DType::from_ggml_type(2).is_err()); // Q4_0 is not supported
    /// ```
    pub const fn from_ggml_type(id: u32) -> Result<DType> {
        match id {
            0 => Ok(DType::F32),
            1 => Ok(DType::F16),
            8 => Ok(DType::Q8_0),
            _ => Err(Error::Unsupported {
                what: "ggml tensor type",
                value: id as u64,
            }),
        }
    }

    /// Elements per block (1 for `F32`/`F16`, 32 for `Q8_0`).
    pub const fn block_len(self) -> usize {
        match self {
            DType::F32 | DType::F16 => 1,
            DType::Q8_0 => super::q8_0::QK8_0,
        }
    }

    /// Bytes per block (4, 2, 34).
    pub const fn block_bytes(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F16 => 2,
            DType::Q8_0 => super::q8_0::Q8_0_BLOCK_BYTES,
        }
    }

    /// Bytes needed for `n` consecutive elements, or `None` if `n` is not a whole number of
    /// blocks or the size overflows `usize`.
    ///
    /// ```
    /// use picoformer::quant::DType;
    /// assert_eq!(DType::Q8_0.bytes_for(64), Some(68));
    /// assert_eq!(DType::Q8_0.bytes_for(48), None);
    /// assert_eq!(DType::F16.bytes_for(3), Some(6));
    /// ```
    pub const fn bytes_for(self, n: usize) -> Option<usize> {
        let bl = self.block_len();
        if !n.is_multiple_of(bl) {
            return None;
        }
        (n / bl).checked_mul(self.block_bytes())
    }

    /// The ggml name (`"f32"`, `"f16"`, `"q8_0"`).
    pub const fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F16 => "f16",
            DType::Q8_0 => "q8_0",
        }
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for DType {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(f, "{=str}", self.name())
    }
}
