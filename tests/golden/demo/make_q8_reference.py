#!/usr/bin/env python3
"""Reference logits of the deployed Q8_0 demo LM with ggml's Q8_0 numerics, for
tests/demo_model.rs.

PyTorch's reference (tools/train/reference.py -> reference.bin) runs the trained model in f32;
picoformer, like llama.cpp, multiplies each Q8_0 matrix by its input quantised to Q8_0. This
oracle reproduces those numerics independently: the float64 NumPy OpenELM + MH-MoE forward pass
of tests/golden/elm/make_models.py on the weights exactly as stored in
models/shakespeare-q8_0.gguf (dequantised by gguf.quants), with every matmul input quantised
to Q8_0 by gguf.quants (= ggml's quantize_row_q8_0_ref) first.

    python3 tests/golden/demo/make_q8_reference.py     (from the repo root)

Writes tests/golden/demo/reference_q8_0.bin in the format of reference.bin: u32 n_tokens,
u32 vocab, n_tokens u32 token ids, n_tokens x vocab f32 logits.
Pinned: numpy 2.1.3, gguf 0.17.1.
"""

import os
import struct
import sys

import numpy as np
import gguf
from gguf.quants import dequantize

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, "tests", "golden", "elm"))
from make_models import numpy_forward  # noqa: E402

# the text of tools/train/reference.py
TEXT = (b"KING HENRY.\nOnce more unto the breach, dear friends, once more;\n"
        b"Or close the wall up with our English dead.\n")


def field(r, key):
    f = r.fields[key]
    vals = [f.parts[i].tolist() for i in f.data]
    vals = [v[0] if isinstance(v, list) and len(v) == 1 else v for v in vals]
    return vals if len(vals) > 1 else vals[0]


def main():
    path = os.path.join(ROOT, "models", "shakespeare-q8_0.gguf")
    r = gguf.GGUFReader(path)
    a = "openelm"
    L = field(r, f"{a}.block_count")
    per_layer = lambda v: v if isinstance(v, list) else [v] * L
    d = field(r, f"{a}.embedding_length")
    hd = field(r, f"{a}.attention.key_length")
    q = per_layer(field(r, f"{a}.attention.head_count"))
    kv = per_layer(field(r, f"{a}.attention.head_count_kv"))
    ffn = per_layer(field(r, f"{a}.feed_forward_length"))
    eps = float(field(r, f"{a}.attention.layer_norm_rms_epsilon"))
    theta = float(field(r, f"{a}.rope.freq_base"))
    moe = dict(every=field(r, f"{a}.mhmoe.every"), heads=field(r, f"{a}.mhmoe.head_count"),
               experts=field(r, f"{a}.mhmoe.expert_count"), k=field(r, f"{a}.mhmoe.expert_used_count"),
               inner=field(r, f"{a}.mhmoe.expert_feed_forward_length"))
    assert field(r, f"{a}.mhmoe.glu") and not field(r, f"{a}.mhmoe.renorm_topk")
    w, q8 = {}, set()
    for t in r.tensors:
        shape = [int(n) for n in reversed(t.shape)]
        if t.tensor_type == gguf.GGMLQuantizationType.Q8_0:
            q8.add(t.name)
            w[t.name] = dequantize(t.data, t.tensor_type).reshape(shape).astype(np.float64)
        else:
            w[t.name] = np.asarray(t.data, dtype=np.float64).reshape(shape)
    # every matrix of the demo is Q8_0 (its input widths are multiples of 32)
    mats = {n for n, v in w.items() if v.ndim >= 2}
    assert mats == q8, mats ^ q8
    tokens = list(TEXT)
    logits = numpy_forward(w, a, d, hd, q, kv, ffn, eps, tokens, theta=theta, moe=moe, qact=True)
    out = os.path.join(ROOT, "tests", "golden", "demo", "reference_q8_0.bin")
    with open(out, "wb") as f:
        f.write(struct.pack("<II", len(tokens), logits.shape[1]))
        f.write(np.array(tokens, dtype="<u4").tobytes())
        f.write(logits.astype("<f4").tobytes())
    ref = np.fromfile(os.path.join(ROOT, "tests", "golden", "demo", "reference.bin"), dtype="<f4")
    f32 = ref[2 + len(tokens):].reshape(logits.shape)
    print(f"wrote {out}: {len(tokens)} x {logits.shape[1]}; vs PyTorch f32 reference: "
          f"{np.abs(logits - f32).max() / np.abs(f32).max():.3e} rel, top-1 agreement "
          f"{(logits.argmax(1) == f32.argmax(1)).mean():.3f}")


if __name__ == "__main__":
    main()
