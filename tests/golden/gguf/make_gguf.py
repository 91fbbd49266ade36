#!/usr/bin/env python3
"""Golden GGUF files for picoformer's reader, written by the format's reference writer.

Pinned: gguf==0.17.1 (llama.cpp's gguf-py: GGUFWriter, gguf.quants), numpy==2.1.3.
Run from anywhere:  python3 tests/golden/gguf/make_gguf.py
Deterministic: re-running rewrites byte-identical files.

Writes, beside this script:
  all_types.gguf   every metadata value type, typed arrays of each, nested arrays, non-ASCII
                   strings; tensors F32/F16/Q8_0 of odd shapes (1-D to 4-D) plus Q4_0, Q4_K,
                   I8, I32, F64 so other ggml types are parsed too; default alignment (32).
  align64.gguf     general.alignment = 64, llama-style per-layer arrays (i32 and u32).
  no_tensors.gguf  metadata only.
  manifest.txt     what the Rust test (tests/gguf_golden.rs) must read back, one record a line,
                   tab-separated, rendered canonically from the values given to the writer
                   (NOT read back from the files):
    file <name> <version> <alignment> <tensor_count> <metadata_count>
    kv <key> <value>          value: u8:5 i32:-3 f32:<8 hex bits> f64:<16 hex bits>
                              bool:true str:<utf-8 hex> arr<elem>[v,v,...]
    tensor <name> <ggml id> <dims, GGUF order> <absolute data offset> <bytes hex> <f32 hex|->
                              last field: the dequantised values as f32 bit patterns (F32,
                              F16 and Q8_0; Q8_0 via gguf.quants.dequantize), else '-'
    quant <ggml id> <block size> <type size>   (gguf.constants.GGML_QUANT_SIZES)
  The tensor data offset is taken from gguf.GGUFReader (the reference reader), the bytes
  from what was handed to the writer.
"""
import os
import struct

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q, GGUFValueType as V
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize, quantize

HERE = os.path.dirname(os.path.abspath(__file__))
TNAME = {V.UINT8: "u8", V.INT8: "i8", V.UINT16: "u16", V.INT16: "i16", V.UINT32: "u32",
         V.INT32: "i32", V.FLOAT32: "f32", V.BOOL: "bool", V.STRING: "str", V.ARRAY: "arr",
         V.UINT64: "u64", V.INT64: "i64", V.FLOAT64: "f64"}


def render(vtype, val, sub=None):
    if vtype == V.FLOAT32:
        return "f32:%08x" % struct.unpack("<I", struct.pack("<f", val))[0]
    if vtype == V.FLOAT64:
        return "f64:%016x" % struct.unpack("<Q", struct.pack("<d", val))[0]
    if vtype == V.BOOL:
        return "bool:" + ("true" if val else "false")
    if vtype == V.STRING:
        return "str:" + val.encode("utf-8").hex()
    if vtype == V.ARRAY:
        # Element type as the writer chooses it: the given sub_type, else inferred from val[0].
        elem = sub if sub is not None else V.get_type(val[0])
        return "arr<%s>[%s]" % (TNAME[elem], ",".join(render(elem, v) for v in val))
    return "%s:%d" % (TNAME[vtype], val)


def f32_hex(a):
    return ",".join("%08x" % x for x in np.asarray(a, dtype="<f4").reshape(-1).view("<u4"))


