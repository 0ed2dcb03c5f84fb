#!/usr/bin/env bash
# Re-vendor the desk's QR scanner from npm into static/vendor/ (served locally: no CDN at run time).
# Usage: scripts/vendor-js.sh [version]. Needs node and npm only while vendoring; run from the repo root.
set -euo pipefail

NAME=qr-scanner
VERSION="${1:-1.4.2}"
DEST="static/vendor/$NAME-$VERSION"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

(cd "$WORK" && npm init -y >/dev/null && npm install --no-audit --no-fund --ignore-scripts "$NAME@$VERSION" >/dev/null)
SRC="$WORK/node_modules/$NAME"
LICENSE_NAME="$(node -p "require('$SRC/package.json').license")"

mkdir -p "$DEST"
# The UMD build defines window.QrScanner; it imports the worker module from beside itself.
cp "$SRC/qr-scanner.umd.min.js" "$SRC/qr-scanner-worker.min.js" "$SRC/LICENSE" "$DEST/"
cat > "$DEST/README.txt" <<TXT
$NAME $VERSION (https://github.com/nimiq/qr-scanner), licence: $LICENSE_NAME (see LICENSE)

Copied unchanged from the npm package by scripts/vendor-js.sh:
  qr-scanner.umd.min.js     the scanner (window.QrScanner), loaded by templates/exchange/desk.html
  qr-scanner-worker.min.js  the decoder, imported by the scanner from this folder; runs in a blob: Web Worker
Source maps are not copied. Nothing is fetched from the network at run time.

sha256:
$(cd "$DEST" && sha256sum qr-scanner.umd.min.js qr-scanner-worker.min.js)
TXT
echo "Vendored $NAME $VERSION ($LICENSE_NAME) into $DEST"
