//! The golden-vector checks of picoformer's core kernels, shared by the host test
//! (`tests/ops_golden.rs`) and the QEMU firmware (`#[path]`-include this file).
//!
//! no_std, no alloc, no unsafe: every case is copied into a caller-owned [`Buffers`]
//! (≈ 10 KB; put it in a `static` on a microcontroller) and compared with a stated tolerance
//! `|got − want| ≤ atol + rtol · scale` ([`tolerance`]), where `scale` is `Σ|w·x|` for matvec,
//! `(1 + pos) · max|x|` for RoPE (the f32 angle `pos · inv_freq` carries a rounding error
//! proportional to `pos`, in the reference as in the crate) and `|want|` otherwise. Bytes (Q8_0), indices (top-k, argmax) must match exactly.

#[path = "cases.rs"]
pub mod cases;
#[path = "format.rs"]
pub mod format;

use format::Case;
use picoformer::ops::{self, RopeStyle};
use picoformer::quant::{self, Matrix};

/// Largest vector in any case (elements).
pub const MAX: usize = 512;

/// Working memory for the checks.
pub struct Buffers {
    a: [f32; MAX],
    b: [f32; MAX],
    c: [f32; MAX],
    d: [f32; MAX],
    q: [u8; quant::q8_0_row_bytes(MAX)],
}

impl Buffers {
    /// Zeroed buffers.
    pub const fn new() -> Self {
        Buffers {
            a: [0.0; MAX],
            b: [0.0; MAX],
            c: [0.0; MAX],
            d: [0.0; MAX],
            q: [0; quant::q8_0_row_bytes(MAX)],
        }
    }
}

impl Default for Buffers {
    fn default() -> Self {
        Self::new()
    }
}

/// A failed comparison (or a malformed case / kernel error).
#[derive(Debug, Clone, Copy)]
pub struct Failure {
    /// Case name.
    pub case: &'static str,
    /// What failed.
    pub what: &'static str,
    /// Element index (0 when not applicable).
    pub index: usize,
    /// Value computed by the crate.
    pub got: f32,
    /// Golden value.
    pub want: f32,
}

/// `|got − want| ≤ atol + rtol · scale`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tol {
    /// Absolute part.
    pub atol: f32,
    /// Relative part (times the case's scale).
    pub rtol: f32,
}

/// Operation codes of `make_golden.py`.
pub mod op {
    /// `ops::matvec` (F32 / F16 / Q8_0 weights).
    pub const MATVEC: u32 = 1;
    /// `ops::matvec_q8` (Q8_0 × Q8_0).
    pub const MATVEC_Q8Q8: u32 = 2;
    /// `quant::quantize_row_q8_0` / `dequantize_row_q8_0`.
    pub const QUANTIZE_Q8_0: u32 = 3;
    /// `ops::rmsnorm`.
    pub const RMSNORM: u32 = 4;
    /// `ops::softmax`.
    pub const SOFTMAX: u32 = 5;
    /// `ops::rope` / `ops::rope_direct`.
    pub const ROPE: u32 = 6;
    /// `ops::silu`.
    pub const SILU: u32 = 7;
    /// `ops::swiglu`.
    pub const SWIGLU: u32 = 8;
    /// `ops::topk`.
    pub const TOPK: u32 = 9;
    /// `ops::argmax`.
    pub const ARGMAX: u32 = 10;
}

/// The tolerance of each op; `fast_math` selects the bounds for the crate's `fast-math`
/// feature (micromath approximations of exp/sin/cos/rsqrt; see `tests/math_error.rs`).
pub const fn tolerance(op: u32, fast_math: bool) -> Tol {
    let exact = Tol {
        atol: 0.0,
        rtol: 0.0,
    };
    match (op, fast_math) {
        (op::MATVEC | op::MATVEC_Q8Q8, _) => Tol {
            atol: 0.0,
            rtol: 2e-6,
        },
        (op::RMSNORM, false) => Tol {
            atol: 1e-30,
            rtol: 2e-6,
        },
        (op::RMSNORM, true) => Tol {
            atol: 1e-30,
            rtol: 2e-3,
        },
        (op::SOFTMAX, false) => Tol {
            atol: 1e-8,
            rtol: 2e-6,
        },
        (op::SOFTMAX, true) => Tol {
            atol: 1e-6,
            rtol: 2e-3,
        },
        // rtol 1.2e-7 = 2 ulp of the angle per unit of `pos · max|x|`.
        (op::ROPE, false) => Tol {
            atol: 2e-6,
            rtol: 1.2e-7,
        },
        // micromath sin/cos: 1.5e-3 absolute each, times |u| + |v| <= 2 max|x| (<= 4 here).
        (op::ROPE, true) => Tol {
            atol: 1.2e-2,
            rtol: 1.2e-7,
        },
        (op::SILU | op::SWIGLU, false) => Tol {
            atol: 1e-30,
            rtol: 2e-6,
        },
        (op::SILU | op::SWIGLU, true) => Tol {
            atol: 1e-6,
            rtol: 2e-3,
        },
        _ => exact,
    }
}

