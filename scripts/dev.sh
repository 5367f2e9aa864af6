#!/usr/bin/env bash
# The quick start's second half: with the local cluster up (`make cluster-up`: control plane and a
# node), install Lockstep with its Helm chart from the image `make image` built, apply
# config/samples (stores, ExternalSecrets and a demo app), and show the result.
#   scripts/dev.sh up       install or upgrade (idempotent)
#   scripts/dev.sh rotate   give the demo database a new password in its store
#   scripts/dev.sh down     uninstall the release (the CRDs and Secrets stay)
set -euo pipefail
cd "$(dirname "$0")/.."
CLUSTER_DIR="${CLUSTER_DIR:-.cluster}"
KUBECONFIG="$CLUSTER_DIR/kubeconfig"
export KUBECONFIG AWS_EC2_METADATA_DISABLED=true METADATA_SERVER_DETECTION=none
HELM="$(bash e2e/node/install.sh)/helm"
NS=lockstep-system

up() {
  [ -f "$KUBECONFIG" ] && [ -f "$CLUSTER_DIR/netns" ] || { echo "no cluster with a node: run 'make cluster-up' first" >&2; exit 1; }
  # A rebuilt image has the same tag: import it again, and restart the operator if it changed.
  before="$(scripts/netns.sh exec "$(cat "$CLUSTER_DIR/netns")" -- ctr --address "$CLUSTER_DIR/node/containerd.sock" -n k8s.io images ls -q name~=lockstep/lockstep 2>/dev/null | head -1 || true)"
  scripts/netns.sh exec "$(cat "$CLUSTER_DIR/netns")" -- ctr --address "$CLUSTER_DIR/node/containerd.sock" -n k8s.io \
    images import build/lockstep-image.tar >/dev/null
  existed=0; "$HELM" status lockstep -n "$NS" >/dev/null 2>&1 && existed=1
  echo "== helm upgrade --install lockstep charts/lockstep (image from build/lockstep-image.tar)"
  started=$(date +%s%N)
  "$HELM" upgrade --install lockstep charts/lockstep -n "$NS" --create-namespace \
    --set image.pullPolicy=Never --set controller.rollouts.minInterval=10s --wait --timeout 180s >/dev/null
  [ "$existed" = 1 ] && kubectl rollout restart -n "$NS" deployment/lockstep-controller >/dev/null \
    && kubectl rollout status -n "$NS" deployment/lockstep-controller --timeout=120s >/dev/null
  kubectl apply -k config/samples >/dev/null
  kubectl wait -n team-a --for=condition=Ready externalsecret --all --timeout=120s >/dev/null
  echo "   operator Ready and the samples synced in $(( ($(date +%s%N) - started) / 1000000 )) ms"
  kubectl rollout status -n team-a deployment/demo --timeout=120s >/dev/null
  echo
  echo "== Pods on the node (the operator's two replicas, one leads; the demo app)"
  kubectl get pods -A -o wide
  echo
  echo "== ExternalSecrets and stores (kubectl get lockstep -A)"
  kubectl get lockstep -A
  echo
  echo "== The synced Secret team-a/db-credentials (keys and sizes; values stay in the cluster)"
  kubectl get secret -n team-a db-credentials -o go-template='{{range $k, $v := .data}}{{printf "  %-10s %d base64 chars\n" $k (len $v)}}{{end}}'
  echo
  echo "== The demo app, reading it inside its pod (a fingerprint, not the password)"
  sleep 1; kubectl logs -n team-a deployment/demo --tail=1
  echo
  echo "export KUBECONFIG=$KUBECONFIG"
  echo "make dev-rotate                              # new password in the store: the demo app rolls"
  echo "kubectl logs -n team-a deploy/demo -f        # watch its fingerprint"
  echo "make dev-down                                # stop everything"
}

rotate() {
  password="demo-$(date +%s)"
  value="{\"user\":\"app\",\"password\":\"$password\",\"host\":\"db.team-a.svc\"}"
  old="$(kubectl get deploy -n team-a demo -o jsonpath='{.metadata.generation}')"
  kubectl patch secretstore -n team-a demo --type=json \
    -p "[{\"op\":\"replace\",\"path\":\"/spec/provider/fake/data/1/value\",\"value\":$(printf %s "$value" | node_modules/.bin/node -e 'process.stdin.on("data",d=>process.stdout.write(JSON.stringify(String(d))))')}]" >/dev/null
  echo "db/creds has a new password in the store 'demo'; waiting for the demo app to roll..."
  for _ in $(seq 120); do
    [ "$(kubectl get deploy -n team-a demo -o jsonpath='{.metadata.generation}')" != "$old" ] && break; sleep 0.5
  done
  kubectl rollout status -n team-a deployment/demo --timeout=120s
  kubectl get events.events.k8s.io -n team-a --field-selector reason=SecretRotated --sort-by=.metadata.creationTimestamp \
    -o custom-columns=TIME:.metadata.creationTimestamp,EXTERNALSECRET:.regarding.name,NOTE:.note | tail -2
  for _ in $(seq 60); do [ "$(kubectl get pods -n team-a -l app=demo -o name | wc -l)" = 1 ] && break; sleep 0.5; done
  sleep 1; kubectl logs -n team-a -l app=demo --tail=1 --prefix
}

down() {
  [ -f "$KUBECONFIG" ] && "$HELM" uninstall lockstep -n "$NS" --ignore-not-found --wait >/dev/null 2>&1 || true
}

case "${1:-up}" in
  up) up ;;
  rotate) rotate ;;
  down) down ;;
  *) echo "usage: $0 up|rotate|down" >&2; exit 2 ;;
esac
