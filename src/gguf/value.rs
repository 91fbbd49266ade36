//! Metadata value types and values.
//!
//! A GGUF metadata value is a `u32` type tag followed by its payload, little-endian:
//!
//! | tag | type | payload |
//! |---|---|---|
//! | 0 / 1 | `u8` / `i8` | 1 byte |
//! | 2 / 3 | `u16` / `i16` | 2 bytes |
//! | 4 / 5 / 6 | `u32` / `i32` / `f32` | 4 bytes |
//! | 7 | `bool` | 1 byte, 0 or 1 (anything else is malformed) |
//! | 8 | string | `u64` length + UTF-8 bytes, no terminator |
//! | 9 | array | `u32` element tag + `u64` count + elements (arrays may nest) |
//! | 10 / 11 / 12 | `u64` / `i64` / `f64` | 8 bytes |

use super::array::ArrayView;
use super::cursor::Cursor;
use crate::{Error, Result};

/// Deepest array nesting accepted (an array of arrays has depth 2). llama.cpp itself reads no
/// nested arrays at all; the `gguf` Python writer can produce them, so a few levels are allowed,
/// bounded so that validation's recursion stays small on a microcontroller stack.
pub const MAX_ARRAY_DEPTH: u32 = 4;

/// The type tag of a metadata value (GGUF `gguf_metadata_value_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u32)]
pub enum ValueType {
    /// `u8`.
    U8 = 0,
    /// `i8`.
    I8 = 1,
    /// `u16`.
    U16 = 2,
    /// `i16`.
    I16 = 3,
    /// `u32`.
    U32 = 4,
    /// `i32`.
    I32 = 5,
    /// `f32`.
    F32 = 6,
    /// `bool` (one byte, 0 or 1).
    Bool = 7,
    /// UTF-8 string.
    String = 8,
    /// Array of values of one type.
    Array = 9,
    /// `u64`.
    U64 = 10,
    /// `i64`.
    I64 = 11,
    /// `f64`.
    F64 = 12,
}

impl ValueType {
    /// The type with GGUF tag `tag`, if any.
    pub const fn from_u32(tag: u32) -> Option<ValueType> {
        Some(match tag {
            0 => ValueType::U8,
            1 => ValueType::I8,
            2 => ValueType::U16,
            3 => ValueType::I16,
            4 => ValueType::U32,
            5 => ValueType::I32,
            6 => ValueType::F32,
            7 => ValueType::Bool,
            8 => ValueType::String,
            9 => ValueType::Array,
            10 => ValueType::U64,
            11 => ValueType::I64,
            12 => ValueType::F64,
            _ => return None,
        })
    }

    /// Payload size in bytes for fixed-size types; `None` for strings and arrays.
    pub const fn fixed_size(self) -> Option<usize> {
        match self {
            ValueType::U8 | ValueType::I8 | ValueType::Bool => Some(1),
            ValueType::U16 | ValueType::I16 => Some(2),
            ValueType::U32 | ValueType::I32 | ValueType::F32 => Some(4),
            ValueType::U64 | ValueType::I64 | ValueType::F64 => Some(8),
            ValueType::String | ValueType::Array => None,
        }
    }

    /// Smallest encoded size of one value of this type (a string is at least its `u64` length,
    /// an array at least its element tag and count). Used to bound counts by the bytes left.
    pub(crate) const fn min_size(self) -> usize {
        match self.fixed_size() {
            Some(n) => n,
            None => match self {
                ValueType::String => 8,
                _ => 12,
            },
        }
    }

    /// Whether the type is one of the eight integer types.
    pub const fn is_integer(self) -> bool {
        matches!(
            self,
            ValueType::U8
                | ValueType::I8
                | ValueType::U16
                | ValueType::I16
                | ValueType::U32
                | ValueType::I32
                | ValueType::U64
                | ValueType::I64
        )
    }

    /// Reads a type tag at the cursor.
    pub(crate) fn read(cur: &mut Cursor<'_>) -> Result<ValueType> {
        let offset = cur.pos();
        let tag = cur.u32()?;
        ValueType::from_u32(tag).ok_or(Error::Malformed {
            what: "metadata value type",
            offset,
        })
    }
}

