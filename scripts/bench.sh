#!/usr/bin/env bash
# Runs every bench/<area>/index.ts with tsx against the servers of infra/up.sh, printing each table.
# Exit code non-zero when any benchmark failed; servers this run started are stopped at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
STATE="${MERIDIAN_INFRA_STATE:-$ROOT/infra/.state}"

# --quick: every area runs its short form (MERIDIAN_BENCH_QUICK=1) and leaves BENCHMARKS.md as it is;
# any other argument names the areas to run (e.g. `pnpm bench locks read`).
areas=()
for a in "$@"; do
  case "$a" in
    --quick) export MERIDIAN_BENCH_QUICK=1 ;;
    --) ;;
    *) areas+=("$a") ;;
  esac
done

shopt -s nullglob
benches=(bench/*/index.ts)
if [ "${#areas[@]}" -gt 0 ]; then
  benches=()
  for a in "${areas[@]}"; do benches+=("bench/$a/index.ts"); done
fi
if [ "${#benches[@]}" -eq 0 ]; then
  echo "bench.sh: no bench/<area>/index.ts yet"
  exit 0
fi

export MERIDIAN_INFRA_HOLDER="$$"
trap 'bash "$ROOT/infra/down.sh"' EXIT
bash infra/up.sh || exit 1
set -a
# shellcheck disable=SC1091
source "$STATE/env"
set +a

echo "machine: $(uname -srm), $(nproc) CPUs, node $(node -v), $(date -u +%FT%TZ)"
failed=()
for b in "${benches[@]}"; do
  echo
  echo "==> $b"
  node_modules/.bin/tsx "$b" || failed+=("$b")
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "bench.sh: FAILED: ${failed[*]}"
  exit 1
fi
