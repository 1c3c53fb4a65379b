"""train.evaluate.predict: the test-time views averaged, in bounded chunks, with the answers of one whole call."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow", reason="training tests need TensorFlow (the train extra)")

from edge.views import TestTimeViews  # noqa: E402
from train.evaluate import predict  # noqa: E402
from train.models import tiny_cnn  # noqa: E402


@pytest.fixture(scope="module")
def model_and_images():
    import keras

    keras.utils.set_random_seed(3)
    images = np.random.default_rng(3).integers(0, 256, (37, 48, 48), dtype=np.uint8)
    return tiny_cnn(), images


def test_chunks_give_the_answers_of_one_call(model_and_images):
    model, images = model_and_images
    views = TestTimeViews(True, (1.1,))
    whole = sum(model.predict(views.view(images, i)[..., None].astype(np.float32), batch_size=8, verbose=0)
                for i in range(views.count)) / views.count
    # 37 images in chunks of 2 batches of 8: five chunks, the last one partial.
    chunked = predict(model, images, flip=True, zooms=(1.1,), batch_size=8, chunk_batches=2)
    assert chunked.shape == (37, 7)
    np.testing.assert_array_equal(chunked, whole)
    assert not np.allclose(chunked, predict(model, images, batch_size=8, chunk_batches=2))  # the views count


def test_one_image(model_and_images):
    model, images = model_and_images
    assert predict(model, images[:1], flip=True).shape == (1, 7)


def test_progress_is_reported_after_each_chunk(model_and_images):
    model, images = model_and_images
    calls: list[tuple[int, int]] = []
    predict(model, images, batch_size=8, chunk_batches=2, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(16, 37), (32, 37), (37, 37)]


def test_progress_log_says_each_step_once_with_the_time_left(caplog):
    from train.distill import ProgressLog

    progress = ProgressLog("teacher targets", steps=4)
    with caplog.at_level("INFO", logger="train.distill"):
        for done in (10, 20, 30, 40, 55, 100):
            progress(done, 100)
    lines = [r.getMessage() for r in caplog.records]
    # 10 % and 20 % are below the first quarter, 40 % adds none; 55 % to 100 % cross two at once, logged once
    assert [line.split(":")[1].split("(")[0].strip() for line in lines] == [
        "30 of 100 images", "55 of 100 images", "100 of 100 images"]
    assert all("min left" in line for line in lines) and lines[-1].endswith("~0 min left")
