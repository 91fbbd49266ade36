#!/usr/bin/env python3
"""Random-weight llama-architecture GGUF models with the llama2.c "stories" shapes.

Used by benches/compare/run.sh to time single-thread decode of picoformer against llama.cpp
(issue 9, goal 4). Measurement only: the weights are random, so the generated text is noise.

Pinned packages: numpy 2.1.3, gguf 0.17.1.
Run:  python3 benches/compare/make_models.py [--out /tmp/pico-compare] [--sizes 260K,15M,42M]

Shapes (llama2.c README, "stories" models; tied output = token embedding, as llama2.c's
shared classifier; interleaved RoPE, theta 10000, RMSNorm eps 1e-5):
  260K: dim 64,  5 layers, 8 heads, 4 kv heads, hidden 172,  vocab 512,   seq 512
  15M:  dim 288, 6 layers, 6 heads, 6 kv heads, hidden 768,  vocab 32000, seq 256
  42M:  dim 512, 8 layers, 8 heads, 8 kv heads, hidden 1376, vocab 32000, seq 1024
  110M: dim 768, 12 layers, 12 heads, 12 kv heads, hidden 2048, vocab 32000, seq 1024
Each is written as stories<size>_f32.gguf and stories<size>_q8_0.gguf (every matrix Q8_0,
norms F32; a matrix whose rows are not a multiple of 32 long, i.e. the 260K ffn_down with
172 columns, stays F32 as llama.cpp's quantizer falls back too), keys and tensor names as llama.cpp's (conventions of tests/golden/elm/make_models.py).
The models are large: they go to /tmp, never into the repository.
"""

import argparse
import os

import numpy as np
import gguf
from gguf import GGMLQuantizationType as QT
from gguf.quants import quantize

SHAPES = {
    #       dim, layers, heads, kv, hidden, vocab, seq
    "260K": (64, 5, 8, 4, 172, 512, 512),
    "15M": (288, 6, 6, 6, 768, 32000, 256),
    "42M": (512, 8, 8, 8, 1376, 32000, 1024),
    "110M": (768, 12, 12, 12, 2048, 32000, 1024),
}


def vocab(n):
    """A dummy SentencePiece vocabulary: <unk> <s> </s>, the 256 byte tokens, then filler pieces."""
    toks = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    toks += [f"\u2581t{i}" for i in range(n - len(toks))]
    types = [2, 3, 3] + [6] * 256 + [1] * (n - 259)
    scores = [0.0] * 259 + [-float(i) for i in range(n - 259)]
    return toks, scores, types


def weights(rng, dim, layers, heads, kv, hidden, v):
    hd = dim // heads
    w = {"token_embd.weight": rng.normal(0, 1.0, (v, dim)), "output_norm.weight": 1.0 + 0.1 * rng.normal(size=dim)}
    for i in range(layers):
        p = f"blk.{i}."
        w[p + "attn_norm.weight"] = 1.0 + 0.1 * rng.normal(size=dim)
        w[p + "attn_q.weight"] = rng.normal(0, dim**-0.5, (heads * hd, dim))
        w[p + "attn_k.weight"] = rng.normal(0, dim**-0.5, (kv * hd, dim))
        w[p + "attn_v.weight"] = rng.normal(0, dim**-0.5, (kv * hd, dim))
        w[p + "attn_output.weight"] = rng.normal(0, dim**-0.5, (dim, heads * hd))
        w[p + "ffn_norm.weight"] = 1.0 + 0.1 * rng.normal(size=dim)
        w[p + "ffn_gate.weight"] = rng.normal(0, dim**-0.5, (hidden, dim))
        w[p + "ffn_up.weight"] = rng.normal(0, dim**-0.5, (hidden, dim))
        w[p + "ffn_down.weight"] = rng.normal(0, hidden**-0.5, (dim, hidden))
    return {k: t.astype(np.float32) for k, t in w.items()}


def write(path, shape, w, qtype):
    dim, layers, heads, kv, hidden, v, seq = shape
    wr = gguf.GGUFWriter(path, "llama")
    wr.add_block_count(layers)
    wr.add_context_length(seq)
    wr.add_embedding_length(dim)
    wr.add_feed_forward_length(hidden)
    wr.add_head_count(heads)
    wr.add_head_count_kv(kv)
    wr.add_rope_dimension_count(dim // heads)
    wr.add_rope_freq_base(10000.0)
    wr.add_layer_norm_rms_eps(1e-5)
    wr.add_file_type({QT.F32: 0, QT.Q8_0: 7}[qtype])
    toks, scores, types = vocab(v)
    wr.add_tokenizer_model("llama")
    wr.add_token_list(toks)
    wr.add_token_scores(scores)
    wr.add_token_types(types)
    wr.add_bos_token_id(1)
    wr.add_eos_token_id(2)
    wr.add_unk_token_id(0)
    for name, t in w.items():
        if t.ndim >= 2 and qtype == QT.Q8_0 and t.shape[-1] % 32 == 0:
            qd = quantize(t, QT.Q8_0)
            wr.add_tensor(name, qd, raw_shape=qd.shape, raw_dtype=QT.Q8_0)
        else:
            wr.add_tensor(name, t)
    wr.write_header_to_file()
    wr.write_kv_data_to_file()
    wr.write_tensors_to_file()
    wr.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="/tmp/pico-compare")
    ap.add_argument("--sizes", default="260K,15M,42M,110M")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for size in a.sizes.split(","):
        shape = SHAPES[size]
        w = weights(np.random.default_rng(42), *shape[:6])
        for qtype, tag in ((QT.F32, "f32"), (QT.Q8_0, "q8_0")):
            path = os.path.join(a.out, f"stories{size}_{tag}.gguf")
            if os.path.exists(path):
                print(f"exists {path}")
                continue
            write(path, shape, w, qtype)
            print(f"wrote {path} ({os.path.getsize(path) / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
