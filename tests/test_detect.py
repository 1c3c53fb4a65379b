"""Face detectors on real photos and on composed FER faces."""

from __future__ import annotations

import numpy as np
import pytest

from edge.detect import Detection, DetectorError, make_detector, rank
from edge.detect.blazeface import decode, make_anchors, weighted_nms

# The astronaut's face in skimage.data.astronaut() (512×512): roughly x 160–280, y 50–200.
ASTRONAUT_FACE_CENTRE = (220, 125)


@pytest.mark.parametrize("name", ["blazeface", "haar"])
def test_finds_the_astronaut(name, astronaut_gray):
    faces = make_detector(name).detect(astronaut_gray)
    assert faces, f"{name} found no face in the astronaut photo"
    x, y, w, h = faces[0].box
    assert abs(x + w / 2 - ASTRONAUT_FACE_CENTRE[0]) < 40 and abs(y + h / 2 - ASTRONAUT_FACE_CENTRE[1]) < 45
    assert 60 < w < 200


def test_blazeface_keypoints_sit_on_the_astronauts_face(astronaut_gray):
    face = make_detector("blazeface").detect(astronaut_gray)[0]
    x, y, w, h = face.box
    assert len(face.keypoints) == 6 and all(x <= kx <= x + w and y <= ky <= y + h for kx, ky in face.keypoints[:4])
    (rex, rey), (lex, ley), (nx, ny), (mx, my) = face.keypoints[:4]
    assert rex < nx < lex  # her right eye is on the image's left
    assert max(rey, ley) < ny < my  # eyes above the nose tip, the nose above the mouth
    assert 20 < lex - rex < 0.6 * w


def test_zoomed_fallback_maps_keypoints_back_to_the_frame(astronaut_gray):
    import cv2

    # the astronaut small in the middle of a big dark frame: found only by the zoomed second look
    frame = np.zeros((960, 1280), np.uint8)
    frame[260:700, 420:860] = cv2.resize(astronaut_gray, (440, 440), interpolation=cv2.INTER_AREA)
    detector = make_detector("blazeface")
    detector.zoom_fallback = False
    assert detector.detect(frame) == []
    detector.zoom_fallback = True
    found = detector.detect(frame)
    assert found
    x, y, w, h = found[0].box
    assert 420 + 440 * 160 / 512 < x + w / 2 < 420 + 440 * 280 / 512  # the face, in frame pixels
    assert 260 + 440 * 50 / 512 < y + h / 2 < 260 + 440 * 200 / 512
    assert all(x <= kx <= x + w and y <= ky <= y + h for kx, ky in found[0].keypoints[:4])


@pytest.mark.parametrize("photo", ["brick", "grass", "gravel", "moon", "immunohistochemistry", "coins"])
def test_blazeface_sees_no_face_in_photos_without_one(photo):
    # Textured photos only: on busy scenes (skimage's coffee, rocket, hubble_deep_field) BlazeFace
    # fed grayscale does fire at scores 0.5–0.6 now and then; decide() needs a face in most frames.
    import cv2
    import skimage.data

    img = getattr(skimage.data, photo)()
    gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    assert make_detector("blazeface").detect(cv2.resize(gray, (640, 480))) == []


def test_blazeface_finds_composed_validation_faces(val_faces, backgrounds):
    from convert.calibrate_crop import compose

    detector = make_detector("auto")
    rng = np.random.default_rng(3)
    faces = val_faces[0]
    hits = 0
    for face in faces:
        scene = compose(face, backgrounds[int(rng.integers(len(backgrounds)))], rng)
        found = detector.detect(scene.gray)
        cx, cy, side = scene.crop
        hits += bool(found) and abs(found[0].box[0] + found[0].box[2] / 2 - cx) < side / 2
    assert hits / len(faces) >= 0.9, f"found {hits}/{len(faces)}"


def test_anchor_layout_matches_the_model_output():
    anchors = make_anchors()
    assert anchors.shape == (896, 2)
    assert anchors.min() > 0 and anchors.max() < 1
    # first block: 16×16 cells, 2 anchors per cell, row-major
    assert np.allclose(anchors[0], anchors[1]) and np.allclose(anchors[0], [0.5 / 16, 0.5 / 16])
    assert np.allclose(anchors[2], [1.5 / 16, 0.5 / 16])
    assert np.allclose(anchors[512], [0.5 / 8, 0.5 / 8])


def test_decode_and_weighted_nms_merge_a_cluster():
    anchors = np.array([[0.5, 0.5], [0.52, 0.5], [0.1, 0.1]], np.float32)
    raw = np.zeros((3, 16), np.float32)
    raw[:, 2:4] = 32  # 32 px of 128 → 0.25 wide and high
    boxes = decode(raw, anchors)
    assert np.allclose(boxes[0], [0.375, 0.375, 0.625, 0.625])
    merged = weighted_nms(boxes, np.array([0.9, 0.6, 0.8]), 0.3)
    assert len(merged) == 2  # the two overlapping boxes become one
    (box, score), _ = merged
    assert score == pytest.approx(0.9)
    assert 0.5 < (box[0] + box[2]) / 2 < 0.52  # pulled toward the second box by its weight


def test_rank_prefers_big_central_faces():
    centre = Detection((280, 200, 80, 80))
    edge_big = Detection((0, 0, 90, 90))
    small = Detection((300, 220, 30, 30))
    assert rank([small, edge_big, centre], (640, 480))[0] is centre


def test_unknown_detector_is_a_one_line_error():
    with pytest.raises(DetectorError, match="unknown detector 'yolo'"):
        make_detector("yolo")


def test_detector_rejects_colour_input(astronaut_gray):
    with pytest.raises(ValueError, match="grayscale"):
        make_detector("blazeface").detect(np.dstack([astronaut_gray] * 3))
