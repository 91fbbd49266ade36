#!/usr/bin/env python3
"""Golden vectors for picoformer's MH-MoE layer (`src/moe/`), checked by `tests/moe_golden.rs`.

Independent oracle: a pure-PyTorch (float64) reference written from `../shared/spec/mhmoe.md`
§2 (architecture), §2.1 (official-code semantics: raw softmax gate weight, tutel capacity slots)
and §4 (crate defaults). It does not use any picoformer code.

Pinned: python 3.11, torch 2.9.1 (CPU), numpy 2.1.3, gguf 0.17.1.
Run from the repository root:   python3 tests/golden/moe/make_golden.py

Each case is one small GGUF file written by the `gguf` package (llama.cpp's own writer) with
the docs/GGUF.md MH-MoE keys and tensor names, so the Rust test also exercises
`MoeConfig::from_gguf` / `MoeLayer::from_gguf`. The MoE layer is `blk.1` of a 2-layer model with
`mhmoe.every = 2` (layer 0 is dense by the `(N+1) % every == 0` rule). Test vectors are extra
F32 tensors in the same file:

  test.x            [S, d]      input tokens
  test.y_dropless   [S, d]      dropless output (crate default)
  test.y_capacity   [S, d]      capacity emulation, the S tokens as one batch: C = k*ceil(S*h/E)
  test.y_capacity1  [S, d]      capacity emulation, each token alone (decode, batch 1)
  test.choice       [S*h, k]    selected experts (score desc, ties -> lower index), as f32
  test.gate         [S*h, k]    gate weights (raw softmax prob, or renormalised over the top-k)
  test.kept         [S*h, k]    1 if the choice keeps its capacity slot in the batch run, else 0

The d = 768 case would exceed the size budget, so its weights are not stored: every weight is
`(((splitmix64(seed_t + i) >> 40) - 2^23) / 2^23) * scale_t` (exact in f32; seeds and scales in
the file's `test.*` keys) and the Rust test regenerates them bit-exactly.

Weights stored as F16 / Q8_0 (three cases; `_q8_f32router` keeps the router in F32 as llama.cpp's
quantiser does) are dequantised with the gguf package for the reference, so those cases compare
the same real numbers the kernel sees. Routing margins: inputs are redrawn
until every sub-token's k-th and (k+1)-th probabilities differ by > 1e-4 (relative), so f32 vs
float64 rounding cannot flip an expert choice.

Q8_0 cases: like ggml (and picoformer), every matmul with a Q8_0 matrix multiplies the Q8_0
quantisation of its input, so the reference quantises each such input first (`quant_act`: the
row rounded to f32, `gguf.quants.quantize(x, Q8_0)` = ggml's quantize_row_q8_0_ref, then
dequantised): the head input, each sub-token (for a Q8_0 router, gate, up), each expert's hidden
vector (down) and the merge input; an F32 / F16 matrix multiplies the unquantised input. Quantisation margins: inputs are also redrawn until every quantised
value x*id is > QMARGIN from a rounding boundary (a half-integer) and every block scale amax/127
is > DMARGIN (relative) from an f16 rounding boundary, so the kernel's f32 activations (vs these
float64 ones rounded to f32) quantise to the same bytes. F32 / F16 cases are unaffected (their
inputs are not quantised and the same inputs are drawn).
"""

import math
import os

import numpy as np
import torch
import gguf
from gguf import GGMLQuantizationType as QT

HERE = os.path.dirname(os.path.abspath(__file__))
ARCH = "openelm"
LAYER = 1
MASK64 = (1 << 64) - 1


# ----------------------------------------------------------------------------------------------
# Reference (spec §2, §2.1): X -> head Linear -> split -> shared router softmax -> top-k ->
# experts -> weighted sum (raw p or renormalised) [capacity: tutel slots] -> merge -> merge Linear
# ----------------------------------------------------------------------------------------------
def topk_lower_index(p, k):
    """Top-k along the last axis, score descending, ties -> lower index (crate rule, spec §4)."""
    # A stable sort of -p keeps equal scores in ascending index order.
    order = torch.sort(-p, dim=-1, stable=True).indices
    idx = order[..., :k]
    return idx, torch.gather(p, -1, idx)


