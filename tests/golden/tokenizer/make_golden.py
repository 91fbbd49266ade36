#!/usr/bin/env python3
"""Golden vectors for `src/tokenizer.rs` (SentencePiece-BPE as llama.cpp runs it).

Pinned packages: sentencepiece==0.2.0, gguf==0.17.1, numpy==2.1.3,
llama-cpp-python==0.3.16 (optional second oracle; skipped when not importable).

1. Trains a tiny SentencePiece BPE model (vocab 400, byte_fallback, identity normaliser,
   no whitespace squashing, dummy prefix: the LLaMA tokenizer's options) on `corpus.txt`
   (the first 40 questions of GSM8K test, MIT licence).
2. Exports its vocabulary to `vocab.gguf` exactly as llama.cpp's `convert_hf_to_gguf.py`
   (`_set_vocab_sentencepiece`) writes an SPM vocabulary: tokenizer.ggml.model = "llama",
   tokens, scores, token_type (1 normal, 2 unknown, 3 control, 5 unused, 6 byte),
   bos/eos/unk ids, add_space_prefix. A minimal `llama` model (1 layer, d = 8, random
   weights) rides along so llama.cpp can load the file.
   The SentencePiece model itself is kept as `tokenizer.model` (input of the OpenELM
   converter test, `tools/tests/convert.rs`).
3. Writes `cases.txt`, one case per line, tab separated, all text hex encoded:
   `text_hex  sp_ids  llama_ids  sp_decode_hex  llama_detok_hex  llama_detok_bos_hex`
   ids are comma separated (`-` = empty, `?` = oracle unavailable).
   `sp_ids` = `sp.encode(text)`; `llama_ids` = llama.cpp `llama_tokenize(text,
   add_special=False, parse_special=False)`; decodes are of `sp_ids`: `sp.decode(ids)`,
   llama.cpp's C `llama_detokenize(ids, remove_special=False, unparse_special=False)`, and
   the same of `[bos] + ids`.

Run from the repository root: `python3 tests/golden/tokenizer/make_golden.py`.
"""
import json
import os
import shutil
import sys

import numpy as np
import sentencepiece as spm
import gguf

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus.txt")
DATA = "/work/shared/data/gsm8k_test.jsonl"

