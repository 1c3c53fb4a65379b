#!/usr/bin/env bash
# Remove the Emotions in Action service and program. Keeps the config, the edited texts (/etc/emotions/content)
# and statistics unless --purge.
# Usage: sudo ./systemd/uninstall.sh [--purge]
set -euo pipefail

SERVICE=emotions-exhibit.service
PURGE=no
case "${1:-}" in
    --purge) PURGE=yes ;;
    "") ;;
    *) echo "usage: $0 [--purge]" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "uninstall.sh: error: run as root: sudo $0" >&2; exit 1; }

systemd_running() { [ -d /run/systemd/system ]; }  # not in a container or chroot

if [ -f "/etc/systemd/system/$SERVICE" ]; then
    if systemd_running; then systemctl disable --now "$SERVICE" || true; else systemctl disable "$SERVICE" || true; fi
    rm -f "/etc/systemd/system/$SERVICE"
fi
rm -f /etc/systemd/journald.conf.d/emotions.conf
if systemd_running; then
    systemctl daemon-reload
    systemctl restart systemd-journald || true
    systemctl enable --now getty@tty1.service || true
else
    systemctl enable getty@tty1.service 2>/dev/null || true
fi
rm -rf /opt/emotions

if [ "$PURGE" = yes ]; then
    rm -rf /etc/emotions /var/lib/emotions
    if id emotions >/dev/null 2>&1; then userdel emotions; fi
    echo "removed program, config, statistics and user 'emotions'"
else
    echo "removed program and service; kept /etc/emotions and /var/lib/emotions (use --purge to delete them)"
fi
