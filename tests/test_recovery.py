"""Camera loss and recovery through the real looping video source, the real Pipeline threads and the real
shipped classifier.

The "camera" is a looping video file that is truncated in place (the decoder fails, reopening fails:
LOST) and then restored (reopening succeeds: OK). The test back-off is short (0.05 → 0.2 s) so that
recovery is quick; the exhibit's own schedule (0.5 → 30 s) is checked as a pure function.
"""

from __future__ import annotations

import threading
from functools import partial
from itertools import islice
from pathlib import Path

import _waiting
import numpy as np
import pytest

from edge.camera.base import CameraError, Source
from edge.camera.sources import VideoFile
from edge.classify import DEFAULT_MODEL, Classifier, ClassifierOptions
from edge.config import ExhibitConfig
from edge.pipeline import Pipeline, PipelineOptions, backoff_waits
from edge.types import CameraState
from edge.ui.app import ExhibitApp

TIMEOUT_S = 30.0  # generous: only a hang should reach it (2 shared cores); speed is not measured here
wait_for = partial(_waiting.wait_for, timeout=TIMEOUT_S)
FAST_BACKOFF = PipelineOptions(backoff_s=(0.05, 0.2))


def make_video(path: Path, frames: int = 10, size: tuple[int, int] = (640, 480)) -> Path:
    """Noisy frames: a few MB, far more than the decoder buffers, so truncating the file is noticed."""
    import cv2

    rng = np.random.default_rng(0)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 20.0, size)
    for _ in range(frames):
        writer.write(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))
    writer.release()
    return path


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(ClassifierOptions(model=DEFAULT_MODEL))


class CountingVideo(VideoFile):
    """The real looping video source, counting its (re)open attempts."""

    def __init__(self, path: Path):
        super().__init__(path, loop=True, pace=True)
        self.opens = 0

    def _open(self) -> None:
        self.opens += 1
        super()._open()


def test_backoff_doubles_up_to_the_longest_wait():
    assert list(islice(backoff_waits(0.5, 30.0), 9)) == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    assert PipelineOptions().backoff_s == (0.5, 30.0)  # the exhibit's: a camera back in seconds is found fast
    assert list(islice(backoff_waits(0.05, 0.2), 4)) == [0.05, 0.1, 0.2, 0.2]


class LooseCable(Source):
    """A camera that opens, gives one frame and fails: a loose cable or a flaky USB hub."""

    def _open(self) -> None:
        self.fresh = True

    def _read(self):
        if not self.fresh:
            raise CameraError("camera 0 stopped giving frames")
        self.fresh = False
        gray = np.zeros((120, 160), np.uint8)
        return self._frame(np.zeros((120, 160, 3), np.uint8), gray)

    def _close(self) -> None:
        pass


class RecordedWaits(threading.Event):
    """The pipeline's stop event, recording how long the capture loop waits before each reopen."""

    def __init__(self):
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout=None):
        if timeout is not None:
            self.waits.append(timeout)
        return super().wait(timeout)


def test_a_camera_that_fails_after_every_frame_keeps_backing_off(classifier):
    """A frame between two losses does not restart the back-off (only frames for STABLE_CAMERA_S do), so a flapping
    camera is not reopened, and its loss logged, twice a second all night."""
    pipeline = Pipeline(LooseCable(), classifier, detector="haar", options=FAST_BACKOFF)
    pipeline._stop = stop = RecordedWaits()
    with pipeline:
        assert wait_for(lambda: len(stop.waits) >= 5)
    assert stop.waits[:5] == [0.05, 0.1, 0.2, 0.2, 0.2]
    assert pipeline.frames_captured >= 4  # it did get its frame after each reopen


def test_pipeline_reports_loss_and_recovers(tmp_path, classifier):
    video = make_video(tmp_path / "camera.avi", frames=10)
    original = video.read_bytes()
    source = CountingVideo(video)
    with Pipeline(source, classifier, detector="haar", options=FAST_BACKOFF) as pipeline:
        assert wait_for(lambda: pipeline.state == CameraState.OK), pipeline.last_error
        captured = pipeline.frames_captured
        assert wait_for(lambda: pipeline.frames_captured > captured + 15)  # it loops past the 10 frames
        with video.open("r+b") as f:  # the camera "goes away"
            f.truncate(0)
        assert wait_for(lambda: pipeline.state == CameraState.LOST)
        assert pipeline.last_error
        opens = source.opens
        assert wait_for(lambda: source.opens >= opens + 3)  # it keeps retrying...
        assert pipeline.state == CameraState.LOST and pipeline.running  # ...and stays lost while the camera is away
        video.write_bytes(original)  # the camera comes back
        assert wait_for(lambda: pipeline.state == CameraState.OK), pipeline.last_error
        captured = pipeline.frames_captured
        assert wait_for(lambda: pipeline.frames_captured > captured + 5)
        assert pipeline.running


def test_app_shows_camera_lost_text_and_returns_to_attract(tmp_path, monkeypatch, classifier, drawn_texts):
    """The real pipeline keeps its last frame after the loss: Attract must show the camera-lost text, not that frame."""
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    video = make_video(tmp_path / "camera.avi", frames=10)
    original = video.read_bytes()
    pipeline = Pipeline(VideoFile(video, loop=True, pace=True), classifier, detector="haar", options=FAST_BACKOFF)
    app = ExhibitApp(ExhibitConfig(fullscreen=False), pipeline, screen_size=(480, 320), headless=True)
    lost_text = app.content.t("attract.camera_lost")

    def step() -> None:
        drawn_texts.clear()
        app.step(1 / 30)

    pipeline.start()
    try:
        assert wait_for(lambda: pipeline.state == CameraState.OK and pipeline.latest()[0] is not None, tick=step)
        step()
        assert app.state_name == "attract" and lost_text not in drawn_texts, drawn_texts
        with video.open("r+b") as f:
            f.truncate(0)
        assert wait_for(lambda: pipeline.state == CameraState.LOST, tick=step), "loss never seen"
        for _ in range(10):  # the loop keeps running on the camera-lost screen
            step()
            assert pipeline.state == CameraState.LOST  # the file stays empty: every reopen fails
            assert pipeline.latest()[0] is not None  # the pipeline still holds its last frame...
            assert lost_text in drawn_texts, drawn_texts  # ...but the screen says the camera is away
        video.write_bytes(original)
        assert wait_for(lambda: pipeline.state == CameraState.OK, tick=step), pipeline.last_error
        step()
        assert app.state_name == "attract" and lost_text not in drawn_texts, drawn_texts
    finally:
        pipeline.stop()
