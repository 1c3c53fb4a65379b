"""emotions-convert's refusals of bad input (one line, exit 2, nothing written), and the crop file, test-time view,
golden and calibrate-crop rules behind them: on real files, small real copies of FER2013 and a real .keras model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from _data import REPO, requires_data, small_copy

from convert.convert import check_out, choose_views, load_crop
from edge.modelfile import CropSpec
from edge.views import TestTimeViews


def _cli(argv: list, capsys) -> tuple[int, list[str]]:
    """emotions-convert in this process: exit code and its stderr lines (logging goes to pytest, not stderr)."""
    from convert.cli import main

    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err.strip().splitlines()


def _one_error(err: list[str]) -> str:
    assert len(err) == 1 and err[0].startswith("emotions-convert: error: "), err
    return err[0]


# --- crop calibration file ---

def test_a_crop_file_that_was_asked_for_must_exist_and_parse(tmp_path, caplog):
    with pytest.raises(FileNotFoundError, match=f"crop calibration not found: {tmp_path / 'nocrop.json'}$"):
        load_crop(tmp_path / "nocrop.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"scale": 1.2,')
    with pytest.raises(ValueError) as err:
        load_crop(bad)
    assert str(err.value).startswith(f"{bad}: not valid JSON (") and "\n" not in str(err.value)
    bad.write_text('{"scale": "1.2"}')  # parses, but would break the card after the whole conversion
    with pytest.raises(ValueError, match=r"bad.json: not a crop calibration \(scale must be a number, got '1.2'\)"):
        load_crop(bad)
    # no file asked for and no default: the identity crop, said once
    with caplog.at_level("WARNING"):
        assert load_crop(None, default=tmp_path / "absent.json") == CropSpec()
    assert [r.getMessage() for r in caplog.records] == [
        f"no crop calibration at {tmp_path / 'absent.json'}: using the identity crop"]
    assert load_crop(None).detector == "blazeface"  # the repo's calibration file, as shipped


# --- test-time views recorded by `emotions-train adjust` ---

def _run(folder: Path, record: dict | None, model: str = "adjusted.keras") -> Path:
    folder.mkdir()
    if record is not None:
        (folder / "adjust.json").write_text(json.dumps({"mode": "bagged", "objective": "targets", **record}))
    return folder / model


def test_an_adjusted_model_gets_the_views_its_offsets_were_fitted_for_and_no_others(tmp_path):
    fitted = TestTimeViews(mirror=True, zooms=(1.1, 0.9))
    model = _run(tmp_path / "m12", {"flip_tta": True, "zoom_views": [1.1, 0.9]})
    assert choose_views(model) == fitted
    assert choose_views(model, True, (0.9, 1.1)) == TestTimeViews(True, (0.9, 1.1))  # the same views, named again
    assert choose_views(model, None, (1.1, 0.9)) == fitted
    for mirror, zooms, asked in [(False, None, "plain + zoom 1.1 + zoom 0.9, 3 passes"),
                                 (None, (), "plain + mirror, 2 passes"),
                                 (None, (1.1,), "plain + mirror + zoom 1.1 (each zoom mirrored too), 4 passes")]:
        with pytest.raises(ValueError) as err:
            choose_views(model, mirror, zooms)
        message = str(err.value)
        assert message.startswith(f"{tmp_path / 'm12' / 'adjust.json'} records the views its offsets were fitted for "
                                  f"({fitted.describe()}) but --flip-average/--zoom-views ask for {asked}")
        assert "\n" not in message


def test_views_come_from_adjust_json_only_for_the_adjusted_model(tmp_path):
    # an older record (before zoom views): one plain pass, so a mirror asked for now would not fit its offsets
    old = _run(tmp_path / "old", {"flip_tta": False})
    assert choose_views(old) == TestTimeViews()
    with pytest.raises(ValueError, match="ask for plain \\+ mirror"):
        choose_views(old, True)
    best = _run(tmp_path / "best", {"flip_tta": True, "zoom_views": [1.1]}, model="best.keras")
    assert choose_views(best) == TestTimeViews() and choose_views(best, True) == TestTimeViews(mirror=True)
    assert choose_views(_run(tmp_path / "none", None)) == TestTimeViews()
    broken = _run(tmp_path / "broken", {"zoom_views": [1.1]})
    with pytest.raises(ValueError, match="broken/adjust.json: no readable test-time views"):
        choose_views(broken)


def test_an_output_path_its_card_would_overwrite_or_a_folder_is_refused(tmp_path):
    check_out(tmp_path / "emotion.tflite")
    with pytest.raises(ValueError, match="is a folder"):
        check_out(tmp_path)
    with pytest.raises(ValueError, match="its card would overwrite it"):
        check_out(tmp_path / "emotion.md")


# --- bench ---

def test_bench_refuses_run_and_thread_counts_out_of_range(tiny_model, capsys):
    from convert.cli import main

    for flag, value, expected in [("--runs", 0, "≥ 1"), ("--runs", -1, "≥ 1"), ("--threads", 0, "1..8"),
                                  ("--threads", 9, "1..8")]:
        with pytest.raises(SystemExit) as stop:
            main(["bench", str(tiny_model), flag, str(value)])
        err = capsys.readouterr().err.strip().splitlines()
        assert stop.value.code == 2 and err[-1] == (
            f"emotions-convert bench: error: argument {flag}: {value} is out of range; expected {expected}"), err

    assert main(["bench", str(tiny_model), "--runs", "3", "--threads", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["runs"], result["threads"]) == (3, 2) and result["latency_ms_median"] > 0


def test_bench_help_explains_runs_and_threads_with_their_defaults(capsys):
    from convert.cli import main

    with pytest.raises(SystemExit) as done:
        main(["bench", "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "timed single-face predictions, after 50 untimed ones (default: 1000)" in text
    assert "interpreter threads, 1..8 (default: 1)" in text


# --- models that are not Keras models ---

@pytest.fixture(scope="module")
def small_data(tmp_path_factory) -> Path:
    """Two real faces per class and split (its users are marked requires_data)."""
    return small_copy(tmp_path_factory.mktemp("fer"), per_class=2)


@requires_data
@pytest.mark.parametrize("given", ["run_folder", "missing", "text.keras", "face.jpg", "model.tflite"])
def test_something_that_is_not_a_keras_model_is_one_line_and_writes_nothing(given, small_data, tiny_model,
                                                                            tmp_path, capsys):
    pytest.importorskip("tensorflow", reason="reading .keras files needs TensorFlow")
    run = tmp_path / "runs" / "student48-d4"
    run.mkdir(parents=True)
    (run / "best.keras").write_bytes(b"PK")  # only its name is given in the hint
    paths = {"run_folder": run, "missing": run / "adjusted.keras", "text.keras": tmp_path / "notmodel.keras",
             "face.jpg": next((small_data / "validation" / "happy").iterdir()), "model.tflite": tiny_model}
    (tmp_path / "notmodel.keras").write_text("x\n")
    expected = {"run_folder": f"{run} is a folder, not a .keras model file: give {run / 'best.keras'}",
                "missing": f"model not found: {run / 'adjusted.keras'}",
                "text.keras": f"{paths['text.keras']} is not a Keras .keras model file",
                "face.jpg": f"{paths['face.jpg']} is not a Keras .keras model file",
                "model.tflite": f"{tiny_model} is not a Keras .keras model file"}[given]
    out = tmp_path / "out" / "bad.tflite"

    code, err = _cli([paths[given], "-o", out, "--data", small_data, "--cache-dir", tmp_path / "cache"], capsys)
    assert code == 2 and _one_error(err).startswith(f"emotions-convert: error: {expected}")
    assert not out.parent.exists() or list(out.parent.iterdir()) == []

    if given != "missing":  # the same file given to verify as the Keras model to compare with
        code, err = _cli(["verify", tiny_model, "--keras", paths[given], "--data", small_data], capsys)
        assert code == 2 and _one_error(err).startswith(f"emotions-convert: error: {expected}")


@pytest.fixture(scope="module")
def untrained_keras(tmp_path_factory) -> Path:
    """A real, untrained .keras model (nothing here needs its answers, only a file conversion would accept)."""
    pytest.importorskip("tensorflow", reason="writing a .keras model needs TensorFlow")
    from train.models import tiny_cnn

    path = tmp_path_factory.mktemp("keras") / "best.keras"
    tiny_cnn().save(path)
    return path


@requires_data
@pytest.mark.parametrize("crop", ["missing", "bad_json", "bad_value"])
def test_a_bad_crop_file_is_told_before_anything_is_converted(crop, small_data, untrained_keras, tmp_path, capsys,
                                                              caplog):
    path = tmp_path / "crop.json"
    if crop != "missing":
        path.write_text('{"scale": 1.2,' if crop == "bad_json" else '{"scale": 1.2, "dx": null}')
    expected = {"missing": f"crop calibration not found: {path}", "bad_json": f"{path}: not valid JSON (",
                "bad_value": f"{path}: not a crop calibration (dx must be a number, got None)"}[crop]
    out = tmp_path / "x.tflite"
    with caplog.at_level("INFO"):
        code, err = _cli([untrained_keras, "-o", out, "--crop", path, "--data", small_data], capsys)
    assert code == 2 and _one_error(err).startswith(f"emotions-convert: error: {expected}")
    assert not out.exists() and not caplog.records  # not even the dataset was read


# --- convert.golden ---

SHIPPED = REPO / "assets" / "models" / "emotion.tflite"
GOLDEN = REPO / "tests" / "golden" / "emotion_golden.json"


@requires_data
@pytest.mark.skipif(not SHIPPED.exists(), reason="no shipped model yet")
def test_golden_writes_where_it_is_told_and_refuses_a_bad_dataset_in_one_line(tmp_path, capsys):
    from convert.golden import main

    committed = GOLDEN.read_bytes()
    out = tmp_path / "golden.json"
    assert main(["--data", str(tmp_path / "nope"), "-o", str(out)]) == 2
    assert capsys.readouterr().err.splitlines() == [f"convert.golden: error: dataset folder not found: "
                                                    f"{tmp_path / 'nope'}"]
    # the first three PrivateTest faces of each class sort first, so a three-per-class copy holds the golden faces
    data = small_copy(tmp_path / "fer", per_class=3, splits=("validation",))
    assert main(["--data", str(data), "-o", str(out)]) == 0
    assert GOLDEN.read_bytes() == committed
    written, golden = json.loads(out.read_text()), json.loads(committed)
    assert [e["file"] for e in written["images"]] == [e["file"] for e in golden["images"]]
    assert written["model_weights_sha256"] == golden["model_weights_sha256"]
    np.testing.assert_allclose([e["scores"] for e in written["images"]], [e["scores"] for e in golden["images"]],
                               atol=0.02)
    shutil.rmtree(data / "validation" / "sad")
    out.unlink()
    assert main(["--data", str(data), "-o", str(out)]) == 2
    assert capsys.readouterr().err.splitlines() == [f"convert.golden: error: missing class folder: "
                                                    f"{data / 'validation' / 'sad'}"]
    assert not out.exists()


# --- calibrate-crop ---

@requires_data
def test_calibrate_crop_refuses_a_dataset_missing_a_class(tmp_path, capsys):
    pytest.importorskip("skimage", reason="calibrate-crop needs scikit-image (dev extra)")
    data = small_copy(tmp_path / "fer", per_class=2, splits=("validation",))
    shutil.rmtree(data / "validation" / "sad")
    out = tmp_path / "crop.json"
    code, err = _cli(["calibrate-crop", "--data", data, "-o", out, "--count", 10], capsys)
    assert code == 2 and err == [f"emotions-convert: error: missing class folder: {data / 'validation' / 'sad'}"]
    assert not out.exists()


@requires_data
def test_calibrate_crop_lists_images_as_training_does_and_counts_unreadable_ones(tmp_path, caplog):
    pytest.importorskip("skimage", reason="calibrate-crop needs scikit-image (dev extra)")
    from convert.calibrate_crop import scenes, validation_faces

    data = small_copy(tmp_path / "fer", per_class=2, splits=("validation",))
    happy = sorted((data / "validation" / "happy").iterdir())
    upper = happy[0].rename(happy[0].with_suffix(".JPG"))
    png = happy[1].with_suffix(".png")
    cv2.imwrite(str(png), cv2.imread(str(happy[1]), cv2.IMREAD_GRAYSCALE))
    happy[1].unlink()
    broken = data / "validation" / "sad" / "broken.jpg"
    broken.write_bytes(b"not a jpeg")

    picked = {path for path, _ in validation_faces(data, 100)}
    assert len(picked) == 15 and {upper, png, broken} <= picked
    with caplog.at_level("WARNING"):
        made = list(scenes(data, 100))
    assert len(made) == 14
    assert [r.getMessage() for r in caplog.records] == [
        f"skipped 1 unreadable image(s) of 15 picked from {data / 'validation'} (first: {broken})"]


def test_zoom_views_take_one_form_in_every_command_and_never_swallow_a_path():
    from convert.cli import build_parser as convert_parser
    from edge.cli import build_parser as edge_parser
    from train.cli import build_parser as train_parser

    convert = convert_parser()
    assert convert.parse_args(["bench", "--zoom-views", "1.1", "m.tflite"]).model == Path("m.tflite")
    assert convert.parse_args(["bench", "m.tflite", "--zoom-views"]).zoom_views == []  # no value = none
    assert convert.parse_args(["bench", "m.tflite"]).zoom_views is None  # not given = the file's own
    assert convert.parse_args(["verify", "m.tflite", "--zoom-views", "1.1,1.25"]).zoom_views == [1.1, 1.25]
    adjust = train_parser().parse_args(["adjust", "--zoom-views", "1.1", "runs/r", "--zoom-views", "none"])
    assert adjust.run == Path("runs/r") and adjust.zoom_views == [1.1]
    classify = edge_parser().parse_args(["classify", "--zoom-views", "1.1", "photo.jpg"])
    assert classify.zoom_views == [1.1] and "photo.jpg" in map(str, classify.paths)
    with pytest.raises(SystemExit):
        convert.parse_args(["bench", "m.tflite", "--zoom-views", "1.1;1.2"])
