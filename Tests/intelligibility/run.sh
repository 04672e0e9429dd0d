#!/bin/sh
# Runs check.py with PocketSphinx in a private virtual environment (made once).
# Usage: Tests/intelligibility/run.sh [path/to/stridecue]
set -e
here=$(cd "$(dirname "$0")" && pwd)
venv=${STRIDECUE_ASR_VENV:-${TMPDIR:-/tmp}/stridecue-asr}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import pocketsphinx" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet pocketsphinx==5.1.1
fi
exec "$venv/bin/python" "$here/check.py" "${1:-$here/../../.build-speech/debug/stridecue}"
