"""convert/: a freshly trained tiny model converted end to end, metadata round trip, refusals,
int8 vs float agreement and runtime compatibility — all on real FER2013 faces."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from _data import REPO, requires_data, small_copy

pytest.importorskip("tensorflow", reason="conversion tests need TensorFlow (the train extra)")

from edge.modelfile import METADATA_NAME, ModelFileError, ModelSpec, read_spec  # noqa: E402

pytestmark = requires_data


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny CNN trained for a few epochs on 700 real faces, saved as a run would save it."""
    import keras

    from train.data import load_split
    from train.fit import build_model, make_dataset
    from train.presets import get_preset

    root = small_copy(tmp_path_factory.mktemp("fer"), per_class=100)
    cache = tmp_path_factory.mktemp("cache")
    # Enough epochs to be clearly better than chance (the refusal test below needs a real gap).
    preset = replace(get_preset("tiny"), epochs=15, augment=replace(get_preset("tiny").augment, rotation_deg=0))
    keras.utils.set_random_seed(0)
    train = load_split(root, "train", cache_dir=cache)
    model = build_model(preset, len(train) // preset.batch_size)
    model.fit(make_dataset(train, preset, training=True, seed=0), epochs=preset.epochs, shuffle=False, verbose=0)
    run = tmp_path_factory.mktemp("run")
    model.save(run / "best.keras")
    return {"root": root, "cache": cache, "keras": run / "best.keras", "model": model}


@pytest.fixture(scope="module")
def converted(trained, tmp_path_factory):
    from convert.convert import convert_model

    out = tmp_path_factory.mktemp("out") / "tiny.tflite"
    info = convert_model(trained["keras"], trained["root"], out, calibration_count=140, cache_dir=trained["cache"],
                         name="tiny", version="7", bench_runs=200)
    return out, info


def test_end_to_end_conversion_writes_model_card_and_metadata(converted):
    out, info = converted
    # the staging folder is gone: only the model and its side files are left
    assert sorted(p.name for p in out.parent.iterdir()) == ["tiny-confusion.png", "tiny.json", "tiny.md", "tiny.tflite"]
    assert f"`emotions-convert bench {out}`" in out.with_suffix(".md").read_text()
    assert info["verify"]["model"] == info["bench"]["model"] == str(out)  # not the staging path
    spec = read_spec(out)
    assert spec.name == "tiny" and spec.version == "7" and spec.quantization == "int8"
    assert spec.input_size == 48 and spec.channels == 1
    assert 0 < spec.metrics["validation_accuracy"] <= 1
    assert abs(spec.metrics["validation_accuracy"] - info["verify"]["tflite"]["validation"]["accuracy"]) < 1e-4
    card = out.with_suffix(".md").read_text()
    for heading in ("## Accuracy", "PrivateTest", "## Known limits", "## Intended use", "ms median"):
        assert heading in card
    assert json.loads(out.with_suffix(".json").read_text())["spec"]["weights_sha256"] == spec.weights_sha256
    assert out.with_name("tiny-confusion.png").stat().st_size > 1000
    assert info["bench"]["latency_ms_median"] > 0


def test_int8_io_is_exact_for_raw_pixels(converted):
    from edge.classify import Classifier

    clf = Classifier(model=converted[0])
    scale, zero = clf._input["quantization"]
    assert clf._input["dtype"] == np.int8 and scale == pytest.approx(1.0) and zero == -128


def test_int8_agrees_with_float_on_real_faces(trained, converted):
    from edge.classify import Classifier
    from train.data import load_split

    val = load_split(trained["root"], "validation", cache_dir=trained["cache"])
    keras_probs = trained["model"].predict(val.images[..., None].astype(np.float32), verbose=0)
    int8_probs = Classifier(model=converted[0]).predict(val.images)
    agreement = (keras_probs.argmax(1) == int8_probs.argmax(1)).mean()
    assert agreement >= 0.9, agreement
    assert np.abs(keras_probs - int8_probs).mean() < 0.03


def test_verify_fails_when_int8_loses_more_than_a_point(trained, converted, tmp_path):
    """A .tflite of a different (untrained) model checked against the trained Keras model must fail."""
    import keras

    from convert.metadata import embed_spec
    from convert.quantize import to_tflite
    from train.models import tiny_cnn

    keras.utils.set_random_seed(5)
    other = tmp_path / "other.tflite"
    calibration = np.random.default_rng(0).integers(0, 255, (20, 48, 48), dtype=np.uint8)
    other.write_bytes(embed_spec(to_tflite(tiny_cnn(), "int8", calibration), ModelSpec()))
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    args = [sys.executable, "-m", "convert.cli", "verify", "--data", str(trained["root"]),
            "--cache-dir", str(trained["cache"])]
    bad = subprocess.run([*args, str(other), "--keras", str(trained["keras"])], env=env, capture_output=True,
                         text=True, timeout=300)
    good = subprocess.run([*args, str(converted[0]), "--keras", str(trained["keras"])], env=env,
                          capture_output=True, text=True, timeout=300)
    assert good.returncode == 0, good.stderr
    assert "(ok)" in good.stderr
    assert bad.returncode == 1 and "lost" in (bad.stdout + bad.stderr)


def _cli(argv: list, capsys) -> tuple[int, list[str]]:
    """emotions-convert in this process (TensorFlow is loaded already): exit code and its stderr lines."""
    from convert.cli import main

    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err.strip().splitlines()


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def lossy(trained, tmp_path_factory) -> dict:
    """A .keras model whose int8 file clearly loses accuracy, and a dataset to show it on. The model is the trained
    net with its answers sent through +1000 and back: exact in float, but int8 must spread one scale over 0…1001
    there, so the differences between classes round away. The validation faces are filed under the float net's
    own answers, so float is right on (nearly) all of them however little the tiny net learned."""
    import shutil

    import keras

    from edge.labels import EMOTIONS
    from train.data import list_split, load_split
    from train.evaluate import predict

    x = keras.layers.Dense(7, activation="relu", kernel_initializer="identity",
                           bias_initializer=keras.initializers.Constant(1000.0))(trained["model"].output)
    x = keras.layers.Dense(7, kernel_initializer="identity", bias_initializer=keras.initializers.Constant(-1000.0))(x)
    folder = tmp_path_factory.mktemp("lossy")
    model = keras.Model(trained["model"].input, x)
    model.save(folder / "best.keras")
    data = folder / "data"
    shutil.copytree(trained["root"] / "train", data / "train")
    files = list_split(trained["root"], "validation")
    val = load_split(trained["root"], "validation", cache_dir=trained["cache"])
    assert val.skipped == 0  # so files and answers line up
    for (path, _), answer in zip(files, predict(model, val.images).argmax(1), strict=True):
        (data / "validation" / EMOTIONS[answer]).mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, data / "validation" / EMOTIONS[answer] / path.name)
    for emotion in EMOTIONS:  # a class the net never answers still needs its folder, with a face in it
        if not (data / "validation" / emotion).is_dir():
            source = next(path for path, label in files if EMOTIONS[label] == emotion)
            (data / "validation" / emotion).mkdir()
            shutil.copy2(source, data / "validation" / emotion / source.name)
    return {"keras": folder / "best.keras", "data": data}