/// One metadata value, borrowed from the file.
///
/// Integer accessors (`as_u32`, `as_i64`, ...) accept every integer type whose value fits the
/// requested type exactly, so a `u32` written as `i32` (as some converters do) reads the same.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// `u8`.
    U8(u8),
    /// `i8`.
    I8(i8),
    /// `u16`.
    U16(u16),
    /// `i16`.
    I16(i16),
    /// `u32`.
    U32(u32),
    /// `i32`.
    I32(i32),
    /// `f32`.
    F32(f32),
    /// `bool`.
    Bool(bool),
    /// UTF-8 string.
    Str(&'a str),
    /// Array (possibly of arrays).
    Array(ArrayView<'a>),
    /// `u64`.
    U64(u64),
    /// `i64`.
    I64(i64),
    /// `f64`.
    F64(f64),
}

impl<'a> Value<'a> {
    /// The value's type tag.
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::U8(_) => ValueType::U8,
            Value::I8(_) => ValueType::I8,
            Value::U16(_) => ValueType::U16,
            Value::I16(_) => ValueType::I16,
            Value::U32(_) => ValueType::U32,
            Value::I32(_) => ValueType::I32,
            Value::F32(_) => ValueType::F32,
            Value::Bool(_) => ValueType::Bool,
            Value::Str(_) => ValueType::String,
            Value::Array(_) => ValueType::Array,
            Value::U64(_) => ValueType::U64,
            Value::I64(_) => ValueType::I64,
            Value::F64(_) => ValueType::F64,
        }
    }

    /// Any integer value, widened losslessly; `None` for non-integers.
    pub fn as_i128(&self) -> Option<i128> {
        Some(match *self {
            Value::U8(v) => v.into(),
            Value::I8(v) => v.into(),
            Value::U16(v) => v.into(),
            Value::I16(v) => v.into(),
            Value::U32(v) => v.into(),
            Value::I32(v) => v.into(),
            Value::U64(v) => v.into(),
            Value::I64(v) => v.into(),
            _ => return None,
        })
    }

    /// An integer value that fits `u32`.
    pub fn as_u32(&self) -> Option<u32> {
        self.as_i128().and_then(|v| u32::try_from(v).ok())
    }

    /// An integer value that fits `i32`.
    pub fn as_i32(&self) -> Option<i32> {
        self.as_i128().and_then(|v| i32::try_from(v).ok())
    }

    /// An integer value that fits `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        self.as_i128().and_then(|v| u64::try_from(v).ok())
    }

    /// An integer value that fits `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_i128().and_then(|v| i64::try_from(v).ok())
    }

    /// An `f32` value (only type 6: no silent narrowing of `f64`).
    pub fn as_f32(&self) -> Option<f32> {
        match *self {
            Value::F32(v) => Some(v),
            _ => None,
        }
    }

    /// An `f32` or `f64` value, as `f64` (lossless).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::F32(v) => Some(v.into()),
            Value::F64(v) => Some(v),
            _ => None,
        }
    }

    /// A `bool` value.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(v) => Some(v),
            _ => None,
        }
    }

    /// A string value.
    pub fn as_str(&self) -> Option<&'a str> {
        match *self {
            Value::Str(v) => Some(v),
            _ => None,
        }
    }

    /// An array value.
    pub fn as_array(&self) -> Option<ArrayView<'a>> {
        match *self {
            Value::Array(v) => Some(v),
            _ => None,
        }
    }
}

/// How much to check while reading values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// Validate everything (UTF-8 of every string, every bool byte): used once, by `parse`.
    Full,
    /// Data was validated by `parse`: only walk lengths to find where values end.
    Trusted,
}

/// Reads one value of type `ty` at the cursor. `depth` is the nesting depth of arrays around it.
pub(crate) fn read_value<'a>(
    cur: &mut Cursor<'a>,
    ty: ValueType,
    depth: u32,
    check: Check,
) -> Result<Value<'a>> {
    let offset = cur.pos();
    Ok(match ty {
        ValueType::U8 => Value::U8(cur.u8()?),
        ValueType::I8 => Value::I8(i8::from_le_bytes(cur.array()?)),
        ValueType::U16 => Value::U16(cur.u16()?),
        ValueType::I16 => Value::I16(i16::from_le_bytes(cur.array()?)),
        ValueType::U32 => Value::U32(cur.u32()?),
        ValueType::I32 => Value::I32(i32::from_le_bytes(cur.array()?)),
        ValueType::F32 => Value::F32(f32::from_le_bytes(cur.array()?)),
        ValueType::Bool => Value::Bool(bool_from(cur.u8()?, offset)?),
        ValueType::String => Value::Str(cur.str("string is not UTF-8")?),
        ValueType::Array => Value::Array(read_array(cur, depth.saturating_add(1), check)?),
        ValueType::U64 => Value::U64(cur.u64()?),
        ValueType::I64 => Value::I64(i64::from_le_bytes(cur.array()?)),
        ValueType::F64 => Value::F64(f64::from_le_bytes(cur.array()?)),
    })
}

/// A GGUF bool: exactly 0 or 1.
pub(crate) fn bool_from(byte: u8, offset: usize) -> Result<bool> {
    match byte {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Error::Malformed {
            what: "bool is neither 0 nor 1",
            offset,
        }),
    }
}

/// Reads an array (element tag, count, elements) at the cursor; `depth` counts this array.
///
/// Work is linear in the bytes consumed: the count is first bounded by the bytes left divided by
/// the element's smallest encoding, so a huge count in a tiny file fails at once.
pub(crate) fn read_array<'a>(
    cur: &mut Cursor<'a>,
    depth: u32,
    check: Check,
) -> Result<ArrayView<'a>> {
    let start = cur.pos();
    if depth > MAX_ARRAY_DEPTH {
        return Err(Error::Unsupported {
            what: "metadata array nesting depth",
            value: depth.into(),
        });
    }
    let elem = ValueType::read(cur)?;
    let count_at = cur.pos();
    let count = cur.u64()?;
    let limit = cur.remaining() / elem.min_size();
    let len = match usize::try_from(count) {
        Ok(n) if n <= limit => n,
        _ => {
            return Err(Error::Malformed {
                what: "array count exceeds the bytes left",
                offset: count_at,
            })
        }
    };
    let body_at = cur.pos();
    match elem.fixed_size() {
        Some(size) => {
            // `len <= remaining / size`, so the product cannot overflow; checked anyway.
            let n = len.checked_mul(size).ok_or(Error::Malformed {
                what: "array byte size overflows",
                offset: count_at,
            })?;
            let body = cur.take(n)?;
            if elem == ValueType::Bool && check == Check::Full {
                for (i, &b) in body.iter().enumerate() {
                    bool_from(b, body_at.saturating_add(i))?;
                }
            }
        }
        None => {
            for _ in 0..len {
                match (elem, check) {
                    (ValueType::String, Check::Full) => {
                        cur.str("string is not UTF-8")?;
                    }
                    (ValueType::String, Check::Trusted) => {
                        cur.raw_str()?;
                    }
                    _ => {
                        read_array(cur, depth.saturating_add(1), check)?;
                    }
                }
            }
        }
    }
    let body = cur.since(body_at).ok_or(Error::Malformed {
        what: "array",
        offset: start,
    })?;
    Ok(ArrayView::new(elem, len, body))
}
