#!/usr/bin/env bash
# Builds the operator's OCI image without Docker or a registry, as a `docker save` archive
# (readable by `ctr images import`, `skopeo copy docker-archive:...` and `crane push`).
#   scripts/image.sh [OUT.tar]        default build/lockstep-image.tar; prints the archive path last
#   scripts/image.sh --app DIR [DIST] only the image's /app (the bundled operator) into DIR, from
#                                     DIST (default dist/): the benchmarks run the operator so
# Env: IMAGE (repository, default ghcr.io/lockstep-dev/lockstep), TAG (default package.json version),
#      IMAGE_SOURCE (OCI source label, default the git remote "origin" or the project's address).
#
# What goes in, all from registry packages: the Node 24 binary of the npm package `node` (debug
# symbols stripped) and the shared libraries it links against, copied from this Debian machine;
# the operator bundled by esbuild from `dist/` and the production dependencies it imports (so no
# node_modules and no development packages): /app/main.mjs and its chunks in /app/chunks;
# /etc/passwd with the user 65532.
# No shell, no package manager. Nothing is written at run time outside /tmp, so the root
# filesystem can be read-only.
#
# Written by hand: writing a one-layer image needs only tar, sha256 and two JSON files, and the
# tools that do it (buildah, kaniko, docker) need a container engine or a registry, which these
# machines lack. Reproducible: sorted tar, fixed owners, every time set to the last commit's time.
set -euo pipefail
cd "$(dirname "$0")/.."
DIST=dist
[ "${1:-}" = "--app" ] && DIST="${3:-dist}"
[ -f "$DIST/cmd/main.js" ] || { echo "$DIST/ is missing: run 'make build' first" >&2; exit 1; }

# The operator, bundled into DIR: main.mjs (the entry point), the chunks it and its lazy imports
# load (chunks/), agent.mjs. Split with esbuild's code splitting, so that what the operator imports
# only when used (each provider's SDK, undici, the certificate library, delivery as files, check,
# migrate) is a chunk of its own that is read and parsed only then: one bundle of everything made
# node parse 6 MB of JavaScript at start: the operator with no objects peaked at 144 MB RSS, split 80 MB.
# CommonJS dependencies inside ES modules need `require`, `__filename` and `__dirname`; the banner
# defines them in every chunk, for that chunk's own path (all chunks sit in DIR/chunks or DIR).
bundle_app() {
  local dir="$1" banner
  rm -rf "$dir"; mkdir -p "$dir"
  banner="import { createRequire as __lockstepRequire } from 'node:module';"
  banner+=" import { fileURLToPath as __lockstepPath } from 'node:url';"
  banner+=" const require = __lockstepRequire(import.meta.url);"
  banner+=" const __filename = __lockstepPath(import.meta.url);"
  banner+=" const __dirname = __lockstepPath(new URL('.', import.meta.url));"
  node_modules/.bin/esbuild "$DIST/cmd/main.js" --bundle --splitting --platform=node --target=node24 --format=esm \
    --minify --legal-comments=external --log-level=warning --banner:js="$banner" \
    --outdir="$dir" --out-extension:.js=.mjs --entry-names='[name]' --chunk-names='chunks/[name]-[hash]'
  # The files agent alone (node builtins only), so the sidecar in every pod loads a few kilobytes.
  node_modules/.bin/esbuild "$DIST/cmd/agent-main.js" --bundle --platform=node --target=node24 --format=esm \
    --minify --log-level=warning --outfile="$dir/agent.mjs"
  cp LICENSE "$dir/" 2>/dev/null || true
  printf '{"type":"module"}\n' >"$dir/package.json"
}

if [ "${1:-}" = "--app" ]; then
  [ -n "${2:-}" ] || { echo "usage: scripts/image.sh --app DIR" >&2; exit 2; }
  bundle_app "$2"
  exit 0
fi

OUT="${1:-build/lockstep-image.tar}"
NODE_BIN="node_modules/node/bin/node"
VERSION="$(node_modules/.bin/node -p 'require("./package.json").version')"
IMAGE="${IMAGE:-ghcr.io/lockstep-dev/lockstep}"
TAG="${TAG:-$VERSION}"
REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
SOURCE="${IMAGE_SOURCE:-$(git remote get-url origin 2>/dev/null || echo https://github.com/lockstep-dev/lockstep)}"
EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
CREATED="$(date -u -d "@$EPOCH" +%Y-%m-%dT%H:%M:%SZ)"

