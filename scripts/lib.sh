# Shared by scripts/demo.sh, scripts/test.sh and .ci/run: a virtualenv with the project
# installed, and compiled message catalogues. Source it from the repository root.

VENV="${VENV:-.venv}"

say() {
    if [ -t 1 ]; then printf '\033[1m==> %s\033[0m\n' "$*"; else printf '==> %s\n' "$*"; fi
}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
    say "Installing Debian packages: $*"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@"
}

# ensure_venv [extra]: create $VENV if missing and `pip install -e .[extra]` when setup.cfg,
# pyproject.toml or the extra changed since the last install (a re-run costs nothing).
ensure_venv() {
    local extra="${1:-}" target="." stamp
    [ -n "$extra" ] && target=".[$extra]"
    if [ ! -x "$VENV/bin/python" ]; then
        python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
            || { echo "Python 3.11 or newer is needed (python3 is $(python3 --version 2>&1))." >&2; exit 1; }
        say "Creating virtualenv $VENV"
        if ! python3 -m venv "$VENV" 2>/dev/null; then
            # Debian splits venv out of python3; install it and try again.
            rm -rf "$VENV"
            apt_install python3-venv
            python3 -m venv "$VENV"
        fi
        "$VENV/bin/python" -m pip install -q --upgrade pip
    fi
    stamp="$VENV/.volunteer-installed-${extra:-base}"
    local want
    want="$(cat setup.cfg pyproject.toml | sha256sum | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        say "Installing $target into $VENV"
        "$VENV/bin/python" -m pip install -q -e "$target"
        echo "$want" > "$stamp"
    fi
}

# Compile every .po under volunteer/translations to .mo (the .mo files are not committed).
compile_catalogues() {
    if find volunteer/translations -name '*.po' 2>/dev/null | grep -q .; then
        "$VENV/bin/pybabel" compile -d volunteer/translations -f
    else
        say "No message catalogues yet (volunteer/translations/*/LC_MESSAGES/messages.po): skipping"
    fi
}

# The letters' PDFs need Pango (WeasyPrint) and the Noto CJK fonts (embedded as subsets).
PDF_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk)

ensure_pdf_libs() {
    if ! dpkg -s "${PDF_PACKAGES[@]}" >/dev/null 2>&1; then
        if command -v apt-get >/dev/null; then
            apt_install "${PDF_PACKAGES[@]}"
        else
            echo "No apt-get here: install Pango and the Noto CJK fonts for the letters' PDFs." >&2
        fi
    fi
}
