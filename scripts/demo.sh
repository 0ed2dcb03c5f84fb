#!/usr/bin/env bash
# Install everything and start the app with the demo district on SQLite at http://127.0.0.1:5000.
# Safe to run again: the database is upgraded in place and the demo data is only loaded once.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_venv
ensure_pdf_libs
compile_catalogues
export FLASK_APP=wsgi

say "Upgrading the database"
"$VENV/bin/flask" db upgrade

say "Loading the demo district"
if ! out="$("$VENV/bin/flask" seed-demo 2>&1)"; then
    if grep -qi "already" <<<"$out"; then
        # Built on an earlier run: keep the data and start the app.
        sed 's/^Error: //' <<<"$out"
        echo "Keeping the existing data."
    else
        echo "$out" >&2
        exit 1
    fi
else
    echo "$out"
fi

# Letters are emailed by a worker through the job queue. In the demo they go to a local sink
# that keeps them as files in instance/demo-mail (a Maildir): nothing leaves the machine.
say "Starting the letters' worker and the demo mail sink (127.0.0.1:${MAIL_PORT:-8025} -> instance/demo-mail)"
export MAIL_SERVER=127.0.0.1 MAIL_PORT="${MAIL_PORT:-8025}"
"$VENV/bin/python" -m aiosmtpd -n -l "127.0.0.1:$MAIL_PORT" -c aiosmtpd.handlers.Mailbox instance/demo-mail &
SINK=$!
"$VENV/bin/flask" letters worker --threads --workers 2 &
WORKER=$!
trap 'kill "$SINK" "$WORKER" 2>/dev/null || true' EXIT

say "Starting on http://127.0.0.1:5000 (Ctrl+C to stop)"
"$VENV/bin/flask" run --host 127.0.0.1 --port "${PORT:-5000}"