def expert_fn(w, e, x, cfg):
    q = lambda v, n: quant_act(v, cfg, n)  # noqa: E731
    if cfg["glu"]:  # official FeedForwardNetwork with silu: fc2(fc1(x) * silu(fc3(x))), fc3 = gate
        g = q(x, "gate") @ w["gate"][e].T
        u = q(x, "up") @ w["up"][e].T
        return q(u * torch.nn.functional.silu(g), "down") @ w["down"][e].T
    u = q(x, "up") @ w["up"][e].T  # 2-matrix SiLU FFN
    return q(torch.nn.functional.silu(u), "down") @ w["down"][e].T


QMARGIN = 1e-3  # in quantisation steps (x*id units)
DMARGIN = 1e-5  # relative to the scale d = amax/127
# Smallest margins seen by quant_act since the last reset (see run_case).
MARGINS = {"q": math.inf, "d": math.inf}


def quant_act(x, cfg, weight):
    """ggml's treatment of the input x of a matmul with `weight` when that weight is Q8_0: each
    row rounded to f32, quantised to Q8_0 blocks by gguf.quants (= ggml's
    quantize_row_q8_0_ref) and dequantised. Identity for F32 / F16 weights. Quantisation is
    deterministic, so quantising per reader equals quantising once and sharing the bytes, as the
    kernel does. Records the rounding margins in MARGINS."""
    if cfg["wqt"][weight] != QT.Q8_0:
        return x
    a = np.ascontiguousarray(x.numpy(), dtype=np.float32).reshape(-1, x.shape[-1])
    deq = gguf.quants.dequantize(gguf.quants.quantize(a, QT.Q8_0), QT.Q8_0)
    # margins, recomputed the way Q8_0.quantize_blocks does it (all f32)
    blocks = a.reshape(-1, 32)
    d = np.abs(blocks).max(axis=1, keepdims=True) / np.float32(127)
    with np.errstate(divide="ignore"):
        idv = np.where(d == 0, np.float32(0), np.float32(1) / d).astype(np.float32)
    v = np.abs(blocks * idv).astype(np.float64)
    MARGINS["q"] = min(MARGINS["q"], float(np.abs(v - np.floor(v) - 0.5).min()))
    d = d[d > 0].astype(np.float64)
    dh = d.astype(np.float16)
    ulp = np.spacing(dh).astype(np.float64)
    if d.size:
        MARGINS["d"] = min(MARGINS["d"], float(((ulp / 2 - np.abs(d - dh)) / d).min()))
    return to_t(deq.astype(np.float64).reshape(x.shape))


def project(x, w, which, cfg):
    """Head / merge Linear d -> d with optional bias; identity when the layer has none."""
    if w.get(which + "_w") is None:
        return x
    y = quant_act(x, cfg, which + "_w") @ w[which + "_w"].T
    if w.get(which + "_b") is not None:
        y = y + w[which + "_b"]
    return y


