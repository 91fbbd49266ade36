#!/usr/bin/env python3
"""Side-by-side single-thread decode speed: picoformer vs llama.cpp (issue 9, goal 4) and,
with --candle, vs candle (issue 9: goal >= 1.25x candle).

Pinned packages: numpy 2.1.3, llama-cpp-python 0.3.16 (the llama.cpp it bundles, built on install);
candle-core / candle-transformers 0.11.1 (exact pins in benches/compare/candle/Cargo.toml).
Called by benches/compare/run.sh; usage:
  python3 compare.py --timer PATH/picoformer-decode-timer [--candle PATH/candle-decode-timer]
                     --n 128 --reps 3 MODEL.gguf...

Per model, alternating in one process, `reps` times:
  (a) picoformer: the timer binary (a subprocess) prefills token 1, then times N greedy decode
      steps (`Session::step` + `sample::greedy`); it runs twice and the second (warm) run counts;
  (b) llama.cpp: `Llama(n_threads=1, n_threads_batch=1, logits_all=False, F32 KV cache like
      ours, no flash attention)`, loaded once per model and warmed up once; reset, eval([1]),
      then N times: argmax of the last logits (numpy over llama_get_logits) and eval([token]).
      The timed loop includes llama-cpp-python's per-call Python overhead (tens of µs).
  (c) candle (only with --candle): benches/compare/candle, a subprocess like (a) with the same
      JSON output: quantized_llama::ModelWeights::from_gguf on the same file, forward(BOS, 0),
      then N times forward([token], pos) + argmax of the logits; runs twice, the second (warm)
      run counts; RAYON_NUM_THREADS=1 and CANDLE_NUM_THREADS=1 (one thread).
  (a') with --huge: (a) again with PICO_HUGEPAGES=1, so the timer copies the weights into
      anonymous memory advised MADV_HUGEPAGE (2 MiB transparent huge pages; what
      `pico run --huge-pages` does) instead of a heap buffer with 4 KiB pages. llama.cpp and candle
      keep their defaults (llama.cpp mmaps the file: 4 KiB page-cache pages). With
      --llama-no-mmap llama.cpp reads the weights into anonymous memory instead; run.sh's
      THP_ALWAYS=1 sets transparent huge pages to `always` for the run, so that memory, candle's
      heap and our heap buffer (the "4K" column) all get 2 MiB pages: every peer on huge pages.
Reports the median tok/s of each, ratio = ours / peer of the medians (> 1 means picoformer
is faster) and the median of the per-repetition (back-to-back) ratios.
"""

import argparse
import json
import os
import statistics
import subprocess
import time

import numpy as np


def ours(timer, model, n, env=None):
    out = subprocess.run([timer, model, str(n), "2"], check=True, capture_output=True, text=True, env=env).stdout
    last = json.loads(out.strip().splitlines()[-1])
    return last["tok_s"], last["backend"], last["last"]


def llama_load(model, n, use_mmap=True):
    from llama_cpp import Llama

    return Llama(
        model_path=model,
        use_mmap=use_mmap,
        n_ctx=max(256, n + 8),
        n_batch=64,
        n_threads=1,
        n_threads_batch=1,
        logits_all=False,
        type_k=0,  # GGML_TYPE_F32, as picoformer's default KV rows
        type_v=0,
        flash_attn=False,
        verbose=False,
    )


