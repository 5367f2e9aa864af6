#!/usr/bin/env bash
# Lists what a stopped cluster or node could have left on this machine, and exits 1 if anything is
# there: processes of the control plane or the node, mounts of a node folder, cgroups of a node,
# bridge or veth links in this network namespace, network namespaces made by CNI or cluster.sh.
# CI runs it after the tests; run it yourself after `make cluster-down`.
set -uo pipefail
found=0
report() { [ -n "$2" ] && { printf '%s:\n%s\n' "$1" "$2" | sed '2,$s/^/  /'; found=1; }; }
report "processes" "$(ps -eo pid=,args= | grep -E '(^| |/)(containerd|containerd-shim[^ ]*|kubelet|kube-scheduler|kube-apiserver|kube-controller-manager|etcd)( |$)' | grep -v grep)"
report "mounts" "$(awk '$2 ~ /\/node\/(kubelet|containerd)\// {print $2}' /proc/mounts)"
report "cgroups" "$(ls -d /sys/fs/cgroup/*/lockstep-* 2>/dev/null)"
report "links" "$(ip -o link show 2>/dev/null | awk -F': ' '$2 ~ /^(lockstep0|veth)/ {print $2}')"
report "network namespaces" "$(ls /run/netns 2>/dev/null | grep -E '^(cni-|lockstep-)')"
[ "$found" = 0 ] && echo "nothing left behind"
exit "$found"
