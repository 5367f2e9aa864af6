#!/usr/bin/env bash
# Prepares the Azure Key Vault test peer: the TLS material of the Key Vault double
# (e2e/peers/azure/keyvault-double.ts), a test CA and a serving certificate for 127.0.0.1 and
# localhost, kept in the peer cache. Idempotent: an existing set is reused. Prints the folder
# (ca.pem, server.pem, server.key) on stdout; everything else goes to stderr.
#
# Why not lowkey-vault: com.github.nagyesta.lowkey-vault:lowkey-vault-app is not on the Maven
# Central this workplace reaches (every version answers 404; lowkey-vault-client and
# lowkey-vault-testcontainers are there, the app jar is not). See the Azure section of README.md.
set -euo pipefail

DOUBLE_VERSION=1
CACHE="${LOCKSTEP_CACHE:-$HOME/.cache/lockstep}"
DIR="$CACHE/peers/azure-double-$DOUBLE_VERSION"
MARKER="$DIR/.lockstep-installed"

if [[ -f "$MARKER" ]]; then
  echo "$DIR"
  exit 0
fi

mkdir -p "$CACHE/peers"
exec 9>"$CACHE/peers/.azure-double-$DOUBLE_VERSION.lock"
flock 9
if [[ -f "$MARKER" ]]; then
  echo "$DIR"
  exit 0
fi

command -v openssl >/dev/null || { echo "openssl is required" >&2; exit 1; }
rm -rf "$DIR"
mkdir -p "$DIR"
cd "$DIR"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
  -subj "/CN=lockstep azure test CA" -keyout ca.key -out ca.pem \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
  -keyout server.key -out server.csr 2>/dev/null
printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
  "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
  -extfile server.ext -out server.pem 2>/dev/null
rm -f server.csr server.ext ca.srl
chmod 600 ca.key server.key
touch "$MARKER"
echo "prepared the Key Vault double's test CA and certificate in $DIR" >&2
echo "$DIR"
