"""Cropping geometry on real photos, and the fitted calibration recovering FER's own framing."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.crop import crop_face, crop_square
from edge.detect import make_detector
from edge.modelfile import CropSpec

CALIBRATION = Path(__file__).resolve().parents[1] / "assets" / "models" / "crop_calibration.json"


def test_inside_crop_equals_slice_and_resize(astronaut_gray):
    got = crop_square(astronaut_gray, 220, 130, 120, 48)
    want = cv2.resize(astronaut_gray[70:190, 160:280], (48, 48), interpolation=cv2.INTER_AREA)
    assert np.array_equal(got, want)


def test_crop_leaving_the_frame_is_padded_with_edge_pixels(astronaut_gray):
    got = crop_square(astronaut_gray, 0, 0, 100, 100)  # centred on the corner: 3/4 outside
    assert got.shape == (100, 100)
    assert np.array_equal(got[50:, 50:], astronaut_gray[:50, :50])
    assert np.array_equal(got[:50, 50:], np.repeat(astronaut_gray[:1, :50], 50, axis=0))
    assert crop_square(astronaut_gray, -500, -500, 50, 48).sum() == 0  # wholly outside: blank


def test_crop_spec_moves_and_scales_the_box():
    spec = CropSpec(scale=1.5, dx=0.1, dy=-0.2)
    assert spec.apply((100, 100, 40, 60)) == pytest.approx((124, 118, 90))


def test_calibration_file_is_a_crop_spec():
    data = json.loads(CALIBRATION.read_text())
    spec = CropSpec(**{k: data[k] for k in ("scale", "dx", "dy", "detector")})
    assert spec.detector == make_detector("auto").name
    assert 0.8 < spec.scale < 1.6 and abs(spec.dx) < 0.2 and abs(spec.dy) < 0.25
    assert data["fit"]["found_rate"] >= 0.98


def test_calibrated_crop_recovers_the_original_face_better_than_the_raw_box(val_faces, backgrounds):
    from convert.calibrate_crop import compose

    data = json.loads(CALIBRATION.read_text())
    fitted = CropSpec(**{k: data[k] for k in ("scale", "dx", "dy", "detector")})
    detector = make_detector(fitted.detector)
    rng = np.random.default_rng(11)
    err_fitted, err_raw = [], []
    for face in val_faces[0][::2]:
        scene = compose(face, backgrounds[int(rng.integers(len(backgrounds)))], rng)
        found = detector.detect(scene.gray)
        if not found:
            continue
        ref = face.astype(np.float32)
        err_fitted.append(np.abs(crop_face(scene.gray, found[0].box, fitted).astype(np.float32) - ref).mean())
        err_raw.append(np.abs(crop_face(scene.gray, found[0].box, CropSpec()).astype(np.float32) - ref).mean())
    assert len(err_fitted) >= 0.9 * len(val_faces[0][::2])
    assert np.median(err_fitted) < np.median(err_raw)


def test_fit_on_a_few_faces_agrees_with_the_shipped_calibration(dataset_root):
    from convert.calibrate_crop import fit

    data = json.loads(CALIBRATION.read_text())
    quick = fit(data["detector"], dataset_root, count=40, seed=5)
    assert quick["fit"]["found_rate"] >= 0.9
    assert quick["scale"] == pytest.approx(data["scale"], abs=0.12)
    assert quick["dy"] == pytest.approx(data["dy"], abs=0.06)
