"""Waiting on a condition in tests of threaded code: until it holds or a generous timeout (a hang, not speed,
should reach it), polling often enough that a test never waits long for a condition that already holds."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(condition: Callable[[], bool], timeout: float = 5.0, tick: Callable[[], None] | None = None) -> bool:
    """True as soon as `condition()` holds, False after `timeout` s; `tick()` runs before each look (e.g. one UI
    frame, so the app goes on drawing while the test waits)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if tick is not None:
            tick()
        if condition():
            return True
        time.sleep(0.01)
    return False
