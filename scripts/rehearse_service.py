"""Run the installed unit's ExecStart the way systemd would, where systemd is not running (a container, a
chroot, a build machine): as its User=, in its WorkingDirectory=, with its Environment= and a real
NOTIFY_SOCKET. Reports READY=1 / WATCHDOG=1 and the exit code after SIGTERM.

Usage (as root, after systemd/install.sh): python3 scripts/rehearse_service.py [--seconds 40] [--display]
Without --display, video and audio use SDL's dummy drivers (no tty1 or sound card needed).
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

UNIT = Path("/etc/systemd/system/emotions-exhibit.service")


def read_unit(path: Path) -> dict:
    unit: dict = {"env": {}, "exec": None, "user": "emotions", "cwd": "/", "watchdog_s": 0}
    for line in path.read_text().splitlines():
        key, _, value = line.strip().partition("=")
        if key == "Environment":
            name, _, val = value.partition("=")
            unit["env"][name] = val
        elif key == "ExecStart":
            unit["exec"] = shlex.split(value)
        elif key == "User":
            unit["user"] = value
        elif key == "WorkingDirectory":
            unit["cwd"] = value
        elif key == "WatchdogSec":
            unit["watchdog_s"] = int(value)
    return unit


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unit", type=Path, default=UNIT)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--display", action="store_true", help="keep the unit's SDL drivers (needs tty1/KMS)")
    args = parser.parse_args()
    if not args.unit.is_file():
        sys.exit(f"rehearse_service: error: {args.unit} not found (run systemd/install.sh first)")
    unit = read_unit(args.unit)
    env = {"PATH": "/usr/bin:/bin", **unit["env"]}
    if unit["watchdog_s"]:
        env["WATCHDOG_USEC"] = str(unit["watchdog_s"] * 10**6)
    if not args.display:
        env.update(SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    sock_path = Path(tempfile.mkdtemp()) / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    os.chmod(sock_path.parent, 0o755)
    os.chmod(sock_path, 0o777)
    sock.settimeout(0.5)
    env["NOTIFY_SOCKET"] = str(sock_path)
    cmd = ["runuser", "-u", unit["user"], "--", "env", *[f"{k}={v}" for k, v in env.items()], *unit["exec"]]
    print(f"running {' '.join(unit['exec'])} as {unit['user']} in {unit['cwd']} for {args.seconds:.0f} s")
    proc = subprocess.Popen(cmd, cwd=unit["cwd"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    start, messages = time.monotonic(), []
    while time.monotonic() - start < args.seconds and proc.poll() is None:
        try:
            messages.append((time.monotonic() - start, sock.recv(4096).decode()))
        except TimeoutError:
            pass
    # SIGTERM to the program itself, as `systemctl stop` sends it (runuser would SIGKILL it after 2 s)
    children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
    for pid in children or [str(proc.pid)]:
        os.kill(int(pid), signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    ready = [t for t, m in messages if "READY=1" in m]
    beats = [t for t, m in messages if m == "WATCHDOG=1"]
    print(f"READY=1 after {ready[0]:.1f} s" if ready else "no READY=1")
    print(f"{len(beats)} WATCHDOG=1" + (f", every {(beats[-1] - beats[0]) / max(1, len(beats) - 1):.1f} s" if beats
                                       else ""))
    print(f"exit code after SIGTERM: {proc.returncode}" + (" (clean stop)" if proc.returncode == 0 else ""))
    print("--- last log lines\n" + "\n".join(out.strip().splitlines()[-6:]))
    return 0 if ready and beats and proc.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
