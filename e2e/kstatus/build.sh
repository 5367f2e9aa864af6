#!/usr/bin/env bash
# Builds e2e/kstatus (kstatus's status rules from sigs.k8s.io/cli-utils, pinned) into a cache folder
# outside the repository and prints the binary's path. Reused when already built.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
CLI_UTILS=v0.37.2
CACHE="${LOCKSTEP_CACHE:-$HOME/.cache/lockstep}"
key="$(cat "$here/main.go" | sha256sum | cut -c1-12)"
OUT="$CACHE/kstatus-$CLI_UTILS-$key"
if [ -x "$OUT/kstatus" ]; then echo "$OUT/kstatus"; exit 0; fi
exec 3>&1 1>&2
mkdir -p "$OUT/src"
cp "$here/main.go" "$OUT/src/"
cd "$OUT/src"
export GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
[ -f go.mod ] || go mod init lockstep.dev/e2e/kstatus >/dev/null 2>&1
go get "sigs.k8s.io/cli-utils@$CLI_UTILS" >/dev/null 2>&1
go mod tidy
go build -trimpath -ldflags "-s -w" -o "$OUT/kstatus" .
echo "$OUT/kstatus" >&3
