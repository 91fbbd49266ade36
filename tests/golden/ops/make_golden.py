#!/usr/bin/env python3
"""Golden vectors for picoformer's core kernels (src/ops, src/quant).

Run from anywhere:  python3 tests/golden/ops/make_golden.py
Pinned: numpy==2.1.3, gguf==0.17.1 (llama.cpp's Python package: reference Q8_0 quantiser),
        torch==2.9.1 (CPU, f32: softmax, silu, HF-Llama rotate-half RoPE).
Deterministic (fixed seeds); rerunning reproduces the files byte for byte.

Independent references:
- matvec: exact f64 products of the *stored* weights (f32; f16 via numpy float16;
  Q8_0 via gguf.quants.quantize/dequantize) with f64 accumulation;
- Q8_0 bytes: gguf.quants.quantize (bit-exact port of ggml's quantize_row_q8_0_ref);
- Q8_0 x Q8_0: x quantised by gguf, integer block sums, f64 scales (ggml_vec_dot_q8_0_q8_0);
- rmsnorm: numpy f64; softmax / silu / swiglu / rope: torch f32 (the models' reference
  framework), RoPE NEOX as HF `apply_rotary_pos_emb`, NORM as llama2.c's pair rotation;
- topk / argmax: numpy stable sort on (-score, index).

File format (one file per case, all little-endian, no alignment assumed):
  b"PGV1", u32 op, u32 n_arrays, then n_arrays x { [u8;4] name, u32 type, u32 count,
  count elements (type 0 = f32, 1 = u8, 2 = u32), zero-padded to a multiple of 4 bytes }.
The Rust loader is tests/golden/ops/format.rs; the checks are tests/golden/ops/check.rs.
"""
import json
import os
import struct

import numpy as np
import gguf
from gguf.quants import quantize, dequantize
from gguf import GGMLQuantizationType as QT

try:
    import torch
except ImportError:  # pragma: no cover
    raise SystemExit("torch 2.9.1 is required to regenerate the goldens")

HERE = os.path.dirname(os.path.abspath(__file__))
OPS = {"matvec": 1, "matvec_q8q8": 2, "quantize_q8_0": 3, "rmsnorm": 4, "softmax": 5,
       "rope": 6, "silu": 7, "swiglu": 8, "topk": 9, "argmax": 10}
TYPES = {np.dtype(np.float32): 0, np.dtype(np.uint8): 1, np.dtype(np.uint32): 2}
CASES = []


def write_case(name, op, arrays, source):
    out = bytearray(b"PGV1" + struct.pack("<II", OPS[op], len(arrays)))
    index = []
    for tag, arr in arrays:
        arr = np.ascontiguousarray(arr)
        assert len(tag) <= 4 and arr.dtype in TYPES, (tag, arr.dtype)
        data = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        out += tag.encode().ljust(4) + struct.pack("<II", TYPES[arr.dtype], arr.size)
        out += data + b"\0" * (-len(data) % 4)
        index.append({"name": tag, "type": ["f32", "u8", "u32"][TYPES[arr.dtype]],
                      "count": int(arr.size)})
    with open(os.path.join(HERE, name + ".bin"), "wb") as f:
        f.write(out)
    CASES.append({"case": name, "op": op, "bytes": len(out), "source": source, "arrays": index})


def u32(*v):
    return np.array(v, dtype=np.uint32)


def f32(*v):
    return np.array(v, dtype=np.float32)


rng = np.random.default_rng(20261127)

# ---- matvec: F32 / F16 / Q8_0 weights, f32 x ---------------------------------------------
GG = {"f32": (QT.F32, 0), "f16": (QT.F16, 1), "q8_0": (QT.Q8_0, 8)}
for dt, shapes in {"f32": [(7, 13), (64, 96), (33, 288)],
                   "f16": [(7, 13), (64, 96), (33, 288)],
                   "q8_0": [(5, 32), (64, 96), (17, 288)]}.items():
    for rows, cols in shapes:
        w = (rng.standard_normal((rows, cols)) * 0.1).astype(np.float32)
        x = rng.standard_normal(cols).astype(np.float32)
        qt, gid = GG[dt]
        stored = quantize(w, qt)
        wd = dequantize(stored, qt).astype(np.float64).reshape(rows, cols)
        y = wd @ x.astype(np.float64)
        ysc = np.abs(wd) @ np.abs(x.astype(np.float64))
        raw = np.frombuffer(stored.tobytes(), dtype=np.uint8)
        write_case(f"matvec_{dt}_{rows}x{cols}", "matvec",
                   [("dims", u32(gid, rows, cols)), ("w", raw), ("x", x),
                    ("y", y.astype(np.float32)), ("ysc", ysc.astype(np.float32))],
                   f"numpy f64 over gguf.quants {dt} storage")

