#!/usr/bin/env bash
# Install (or update) the Emotions in Action exhibit as a systemd service on Raspberry Pi OS Bookworm.
# Idempotent: running it again updates the program and the unit, and keeps /etc/emotions/exhibit.toml and
# the screens' texts in /etc/emotions/content (copied from the program once; edit them there, never in
# /opt/emotions/src, which every run replaces).
# Usage: sudo ./systemd/install.sh            (from a checkout of the project)
set -euo pipefail

SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX=/opt/emotions
VENV="$PREFIX/venv"
CONF_DIR=/etc/emotions
CONTENT_DIR="$CONF_DIR/content"
STATE_DIR=/var/lib/emotions
SERVICE=emotions-exhibit.service
USER_NAME=emotions

say() { printf '\n== %s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root: sudo $0"
[ -f "$SRC_DIR/edge/__init__.py" ] || die "$SRC_DIR does not look like the project checkout (no edge/)"
command -v apt-get >/dev/null || die "apt-get not found: this script is for Raspberry Pi OS / Debian"

systemd_running() { [ -d /run/systemd/system ]; }

say "System packages"
apt-get update
packages=(python3 python3-venv python3-pip fonts-dejavu-core
          libsdl2-2.0-0 libsdl2-ttf-2.0-0 libsdl2-mixer-2.0-0 libsdl2-image-2.0-0 alsa-utils)
# picamera2/libcamera come from the Raspberry Pi OS archive only (not PyPI, not plain Debian), hence
# the venv with --system-site-packages. Elsewhere the exhibit still runs on USB cameras and videos.
for pkg in python3-picamera2 python3-libcamera; do
    if apt-cache show "$pkg" >/dev/null 2>&1; then
        packages+=("$pkg")
    else
        echo "warning: $pkg is not in this system's archives (not Raspberry Pi OS?); USB cameras still work"
    fi
done
apt-get install -y --no-install-recommends "${packages[@]}"

say "Service user '$USER_NAME'"
if ! id "$USER_NAME" >/dev/null 2>&1; then
    useradd --system --home-dir "$STATE_DIR" --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
fi
for group in video render input audio; do
    if getent group "$group" >/dev/null; then
        usermod -aG "$group" "$USER_NAME"
    else
        echo "warning: group $group does not exist on this system"
    fi
done
install -d -o "$USER_NAME" -g "$USER_NAME" -m 0750 "$STATE_DIR"

say "Program in $VENV"
install -d -m 0755 "$PREFIX"
# Before content_dir existed, staff edited the texts in the program's own copy: keep those edits, which the next
# line would delete, as the editable copy (only on the first run that creates it).
if [ ! -d "$CONTENT_DIR" ] && [ -d "$PREFIX/src/assets/content" ]; then
    install -d -m 0755 "$CONF_DIR"
    cp -R "$PREFIX/src/assets/content" "$CONTENT_DIR"
    chmod -R u=rwX,go=rX "$CONTENT_DIR"
    echo "created $CONTENT_DIR from the texts of the installed version (any edits made there are kept)"
fi
rm -rf "$PREFIX/src"
mkdir -p "$PREFIX/src"
# A copy of the checkout (without git history or training runs): the service never runs from a home dir.
tar -C "$SRC_DIR" --exclude=.git --exclude=.venv --exclude=runs --exclude='__pycache__' --exclude='*.egg-info' \
    -cf - . | tar -C "$PREFIX/src" -xf -
# apt's Python, never a pyenv/conda one first on root's PATH: python3-picamera2 is built for it, and
# the service user must be able to run it.
SYSTEM_PYTHON=/usr/bin/python3
if [ -e "$VENV/bin/python" ] && [ "$(readlink -f "$VENV/bin/python")" != "$(readlink -f "$SYSTEM_PYTHON")" ]; then
    echo "recreating $VENV: it was made with $(readlink -f "$VENV/bin/python"), not $SYSTEM_PYTHON"
    rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
    "$SYSTEM_PYTHON" -m venv --system-site-packages "$VENV"
fi
# Editable install: the program reads assets/ (model, fonts, content) from $PREFIX/src.
"$VENV/bin/pip" install --upgrade --disable-pip-version-check -e "$PREFIX/src[edge]"
"$VENV/bin/python" -c "import picamera2" 2>/dev/null \
    || echo "warning: picamera2 is not importable from the venv (USB cameras still work)"

say "Configuration in $CONF_DIR"
install -d -m 0755 "$CONF_DIR"
if [ ! -d "$CONTENT_DIR" ]; then
    cp -R "$PREFIX/src/assets/content" "$CONTENT_DIR"
    chmod -R u=rwX,go=rX "$CONTENT_DIR"
    echo "created $CONTENT_DIR (the screens' texts: edit them there; updates never overwrite them)"
else
    echo "kept existing $CONTENT_DIR"
fi
if [ ! -f "$CONF_DIR/exhibit.toml" ]; then
    sed "s|^content_dir = \"\"|content_dir = \"$CONTENT_DIR\"|" "$SRC_DIR/systemd/exhibit.example.toml" \
        > "$CONF_DIR/exhibit.toml"
    chmod 0644 "$CONF_DIR/exhibit.toml"
    echo "created $CONF_DIR/exhibit.toml (defaults, texts from $CONTENT_DIR)"
else
    echo "kept existing $CONF_DIR/exhibit.toml"
    # A config from before content_dir existed: point it at the editable copy (a top-level key must come
    # before the first [table], so it goes on the first line).
    if [ "$("$VENV/bin/python" -c "
import sys, tomllib
try:
    data = tomllib.load(open('$CONF_DIR/exhibit.toml', 'rb'))
except (OSError, tomllib.TOMLDecodeError):
    sys.exit()
print('has' if 'content_dir' in data else 'lacks')
")" = lacks ]; then
        [ -s "$CONF_DIR/exhibit.toml" ] || echo >> "$CONF_DIR/exhibit.toml"  # sed's 1i needs a first line
        sed -i "1i content_dir = \"$CONTENT_DIR\"  # added by install.sh: the screens' texts, edit them there" \
            "$CONF_DIR/exhibit.toml"
        echo "added content_dir = \"$CONTENT_DIR\" to $CONF_DIR/exhibit.toml"
    fi
fi
install -m 0644 "$SRC_DIR/systemd/exhibit.example.toml" "$CONF_DIR/exhibit.example.toml"
"$VENV/bin/python" -c "
import sys
from pathlib import Path
from edge.config import ConfigError, load_config
try:
    load_config(Path('$CONF_DIR/exhibit.toml'))
except ConfigError as err:
    sys.exit(f'install.sh: error: {err}')
"
# Edited texts are kept, so an update that adds a screen leaves them without its keys (the program's own texts
# are shown for those): say which, and say now if the exhibit would refuse to start on them.
"$VENV/bin/python" -c "
from pathlib import Path
from edge.config import load_config
from edge.ui.i18n import CONTENT_DIR, ContentError, content_notes, content_problems
root = load_config(Path('$CONF_DIR/exhibit.toml')).content_path or CONTENT_DIR
try:
    problems, notes = content_problems(root), content_notes(root)
except ContentError as err:
    problems, notes = [str(err)], []
for line in notes:
    print(f'note: {line}')
for line in problems:
    print(f'warning: {line}')
if problems:
    print(f'warning: the exhibit will not start until the texts in {root} are fixed (compare with {CONTENT_DIR})')
"

say "journald limits"
install -d -m 0755 /etc/systemd/journald.conf.d
install -m 0644 "$SRC_DIR/systemd/journald-emotions.conf" /etc/systemd/journald.conf.d/emotions.conf
if systemd_running; then systemctl restart systemd-journald; fi

say "systemd service"
install -m 0644 "$SRC_DIR/systemd/$SERVICE" "/etc/systemd/system/$SERVICE"
if systemd_running; then systemctl daemon-reload; fi
systemctl disable getty@tty1.service 2>/dev/null || true
systemctl enable "$SERVICE"
if systemd_running; then
    systemctl reset-failed "$SERVICE" 2>/dev/null || true
    systemctl restart "$SERVICE"
else
    echo "note: systemd is not running here (container or chroot): the service is installed and enabled"
    echo "      and starts at the next boot"
fi

say "Done"
echo "Status:  systemctl status emotions-exhibit"
echo "Logs:    journalctl -u emotions-exhibit -f"
echo "Check:   sudo systemctl stop emotions-exhibit && sudo -u $USER_NAME SDL_VIDEODRIVER=kmsdrm $VENV/bin/emotions doctor"
