#!/usr/bin/env bash
# Private network namespaces for the local node (see ../shared/NODE.md). Pods get a bridge and
# addresses that exist only inside the namespace; the machine's own namespace is never changed.
#   scripts/netns.sh run -- CMD...        run CMD in a new, unnamed namespace (gone when CMD's
#                                         processes are): `make test` runs the tests this way
#   scripts/netns.sh up NAME              create the named namespace /run/netns/NAME (idempotent)
#   scripts/netns.sh exec NAME -- CMD...  run CMD in it (nsenter: mounts and cgroups stay shared)
#   scripts/netns.sh down NAME            delete it
#   scripts/netns.sh forward NAME PORT    forward 127.0.0.1:PORT of this namespace to 127.0.0.1:PORT
#                                         in NAME (socat, one process per connection); prints its pid
#   scripts/netns.sh connect NAME PORT    (used by forward) stdin/stdout to 127.0.0.1:PORT in NAME
# Inside, loopback is up and route_localnet=1, so a DNAT rule may send pod traffic to 127.0.0.1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
init='ip link set lo up && sysctl -qw net.ipv4.conf.all.route_localnet=1'
case "${1:-}" in
  run)
    shift; [ "${1:-}" = "--" ] && shift
    exec unshare --net -- bash -c "$init && exec \"\$@\"" netns "$@" ;;
  up)
    [ -e "/run/netns/$2" ] || ip netns add "$2"
    nsenter --net="/run/netns/$2" bash -c "$init" ;;
  exec)
    ns="$2"; shift 2; [ "${1:-}" = "--" ] && shift
    exec nsenter --net="/run/netns/$ns" -- "$@" ;;
  down)
    [ -e "/run/netns/$2" ] && ip netns del "$2"; true ;;
  forward)
    setsid socat "TCP-LISTEN:$3,bind=127.0.0.1,reuseaddr,fork" EXEC:"$here/netns.sh connect $2 $3" </dev/null >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 50); do socat -u OPEN:/dev/null "TCP:127.0.0.1:$3" 2>/dev/null && break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null || { echo "port 127.0.0.1:$3 is taken in this namespace" >&2; exit 1; }
    echo "$pid" ;;
  connect)
    exec nsenter --net="/run/netns/$2" -- socat STDIO "TCP:127.0.0.1:$3" ;;
  *)
    sed -n '2,14p' "$0" >&2; exit 2 ;;
esac
