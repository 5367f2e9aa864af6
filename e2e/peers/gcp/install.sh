#!/usr/bin/env bash
# The GCP Secret Manager test peer needs nothing downloaded: it is our own gRPC server
# (secret-manager-server.ts) for the real protos shipped in node_modules (@google-cloud/secret-manager
# and google-gax), run with Node and tsx from node_modules, and its TLS material is made by openssl
# per run. This script only checks those prerequisites, so CI can call every peer's install.sh the
# same way. Prints OK on stdout (everything else goes to stderr); fails naming what is missing.
#
# Why not the community emulator (github.com/blackwell-systems/gcp-secret-manager-emulator):
# the Go module proxy answers 403 for it here. See the GCP section of README.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
missing=0
need() {
  if [[ ! -e "$ROOT/$1" ]]; then
    echo "missing $1 (run 'make install' in $ROOT)" >&2
    missing=1
  fi
}

command -v openssl >/dev/null || { echo "openssl is required (it makes the peer's test CA)" >&2; missing=1; }
need node_modules/.bin/node
need node_modules/tsx/package.json
need node_modules/@google-cloud/secret-manager/build/protos/google/cloud/secretmanager/v1/service.proto
need node_modules/@google-cloud/secret-manager/build/protos/google/cloud/secretmanager/v1/resources.proto
need node_modules/google-gax/build/protos/google/api/annotations.proto
need node_modules/google-gax/build/protos/google/iam/v1/iam_policy.proto
[[ $missing -eq 0 ]] || exit 1
echo "OK"
