#!/usr/bin/env bash
# Local Kubernetes cluster on 127.0.0.1: etcd, kube-apiserver, kube-controller-manager, and a node
# (containerd, kube-scheduler, kubelet) so that pods really run.
#   scripts/cluster.sh up      # builds the binaries once (cached), starts detached, prints the kubeconfig path
#   scripts/cluster.sh status
#   scripts/cluster.sh down    # stops the node (every pod first), the control plane, the namespace
# CLUSTER_DIR (default .cluster, relative to the repository root) holds certs, etcd data, logs, pids.
# The cluster runs in its own network namespace (scripts/netns.sh), named after CLUSTER_DIR; its
# apiserver port is forwarded to the same port on this machine's 127.0.0.1, so the kubeconfig works
# from any shell. LOCKSTEP_NODE=0 starts the control plane alone, in this namespace, as before.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 up|down|status [--no-controller-manager]" >&2; exit 2; }
export PATH="$PWD/node_modules/.bin:$PATH"   # the project's Node 24 (npm package "node"), then tsx
cmd="$1"; shift
dir="$(realpath -m "${CLUSTER_DIR:-.cluster}")"
ns="lockstep-$(printf %s "$dir" | sha256sum | cut -c1-8)"
cli() { tsx e2e/harness/cluster-cli.ts "$@" --dir "$dir"; }
in_ns() { scripts/netns.sh exec "$ns" -- "$@"; }

case "$cmd" in
  up)
    if [ "${LOCKSTEP_NODE:-1}" = 0 ]; then cli up "$@"; exit; fi
    mkdir -p "$dir"
    scripts/netns.sh up "$ns"
    kubeconfig="$(in_ns tsx e2e/harness/cluster-cli.ts up --dir "$dir" --node "$@")"
    port="$(sed -n 's#.*server: https://127.0.0.1:\([0-9]*\).*#\1#p' "$kubeconfig")"
    if ! { [ -f "$dir/forward.pid" ] && kill -0 "$(cat "$dir/forward.pid")" 2>/dev/null; }; then
      scripts/netns.sh forward "$ns" "$port" >"$dir/forward.pid"
    fi
    echo "$ns" >"$dir/netns"
    echo "$kubeconfig" ;;
  down)
    if [ -f "$dir/forward.pid" ]; then kill "$(cat "$dir/forward.pid")" 2>/dev/null || true; rm -f "$dir/forward.pid"; fi
    if [ -e "/run/netns/$ns" ]; then in_ns tsx e2e/harness/cluster-cli.ts down --dir "$dir"; scripts/netns.sh down "$ns"
    else cli down; fi
    rm -f "$dir/netns" ;;
  status)
    if [ -e "/run/netns/$ns" ]; then in_ns tsx e2e/harness/cluster-cli.ts status --dir "$dir"; else cli status; fi ;;
  *) echo "usage: $0 up|down|status [--no-controller-manager]" >&2; exit 2 ;;
esac
