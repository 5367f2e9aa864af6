#!/usr/bin/env bash
# The quick start's second half: with the local control plane up (`make cluster-up`), install the
# CRDs, start the operator in the background against it, apply config/samples and show the result.
#   scripts/dev.sh up     start (idempotent)
#   scripts/dev.sh down   stop the operator
set -euo pipefail
cd "$(dirname "$0")/.."
CLUSTER_DIR="${CLUSTER_DIR:-.cluster}"
KUBECONFIG="$CLUSTER_DIR/kubeconfig"
export KUBECONFIG AWS_EC2_METADATA_DISABLED=true METADATA_SERVER_DETECTION=none
PIDFILE="$CLUSTER_DIR/operator.pid"
LOG="$CLUSTER_DIR/operator.log"

down() {
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    kill "$(cat "$PIDFILE")"; echo "operator stopped"
  fi
  rm -f "$PIDFILE"
}

up() {
  [ -f "$KUBECONFIG" ] || { echo "no control plane: run 'make cluster-up' first" >&2; exit 1; }
  kubectl apply --server-side -f crds/ >/dev/null
  kubectl wait --for=condition=Established crd --all --timeout=60s >/dev/null
  kubectl create namespace lockstep-system --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  down >/dev/null
  node_modules/.bin/node dist/cmd/main.js controller --kubeconfig "$KUBECONFIG" \
    --metrics-addr 127.0.0.1:18080 --health-addr 127.0.0.1:18081 >"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 60); do
    curl -fs http://127.0.0.1:18081/readyz >/dev/null 2>&1 && break; sleep 0.5
  done
  kubectl apply -k config/samples >/dev/null
  kubectl wait -n team-a --for=condition=Ready externalsecret --all --timeout=60s >/dev/null
  echo "== ExternalSecrets and stores (kubectl get lockstep -A)"
  kubectl get lockstep -A
  echo
  echo "== The synced Secret team-a/db-credentials (keys and sizes; values stay in the cluster)"
  kubectl get secret -n team-a db-credentials -o go-template='{{range $k, $v := .data}}{{printf "  %-10s %d base64 chars\n" $k (len $v)}}{{end}}'
  echo
  echo "operator pid $(cat "$PIDFILE"), log $LOG, metrics http://127.0.0.1:18080/metrics"
  echo "KUBECONFIG=$KUBECONFIG kubectl get lockstep -A    # look around"
  echo "make dev-down                                     # stop everything"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