struct Ctx {
    case: &'static str,
    tol: Tol,
    worst: f32,
}

impl Ctx {
    fn fail(&self, what: &'static str) -> Failure {
        Failure {
            case: self.case,
            what,
            index: 0,
            got: f32::NAN,
            want: f32::NAN,
        }
    }

    /// Compares one value; records the worst `err / allowed` ratio.
    fn cmp(
        &mut self,
        what: &'static str,
        i: usize,
        got: f32,
        want: f32,
        scale: f32,
    ) -> Result<(), Failure> {
        let bad = Failure {
            case: self.case,
            what,
            index: i,
            got,
            want,
        };
        if !want.is_finite() || !got.is_finite() {
            // Non-finite goldens must be reproduced exactly (NaN == NaN here).
            let same = (want.is_nan() && got.is_nan()) || got == want;
            return if same { Ok(()) } else { Err(bad) };
        }
        let err = (got - want).abs();
        let allowed = self.tol.atol + self.tol.rtol * scale.abs();
        if err > allowed {
            return Err(bad);
        }
        if allowed > 0.0 {
            let r = err / allowed;
            if r > self.worst {
                self.worst = r;
            }
        }
        Ok(())
    }

    fn cmp_all(
        &mut self,
        what: &'static str,
        got: &[f32],
        want: impl Iterator<Item = f32>,
    ) -> Result<(), Failure> {
        self.cmp_scaled(what, got, want, None)
    }

    /// Compares element-wise; `scale` overrides the default `|want|`.
    fn cmp_scaled(
        &mut self,
        what: &'static str,
        got: &[f32],
        want: impl Iterator<Item = f32>,
        scale: Option<f32>,
    ) -> Result<(), Failure> {
        let mut n = 0;
        for (i, (&g, w)) in got.iter().zip(want).enumerate() {
            self.cmp(what, i, g, w, scale.unwrap_or(w))?;
            n += 1;
        }
        if n != got.len() {
            return Err(self.fail("golden length differs from output length"));
        }
        Ok(())
    }
}

fn f32s<'a>(ctx: &Ctx, case: &Case<'a>, name: &str, buf: &'a mut [f32]) -> Result<usize, Failure> {
    let a = case.get(name).ok_or(ctx.fail("missing array"))?;
    let out = buf
        .get_mut(..a.count)
        .ok_or(ctx.fail("array longer than Buffers::MAX"))?;
    a.read_f32(out).ok_or(ctx.fail("array is not f32"))?;
    Ok(a.count)
}

fn u32s(ctx: &Ctx, case: &Case<'_>, name: &str) -> Result<[u32; 4], Failure> {
    let a = case.get(name).ok_or(ctx.fail("missing array"))?;
    let mut out = [0u32; 4];
    for (o, v) in out.iter_mut().zip(a.u32s()) {
        *o = v;
    }
    Ok(out)
}

