//! The crate-wide error type.
//!
//! Every fallible operation in the crate returns [`Result<T>`]. Errors are small `Copy` values
//! carrying `&'static str` context (no allocation, no formatting in the kernel path); their
//! [`Display`](core::fmt::Display) output names the offending key, tensor, parameter or offset.

use core::fmt;

/// Result alias used throughout the crate.
pub type Result<T> = core::result::Result<T, Error>;

/// Everything that can go wrong in `picoformer`.
///
/// The enum is `#[non_exhaustive]`: match with a wildcard arm.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// A GGUF (or other binary) input is malformed: `what` says which field, `offset` is the
    /// byte offset in the input where the problem was found.
    Malformed {
        /// The field or structure that is malformed.
        what: &'static str,
        /// Byte offset in the input.
        offset: usize,
    },
    /// The input ended before a field of `needed` bytes at `offset` could be read.
    Truncated {
        /// Byte offset of the field.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
    },
    /// A value is valid for the format but not supported by this crate (e.g. a GGUF version or a
    /// tensor type): `what` names it, `value` is the raw value.
    Unsupported {
        /// What is unsupported.
        what: &'static str,
        /// The raw value found.
        value: u64,
    },
    /// A metadata key the model needs is absent or has the wrong type.
    MissingKey {
        /// The key (for per-architecture keys, the part after `<arch>.`).
        key: &'static str,
    },
    /// A tensor is absent or has the wrong type or shape. `layer` is set for per-layer tensors,
    /// whose full GGUF name is `blk.{layer}.{name}`.
    Tensor {
        /// Tensor name (or the suffix after `blk.{layer}.`).
        name: &'static str,
        /// Layer index for per-layer tensors.
        layer: Option<u32>,
        /// What is wrong with it.
        problem: TensorProblem,
    },
    /// Two slices or shapes that must agree do not.
    Shape {
        /// What was being checked.
        what: &'static str,
        /// Expected length or dimension.
        expected: usize,
        /// Actual length or dimension.
        got: usize,
    },
    /// A caller-provided buffer or a fixed capacity is too small.
    Capacity {
        /// What ran out.
        what: &'static str,
        /// Elements (or bytes, as documented by the caller) needed.
        needed: usize,
        /// Elements (or bytes) available.
        available: usize,
    },
    /// A configuration or call parameter is out of its valid range.
    InvalidParam {
        /// Which parameter, and the rule it broke.
        what: &'static str,
    },
    /// An input contained NaN or infinity where the kernel documents that as an error.
    NonFinite {
        /// Which input.
        what: &'static str,
    },
}

/// The ways a tensor can fail validation.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorProblem {
    /// No tensor with that name.
    Missing,
    /// The tensor's element type cannot be used here.
    WrongType,
    /// The tensor's shape differs from what the model configuration implies.
    WrongShape,
}

impl fmt::Display for TensorProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TensorProblem::Missing => "missing",
            TensorProblem::WrongType => "unsupported element type",
            TensorProblem::WrongShape => "wrong shape",
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::Malformed { what, offset } => {
                write!(f, "malformed input: {what} at byte {offset}")
            }
            Error::Truncated { offset, needed } => {
                write!(f, "truncated input: {needed} bytes needed at byte {offset}")
            }
            Error::Unsupported { what, value } => write!(f, "unsupported {what}: {value}"),
            Error::MissingKey { key } => write!(f, "missing or mistyped metadata key `{key}`"),
            Error::Tensor {
                name,
                layer: Some(l),
                problem,
            } => {
                write!(f, "tensor `blk.{l}.{name}`: {problem}")
            }
            Error::Tensor {
                name,
                layer: None,
                problem,
            } => write!(f, "tensor `{name}`: {problem}"),
            Error::Shape {
                what,
                expected,
                got,
            } => {
                write!(
                    f,
                    "shape mismatch in {what}: expected {expected}, got {got}"
                )
            }
            Error::Capacity {
                what,
                needed,
                available,
            } => {
                write!(
                    f,
                    "capacity exceeded for {what}: need {needed}, have {available}"
                )
            }
            Error::InvalidParam { what } => write!(f, "invalid parameter: {what}"),
            Error::NonFinite { what } => write!(f, "non-finite value in {what}"),
        }
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for TensorProblem {
    fn format(&self, f: defmt::Formatter) {
        match self {
            TensorProblem::Missing => defmt::write!(f, "missing"),
            TensorProblem::WrongType => defmt::write!(f, "unsupported element type"),
            TensorProblem::WrongShape => defmt::write!(f, "wrong shape"),
        }
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Error {
    fn format(&self, f: defmt::Formatter) {
        match *self {
            Error::Malformed { what, offset } => {
                defmt::write!(f, "malformed {=str} at {=usize}", what, offset)
            }
            Error::Truncated { offset, needed } => {
                defmt::write!(f, "truncated: {=usize} bytes at {=usize}", needed, offset)
            }
            Error::Unsupported { what, value } => {
                defmt::write!(f, "unsupported {=str}: {=u64}", what, value)
            }
            Error::MissingKey { key } => defmt::write!(f, "missing key {=str}", key),
            Error::Tensor {
                name,
                layer,
                problem,
            } => {
                defmt::write!(f, "tensor {=str} layer {}: {}", name, layer, problem)
            }
            Error::Shape {
                what,
                expected,
                got,
            } => {
                defmt::write!(
                    f,
                    "shape {=str}: expected {=usize}, got {=usize}",
                    what,
                    expected,
                    got
                )
            }
            Error::Capacity {
                what,
                needed,
                available,
            } => {
                defmt::write!(
                    f,
                    "capacity {=str}: need {=usize}, have {=usize}",
                    what,
                    needed,
                    available
                )
            }
            Error::InvalidParam { what } => defmt::write!(f, "invalid parameter: {=str}", what),
            Error::NonFinite { what } => defmt::write!(f, "non-finite value in {=str}", what),
        }
    }
}

impl core::error::Error for Error {}
