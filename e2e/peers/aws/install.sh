#!/usr/bin/env bash
# Installs moto server (the AWS API emulator, from PyPI) into a virtualenv in the peer cache,
# pinned to an exact version. Idempotent: a finished install is reused. Prints the path of the
# `moto_server` executable on stdout (everything else goes to stderr).
set -euo pipefail

MOTO_VERSION="${MOTO_VERSION:-5.2.5}"
CACHE="${LOCKSTEP_CACHE:-$HOME/.cache/lockstep}"
DIR="$CACHE/peers/aws-$MOTO_VERSION"
BIN="$DIR/bin/moto_server"
MARKER="$DIR/.lockstep-installed"

if [[ -f "$MARKER" && -x "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi

mkdir -p "$CACHE/peers"
# One installer at a time (parallel jest workers may call this together).
exec 9>"$CACHE/peers/.aws-$MOTO_VERSION.lock"
flock 9
if [[ -f "$MARKER" && -x "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi

PYTHON="${PYTHON:-$(command -v python3)}"
rm -rf "$DIR"
started=$(date +%s)
"$PYTHON" -m venv "$DIR" >&2
"$DIR/bin/python" -m pip install --disable-pip-version-check --quiet "moto[server]==$MOTO_VERSION" >&2
"$DIR/bin/python" -c "import moto; assert moto.__version__ == '$MOTO_VERSION', moto.__version__" >&2
touch "$MARKER"
echo "installed moto[server]==$MOTO_VERSION into $DIR in $(( $(date +%s) - started ))s" >&2
echo "$BIN"
