//! ggml tensor element types and their block layouts.

/// A ggml tensor element type (`enum ggml_type`), with the block layout needed to size tensor
/// data: `block_size()` elements are stored in `type_size()` bytes.
///
/// Every id that current ggml defines is here, so files holding other quantisations still
/// parse (their tensors can be listed and sized, not computed on). Ids ggml has removed (4, 5,
/// 31–33, 36–38) and ids past the end are rejected as [`Error::Unsupported`](crate::Error).
/// The table is checked against the `gguf` Python package's `GGML_QUANT_SIZES` by
/// `tests/gguf_golden.rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
#[allow(non_camel_case_types)]
#[repr(u32)]
pub enum GgmlType {
    /// IEEE binary32.
    F32 = 0,
    /// IEEE binary16.
    F16 = 1,
    /// 4-bit, 32-element blocks, f16 scale.
    Q4_0 = 2,
    /// 4-bit, 32-element blocks, f16 scale and min.
    Q4_1 = 3,
    /// 5-bit, 32-element blocks.
    Q5_0 = 6,
    /// 5-bit, 32-element blocks, with min.
    Q5_1 = 7,
    /// 8-bit, 32-element blocks: f16 scale + 32 × i8 (34 bytes).
    Q8_0 = 8,
    /// 8-bit, 32-element blocks, with sum.
    Q8_1 = 9,
    /// 2-bit k-quant (256-element super-blocks).
    Q2_K = 10,
    /// 3-bit k-quant.
    Q3_K = 11,
    /// 4-bit k-quant.
    Q4_K = 12,
    /// 5-bit k-quant.
    Q5_K = 13,
    /// 6-bit k-quant.
    Q6_K = 14,
    /// 8-bit k-quant.
    Q8_K = 15,
    /// i-quant 2-bit XXS.
    IQ2_XXS = 16,
    /// i-quant 2-bit XS.
    IQ2_XS = 17,
    /// i-quant 3-bit XXS.
    IQ3_XXS = 18,
    /// i-quant 1-bit S.
    IQ1_S = 19,
    /// i-quant 4-bit non-linear (32-element blocks).
    IQ4_NL = 20,
    /// i-quant 3-bit S.
    IQ3_S = 21,
    /// i-quant 2-bit S.
    IQ2_S = 22,
    /// i-quant 4-bit XS.
    IQ4_XS = 23,
    /// `i8`.
    I8 = 24,
    /// `i16`.
    I16 = 25,
    /// `i32`.
    I32 = 26,
    /// `i64`.
    I64 = 27,
    /// IEEE binary64.
    F64 = 28,
    /// i-quant 1-bit M.
    IQ1_M = 29,
    /// bfloat16.
    BF16 = 30,
    /// ternary, 1.69 bits per weight.
    TQ1_0 = 34,
    /// ternary, 2.06 bits per weight.
    TQ2_0 = 35,
    /// OCP microscaling FP4 (32-element blocks, e8m0 scale).
    MXFP4 = 39,
}

impl GgmlType {
    /// The type with ggml id `id`, if ggml defines it.
    pub const fn from_u32(id: u32) -> Option<GgmlType> {
        use GgmlType::*;
        Some(match id {
            0 => F32,
            1 => F16,
            2 => Q4_0,
            3 => Q4_1,
            6 => Q5_0,
            7 => Q5_1,
            8 => Q8_0,
            9 => Q8_1,
            10 => Q2_K,
            11 => Q3_K,
            12 => Q4_K,
            13 => Q5_K,
            14 => Q6_K,
            15 => Q8_K,
            16 => IQ2_XXS,
            17 => IQ2_XS,
            18 => IQ3_XXS,
            19 => IQ1_S,
            20 => IQ4_NL,
            21 => IQ3_S,
            22 => IQ2_S,
            23 => IQ4_XS,
            24 => I8,
            25 => I16,
            26 => I32,
            27 => I64,
            28 => F64,
            29 => IQ1_M,
            30 => BF16,
            34 => TQ1_0,
            35 => TQ2_0,
            39 => MXFP4,
            _ => return None,
        })
    }

