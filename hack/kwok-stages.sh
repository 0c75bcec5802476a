#!/usr/bin/env bash
# Prints kwok's "fast" stage set (nodes become Ready and keep a heartbeat
# Lease; pods become Ready at once) from the pinned kwok module directory $1,
# as one multi-document file for `kwok --config`.
set -euo pipefail
dir="$1/kustomize/stage"
first=1
for f in "$dir"/node/fast/*.yaml "$dir"/node/heartbeat-with-lease/*.yaml "$dir"/pod/fast/*.yaml; do
  case "$(basename "$f")" in kustomization.yaml) continue ;; esac
  [ "$first" = 1 ] || echo '---'
  first=0
  cat "$f"
done
