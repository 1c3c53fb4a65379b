"""The soak monitor on real memory (a deliberate leak must fail it), and a short real soak of the exhibit."""

from __future__ import annotations

import io
import logging
import time
from pathlib import Path

import numpy as np
import pytest

from edge.config import ExhibitConfig
from edge.kiosk.soak import rss_bytes, run_soak

ROOT = Path(__file__).resolve().parents[1]


class LoopApp:
    """A main loop like ExhibitApp.run: calls the heartbeat every frame at ~60 FPS."""

    def __init__(self, monitor, leak_mb_per_s: float = 0.0, error_at: float | None = None):
        self.monitor, self.leak, self.error_at = monitor, leak_mb_per_s, error_at
        self.kept: list[np.ndarray] = []

    def run(self, max_seconds: float) -> int:
        start = time.monotonic()
        while time.monotonic() - start < max_seconds:
            if self.leak:
                self.kept.append(np.ones(int(self.leak * 2**20 / 60 / 8)))  # touched pages: real RSS
            if self.error_at is not None and time.monotonic() - start > self.error_at:
                logging.getLogger("edge.ui.scene").error("scene crashed; back to attract")
                self.error_at = None
            self.monitor.tick()
            time.sleep(1 / 60)
        return 0


def soak(seconds: float, **app_kwargs) -> tuple[int, str]:
    out = io.StringIO()
    code = run_soak(ExhibitConfig(), seconds, report_every=1.0, out=out, make_vision=lambda config: None,
                    make_app=lambda config, vision, monitor, visitor_every: LoopApp(monitor, **app_kwargs))
    return code, out.getvalue()


def test_rss_is_measured():
    import mmap

    # Fresh anonymous pages: a heap allocation may reuse memory the process freed but still holds (after
    # TensorFlow ran in the same pytest process, RSS did not grow for a 40 MB numpy array).
    size = 40 * 2**20
    before = rss_bytes()
    block = mmap.mmap(-1, size)
    for offset in range(0, size, mmap.PAGESIZE):  # touching each page makes it resident
        block[offset] = 1
    assert rss_bytes() - before > 30 * 2**20
    block.close()


def test_steady_loop_passes_and_reports_every_interval():
    code, text = soak(3.2)
    lines = text.strip().splitlines()
    assert code == 0, text
    assert sum(line.startswith("soak ") and "RSS" in line and "FPS" in line for line in lines) >= 3
    assert lines[-1].startswith("soak summary:") and lines[-1].endswith("PASS")


def test_leak_fails_the_soak():
    leak = max(30.0, rss_bytes() / 2**20 * 0.1)  # > 5 % of this process within a few seconds
    code, text = soak(4.0, leak_mb_per_s=leak)
    assert code == 1 and "RSS grew" in text.splitlines()[-1], text


def test_logged_error_fails_the_soak():
    code, text = soak(2.0, error_at=0.5)
    assert code == 1 and "1 errors (last: edge.ui.scene: scene crashed" in text, text


def test_short_real_soak():
    """About a minute of the full exhibit headless on a looping video: no errors, bounded RSS growth."""
    pytest.importorskip("edge.pipeline", reason="edge.pipeline not available yet")
    app_mod = pytest.importorskip("edge.ui.app", reason="edge.ui.app not available yet")
    model = ROOT / "assets" / "models" / "emotion.tflite"
    if not model.is_file():
        pytest.skip("no shipped model yet (assets/models/emotion.tflite)")
    try:
        app_mod.scene_classes()
    except ModuleNotFoundError as err:
        pytest.skip(f"edge.ui.app not complete yet: {err}")
    out = io.StringIO()
    config = ExhibitConfig(source=str(ROOT / "assets" / "demo" / "demo.mp4"), fullscreen=False)  # real faces
    code = run_soak(config, 50.0, report_every=10.0, out=out, visitor_every=2.0)
    text = out.getvalue()
    assert code == 0, text
    summary = text.strip().splitlines()[-1]
    presses = int(summary.split("presses ")[1].split(",")[0])
    decisions = int(summary.split("decisions ")[1].split(" ")[0])
    # The visitor drove the exhibit past Attract. How often it can press depends on the path the model's
    # answers open: the dance activity shows no button for ~30 s, so a 50-s walk can hold as few as 8 presses.
    assert presses >= 6 and decisions >= 1, summary
