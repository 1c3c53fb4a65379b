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
        only(crop_scale=(0.5, 1.0)),
    ],
    ids=["rotation", "width", "height", "zoom", "shear", "flip", "brightness", "intensity", "erasing", "crop"],
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
    # One shift per image (pixels in 40..210 never clip under ±30), and the shifts differ between images.
    shifts = []
    for image_out, image_in, inside in zip(out, faces, mid, strict=True):
        if inside.any():
            pixel_shifts = image_out[inside] - image_in[inside]
            assert np.ptp(pixel_shifts) < 1e-2
            shifts.append(float(pixel_shifts.mean()))
    assert len(shifts) >= 8 and np.std(shifts) > 5


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


def test_resized_crop_is_a_stretch_of_a_window_inside_the_image():
    # A left-to-right ramp (pixel value = column) cropped to 0.6 of each side: every output step is
    # 0.6 of a column, and a window reaching past the border would show flat (clamped) steps.
    ramp = np.tile(np.arange(48, dtype=np.float32), (48, 1))[None, ..., None]
    config = only(crop_scale=(0.36, 0.36), crop_ratio=(1.0, 1.0))
    starts = []
    for s in range(30):
        row = run(ramp, config, seed=(s, 1))[0, 24, :, 0]
        np.testing.assert_allclose(np.diff(row)[1:-1], 0.6, atol=1e-3)
        starts.append(row[1])
    assert min(starts) >= 0 and max(starts) + 0.6 * 46 <= 47 and np.std(starts) > 2


def test_resized_crop_refuses_a_second_zoom():
    with pytest.raises(ValueError, match="replaces zoom"):
        AugmentConfig(crop_scale=(0.6, 1.0))
    with pytest.raises(ValueError, match="crop_scale"):
        only(crop_scale=(0.0, 1.0))
    with pytest.raises(ValueError, match="crop_ratio"):
        only(crop_scale=(0.6, 1.0), crop_ratio=(4 / 3, 3 / 4))


# first half classes 0–2, second half 3–6: an image and its partner (mirror position) never share a class
LABELS = np.array([i % 3 if i < 8 else 3 + i % 4 for i in range(16)])


def mix(faces, config, seed=(3, 4), weights=None):
    from train.augment import mix_batch

    targets = tf.one_hot(LABELS, 7)
    w = None if weights is None else tf.constant(weights, tf.float32)
    images, mixed_targets, mixed_weights = mix_batch(tf.constant(faces), targets, tf.constant(seed, tf.int64),
                                                     config, w)
    return images.numpy(), mixed_targets.numpy(), None if mixed_weights is None else mixed_weights.numpy()


def test_mixing_off_is_identity(faces):
    assert not NO_AUGMENTATION.mixes
    images, targets, _ = mix(faces, NO_AUGMENTATION)
    np.testing.assert_array_equal(images, faces)
    np.testing.assert_array_equal(targets, np.eye(7)[LABELS])


def test_mixup_images_and_targets_share_one_lambda(faces):
    images, targets, _ = mix(faces, only(mixup_alpha=0.4))
    partner = faces[::-1]
    lam = targets[np.arange(len(faces)), LABELS]  # the share of the image's own class
    np.testing.assert_allclose(images, lam[:, None, None, None] * faces + (1 - lam[:, None, None, None]) * partner,
                               atol=1e-3)
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, atol=1e-6)
    assert 0.05 < np.mean(np.minimum(lam, 1 - lam)) < 0.5  # Beta(0.4, 0.4) puts weight near both ends


def test_cutmix_target_is_the_share_of_pixels(faces):
    faces = faces.copy()
    faces[:8] = 0.0  # the first half black, the second white, so every pasted pixel is visible
    faces[8:] = 255.0
    images, targets, _ = mix(faces, only(cutmix_alpha=1.0))
    lam = targets[np.arange(len(faces)), LABELS]
    kept = (images == faces).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(kept, lam, atol=1e-6)
    assert set(np.unique(images)) <= {0.0, 255.0}  # pasted, not blended
    assert (lam < 1).sum() >= 12


def test_mix_prob_leaves_the_rest_alone_and_weights_follow(faces):
    weights = np.linspace(1, 2, len(faces)).astype(np.float32)
    images, targets, mixed_weights = mix(faces, only(mixup_alpha=1.0, cutmix_alpha=1.0, mix_prob=0.5),
                                         seed=(5, 6), weights=weights)
    untouched = np.all(images == faces, axis=(1, 2, 3))
    assert 2 <= untouched.sum() <= 14
    np.testing.assert_array_equal(targets[untouched], np.eye(7)[LABELS[untouched]])
    lam = targets[np.arange(len(faces)), LABELS]
    np.testing.assert_allclose(mixed_weights, lam * weights + (1 - lam) * weights[::-1], rtol=1e-5)


def test_mixing_is_deterministic_under_a_seed(faces):
    config = only(mixup_alpha=0.4, cutmix_alpha=1.0)
    a, b, c = mix(faces, config), mix(faces, config), mix(faces, config, seed=(8, 8))
    np.testing.assert_array_equal(a[0], b[0])
    assert np.abs(a[0] - c[0]).mean() > 1
