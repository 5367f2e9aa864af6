#!/usr/bin/env bash
# Writes the local node's own images as `docker save` archives into a cache folder and prints it:
#   pause.tar    localhost/lockstep/pause:1     the pod sandbox (e2e/node/pause, static Go)
#   busybox.tar  localhost/lockstep/busybox:1   Debian's static busybox, for test and demo apps
# The operator's image comes from `make image` (scripts/image.sh). Cached by content.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
CACHE="${LOCKSTEP_CACHE:-$HOME/.cache/lockstep}"
key="$(cat "$here/pause/main.go" "$here/images.sh" /bin/busybox | sha256sum | cut -c1-12)"
OUT="$CACHE/images-$key"
if [ -f "$OUT/pause.tar" ] && [ -f "$OUT/busybox.tar" ]; then echo "$OUT"; exit 0; fi
exec 3>&1 1>&2
[ -x /bin/busybox ] || { echo "/bin/busybox is missing: run e2e/node/install.sh" >&2; exit 1; }
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
mkdir -p "$OUT"

# save REF ROOTFS OUT.tar ENTRYPOINT_JSON CMD_JSON: a one-layer image in `docker save` form
# (hand-written for the reasons given in scripts/image.sh).
save() {
  local ref="$1" rootfs="$2" out="$3" ep="$4" cmd="$5" d
  d="$(mktemp -d -p "$work")"
  tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -C "$rootfs" -cf "$d/layer.tar" .
  local diff; diff="$(sha256sum "$d/layer.tar" | cut -d' ' -f1)"
  mkdir "$d/$diff"; mv "$d/layer.tar" "$d/$diff/layer.tar"
  printf '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":{"Env":["PATH=/bin"],"Entrypoint":%s,"Cmd":%s,"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$ep" "$cmd" "$diff" >"$d/config.json"
  local cfg; cfg="$(sha256sum "$d/config.json" | cut -d' ' -f1)"
  mv "$d/config.json" "$d/$cfg.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]\n' "$cfg" "$ref" "$diff" >"$d/manifest.json"
  tar -C "$d" -cf "$out.tmp" manifest.json "$cfg.json" "$diff" && mv "$out.tmp" "$out"
}

mkdir -p "$work/pause-root"
(cd "$here/pause" && GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/pause-root/pause" .)
save localhost/lockstep/pause:1 "$work/pause-root" "$OUT/pause.tar" '["/pause"]' null

bb="$work/busybox-root"
mkdir -p "$bb"/{bin,tmp,etc,proc,sys,dev}
chmod 1777 "$bb/tmp"
cp /bin/busybox "$bb/bin/"
for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -sf busybox "$bb/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$bb/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' >"$bb/etc/group"
save localhost/lockstep/busybox:1 "$bb" "$OUT/busybox.tar" null '["sh"]'
echo "$OUT" >&3