def test_a_conversion_that_loses_accuracy_leaves_the_previous_file_and_its_card_untouched(
        trained, converted, lossy, tmp_path, capsys):
    ship = tmp_path / "ship"
    ship.mkdir()
    for source in side_files_of(converted[0]):  # a previous conversion's file and card, as shipped
        (ship / source.name).write_bytes(source.read_bytes())
    before = _snapshot(ship)
    out = ship / "tiny.tflite"
    args = [lossy["keras"], "-o", out, "--data", lossy["data"], "--cache-dir", trained["cache"], "--calibration", 140]

    code, err = _cli(args, capsys)

    assert code == 1 and len(err) == 1 and err[0].startswith("emotions-convert: error: int8 lost "), err
    assert f"{out} left as it was" in err[0] and f"are in {ship / 'tiny.rejected'}" in err[0]
    assert _snapshot(ship) == before  # the shipped file and its card, byte for byte
    assert sorted(p.name for p in ship.iterdir()) == sorted([*before, "tiny.rejected"])  # no staging left behind
    rejected = ship / "tiny.rejected"
    assert sorted(p.name for p in rejected.iterdir()) == sorted(before)
    assert read_spec(rejected / "tiny.tflite").weights_sha256 != read_spec(out).weights_sha256
    card = (rejected / "tiny.md").read_text()
    assert "int8 difference -" in card and f"emotions-convert bench {rejected / 'tiny.tflite'}" in card

    rejected_weights = read_spec(rejected / "tiny.tflite").weights_sha256
    code, err = _cli([*args, "--allow-drop"], capsys)  # accepted knowingly: written in place
    assert code == 0 and err == []
    assert read_spec(out).weights_sha256 == rejected_weights
    assert _snapshot(ship).keys() == before.keys() and _snapshot(ship)["tiny.md"] != before["tiny.md"]
    assert not rejected.exists()  # the earlier rejection is history once the file is replaced

    code, err = _cli([*args, "--no-verify"], capsys)  # no card: the old one would describe another file
    assert code == 0 and err == [] and sorted(p.name for p in ship.iterdir()) == ["tiny.tflite"]


