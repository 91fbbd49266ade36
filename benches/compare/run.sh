#!/usr/bin/env bash
# Side-by-side single-thread decode speed, picoformer vs llama.cpp (issue 9 goal 4). Not run in CI.
#
#   bash benches/compare/run.sh [SIZES] [N] [REPS]      (defaults: 260K,15M,42M,110M 128 3)
#
# Needs numpy 2.1.3, gguf 0.17.1 and llama-cpp-python 0.3.16 (pip install llama-cpp-python==0.3.16
# builds llama.cpp for this CPU). Models go to $OUT (default /tmp/pico-compare), never the repo.
# Runs under `nice -n -5` when permitted. Prints machine info and a markdown table.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SIZES="${1:-260K,15M,42M,110M}"
N="${2:-128}"
REPS="${3:-3}"
OUT="${OUT:-/tmp/pico-compare}"
CANDLE="${CANDLE:-1}"
HUGE="${HUGE:-1}"   # also time ours with the weights on 2 MiB pages (PICO_HUGEPAGES=1)

python3 "$ROOT/benches/compare/make_models.py" --out "$OUT" --sizes "$SIZES"
cargo build --release --manifest-path "$ROOT/benches/compare/timer/Cargo.toml"
TIMER="$ROOT/benches/compare/timer/target/release/picoformer-decode-timer"
CANDLE_ARGS=()
if [ "$CANDLE" != 0 ]; then
  RUSTFLAGS="-C target-cpu=native" cargo build --release --locked \
    --manifest-path "$ROOT/benches/compare/candle/Cargo.toml"
  CANDLE_ARGS=(--candle "$ROOT/benches/compare/candle/target/release/candle-decode-timer")
fi

MODELS=()
IFS=, read -ra S <<<"$SIZES"
for s in "${S[@]}"; do
  for t in f32 q8_0; do MODELS+=("$OUT/stories${s}_${t}.gguf"); done
done

# numpy loads OpenBLAS; keep its worker threads off the second core
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

NICE=()
if nice -n -5 true 2>/dev/null; then NICE=(nice -n -5); fi

echo "date: $(date -u +%FT%TZ)"
echo "cpu: $(lscpu | sed -n "s/^Model name: *//p"), $(nproc --all) cores"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
# the timer builds picoformer from $ROOT's working tree: say which commit and whether src/ has
# uncommitted edits (a shared checkout); PICO_REV names the commit of a `git archive` snapshot
REV="${PICO_REV:-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)}"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
  TREE="uncommitted files in src/, Cargo.toml: $(git -C "$ROOT" status --porcelain -- src Cargo.toml | wc -l)"
else
  TREE="not a git checkout"
fi
echo "picoformer: $REV ($TREE), rustc $(rustc --version | cut -d' ' -f2)"
python3 -c "import llama_cpp; print('llama-cpp-python', llama_cpp.__version__); print(llama_cpp.llama_print_system_info().decode())"
if [ "$CANDLE" != 0 ]; then
  echo "candle: $(sed -n 's/^candle-core = "=\(.*\)"/candle-core \1/p' "$ROOT/benches/compare/candle/Cargo.toml"), RUSTFLAGS=\"-C target-cpu=native\", RAYON_NUM_THREADS=1 CANDLE_NUM_THREADS=1"
fi
HUGE_ARGS=()
if [ "$HUGE" != 0 ]; then HUGE_ARGS=(--huge); fi
# THP_ALWAYS=1 (root): transparent huge pages `always` for this run (restored on exit) and
# llama.cpp without mmap, so every peer's weights sit on 2 MiB pages
THP=/sys/kernel/mm/transparent_hugepage/enabled
if [ "${THP_ALWAYS:-0}" != 0 ]; then
  old_thp=$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$THP")
  trap 'echo "$old_thp" > "$THP"' EXIT
  echo always > "$THP"
  HUGE_ARGS+=(--llama-no-mmap)
fi
echo "transparent huge pages: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo n/a)"
# the memory-bandwidth bound of weight streaming (STREAM-like, single thread, 1 GiB buffers)
"$ROOT/benches/compare/timer/target/release/stream" 1024 | sed 's/^/bandwidth: /'
"${NICE[@]}" python3 "$ROOT/benches/compare/compare.py" --timer "$TIMER" "${CANDLE_ARGS[@]}" "${HUGE_ARGS[@]}" --n "$N" --reps "$REPS" \
  --json "$OUT/results.json" "${MODELS[@]}"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
