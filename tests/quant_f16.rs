//! `quant::f16_to_f32` is exact for all 65 536 binary16 bit patterns (reference: `half`).

use picoformer::quant::f16_to_f32;

#[test]
fn f16_to_f32_exhaustive() {
    for bits in 0..=u16::MAX {
        let want = half::f16::from_bits(bits).to_f32();
        let got = f16_to_f32(bits);
        if want.is_nan() {
            assert!(got.is_nan(), "{bits:#06x}");
            assert_eq!(
                got.is_sign_negative(),
                want.is_sign_negative(),
                "{bits:#06x}"
            );
        } else {
            assert_eq!(
                got.to_bits(),
                want.to_bits(),
                "{bits:#06x}: {got} vs {want}"
            );
        }
    }
}