def side_files_of(model: Path) -> list[Path]:
    return [model, model.with_suffix(".md"), model.with_suffix(".json"), model.with_name(f"{model.stem}-confusion.png")]


def test_a_dataset_missing_a_class_is_refused_before_converting_and_the_output_is_kept(trained, converted, tmp_path,
                                                                                       capsys, caplog):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(trained["root"], data)
    shutil.rmtree(data / "validation" / "sad")
    out = tmp_path / "ship" / "tiny.tflite"
    out.parent.mkdir()
    out.write_bytes(converted[0].read_bytes())

    with caplog.at_level("INFO"):
        code, err = _cli([trained["keras"], "-o", out, "--data", data, "--cache-dir", trained["cache"]], capsys)

    assert code == 2 and err == [f"emotions-convert: error: missing class folder: {data / 'validation' / 'sad'}"]
    assert out.read_bytes() == converted[0].read_bytes() and [p.name for p in out.parent.iterdir()] == ["tiny.tflite"]
    assert not any("calibrating" in r.getMessage() for r in caplog.records)  # refused before any conversion


def _adjusted_run(trained, folder: Path, flip: bool, zooms: list[float]) -> Path:
    """A run folder as `emotions-train adjust` leaves it: adjusted.keras and the adjust.json keys it writes."""
    import shutil

    from edge.labels import EMOTIONS

    folder.mkdir()
    shutil.copy(trained["keras"], folder / "adjusted.keras")
    (folder / "adjust.json").write_text(json.dumps({
        "mode": "bagged", "objective": "targets", "flip_tta": flip, "zoom_views": zooms,
        "offsets": dict.fromkeys(EMOTIONS, 0.0)}))
    return folder / "adjusted.keras"


def test_an_adjusted_model_is_converted_for_the_views_its_offsets_were_fitted_for(trained, tmp_path, capsys):
    from edge.views import TestTimeViews

    model = _adjusted_run(trained, tmp_path / "m12", flip=True, zooms=[1.1])
    out = tmp_path / "x.tflite"
    args = [model, "-o", out, "--data", trained["root"], "--cache-dir", trained["cache"], "--no-verify",
            "--calibration", 70]

    assert _cli(args, capsys) == (0, [])
    assert TestTimeViews.from_extra(read_spec(out).extra) == TestTimeViews(mirror=True, zooms=(1.1,))

    written = out.read_bytes()
    code, err = _cli([*args, "--zoom-views", "1.2"], capsys)
    assert code == 2 and len(err) == 1, err
    assert str(tmp_path / "m12" / "adjust.json") in err[0]
    assert "(plain + mirror + zoom 1.1 (each zoom mirrored too), 4 passes per face)" in err[0]
    assert "ask for plain + mirror + zoom 1.2" in err[0]
    assert out.read_bytes() == written


