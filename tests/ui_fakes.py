"""Test doubles for the UI: a scripted VisionSource built from real photos, and a fake clock."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from skimage import data

from edge.labels import EMOTIONS
from edge.types import CameraState, Decision, Face, Frame, FrameResult

ASTRONAUT_FACE = (177, 66, 95, 95)


class FakeClock:
    def __init__(self, start: float = 1000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def scores_for(emotion: str | None, confidence: float = 0.8) -> np.ndarray:
    scores = np.full(len(EMOTIONS), (1 - confidence) / (len(EMOTIONS) - 1), np.float32)
    if emotion is not None:
        scores[EMOTIONS.index(emotion)] = confidence
    return scores


class ScriptedVision:
    """VisionSource over skimage.data photos. `face` toggles whether results contain a face; decisions
    are popped from a script (the last one repeats). Records every call so tests can check the UI
    only uses the contract (start/stop/state/latest/decide)."""

    def __init__(self, decisions: list[Decision] | None = None, face: bool = True,
                 clock: Callable[[], float] | None = None):
        self.image = data.astronaut()
        self.gray = (self.image @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
        self.decisions = list(decisions or [Decision("happy", 0.9, {}, "", 10)])
        self.face = face
        self.clock = clock or (lambda: 0.0)
        self.calls: list[str] = []
        self.windows: list[float] = []
        self._state = CameraState.STARTING
        self.index = 0
        self.frames: list[tuple[np.ndarray, tuple[int, int, int, int] | None]] = []  # optional scripted gray+box

    def start(self) -> None:
        self.calls.append("start")
        self._state = CameraState.OK

    def stop(self) -> None:
        self.calls.append("stop")
        self._state = CameraState.ENDED

    @property
    def state(self) -> CameraState:
        return self._state

    def latest(self) -> tuple[Frame | None, FrameResult | None]:
        self.index += 1
        gray, box = self.gray, ASTRONAUT_FACE if self.face else None
        if self.frames:
            gray, box = self.frames[min(self.index - 1, len(self.frames) - 1)]
        image = np.repeat(gray[..., None], 3, axis=2) if gray is not self.gray else self.image
        now = self.clock()
        frame = Frame(image, gray, now, self.index)
        faces = (Face(box, scores_for("happy")),) if box is not None else ()
        result = FrameResult(now, faces, scores_for("happy") if faces else None, (gray.shape[1], gray.shape[0]))
        return frame, result

    def decide(self, window_s: float = 1.5) -> Decision:
        self.calls.append("decide")
        self.windows.append(window_s)
        return self.decisions.pop(0) if len(self.decisions) > 1 else self.decisions[0]
