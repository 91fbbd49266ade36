#!/usr/bin/env python3
"""Fixtures for the `pico convert` tests (`tools/tests/convert.rs`).

Pinned packages: numpy==2.1.3, gguf==0.17.1, safetensors==0.4.5, sentencepiece==0.2.0.

llama2c/: a tiny random llama2.c checkpoint written exactly as llama2.c's `export.py`
  (`legacy_export`) lays it out — header of 7 i32 (dim, hidden_dim, n_layers, n_heads,
  n_kv_heads, -vocab_size for an untied classifier, seq_len), then token_embedding, rms_att,
  wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, freq_cis_real, freq_cis_imag, wcls — and a
  `tokenizer.bin` in llama2.c's format (`▁` written as a space, BOS/EOS as "\n<s>\n" and
  "\n</s>\n").
openelm/: a tiny random Hugging Face OpenELM directory: `config.json` with per-layer lists
  and `model.safetensors` (F32, Apple's tensor names), 3 ragged layers.

For each, `ref_{f32,f16,q8_0}.gguf` holds the expected GGUF tensors, written by the `gguf`
package from the NumPy source arrays (independent of the Rust converter): PyTorch `[out, in]`
arrays under llama.cpp's names, 1-D tensors F32, F16 via `astype(np.float16)`, Q8_0 via
`gguf.quants.quantize` with the F16 fallback for rows not a multiple of 32 (as llama.cpp's
`convert_hf_to_gguf.py`), plus the expected `tokenizer.ggml.*` arrays (llama.cpp's
`_set_vocab_sentencepiece`, padded with `[PAD{i}]` / -10000 / unused). The Rust test compares
every tensor's bytes and the vocabulary arrays exactly.

Run from the repository root: `python3 tests/golden/convert/make_fixtures.py`.
"""
import json
import os
import struct

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q
from safetensors.numpy import save_file
import sentencepiece as spm

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(1234)