if not os.path.exists(CORPUS):
    with open(DATA, encoding="utf-8") as f:
        lines = [json.loads(next(f))["question"] for _ in range(40)]
    with open(CORPUS, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")

prefix = os.path.join("/tmp", "pico_tok_golden")
spm.SentencePieceTrainer.train(
    input=CORPUS,
    model_prefix=prefix,
    model_type="bpe",
    vocab_size=400,
    byte_fallback=True,
    character_coverage=1.0,
    normalization_rule_name="identity",
    remove_extra_whitespaces=False,
    add_dummy_prefix=True,
    split_digits=True,
    allow_whitespace_only_pieces=True,
    num_threads=1,
    minloglevel=2,
)
shutil.copyfile(prefix + ".model", os.path.join(HERE, "tokenizer.model"))  # for convert tests
sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
n = sp.vocab_size()

# --- GGUF vocabulary, as llama.cpp's converter writes it -------------------------------
tokens, scores, types = [], [], []
for i in range(n):
    tokens.append(sp.IdToPiece(i).encode("utf-8"))
    scores.append(sp.GetScore(i))
    t = 1
    if sp.IsUnknown(i):
        t = 2
    elif sp.IsControl(i):
        t = 3
    elif sp.IsUnused(i):
        t = 5
    elif sp.IsByte(i):
        t = 6
    types.append(t)

path = os.path.join(HERE, "vocab.gguf")
w = gguf.GGUFWriter(path, "llama")
d, ff = 8, 16
w.add_block_count(1)
w.add_context_length(64)
w.add_embedding_length(d)
w.add_feed_forward_length(ff)
w.add_head_count(2)
w.add_head_count_kv(2)
w.add_layer_norm_rms_eps(1e-5)
w.add_rope_dimension_count(d // 2)
w.add_tokenizer_model("llama")
w.add_tokenizer_pre("default")
w.add_token_list(tokens)
w.add_token_scores(scores)
w.add_token_types(types)
w.add_bos_token_id(sp.bos_id())
w.add_eos_token_id(sp.eos_id())
w.add_unk_token_id(sp.unk_id())
w.add_add_space_prefix(True)
w.add_add_bos_token(True)
w.add_add_eos_token(False)
rng = np.random.default_rng(0)
def t(name, *shape):
    w.add_tensor(name, (rng.standard_normal(shape) * 0.1).astype(np.float32))
t("token_embd.weight", n, d)
t("output_norm.weight", d)
t("blk.0.attn_norm.weight", d)
t("blk.0.attn_q.weight", d, d)
t("blk.0.attn_k.weight", d, d)
t("blk.0.attn_v.weight", d, d)
t("blk.0.attn_output.weight", d, d)
t("blk.0.ffn_norm.weight", d)
t("blk.0.ffn_gate.weight", ff, d)
t("blk.0.ffn_up.weight", ff, d)
t("blk.0.ffn_down.weight", d, ff)
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()

# --- cases ----------------------------------------------------------------------------
cases = [
    "",
    " ",
    "  ",
    "a",
    "Hello world",
    "Hello  world",
    "Hello   world  ",
    " leading space",
    "   three leading",
    "trailing space ",
    "trailing spaces   ",
    "Janet's ducks lay 16 eggs per day.",
    "She eats three for breakfast every morning and bakes muffins for her friends.",
    "How much in dollars does she make every day at the farmers' market?",
    "1234567890",
    "$2 per fresh duck egg",
    "Janet\u2019s ducks",
    "caf\u00e9 na\u00efve r\u00e9sum\u00e9",
    "\u00fcber Stra\u00dfe",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8",
    "emoji \U0001F600 and \U0001F680!",
    "\U0001F44D\U0001F3FD",
    "tab\tseparated\tvalues",
    "line one\nline two\n",
    "\n",
    "\r\n",
    "multiple\n\nnewlines",
    "ALL CAPS SHOUTING",
    "mIxEd CaSe",
    "punctuation!?.,;:'\"()[]{}",
    "a-b_c+d=e*f/g\\h",
    "<s>",
    "</s>",
    "<unk>",
    "<0x41>",
    "\u2581",
    "\u2581\u2581 already escaped",
    "x" * 40,
    "eee", "eeeee", "beee", "teee x", "b eee eee",  # equal-score adjacent pairs: leftmost wins
    "the the the the the",
    "the",
    " the",
    "theory thermal",
    "eggs",
    "muffins",
    "breakfast",
    "remainder",
    "\u00a0non-breaking space",
    "\u0000nul",
    "\u0394\u03b5\u03bb\u03c4\u03b1 \u0391\u03b8\u03ae\u03bd\u03b1",
    "\u041f\u0440\u0438\u0432\u0435\u0442",
    "\u0645\u0631\u062d\u0628\u0627",
    "zzz qqq xxx",
    "A robe takes 2 bolts of blue fiber and half that much white fiber.  How many bolts in total does it take?",
    open(CORPUS, encoding="utf-8").read(),  # the whole training text: a long input
]

try:
    import llama_cpp

    import ctypes

    llm = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False)
    lvocab = llama_cpp.llama_model_get_vocab(llm.model)

    def llama_detok(ids):
        arr = (llama_cpp.llama_token * max(len(ids), 1))(*ids)
        buf = ctypes.create_string_buffer(65536)
        k = llama_cpp.llama_detokenize(lvocab, arr, len(ids), buf, 65536, False, False)
        assert k >= 0
        return buf.raw[:k]
except Exception as e:  # pragma: no cover - optional oracle
    print("llama.cpp oracle unavailable:", e, file=sys.stderr)
    llm = None


def ids_str(ids):
    return ",".join(str(i) for i in ids) if ids else "-"


diffs = 0
with open(os.path.join(HERE, "cases.txt"), "w") as f:
    for text in cases:
        ids = sp.encode(text)
        dec = sp.decode(ids).encode("utf-8")
        if llm is not None:
            lids = llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)
            ldet = llama_detok(ids)
            lbos = llama_detok([sp.bos_id()] + ids)
            if lids != ids:
                diffs += 1
                print("DIFF sp vs llama.cpp:", repr(text), ids, lids, file=sys.stderr)
            lids_s, ldet_s, lbos_s = ids_str(lids), ldet.hex() or "-", lbos.hex() or "-"
        else:
            lids_s, ldet_s, lbos_s = "?", "?", "?"
        f.write(
            "\t".join([text.encode("utf-8").hex() or "-", ids_str(ids), lids_s, dec.hex() or "-", ldet_s, lbos_s])
            + "\n"
        )
print(f"{len(cases)} cases, vocab {n}, {diffs} sp/llama.cpp id differences")

# --- invalid UTF-8: llama.cpp only (sentencepiece takes Python str) ------------------------
# llama.cpp splits the *escaped* bytes with unicode_len_utf8, so a stray lead byte can
# swallow the first byte of a following `▁`; the result is byte tokens. Recorded as
# `text_hex  llama_ids` in cases_invalid_utf8.txt.
if llm is not None:
    raw_cases = [b"\xc0 ", b"\xe2\x96", b"ab\xff\xfe cd", b"\xf0\x9f\x98", b"x\x80y",
                 b"\xc3", b"  \xe2\x96\x81\xe2", b"\xed\xa0\x80 surrogate", b"\xf8\x88\x80\x80\x80"]
    with open(os.path.join(HERE, "cases_invalid_utf8.txt"), "w") as f:
        for raw in raw_cases:
            f.write(raw.hex() + "\t" + ids_str(llm.tokenize(raw, add_bos=False, special=False)) + "\n")
