#!/usr/bin/env bash
# The test command (`pnpm test`, or `bash scripts/test.sh` on a fresh machine without pnpm):
# installs pnpm and the locked dependencies, brings the servers up (infra/up.sh), type-checks, lints,
# checks the dependency rule (scripts/check-deps.ts) and the generated schema module,
# runs every vitest project (unit + integration) and stops the servers it started.
# Every step runs even when an earlier one fails, so one run shows everything; the exit code is
# non-zero when any step failed.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
STATE="${MERIDIAN_INFRA_STATE:-$ROOT/infra/.state}"

# Each step header shows the seconds elapsed since the start.
step() { echo; echo "==> [${SECONDS}s] $*"; }
die() { echo "test.sh: $*" >&2; exit 1; }

node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" || die "node not found (Node 20+ needed)"
[ "$node_major" -ge 20 ] || die "Node $node_major found; Node 20+ needed"

if ! command -v pnpm >/dev/null; then
  step "installing pnpm 12.4.2"
  npm i -g -E pnpm@12.4.2 || die "could not install pnpm"
fi

step "pnpm install --frozen-lockfile"
pnpm install --frozen-lockfile || die "pnpm install failed"

# Servers: this run holds them (by its pid) until it ends; down.sh leaves them up if another run
# or a manual `pnpm infra:up` still uses them.
export MERIDIAN_INFRA_HOLDER="$$"
cleanup() {
  local rc=$?
  step "infra down"
  bash "$ROOT/infra/down.sh" || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "infra up"
bash infra/up.sh || die "infra/up.sh failed"
set -a
# shellcheck disable=SC1091
source "$STATE/env"
set +a

failed=()
step "type check: pnpm tsc --noEmit -p tsconfig.json"
pnpm tsc --noEmit -p tsconfig.json || failed+=("typecheck")

step "lint: pnpm biome check ."
pnpm biome check . || failed+=("lint")

step "dependency rule: pnpm check:deps (packages never import services, declared = imported, no cycles)"
pnpm check:deps || failed+=("deps")

step "generated code: pnpm gen:schemas --check (the bus's schema module matches schemas/*.avsc)"
pnpm gen:schemas --check || failed+=("schemas")

step "tests: pnpm vitest run (unit + integration)"
pnpm vitest run || failed+=("vitest")

echo
if [ "${#failed[@]}" -gt 0 ]; then
  echo "test.sh: FAILED steps: ${failed[*]} (${SECONDS}s)"
  exit 1
fi
echo "test.sh: all steps passed (typecheck, lint, deps, vitest) in ${SECONDS}s"
