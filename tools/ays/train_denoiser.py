#!/usr/bin/env python3
"""Train the toy MLP denoiser on the 2-D Gaussian-mixture toy and export `models/denoiser.gguf`.

Data: 8 isotropic Gaussians (std 0.25, equal weights) on a circle of radius 2 (the same
mixture as `tools/src/ays/toy.rs`). Model (`src/ays/mlp.rs`): EDM preconditioning with
sigma_data = 1.4, F = MLP([c_in x, c_noise, sin/cos(2^k c_noise), k < 4]) with 3 hidden SiLU
layers of width 64. Loss: EDM's weighted x0 loss, i.e. ||F - (x0 - c_skip x)/c_out||^2, with
ln sigma uniform on [ln 0.002, ln 80].

Also writes `tests/golden/ays/mlp_forward.txt`: D(x; sigma) of the exported f32 weights evaluated
by torch on fixed points (the Rust forward pass is checked against it).

Pinned: torch 2.9.1 (CPU), numpy 2.1.3, gguf 0.17.1. Deterministic: seed 0, 1 thread.
Run from the repo root: `python3 tools/ays/train_denoiser.py` (~1-3 min on one core), then
store the optimised schedule in the file (the committed model has it):
`python3 tools/ays/add_schedule.py models/denoiser.gguf tools/ays/schedules/ays_mlp_10.json`
and re-bless the host samples: `AYS_BLESS=1 cargo test -p picoformer --test ays_mlp`.
"""
import math
import os
import sys

import numpy as np
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SIGMA_DATA = 1.4
FOURIER = 4
WIDTH = 64
HIDDEN = 3
SIGMA_MIN, SIGMA_MAX = 0.002, 80.0
K = 8
RADIUS, STD = 2.0, 0.25
MEANS = np.array([[RADIUS * math.cos(2 * math.pi * k / K), RADIUS * math.sin(2 * math.pi * k / K)]
                  for k in range(K)])


class Mlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        widths = [2 + 1 + 2 * FOURIER] + [WIDTH] * HIDDEN + [2]
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))

    def forward(self, x, sigma):
        s2 = sigma ** 2
        sd2 = SIGMA_DATA ** 2
        c_skip = sd2 / (s2 + sd2)
        c_out = sigma * SIGMA_DATA / torch.sqrt(s2 + sd2)
        c_in = 1 / torch.sqrt(s2 + sd2)
        c_noise = torch.log(sigma) / 4
        feats = [c_in * x, c_noise]
        f = 1.0
        for _ in range(FOURIER):
            feats += [torch.sin(f * c_noise), torch.cos(f * c_noise)]
            f *= 2
        h = torch.cat(feats, dim=1)
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i + 1 < len(self.layers):
                h = torch.nn.functional.silu(h)
        return h, c_skip, c_out

    def denoise(self, x, sigma):
        f, c_skip, c_out = self(x, sigma)
        return c_skip * x + c_out * f


def sample_data(n, gen):
    k = torch.randint(0, K, (n,), generator=gen)
    return torch.tensor(MEANS, dtype=torch.float32)[k] + STD * torch.randn(n, 2, generator=gen)


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 12000
    torch.manual_seed(0)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)
    model = Mlp()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=1e-5)
    for it in range(steps):
        x0 = sample_data(2048, gen)
        u = torch.rand(2048, 1, generator=gen)
        sigma = torch.exp(math.log(SIGMA_MIN) + u * (math.log(SIGMA_MAX) - math.log(SIGMA_MIN)))
        x = x0 + sigma * torch.randn(2048, 2, generator=gen)
        f, c_skip, c_out = model(x, sigma)
        target = (x0 - c_skip * x) / c_out
        loss = ((f - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if it % 1000 == 0 or it + 1 == steps:
            print(f"step {it:6d} loss {loss.item():.5f}", flush=True)

    import gguf
    out = os.path.join(ROOT, "models", "denoiser.gguf")
    w = gguf.GGUFWriter(out, "mlp_denoiser")
    w.add_uint32("mlp_denoiser.dim", 2)
    w.add_float32("mlp_denoiser.sigma_data", SIGMA_DATA)
    w.add_uint32("mlp_denoiser.fourier_count", FOURIER)
    w.add_uint32("mlp_denoiser.block_count", len(model.layers))
    w.add_string("mlp_denoiser.data", "8 Gaussians, std 0.25, radius 2")
    w.add_float32("mlp_denoiser.sigma_min", SIGMA_MIN)
    w.add_float32("mlp_denoiser.sigma_max", SIGMA_MAX)
    for i, layer in enumerate(model.layers):
        w.add_tensor(f"blk.{i}.weight", layer.weight.detach().numpy().astype(np.float32))
        w.add_tensor(f"blk.{i}.bias", layer.bias.detach().numpy().astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print("wrote", out, os.path.getsize(out), "bytes")

    # Forward golden on fixed points.
    rng = np.random.default_rng(7)
    lines = []
    with torch.no_grad():
        for sigma in [0.002, 0.05, 0.3, 1.0, 2.5, 10.0, 80.0]:
            x = torch.tensor(rng.standard_normal((4, 2)) * (2 + sigma), dtype=torch.float32)
            d = model.denoise(x, torch.full((4, 1), sigma, dtype=torch.float32))
            lines.append("%r ; %s ; %s" % (sigma, " ".join(repr(float(v)) for v in x.flatten()),
                                           " ".join(repr(float(v)) for v in d.flatten())))
    with open(os.path.join(ROOT, "tests", "golden", "ays", "mlp_forward.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