# ---- Q8_0 x Q8_0 matvec (x quantised once, as ggml) ------------------------------------------
for rows, cols in [(64, 96), (17, 288)]:
    w = (rng.standard_normal((rows, cols)) * 0.1).astype(np.float32)
    x = rng.standard_normal(cols).astype(np.float32)
    wq = quantize(w, QT.Q8_0).reshape(rows, -1, 34)
    xq = quantize(x, QT.Q8_0).reshape(-1, 34)
    dw = wq[:, :, :2].copy().view(np.float16).astype(np.float64)[:, :, 0]
    dx = xq[:, :2].copy().view(np.float16).astype(np.float64)[:, 0]
    qw = wq[:, :, 2:].view(np.int8).astype(np.int64)
    qx = xq[:, 2:].view(np.int8).astype(np.int64)
    sumi = (qw * qx[None]).sum(axis=2)  # (rows, blocks), exact
    y = (sumi * dw * dx[None]).sum(axis=1)
    ysc = (np.abs(sumi) * np.abs(dw) * np.abs(dx[None])).sum(axis=1)
    write_case(f"matvec_q8q8_{rows}x{cols}", "matvec_q8q8",
               [("dims", u32(8, rows, cols)), ("w", wq.reshape(-1)), ("x", x),
                ("xq", xq.reshape(-1)), ("y", y.astype(np.float32)),
                ("ysc", ysc.astype(np.float32))],
               "gguf.quants Q8_0 for x and W, exact integer block sums, f64 scales")

# ---- Q8_0 quantiser, bit for bit --------------------------------------------------------------
edge = []
edge.append(np.zeros(32))                                         # d = 0 -> id = 0
edge.append(np.arange(-16, 16) + 0.5)                            # amax 16.5
b = np.linspace(-127, 127, 32); b[0] = 127; b[1:9] = [2.5, -2.5, 0.5, -0.5, 1.5, -1.5, 126.5, -126.5]
edge.append(b)                                                    # d = 1: exact .5 ties
edge.append(np.full(32, -3.0))                                    # negative amax, q = -127
edge.append(rng.standard_normal(32) * 1e-6)                       # f16-subnormal scale
edge.append(rng.standard_normal(32) * 1e-9)                       # scale underflows f16 to 0
edge.append(rng.standard_normal(32) * 2e6)                        # near the f16 scale limit
edge.append(np.r_[1e-30, -1e-30, np.zeros(30)])                   # denormal-ish inputs
for name, x in [("quantize_q8_0_edge", np.concatenate(edge).astype(np.float32)),
                ("quantize_q8_0_rand_320", (rng.standard_normal(320) * 2).astype(np.float32))]:
    q = quantize(x, QT.Q8_0)
    xd = dequantize(q, QT.Q8_0).astype(np.float32)
    write_case(name, "quantize_q8_0",
               [("x", x), ("q", np.frombuffer(q.tobytes(), np.uint8)), ("xd", xd)],
               "gguf.quants.quantize / dequantize (ggml quantize_row_q8_0_ref)")

# ---- RMSNorm ----------------------------------------------------------------------------------
def rms_case(name, x, w, eps):
    x64 = x.astype(np.float64)
    y = x64 / np.sqrt(np.mean(x64 * x64) + np.float64(np.float32(eps))) * w.astype(np.float64)
    write_case(name, "rmsnorm", [("eps", f32(eps)), ("x", x), ("g", w), ("y", y.astype(np.float32))],
               "numpy f64")


rms_case("rmsnorm_4_spec", f32(1, 2, 3, 4), f32(1, 1, 1, 1), 1e-6)
rms_case("rmsnorm_13", rng.standard_normal(13).astype(np.float32),
         (1 + 0.1 * rng.standard_normal(13)).astype(np.float32), 1e-5)
rms_case("rmsnorm_288", (rng.standard_normal(288) * 3).astype(np.float32),
         rng.standard_normal(288).astype(np.float32), 1e-6)
rms_case("rmsnorm_64_tiny", (rng.standard_normal(64) * 1e-4).astype(np.float32),
         np.ones(64, np.float32), 1e-6)   # eps dominates
rms_case("rmsnorm_33_eps0", (rng.standard_normal(33) * 1e3).astype(np.float32),
         np.ones(33, np.float32), 0.0)

# ---- softmax (torch f32) ------------------------------------------------------------------------
def sm_case(name, x):
    y = torch.softmax(torch.from_numpy(x), dim=0).numpy()
    write_case(name, "softmax", [("x", x), ("y", y)], "torch.softmax f32")


sm_case("softmax_1", f32(3.5))
sm_case("softmax_7", rng.standard_normal(7).astype(np.float32))
sm_case("softmax_257_wide", (rng.standard_normal(257) * 20).astype(np.float32))
xm = rng.standard_normal(33).astype(np.float32) * 4
xm[20:] = -np.inf
sm_case("softmax_33_masked", xm)
sm_case("softmax_64_large", (rng.standard_normal(64) + 1e4).astype(np.float32))

