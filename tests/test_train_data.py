"""The folder loader on small real copies of FER2013."""

from __future__ import annotations

import logging
import shutil

import numpy as np
import pytest
from _data import EMOTIONS, requires_data, small_copy

from train.data import DatasetError, leaked_mask, load_split, resolve_root, stratified_holdout

pytestmark = requires_data


@pytest.fixture
def root(tmp_path):
    return small_copy(tmp_path / "fer", per_class=30)


def test_loads_real_images_in_class_order(root, tmp_path):
    split = load_split(root, "train", cache_dir=tmp_path / "cache")
    assert split.images.shape == (7 * 30, 48, 48) and split.images.dtype == np.uint8
    assert list(split.counts()) == [30] * 7
    # Labels follow the one shared class order: the first file of each class block is that class's.
    for label, emotion in enumerate(EMOTIONS):
        first = sorted((root / "train" / emotion).iterdir())[0].name
        assert split.names[label * 30] == first and split.labels[label * 30] == label
    assert split.images.std() > 20  # real faces, not blanks


def test_cache_round_trip_and_invalidation(root, tmp_path):
    cache = tmp_path / "cache"
    first = load_split(root, "validation", cache_dir=cache)
    assert len(list(cache.glob("validation-*.npz"))) == 1
    again = load_split(root, "validation", cache_dir=cache)
    np.testing.assert_array_equal(first.images, again.images)
    victim = sorted((root / "validation" / "sad").iterdir())[0]
    victim.unlink()  # the folder changed: the cache key must change too
    changed = load_split(root, "validation", cache_dir=cache)
    assert len(changed) == len(first) - 1
    assert len(list(cache.glob("validation-*.npz"))) == 2


def test_corrupt_image_is_skipped_and_counted(root, tmp_path, caplog):
    bad = root / "train" / "fear" / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (root / "train" / "fear" / "empty.jpg").write_bytes(b"")
    with caplog.at_level(logging.WARNING):
        split = load_split(root, "train", cache_dir=tmp_path / "cache")
    assert split.skipped == 2 and len(split) == 7 * 30
    assert "skipped 2 unreadable" in caplog.text and "broken.jpg" in caplog.text


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda r: shutil.rmtree(r / "validation"), "missing split folder"),
        (lambda r: (r / "train" / "contempt").mkdir(), "unknown class folder"),
        (lambda r: [p.unlink() for p in (r / "train" / "disgust").iterdir()], "empty class folder"),
        (lambda r: shutil.rmtree(r / "train" / "happy"), "missing class folder"),
    ],
)
def test_layout_errors_name_the_path(root, tmp_path, damage, message):
    damage(root)
    with pytest.raises(DatasetError) as err:
        load_split(root, "validation" if "split" in message else "train", cache_dir=tmp_path / "cache")
    text = str(err.value)
    assert message in text and str(root) in text and "\n" not in text


def test_root_from_environment(root, monkeypatch):
    monkeypatch.setenv("EMOTIONS_DATA", str(root))
    assert resolve_root(None) == root
    monkeypatch.delenv("EMOTIONS_DATA")
    with pytest.raises(DatasetError, match="--data"):
        resolve_root(None)


def test_stratified_holdout_keeps_class_shares():
    labels = np.repeat(np.arange(7), [400, 40, 400, 700, 500, 480, 310])
    mask = stratified_holdout(labels, 0.1, seed=3)
    assert list(np.bincount(labels[mask])) == [40, 4, 40, 70, 50, 48, 31]
    assert np.array_equal(mask, stratified_holdout(labels, 0.1, seed=3))


def test_leak_detection_finds_pixel_copies():
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, (20, 48, 48), dtype=np.uint8)
    val = rng.integers(0, 256, (5, 48, 48), dtype=np.uint8)
    val[2] = train[7]
    assert leaked_mask(train, val).tolist() == [False, False, True, False, False]
