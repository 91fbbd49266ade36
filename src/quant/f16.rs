//! Branch-free IEEE binary16 → binary32 conversion.
//!
//! `half`'s portable conversion branches per element; this one is a shift, one multiply by
//! 2¹¹² (which re-biases the exponent and normalises subnormals exactly) and a select for
//! inf/NaN, so it vectorises and needs no f16 hardware. Exact for every input (tested against
//! `half` over all 65 536 bit patterns in `tests/quant_f16.rs`); NaN payloads are kept
//! (not quietened). Requires the FPU not to flush subnormals (the default on every supported
//! target).

/// `2^112` as f32 bits: the exponent bias difference between binary32 (127) and binary16 (15).
const REBIAS: u32 = 0x7780_0000;

/// Converts binary16 bits to f32, exactly.
///
/// ```
/// use picoformer::quant::f16_to_f32;
/// assert_eq!(f16_to_f32(0x3c00), 1.0);
/// assert_eq!(f16_to_f32(0xc000), -2.0);
/// assert_eq!(f16_to_f32(0x0001), 5.960464477539063e-8); // smallest subnormal
/// assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
/// ```
#[inline(always)]
pub fn f16_to_f32(bits: u16) -> f32 {
    let h = u32::from(bits);
    let sign = (h & 0x8000) << 16;
    let em = h & 0x7fff;
    let finite = f32::from_bits(em << 13) * f32::from_bits(REBIAS);
    let magnitude = if em >= 0x7c00 {
        (em << 13) | 0x7f80_0000
    } else {
        finite.to_bits()
    };
    f32::from_bits(magnitude | sign)
}
