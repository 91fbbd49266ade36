//! An f32 value stored either as `f32` (caller slices) or as its bit pattern in a `u32` word
//! (the cache's own memory), so one kernel serves both without `unsafe` casts.

/// A memory cell holding one f32.
pub(crate) trait Cell: Copy {
    /// The value.
    fn get(self) -> f32;
    /// A cell holding `x`.
    fn of(x: f32) -> Self;
    /// The cells as plain f32, when they are (for kernels that take `&[f32]`).
    fn as_f32s(cells: &[Self]) -> Option<&[f32]> {
        let _ = cells;
        None
    }
}

impl Cell for f32 {
    #[inline(always)]
    fn get(self) -> f32 {
        self
    }
    #[inline(always)]
    fn of(x: f32) -> Self {
        x
    }
    #[inline(always)]
    fn as_f32s(cells: &[Self]) -> Option<&[f32]> {
        Some(cells)
    }
}

impl Cell for u32 {
    #[inline(always)]
    fn get(self) -> f32 {
        f32::from_bits(self)
    }
    #[inline(always)]
    fn of(x: f32) -> Self {
        x.to_bits()
    }
}
