#!/usr/bin/env python3
"""Golden schedules for `tests/ays_schedules.rs` and the committed table `src/ays/precomputed.rs`.

Independent reference: the ComfyUI `AlignYourStepsScheduler.get_sigmas` / `loglinear_interp`
code (comfy_extras/nodes_align_your_steps.py), A1111 `get_align_your_steps_sigmas`
(modules/sd_schedulers.py), the k-diffusion baselines (`get_sigmas_karras`,
`get_sigmas_exponential`), ComfyUI `kl_optimal_scheduler` and the SD scaled-linear schedule,
re-typed in NumPy float64 (no torch: `torch.FloatTensor(np_f64)` == `.astype(np.float32)`).

Pinned: numpy 2.1.3. Run from the repo root: `python3 tests/golden/ays/make_schedules.py`.
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))

NOISE_LEVELS = {
    "sd15": [14.6146412293, 6.4745760956, 3.8636745985, 2.6946151520, 1.8841921177, 1.3943805092,
             0.9642583904, 0.6523686016, 0.3977456272, 0.1515232662, 0.0291671582],
    "sdxl": [14.6146412293, 6.3184485287, 3.7681790315, 2.1811480769, 1.3405244945, 0.8620721141,
             0.5550693289, 0.3798540708, 0.2332364134, 0.1114188177, 0.0291671582],
    "svd": [700.00, 54.5, 15.886, 7.977, 4.248, 1.789, 0.981, 0.403, 0.173, 0.034, 0.002],
}
A1111 = {
    "sd15": [14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029],
    "sdxl": [14.615, 6.315, 3.771, 2.181, 1.342, 0.862, 0.555, 0.380, 0.234, 0.113, 0.029],
    "svd": NOISE_LEVELS["svd"],
}
TIMESTEPS = {
    "sd15": [999, 850, 736, 645, 545, 455, 343, 233, 124, 24, 0],
    "sdxl": [999, 845, 730, 587, 443, 310, 193, 116, 53, 13, 0],
}
PRECOMPUTED_STEPS = [4, 5, 6, 8, 10, 12, 15, 16, 20, 25, 30, 32, 40, 50]


def loglinear_interp(t_steps, num_steps):
    xs = np.linspace(0, 1, len(t_steps))
    ys = np.log(t_steps[::-1])
    new_xs = np.linspace(0, 1, num_steps)
    new_ys = np.interp(new_xs, xs, ys)
    return np.exp(new_ys)[::-1].copy()


def comfy(model, steps, denoise):
    total_steps = steps
    if denoise < 1.0:
        if denoise <= 0.0:
            return np.zeros(0)
        total_steps = round(steps * denoise)
    sigmas = NOISE_LEVELS[model][:]
    if (steps + 1) != len(sigmas):
        sigmas = loglinear_interp(sigmas, steps + 1)
    sigmas = np.array(sigmas[-(total_steps + 1):], dtype=np.float64)
    sigmas[-1] = 0
    return sigmas


def a1111(model, n):
    sigmas = A1111[model][:]
    if n != len(sigmas):
        return np.append(loglinear_interp(sigmas, n), [0.0])
    return np.array(sigmas + [0.0])


def sd_sigmas():
    betas = np.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=np.float64) ** 2
    ac = np.cumprod(1.0 - betas)
    return np.sqrt((1 - ac) / ac)


def t_to_sigma(table, t):
    log_sigmas = np.log(table)
    lo = int(np.floor(t))
    hi = int(np.ceil(t))
    w = t - lo
    return float(np.exp((1 - w) * log_sigmas[lo] + w * log_sigmas[hi]))


def sigma_to_t(table, sigma):
    log_sigmas = np.log(table)
    log_sigma = np.log(sigma)
    dists = log_sigma - log_sigmas
    low_idx = min(int(np.cumsum(dists >= 0).argmax()), len(table) - 2)
    high_idx = low_idx + 1
    low, high = log_sigmas[low_idx], log_sigmas[high_idx]
    w = np.clip((low - log_sigma) / (low - high), 0, 1)
    return float((1 - w) * low_idx + w * high_idx)


def karras(n, smin, smax, rho=7.0):
    ramp = np.linspace(0, 1, n)
    a, b = smax ** (1 / rho), smin ** (1 / rho)
    return np.append((a + ramp * (b - a)) ** rho, 0.0)


def exponential(n, smin, smax):
    return np.append(np.exp(np.linspace(np.log(smax), np.log(smin), n)), 0.0)


def kl_optimal(n, smin, smax):
    adj = np.arange(n, dtype=np.float64) / (n - 1)
    return np.append(np.tan(adj * np.arctan(smin) + (1 - adj) * np.arctan(smax)), 0.0)


def time_uniform(table, n):
    ts = np.linspace(len(table) - 1, 0, n)
    return np.append([t_to_sigma(table, t) for t in ts], 0.0)


def f32bits(a):
    return [int(v) for v in np.asarray(a, dtype=np.float32).view(np.uint32)]


def main():
    cases = []
    for model in NOISE_LEVELS:
        for steps in [1, 2, 3, 4, 5, 7, 9, 10, 11, 13, 20, 32, 50, 100]:
            for denoise in [1.0, 0.75, 0.5, 0.3, 0.25, 0.05]:
                s = comfy(model, steps, denoise)
                cases.append({"model": model, "convention": "comfy", "steps": steps,
                              "denoise": denoise, "f64": s.tolist(), "f32": f32bits(s)})
        for steps in [1, 2, 5, 10, 11, 20, 32]:
            s = a1111(model, steps)
            cases.append({"model": model, "convention": "a1111", "steps": steps,
                          "denoise": 1.0, "f64": s.tolist(), "f32": f32bits(s)})
    table = sd_sigmas()
    smin, smax = float(table[0]), float(table[-1])
    baselines = []
    for n in [1, 2, 5, 10, 20]:
        for name, s in [("karras", karras(n, smin, smax)), ("exponential", exponential(n, smin, smax)),
                        ("time_uniform", time_uniform(table, n))]:
            baselines.append({"name": name, "n": n, "sigma_min": smin, "sigma_max": smax,
                              "rho": 7.0, "f64": s.tolist()})
        if n >= 2:
            baselines.append({"name": "kl_optimal", "n": n, "sigma_min": smin, "sigma_max": smax,
                              "rho": 7.0, "f64": kl_optimal(n, smin, smax).tolist()})
    for n in [3, 10]:
        baselines.append({"name": "karras", "n": n, "sigma_min": 0.002, "sigma_max": 80.0, "rho": 7.0,
                          "f64": karras(n, 0.002, 80.0).tolist()})
        baselines.append({"name": "karras", "n": n, "sigma_min": 0.002, "sigma_max": 80.0, "rho": 3.0,
                          "f64": karras(n, 0.002, 80.0, 3.0).tolist()})
    probe_t = [0.0, 0.5, 1.0, 24.0, 123.25, 500.5, 998.9, 999.0]
    probe_sigma = [0.01, 0.0291671582, 0.05, 0.1515232662, 1.0, 3.3, 14.6, 14.6146412293, 20.0]
    # Plain text, one record per line (the kernel crate has no JSON dev-dependency):
    #   case <convention> <model> <steps> <denoise> ; f64 <values> ; f32 <bit patterns>
    #   base <name> <n> <sigma_min> <sigma_max> <rho> ; f64 <values>
    #   sd_sigma <t> <sigma> | t_to_sigma <t> <sigma> | sigma_to_t <sigma> <t>
    rec = []
    for c in cases:
        rec.append("case %s %s %d %r ; f64 %s ; f32 %s" % (
            c["convention"], c["model"], c["steps"], c["denoise"],
            " ".join(repr(v) for v in c["f64"]), " ".join(str(v) for v in c["f32"])))
    for b_ in baselines:
        rec.append("base %s %d %r %r %r ; f64 %s" % (
            b_["name"], b_["n"], b_["sigma_min"], b_["sigma_max"], b_["rho"],
            " ".join(repr(v) for v in b_["f64"])))
    for t in [0, 1, 13, 24, 53, 124, 500, 998, 999]:
        rec.append("sd_sigma %d %r" % (t, float(table[t])))
    for t in probe_t:
        rec.append("t_to_sigma %r %r" % (t, t_to_sigma(table, t)))
    for sg in probe_sigma:
        rec.append("sigma_to_t %r %r" % (sg, sigma_to_t(table, sg)))
    with open(os.path.join(HERE, "schedules.txt"), "w") as f:
        f.write("\n".join(rec) + "\n")

    lines = [
        "//! Committed AYS schedules for common step counts (ComfyUI convention, denoise 1), so a",
        "//! device needs no transcendental math. GENERATED by `tests/golden/ays/make_schedules.py`",
        "//! (NumPy float64, cast to f32); `tests/ays_schedules.rs` checks them against the runtime",
        "//! interpolation.",
        "",
        "use super::tables::Model;",
        "",
        "/// Step counts with a committed table.",
        "pub const PRECOMPUTED_STEPS: [usize; %d] = %s;" % (len(PRECOMPUTED_STEPS), PRECOMPUTED_STEPS),
        "",
    ]
    match = {m: [] for m in NOISE_LEVELS}
    for model in NOISE_LEVELS:
        for steps in PRECOMPUTED_STEPS:
            name = "%s_%d" % (model.upper(), steps)
            vals = np.asarray(comfy(model, steps, 1.0), dtype=np.float32)
            # shortest decimal that round-trips the f32 bits
            body = ", ".join(np.format_float_positional(v, unique=True, trim="0") + "_f32" for v in vals)
            lines.append("const %s: [f32; %d] = [%s];" % (name, len(vals), body))
            match[model].append("            %d => &%s," % (steps, name))
    lines += [
        "",
        "/// The committed f32 schedule (`steps + 1` values, last 0) for `model` and `steps`, if",
        "/// `steps` is one of [`PRECOMPUTED_STEPS`]; identical to what [`ays`](super::ays) computes.",
        "pub const fn precomputed(model: Model, steps: usize) -> Option<&'static [f32]> {",
        "    Some(match model {",
    ]
    for model, variant in [("sd15", "Sd15"), ("sdxl", "Sdxl"), ("svd", "Svd")]:
        lines.append("        Model::%s => match steps {" % variant)
        lines += match[model]
        lines.append("            _ => return None,")
        lines.append("        },")
    lines += ["    })", "}", ""]
    with open(os.path.join(ROOT, "src", "ays", "precomputed.rs"), "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
