#!/usr/bin/env bash
# Run the exhibit: the camera if there is one, else the bundled demo video; headless (SDL dummy
# video, status printed to the terminal) when there is no display. Extra arguments go to `emotions run`.
# No --source here: `emotions run` takes --source, else the config's `source` ($EMOTIONS_CONFIG or
# /etc/emotions/exhibit.toml), else auto.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh edge
if [[ -z ${SDL_VIDEODRIVER:-} && -z ${DISPLAY:-} && -z ${WAYLAND_DISPLAY:-} && ! -e /dev/dri/card0 && ! -e /dev/dri/card1 ]]; then
  echo "no display found: running headless (Ctrl-C to stop)" >&2
  export SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=${SDL_AUDIODRIVER:-dummy}
  set -- --windowed "$@"
fi
exec "${EMOTIONS_VENV:-.venv}/bin/emotions" run "$@"
