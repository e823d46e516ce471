#!/usr/bin/env bash
# Install the local BigQuery emulator (local-bigquery 0.4.0) for the test suite, offline.
#
# It lives in its own venv, .emulators/bigquery-venv (ignored by git), because it needs
# Python >= 3.13 while the project runs on 3.11: the interpreter comes from pyenv. As
# published it downloads DuckDB extensions from the internet on first use; here the
# extensions are pinned PyPI packages (duckdb 1.5.5 and its ducklake, icu, spatial and
# httpfs extension wheels) installed into a private HOME (.emulators/bigquery-home) with
# FORCE INSTALL, so the server never reaches out. See ../shared/emulators.md.
#
# Idempotent: when the venv and the extensions are already in place it exits at once.
# Fails loudly (non-zero, one line on stderr) when Python 3.13 is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
EMU="$ROOT/.emulators"
VENV="$EMU/bigquery-venv"
HOME_DIR="$EMU/bigquery-home"
STAMP="$VENV/.olist-setup-done"
VERSION="local-bigquery==0.4.0 duckdb==1.5.5"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$VERSION" && -x "$VENV/bin/local-bigquery" ]]; then
    exit 0
fi

find_python() {
    local root candidate
    if command -v pyenv >/dev/null 2>&1; then
        root="$(pyenv root)"
    else
        root="${PYENV_ROOT:-$HOME/.pyenv}"
    fi
    for candidate in "$root"/versions/3.13*/bin/python3 "$(command -v python3.13 || true)"; do
        if [[ -n "$candidate" && -x "$candidate" ]]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

PYTHON="$(find_python)" || {
    echo "setup-bigquery-emulator: Python 3.13 not found (looked in \$(pyenv root)/versions/3.13* and PATH); install it, e.g. 'pyenv install 3.13'" >&2
    exit 1
}

# pip warns once per package about index folders of this machine that do not exist: noise.
pip_install() {
    "$VENV/bin/pip" install -q "$@" 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
}

echo "setup-bigquery-emulator: installing local-bigquery into $VENV (about 25 s)" >&2
rm -rf "$VENV"
mkdir -p "$EMU" "$HOME_DIR"
"$PYTHON" -m venv "$VENV"
pip_install local-bigquery==0.4.0
# The DuckDB local-bigquery resolves wants its extensions from the internet; these wheels
# carry the same extensions, so the server runs with no network.
pip_install --no-deps duckdb==1.5.5 duckdb-extension-ducklake==1.5.5 \
    duckdb-extension-icu==1.5.5 duckdb-extension-spatial==1.5.5 duckdb-extension-httpfs==1.5.5

HOME="$HOME_DIR" "$VENV/bin/python" - <<'PY'
import glob
import os
import site

import duckdb

files = sorted(
    path
    for root in site.getsitepackages()
    for path in glob.glob(os.path.join(root, "duckdb_extension_*", "**", "*.duckdb_extension*"),
                          recursive=True)
)
if len(files) < 4:
    raise SystemExit(f"setup-bigquery-emulator: expected 4 DuckDB extension files, found {files}")
con = duckdb.connect()
for path in files:
    con.execute(f"FORCE INSTALL '{path}'")
PY

echo "$VERSION" > "$STAMP"
echo "setup-bigquery-emulator: ready" >&2
