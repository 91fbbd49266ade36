#!/usr/bin/env python3
"""Store an optimised schedule in the denoiser GGUF as metadata `ays.sigmas` (f32 array).

Usage (from the repo root):
  python3 tools/ays/add_schedule.py models/denoiser.gguf tools/ays/schedules/ays_mlp_10.json

Rewrites the file with the same keys and tensors plus `ays.sigmas` (and `ays.source`), read by
`picoformer::ays::schedule_from_gguf`. Pinned: gguf 0.17.1, numpy 2.1.3.
"""
import json
import os
import sys

import numpy as np
from gguf import GGUFReader, GGUFValueType, GGUFWriter


def main():
    path, sched = sys.argv[1], sys.argv[2]
    sigmas = json.load(open(sched))
    r = GGUFReader(path)
    arch = "mlp_denoiser"
    tmp = path + ".tmp"
    w = GGUFWriter(tmp, arch)
    for name, field in r.fields.items():
        if name.startswith("GGUF.") or name in ("general.architecture", "ays.sigmas", "ays.source"):
            continue
        t = field.types[0]
        v = field.parts[field.data[0]]
        if t == GGUFValueType.UINT32:
            w.add_uint32(name, int(v[0]))
        elif t == GGUFValueType.FLOAT32:
            w.add_float32(name, float(v[0]))
        elif t == GGUFValueType.STRING:
            w.add_string(name, bytes(v).decode())
        else:
            raise SystemExit(f"unhandled key type {t} for {name}")
    w.add_array("ays.sigmas", [float(np.float32(s)) for s in sigmas])
    w.add_string("ays.source", os.path.basename(sched))
    for t in r.tensors:
        w.add_tensor(t.name, np.array(t.data, dtype=np.float32).reshape([int(d) for d in reversed(t.shape)]))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(tmp, path)
    print("wrote", path, "with", len(sigmas), "sigmas")


if __name__ == "__main__":
    main()
