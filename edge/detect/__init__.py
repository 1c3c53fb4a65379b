"""Face detectors behind one interface: `detect(gray) -> list[Detection]`, largest/most central first.

Two implementations: `blazeface` (MediaPipe's short-range BlazeFace .tflite run with our own TFLite
runtime; anchors, box decoding and weighted NMS in numpy) and `haar` (OpenCV's frontal-face
cascade). `auto` is BlazeFace, chosen by measurement on 400 real FER validation faces composed on
photos (convert/calibrate_crop.py): it found 98.3 % of them against Haar's 74.5 %, in a median
2.0–3.5 ms per 640×480 frame against 32 ms for Haar on a 320 px downscale (`emotions bench
--detector blazeface|haar`, 1 thread, on a loaded 2-core x86 machine).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

DETECTORS = ("blazeface", "haar")
DEFAULT_DETECTOR = "blazeface"


class DetectorError(Exception):
    """A detector cannot be built; the message is one line."""


@dataclass(frozen=True)
class Detection:
    box: tuple[float, float, float, float]  # x, y, w, h in pixels of the image given to detect()
    score: float = 1.0
    # (x, y) pixels of facial landmarks when the detector finds them (BlazeFace: right eye, left
    # eye, nose tip, mouth, right ear, left ear); empty for Haar
    keypoints: tuple[tuple[float, float], ...] = ()


class Detector(Protocol):
    name: str

    def detect(self, gray: np.ndarray) -> list[Detection]: ...


def rank(detections: list[Detection], size: tuple[int, int]) -> list[Detection]:
    """Order faces for a one-visitor exhibit: big and central first.

    Area dominates; the distance of the box centre from the image centre (as a fraction of the
    image diagonal) discounts it, so a bystander's face at the edge loses to the visitor in front.
    """
    w, h = size
    diag = float(np.hypot(w, h)) or 1.0

    def key(d: Detection) -> float:
        x, y, bw, bh = d.box
        off = np.hypot(x + bw / 2 - w / 2, y + bh / 2 - h / 2) / diag  # 0 (centre) … 0.5 (corner)
        return bw * bh * (1.0 - off)

    return sorted(detections, key=key, reverse=True)


def make_detector(name: str = "auto", threads: int = 1) -> Detector:
    """Build a detector by name: auto | blazeface | haar."""
    name = (name or "auto").lower()
    if name == "auto":
        name = DEFAULT_DETECTOR
    if name == "blazeface":
        from edge.detect.blazeface import BlazeFace

        return BlazeFace(threads=threads)
    if name == "haar":
        from edge.detect.haar import HaarDetector

        return HaarDetector()
    raise DetectorError(f"unknown detector {name!r}; choose one of auto, {', '.join(DETECTORS)}")
