"""Consistent distillation (train/views.py): the views the teachers label are the pixels the student sees."""

from __future__ import annotations

import numpy as np
import pytest
from _data import DATA_ROOT, requires_data

pytest.importorskip("tensorflow", reason="training tests need TensorFlow (the train extra)")

from train.views import ViewSampler, augmented_views, view_dataset  # noqa: E402

pytestmark = requires_data


@pytest.fixture(scope="module")
def faces() -> np.ndarray:
    import cv2

    files = sorted((DATA_ROOT / "validation" / "sad").iterdir())[:40]
    return np.stack([cv2.imread(str(f), cv2.IMREAD_GRAYSCALE) for f in files])


def test_views_are_augmented_reproducible_and_distinct(faces):
    from train.presets import PRESETS

    config = PRESETS["student48-views"].augment
    views = augmented_views(faces, config, 3, seed=9)
    assert views.shape == (3, *faces.shape) and views.dtype == np.uint8
    assert np.array_equal(views, augmented_views(faces, config, 3, seed=9))  # the cache relies on this
    assert not np.array_equal(views, augmented_views(faces, config, 3, seed=10))
    for view in views:
        changed = np.abs(view.astype(int) - faces).mean(axis=(1, 2))
        assert (changed > 2).mean() > 0.9  # nearly every face moved or changed brightness
    assert np.abs(views[0].astype(int) - views[1]).mean() > 5  # two views of a face differ
    with pytest.raises(ValueError, match="at least 1"):
        augmented_views(faces, config, 0, seed=9)


def test_sampler_serves_each_image_once_per_epoch_with_its_views_target(faces):
    rng = np.random.default_rng(0)
    views = np.stack([faces, 255 - faces, faces // 2])  # three views, told apart by their pixels
    targets = rng.dirichlet(np.ones(7), size=(3, len(faces))).astype(np.float32)
    weights = rng.random(len(faces)).astype(np.float32)
    sampler = ViewSampler(views, targets, batch_size=8, seed=4, weights=weights)
    assert len(sampler) == len(faces) // 8
    plan = sampler.epoch_plan(2)
    seen = []
    for index in range(len(sampler)):
        x, y, w = sampler.batch(plan, index)
        assert x.shape == (8, 48, 48, 1) and x.dtype == np.float32
        for image, target, weight in zip(x[..., 0], y, w):
            # which view and face this is, found from the pixels alone (mirrored or not)
            matches = [(v, i) for v in range(3) for i in range(len(faces))
                       if np.array_equal(image, views[v, i]) or np.array_equal(image, views[v, i, :, ::-1])]
            assert len(matches) == 1
            v, i = matches[0]
            assert np.array_equal(target, targets[v, i]) and weight == weights[i]
            seen.append((v, i, np.array_equal(image, views[v, i])))
    assert sorted(i for _, i, _ in seen) == list(range(len(faces)))  # every face once (40 = 5 whole batches)
    assert len({v for v, _, _ in seen}) == 3 and len({m for _, _, m in seen}) == 2  # all views, both mirrors
    same = sampler.epoch_plan(2)
    other = sampler.epoch_plan(3)
    assert all(np.array_equal(a, b) for a, b in zip(plan, same))  # a resumed epoch draws the same
    assert not np.array_equal(plan[0], other[0]) and not np.array_equal(plan[1], other[1])
    with pytest.raises(ValueError, match="do not match"):
        ViewSampler(views, targets[:2], batch_size=8, seed=4)


def test_keras_trains_each_epoch_on_that_epochs_draw(faces):
    import keras

    views = np.stack([faces, 255 - faces])
    sampler = ViewSampler(views, np.full((2, len(faces), 7), 1 / 7, np.float32), batch_size=10, seed=1)
    used = []
    serve = sampler.batch
    sampler.batch = lambda plan, index: (used.append(plan[0].tobytes()), serve(plan, index))[1]
    dataset, follow = view_dataset(sampler, start_epoch=3)
    model = keras.Sequential([keras.Input((48, 48, 1)), keras.layers.Flatten(), keras.layers.Dense(7, "softmax")])
    model.compile("sgd", "categorical_crossentropy")
    model.fit(dataset, epochs=6, initial_epoch=3, shuffle=False, verbose=0, callbacks=[follow])
    plans = [sampler.epoch_plan(e)[0].tobytes() for e in (3, 4, 5)]
    assert used[-12:] == [plans[0]] * 4 + [plans[1]] * 4 + [plans[2]] * 4  # epoch e, plan e: resumable


def test_teacher_views_refuse_mixing():
    from dataclasses import replace

    from train.presets import PRESETS

    with pytest.raises(ValueError, match="never labelled"):
        replace(PRESETS["student48-views"], augment=PRESETS["res48-mix"].augment)