/// Runs one case; on success returns the worst `error / allowed` ratio seen (0 for exact
/// checks, ≤ 1 by construction).
pub fn check_case(
    name: &'static str,
    bytes: &'static [u8],
    buf: &mut Buffers,
    fast_math: bool,
) -> Result<f32, Failure> {
    let case = Case::parse(bytes).ok_or(Failure {
        case: name,
        what: "not a PGV1 file",
        index: 0,
        got: f32::NAN,
        want: f32::NAN,
    })?;
    let mut ctx = Ctx {
        case: name,
        tol: tolerance(case.op, fast_math),
        worst: 0.0,
    };
    let kerr = |_e: picoformer::Error| Failure {
        case: name,
        what: "kernel returned an error",
        index: 0,
        got: f32::NAN,
        want: f32::NAN,
    };
    let Buffers { a, b, c, d, q } = buf;
    match case.op {
        op::MATVEC | op::MATVEC_Q8Q8 => {
            let [gid, rows, cols, _] = u32s(&ctx, &case, "dims")?;
            let dtype = quant::DType::from_ggml_type(gid).map_err(kerr)?;
            let w = case.get("w").ok_or(ctx.fail("missing w"))?;
            let w = Matrix::new(dtype, rows as usize, cols as usize, w.data).map_err(kerr)?;
            let n = f32s(&ctx, &case, "x", a)?;
            let x = a.get(..n).ok_or(ctx.fail("x"))?;
            let out = b.get_mut(..rows as usize).ok_or(ctx.fail("rows > MAX"))?;
            if case.op == op::MATVEC {
                ops::matvec(out, &w, x).map_err(kerr)?;
                // dot_row agrees with matvec bit for bit
                for (r, &o) in out.iter().enumerate() {
                    let v = w.dot_row(r, x).map_err(kerr)?;
                    if v.to_bits() != o.to_bits() {
                        return Err(Failure {
                            case: name,
                            what: "dot_row != matvec",
                            index: r,
                            got: v,
                            want: o,
                        });
                    }
                }
            } else {
                ops::matvec_q8(out, &w, x, q).map_err(kerr)?;
                let want = case.get("xq").ok_or(ctx.fail("missing xq"))?;
                let got = q.get(..want.count).ok_or(ctx.fail("xq"))?;
                if let Some(i) = got.iter().zip(want.data).position(|(g, w)| g != w) {
                    return Err(Failure {
                        case: name,
                        what: "quantised x byte",
                        index: i,
                        got: f32::NAN,
                        want: f32::NAN,
                    });
                }
            }
            f32s(&ctx, &case, "y", c)?;
            f32s(&ctx, &case, "ysc", d)?;
            for (i, ((&g, &w), &s)) in out.iter().zip(c.iter()).zip(d.iter()).enumerate() {
                ctx.cmp("matvec output", i, g, w, s)?;
            }
        }
        op::QUANTIZE_Q8_0 => {
            let n = f32s(&ctx, &case, "x", a)?;
            let x = a.get(..n).ok_or(ctx.fail("x"))?;
            let want = case.get("q").ok_or(ctx.fail("missing q"))?;
            let got = q
                .get_mut(..want.count)
                .ok_or(ctx.fail("q longer than MAX"))?;
            quant::quantize_row_q8_0(x, got).map_err(kerr)?;
            if let Some(i) = got.iter().zip(want.data).position(|(g, w)| g != w) {
                return Err(Failure {
                    case: name,
                    what: "Q8_0 byte",
                    index: i,
                    got: f32::NAN,
                    want: f32::NAN,
                });
            }
            let out = b.get_mut(..n).ok_or(ctx.fail("x"))?;
            quant::dequantize_row_q8_0(got, out).map_err(kerr)?;
            let xd = case.get("xd").ok_or(ctx.fail("missing xd"))?;
            for (i, (&g, w)) in out.iter().zip(xd.f32s()).enumerate() {
                if g.to_bits() != w.to_bits() {
                    return Err(Failure {
                        case: name,
                        what: "dequantised value",
                        index: i,
                        got: g,
                        want: w,
                    });
                }
            }
        }
        op::RMSNORM => {
            let eps = case
                .get("eps")
                .and_then(|e| e.f32s().next())
                .ok_or(ctx.fail("eps"))?;
            let n = f32s(&ctx, &case, "x", a)?;
            f32s(&ctx, &case, "g", b)?;
            let (x, g) = (
                a.get(..n).ok_or(ctx.fail("x"))?,
                b.get(..n).ok_or(ctx.fail("g"))?,
            );
            let out = c.get_mut(..n).ok_or(ctx.fail("x"))?;
            ops::rmsnorm(out, x, g, eps).map_err(kerr)?;
            let want = case.get("y").ok_or(ctx.fail("y"))?;
            ctx.cmp_all("rmsnorm", out, want.f32s())?;
            let inplace = d.get_mut(..n).ok_or(ctx.fail("x"))?;
            inplace.copy_from_slice(x);
            ops::rmsnorm_inplace(inplace, g, eps).map_err(kerr)?;
            ctx.cmp_all("rmsnorm_inplace", inplace, want.f32s())?;
        }
        op::SOFTMAX => {
            let n = f32s(&ctx, &case, "x", a)?;
            let x = a.get_mut(..n).ok_or(ctx.fail("x"))?;
            ops::softmax(x).map_err(kerr)?;
            ctx.cmp_all("softmax", x, case.get("y").ok_or(ctx.fail("y"))?.f32s())?;
        }
        op::ROPE => {
            let [hd, pos, style, _] = u32s(&ctx, &case, "dims")?;
            let (hd, pos) = (hd as usize, pos as usize);
            let style = if style == 0 {
                RopeStyle::Neox
            } else {
                RopeStyle::Norm
            };
            let theta = case
                .get("thet")
                .and_then(|e| e.f32s().next())
                .ok_or(ctx.fail("theta"))?;
            let n = f32s(&ctx, &case, "x", a)?;
            let want = case.get("y").ok_or(ctx.fail("y"))?;
            // table-free
            let x = b.get_mut(..n).ok_or(ctx.fail("x"))?;
            x.copy_from_slice(a.get(..n).ok_or(ctx.fail("x"))?);
            ops::rope_direct(x, hd, pos, theta, style).map_err(kerr)?;
            let xmax = a.iter().take(n).fold(0.0f32, |m, v| m.max(v.abs()));
            let scale = Some((1 + pos) as f32 * xmax);
            ctx.cmp_scaled("rope_direct", x, want.f32s(), scale)?;
            // with a precomputed table for positions 0..=pos (when it fits in the buffer)
            let (max_pos, tlen) = (pos + 1, ops::rope_table_len(hd, pos + 1));
            if tlen <= MAX {
                let t = d.get_mut(..tlen).ok_or(ctx.fail("table"))?;
                ops::rope_table_fill(t, hd, max_pos, theta).map_err(kerr)?;
                let table = ops::RopeTable::new(t, hd, max_pos).map_err(kerr)?;
                let y = c.get_mut(..n).ok_or(ctx.fail("x"))?;
                y.copy_from_slice(a.get(..n).ok_or(ctx.fail("x"))?);
                ops::rope(y, pos, style, &table).map_err(kerr)?;
                ctx.cmp_scaled("rope (table)", y, want.f32s(), scale)?;
            }
        }
        op::SILU => {
            let n = f32s(&ctx, &case, "x", a)?;
            let x = a.get_mut(..n).ok_or(ctx.fail("x"))?;
            for v in x.iter_mut() {
                *v = ops::silu(*v);
            }
            ctx.cmp_all("silu", x, case.get("y").ok_or(ctx.fail("y"))?.f32s())?;
        }
        op::SWIGLU => {
            let n = f32s(&ctx, &case, "g", a)?;
            f32s(&ctx, &case, "u", b)?;
            let out = c.get_mut(..n).ok_or(ctx.fail("g"))?;
            let (g, u) = (
                a.get_mut(..n).ok_or(ctx.fail("g"))?,
                b.get(..n).ok_or(ctx.fail("u"))?,
            );
            ops::swiglu(out, g, u).map_err(kerr)?;
            let want = case.get("y").ok_or(ctx.fail("y"))?;
            ctx.cmp_all("swiglu", out, want.f32s())?;
            ops::swiglu_inplace(g, u).map_err(kerr)?;
            ctx.cmp_all("swiglu_inplace", g, want.f32s())?;
        }
        op::TOPK | op::ARGMAX => {
            let n = f32s(&ctx, &case, "x", a)?;
            let x = a.get(..n).ok_or(ctx.fail("x"))?;
            let want = case.get("idx").ok_or(ctx.fail("idx"))?;
            let mut idx = [0usize; 64];
            let got = idx.get_mut(..want.count).ok_or(ctx.fail("k > 64"))?;
            if case.op == op::TOPK {
                ops::topk_into(x, got).map_err(kerr)?;
                let bounded = ops::topk::<64>(x, got.len()).map_err(kerr)?;
                if bounded.as_slice() != &got[..] {
                    return Err(ctx.fail("topk::<64> != topk_into"));
                }
            } else {
                let first = got.first_mut().ok_or(ctx.fail("argmax golden is empty"))?;
                *first = ops::argmax(x).map_err(kerr)?;
            }
            for (i, (&g, w)) in got.iter().zip(want.u32s()).enumerate() {
                if g != w as usize {
                    return Err(Failure {
                        case: name,
                        what: "index",
                        index: i,
                        got: g as f32,
                        want: w as f32,
                    });
                }
            }
        }
        _ => return Err(ctx.fail("unknown op")),
    }
    Ok(ctx.worst)
}
