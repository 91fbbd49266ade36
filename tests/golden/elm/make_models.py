#!/usr/bin/env python3
"""Small random-weight GGUF models and their reference logits for tests/elm_llamacpp.rs.

Pinned packages: numpy 2.1.3, gguf 0.17.1, llama-cpp-python 0.3.16 (llama.cpp bundled with it).
Run from the repo root:  python3 tests/golden/elm/make_models.py

Models (each .gguf < 300 KB):
  openelm_f32.gguf   arch `openelm`, 5 ragged layers (q heads 2,2,4,4,6; kv heads 1,2,1,2,3;
                     FFN 32,64,64,96,64), d 32, hd 16, V 300, tied embeddings, F32
  openelm_q8_0.gguf  the same weights with every matrix in Q8_0 (norms F32)
  openelm_f16.gguf   the same weights with every matrix in F16 (norms F32)
  llama_f32.gguf     arch `llama`, 4 uniform layers (q 4, kv 2, hd 8, FFN 64), d 32, V 300,
                     separate output matrix, interleaved RoPE, F32
  openelm_moe_f32.gguf  the OpenELM shape with MH-MoE FFNs on layers 1 and 3
                     (`openelm.mhmoe.every` = 2; h 2 sub-tokens, E 4 experts, top-2, SwiGLU
                     experts of width 32, head/merge with biases; picoformer keys of
                     docs/GGUF.md). llama.cpp cannot run it: NumPy oracle only, and the
                     "greedy" continuation is NumPy's.

Two independent oracles per model, both written to the .json beside the model:
  * llama.cpp (llama-cpp-python, logits_all=True, n_threads=1, F32 KV cache): logits of every
    position of PROMPT followed by its own 64-token greedy continuation -> <name>.llamacpp.bin
  * a float64 NumPy forward pass written from spec openelm.md §5 (and the llama conventions),
    using the weights as stored in the file (Q8_0 dequantised by gguf.quants) -> <name>.numpy.bin;
    for the Q8_0 model every matmul input is also quantised to Q8_0 first (quant_act), as
    llama.cpp and picoformer do
The .bin files are little-endian f32, shape [positions, V] row-major.
Relative error everywhere: max|a - b| / max|b| over the whole [positions, V] array.
"""

import json
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as QT
from gguf.quants import quantize, dequantize

OUT = os.path.dirname(os.path.abspath(__file__))
V = 300
PROMPT = [1, 17, 200, 45, 3, 299, 120, 64, 65, 250, 9, 33, 78, 180, 2, 111]
N_GEN = 64


# ---------------------------------------------------------------- vocabulary (SentencePiece)
def vocab():
    toks = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    extra = ["\u2581" + c for c in "abcdefghijklmnopqrstuvwxyz"]
    extra += ["th", "he", "in", "er", "an", "re", "on", "at", "en", "nd", "ti", "es", "or", "te", "of"]
    toks += extra
    assert len(toks) == V
    types = [2, 3, 3] + [6] * 256 + [1] * len(extra)
    scores = [0.0, 0.0, 0.0] + [0.0] * 256 + [-float(i) for i in range(len(extra))]
    return toks, scores, types


# ---------------------------------------------------------------- random weights
MOE = dict(every=2, heads=2, experts=4, k=2, inner=32)


def is_moe(moe, i):
    return moe is not None and (i + 1) % moe["every"] == 0


