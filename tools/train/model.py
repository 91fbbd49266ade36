"""PyTorch definition of picoformer's demo model: an OpenELM-style layer-scaled decoder whose FFN is
MH-MoE on every `moe_every`-th layer.

The forward pass is written to match `picoformer::elm` exactly (spec: shared/spec/openelm.md §5 and
shared/spec/mhmoe.md §2, §4 "crate default"):
- pre-norm blocks, RMSNorm eps 1e-6 (weight only), fused QKV (Q|K|V, head-major), per-head QK RMSNorm
  (one [hd] weight shared by all heads) before rotate-half RoPE (theta 10000), GQA where query head h
  reads KV head h // g, softmax(QK^T / sqrt(hd)), out_proj, SwiGLU with the gate first, final norm,
  tied embeddings, no biases (except the MH-MoE head/merge layers);
- MH-MoE: head Linear d->d (bias), contiguous split into h sub-tokens of d/h, one router d/h->E
  (no bias, f32 softmax), top-k with the raw softmax probability as gate weight (no renorm),
  SwiGLU experts (gate, up, down; no bias), merge back in order, merge Linear d->d (bias); dropless.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F


def make_divisible(v100: int, divisor: int) -> int:
    """Integer-exact `make_divisible` (spec openelm.md §2.3); `v100` is 100*v."""
    q = (v100 + 50 * divisor) // (100 * divisor)
    nv = max(divisor, q * divisor)
    if nv * 1000 < 9 * v100:
        nv += divisor
    return nv


def multipliers100(lo100: int, hi100: int, n: int) -> list[int]:
    """round(linspace(lo, hi, n)[i], 2) * 100 in exact rational arithmetic (half-up)."""
    if n == 1:
        return [lo100]
    # floor(lo + (hi-lo)*i/(n-1) + 1/2) with i64 rationals
    return [(2 * (lo100 * (n - 1) + (hi100 - lo100) * i) + (n - 1)) // (2 * (n - 1)) for i in range(n)]


@dataclass
class Config:
    vocab: int = 256
    d: int = 128
    layers: int = 6
    head_dim: int = 32
    gqa_groups: int = 2  # query heads per KV head (OpenELM's num_gqa_groups)
    qkv_mult: tuple[int, int] = (50, 100)  # x100
    ffn_mult: tuple[int, int] = (50, 400)  # x100
    ffn_divisor: int = 32
    ctx: int = 512
    rope_theta: float = 10000.0
    eps: float = 1e-6
    # MH-MoE
    moe_every: int = 2  # 0 = dense everywhere
    moe_heads: int = 4
    moe_experts: int = 8
    moe_k: int = 2
    moe_inner: int = 64
    aux_weight: float = 0.01
    moe_proj: bool = True  # head/merge projections (MH-MoE); False = plain token-level MoE (h must be 1)
    moe_as_dense: int = 0  # >0: MoE layers become dense SwiGLU of this width (replication baseline)
    # derived
    q_heads: list[int] = field(default_factory=list)
    kv_heads: list[int] = field(default_factory=list)
    ffn_dims: list[int] = field(default_factory=list)

    def __post_init__(self):
        if not self.q_heads:
            qm = multipliers100(*self.qkv_mult, self.layers)
            fm = multipliers100(*self.ffn_mult, self.layers)
            div = self.head_dim * self.gqa_groups
            self.q_heads = [make_divisible(self.d * m, div) // self.head_dim for m in qm]
            self.kv_heads = [q // self.gqa_groups for q in self.q_heads]
            self.ffn_dims = [
                0 if self.is_moe(i) else (self.moe_as_dense if self.moe_slot(i) else
                                          make_divisible(self.d * m, self.ffn_divisor))
                for i, m in enumerate(fm)
            ]

    def moe_slot(self, i: int) -> bool:
        return self.moe_every > 0 and (i + 1) % self.moe_every == 0

    def is_moe(self, i: int) -> bool:
        return self.moe_slot(i) and not self.moe_as_dense


class RMSNorm(nn.Module):
    def __init__(self, n: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(hd: int, ctx: int, theta: float):
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
    ang = torch.arange(ctx, dtype=torch.float32)[:, None] * inv[None, :]
    return ang.cos(), ang.sin()


def apply_rope(x, cos, sin):  # x [B, H, T, hd], rotate-half
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg: Config, q: int, kv: int):
        super().__init__()
        self.q, self.kv, self.hd = q, kv, cfg.head_dim
        self.qkv_proj = nn.Linear(cfg.d, (q + 2 * kv) * cfg.head_dim, bias=False)
        self.q_norm = RMSNorm(cfg.head_dim, cfg.eps)
        self.k_norm = RMSNorm(cfg.head_dim, cfg.eps)
        self.out_proj = nn.Linear(q * cfg.head_dim, cfg.d, bias=False)

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        qkv = self.qkv_proj(x).view(B, T, self.q + 2 * self.kv, self.hd).transpose(1, 2)
        q, k, v = qkv.split([self.q, self.kv, self.kv], dim=1)
        q = apply_rope(self.q_norm(q), cos, sin)
        k = apply_rope(self.k_norm(k), cos, sin)
        g = self.q // self.kv
        k = k.repeat_interleave(g, dim=1)  # query head h reads KV head h // g
        v = v.repeat_interleave(g, dim=1)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.out_proj(y.transpose(1, 2).reshape(B, T, self.q * self.hd))


class SwiGLU(nn.Module):
    def __init__(self, d: int, inner: int):
        super().__init__()
        self.proj_1 = nn.Linear(d, 2 * inner, bias=False)  # [gate | up]
        self.proj_2 = nn.Linear(inner, d, bias=False)

    def forward(self, x):
        gate, up = self.proj_1(x).chunk(2, dim=-1)
        return self.proj_2(F.silu(gate) * up)


class MHMoE(nn.Module):
    """Dropless MH-MoE (spec mhmoe.md §2, crate defaults)."""

    def __init__(self, cfg: Config):
        super().__init__()
        d, h, E = cfg.d, cfg.moe_heads, cfg.moe_experts
        self.h, self.E, self.k, self.ds = h, E, cfg.moe_k, d // h
        self.proj = cfg.moe_proj
        assert self.proj or h == 1, "token-level MoE without projections needs h = 1"
        self.head = nn.Linear(d, d, bias=True) if self.proj else nn.Identity()
        self.merge = nn.Linear(d, d, bias=True) if self.proj else nn.Identity()
        if self.proj:
            nn.init.xavier_uniform_(self.head.weight, gain=1 / math.sqrt(2))
            nn.init.xavier_uniform_(self.merge.weight)
            nn.init.zeros_(self.merge.bias)
        self.router = nn.Linear(self.ds, E, bias=False)
        I = cfg.moe_inner
        self.gate = nn.Parameter(torch.randn(E, I, self.ds) * self.ds**-0.5)
        self.up = nn.Parameter(torch.randn(E, I, self.ds) * self.ds**-0.5)
        self.down = nn.Parameter(torch.randn(E, self.ds, I) * I**-0.5)
        self.last_counts = None
        self.aux = torch.zeros(())

    def forward(self, x):
        B, T, d = x.shape
        s = self.head(x).reshape(B * T * self.h, self.ds)  # row = token*h + j
        p = F.softmax(self.router(s).float(), dim=-1)
        topv, topi = p.topk(self.k, dim=-1)
        # Only the selected experts are computed (sparse dispatch, as the crate does).
        S = s.shape[0]
        rows = torch.arange(S, device=s.device).repeat_interleave(self.k)
        experts, weights = topi.reshape(-1), topv.reshape(-1)
        out = torch.zeros_like(s)
        for e in range(self.E):
            m = experts == e
            if not bool(m.any()):
                continue
            r = rows[m]
            xs = s[r]
            h = F.silu(xs @ self.gate[e].T) * (xs @ self.up[e].T)
            out = out.index_add(0, r, (h @ self.down[e].T) * weights[m, None])
        # GShard-style balance loss on the top-1 assignment (spec mhmoe.md §2.2)
        ce = F.one_hot(topi[:, 0], self.E).float().mean(0)
        me = p.mean(0)
        self.aux = self.E * (me * ce).sum()
        self.last_counts = torch.bincount(topi.reshape(-1), minlength=self.E).detach()
        return self.merge(out.reshape(B, T, d))


class Block(nn.Module):
    def __init__(self, cfg: Config, i: int):
        super().__init__()
        self.attn_norm = RMSNorm(cfg.d, cfg.eps)
        self.attn = Attention(cfg, cfg.q_heads[i], cfg.kv_heads[i])
        self.ffn_norm = RMSNorm(cfg.d, cfg.eps)
        self.ffn = MHMoE(cfg) if cfg.is_moe(i) else SwiGLU(cfg.d, cfg.ffn_dims[i])

    def forward(self, x, cos, sin):
        x = x + self.attn(self.attn_norm(x), cos, sin)
        return x + self.ffn(self.ffn_norm(x))


class Model(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.token_embeddings = nn.Embedding(cfg.vocab, cfg.d)
        self.layers = nn.ModuleList(Block(cfg, i) for i in range(cfg.layers))
        self.norm = RMSNorm(cfg.d, cfg.eps)
        cos, sin = rope_tables(cfg.head_dim, cfg.ctx, cfg.rope_theta)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        nn.init.normal_(self.token_embeddings.weight, std=cfg.d**-0.5)
        for blk in self.layers:
            for lin in (blk.attn.out_proj, getattr(blk.ffn, "proj_2", None)):
                if lin is not None:
                    nn.init.normal_(lin.weight, std=cfg.d**-0.5 * (2 * cfg.layers) ** -0.5)

    def forward(self, idx):
        T = idx.shape[1]
        x = self.token_embeddings(idx)
        cos, sin = self.cos[:T], self.sin[:T]
        for blk in self.layers:
            x = blk(x, cos, sin)
        return self.norm(x) @ self.token_embeddings.weight.T  # tied

    def aux_loss(self):
        return sum((b.ffn.aux for b in self.layers if isinstance(b.ffn, MHMoE)), torch.zeros(()))

    def param_counts(self):
        total = sum(p.numel() for p in self.parameters())
        active = total
        for b in self.layers:
            if isinstance(b.ffn, MHMoE):
                per_expert = b.ffn.gate[0].numel() + b.ffn.up[0].numel() + b.ffn.down[0].numel()
                active -= per_expert * (b.ffn.E - b.ffn.k)
        return total, active
