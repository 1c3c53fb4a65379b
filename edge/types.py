"""Plain data passed between the vision pipeline and the UI. No behaviour, no heavy imports."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

import numpy as np


class CameraState(Enum):
    STARTING = "starting"
    OK = "ok"
    LOST = "lost"  # the source failed; the pipeline retries with back-off
    ENDED = "ended"  # a finite source (video without loop, image folder) ran out


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # (H, W, 3) uint8 RGB for display
    gray: np.ndarray  # (h, w) uint8 grayscale for detection (may be a lower-resolution stream)
    timestamp: float  # time.monotonic() seconds when captured
    index: int = 0


Box = tuple[int, int, int, int]  # x, y, w, h in the coordinates of Frame.gray


@dataclass(frozen=True)
class Face:
    box: Box
    scores: np.ndarray  # (classes,) probabilities for this frame
    detector_score: float = 1.0


@dataclass(frozen=True)
class FrameResult:
    """What the inference worker made of one frame."""

    timestamp: float
    faces: tuple[Face, ...]  # largest / most central first
    smoothed: np.ndarray | None  # temporally smoothed probabilities of the main face, None if no face
    gray_size: tuple[int, int] = (0, 0)  # (w, h) of the image the boxes refer to
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def face_count(self) -> int:
        return len(self.faces)

    @property
    def main_face(self) -> Face | None:
        return self.faces[0] if self.faces else None


@dataclass(frozen=True)
class Decision:
    """The answer to "Recognize emotion": an emotion with its confidence, or not sure (emotion None)."""

    emotion: str | None
    confidence: float
    scores: dict[str, float]
    reason: str = ""  # why not sure: "no face", "face lost", "low confidence", "too few frames"
    frames: int = 0

    @property
    def sure(self) -> bool:
        return self.emotion is not None


class VisionSource(Protocol):
    """What the UI needs from the vision pipeline (edge.pipeline.Pipeline implements it).

    All methods return immediately: the UI never waits for capture or inference.
    """

    def start(self) -> None: ...

    def stop(self) -> None: ...

    @property
    def state(self) -> CameraState: ...

    def latest(self) -> tuple[Frame | None, FrameResult | None]:
        """The newest captured frame and the newest inference result (each may be None). After a loss or the end
        of the source they may still be the last ones: check `state` before showing them."""
        ...

    def decide(self, window_s: float = 1.5) -> Decision:
        """Decision over the results of the last `window_s` seconds (for "Recognize emotion")."""
        ...
