//! Zero-copy views of metadata arrays.

use core::marker::PhantomData;

use super::cursor::Cursor;
use super::value::{read_value, Check, Value, ValueType};

/// A metadata array, borrowed from the file: element type, length and the encoded elements.
///
/// Random access ([`get`](Self::get)) is O(1) for fixed-size element types and O(i) for
/// strings and nested arrays (their elements have to be walked). Typed iterators
/// (`iter_u32`, `iter_f32`, `iter_str`, ...) return `None` when the element type does not
/// match, so after that check iteration cannot fail.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArrayView<'a> {
    elem: ValueType,
    len: usize,
    body: &'a [u8],
}

impl<'a> ArrayView<'a> {
    /// A view of `len` elements of type `elem` encoded in `body` (validated by the caller).
    pub(crate) fn new(elem: ValueType, len: usize, body: &'a [u8]) -> Self {
        ArrayView { elem, len, body }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The element type.
    pub fn elem_type(&self) -> ValueType {
        self.elem
    }

    /// The encoded elements, exactly as in the file (for fixed-size types: `len` little-endian
    /// values back to back).
    pub fn bytes(&self) -> &'a [u8] {
        self.body
    }

    /// All elements as [`Value`]s.
    pub fn iter(&self) -> ArrayIter<'a> {
        ArrayIter {
            elem: self.elem,
            remaining: self.len,
            cur: Cursor::at(self.body, 0),
        }
    }

    /// Element `i`, or `None` past the end.
    pub fn get(&self, i: usize) -> Option<Value<'a>> {
        if i >= self.len {
            return None;
        }
        match self.elem.fixed_size() {
            Some(size) => {
                let start = i.checked_mul(size)?;
                let mut cur = Cursor::at(self.body, start);
                read_value(&mut cur, self.elem, 0, Check::Trusted).ok()
            }
            None => self.iter().nth(i),
        }
    }

    /// Integer elements converted to `T`, if the elements are integers (of any of the eight
    /// integer types) and every one of them fits `T` exactly; `None` otherwise. The check is
    /// one pass over the array.
    pub fn iter_int<T: TryFrom<i128>>(&self) -> Option<Ints<'a, T>> {
        if !self.elem.is_integer() {
            return None;
        }
        let fits = self
            .iter()
            .all(|v| v.as_i128().is_some_and(|x| T::try_from(x).is_ok()));
        fits.then(|| Ints {
            inner: self.iter(),
            _to: PhantomData,
        })
    }

    /// Elements as `u32` (any integer element type whose values all fit; llama.cpp writes
    /// per-layer arrays as `i32` or `u32`).
    pub fn iter_u32(&self) -> Option<Ints<'a, u32>> {
        self.iter_int()
    }

    /// Elements as `i32` (any integer element type whose values all fit).
    pub fn iter_i32(&self) -> Option<Ints<'a, i32>> {
        self.iter_int()
    }

    /// Elements as `u64` (any integer element type whose values all fit).
    pub fn iter_u64(&self) -> Option<Ints<'a, u64>> {
        self.iter_int()
    }

    /// Elements as `i64` (any integer element type whose values all fit).
    pub fn iter_i64(&self) -> Option<Ints<'a, i64>> {
        self.iter_int()
    }

    /// Elements of an `f32` array.
    pub fn iter_f32(&self) -> Option<F32s<'a>> {
        (self.elem == ValueType::F32).then(|| F32s {
            chunks: self.body.chunks_exact(4),
        })
    }

    /// Elements of a `bool` array.
    pub fn iter_bool(&self) -> Option<Bools<'a>> {
        (self.elem == ValueType::Bool).then(|| Bools {
            bytes: self.body.iter(),
        })
    }

    /// Elements of a string array.
    pub fn iter_str(&self) -> Option<Strs<'a>> {
        (self.elem == ValueType::String).then(|| Strs { inner: self.iter() })
    }
}

impl<'a> IntoIterator for ArrayView<'a> {
    type Item = Value<'a>;
    type IntoIter = ArrayIter<'a>;

    fn into_iter(self) -> ArrayIter<'a> {
        self.iter()
    }
}

/// Iterator over an array's elements as [`Value`]s.
#[derive(Debug, Clone)]
pub struct ArrayIter<'a> {
    elem: ValueType,
    remaining: usize,
    cur: Cursor<'a>,
}

impl<'a> Iterator for ArrayIter<'a> {
    type Item = Value<'a>;

    fn next(&mut self) -> Option<Value<'a>> {
        if self.remaining == 0 {
            return None;
        }
        match read_value(&mut self.cur, self.elem, 0, Check::Trusted) {
            Ok(v) => {
                self.remaining -= 1;
                Some(v)
            }
            Err(_) => {
                // Unreachable for validated data; end the iteration rather than panic.
                self.remaining = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.remaining))
    }
}

/// Integer elements converted to `T` (see [`ArrayView::iter_int`]).
#[derive(Debug, Clone)]
pub struct Ints<'a, T> {
    inner: ArrayIter<'a>,
    _to: PhantomData<T>,
}

impl<T: TryFrom<i128>> Iterator for Ints<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        // Every element was checked to fit `T` when the iterator was made.
        let v = self.inner.next()?;
        v.as_i128().and_then(|x| T::try_from(x).ok())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

/// Elements of an `f32` array.
#[derive(Debug, Clone)]
pub struct F32s<'a> {
    chunks: core::slice::ChunksExact<'a, u8>,
}

impl Iterator for F32s<'_> {
    type Item = f32;

    fn next(&mut self) -> Option<f32> {
        let b: [u8; 4] = self.chunks.next()?.try_into().ok()?;
        Some(f32::from_le_bytes(b))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.chunks.size_hint()
    }
}

impl ExactSizeIterator for F32s<'_> {}

/// Elements of a `bool` array.
#[derive(Debug, Clone)]
pub struct Bools<'a> {
    bytes: core::slice::Iter<'a, u8>,
}

impl Iterator for Bools<'_> {
    type Item = bool;

    fn next(&mut self) -> Option<bool> {
        self.bytes.next().map(|&b| b != 0)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.bytes.size_hint()
    }
}

impl ExactSizeIterator for Bools<'_> {}

/// Elements of a string array.
#[derive(Debug, Clone)]
pub struct Strs<'a> {
    inner: ArrayIter<'a>,
}

impl<'a> Iterator for Strs<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        self.inner.next()?.as_str()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}
