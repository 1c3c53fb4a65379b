"""Detector box → the classifier's square grayscale crop, framed like FER2013.

`CropSpec` (from the model's metadata, fitted by `convert/calibrate_crop.py` for the detector in
use) turns a box into a square (centre, side); this module cuts that square out, padding with the
edge pixels where it leaves the frame (a visitor at the edge of the image is still classified),
and shrinks it with area averaging, the way FER2013's 48×48 faces were made.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import cv2
import numpy as np

from edge.modelfile import CropSpec

log = logging.getLogger(__name__)


def crop_square(gray: np.ndarray, cx: float, cy: float, side: float, size: int) -> np.ndarray:
    """The square of `side` pixels centred at (cx, cy), resized to (size, size) uint8."""
    if gray.ndim != 2:
        raise ValueError(f"crop needs a 2-D grayscale image, got shape {gray.shape}")
    side_i = max(1, round(side))
    x0, y0 = round(cx - side_i / 2), round(cy - side_i / 2)
    x1, y1 = x0 + side_i, y0 + side_i
    h, w = gray.shape
    inner = gray[max(0, y0) : max(0, min(h, y1)), max(0, x0) : max(0, min(w, x1))]
    if inner.size == 0:  # the square lies wholly outside the frame
        return np.zeros((size, size), np.uint8)
    if inner.shape != (side_i, side_i):
        inner = cv2.copyMakeBorder(
            inner, max(0, -y0), max(0, y1 - h), max(0, -x0), max(0, x1 - w), cv2.BORDER_REPLICATE
        )
    interp = cv2.INTER_AREA if side_i > size else cv2.INTER_LINEAR
    return cv2.resize(inner, (size, size), interpolation=interp)


def crop_face(gray: np.ndarray, box: tuple[float, float, float, float], spec: CropSpec, size: int = 48,
              keypoints=()) -> np.ndarray:
    """The model input for one detector box (x, y, w, h) and its keypoints, if any."""
    cx, cy, side = spec.apply(box, keypoints)
    return crop_square(gray, cx, cy, side, size)


def crop_faces(gray: np.ndarray, detections, spec: CropSpec, size: int = 48) -> np.ndarray:
    """(N, size, size) uint8 crops for N `Detection`s (N may be 0)."""
    out = np.empty((len(detections), size, size), np.uint8)
    for i, d in enumerate(detections):
        out[i] = crop_face(gray, d.box, spec, size, d.keypoints)
    return out


CALIBRATION_FILE = Path(__file__).resolve().parent.parent / "assets" / "models" / "crop_calibration.json"


def resolve_crop(model_crop: CropSpec, detector: str, calibration: Path = CALIBRATION_FILE) -> CropSpec:
    """The crop transform to use with `detector`: the model's own when it was calibrated for that
    detector, else the fitted one from assets/models/crop_calibration.json, else the model's (with
    a warning: a box framed differently from training costs accuracy)."""
    if model_crop.detector == detector:
        return model_crop
    try:
        fitted = json.loads(calibration.read_text(encoding="utf-8")).get("per_detector", {}).get(detector)
    except (OSError, ValueError):
        fitted = None
    if fitted:
        try:
            return CropSpec.from_dict(fitted)
        except (TypeError, ValueError) as err:
            log.warning("%s: bad crop calibration for %r (%s); using the model's", calibration, detector, err)
    log.warning("no crop calibration for detector %r; using the model's (%s)", detector, model_crop.detector)
    return model_crop
