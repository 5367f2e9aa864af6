#!/usr/bin/env bash
# Local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager) on 127.0.0.1.
#   scripts/cluster.sh up      # builds the binaries once (cached), starts detached, prints the kubeconfig path
#   scripts/cluster.sh status
#   scripts/cluster.sh down    # kills the recorded pids
# CLUSTER_DIR (default .cluster, relative to the repository root) holds certs, etcd data, logs, pids.json.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 up|down|status [--no-controller-manager]" >&2; exit 2; }
export PATH="$PWD/node_modules/.bin:$PATH"   # the project's Node 24 (npm package "node"), then tsx
cmd="$1"; shift
exec tsx e2e/harness/cluster-cli.ts "$cmd" --dir "${CLUSTER_DIR:-.cluster}" "$@"
