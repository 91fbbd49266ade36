#!/usr/bin/env python3
"""One-off semantic check of `pico convert` (not run in CI; result recorded below).

The byte-exact tests (`tools/tests/convert.rs`) prove the converter writes what
`make_fixtures.py` expects; this script checks that expectation is *right*: llama.cpp, loading
the converted GGUF, must compute the same logits as a NumPy forward pass written straight from
the source formats' own definitions:

- llama2c: llama2.c `run.c` `forward()` on `model.bin` (RMSNorm eps 1e-5, RoPE on interleaved
  pairs, GQA `h // (H / KV)`, SwiGLU `w2(silu(w1 x) * w3 x)`, untied `wcls`). A wrong Q/K
  permutation or gate/up swap would show here.
- openelm: spec `openelm.md` §5 on `model.safetensors` (QK-norm before rotate-half RoPE,
  GQA `h // g`, gate = first half of `proj_1`, tied embeddings).

Pinned: numpy==2.1.3, safetensors==0.4.5, llama-cpp-python==0.3.16.
Usage (repository root, after `cargo build -p picoformer-tools`):
    python3 tests/golden/convert/check_llama_cpp.py target/debug/pico

Recorded result (2026-11-27, llama.cpp with an F32 KV cache; its default F16 cache alone
gives ~3e-2 here):
    llama2c f32: max |logit diff| 4.1e-05 (max |logit| 15.5)
    openelm f32: max |logit diff| 1.2e-05 (max |logit| 20.0)
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
from safetensors.numpy import load_file
import llama_cpp

HERE = os.path.dirname(os.path.abspath(__file__))
PICO = sys.argv[1] if len(sys.argv) > 1 else "target/debug/pico"
TOKENS = [1, 5, 9, 17, 3, 30, 2, 11, 40, 7]


def rms(x, w, eps):
    return x / np.sqrt(np.mean(x * x) + eps) * w


def silu(x):
    return x / (1 + np.exp(-x))


def softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def llama2c_forward(path, tokens):
    b = open(path, "rb").read()
    dim, hidden, L, H, KV, V, seq = struct.unpack("7i", b[:28])
    shared = V > 0
    V = abs(V)
    hd = dim // H
    f = np.frombuffer(b[28:], dtype=np.float32).astype(np.float64)
    at = 0

    def take(*shape):
        nonlocal at
        n = int(np.prod(shape))
        a = f[at:at + n].reshape(shape)
        at += n
        return a

    emb = take(V, dim); rms_att = take(L, dim); wq = take(L, H * hd, dim)
    wk = take(L, KV * hd, dim); wv = take(L, KV * hd, dim); wo = take(L, dim, H * hd)
    rms_ffn = take(L, dim); w1 = take(L, hidden, dim); w2 = take(L, dim, hidden)
    w3 = take(L, hidden, dim); rms_final = take(dim); take(seq * hd)
    wcls = emb if shared else take(V, dim)
    kc = np.zeros((L, len(tokens), KV * hd)); vc = np.zeros_like(kc)
    out = []
    for pos, tok in enumerate(tokens):
        x = emb[tok].copy()
        for l in range(L):
            xb = rms(x, rms_att[l], 1e-5)
            q, k, v = wq[l] @ xb, wk[l] @ xb, wv[l] @ xb
            for i in range(0, dim, 2):  # run.c RoPE: interleaved pairs
                freq = 1.0 / 10000.0 ** ((i % hd) / hd)
                c, s = np.cos(pos * freq), np.sin(pos * freq)
                for vec in ((q, k) if i < KV * hd else (q,)):
                    a0, a1 = vec[i], vec[i + 1]
                    vec[i], vec[i + 1] = a0 * c - a1 * s, a0 * s + a1 * c
            kc[l, pos], vc[l, pos] = k, v
            att = np.zeros(H * hd)
            for h in range(H):
                g = h // (H // KV)
                qh = q[h * hd:(h + 1) * hd]
                sc = softmax(np.array([qh @ kc[l, t, g * hd:(g + 1) * hd] for t in range(pos + 1)]) / np.sqrt(hd))
                att[h * hd:(h + 1) * hd] = sum(sc[t] * vc[l, t, g * hd:(g + 1) * hd] for t in range(pos + 1))
            x = x + wo[l] @ att
            xb = rms(x, rms_ffn[l], 1e-5)
            x = x + w2[l] @ (silu(w1[l] @ xb) * (w3[l] @ xb))
        out.append(wcls @ rms(x, rms_final, 1e-5))
    return np.array(out)


def openelm_forward(d, tokens):
    cfg = json.load(open(os.path.join(d, "config.json")))
    W = {k: v.astype(np.float64) for k, v in load_file(os.path.join(d, "model.safetensors")).items()}
    D, hd = cfg["model_dim"], cfg["head_dim"]
    L = cfg["num_transformer_layers"]
    emb = W["transformer.token_embeddings.weight"]
    inv = 10000.0 ** (-np.arange(0, hd, 2) / hd)

    def rope(x, pos):  # rotate-half
        c, s = np.cos(pos * inv), np.sin(pos * inv)
        a, b = x[: hd // 2], x[hd // 2:]
        return np.concatenate([a * c - b * s, b * c + a * s])

    caches = [([], []) for _ in range(L)]
    out = []
    for pos, tok in enumerate(tokens):
        x = emb[tok].copy()
        for i in range(L):
            p = f"transformer.layers.{i}."
            q_h, kv_h = cfg["num_query_heads"][i], cfg["num_kv_heads"][i]
            g = q_h // kv_h
            qkv = W[p + "attn.qkv_proj.weight"] @ rms(x, W[p + "attn_norm.weight"], 1e-6)
            qkv = qkv.reshape(q_h + 2 * kv_h, hd)
            qs = [rope(rms(qkv[h], W[p + "attn.q_norm.weight"], 1e-6), pos) for h in range(q_h)]
            ks = [rope(rms(qkv[q_h + h], W[p + "attn.k_norm.weight"], 1e-6), pos) for h in range(kv_h)]
            vs = [qkv[q_h + kv_h + h] for h in range(kv_h)]
            caches[i][0].append(ks); caches[i][1].append(vs)
            att = []
            for h in range(q_h):
                sc = softmax(np.array([qs[h] @ caches[i][0][t][h // g] for t in range(pos + 1)]) / np.sqrt(hd))
                att.append(sum(sc[t] * caches[i][1][t][h // g] for t in range(pos + 1)))
            x = x + W[p + "attn.out_proj.weight"] @ np.concatenate(att)
            y12 = W[p + "ffn.proj_1.weight"] @ rms(x, W[p + "ffn_norm.weight"], 1e-6)
            I = y12.shape[0] // 2
            x = x + W[p + "ffn.proj_2.weight"] @ (silu(y12[:I]) * y12[I:])
        out.append(emb @ rms(x, W["transformer.norm.weight"], 1e-6))
    return np.array(out)


def llama_cpp_logits(gguf_path, tokens):
    m = llama_cpp.Llama(model_path=gguf_path, logits_all=True, n_ctx=32, verbose=False, n_threads=1,
                        type_k=0, type_v=0)  # F32 KV cache (default F16 costs ~1e-3)
    m.eval(tokens)
    return np.array(m.scores[: len(tokens)], dtype=np.float64)


tmp = tempfile.mkdtemp()
l2c = os.path.join(tmp, "l2c.gguf")
subprocess.run([PICO, "convert", "llama2c", os.path.join(HERE, "llama2c/model.bin"), "--tokenizer",
                os.path.join(HERE, "llama2c/tokenizer.bin"), "-o", l2c], check=True)
ref = llama2c_forward(os.path.join(HERE, "llama2c/model.bin"), TOKENS)
got = llama_cpp_logits(l2c, TOKENS)
print(f"llama2c f32: max |logit diff| {np.abs(ref - got).max():.1e} (max |logit| {np.abs(ref).max():.1f})")

oe = os.path.join(tmp, "oe.gguf")
subprocess.run([PICO, "convert", "openelm", os.path.join(HERE, "openelm"), "--tokenizer",
                os.path.join(HERE, "..", "tokenizer", "tokenizer.model"), "-o", oe], check=True)
ref = openelm_forward(os.path.join(HERE, "openelm"), TOKENS)
got = llama_cpp_logits(oe, TOKENS)
print(f"openelm f32: max |logit diff| {np.abs(ref - got).max():.1e} (max |logit| {np.abs(ref).max():.1f})")
