"""A VisionSource made of one still photo: the preview for --screenshots and the UI benchmark's
fallback when no real pipeline or video is at hand. Never used for real recognition."""

from __future__ import annotations

import time

import numpy as np

from edge.labels import EMOTIONS
from edge.types import CameraState, Decision, Face, Frame, FrameResult

# The face in skimage.data.astronaut() (found once with OpenCV's frontal-face cascade).
ASTRONAUT_FACE = (177, 66, 95, 95)


def still_image() -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """(RGB image, face box); skimage's astronaut photo, or a drawn stand-in when skimage is absent."""
    try:
        from skimage import data  # lazy: a dev/test dependency, not needed on the Pi

        return data.astronaut(), ASTRONAUT_FACE
    except ImportError:
        img = np.full((480, 640, 3), (90, 110, 140), np.uint8)
        yy, xx = np.mgrid[0:480, 0:640]
        img[(xx - 320) ** 2 + (yy - 200) ** 2 < 80**2] = (230, 190, 160)
        return img, (240, 120, 160, 160)


class StillVision:
    """Implements edge.types.VisionSource with one picture and a fixed answer."""

    def __init__(self, emotion: str | None = "happy", confidence: float = 0.82):
        self.image, self.box = still_image()
        self.gray = (self.image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)).astype(np.uint8)
        self.emotion = emotion
        self.confidence = confidence
        self._state = CameraState.STARTING
        self._index = 0

    def start(self) -> None:
        self._state = CameraState.OK

    def stop(self) -> None:
        self._state = CameraState.ENDED

    @property
    def state(self) -> CameraState:
        return self._state

    def _scores(self) -> np.ndarray:
        scores = np.full(len(EMOTIONS), (1 - self.confidence) / (len(EMOTIONS) - 1), np.float32)
        if self.emotion in EMOTIONS:
            scores[EMOTIONS.index(self.emotion)] = self.confidence
        return scores

    def latest(self) -> tuple[Frame | None, FrameResult | None]:
        self._index += 1
        now = time.monotonic()
        frame = Frame(self.image, self.gray, now, self._index)
        scores = self._scores()
        result = FrameResult(now, (Face(self.box, scores),), scores, (self.gray.shape[1], self.gray.shape[0]))
        return frame, result

    def decide(self, window_s: float = 1.5) -> Decision:
        scores = dict(zip(EMOTIONS, map(float, self._scores())))
        if self.emotion is None:
            return Decision(None, 0.0, scores, "low confidence", 10)
        return Decision(self.emotion, self.confidence, scores, "", 10)
