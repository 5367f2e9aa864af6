#!/usr/bin/env bash
# Installs what the local node needs and prints the folder of the Go-built tools as the last line:
#   - from Debian (pinned to the bookworm versions the recipe in ../shared/NODE.md was checked with;
#     if the archive has moved on, the current version is taken and a warning is printed):
#     containerd, runc, the CNI plugins, iptables, conntrack, busybox-static, socat, and lua5.4 for
#     the Argo CD health check test;
#   - from the Go module proxy, cached in $LOCKSTEP_CACHE (default ~/.cache/lockstep), keyed by
#     version: helm and crictl. kubelet and kube-scheduler come from e2e/controlplane/build.sh.
# Idempotent: installed packages and cached binaries are reused.
set -euo pipefail

PACKAGES=(
  containerd=1.6.20~ds1-1+deb12u3
  runc=1.1.5+ds1-1+deb12u1
  containernetworking-plugins=1.1.1+ds1-3+b5
  iptables=1.8.9-2
  conntrack=1:1.4.7-1+b2
  busybox-static=1:1.35.0-4+deb12u1+b1
  socat=1.7.4.4-2
  lua5.4=5.4.4-3+deb12u1   # runs the Argo CD health check (config/argocd) in e2e/kstatus
)
HELM_VERSION=v3.22.0
CRICTL_VERSION=v1.34.0

CACHE="${LOCKSTEP_CACHE:-$HOME/.cache/lockstep}"
TOOLS="$CACHE/node-tools-helm-$HELM_VERSION-crictl-$CRICTL_VERSION"

exec 3>&1 1>&2   # progress to stderr; only the tools folder goes to stdout

missing=()
for p in "${PACKAGES[@]}"; do
  name="${p%%=*}"
  dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  if ! $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"; then
    echo "warning: the pinned versions are not in the archive any more; installing the current ones" >&2
    $SUDO apt-get install -y -q --no-install-recommends "${missing[@]%%=*}"
  fi
fi

if [ ! -x "$TOOLS/helm" ] || [ ! -x "$TOOLS/crictl" ]; then
  command -v go >/dev/null || { echo "go is not installed" >&2; exit 1; }
  mkdir -p "$TOOLS"
  export GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN="$TOOLS"
  [ -x "$TOOLS/crictl" ] || go install -trimpath -ldflags "-s -w" "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION"
  # helm prints its version from these variables; without them `helm version` says v3.x-dirty.
  [ -x "$TOOLS/helm" ] || go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi
echo "$TOOLS" >&3
