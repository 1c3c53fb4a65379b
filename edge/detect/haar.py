"""OpenCV's Haar frontal-face cascade (ships in opencv-python-headless as cv2.data.haarcascades).

Run on a frame downscaled to `work_width` with a minimum face size: the exhibit visitor is
0.5–2 m away, so tiny faces are not wanted and skipping them is most of the speed-up.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edge.detect import Detection, DetectorError, rank


class HaarDetector:
    name = "haar"

    def __init__(self, work_width: int = 320, min_face: int = 40, scale_factor: float = 1.1, neighbors: int = 5):
        path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise DetectorError(f"cannot load the Haar cascade {path}")
        self.work_width, self.min_face = work_width, min_face
        self.scale_factor, self.neighbors = scale_factor, neighbors

    def detect(self, gray: np.ndarray) -> list[Detection]:
        h, w = gray.shape[:2]
        f = min(1.0, self.work_width / w)
        small = cv2.resize(gray, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA) if f < 1 else gray
        boxes = self._cascade.detectMultiScale(
            small, scaleFactor=self.scale_factor, minNeighbors=self.neighbors, minSize=(self.min_face, self.min_face)
        )
        found = [Detection((x / f, y / f, bw / f, bh / f), 1.0) for x, y, bw, bh in np.asarray(boxes).reshape(-1, 4)]
        return rank(found, (w, h))
