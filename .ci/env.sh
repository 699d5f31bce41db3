# Sourced by the other scripts: the Python environment, created from requirements.txt
# on first use and recreated whenever requirements.txt changes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3.11}
if [ ! -x .venv/bin/python ] || ! cmp -s requirements.txt .venv/requirements.installed; then
    echo "== creating .venv from requirements.txt with $PYTHON"
    rm -rf .venv
    "$PYTHON" -m venv .venv
    # (this machine's pip configuration names local indexes that may be absent: drop those notices)
    .venv/bin/python -m pip install --quiet -r requirements.txt 2> >(grep -v "is ignored: it is neither" >&2)
    cp requirements.txt .venv/requirements.installed
fi
export PATH="$PWD/.venv/bin:$PATH"
# Offline machines read the course's data from the shared mirror instead of the network.
if [ -z "${NEURON2GPT_DATA_MIRROR:-}" ] && [ -d ../shared/data ]; then
    export NEURON2GPT_DATA_MIRROR="$(cd ../shared/data && pwd)"
fi
