"""systemd's sd_notify protocol in a few lines of stdlib (no libsystemd binding needed on the Pi).

With `Type=notify` + `WatchdogSec=` systemd sets $NOTIFY_SOCKET and $WATCHDOG_USEC; we send
READY=1 once the main loop really runs and WATCHDOG=1 heartbeats from that loop, so a hung loop
(not just a dead process) is killed and restarted. Outside systemd every call is a cheap no-op.
Sending never raises: a broken notify socket must not take the exhibit down.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, environ: Mapping[str, str] | None = None, clock: Callable[[], float] = time.monotonic):
        env = os.environ if environ is None else environ
        self.clock = clock
        self.address = _address(env.get("NOTIFY_SOCKET", ""))
        self.interval = _watchdog_interval(env)
        self._last_beat: float | None = None
        self._ready_sent = False
        self._warned = False
        self._sock: socket.socket | None = None

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, message: str) -> bool:
        """Send one datagram; False (and one logged warning) when it cannot be delivered."""
        if self.address is None:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(message.encode("utf-8"), self.address)
            return True
        except OSError as err:
            if not self._warned:  # once: a heartbeat every few seconds must not flood the journal
                log.warning("sd_notify to %s failed: %s", os.environ.get("NOTIFY_SOCKET", "?"), err)
                self._warned = True
            return False

    def ready(self, status: str | None = None) -> bool:
        """READY=1 (once); systemd then considers the service started."""
        if self._ready_sent:
            return True
        msg = "READY=1" + (f"\nSTATUS={status}" if status else "") + f"\nMAINPID={os.getpid()}"
        self._ready_sent = self.send(msg)
        self._last_beat = self.clock()
        return self._ready_sent

    def heartbeat(self) -> bool:
        """WATCHDOG=1, at most every WatchdogSec/2 (systemd's advice); True when a datagram was sent."""
        if self.address is None or self.interval is None:
            return False
        now = self.clock()
        if self._last_beat is not None and now - self._last_beat < self.interval:
            return False
        self._last_beat = now
        return self.send("WATCHDOG=1")

    def status(self, message: str) -> bool:
        """Free-text STATUS= shown by `systemctl status` (one line)."""
        return self.send("STATUS=" + " ".join(message.split()))

    def stopping(self) -> bool:
        return self.send("STOPPING=1")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def loop_callback(self) -> Callable[[], None]:
        """A callable for the main loop (ExhibitApp(heartbeat=...)): READY on the first call, then heartbeats."""

        def beat() -> None:
            if not self._ready_sent:
                self.ready("running")
            else:
                self.heartbeat()

        return beat


def _address(value: str) -> str | bytes | None:
    if not value:
        return None
    if value.startswith("@"):  # abstract namespace socket: leading NUL, no file
        return b"\0" + value[1:].encode("utf-8")
    if value.startswith("/"):
        return value
    return None  # vsock: and other families are not used on the Pi


def _watchdog_interval(env: Mapping[str, str]) -> float | None:
    """Seconds between heartbeats (half of WatchdogSec), None when no watchdog is meant for us."""
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    if usec <= 0:
        return None
    pid = env.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):  # the variable was inherited by a child process
        return None
    return usec / 1e6 / 2


_default: Notifier | None = None


def default() -> Notifier:
    """The process-wide notifier (created on first use from the environment)."""
    global _default
    if _default is None:
        _default = Notifier()
    return _default


def ready(status: str | None = None) -> bool:
    return default().ready(status)


def heartbeat() -> bool:
    return default().heartbeat()


def status(message: str) -> bool:
    return default().status(message)


def stopping() -> bool:
    return default().stopping()