    /// The ggml id.
    pub const fn id(self) -> u32 {
        self as u32
    }

    /// Elements per block (1 for plain types, 32 for `Q*_0`/`Q*_1`, 256 for k- and i-quants).
    pub const fn block_size(self) -> u64 {
        use GgmlType::*;
        match self {
            F32 | F16 | I8 | I16 | I32 | I64 | F64 | BF16 => 1,
            Q4_0 | Q4_1 | Q5_0 | Q5_1 | Q8_0 | Q8_1 | IQ4_NL | MXFP4 => 32,
            Q2_K | Q3_K | Q4_K | Q5_K | Q6_K | Q8_K | IQ2_XXS | IQ2_XS | IQ3_XXS | IQ1_S
            | IQ3_S | IQ2_S | IQ4_XS | IQ1_M | TQ1_0 | TQ2_0 => 256,
        }
    }

    /// Bytes per block.
    pub const fn type_size(self) -> u64 {
        use GgmlType::*;
        match self {
            I8 => 1,
            F16 | BF16 | I16 => 2,
            F32 | I32 => 4,
            F64 | I64 => 8,
            MXFP4 => 17,
            Q4_0 | IQ4_NL => 18,
            Q4_1 => 20,
            Q5_0 => 22,
            Q5_1 => 24,
            Q8_0 => 34,
            Q8_1 => 40,
            IQ1_S => 50,
            TQ1_0 => 54,
            IQ1_M => 56,
            IQ2_XXS | TQ2_0 => 66,
            IQ2_XS => 74,
            IQ2_S => 82,
            Q2_K => 84,
            IQ3_XXS => 98,
            Q3_K | IQ3_S => 110,
            IQ4_XS => 136,
            Q4_K => 144,
            Q5_K => 176,
            Q6_K => 210,
            Q8_K => 292,
        }
    }

    /// The ggml name (`"F32"`, `"Q8_0"`, ...).
    pub const fn name(self) -> &'static str {
        use GgmlType::*;
        match self {
            F32 => "F32",
            F16 => "F16",
            Q4_0 => "Q4_0",
            Q4_1 => "Q4_1",
            Q5_0 => "Q5_0",
            Q5_1 => "Q5_1",
            Q8_0 => "Q8_0",
            Q8_1 => "Q8_1",
            Q2_K => "Q2_K",
            Q3_K => "Q3_K",
            Q4_K => "Q4_K",
            Q5_K => "Q5_K",
            Q6_K => "Q6_K",
            Q8_K => "Q8_K",
            IQ2_XXS => "IQ2_XXS",
            IQ2_XS => "IQ2_XS",
            IQ3_XXS => "IQ3_XXS",
            IQ1_S => "IQ1_S",
            IQ4_NL => "IQ4_NL",
            IQ3_S => "IQ3_S",
            IQ2_S => "IQ2_S",
            IQ4_XS => "IQ4_XS",
            I8 => "I8",
            I16 => "I16",
            I32 => "I32",
            I64 => "I64",
            F64 => "F64",
            IQ1_M => "IQ1_M",
            BF16 => "BF16",
            TQ1_0 => "TQ1_0",
            TQ2_0 => "TQ2_0",
            MXFP4 => "MXFP4",
        }
    }

    /// Bytes taken by `n_elements` elements, or `None` if `n_elements` is not a whole number of
    /// blocks or the size overflows `u64`.
    pub const fn bytes_for(self, n_elements: u64) -> Option<u64> {
        let bs = self.block_size();
        if !n_elements.is_multiple_of(bs) {
            return None;
        }
        (n_elements / bs).checked_mul(self.type_size())
    }
}

impl core::fmt::Display for GgmlType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}