def mhmoe(x, w, cfg, capacity):
    """x: [S, d] float64. Returns (y [S, d], idx [S*h, k], gates [S*h, k], kept [S*h, k])."""
    s, d = x.shape
    h, n_exp, k = cfg["h"], cfg["E"], cfg["k"]
    xh = project(x, w, "head", cfg)
    sub = xh.reshape(s * h, d // h)  # contiguous split, row = token*h + head (spec §9)
    p = torch.softmax(quant_act(sub, cfg, "router") @ w["router"].T, dim=-1)
    idx, gates = topk_lower_index(p, k)
    if cfg["renorm"]:
        gates = gates / gates.sum(-1, keepdim=True)
    kept = torch.ones_like(gates)
    if capacity:
        # tutel fast_dispatch: rank-r location = cumsum over rows of one-hot(rank r) - 1
        # + number of earlier-rank assignments to the same expert.
        cap = k * math.ceil(s * h / n_exp)
        base = torch.zeros(n_exp, dtype=torch.int64)
        for r in range(k):
            mask = torch.nn.functional.one_hot(idx[:, r], n_exp)
            loc = torch.cumsum(mask, dim=0) - 1 + base
            slot = (loc * mask).sum(-1)
            kept[:, r] = (slot < cap).to(kept.dtype)
            base = base + mask.sum(0)
    y = torch.zeros_like(sub)
    for row in range(s * h):
        for r in range(k):
            if kept[row, r] > 0:
                e = int(idx[row, r])
                y[row] += gates[row, r] * expert_fn(w, e, sub[row], cfg)
    out = project(y.reshape(s, d), w, "merge", cfg)
    return out, idx, gates, kept


def routing_margin(x, w, cfg):
    s, d = x.shape
    h, k = cfg["h"], cfg["k"]
    xh = project(x, w, "head", cfg)
    p = torch.softmax(quant_act(xh.reshape(s * h, d // h), cfg, "router") @ w["router"].T, dim=-1)
    srt = torch.sort(p, dim=-1, descending=True).values
    if k >= p.shape[-1]:
        return 1.0
    return float(((srt[:, k - 1] - srt[:, k]) / srt[:, k - 1]).min())


# ----------------------------------------------------------------------------------------------
# Weights
# ----------------------------------------------------------------------------------------------
def store(arr, qtype):
    """Round-trip an f32 array through the storage type; returns (stored_np, dequantised_f64)."""
    a = np.ascontiguousarray(arr, dtype=np.float32)
    if qtype == QT.F32:
        return a, a.astype(np.float64)
    if qtype == QT.F16:
        f = a.astype(np.float16)
        return f, f.astype(np.float64)
    q = gguf.quants.quantize(a, qtype)
    return q, gguf.quants.dequantize(q, qtype).astype(np.float64).reshape(a.shape)


def random_weights(cfg, rng):
    d, h, n_exp, inner = cfg["d"], cfg["h"], cfg["E"], cfg["I"]
    dh = d // h

    def u(shape, fan_in, gain=1.0):
        a = gain * math.sqrt(3.0 / fan_in)
        return rng.uniform(-a, a, size=shape).astype(np.float32)

    raw = {
        "router": u((n_exp, dh), dh, gain=2.0),  # logits of O(1) so top-k gaps are clear
        "up": u((n_exp, inner, dh), dh),
        "down": u((n_exp, dh, inner), inner),
    }
    if cfg["glu"]:
        raw["gate"] = u((n_exp, inner, dh), dh)
    if cfg["bias"] is not None:  # None: no head/merge layers at all (token-level MoE)
        raw["head_w"] = u((d, d), d)
        raw["merge_w"] = u((d, d), d)
    if cfg["bias"]:
        raw["head_b"] = u((d,), d)
        raw["merge_b"] = u((d,), d)
    return raw


def splitmix64_stream(seed, n):
    i = np.arange(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = (np.uint64(seed) + i) & np.uint64(MASK64)
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return z


def hashed(seed, shape, scale):
    """Exact-in-f32 uniform values in [-scale, scale): ((u >> 40) - 2^23) / 2^23 * scale."""
    n = int(np.prod(shape))
    top = (splitmix64_stream(seed, n) >> np.uint64(40)).astype(np.int64) - (1 << 23)
    v = top.astype(np.float64) / float(1 << 23) * scale
    out = v.astype(np.float32)
    assert np.array_equal(out.astype(np.float64), v)
    return out.reshape(shape)


# Seeds / scales for the hashed case (mirrored by tests/moe_golden.rs through the file's keys).
HASH_SPEC = {
    "head_w": (0x1000_0000, 2.0 ** -5),
    "head_b": (0x2000_0000, 2.0 ** -4),
    "router": (0x3000_0000, 2.0 ** -2),
    "gate": (0x4000_0000, 2.0 ** -4),
    "up": (0x5000_0000, 2.0 ** -4),
    "down": (0x6000_0000, 2.0 ** -5),
    "merge_w": (0x7000_0000, 2.0 ** -5),
    "merge_b": (0x8000_0000, 2.0 ** -4),
}


def hashed_weights(cfg):
    d, h, n_exp, inner = cfg["d"], cfg["h"], cfg["E"], cfg["I"]
    dh = d // h
    shapes = {
        "head_w": (d, d), "head_b": (d,), "router": (n_exp, dh), "gate": (n_exp, inner, dh),
        "up": (n_exp, inner, dh), "down": (n_exp, dh, inner), "merge_w": (d, d), "merge_b": (d,),
    }
    return {n: hashed(seed, shapes[n], sc) for n, (seed, sc) in HASH_SPEC.items()}


# ----------------------------------------------------------------------------------------------
# Cases
# ----------------------------------------------------------------------------------------------
# name, d, h, E, k, I, glu, bias (None = no head/merge layers), renorm, S tokens, storage type
CASES = [
    ("d64_h1_e4_k1_glu", 64, 1, 4, 1, 32, True, True, False, 4, QT.F32),
    ("d64_h1_e8_k2_glu_noproj", 64, 1, 8, 2, 32, True, None, False, 3, QT.F32),
    ("d64_h2_e8_k2_ffn", 64, 2, 8, 2, 48, False, True, False, 4, QT.F32),
    ("d96_h4_e8_k2_glu_renorm", 96, 4, 8, 2, 40, True, False, True, 3, QT.F32),
    ("d128_h4_e40_k3_glu", 128, 4, 40, 3, 16, True, True, False, 4, QT.F32),
    ("d64_h4_e4_k3_ffn_nobias", 64, 4, 4, 3, 16, False, False, False, 5, QT.F32),
    ("d64_h2_e40_k1_ffn_renorm", 64, 2, 40, 1, 16, False, True, True, 3, QT.F32),
    ("d64_h2_e8_k2_glu_f16", 64, 2, 8, 2, 32, True, True, False, 3, QT.F16),
    ("d64_h2_e4_k2_glu_q8", 64, 2, 4, 2, 64, True, True, False, 3, QT.Q8_0),
]
# Per-weight storage overrides: llama.cpp's quantiser keeps ffn_gate_inp (the router) in F32.
QT_OVERRIDE = {"d64_h2_e8_k2_glu_q8_f32router": {"router": QT.F32}}
HASHED_CASE = ("d768_h4_e8_k2_glu_hashed", 768, 4, 8, 2, 256, True, True, False, 2, QT.F32)
# Added later, run after the hashed case so the earlier cases keep their seeds (1234 + index).
LATER_CASES = [
    ("d64_h2_e8_k2_glu_q8_f32router", 64, 2, 8, 2, 64, True, True, False, 4, QT.Q8_0),
]


def cfg_of(case):
    name, d, h, n_exp, k, inner, glu, bias, renorm, s, qt = case
    return dict(name=name, d=d, h=h, E=n_exp, k=k, I=inner, glu=glu, bias=bias, renorm=renorm,
                S=s, qt=qt)


def to_t(a):
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


def run_case(case, seed):
    cfg = cfg_of(case)
    rng = np.random.default_rng(seed)
    hashed_case = case is HASHED_CASE
    raw = hashed_weights(cfg) if hashed_case else random_weights(cfg, rng)
    override = QT_OVERRIDE.get(cfg["name"], {})
    cfg["wqt"] = {
        n: QT.F32 if (n.endswith("_b") or hashed_case) else override.get(n, cfg["qt"])
        for n in ("head_w", "head_b", "router", "gate", "up", "down", "merge_w", "merge_b")
    }
    stored, ref = {}, {}
    for n, a in raw.items():
        stored[n], deq = store(a, cfg["wqt"][n])
        ref[n] = to_t(deq)
    # Draw inputs until routing (and, for Q8_0, every activation quantisation) has a clear margin.
    for attempt in range(200):
        x = rng.standard_normal((cfg["S"], cfg["d"])).astype(np.float32)
        xt = to_t(x)
        if routing_margin(xt, ref, cfg) <= 1e-4:
            continue
        MARGINS.update(q=math.inf, d=math.inf)
        y_dl, idx, gates, _ = mhmoe(xt, ref, cfg, capacity=False)
        y_cap, idx2, _, kept = mhmoe(xt, ref, cfg, capacity=True)
        y_cap1 = torch.cat(
            [mhmoe(xt[i:i + 1], ref, cfg, capacity=True)[0] for i in range(cfg["S"])])
        if MARGINS["q"] > QMARGIN and MARGINS["d"] > DMARGIN:
            break
    else:
        raise SystemExit(f"{cfg['name']}: no input with clear routing / quantisation margins")
    assert torch.equal(idx, idx2)
    if cfg["qt"] == QT.Q8_0:
        print(f"{cfg['name']}: input attempt {attempt}, quantisation margins "
              f"{MARGINS['q']:.2e} steps, {MARGINS['d']:.2e} of a scale")

    path = os.path.join(HERE, cfg["name"] + ".gguf")
    wr = gguf.GGUFWriter(path, ARCH)
    wr.add_uint32(f"{ARCH}.block_count", 2)
    wr.add_uint32(f"{ARCH}.embedding_length", cfg["d"])
    wr.add_uint32(f"{ARCH}.mhmoe.every", 2)
    wr.add_uint32(f"{ARCH}.mhmoe.head_count", cfg["h"])
    wr.add_uint32(f"{ARCH}.mhmoe.expert_count", cfg["E"])
    wr.add_uint32(f"{ARCH}.mhmoe.expert_used_count", cfg["k"])
    wr.add_uint32(f"{ARCH}.mhmoe.expert_feed_forward_length", cfg["I"])
    wr.add_bool(f"{ARCH}.mhmoe.glu", cfg["glu"])
    wr.add_bool(f"{ARCH}.mhmoe.renorm_topk", cfg["renorm"])
    wr.add_uint32("test.tokens", cfg["S"])
    wr.add_bool("test.hashed", hashed_case)
    if hashed_case:
        for n, (sd, sc) in HASH_SPEC.items():
            wr.add_uint64(f"test.seed.{n}", sd)
            wr.add_float32(f"test.scale.{n}", sc)
    else:
        names = {
            "head_w": "mhmoe_head.weight", "head_b": "mhmoe_head.bias",
            "router": "ffn_gate_inp.weight", "gate": "ffn_gate_exps.weight",
            "up": "ffn_up_exps.weight", "down": "ffn_down_exps.weight",
            "merge_w": "mhmoe_merge.weight", "merge_b": "mhmoe_merge.bias",
        }
        for n, a in stored.items():
            qt = cfg["wqt"][n]
            tname = f"blk.{LAYER}.{names[n]}"
            if qt == QT.Q8_0:
                wr.add_tensor(tname, a, raw_dtype=QT.Q8_0)
            else:
                wr.add_tensor(tname, a)
    f32 = lambda t: np.ascontiguousarray(t.numpy().astype(np.float32))  # noqa: E731
    wr.add_tensor("test.x", x)
    wr.add_tensor("test.y_dropless", f32(y_dl))
    wr.add_tensor("test.y_capacity", f32(y_cap))
    wr.add_tensor("test.y_capacity1", f32(y_cap1))
    wr.add_tensor("test.choice", f32(idx.to(torch.float64)))
    wr.add_tensor("test.gate", f32(gates))
    wr.add_tensor("test.kept", f32(kept))
    wr.write_header_to_file()
    wr.write_kv_data_to_file()
    wr.write_tensors_to_file()
    wr.close()
    drops = int((kept == 0).sum())
    print(f"{cfg['name']:30s} {os.path.getsize(path):8d} B  dropped(batch)={drops}"
          f"  |y|max={float(y_dl.abs().max()):.3f}")


def main():
    torch.set_default_dtype(torch.float64)
    for i, case in enumerate(CASES + [HASHED_CASE] + LATER_CASES):
        run_case(case, seed=1234 + i)


if __name__ == "__main__":
    main()
