"""sd_notify through real Unix datagram sockets, as systemd would receive them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from edge.kiosk.watchdog import Notifier

ROOT = Path(__file__).resolve().parents[1]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def receive_all(sock: socket.socket) -> list[str]:
    messages = []
    sock.setblocking(False)
    while True:
        try:
            messages.append(sock.recv(4096).decode())
        except BlockingIOError:
            return messages


@pytest.fixture(params=["path", "abstract"])
def listener(request, tmp_path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if request.param == "path":
        path = str(tmp_path / "notify.sock")
        sock.bind(path)
        env_value = path
    else:
        name = f"emotions-test-{uuid.uuid4().hex}"
        sock.bind("\0" + name)
        env_value = "@" + name
    yield sock, env_value
    sock.close()


def test_ready_heartbeat_status_stopping(listener):
    sock, address = listener
    clock = FakeClock()
    n = Notifier({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "10000000"}, clock=clock)  # WatchdogSec=10
    assert n.enabled and n.interval == 5.0
    assert n.ready("loaded")
    assert n.ready()  # only once
    msgs = receive_all(sock)
    assert len(msgs) == 1 and msgs[0].startswith("READY=1\nSTATUS=loaded\nMAINPID=")
    assert not n.heartbeat()  # right after READY: too early
    clock.now += 5.0
    assert n.heartbeat()
    clock.now += 1.0
    assert not n.heartbeat()  # rate-limited to WatchdogSec/2
    clock.now += 4.0
    assert n.heartbeat()
    assert receive_all(sock) == ["WATCHDOG=1", "WATCHDOG=1"]
    assert n.status("camera lost\nretrying")
    assert n.stopping()
    assert receive_all(sock) == ["STATUS=camera lost retrying", "STOPPING=1"]
    n.close()


def test_loop_callback_sends_ready_then_heartbeats(listener):
    sock, address = listener
    clock = FakeClock()
    n = Notifier({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "2000000"}, clock=clock)
    beat = n.loop_callback()
    for _ in range(50):  # 50 frames at 20 FPS = 2.5 s of main loop
        beat()
        clock.now += 0.05
    msgs = receive_all(sock)
    assert msgs[0].startswith("READY=1")
    assert msgs[1:] == ["WATCHDOG=1"] * 2  # at t=1.0 and t=2.0


def test_without_systemd_everything_is_a_no_op():
    n = Notifier({})
    assert not n.enabled
    assert not n.ready() and not n.heartbeat() and not n.status("x") and not n.stopping()


def test_no_watchdog_or_foreign_pid_means_no_heartbeats(listener):
    sock, address = listener
    assert Notifier({"NOTIFY_SOCKET": address}).interval is None
    assert Notifier({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "junk"}).interval is None
    other = Notifier({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"})
    assert other.interval is None and not other.heartbeat()
    mine = Notifier({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": str(os.getpid())})
    assert mine.interval == 0.5 and mine.heartbeat()
    assert receive_all(sock) == ["WATCHDOG=1"]


def test_missing_socket_does_not_raise(tmp_path, caplog):
    n = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone.sock"), "WATCHDOG_USEC": "1000000"})
    assert not n.ready()
    assert not n.heartbeat()
    assert not n.status("x")
    assert sum("sd_notify" in r.getMessage() for r in caplog.records) == 1  # warned once, not per beat


def test_module_functions_in_a_real_child_process(listener):
    """The process-wide notifier reads the environment systemd gives the service."""
    sock, address = listener
    code = "from edge.kiosk import watchdog as w; w.ready('up'); w.heartbeat(); w.status('ok'); w.stopping()"
    env = {**os.environ, "NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=30)
    msgs = receive_all(sock)
    assert msgs[0].startswith("READY=1\nSTATUS=up")
    assert msgs[1:] == ["WATCHDOG=1", "STATUS=ok", "STOPPING=1"]


def test_exhibit_under_a_service_manager_is_ready_beats_and_stops_cleanly_on_sigterm(tmp_path):
    """`emotions run` as systemd runs it: READY=1 after the first frame, WATCHDOG=1 from the loop,
    and `systemctl stop` (SIGTERM) ends it with exit code 0 and STOPPING=1, not a kill."""
    import signal
    import time

    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    env = {**os.environ, "NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "1000000", "PYTHONPATH": str(ROOT),
           "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "HOME": str(tmp_path)}
    config = tmp_path / "exhibit.toml"
    config.write_text("# defaults\n")  # not the machine's /etc/emotions/exhibit.toml
    proc = subprocess.Popen([sys.executable, "-m", "edge.cli", "run", "--source", "demo", "--config", str(config)],
                            env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    messages: list[str] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and sum("WATCHDOG=1" in m for m in messages) < 2:
            time.sleep(0.2)
            messages += receive_all(sock)
            assert proc.poll() is None, proc.communicate()[0]
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    messages += receive_all(sock)
    assert messages[0].startswith("READY=1"), messages
    assert sum(m == "WATCHDOG=1" for m in messages) >= 2
    assert proc.returncode == 0, out
    assert messages[-1] == "STOPPING=1" and "SIGTERM: stopping" in out
