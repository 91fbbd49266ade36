#!/usr/bin/env python3
"""Golden vectors for SnapKV selection (spec snapkv.md §3, §8), independent of the Rust code.

Two references on the same f32 inputs:
  * `numpy64`: a float64 NumPy re-implementation of spec §3 written from the spec text
    (explicit loops for the causal window mask and the pooling edges);
  * `torch32`: the official `SnapKVCluster.update_kv` steps (FasterDecoding/SnapKV @ e216ddc,
    snapkv/monkeypatch/snapkv_utils.py) with torch ops in float32 on CPU: repeat_kv, matmul /
    sqrt(D), w×w finfo.min mask, softmax(float32), sum over window rows, F.avg_pool1d /
    F.max_pool1d(padding=ks//2, stride=1), torch.topk. Group mode (a crate deviation) sums the
    votes of each KV head's query group before pooling.
The script asserts the two agree (votes/pooled within 1e-6) and writes `snapkv_cases.txt`:

    case <name>
    shape <H> <Hkv> <L> <D> <w> <C> <ks> <avg|max> <repeat|group>
    q <H*L*D f32>            k <Hkv*L*D f32>
    votes <heads*Lp f64>     votes32 <heads*Lp f32 (torch)>
    pooled <heads*Lp f64>    pooled32 <heads*Lp f32 (torch)>
    kept <heads*kept>        (numpy64 pooled, rule: score desc then position asc; sorted asc)
    end

and `cli_case.json` (+ `cli_expected.json`) in the `pico snapkv` input format.

Pinned: numpy 2.1.3, torch 2.9.1 (CPU). Run: python3 make_golden.py (deterministic seeds).
"""
import json
import math

import numpy as np
import torch
import torch.nn.functional as F


