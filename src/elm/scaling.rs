//! OpenELM layer-wise scaling, integer-exact (spec `openelm.md` §2).
//!
//! For layer `i` of `L`, the reference code (apple/corenet `GPTConfig.__post_init__`) computes
//! `m[i] = round(linspace(lo, hi, L)[i], 2)` and snaps `d · m[i]` to a multiple of a divisor with
//! the MobileNet `make_divisible` rule. Everything here works on multipliers in hundredths
//! (`m100 = 100·m`) with integer arithmetic only, so the results are exact and `const`.

/// MobileNet `make_divisible(v, divisor, min_value = divisor)` for `v = v100 / 100`
/// (spec §2.1, recipe §2.3):
///
/// 1. `nv = max(divisor, floor(v / divisor + 1/2) · divisor)` (round half **up**);
/// 2. if `nv < 0.9 · v` then `nv += divisor` (never round down by more than 10 %).
///
/// Returns `None` when `divisor` is zero or the arithmetic would overflow.
///
/// ```
/// use picoformer::elm::make_divisible_x100;
/// assert_eq!(make_divisible_x100(64_000, 256), Some(768)); // 640.0
/// assert_eq!(make_divisible_x100(85_760, 256), Some(1024)); // 857.6: the 10 % bump
/// assert_eq!(make_divisible_x100(422_400, 256), Some(4352)); // 4224.0: half-up tie
/// ```
pub const fn make_divisible_x100(v100: u64, divisor: u64) -> Option<u64> {
    if divisor == 0 {
        return None;
    }
    let Some(div100) = divisor.checked_mul(100) else {
        return None;
    };
    let Some(num) = v100.checked_add(div100 / 2) else {
        return None;
    };
    let q = num / div100;
    let Some(mut nv) = q.checked_mul(divisor) else {
        return None;
    };
    if nv < divisor {
        nv = divisor;
    }
    // nv < 0.9·v  ⇔  1000·nv < 9·v100
    let (Some(lhs), Some(rhs)) = (nv.checked_mul(1000), v100.checked_mul(9)) else {
        return None;
    };
    if lhs < rhs {
        nv += divisor;
    }
    Some(nv)
}

/// `round(linspace(lo, hi, n)[i], 2)` in hundredths, computed exactly (spec §2.3):
/// `m100[i] = floor(lo100 + (hi100 − lo100)·i/(n−1) + 1/2)`. For `n == 1` it is `lo100`.
///
/// ```
/// use picoformer::elm::linspace_x100;
/// assert_eq!(linspace_x100(50, 400, 16, 12), 330); // 270M FFN multiplier of layer 12
/// ```
pub const fn linspace_x100(lo100: u32, hi100: u32, n: usize, i: usize) -> u32 {
    if n <= 1 {
        return lo100;
    }
    let den = 2 * (n as i64 - 1);
    let num = 2 * lo100 as i64 * (n as i64 - 1)
        + 2 * (hi100 as i64 - lo100 as i64) * i as i64
        + (n as i64 - 1);
    // floor division (num may only be negative when hi < lo and i is large; guard anyway)
    let q = num.div_euclid(den);
    if q < 0 {
        0
    } else {
        q as u32
    }
}