def llama_decode(llm, n):
    nv = llm.n_vocab()
    llm.reset()
    llm.eval([1])
    nxt = int(np.argmax(np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(nv,))))
    t0 = time.perf_counter()
    for _ in range(n):
        llm.eval([nxt])
        nxt = int(np.argmax(np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(nv,))))
    return n / (time.perf_counter() - t0), nxt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timer", required=True)
    ap.add_argument("--candle", default=None, help="candle-decode-timer binary (optional third peer)")
    ap.add_argument("--huge", action="store_true", help="also time ours with 2 MiB pages (PICO_HUGEPAGES=1)")
    ap.add_argument("--llama-no-mmap", action="store_true",
                    help="llama.cpp reads the weights into anonymous memory (use_mmap=False), which "
                         "transparent huge pages in mode `always` back with 2 MiB pages")
    ap.add_argument("--n", type=int, default=128)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--json", default=None)
    ap.add_argument("models", nargs="+")
    a = ap.parse_args()
    candle_env = dict(os.environ, RAYON_NUM_THREADS="1", CANDLE_NUM_THREADS="1")
    huge_env = dict(os.environ, PICO_HUGEPAGES="1")
    rows = []
    for model in a.models:
        llm = llama_load(model, a.n, use_mmap=not a.llama_no_mmap)
        llama_decode(llm, a.n)  # warm-up
        mine, cpp, cdl, huge = [], [], [], []
        backend = last_ours = last_cpp = backend_candle = last_candle = None
        for _ in range(a.reps):
            t, backend, last_ours = ours(a.timer, model, a.n)
            mine.append(t)
            if a.huge:
                t, _, last_huge = ours(a.timer, model, a.n, env=huge_env)
                huge.append(t)
                assert last_huge == last_ours, "huge pages changed the decoded tokens"
            t, last_cpp = llama_decode(llm, a.n)
            cpp.append(t)
            if a.candle:
                # same protocol and output format as our timer
                t, backend_candle, last_candle = ours(a.candle, model, a.n, env=candle_env)
                cdl.append(t)
        del llm
        row = {
            "model": os.path.basename(model),
            "backend": backend,
            "ours_tok_s": mine,
            "llamacpp_tok_s": cpp,
            "ours_median": statistics.median(mine),
            # last greedy token after N steps: equal = both decoded the same sequence (expected
            # for F32; Q8_0 may differ as the activation rounding differs)
            "last_token_ours": last_ours,
            "last_token_llamacpp": last_cpp,
            "llamacpp_median": statistics.median(cpp),
        }
        row["ratio"] = row["ours_median"] / row["llamacpp_median"]
        # each repetition runs ours and llama.cpp back to back: their ratio cancels slow load drift
        row["paired_ratio_median"] = statistics.median(m / c for m, c in zip(mine, cpp))
        if a.candle:
            row["backend_candle"] = backend_candle
            row["candle_tok_s"] = cdl
            row["candle_median"] = statistics.median(cdl)
            row["last_token_candle"] = last_candle
            row["ratio_candle"] = row["ours_median"] / row["candle_median"]
            row["paired_ratio_candle_median"] = statistics.median(m / c for m, c in zip(mine, cdl))
        if a.huge:
            row["ours_huge_tok_s"] = huge
            row["ours_huge_median"] = statistics.median(huge)
            row["ratio_huge"] = row["ours_huge_median"] / row["llamacpp_median"]
            row["paired_ratio_huge_median"] = statistics.median(m / c for m, c in zip(huge, cpp))
            if a.candle:
                row["ratio_huge_candle"] = row["ours_huge_median"] / row["candle_median"]
                row["paired_ratio_huge_candle_median"] = statistics.median(m / c for m, c in zip(huge, cdl))
        rows.append(row)
        print(json.dumps(row), flush=True)
    print()
    if a.candle and a.huge:
        table_with_candle_huge(rows)
    elif a.candle:
        table_with_candle(rows)
    else:
        table(rows)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)


def fmt(v):
    return ", ".join(f"{x:.0f}" for x in v)


def table_with_candle(rows):
    print("| model | picoformer tok/s (median) | llama.cpp tok/s (median) | candle tok/s (median) | ours/llama.cpp (medians) | ours/llama.cpp (median paired) | ours/candle (medians) | ours/candle (median paired) | runs ours | runs llama.cpp | runs candle |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['ours_median']:.1f} | {r['llamacpp_median']:.1f} | {r['candle_median']:.1f} | {r['ratio']:.2f} | {r['paired_ratio_median']:.2f} | {r['ratio_candle']:.2f} | {r['paired_ratio_candle_median']:.2f} | {fmt(r['ours_tok_s'])} | {fmt(r['llamacpp_tok_s'])} | {fmt(r['candle_tok_s'])} |")


def table_with_candle_huge(rows):
    print("ratios: ratio of medians / median of the per-repetition ratios; 4K = weights in a heap buffer, 2M = huge pages")
    print()
    print("| model | ours 4K tok/s | ours 2M tok/s | llama.cpp tok/s | candle tok/s | ours 4K / llama.cpp | ours 2M / llama.cpp | ours 4K / candle | ours 2M / candle |")
    print("|---|---:|---:|---:|---:|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['ours_median']:.1f} | {r['ours_huge_median']:.1f} | {r['llamacpp_median']:.1f} | {r['candle_median']:.1f} "
              f"| {r['ratio']:.2f} / {r['paired_ratio_median']:.2f} | {r['ratio_huge']:.2f} / {r['paired_ratio_huge_median']:.2f} "
              f"| {r['ratio_candle']:.2f} / {r['paired_ratio_candle_median']:.2f} | {r['ratio_huge_candle']:.2f} / {r['paired_ratio_huge_candle_median']:.2f} |")


def table(rows):
    print("| model | picoformer tok/s (median) | llama.cpp tok/s (median) | ratio of medians | median paired ratio | runs ours | runs llama.cpp |")
    print("|---|---:|---:|---:|---:|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['ours_median']:.1f} | {r['llamacpp_median']:.1f} | {r['ratio']:.2f} | {r['paired_ratio_median']:.2f} | {fmt(r['ours_tok_s'])} | {fmt(r['llamacpp_tok_s'])} |")


if __name__ == "__main__":
    main()
