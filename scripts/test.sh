#!/usr/bin/env bash
# Install the test dependencies (and Debian's Chromium for the browser tests) and run the whole
# suite. Extra arguments go to pytest: `bash scripts/test.sh -q -k register`.
# DATABASE_URL=postgresql+psycopg://... runs the suite on PostgreSQL; unset, on a SQLite temp file.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_venv test
ensure_pdf_libs
if [ ! -x /usr/bin/chromium ]; then
    # Playwright's own browser download does not work everywhere; Debian's Chromium does.
    if command -v apt-get >/dev/null; then
        apt_install chromium
    else
        echo "No apt-get here: install Chromium at /usr/bin/chromium for the browser tests." >&2
    fi
fi
compile_catalogues

# Two workers by default (each with its own database); `-n 0` runs in one process.
exec "$VENV/bin/python" -m pytest -n "${PYTEST_WORKERS:-2}" --dist loadfile "$@"
