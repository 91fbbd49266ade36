#!/usr/bin/env python3
"""Golden sampler trajectories for `tests/ays_samplers.rs`.

An independent NumPy float64 transcription of k-diffusion `k_diffusion/sampling.py`
(`sample_euler`, `sample_heun`, `sample_dpmpp_2m`, `sample_dpmpp_2m_sde`,
`sample_euler_ancestral`, `get_ancestral_step`) plus stochastic DDIM as in spec §7.5, run on
deterministic inputs: exact denoisers (Gaussian N(0, c^2 I), a 2-D Gaussian mixture) and a
fixed noise sequence. Noise rule shared with the crate: each stochastic step with
sigma_next > 0 and eta > 0 takes the next x.size values of the sequence.

Pinned: numpy 2.1.3. Run from the repo root: `python3 tests/golden/ays/make_golden.py`.
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


# ---- denoisers ---------------------------------------------------------------------------
def gauss_denoiser(var):
    return lambda x, sigma: var / (var + sigma ** 2) * x


MIX_W = np.array([0.5, 0.3, 0.2])
MIX_MU = np.array([[-2.0, 0.0], [1.5, 1.0], [0.5, -2.5]])
MIX_VAR = np.array([0.09, 0.25, 0.04])


def mixture_denoiser(x, sigma):
    pts = x.reshape(-1, 2)
    v = MIX_VAR[None, :] + sigma ** 2                       # (1, K)
    d2 = ((pts[:, None, :] - MIX_MU[None, :, :]) ** 2).sum(-1)  # (B, K)
    logw = np.log(MIX_W)[None, :] - 0.5 * d2 / v - np.log(2 * np.pi * v)
    logw -= logw.max(axis=1, keepdims=True)
    w = np.exp(logw)
    w /= w.sum(axis=1, keepdims=True)
    comp = (MIX_VAR[None, :, None] * pts[:, None, :] + sigma ** 2 * MIX_MU[None, :, :]) / v[:, :, None]
    return (w[:, :, None] * comp).sum(1).reshape(x.shape)


# ---- k-diffusion samplers (float64) -------------------------------------------------------
def to_d(x, sigma, denoised):
    return (x - denoised) / sigma


def get_ancestral_step(sigma_from, sigma_to, eta=1.0):
    if not eta:
        return sigma_to, 0.0
    sigma_up = min(sigma_to, eta * (sigma_to ** 2 * (sigma_from ** 2 - sigma_to ** 2) / sigma_from ** 2) ** 0.5)
    sigma_down = (sigma_to ** 2 - sigma_up ** 2) ** 0.5
    return sigma_down, sigma_up


def sample_euler(model, x, sigmas, noise):
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        d = to_d(x, sigmas[i], denoised)
        dt = sigmas[i + 1] - sigmas[i]
        x = x + d * dt
    return x


def sample_heun(model, x, sigmas, noise):
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        d = to_d(x, sigmas[i], denoised)
        dt = sigmas[i + 1] - sigmas[i]
        if sigmas[i + 1] == 0:
            x = x + d * dt
        else:
            x_2 = x + d * dt
            denoised_2 = model(x_2, sigmas[i + 1])
            d_2 = to_d(x_2, sigmas[i + 1], denoised_2)
            d_prime = (d + d_2) / 2
            x = x + d_prime * dt
    return x


def sample_dpmpp_2m(model, x, sigmas, noise):
    t_fn = lambda sigma: -np.log(sigma)
    sigma_fn = lambda t: np.exp(-t)
    old_denoised = None
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        if sigmas[i + 1] == 0:
            x = denoised  # (sigma_fn(inf)/sigma_fn(t)) * x - expm1(-inf) * denoised
        else:
            t, t_next = t_fn(sigmas[i]), t_fn(sigmas[i + 1])
            h = t_next - t
            if old_denoised is None:
                x = (sigma_fn(t_next) / sigma_fn(t)) * x - np.expm1(-h) * denoised
            else:
                h_last = t - t_fn(sigmas[i - 1])
                r = h_last / h
                denoised_d = (1 + 1 / (2 * r)) * denoised - (1 / (2 * r)) * old_denoised
                x = (sigma_fn(t_next) / sigma_fn(t)) * x - np.expm1(-h) * denoised_d
        old_denoised = denoised
    return x


def sample_dpmpp_2m_sde(model, x, sigmas, noise, eta=1.0, s_noise=1.0, solver_type="midpoint"):
    old_denoised = None
    h_last = None
    h = None
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        if sigmas[i + 1] == 0:
            x = denoised
        else:
            t, s = -np.log(sigmas[i]), -np.log(sigmas[i + 1])
            h = s - t
            eta_h = eta * h
            x = sigmas[i + 1] / sigmas[i] * np.exp(-eta_h) * x + (-np.expm1(-h - eta_h)) * denoised
            if old_denoised is not None:
                r = h_last / h
                if solver_type == "heun":
                    x = x + ((-np.expm1(-h - eta_h)) / (-h - eta_h) + 1) * (1 / r) * (denoised - old_denoised)
                else:
                    x = x + 0.5 * (-np.expm1(-h - eta_h)) * (1 / r) * (denoised - old_denoised)
            if eta:
                x = x + noise(x.size).reshape(x.shape) * sigmas[i + 1] * np.sqrt(-np.expm1(-2 * eta_h)) * s_noise
        old_denoised = denoised
        h_last = h
    return x


def sample_ddim(model, x, sigmas, noise, eta=1.0):
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        s, sn = sigmas[i], sigmas[i + 1]
        st = eta * sn * np.sqrt(1 - sn ** 2 / s ** 2)
        x = denoised + np.sqrt(sn ** 2 - st ** 2) * (x - denoised) / s
        if sn > 0 and eta > 0:
            x = x + st * noise(x.size).reshape(x.shape)
    return x


def sample_euler_ancestral(model, x, sigmas, noise, eta=1.0, s_noise=1.0):
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        sigma_down, sigma_up = get_ancestral_step(sigmas[i], sigmas[i + 1], eta=eta)
        d = to_d(x, sigmas[i], denoised)
        dt = sigma_down - sigmas[i]
        x = x + d * dt
        if sigmas[i + 1] > 0 and eta > 0:
            x = x + noise(x.size).reshape(x.shape) * s_noise * sigma_up
    return x


SAMPLERS = [
    ("euler", [], lambda m, x, s, n: sample_euler(m, x, s, n)),
    ("heun", [], lambda m, x, s, n: sample_heun(m, x, s, n)),
    ("dpmpp_2m", [], lambda m, x, s, n: sample_dpmpp_2m(m, x, s, n)),
    ("dpmpp_2m_sde", [1.0, 1.0, 0], lambda m, x, s, n: sample_dpmpp_2m_sde(m, x, s, n)),
    ("dpmpp_2m_sde", [0.5, 0.8, 1], lambda m, x, s, n: sample_dpmpp_2m_sde(m, x, s, n, 0.5, 0.8, "heun")),
    ("ddim", [0.0], lambda m, x, s, n: sample_ddim(m, x, s, n, 0.0)),
    ("ddim", [0.5], lambda m, x, s, n: sample_ddim(m, x, s, n, 0.5)),
    ("ddim", [1.0], lambda m, x, s, n: sample_ddim(m, x, s, n, 1.0)),
    ("euler_ancestral", [1.0, 1.0], lambda m, x, s, n: sample_euler_ancestral(m, x, s, n)),
    ("euler_ancestral", [0.7, 0.9], lambda m, x, s, n: sample_euler_ancestral(m, x, s, n, 0.7, 0.9)),
]


def main():
    rng = np.random.default_rng(20240422)
    noise_seq = rng.standard_normal(4096)
    # AYS SD1.5 10 steps (ComfyUI, f32 values), Karras rho=7 on the toy range, and a schedule
    # that stops at sigma > 0 (no final denoise step).
    ays10 = np.array([14.614641, 6.474576, 3.8636746, 2.6946151, 1.8841921, 1.3943805,
                      0.9642584, 0.6523686, 0.39774564, 0.15152326, 0.0], dtype=np.float32).astype(np.float64)
    ramp = np.linspace(0, 1, 7)
    a, b = 20.0 ** (1 / 7), 0.01 ** (1 / 7)
    karras7 = np.append((a + ramp * (b - a)) ** 7, 0.0)
    partial = np.array([5.0, 2.0, 0.7, 0.3])
    schedules = {"ays10": ays10, "karras7": karras7, "partial": partial}
    denoisers = {"gauss": (gauss_denoiser(0.25), 3), "mix": (mixture_denoiser, 8)}

    rec = ["noise " + " ".join(repr(float(v)) for v in noise_seq)]
    for sname, sig in schedules.items():
        rec.append("sigmas %s %s" % (sname, " ".join(repr(float(v)) for v in sig)))
    x_init = rng.standard_normal(8)
    rec.append("xinit " + " ".join(repr(float(v)) for v in x_init))
    for dname, (model, n) in denoisers.items():
        for sname, sig in schedules.items():
            for name, params, fn in SAMPLERS:
                pos = [0]

                def noise(k):
                    out = noise_seq[pos[0]:pos[0] + k]
                    assert len(out) == k
                    pos[0] += k
                    return out

                x0 = x_init[:n] * sig[0]
                out = fn(model, x0.copy(), sig, noise)
                rec.append("case %s %s %s %s %d ; %s" % (
                    dname, sname, name, ",".join(repr(p) for p in params) or "-", pos[0],
                    " ".join(repr(float(v)) for v in out)))
    with open(os.path.join(HERE, "samplers.txt"), "w") as f:
        f.write("\n".join(rec) + "\n")


if __name__ == "__main__":
    main()
