#!/usr/bin/env python3
"""Coefficients of `picoformer::math::exp_poly` and their measured error (NumPy only).

    python3 tests/golden/math/fit_exp.py            # fit, print the f32 bit patterns
    python3 tests/golden/math/fit_exp.py --check    # + every f32 in [-104, 89] vs f64 exp (~2 min)

`exp_poly` computes e^x = 2^n * (1 + r + r^2 * q(r)), n = round(x log2 e), |r| <= ln2/2, with q
of degree 4. The fit is weighted least squares on Chebyshev nodes for the relative error of
e^r, reweighted towards the error peaks (an approximate Remez): 3.1e-9 before rounding the
coefficients to f32. `--check` replays the Rust evaluation in float32 NumPy (every operation
rounded to f32, no FMA, same order) and reports the maximum error in ulps of the rounded
reference (the Rust test `exp_exhaustive` in tests/math_error.rs repeats it on the real code).
"""
import sys
import numpy as np

F = np.float32
HALF_LN2 = np.log(2) / 2


def fit(terms=5):
    m = 4000
    r = HALF_LN2 * np.cos(np.pi * (np.arange(m) + 0.5) / m)
    a = np.stack([r ** (k + 2) for k in range(terms)], 1)
    y = np.exp(r) - 1 - r
    w = 1 / np.exp(r)
    for _ in range(30):
        c, *_ = np.linalg.lstsq(a * w[:, None], y * w, rcond=None)
        e = (a @ c - y) / np.exp(r)
        w = w * (1 + 3 * np.abs(e) / np.abs(e).max())
    return [F(x) for x in c], float(np.abs(e).max())


def bits(x):
    return int(np.array(x, dtype=F).view(np.uint32))


def exp_poly(x, c):
    ln2_hi = np.array(0x3F317200, dtype=np.uint32).view(F)
    ln2_lo = F(np.log(2) - float(ln2_hi))
    x = np.clip(x, F(-104), F(89)).astype(F)
    n = (x * F(np.log2(np.e)) + F(12582912.0)) - F(12582912.0)
    r = (x - n * ln2_hi) - n * ln2_lo
    q = c[4]
    for k in (3, 2, 1, 0):
        q = q * r + c[k]
    p = F(1) + (r + (r * r) * q)
    k = n.astype(np.int32)
    k1 = k >> 1
    k2 = k - k1
    s1 = ((k1 + 127).astype(np.uint32) << 23).view(F)
    s2 = ((k2 + 127).astype(np.uint32) << 23).view(F)
    return (p * s1) * s2


def check(c):
    worst, at, total = 0.0, None, 0
    top = int(np.array(89, dtype=F).view(np.uint32))
    bottom = int(np.array(-104, dtype=F).view(np.uint32))
    for lo, hi in ((0, top + 1), (0x80000000, bottom + 1)):
        for s in range(lo, hi, 1 << 24):
            x = np.arange(s, min(s + (1 << 24), hi), dtype=np.uint64).astype(np.uint32).view(F)
            with np.errstate(all="ignore"):
                got = exp_poly(x, c).astype(np.float64)
                ref = np.exp(x.astype(np.float64))
                finite = ref <= float(np.finfo(F).max)
                r32 = np.abs(ref.astype(F))
                ulp = np.maximum((np.nextafter(r32, F(np.inf)) - r32).astype(np.float64), 2.0**-149)
                err = np.where(finite, np.abs(got - ref) / ulp, 0.0)
            i = int(np.argmax(err))
            if err[i] > worst:
                worst, at = float(err[i]), float(x[i])
            total += len(x)
    return worst, at, total


if __name__ == "__main__":
    c, e = fit()
    print(f"fit: max relative error of 1 + r + r^2 q(r) on |r| <= ln2/2: {e:.2e}")
    for k, v in enumerate(c, start=2):
        print(f"C{k} = f32::from_bits(0x{bits(v):08x})  // {float(v)!r}")
    if "--check" in sys.argv:
        worst, at, total = check(c)
        print(f"max error {worst:.4f} ulp at x = {at!r} over {total} f32 values in [-104, 89]")
