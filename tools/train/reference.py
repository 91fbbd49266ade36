#!/usr/bin/env python3
"""Reference logits of a trained demo model, from PyTorch, for the Rust end-to-end test
(`tests/demo_model.rs`): the crate must reproduce them from the exported GGUF files.

    python3 tools/train/reference.py --ckpt models/shakespeare.pt --out tests/golden/demo/reference.bin

Writes a little-endian binary: u32 n_tokens, u32 vocab, n_tokens u32 token ids, then
n_tokens x vocab f32 logits (every position), computed in float32 by `model.Model`.
Pinned: torch 2.9.1, numpy 2.1.3.
"""

import argparse
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Config, Model  # noqa: E402

TEXT = (b"KING HENRY.\nOnce more unto the breach, dear friends, once more;\n"
        b"Or close the wall up with our English dead.\n")

ap = argparse.ArgumentParser()
ap.add_argument("--ckpt", required=True)
ap.add_argument("--config", default="{}", help="JSON overrides of Config fields (as in train.py)")
ap.add_argument("--out", required=True)
a = ap.parse_args()
model = Model(Config(**json.loads(a.config)))
model.load_state_dict(torch.load(a.ckpt, map_location="cpu"))
model.eval()
ids = torch.tensor([list(TEXT)], dtype=torch.int64)
with torch.no_grad():
    logits = model(ids)[0].float().numpy()
os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
with open(a.out, "wb") as f:
    f.write(struct.pack("<II", len(TEXT), logits.shape[1]))
    f.write(np.array(list(TEXT), dtype="<u4").tobytes())
    f.write(logits.astype("<f4").tobytes())
print(f"wrote {a.out}: {len(TEXT)} tokens x {logits.shape[1]} logits")
