"""Test-time views (edge/views.py): their order and geometry, the model file's record of them, and the
classifier averaging over them on a real int8 model."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from edge.views import TestTimeViews, zoom


def square(side: int, size: int = 48) -> np.ndarray:
    """A bright centred square of `side` pixels on black: its width after a warp measures the zoom."""
    image = np.zeros((size, size), np.uint8)
    start = (size - side) // 2
    image[start:start + side, start:start + side] = 255
    return image


def bright_width(image: np.ndarray) -> int:
    return int((image[image.shape[0] // 2] > 127).sum())


def test_views_come_plain_mirror_then_each_zoom_and_its_mirror():
    faces = np.random.default_rng(0).integers(0, 256, (3, 48, 48), dtype=np.uint8)
    views = TestTimeViews(mirror=True, zooms=(1.1, 0.9))
    assert views.count == 6
    np.testing.assert_array_equal(views.view(faces, 0), faces)
    np.testing.assert_array_equal(views.view(faces, 1), faces[:, :, ::-1])
    np.testing.assert_array_equal(views.view(faces, 2), zoom(faces, 1.1))
    np.testing.assert_array_equal(views.view(faces, 3), zoom(faces, 1.1)[:, :, ::-1])
    np.testing.assert_array_equal(views.view(faces, 5), zoom(faces, 0.9)[:, :, ::-1])
    no_mirror = TestTimeViews(zooms=(1.1,))
    assert no_mirror.count == 2
    np.testing.assert_array_equal(no_mirror.view(faces, 1), zoom(faces, 1.1))
    assert TestTimeViews().count == 1
    with pytest.raises(IndexError):
        views.view(faces, 6)


def test_zoom_scales_about_the_centre_and_continues_the_edges():
    assert bright_width(zoom(square(20)[None], 1.2)[0]) == 24
    assert bright_width(zoom(square(20)[None], 0.8)[0]) == 16
    frame = np.full((1, 48, 48), 90, np.uint8)
    frame[0, 20:28, 20:28] = 200
    out = zoom(frame, 0.8)[0]  # zooming out uncovers border: it must repeat the edge, not turn black
    assert out.min() == 90 and out[24, 24] == 200


@pytest.mark.parametrize("zooms", [(1.0,), (0.3,), (2.5,), (1.1, 1.1), (float("nan"),)])
def test_bad_zooms_are_refused(zooms):
    with pytest.raises(ValueError, match="zoom views"):
        TestTimeViews(True, zooms)


def test_model_file_fields_round_trip_and_old_files_mean_no_zoom():
    views = TestTimeViews(True, (1.1,))
    assert TestTimeViews.from_extra(views.to_extra()) == views
    assert TestTimeViews.from_extra({"flip_average": True}) == TestTimeViews(True)  # files before zoom views
    assert TestTimeViews.from_extra({}) == TestTimeViews()
    with pytest.raises(ValueError):
        TestTimeViews.from_extra({"zoom_views": "1.1"})
    assert "4 passes" in views.describe() and "zoom 1.1" in views.describe()


@pytest.fixture(scope="module")
def zoomed_model(tmp_path_factory, tiny_model):
    """The tiny int8 test model with mirror + 1.1 zoom recorded in its metadata, as emotions-convert writes it."""
    from convert.metadata import embed_spec
    from edge.modelfile import read_spec

    spec = read_spec(tiny_model)
    path = tmp_path_factory.mktemp("views") / "zoomed.tflite"
    path.write_bytes(embed_spec(tiny_model.read_bytes(), replace(spec, extra=TestTimeViews(True, (1.1,)).to_extra())))
    return path


def test_classifier_averages_the_views_its_file_records(zoomed_model, val_faces):
    from edge.classify import Classifier, ClassifierOptions

    faces = val_faces[0][:8]
    clf = Classifier(ClassifierOptions(model=zoomed_model))
    assert clf.views == TestTimeViews(True, (1.1,)) and clf.flip_average
    each = [clf.predict_view(faces, i) for i in range(4)]  # one invoke per view
    assert not np.allclose(each[0], each[2], atol=1e-4)  # the zoomed view really is another input
    np.testing.assert_allclose(clf.predict(faces), np.mean(each, axis=0), atol=1e-6)  # four views, one invoke
    assert clf._interpreter_for(4) is not None  # ...as a batch, the path the exhibit times
    np.testing.assert_allclose(clf.predict(faces, TestTimeViews()), each[0], atol=1e-6)
    plain = Classifier(ClassifierOptions(model=zoomed_model, flip_average=False, zoom_views=()))
    assert plain.views.count == 1  # options override the file
    np.testing.assert_allclose(plain.predict(faces), each[0], atol=1e-6)


def test_a_graph_fixed_at_one_crop_still_averages_its_views_one_by_one(tmp_path, val_faces):
    """A file whose graph cannot take a batch (a reshape fixed to batch 1) runs its views one invoke each,
    with the same answers, instead of failing where other files take them in one invoke."""
    keras = pytest.importorskip("keras", reason="building the test model needs TensorFlow (workstation only)")
    from convert.metadata import embed_spec
    from convert.quantize import to_tflite
    from edge.classify import Classifier
    from edge.modelfile import ModelSpec

    keras.utils.set_random_seed(0)
    inputs = keras.Input((48, 48, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(4, 3, strides=4, activation="relu")(x)
    x = keras.layers.Lambda(lambda t: keras.ops.reshape(t, (1, 576)), output_shape=(576,))(x)  # batch 1 fixed
    outputs = keras.layers.Dense(7, activation="softmax")(x)
    faces = val_faces[0][:6]
    flat = to_tflite(keras.Model(inputs, outputs), "int8", faces)
    path = tmp_path / "batch1.tflite"
    path.write_bytes(embed_spec(flat, ModelSpec(name="batch1", version="test",
                                                extra=TestTimeViews(True, (1.1,)).to_extra())))
    clf = Classifier(model=path)
    answers = clf.predict(faces)
    assert clf._interpreter_for(4) is None  # the batched interpreter was refused...
    each = [clf.predict_view(faces, i) for i in range(4)]
    np.testing.assert_allclose(answers, np.mean(each, axis=0), atol=1e-6)  # ...and the views still averaged
    assert not np.allclose(each[0], each[1], atol=1e-4)


def test_bad_views_in_a_model_file_are_refused_in_one_line(tmp_path, tiny_model):
    from convert.metadata import embed_spec
    from edge.classify import Classifier
    from edge.modelfile import ModelFileError, read_spec

    bad = tmp_path / "bad.tflite"
    bad.write_bytes(embed_spec(tiny_model.read_bytes(), replace(read_spec(tiny_model), extra={"zoom_views": [7]})))
    with pytest.raises(ModelFileError, match="bad.tflite: metadata: zoom views must lie in"):
        Classifier(model=bad)


def test_a_bad_zoom_option_is_one_line_from_the_cli(capsys, tiny_model, val_faces, tmp_path):
    import cv2

    from edge.cli import main

    cv2.imwrite(str(tmp_path / "face.png"), val_faces[0][0])
    assert main(["classify", str(tmp_path / "face.png"), "--model", str(tiny_model), "--zoom-views", "3"]) == 2
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and "--zoom-views: zoom views must lie in" in err
    face = [str(tmp_path / "face.png"), "--model", str(tiny_model), "--whole-image", "--json"]
    assert main(["classify", *face, "--flip", "--zoom-views", "1.1"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    viewed = json.loads(out)
    assert viewed["error"] is None and [f["box"] for f in viewed["faces"]] == [[0, 0, 48, 48]]
    assert sum(viewed["faces"][0]["scores"].values()) == pytest.approx(1, abs=0.01)
    assert main(["classify", *face]) == 0  # the model's own views (none): the options above did change the answer
    assert json.loads(capsys.readouterr().out)["faces"][0]["scores"] != viewed["faces"][0]["scores"]