def test_a_float16_file_takes_float32_pixels_and_its_card_and_log_say_float16(trained, tmp_path, caplog):
    from convert.convert import convert_model
    from edge.classify import Classifier

    out = tmp_path / "f16.tflite"
    with caplog.at_level("INFO"):
        convert_model(trained["keras"], trained["root"], out, mode="float16", cache_dir=trained["cache"],
                      bench_runs=50)

    assert Classifier(model=out)._input["dtype"] == np.float32  # what the card must describe
    assert read_spec(out).quantization == "float16"
    messages = [r.getMessage() for r in caplog.records]
    assert not any("calibrating" in m for m in messages) and any("converting to float16" in m for m in messages)
    card = out.with_suffix(".md").read_text()
    assert "## Accuracy (this file, float16, on the 700 FER2013 validation images)" in card
    assert "; float16 difference " in card and "int8 difference" not in card and "int8 input" not in card
    assert "- Input: 48×48 grayscale, raw pixels 0–255 as float32 (the network rescales inside)." in card


def test_verify_reads_both_models_before_the_dataset(converted, trained, tmp_path, capsys, caplog):
    truncated = tmp_path / "truncated.tflite"
    truncated.write_bytes(converted[0].read_bytes()[:5000])
    base = ["verify", "--data", trained["root"], "--cache-dir", trained["cache"]]
    with caplog.at_level("INFO"):
        code, err = _cli([*base, truncated], capsys)
        assert code == 2 and len(err) == 1 and "not a valid TFLite model" in err[0] and str(truncated) in err[0]
        code, err = _cli([*base, converted[0], "--keras", trained["keras"].parent], capsys)
        assert code == 2 and err == [f"emotions-convert: error: {trained['keras'].parent} is a folder, not a .keras "
                                     f"model file: give {trained['keras']}"]
    assert not any("images" in r.getMessage() for r in caplog.records)  # the dataset was never loaded


def test_metadata_round_trip_and_reembedding_is_idempotent(converted, tmp_path):
    from convert.metadata import embed_spec
    from edge.modelfile import CropSpec, read_buffers_and_metadata

    spec = replace(read_spec(converted[0]), crop=CropSpec(1.3, 0.01, 0.12, "blazeface"), run_id="r42")
    again = tmp_path / "again.tflite"
    again.write_bytes(embed_spec(converted[0].read_bytes(), spec))
    back = read_spec(again)
    assert back.crop == CropSpec(1.3, 0.01, 0.12, "blazeface") and back.run_id == "r42"
    assert back.labels == spec.labels and back.weights_sha256 == spec.weights_sha256
    names = list(read_buffers_and_metadata(again.read_bytes())[1])
    assert names.count(METADATA_NAME) == 1


def _converter_output(trained) -> bytes:
    from convert.quantize import to_tflite
    from train.data import load_split

    train = load_split(trained["root"], "train", cache_dir=trained["cache"])
    return to_tflite(trained["model"], "int8", train.images[::20])