def rand(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def write_refs(outdir, arch, tensors, vocab):
    """tensors: list of (gguf name, float32 array [out, in] or [n])."""
    for ty in ("f32", "f16", "q8_0"):
        w = gguf.GGUFWriter(os.path.join(outdir, f"ref_{ty}.gguf"), arch)
        if vocab is not None:
            tokens, scores, types = vocab
            w.add_token_list(tokens)
            w.add_token_scores(scores)
            w.add_token_types(types)
        for name, a in tensors:
            if a.ndim == 1 or ty == "f32":
                w.add_tensor(name, a)
            elif ty == "f16" or a.shape[-1] % 32 != 0:
                w.add_tensor(name, a.astype(np.float16))
            else:
                q = gguf.quants.quantize(a, Q.Q8_0)
                w.add_tensor(name, q, raw_dtype=Q.Q8_0)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()


# --- llama2.c ------------------------------------------------------------------------------
def llama2c():
    out = os.path.join(HERE, "llama2c")
    os.makedirs(out, exist_ok=True)
    dim, hidden, L, H, KV, V, seq = 32, 64, 2, 4, 2, 48, 16
    hd = dim // H
    emb = rand(V, dim)
    rms_att = rand(L, dim)
    wq = rand(L, H * hd, dim)
    wk = rand(L, KV * hd, dim)
    wv = rand(L, KV * hd, dim)
    wo = rand(L, dim, H * hd)
    rms_ffn = rand(L, dim)
    w1 = rand(L, hidden, dim)
    w2 = rand(L, dim, hidden)
    w3 = rand(L, hidden, dim)
    rms_final = rand(dim)
    freq = rand(2, seq, hd // 2)  # legacy freq_cis_real / imag: skipped by the converter
    wcls = rand(V, dim)
    with open(os.path.join(out, "model.bin"), "wb") as f:
        f.write(struct.pack("7i", dim, hidden, L, H, KV, -V, seq))
        for a in (emb, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, freq, wcls):
            f.write(a.tobytes())

    # tokenizer.bin: <unk>, <s>, </s>, some byte pieces, then words (with ▁ → space).
    pieces = ["<unk>", "<s>", "</s>", "<0x0A>", "<0x20>", "<0x41>", "<0xE2>"]
    words = ["\u2581the", "\u2581a", "\u2581cat", "\u2581sat", "on", "\u2581", "at", "ca",
             "t", "s", "a", "h", "e", "\u2581mat", "\u2581and", "d", "n", "o", "m", "i",
             "\u2581dog", "g", "\u2581\u2581", "r", "u", "n\u2581", "\u00e9", "\u2581caf\u00e9",
             "x", "y", "z", "w", "v", "b", "c", "f", "l", "p", "k", "j", "q"]
    pieces += words[: V - len(pieces)]
    assert len(pieces) == V
    scores = [0.0] * 7 + [-float(i) for i in range(V - 7)]
    with open(os.path.join(out, "tokenizer.bin"), "wb") as f:
        f.write(struct.pack("i", max(len(p.encode()) for p in pieces) + 2))
        for i, (p, s) in enumerate(zip(pieces, scores)):
            t = {1: "\n<s>\n", 2: "\n</s>\n"}.get(i, p.replace("\u2581", " "))
            b = t.encode("utf-8")
            f.write(struct.pack("fi", s, len(b)))
            f.write(b)
    types = [2, 3, 3, 6, 6, 6, 6] + [1] * (V - 7)

    tensors = [("token_embd.weight", emb)]
    for l in range(L):
        tensors += [
            (f"blk.{l}.attn_norm.weight", rms_att[l]),
            (f"blk.{l}.attn_q.weight", wq[l]),
            (f"blk.{l}.attn_k.weight", wk[l]),
            (f"blk.{l}.attn_v.weight", wv[l]),
            (f"blk.{l}.attn_output.weight", wo[l]),
            (f"blk.{l}.ffn_norm.weight", rms_ffn[l]),
            (f"blk.{l}.ffn_gate.weight", w1[l]),
            (f"blk.{l}.ffn_down.weight", w2[l]),
            (f"blk.{l}.ffn_up.weight", w3[l]),
        ]
    tensors += [("output_norm.weight", rms_final), ("output.weight", wcls)]
    write_refs(out, "llama", tensors, ([p.encode() for p in pieces], scores, types))


# --- OpenELM -------------------------------------------------------------------------------
def openelm():
    out = os.path.join(HERE, "openelm")
    os.makedirs(out, exist_ok=True)
    d, hd, div = 32, 8, 32
    q_heads, kv_heads, mults = [2, 4, 4], [1, 2, 2], [1.0, 2.0, 3.0]
    ffn = [int(m * d) for m in mults]  # make_divisible(m·d, 32) = m·d here
    sp = spm.SentencePieceProcessor(
        model_file=os.path.join(HERE, "..", "tokenizer", "tokenizer.model"))
    V = sp.vocab_size() + 4  # 4 padding rows, as a hardware-padded checkpoint
    cfg = {
        "architectures": ["OpenELMForCausalLM"],
        "model_type": "openelm",
        "model_dim": d,
        "head_dim": hd,
        "num_transformer_layers": len(q_heads),
        "num_query_heads": q_heads,
        "num_kv_heads": kv_heads,
        "num_gqa_groups": 2,
        "ffn_multipliers": mults,
        "ffn_dim_divisor": div,
        "ffn_with_glu": True,
        "normalize_qk_projections": True,
        "share_input_output_layers": True,
        "rope_freq_constant": 10000,
        "rope_max_length": 64,
        "max_context_length": 32,
        "vocab_size": V,
        "bos_token_id": 1,
        "eos_token_id": 2,
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    st, tensors = {}, []
    st["transformer.token_embeddings.weight"] = emb = rand(V, d)
    tensors.append(("token_embd.weight", emb))
    for i, (q, kv, I) in enumerate(zip(q_heads, kv_heads, ffn)):
        p = f"transformer.layers.{i}."
        st[p + "attn_norm.weight"] = a = rand(d)
        tensors.append((f"blk.{i}.attn_norm.weight", a))
        st[p + "attn.qkv_proj.weight"] = a = rand((q + 2 * kv) * hd, d)
        tensors.append((f"blk.{i}.attn_qkv.weight", a))
        st[p + "attn.q_norm.weight"] = a = rand(hd)
        tensors.append((f"blk.{i}.attn_q_norm.weight", a))
        st[p + "attn.k_norm.weight"] = a = rand(hd)
        tensors.append((f"blk.{i}.attn_k_norm.weight", a))
        st[p + "attn.out_proj.weight"] = a = rand(d, q * hd)
        tensors.append((f"blk.{i}.attn_output.weight", a))
        st[p + "ffn_norm.weight"] = a = rand(d)
        tensors.append((f"blk.{i}.ffn_norm.weight", a))
        st[p + "ffn.proj_1.weight"] = a = rand(2 * I, d)
        tensors.append((f"blk.{i}.ffn_gate.weight", a[:I]))
        tensors.append((f"blk.{i}.ffn_up.weight", a[I:]))
        st[p + "ffn.proj_2.weight"] = a = rand(d, I)
        tensors.append((f"blk.{i}.ffn_down.weight", a))
    st["transformer.norm.weight"] = a = rand(d)
    tensors.append(("output_norm.weight", a))
    save_file(st, os.path.join(out, "model.safetensors"))

    # vocabulary exactly as llama.cpp's _set_vocab_sentencepiece (incl. padding)
    tokens = [f"[PAD{i}]".encode() for i in range(V)]
    scores = [-10000.0] * V
    types = [5] * V
    for i in range(sp.vocab_size()):
        tokens[i] = sp.IdToPiece(i).encode("utf-8")
        scores[i] = sp.GetScore(i)
        t = 1
        if sp.IsUnknown(i):
            t = 2
        elif sp.IsControl(i):
            t = 3
        elif sp.IsUnused(i):
            t = 5
        elif sp.IsByte(i):
            t = 6
        types[i] = t
    write_refs(out, "openelm", tensors, (tokens, scores, types))


llama2c()
openelm()
for root, _, files in os.walk(HERE):
    for f in sorted(files):
        print(os.path.relpath(os.path.join(root, f), HERE), os.path.getsize(os.path.join(root, f)))