# ---- RoPE (torch f32, HF formulation) -------------------------------------------------------------
def rope_ref(x, hd, pos, theta, style):
    xt = torch.from_numpy(x.copy()).view(-1, hd)
    inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    ang = torch.tensor([float(pos)], dtype=torch.float32)[:, None] * inv_freq[None, :]
    cos, sin = ang.cos()[0], ang.sin()[0]
    if style == 0:   # NEOX / rotate-half (HF apply_rotary_pos_emb)
        emb_cos, emb_sin = torch.cat([cos, cos]), torch.cat([sin, sin])
        x1, x2 = xt[:, : hd // 2], xt[:, hd // 2:]
        rot = torch.cat([-x2, x1], dim=-1)
        y = xt * emb_cos + rot * emb_sin
    else:            # NORM / interleaved pairs (llama2.c)
        x0, x1 = xt[:, 0::2], xt[:, 1::2]
        y = torch.stack([x0 * cos - x1 * sin, x1 * cos + x0 * sin], dim=-1).reshape(xt.shape)
    return y.reshape(-1).numpy()


for style, sname in [(0, "neox"), (1, "norm")]:
    for hd, heads, pos, theta in [(64, 3, 0, 10000.0), (64, 3, 7, 10000.0), (64, 2, 511, 10000.0),
                                  (48, 2, 100, 500000.0), (8, 1, 3, 10000.0)]:
        x = rng.standard_normal(hd * heads).astype(np.float32)
        y = rope_ref(x, hd, pos, theta, style)
        write_case(f"rope_{sname}_hd{hd}_h{heads}_p{pos}", "rope",
                   [("dims", u32(hd, pos, style)), ("thet", f32(theta)), ("x", x), ("y", y)],
                   "torch f32 (HF Llama rotate-half / llama2.c pairs)")

# ---- SiLU / SwiGLU (torch f32) ----------------------------------------------------------------------
xs = np.concatenate([np.linspace(-20, 20, 281), [0.0, -0.0, 88.0, -88.0, 100.0, -100.0, 1e-8,
                                                 -1e-8, 3e38, -3e38, 1.0, -1.0, 0.5, -0.5,
                                                 200.0, -200.0, 16.0, -16.0, 5.0]]).astype(np.float32)
write_case("silu_300", "silu",
           [("x", xs), ("y", torch.nn.functional.silu(torch.from_numpy(xs)).numpy())],
           "torch.nn.functional.silu f32")
g = (rng.standard_normal(77) * 4).astype(np.float32)
u = rng.standard_normal(77).astype(np.float32)
yg = (torch.nn.functional.silu(torch.from_numpy(g)) * torch.from_numpy(u)).numpy()
write_case("swiglu_77", "swiglu", [("g", g), ("u", u), ("y", yg)], "torch silu(gate)*up f32")

# ---- top-k / argmax (ties: higher score first, then lower index) -----------------------------------
def order(x):
    idx = np.arange(len(x))
    return np.lexsort((idx, -x.astype(np.float64)))   # last key primary: -score, then index


def topk_case(name, x, k):
    write_case(name, "topk", [("k", u32(k)), ("x", x), ("idx", order(x)[:k].astype(np.uint32))],
               "numpy lexsort (-score, index)")


topk_case("topk_100_k10", rng.standard_normal(100).astype(np.float32), 10)
tied = rng.integers(-3, 4, size=64).astype(np.float32)
topk_case("topk_64_k20_ties", tied, 20)
special = f32(0.0, -0.0, np.inf, -np.inf, 1.0, np.inf, 0.0, -np.inf, 1.0, -1.0, 0.5)
topk_case("topk_11_k11_special", special, 11)
topk_case("topk_8_router_k2", f32(0.1, 0.3, 0.3, -0.2, 0.05, 0.3, 0.0, 0.2), 2)
for name, x in [("argmax_500", rng.standard_normal(500).astype(np.float32)),
                ("argmax_64_ties", tied), ("argmax_11_special", special)]:
    write_case(name, "argmax", [("x", x), ("idx", u32(order(x)[0]))], "numpy lexsort (-score, index)")

# ---- index + Rust case table --------------------------------------------------------------------------
with open(os.path.join(HERE, "index.json"), "w") as f:
    json.dump({"format": "PGV1 (see make_golden.py docstring)", "ops": OPS,
               "total_bytes": sum(c["bytes"] for c in CASES), "cases": CASES}, f, indent=1)
with open(os.path.join(HERE, "cases.rs"), "w") as f:
    f.write("// @generated by make_golden.py: every golden case, embedded (no_std friendly).\n")
    f.write("/// `(name, bytes)` of every golden case file.\n")
    f.write("pub static CASES: &[(&str, &[u8])] = &[\n")
    for c in CASES:
        f.write(f'    ("{c["case"]}", include_bytes!("{c["case"]}.bin")),\n')
    f.write("];\n")
print(f"{len(CASES)} cases, {sum(c['bytes'] for c in CASES)} bytes")