def make_weights(rng, arch, d, hd, q, kv, ffn, untied, moe=None):
    L = len(q)
    w = {}
    w["token_embd.weight"] = rng.normal(0, 1.0, (V, d))
    w["output_norm.weight"] = 1.0 + 0.1 * rng.normal(size=d)
    if untied:
        w["output.weight"] = rng.normal(0, d ** -0.5, (V, d))
    for i in range(L):
        p = f"blk.{i}."
        w[p + "attn_norm.weight"] = 1.0 + 0.1 * rng.normal(size=d)
        w[p + "ffn_norm.weight"] = 1.0 + 0.1 * rng.normal(size=d)
        if arch == "openelm":
            w[p + "attn_qkv.weight"] = rng.normal(0, d ** -0.5, ((q[i] + 2 * kv[i]) * hd, d))
            w[p + "attn_q_norm.weight"] = 1.0 + 0.1 * rng.normal(size=hd)
            w[p + "attn_k_norm.weight"] = 1.0 + 0.1 * rng.normal(size=hd)
        else:
            w[p + "attn_q.weight"] = rng.normal(0, d ** -0.5, (q[i] * hd, d))
            w[p + "attn_k.weight"] = rng.normal(0, d ** -0.5, (kv[i] * hd, d))
            w[p + "attn_v.weight"] = rng.normal(0, d ** -0.5, (kv[i] * hd, d))
        w[p + "attn_output.weight"] = rng.normal(0, (q[i] * hd) ** -0.5, (d, q[i] * hd))
        if is_moe(moe, i):
            sub, E, I = d // moe["heads"], moe["experts"], moe["inner"]
            w[p + "mhmoe_head.weight"] = rng.normal(0, d ** -0.5, (d, d))
            w[p + "mhmoe_head.bias"] = 0.1 * rng.normal(size=d)
            w[p + "ffn_gate_inp.weight"] = rng.normal(0, 1.0, (E, sub))
            w[p + "ffn_gate_exps.weight"] = rng.normal(0, sub ** -0.5, (E, I, sub))
            w[p + "ffn_up_exps.weight"] = rng.normal(0, sub ** -0.5, (E, I, sub))
            w[p + "ffn_down_exps.weight"] = rng.normal(0, I ** -0.5, (E, sub, I))
            w[p + "mhmoe_merge.weight"] = rng.normal(0, d ** -0.5, (d, d))
            w[p + "mhmoe_merge.bias"] = 0.1 * rng.normal(size=d)
            continue
        w[p + "ffn_gate.weight"] = rng.normal(0, d ** -0.5, (ffn[i], d))
        w[p + "ffn_up.weight"] = rng.normal(0, d ** -0.5, (ffn[i], d))
        w[p + "ffn_down.weight"] = rng.normal(0, ffn[i] ** -0.5, (d, ffn[i]))
    return {k: v.astype(np.float32) for k, v in w.items()}


def write_gguf(path, arch, d, hd, q, kv, ffn, eps, weights, qtype, moe=None):
    wr = gguf.GGUFWriter(path, arch)
    L = len(q)
    wr.add_block_count(L)
    wr.add_context_length(256)
    wr.add_embedding_length(d)
    if moe is not None:
        ffn = [0 if is_moe(moe, i) else f for i, f in enumerate(ffn)]
        wr.add_uint32(f"{arch}.mhmoe.every", moe["every"])
        wr.add_uint32(f"{arch}.mhmoe.head_count", moe["heads"])
        wr.add_uint32(f"{arch}.mhmoe.expert_count", moe["experts"])
        wr.add_uint32(f"{arch}.mhmoe.expert_used_count", moe["k"])
        wr.add_uint32(f"{arch}.mhmoe.expert_feed_forward_length", moe["inner"])
        wr.add_bool(f"{arch}.mhmoe.glu", True)
    if arch == "openelm":
        wr.add_feed_forward_length(ffn)  # per-layer arrays, as llama.cpp's OpenELM converter
        wr.add_head_count(q)
        wr.add_head_count_kv(kv)
        wr.add_key_length(hd)
        wr.add_value_length(hd)
    else:
        wr.add_feed_forward_length(ffn[0])
        wr.add_head_count(q[0])
        wr.add_head_count_kv(kv[0])
    wr.add_rope_dimension_count(hd)
    wr.add_rope_freq_base(10000.0)
    wr.add_layer_norm_rms_eps(eps)
    wr.add_file_type({QT.F32: 0, QT.F16: 1, QT.Q8_0: 7}[qtype])
    toks, scores, types = vocab()
    wr.add_tokenizer_model("llama")
    wr.add_token_list(toks)
    wr.add_token_scores(scores)
    wr.add_token_types(types)
    wr.add_bos_token_id(1)
    wr.add_eos_token_id(2)
    wr.add_unk_token_id(0)
    stored = {}
    for name, t in weights.items():
        if t.ndim >= 2 and qtype == QT.F16:
            h = t.astype(np.float16)
            wr.add_tensor(name, h)
            stored[name] = h.astype(np.float64)
        elif t.ndim >= 2 and qtype == QT.Q8_0:
            qd = quantize(t, QT.Q8_0)
            wr.add_tensor(name, qd, raw_shape=qd.shape, raw_dtype=QT.Q8_0)
            stored[name] = dequantize(qd, QT.Q8_0).astype(np.float64)
        else:
            wr.add_tensor(name, t)
            stored[name] = t.astype(np.float64)
    wr.write_header_to_file()
    wr.write_kv_data_to_file()
    wr.write_tensors_to_file()
    wr.close()
    return stored


