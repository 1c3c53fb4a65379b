#!/usr/bin/env bash
# Run the test suite (installs the train + dev extras into .venv on first use). Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh train,dev
export SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy TF_CPP_MIN_LOG_LEVEL=3
exec "${EMOTIONS_VENV:-.venv}/bin/python" -m pytest -q "$@"
