"""Camera loss and recovery through the real looping video source and the real Pipeline threads.

The "camera" is a looping video file that is truncated in place (the decoder fails, reopening fails:
LOST) and then restored (reopening succeeds: OK). The classifier is a stub so that this test does
not need a shipped model; capture, detection, back-off and state are all real.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from edge.labels import EMOTIONS
from edge.modelfile import CropSpec
from edge.types import CameraState


def make_video(path: Path, frames: int = 10, size: tuple[int, int] = (640, 480)) -> Path:
    """Noisy frames: a few MB, far more than the decoder buffers, so truncating the file is noticed."""
    import cv2

    rng = np.random.default_rng(0)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 20.0, size)
    for _ in range(frames):
        writer.write(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))
    writer.release()
    return path

RECOVERY_LIMIT_S = 5.0


class StubClassifier:
    labels = EMOTIONS
    input_size = 48

    class spec:  # noqa: N801 - mimics Classifier.spec
        crop = CropSpec()

    def predict(self, crops: np.ndarray) -> np.ndarray:
        return np.full((len(crops), len(EMOTIONS)), 1 / len(EMOTIONS), np.float32)


def wait_for(predicate, timeout: float) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.02)
    return None


def make_pipeline(video: Path):
    pipeline_mod = pytest.importorskip("edge.pipeline", reason="edge.pipeline not available yet")
    from edge.camera.sources import VideoFile

    return pipeline_mod.Pipeline(VideoFile(video, loop=True, pace=True), StubClassifier(), detector="haar")


def test_pipeline_reports_loss_and_recovers_within_5_s(tmp_path):
    video = make_video(tmp_path / "camera.avi", frames=10)
    original = video.read_bytes()
    with make_pipeline(video) as pipeline:
        assert wait_for(lambda: pipeline.state == CameraState.OK, 5.0) is not None, pipeline.last_error
        captured = pipeline.frames_captured
        assert wait_for(lambda: pipeline.frames_captured > captured + 15, 5.0) is not None  # it loops
        with video.open("r+b") as f:  # the camera "goes away"
            f.truncate(0)
        assert wait_for(lambda: pipeline.state == CameraState.LOST, 5.0) is not None
        assert pipeline.last_error
        time.sleep(1.5)  # stays lost while the camera is away (and keeps retrying)
        assert pipeline.state == CameraState.LOST
        video.write_bytes(original)  # the camera comes back
        took = wait_for(lambda: pipeline.state == CameraState.OK, RECOVERY_LIMIT_S)
        assert took is not None, f"not back within {RECOVERY_LIMIT_S} s: {pipeline.last_error}"
        captured = pipeline.frames_captured
        assert wait_for(lambda: pipeline.frames_captured > captured + 5, 3.0) is not None
        assert pipeline.running


def test_app_shows_camera_screen_and_returns_to_attract(tmp_path, monkeypatch):
    app_mod = pytest.importorskip("edge.ui.app", reason="edge.ui.app not available yet")
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    from edge.config import ExhibitConfig

    video = make_video(tmp_path / "camera.avi", frames=10)
    original = video.read_bytes()
    pipeline = make_pipeline(video)
    try:
        app = app_mod.ExhibitApp(ExhibitConfig(fullscreen=False), pipeline, screen_size=(480, 320), headless=True)
    except ModuleNotFoundError as err:  # the UI package is still being written
        pytest.skip(f"edge.ui.app not complete yet: {err}")
    pipeline.start()
    try:
        def run_until(predicate, timeout: float) -> float | None:
            start = time.monotonic()
            while time.monotonic() - start < timeout:
                app.step(1 / 30)
                if predicate():
                    return time.monotonic() - start
                time.sleep(1 / 30)
            return None

        assert run_until(lambda: "attract" in app.state_name.lower(), 5.0) is not None, app.state_name
        with video.open("r+b") as f:
            f.truncate(0)
        # The UI draws "camera unavailable" either as its own scene or inside Attract (edge.ui.scenes.flow).
        assert run_until(lambda: pipeline.state == CameraState.LOST, 6.0) is not None, "loss never seen"
        for _ in range(30):  # the loop keeps running on the camera-unavailable screen
            app.step(1 / 30)
            app.render()
        video.write_bytes(original)
        took = run_until(lambda: "attract" in app.state_name.lower() and pipeline.state == CameraState.OK,
                         RECOVERY_LIMIT_S)
        assert took is not None, f"not back to Attract within {RECOVERY_LIMIT_S} s (state {app.state_name})"
    finally:
        pipeline.stop()
