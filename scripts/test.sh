#!/usr/bin/env bash
# The project's test command (README, .ci/run): installs what it needs, then runs every stage in
# scripts/tests.d/ in order. Each stage is a plain bash script that exits non-zero on failure.
#   bash scripts/test.sh            # everything
#   bash scripts/test.sh 10 40      # only stages whose file names start with 10 or 40
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

passed=0; failed=0; failed_names=()
for stage in scripts/tests.d/*.sh; do
    name=$(basename "$stage" .sh)
    if [ $# -gt 0 ]; then
        keep=0; for p in "$@"; do [[ "$name" == "$p"* ]] && keep=1; done
        [ $keep = 1 ] || continue
    fi
    echo "=== stage $name"
    start=$SECONDS
    if bash "$stage"; then
        passed=$((passed + 1)); echo "=== stage $name ok ($((SECONDS - start)) s)"
    else
        failed=$((failed + 1)); failed_names+=("$name"); echo "=== stage $name FAILED ($((SECONDS - start)) s)"
    fi
done
[ $failed -eq 0 ] || echo "failed stages: ${failed_names[*]}"
echo "stages: $passed passed, $failed failed"
[ $failed -eq 0 ]
