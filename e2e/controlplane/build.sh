#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager and etcd, and the node's kubelet and
# kube-scheduler, from the Go module proxy into a cache folder outside the repository, keyed by
# version. Prints the folder holding the binaries.
#
# Follows the envtest convention: when KUBEBUILDER_ASSETS names a folder that already holds
# kube-apiserver, etcd and kube-controller-manager, that folder is used and nothing is built.
#
# k8s.io/kubernetes cannot be `go install`ed: its go.mod points the staging modules (k8s.io/api,
# k8s.io/client-go, ...) at local paths with version v0.0.0. We generate a small wrapper module
# that requires k8s.io/kubernetes and replaces every staging module with its published v0.X.Y.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.34.4}"
BINARIES=(kube-apiserver kube-controller-manager etcd kubelet kube-scheduler)

has_all() { local d="$1"; for b in "${BINARIES[@]}"; do [ -x "$d/$b" ] || return 1; done; }

if [ -n "${KUBEBUILDER_ASSETS:-}" ] && has_all "$KUBEBUILDER_ASSETS"; then
  echo "$KUBEBUILDER_ASSETS"; exit 0
fi

CACHE="${LOCKSTEP_CACHE:-$HOME/.cache/lockstep}"
OUT="$CACHE/controlplane-$K8S_VERSION"
if has_all "$OUT/bin"; then echo "$OUT/bin"; exit 0; fi

exec 3>&1 1>&2   # progress goes to stderr; only the final folder goes to stdout
command -v go >/dev/null || { echo "go is not installed: install Go or set KUBEBUILDER_ASSETS" >&2; exit 1; }
mkdir -p "$CACHE"
if command -v flock >/dev/null; then   # one build at a time (jest and `make cluster-up` may race)
  exec 9>"$OUT.lock"; flock 9
  if has_all "$OUT/bin"; then echo "$OUT/bin" >&3; exit 0; fi
fi
export GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
mkdir -p "$OUT/src" "$OUT/bin"
cd "$OUT/src"

modfile=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
go_line=$(grep -m1 '^go ' "$modfile")
godebug_line=$(grep -m1 '^godebug ' "$modfile" || true)
staging_minor="v0.${K8S_VERSION#v1.}"   # v1.34.4 -> v0.34.4

{
  echo "module lockstep.dev/e2e/controlplane"
  echo
  echo "$go_line"
  [ -n "$godebug_line" ] && echo "$godebug_line"
  echo
  echo "require k8s.io/kubernetes $K8S_VERSION"
  echo
  echo "replace ("
  grep -E '^\s+k8s\.io/[^ ]+ v0\.0\.0$' "$modfile" | awk -v v="$staging_minor" '{ print "\t" $1 " => " $1 " " v }'
  echo ")"
} > go.mod

cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
GO

# tidy resolves every other module at the version k8s.io/kubernetes pins (etcd included);
# no `go get`, which would upgrade the graph past what this release was tested with.
go mod tidy

minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
stamp=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  stamp+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  stamp+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

start=$(date +%s)
go build -tags tools -trimpath -ldflags "-s -w $stamp" -o "$OUT/bin/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kubelet \
  go.etcd.io/etcd/server/v3
# go names a main package whose path ends in a major-version suffix after the element before it:
# go.etcd.io/etcd/server/v3 becomes "server".
for n in server v3; do if [ -x "$OUT/bin/$n" ]; then mv "$OUT/bin/$n" "$OUT/bin/etcd"; fi; done
has_all "$OUT/bin" || { echo "build finished but binaries are missing in $OUT/bin" >&2; exit 1; }
echo "control plane $K8S_VERSION built in $(( $(date +%s) - start ))s into $OUT/bin"
echo "$OUT/bin" >&3