# ---------------------------------------------------------------- NumPy oracle (float64)
def rmsnorm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rope(x, pos, theta, style):
    """x: [heads, hd] at absolute position pos."""
    hd = x.shape[-1]
    inv = theta ** (-np.arange(0, hd // 2) * 2.0 / hd)
    c, s = np.cos(pos * inv), np.sin(pos * inv)
    out = x.copy()
    if style == "half":  # rotate-half (NEOX), OpenELM spec §5 step 3
        a, b = x[:, : hd // 2], x[:, hd // 2 :]
        out[:, : hd // 2] = a * c - b * s
        out[:, hd // 2 :] = b * c + a * s
    else:  # interleaved pairs (2j, 2j+1), llama.cpp NORM / llama2.c
        a, b = x[:, 0::2], x[:, 1::2]
        out[:, 0::2] = a * c - b * s
        out[:, 1::2] = b * c + a * s
    return out


def mhmoe(w, p, h, moe, q8=lambda name: False):
    """MH-MoE FFN (spec mhmoe.md / docs/GGUF.md): head Linear, split into `heads` sub-tokens,
    shared router softmax, top-k (raw probabilities, no renormalisation), SwiGLU experts,
    merge back in order, merge Linear. h: [T, d]. q8(name): that matrix is Q8_0, so its input
    is quantised first (quant_act)."""
    qa = lambda x, name: quant_act(x) if q8(name) else x
    T, d = h.shape
    H, k = moe["heads"], moe["k"]
    sub = d // H
    xh = qa(h, p + "mhmoe_head.weight") @ w[p + "mhmoe_head.weight"].T + w[p + "mhmoe_head.bias"]
    y = np.zeros_like(xh)
    for t in range(T):
        for j in range(H):
            xs = xh[t, j * sub : (j + 1) * sub]
            logit = w[p + "ffn_gate_inp.weight"] @ qa(xs, p + "ffn_gate_inp.weight")
            prob = np.exp(logit - logit.max())
            prob /= prob.sum()
            top = sorted(range(len(prob)), key=lambda e: (-prob[e], e))[:k]
            for e in top:
                g = w[p + "ffn_gate_exps.weight"][e] @ qa(xs, p + "ffn_gate_exps.weight")
                u = w[p + "ffn_up_exps.weight"][e] @ qa(xs, p + "ffn_up_exps.weight")
                y[t, j * sub : (j + 1) * sub] += prob[e] * (w[p + "ffn_down_exps.weight"][e] @ qa(g / (1 + np.exp(-g)) * u, p + "ffn_down_exps.weight"))
    return qa(y, p + "mhmoe_merge.weight") @ w[p + "mhmoe_merge.weight"].T + w[p + "mhmoe_merge.bias"]


def quant_act(h):
    """ggml's treatment of a matmul input for Q8_0 weights: each row rounded to f32, quantised
    to Q8_0 blocks by gguf.quants (= ggml's quantize_row_q8_0_ref) and dequantised."""
    h32 = np.ascontiguousarray(h, dtype=np.float32).reshape(-1, h.shape[-1])
    return dequantize(quantize(h32, QT.Q8_0), QT.Q8_0).astype(np.float64).reshape(h.shape)


def numpy_forward(w, arch, d, hd, q, kv, ffn, eps, tokens, theta=10000.0, moe=None, qact=False):
    """qact: the model's matrices are Q8_0, so every matmul input is quantised first
    (llama.cpp and picoformer multiply Q8_0 weights by Q8_0-quantised activations); True for
    every matrix, or the set of the Q8_0 tensor names."""
    qa = quant_act if qact is True else (lambda h: h)
    L = len(q)
    style = "half" if arch == "openelm" else "interleaved"
    T = len(tokens)
    x = w["token_embd.weight"][tokens]  # [T, d]
    for i in range(L):
        p = f"blk.{i}."
        h = rmsnorm(x, w[p + "attn_norm.weight"], eps)
        if arch == "openelm":
            qkv = qa(h) @ w[p + "attn_qkv.weight"].T
            Q = qkv[:, : q[i] * hd].reshape(T, q[i], hd)
            K = qkv[:, q[i] * hd : (q[i] + kv[i]) * hd].reshape(T, kv[i], hd)
            Vv = qkv[:, (q[i] + kv[i]) * hd :].reshape(T, kv[i], hd)
            Q = rmsnorm(Q, w[p + "attn_q_norm.weight"], eps)
            K = rmsnorm(K, w[p + "attn_k_norm.weight"], eps)
        else:
            Q = (qa(h) @ w[p + "attn_q.weight"].T).reshape(T, q[i], hd)
            K = (qa(h) @ w[p + "attn_k.weight"].T).reshape(T, kv[i], hd)
            Vv = (qa(h) @ w[p + "attn_v.weight"].T).reshape(T, kv[i], hd)
        Q = np.stack([rope(Q[t], t, theta, style) for t in range(T)])
        K = np.stack([rope(K[t], t, theta, style) for t in range(T)])
        g = q[i] // kv[i]
        att = np.zeros((T, q[i], hd))
        for head in range(q[i]):
            kh = head // g  # GQA: query head h reads KV head h / g
            s = Q[:, head, :] @ K[:, kh, :].T / np.sqrt(hd)  # [T, T]
            s = s + np.triu(np.full((T, T), -np.inf), 1)
            s = np.exp(s - s.max(axis=1, keepdims=True))
            s /= s.sum(axis=1, keepdims=True)
            att[:, head, :] = s @ Vv[:, kh, :]
        x = x + qa(att.reshape(T, q[i] * hd)) @ w[p + "attn_output.weight"].T
        h = rmsnorm(x, w[p + "ffn_norm.weight"], eps)
        if is_moe(moe, i):
            x = x + mhmoe(w, p, h, moe, q8=lambda name: qact is True or (qact and name in qact))
            continue
        gate = qa(h) @ w[p + "ffn_gate.weight"].T
        up = qa(h) @ w[p + "ffn_up.weight"].T
        x = x + qa(gate / (1 + np.exp(-gate)) * up) @ w[p + "ffn_down.weight"].T
    x = rmsnorm(x, w["output_norm.weight"], eps)
    out = w.get("output.weight", w["token_embd.weight"])
    return qa(x) @ out.T


# ---------------------------------------------------------------- llama.cpp oracle
def llamacpp_logits(path, n_ctx=128):
    from llama_cpp import Llama

    llm = Llama(
        model_path=path,
        n_ctx=n_ctx,
        n_batch=n_ctx,
        n_ubatch=n_ctx,
        n_threads=1,
        n_threads_batch=1,
        logits_all=True,
        type_k=0,  # GGML_TYPE_F32 KV cache (default F16 would round K/V)
        type_v=0,
        flash_attn=False,
        verbose=False,
    )
    toks = list(PROMPT)
    llm.eval(toks)
    rows = [np.array(llm.scores[i], dtype=np.float64) for i in range(len(toks))]
    gen = []
    for _ in range(N_GEN):
        nxt = int(np.argmax(rows[-1]))
        gen.append(nxt)
        llm.eval([nxt])
        rows.append(np.array(llm.scores[llm.n_tokens - 1], dtype=np.float64))
    return np.stack(rows), gen


def rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def main():
    models = [
        ("openelm_f32", "openelm", 32, 16, [2, 2, 4, 4, 6], [1, 2, 1, 2, 3], [32, 64, 64, 96, 64], 1e-6, False, QT.F32, 11),
        ("openelm_q8_0", "openelm", 32, 16, [2, 2, 4, 4, 6], [1, 2, 1, 2, 3], [32, 64, 64, 96, 64], 1e-6, False, QT.Q8_0, 11),
        ("openelm_f16", "openelm", 32, 16, [2, 2, 4, 4, 6], [1, 2, 1, 2, 3], [32, 64, 64, 96, 64], 1e-6, False, QT.F16, 11),
        ("llama_f32", "llama", 32, 8, [4] * 4, [2] * 4, [64] * 4, 1e-5, True, QT.F32, 12),
        ("openelm_moe_f32", "openelm", 32, 16, [2, 2, 4, 4, 6], [1, 2, 1, 2, 3], [32, 64, 64, 96, 64], 1e-6, False, QT.F32, 13),
    ]
    summary = {}
    for name, arch, d, hd, q, kv, ffn, eps, untied, qtype, seed in models:
        rng = np.random.default_rng(seed)
        moe = MOE if "moe" in name else None
        w32 = make_weights(rng, arch, d, hd, q, kv, ffn, untied, moe)
        path = os.path.join(OUT, name + ".gguf")
        stored = write_gguf(path, arch, d, hd, q, kv, ffn, eps, w32, qtype, moe)
        size = os.path.getsize(path)
        assert size < 300_000, (name, size)
        if moe is None:
            cpp, gen = llamacpp_logits(path)
        else:  # NumPy greedy decoding (one full recompute per step)
            gen = []
            for _ in range(N_GEN):
                r = numpy_forward(stored, arch, d, hd, q, kv, ffn, eps, PROMPT + gen, moe=moe, qact=qtype == QT.Q8_0)
                gen.append(int(np.argmax(r[-1])))
            cpp = None
        seq = PROMPT + gen
        ref = numpy_forward(stored, arch, d, hd, q, kv, ffn, eps, seq, moe=moe, qact=qtype == QT.Q8_0)
        np_gen = [int(np.argmax(ref[len(PROMPT) - 1 + k])) for k in range(N_GEN)]
        # smallest top-1 margin along the greedy path: how robust the greedy check is
        top2 = np.sort(ref[len(PROMPT) - 1 :], axis=1)[:, -2:]
        margin = float((top2[:, 1] - top2[:, 0]).min() / np.abs(ref).max())
        if cpp is not None:
            cpp.astype("<f4").tofile(os.path.join(OUT, name + ".llamacpp.bin"))
        ref.astype("<f4").tofile(os.path.join(OUT, name + ".numpy.bin"))
        meta = {
            "model": name + ".gguf",
            "arch": arch,
            "vocab": V,
            "prompt": PROMPT,
            "greedy": gen,
            "positions": len(seq),
            "numpy_greedy_equal": np_gen == gen,
            "rel_err_numpy_vs_llamacpp": rel(cpp, ref) if cpp is not None else None,
            "min_top1_margin_rel": margin,
            "bytes": size,
        }
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(meta, f, indent=1)
        summary[name] = {k: meta[k] for k in ("rel_err_numpy_vs_llamacpp", "numpy_greedy_equal", "min_top1_margin_rel", "bytes")}
    json.dump(summary, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