def numpy64(q, k, w, C, ks, pool, gqa):
    """Spec §3 in float64: returns votes, pooled [heads][Lp], kept [heads][sorted positions]."""
    H, L, D = q.shape
    Hkv = k.shape[0]
    n_rep = H // Hkv
    Lp = L - w
    q = q.astype(np.float64)
    k = k.astype(np.float64)
    votes_q = np.zeros((H, Lp))
    for h in range(H):
        kh = k[h // n_rep]
        for i in range(w):
            qi = q[h, Lp + i]
            n_keys = Lp + i + 1  # prefix + window keys j <= i
            logits = kh[:n_keys] @ qi / math.sqrt(D)
            p = np.exp(logits - logits.max())
            p /= p.sum()
            votes_q[h] += p[:Lp]
    if gqa == "repeat":
        votes = votes_q
    else:
        votes = votes_q.reshape(Hkv, n_rep, Lp).sum(axis=1)
    r = ks // 2
    pooled = np.zeros_like(votes)
    for h in range(votes.shape[0]):
        for j in range(Lp):
            lo, hi = max(0, j - r), min(Lp, j + r + 1)
            if pool == "avg":
                pooled[h, j] = votes[h, lo:hi].sum() / ks  # count_include_pad
            else:
                pooled[h, j] = votes[h, lo:hi].max()  # real elements only
    kept_n = Lp if L < C else C - w
    kept = []
    for h in range(votes.shape[0]):
        order = sorted(range(Lp), key=lambda j: (-pooled[h, j], j))
        kept.append(sorted(order[:kept_n]))
    return votes, pooled, kept


def torch32(q, k, w, C, ks, pool, gqa):
    """The official update_kv steps (torch, float32)."""
    qs = torch.from_numpy(q)[None]  # (1, H, L, D)
    ks_ = torch.from_numpy(k)[None]
    H, L, D = q.shape
    n_rep = H // k.shape[0]
    # repeat_kv (official)
    b, hkv, slen, hd = ks_.shape
    key_states = ks_[:, :, None, :, :].expand(b, hkv, n_rep, slen, hd).reshape(b, hkv * n_rep, slen, hd)
    attn_weights = torch.matmul(qs[..., -w:, :], key_states.transpose(2, 3)) / math.sqrt(D)
    mask = torch.full((w, w), torch.finfo(attn_weights.dtype).min, device=attn_weights.device)
    mask_cond = torch.arange(mask.size(-1), device=attn_weights.device)
    mask.masked_fill_(mask_cond < (mask_cond + 1).view(mask.size(-1), 1), 0)
    attention_mask = mask.to(attn_weights.device)
    attn_weights[:, :, -w:, -w:] += attention_mask
    attn_weights = F.softmax(attn_weights, dim=-1, dtype=torch.float32).to(qs.dtype)
    votes = attn_weights[:, :, -w:, :-w].sum(dim=-2)
    if gqa == "group":
        votes = votes.reshape(1, H // n_rep, n_rep, L - w).sum(dim=2)
    if pool == "avg":
        pooled = F.avg_pool1d(votes, kernel_size=ks, padding=ks // 2, stride=1)
    else:
        pooled = F.max_pool1d(votes, kernel_size=ks, padding=ks // 2, stride=1)
    topk = None
    if L >= C:
        topk = pooled.topk(C - w, dim=-1).indices[0]
    return votes[0].numpy(), pooled[0].numpy(), topk


CASES = [
    # name, H, Hkv, L, D, w, C, ks, pool, gqa, logit scale
    ("avg3_mha_long", 2, 2, 40, 8, 4, 16, 3, "avg", "repeat", 1.0),
    ("max5_gqa_repeat", 4, 2, 64, 8, 6, 20, 5, "max", "repeat", 1.5),
    ("avg7_gqa_group", 6, 2, 50, 8, 8, 24, 7, "avg", "group", 1.0),
    ("max7_mqa_group", 4, 1, 80, 4, 4, 16, 7, "max", "group", 2.0),
    ("avg5_short_L_lt_C", 2, 1, 10, 8, 4, 16, 5, "avg", "repeat", 1.0),
    ("max3_L_eq_C", 2, 2, 16, 8, 4, 16, 3, "max", "repeat", 1.0),
    ("avg5_very_long_gqa", 4, 2, 160, 8, 3, 12, 5, "avg", "repeat", 1.0),
    ("max3_peaked_ties", 2, 1, 48, 8, 4, 12, 3, "max", "group", 3.0),
    ("avg1_kernel1", 3, 3, 30, 4, 2, 10, 1, "avg", "repeat", 1.0),
    ("max5_group_L_eq_C", 4, 2, 24, 4, 6, 24, 5, "max", "group", 1.0),
]


def fmt(xs, f):
    return " ".join(f(x) for x in np.asarray(xs).ravel())


def main():
    out = []
    for n, (name, H, Hkv, L, D, w, C, ks, pool, gqa, scale) in enumerate(CASES):
        rng = np.random.default_rng(1000 + n)
        q = (rng.standard_normal((H, L, D)) * scale).astype(np.float32)
        k = (rng.standard_normal((Hkv, L, D)) * scale).astype(np.float32)
        votes, pooled, kept = numpy64(q, k, w, C, ks, pool, gqa)
        v32, p32, topk = torch32(q, k, w, C, ks, pool, gqa)
        assert np.abs(votes - v32).max() < 1e-6, (name, np.abs(votes - v32).max())
        assert np.abs(pooled - p32).max() < 1e-6, (name, np.abs(pooled - p32).max())
        # Each window row's probabilities sum to 1 over all keys it sees; the prefix part of
        # the votes therefore sums to at most w per query head.
        assert votes.sum() <= w * H + 1e-9
        if topk is not None:
            # torch's kept set equals ours up to ties at the k-th score (spec §8 check 9).
            for h in range(votes.shape[0]):
                kth = np.sort(pooled[h])[::-1][C - w - 1]
                tset = set(topk[h].tolist())
                for j in range(L - w):
                    if pooled[h, j] > kth + 1e-6:
                        assert j in tset, (name, h, j)
                for j in tset:
                    assert abs(pooled[h, j] - kth) <= 1e-6 or pooled[h, j] > kth, (name, h, j)
        heads = votes.shape[0]
        out.append(f"case {name}")
        out.append(f"shape {H} {Hkv} {L} {D} {w} {C} {ks} {pool} {gqa}")
        out.append("q " + fmt(q, lambda x: repr(float(x))))
        out.append("k " + fmt(k, lambda x: repr(float(x))))
        out.append("votes " + fmt(votes, lambda x: f"{x:.17g}"))
        out.append("votes32 " + fmt(v32, lambda x: repr(float(x))))
        out.append("pooled " + fmt(pooled, lambda x: f"{x:.17g}"))
        out.append("pooled32 " + fmt(p32, lambda x: repr(float(x))))
        out.append("kept " + " ".join(str(j) for h in range(heads) for j in kept[h]))
        out.append("end")
        if name == "avg7_gqa_group":
            case = {
                "q": q.tolist(), "k": k.tolist(), "window": w, "capacity": C,
                "kernel": ks, "pool": pool, "gqa": gqa,
            }
            with open("cli_case.json", "w") as f:
                json.dump(case, f)
            with open("cli_expected.json", "w") as f:
                json.dump({"kept": kept, "votes": votes.tolist(), "pooled": pooled.tolist()}, f)
    with open("snapkv_cases.txt", "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
