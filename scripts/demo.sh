#!/usr/bin/env bash
# The main job (`pnpm demo`): from a fresh clone, installs dependencies, brings the servers up (Kafka,
# schema registry, Redis, PostgreSQL via infra/up.sh), runs five regions + replicator + consumers + market
# data with the consistency monitor and the live dashboard for MERIDIAN_DEMO_SECONDS (default 60), writes
# reports/consistency-report.{html,json}, and stops everything it started.
# Extra arguments go to `meridian demo` (e.g. --inject stall, --port 0); see `pnpm meridian --help`.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

if ! command -v pnpm >/dev/null 2>&1; then
  step "installing pnpm 12.4.2 (npm i -g)"
  npm i -g -E pnpm@12.4.2
fi

step "installing dependencies (pnpm install --frozen-lockfile)"
pnpm install --frozen-lockfile

step "bringing the servers up (infra/up.sh)"
export MERIDIAN_INFRA_HOLDER="$$"
# Stop on exit what infra/up.sh started for us (servers others still use stay up; see infra/down.sh).
trap 'step "stopping the servers this demo started (infra/down.sh)"; bash infra/down.sh || true' EXIT
bash infra/up.sh
# shellcheck disable=SC1091
source infra/.state/env

step "running the demo for ${MERIDIAN_DEMO_SECONDS:-60} s"
# `pnpm demo -- --inject stall` passes a literal "--" first.
[ "${1:-}" = "--" ] && shift
pnpm exec tsx services/cli/src/meridian.ts demo "$@"