class Golden:
    def __init__(self, name, arch, alignment=None):
        self.name = name
        self.path = os.path.join(HERE, name)
        self.w = gguf.GGUFWriter(self.path, arch)
        self.kvs = [("general.architecture", render(V.STRING, arch))]
        self.tensors = []  # (name, ggml id, numpy shape, bytes, dequantised f32 or None)
        self.alignment = 32
        if alignment is not None:
            self.w.add_custom_alignment(alignment)
            self.kvs.append(("general.alignment", render(V.UINT32, alignment)))
            self.alignment = alignment

    def kv(self, key, val, vtype, sub=None):
        self.w.add_key_value(key, val, vtype, sub)
        self.kvs.append((key, render(vtype, val, sub)))

    def tensor(self, name, arr, raw_dtype=None, deq=None):
        if raw_dtype is None:
            self.w.add_tensor(name, arr)
            ggml = {np.float32: Q.F32, np.float16: Q.F16, np.float64: Q.F64,
                    np.int8: Q.I8, np.int32: Q.I32}[arr.dtype.type]
            shape = arr.shape
        else:
            self.w.add_tensor(name, arr, raw_dtype=raw_dtype)
            ggml = raw_dtype
            shape = gguf.quants.quant_shape_from_byte_shape(arr.shape, raw_dtype)
        self.tensors.append((name, int(ggml), shape, arr.tobytes(), deq))

    def finish(self, out):
        self.w.write_header_to_file()
        self.w.write_kv_data_to_file()
        self.w.write_tensors_to_file()
        self.w.close()
        r = gguf.GGUFReader(self.path)
        offsets = {t.name: int(t.data_offset) for t in r.tensors}
        out.append("\t".join(["file", self.name, "3", str(self.alignment),
                              str(len(self.tensors)), str(len(self.kvs))]))
        for k, v in self.kvs:
            out.append("\t".join(["kv", k, v]))
        for name, ggml, shape, raw, deq in self.tensors:
            dims = ",".join(str(d) for d in reversed(shape))  # GGUF order: innermost first
            out.append("\t".join(["tensor", name, str(ggml), dims, str(offsets[name]),
                                  raw.hex(), "-" if deq is None else f32_hex(deq)]))


def q8_0(x):
    """Q8_0 bytes from the reference quantiser, and their reference dequantisation."""
    qb = quantize(x, Q.Q8_0)
    return qb, dequantize(qb, Q.Q8_0)


