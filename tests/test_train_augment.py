"""Augmentation: deterministic under a seed, and each transform changes pixels within its range."""

from __future__ import annotations

import numpy as np
import pytest
from _data import DATA_ROOT, requires_data

tf = pytest.importorskip("tensorflow", reason="training tests need TensorFlow (the train extra)")

from train.augment import NO_AUGMENTATION, AugmentConfig, augment_batch  # noqa: E402

pytestmark = requires_data


@pytest.fixture(scope="module")
def faces() -> np.ndarray:
    import cv2

    files = sorted((DATA_ROOT / "validation" / "happy").iterdir())[:16]
    return np.stack([cv2.imread(str(f), cv2.IMREAD_GRAYSCALE) for f in files]).astype(np.float32)[..., None]


def run(faces, config, seed=(1, 2)):
    return augment_batch(tf.constant(faces), tf.constant(seed, tf.int64), config).numpy()


def only(**knobs) -> AugmentConfig:
    from dataclasses import replace

    return replace(NO_AUGMENTATION, **knobs)


def test_same_seed_same_pixels_other_seed_other_pixels(faces):
    config = AugmentConfig(erasing_prob=0.5)
    a, b, c = run(faces, config), run(faces, config), run(faces, config, seed=(9, 9))
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).mean() > 5


def test_nothing_enabled_is_identity(faces):
    assert not NO_AUGMENTATION.enabled
    np.testing.assert_allclose(run(faces, NO_AUGMENTATION), faces)


@pytest.mark.parametrize(
    "config",
    [
        only(rotation_deg=30),
        only(width_shift=0.2),
        only(height_shift=0.2),
        only(zoom=0.2),
        only(shear=0.2),
        only(horizontal_flip=True),
        only(brightness=(0.8, 1.2)),
        only(intensity_shift=30),
        only(erasing_prob=1.0),
    ],
    ids=["rotation", "width", "height", "zoom", "shear", "flip", "brightness", "intensity", "erasing"],
)
def test_each_transform_changes_pixels_and_stays_in_range(faces, config):
    out = run(faces, config)
    assert out.shape == faces.shape
    assert out.min() >= 0 and out.max() <= 255
    changed = np.abs(out - faces).reshape(len(faces), -1).mean(axis=1)
    assert (changed > 0.5).mean() >= 0.4  # most images visibly changed (a flip hits about half)


def test_brightness_factor_within_range(faces):
    out = run(faces, only(brightness=(0.8, 1.2)))
    unclipped = (faces > 10) & (faces < 200)
    ratio = out[unclipped] / faces[unclipped]
    assert ratio.min() >= 0.8 - 1e-4 and ratio.max() <= 1.2 + 1e-4


def test_intensity_shift_within_range(faces):
    out = run(faces, only(intensity_shift=30))
    mid = (faces > 40) & (faces < 210)
    diff = out[mid] - faces[mid]
    assert np.abs(diff).max() <= 30 + 1e-3
    per_image = [np.unique(np.round(d, 3)).size for d in (out - faces)[..., 0][mid[..., 0].any(axis=(1, 2))][:3]]
    assert all(n >= 1 for n in per_image)


def test_flip_is_an_exact_mirror_for_flipped_images(faces):
    out = run(faces, only(horizontal_flip=True))
    mirrored = [np.allclose(o, f[:, ::-1], atol=1e-3) for o, f in zip(out, faces)]
    same = [np.allclose(o, f, atol=1e-3) for o, f in zip(out, faces)]
    assert all(m or s for m, s in zip(mirrored, same)) and 0 < sum(mirrored) < len(faces)


def test_rotation_stays_within_limit(faces):
    # A single bright dot moved by rotation about the centre stays on the circle, within ±30°.
    dot = np.zeros((1, 48, 48, 1), np.float32)
    dot[0, 23, 40] = 255.0  # 16.5 px right of centre (23.5, 23.5)
    angles = []
    for s in range(20):
        out = run(dot, only(rotation_deg=30), seed=(s, 0))[0, ..., 0]
        y, x = np.unravel_index(out.argmax(), out.shape)
        angles.append(np.degrees(np.arctan2(y - 23.5, x - 23.5)))
    assert max(abs(a) for a in angles) <= 33 and np.std(angles) > 5