@pytest.mark.parametrize("damage", ["weights", "truncated", "no_metadata", "labels", "not_tflite"])
def test_damaged_or_foreign_models_are_refused(converted, trained, tmp_path, damage):
    from convert.metadata import embed_spec
    from edge.modelfile import read_buffers_and_metadata

    data = bytearray(converted[0].read_bytes())
    bad = tmp_path / f"{damage}.tflite"
    if damage == "weights":
        buffers, _ = read_buffers_and_metadata(bytes(data))
        weight = max(buffers, key=len)  # the largest weight tensor
        at = bytes(data).find(weight) + len(weight) // 2
        data[at] ^= 0x55
        bad.write_bytes(bytes(data))
        expected = "weights do not match"
    elif damage == "truncated":
        bad.write_bytes(bytes(data[: len(data) // 2]))
        expected = "not a valid TFLite model"
    elif damage == "no_metadata":
        bad.write_bytes(_converter_output(trained))
        expected = f"no '{METADATA_NAME}' metadata"
    elif damage == "labels":
        wrong = replace(read_spec(converted[0]), labels=("happy", "sad", "angry", "fear", "disgust", "neutral",
                                                          "surprise"))
        bad.write_bytes(embed_spec(bytes(data), wrong))
        expected = "differ from this program's"
    else:
        bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
        expected = "not a valid TFLite model"
    with pytest.raises(ModelFileError) as err:
        read_spec(bad)
    assert expected in str(err.value) and "\n" not in str(err.value) and str(bad) in str(err.value)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "convert.cli", "bench", str(bad), "--runs", "5"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and expected in proc.stderr and "Traceback" not in proc.stderr


def test_input_shape_disagreeing_with_metadata_is_refused(converted, tmp_path):
    from convert.metadata import embed_spec
    from edge.classify import Classifier

    bad = tmp_path / "size.tflite"
    bad.write_bytes(embed_spec(converted[0].read_bytes(), replace(read_spec(converted[0]), input_size=64)))
    with pytest.raises(ModelFileError, match="disagrees with its metadata"):
        Classifier(model=bad)


def _runtimes() -> list[str]:
    import importlib.util

    found = [name for name, module in [("ai-edge-litert", "ai_edge_litert"), ("tflite-runtime", "tflite_runtime"),
                                       ("tensorflow", "tensorflow")] if importlib.util.find_spec(module)]
    return found


PREDICT_SCRIPT = """
import json, sys
import numpy as np
from edge.classify import Classifier, ClassifierOptions
clf = Classifier(ClassifierOptions(model=sys.argv[1], runtime=sys.argv[2]))
print(json.dumps({"runtime": clf.runtime.name, "probs": clf.predict(np.load(sys.argv[3])).tolist()}))
"""


def predict_with(runtime: str, model: Path, faces_file: Path) -> tuple[str, np.ndarray]:
    """Run the classifier under one runtime in its own process: two TFLite builds (e.g. TensorFlow's and
    tflite-runtime's) cannot share a process, and a device only ever has one."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", PREDICT_SCRIPT, str(model), runtime, str(faces_file)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["runtime"], np.asarray(result["probs"])


def test_same_answers_on_every_installed_runtime(converted, trained, tmp_path):
    """The file loads and gives the same top-1 under each runtime (CI has ai-edge-litert, tflite-runtime 2.14
    — the Raspberry Pi OS Bookworm one — and tf.lite)."""
    from train.data import load_split

    runtimes = _runtimes()
    assert len(runtimes) >= 2, f"only {runtimes} installed; CI must prove at least two runtimes"
    val = load_split(trained["root"], "validation", cache_dir=trained["cache"])
    faces_file = tmp_path / "faces.npy"
    np.save(faces_file, val.images[::10])
    results = {}
    for name in runtimes:
        used, results[name] = predict_with(name, converted[0], faces_file)
        assert used == name
    reference = results[runtimes[0]]
    # Runtimes round int8 sums differently by a step or two, so only a near tie (top two within that
    # tolerance) may change its top-1; the test's tiny net, trained afresh each run, makes a few of them.
    top_two = np.sort(reference, axis=1)[:, -2:]
    clear = top_two[:, 1] - top_two[:, 0] > 0.02
    assert clear.mean() > 0.5, "too few clear answers to compare top-1"
    for name, probs in results.items():
        assert (probs.argmax(1) == reference.argmax(1))[clear].all(), name
        np.testing.assert_allclose(probs, reference, atol=0.02, err_msg=name)


def test_dynamic_range_conversion_loads_on_tflite_runtime_2_14(trained, tmp_path):
    """TF ≥ 2.17 writes FULLY_CONNECTED v12 for per-channel dynamic Dense, which 2.14 refuses; the converter
    sets the flag that keeps the op at an older version."""
    import importlib.util

    if importlib.util.find_spec("tflite_runtime") is None:
        pytest.skip("tflite-runtime 2.14 not installed")
    import keras

    from convert.metadata import embed_spec
    from convert.quantize import to_tflite

    inputs = keras.Input((48, 48, 1))
    x = keras.layers.Flatten()(keras.layers.Rescaling(1 / 255)(inputs))
    x = keras.layers.Dense(64, activation="relu")(x)
    model = keras.Model(inputs, keras.layers.Dense(7, activation="softmax")(x))
    path = tmp_path / "dyn.tflite"
    path.write_bytes(embed_spec(to_tflite(model, "dynamic"), ModelSpec(quantization="dynamic")))
    faces_file = tmp_path / "faces.npy"
    np.save(faces_file, np.zeros((2, 48, 48), np.uint8))
    used, probs = predict_with("tflite-runtime", path, faces_file)
    assert used == "tflite-runtime" and probs.shape == (2, 7)


def test_a_separable_net_in_int8_loads_and_agrees_on_every_installed_runtime(trained, tmp_path):
    """separable_resnet (preset sep48-views48-xxlong) brings DEPTHWISE_CONV_2D into the file: the Pi's
    tflite-runtime 2.14 must take the op version today's converter writes, and answer as the others do."""
    import keras

    from convert.metadata import embed_spec
    from convert.quantize import to_tflite
    from train.augment import NO_AUGMENTATION
    from train.data import load_split
    from train.fit import build_model, make_dataset
    from train.presets import get_preset

    keras.utils.set_random_seed(0)
    preset = replace(get_preset("tiny"), model="separable_resnet", model_args={"stem": 8, "widths": (16, 32)},
                     epochs=12, learning_rate=1e-2, augment=NO_AUGMENTATION)
    train = load_split(trained["root"], "train", cache_dir=trained["cache"])
    model = build_model(preset, len(train) // preset.batch_size)
    model.fit(make_dataset(train, preset, training=True, seed=0), epochs=preset.epochs, shuffle=False, verbose=0)
    val = load_split(trained["root"], "validation", cache_dir=trained["cache"])
    path = tmp_path / "sep.tflite"
    path.write_bytes(embed_spec(to_tflite(model, "int8", calibration=val.images[:50]), ModelSpec(quantization="int8")))
    faces_file = tmp_path / "faces.npy"
    np.save(faces_file, val.images[:20])
    answers = {name: predict_with(name, path, faces_file) for name in _runtimes()}
    assert all(used == name for name, (used, _) in answers.items())
    reference = model.predict(val.images[:20, ..., None].astype(np.float32), verbose=0)
    # The net's answers are nearly flat after so little training, so what is compared is how they vary from
    # face to face: int8 must follow the float net there too (a wrongly converted op would not).
    varying = reference - reference.mean(axis=0)
    for name, (_, probs) in answers.items():
        assert probs.shape == (20, 7)
        np.testing.assert_allclose(probs, reference, atol=0.03, err_msg=name)
        follows = np.corrcoef(varying.ravel(), (probs - probs.mean(axis=0)).ravel())[0, 1]
        assert follows > 0.9, (name, follows)  # 0.998 measured; a random answer scores ~0


SHIPPED = REPO / "assets" / "models" / "emotion.tflite"
GOLDEN = REPO / "tests" / "golden" / "emotion_golden.json"
# Scores may differ by this much between runtimes and builds (int8 rounding of four averaged views).
GOLDEN_ATOL = 0.02


def _golden_top(entry: dict, labels: list[str]) -> set[str]:
    """The classes a runtime may name first for a golden face: its golden top-1, and any class tied with it
    within the score tolerance (an exact int8 tie breaks either way on another runtime)."""
    best = max(entry["scores"])
    return {label for label, score in zip(labels, entry["scores"]) if score >= best - GOLDEN_ATOL}


@pytest.mark.skipif(not SHIPPED.exists(), reason="no shipped model yet")
def test_golden_faces_are_mostly_clear_cut():
    """Ties would let the top-1 checks below pass on anything: nearly every golden face has one clear winner."""
    golden = json.loads(GOLDEN.read_text())
    labels = list(read_spec(SHIPPED).labels)
    tops = [_golden_top(entry, labels) for entry in golden["images"]]
    assert all(entry["top1"] in top for entry, top in zip(golden["images"], tops))
    assert sum(len(top) == 1 for top in tops) >= len(tops) - 2


@pytest.mark.skipif(not SHIPPED.exists(), reason="no shipped model yet")
def test_shipped_model_golden_outputs():
    """Regenerate after shipping a new model: python -m convert.golden --data ../shared/datasets/face-expression"""
    from _data import DATA_ROOT

    from convert.golden import load_gray
    from edge.classify import Classifier

    golden = json.loads(GOLDEN.read_text())
    clf = Classifier(model=SHIPPED)
    assert clf.spec.weights_sha256 == golden["model_weights_sha256"], (
        "the shipped model changed: regenerate the golden file (see convert/golden.py)"
    )
    assert len(golden["images"]) >= 20
    for entry in golden["images"]:
        scores = clf.predict(load_gray(DATA_ROOT / entry["file"]))[0]
        assert clf.labels[int(scores.argmax())] in _golden_top(entry, list(clf.labels)), entry["file"]
        np.testing.assert_allclose(scores, entry["scores"], atol=GOLDEN_ATOL, err_msg=entry["file"])


@pytest.mark.skipif(not SHIPPED.exists(), reason="no shipped model yet")
def test_shipped_model_gives_its_golden_answers_on_every_installed_runtime(tmp_path):
    """The file we ship, not only a freshly converted one, loads on each runtime (CI has tflite-runtime 2.14, the
    Raspberry Pi OS Bookworm one, which refuses newer op versions) and gives the golden top-1 there."""
    from _data import DATA_ROOT

    from convert.golden import load_gray

    golden, labels = json.loads(GOLDEN.read_text()), read_spec(SHIPPED).labels
    faces_file = tmp_path / "faces.npy"
    np.save(faces_file, np.stack([load_gray(DATA_ROOT / entry["file"]) for entry in golden["images"]]))
    runtimes = _runtimes()
    assert len(runtimes) >= 2, f"only {runtimes} installed; CI must prove at least two runtimes"
    for name in runtimes:
        used, probs = predict_with(name, SHIPPED, faces_file)
        assert used == name
        for entry, scores in zip(golden["images"], probs):
            assert labels[int(scores.argmax())] in _golden_top(entry, list(labels)), (name, entry["file"])
            np.testing.assert_allclose(scores, entry["scores"], atol=GOLDEN_ATOL, err_msg=f"{name} {entry['file']}")


@pytest.mark.skipif(not SHIPPED.exists(), reason="no shipped model yet")
def test_shipped_model_is_small_carries_its_card_and_metrics():
    spec = read_spec(SHIPPED)
    assert SHIPPED.stat().st_size < 3 * 1024 * 1024
    assert spec.metrics["validation_accuracy"] >= 0.66
    assert abs(spec.metrics["keras_validation_accuracy"] - spec.metrics["validation_accuracy"]) <= 0.01
    assert SHIPPED.with_suffix(".md").exists() and SHIPPED.with_suffix(".json").exists()
    assert spec.crop.detector != "none", "the shipped model must carry the crop calibration of its detector"


def test_card_lists_weak_classes_without_rounding_them_up_to_the_bar():
    from convert.card import _weak_classes
    from edge.labels import EMOTIONS

    def recalls(**changes):
        return {"per_class": {e: {"recall": changes.get(e, 0.8)} for e in EMOTIONS}}

    assert _weak_classes(recalls(disgust=61 / 111, sad=0.53)) == (
        "- Classes this model often misses (recall < 0.55 on validation): disgust 0.549, sad 0.530.")
    assert _weak_classes(recalls(fear=0.55)) == "- Every class has recall ≥ 0.55 on validation."