def main():
    rng = np.random.default_rng(20261127)
    out = []

    g = Golden("all_types.gguf", "picotest")
    g.kv("t.u8", 200, V.UINT8)
    g.kv("t.i8", -100, V.INT8)
    g.kv("t.u16", 60000, V.UINT16)
    g.kv("t.i16", -30000, V.INT16)
    g.kv("t.u32", 4000000000, V.UINT32)
    g.kv("t.i32", -2000000000, V.INT32)
    g.kv("t.f32", 3.14159, V.FLOAT32)
    g.kv("t.bool_true", True, V.BOOL)
    g.kv("t.bool_false", False, V.BOOL)
    g.kv("t.str", "héllo wörld ✓ 日本語 🦀", V.STRING)
    g.kv("t.str_empty", "", V.STRING)
    g.kv("t.u64", 2**63 + 5, V.UINT64)
    g.kv("t.i64", -(2**62) - 3, V.INT64)
    g.kv("t.f64", 2.718281828459045, V.FLOAT64)
    g.kv("a.u8", [0, 1, 255], V.ARRAY, V.UINT8)
    g.kv("a.i8", [-128, 0, 127], V.ARRAY, V.INT8)
    g.kv("a.u16", [0, 65535], V.ARRAY, V.UINT16)
    g.kv("a.i16", [-32768, 32767, 5], V.ARRAY, V.INT16)
    g.kv("a.u32", [0, 4294967295, 7], V.ARRAY, V.UINT32)
    g.kv("a.i32", [-1, 7, 2147483647], V.ARRAY, V.INT32)
    g.kv("a.f32", [0.5, -1.25, 1e-8, 65504.0], V.ARRAY, V.FLOAT32)
    g.kv("a.bool", [True, False, True], V.ARRAY, V.BOOL)
    g.kv("a.str", ["a", "ü", "", "日本", "🦀x"], V.ARRAY, V.STRING)
    g.kv("a.u64", [0, 2**64 - 1], V.ARRAY, V.UINT64)
    g.kv("a.i64", [-(2**63), 2**63 - 1], V.ARRAY, V.INT64)
    g.kv("a.f64", [1.0 / 3.0, -0.0], V.ARRAY, V.FLOAT64)
    g.kv("a.nested_i32", [[1, 2], [3], [4, 5, 6]], V.ARRAY)
    g.kv("a.nested_str", [["x", "ÿ"], ["z"]], V.ARRAY)
    g.kv("a.nested3", [[[1]], [[2, 3], [4]]], V.ARRAY)
    g.kv("picotest.block_count", 3, V.UINT32)
    g.kv("picotest.feed_forward_length", [768, 1024, 1280], V.ARRAY, V.INT32)
    g.kv("picotest.attention.head_count", [4, 6, 8], V.ARRAY, V.UINT32)
    g.kv("picotest.rope.freq_base", 10000.0, V.FLOAT32)

    x = rng.standard_normal((3, 5, 7)).astype(np.float32)
    g.tensor("f32_3d", x, deq=x)
    x = rng.standard_normal((5, 3)).astype(np.float16)
    g.tensor("blk.0.attn_norm.weight", x, deq=x.astype(np.float32))
    x = (rng.standard_normal((3, 64)) * 3).astype(np.float32)
    x[1, 5] = 0.0
    x[2, :32] = 0.0  # an all-zero block: scale 0
    qb, deq = q8_0(x)
    g.tensor("blk.10.attn_qkv.weight", qb, Q.Q8_0, deq)
    x = rng.standard_normal((2, 1, 3, 32)).astype(np.float32)
    qb, deq = q8_0(x)
    g.tensor("q8_0_4d", qb, Q.Q8_0, deq)
    x = rng.standard_normal(11).astype(np.float32)
    g.tensor("output_norm.weight", x, deq=x)
    g.tensor("q4_0", quantize(rng.standard_normal((2, 64)).astype(np.float32), Q.Q4_0), Q.Q4_0)
    g.tensor("q4_k_raw", rng.integers(0, 256, (1, 144), dtype=np.uint8), Q.Q4_K)
    g.tensor("i8", rng.integers(-128, 128, 5, dtype=np.int8))
    g.tensor("i32", rng.integers(-2**31, 2**31, (2, 3), dtype=np.int32))
    g.tensor("f64", rng.standard_normal(3))
    g.finish(out)

    g = Golden("align64.gguf", "llama", alignment=64)
    g.kv("llama.block_count", 2, V.UINT32)
    g.kv("llama.feed_forward_length", [96, 128], V.ARRAY, V.INT32)
    g.kv("llama.attention.head_count", [2, 4], V.ARRAY, V.UINT32)
    g.kv("llama.attention.layer_norm_rms_epsilon", 1e-5, V.FLOAT32)
    g.kv("tokenizer.ggml.tokens", ["<unk>", "<s>", "</s>", "▁the", "é"], V.ARRAY, V.STRING)
    x = rng.standard_normal((1, 3)).astype(np.float32)
    g.tensor("blk.1.attn_q_norm.weight", x, deq=x)
    x = rng.standard_normal((5, 32)).astype(np.float32)
    qb, deq = q8_0(x)
    g.tensor("token_embd.weight", qb, Q.Q8_0, deq)
    x = rng.standard_normal(7).astype(np.float16)
    g.tensor("blk.1.ffn_norm.weight", x, deq=x.astype(np.float32))
    g.finish(out)

    g = Golden("no_tensors.gguf", "none")
    g.kv("general.name", "metadata only", V.STRING)
    g.kv("t.count", 0, V.UINT64)
    g.finish(out)

    for t, (bs, ts) in sorted(GGML_QUANT_SIZES.items(), key=lambda kv: int(kv[0])):
        out.append("\t".join(["quant", str(int(t)), str(bs), str(ts)]))

    with open(os.path.join(HERE, "manifest.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