work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
mkdir -p "$root"/{etc,tmp,usr/local/bin} "$(dirname "$OUT")"
chmod 1777 "$root/tmp"
bundle_app "$root/app"

# Node 24 and exactly the libraries ldd says it needs (libc, libstdc++, libm, libgcc_s, ...).
strip --strip-debug -o "$root/usr/local/bin/node" "$NODE_BIN"
for lib in $(ldd "$NODE_BIN" | grep -o '/[^ ]*'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$(readlink -f "$lib")" "$root$lib"
done
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"

# One layer, in `docker save` form.
layer="$work/layer.tar"
find "$root" -exec touch -h -d "@$EPOCH" {} +
tar --numeric-owner --owner=0 --group=0 --sort=name --mtime="@$EPOCH" --format=posix \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -C "$root" -cf "$layer" .
diff_id="$(sha256sum "$layer" | cut -d' ' -f1)"
mkdir "$work/$diff_id"; mv "$layer" "$work/$diff_id/layer.tar"
# Node's own flags for the operator (scripts/operator-node-flags, `#` lines are comments; the
# benchmarks run with them too).
NODE_FLAGS="$(sed '/^[[:space:]]*#/d' scripts/operator-node-flags | tr -s ' \n' ' ')"
# The operator's environment beyond PATH and NODE_ENV (scripts/operator-env, NAME=value lines, if any; the benchmarks too).
OPERATOR_ENV="$( [ -f scripts/operator-env ] && sed '/^[[:space:]]*#/d; /^[[:space:]]*$/d' scripts/operator-env || true)"
IMAGE_REF="$IMAGE:$TAG" NODE_FLAGS="$NODE_FLAGS" OPERATOR_ENV="$OPERATOR_ENV" VERSION="$VERSION" REVISION="$REVISION" SOURCE="$SOURCE" CREATED="$CREATED" DIFF_ID="$diff_id" \
  node_modules/.bin/node -e '
const e = process.env;
const config = {
  architecture: "amd64", os: "linux", created: e.CREATED,
  config: {
    User: "65532:65532",
    Env: ["PATH=/usr/local/bin:/usr/bin:/bin", "NODE_ENV=production", ...e.OPERATOR_ENV.split("\n").map((l) => l.trim()).filter(Boolean)],
    Entrypoint: ["/usr/local/bin/node", ...e.NODE_FLAGS.split(" ").filter(Boolean), "/app/main.mjs"],
    Cmd: ["controller"],
    WorkingDir: "/app",
    Labels: {
      "org.opencontainers.image.title": "lockstep",
      "org.opencontainers.image.description": "Kubernetes operator that keeps external secrets in lockstep with the workloads that use them",
      "org.opencontainers.image.source": e.SOURCE,
      "org.opencontainers.image.version": e.VERSION,
      "org.opencontainers.image.revision": e.REVISION,
      "org.opencontainers.image.licenses": "Apache-2.0",
      "org.opencontainers.image.created": e.CREATED,
    },
  },
  rootfs: { type: "layers", diff_ids: ["sha256:" + e.DIFF_ID] },
  history: [{ created: e.CREATED, created_by: "scripts/image.sh" }],
};
process.stdout.write(JSON.stringify(config));' >"$work/config.json"
cfg="$(sha256sum "$work/config.json" | cut -d' ' -f1)"
mv "$work/config.json" "$work/$cfg.json"
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]\n' "$cfg" "$IMAGE:$TAG" "$diff_id" >"$work/manifest.json"
tar --numeric-owner --owner=0 --group=0 --sort=name --mtime="@$EPOCH" -C "$work" -cf "$OUT" manifest.json "$cfg.json" "$diff_id"

size_mb() { echo "$(( ($1 + 524288) / 1048576 ))"; }
raw=$(stat -c %s "$OUT")
gz=$(gzip -1 -c "$OUT" | wc -c)
echo "image $IMAGE:$TAG ($REVISION): $(size_mb "$raw") MB uncompressed, $(size_mb "$gz") MB gzip (layer sha256:${diff_id:0:12})" >&2
echo "$OUT"
