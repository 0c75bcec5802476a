#!/usr/bin/env bash
# Measures what a new user waits for: `make dev`, then `make test`, on a
# fresh clone with empty Go build and module caches (modules are
# downloaded too). The README's "Two commands" table comes from this.
# Run it on an otherwise idle machine; it takes about 20 minutes on two
# cores and leaves everything under its work directory.
#
#   hack/measure-first-run.sh [WORKDIR]   (default: a new temporary directory)
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
git clone -q "$src" "$work/cruise"
mkdir -p "$work/gocache" "$work/gomod" "$work/home"
cd "$work/cruise"
export GOCACHE="$work/gocache" GOMODCACHE="$work/gomod" HOME="$work/home"

t0=$(date +%s)
make dev > "$work/dev.log" 2>&1
t1=$(date +%s)
./bin/cruise dev down >> "$work/dev.log" 2>&1
echo "make dev, to the example Ready: $((t1 - t0)) s (log: $work/dev.log)"

# Each line of make test is stamped, to find the first test result.
t2=$(date +%s)
make test 2>&1 | while IFS= read -r line; do printf '%s %s\n' "$(date +%s)" "$line"; done > "$work/test.log"
status=${PIPESTATUS[0]}
t3=$(date +%s)
first=$(awk '$2 == "ok" || $2 == "FAIL" || $2 == "---" { print $1; exit }' "$work/test.log")
vet=$(awk '$2 == "go" && $3 == "vet" { print $1; exit }' "$work/test.log")
echo "then make test: first test result after $((first - t2)) s, tests done after $((vet - t2)) s, all (with lint) after $((t3 - t2)) s, exit $status (log: $work/test.log)"
exit "$status"
