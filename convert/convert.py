"""The conversion command: Keras → TFLite with metadata, verified, benchmarked, with a model card.

Nothing reaches the output path until the file has passed verification: the model and its side files (card,
JSON, confusion matrix) are written to a staging folder beside it and moved into place at the end, so a failed or
rejected conversion leaves the previous file and its card as they were."""

from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path

from convert.card import card_files
from convert.quantize import MODES
from edge.labels import EMOTIONS
from edge.modelfile import CropSpec, ModelSpec, read_spec
from edge.views import TestTimeViews
from train.keras_file import check_keras_file

log = logging.getLogger(__name__)

DEFAULT_CROP = Path(__file__).resolve().parent.parent / "assets" / "models" / "crop_calibration.json"


def load_crop(path: Path | None, default: Path = DEFAULT_CROP) -> CropSpec:
    """The crop calibration in PATH; without PATH the default file, or the identity crop when that is absent.
    A file that was asked for must exist and parse: a silent identity crop would ship a mis-framed model."""
    if path is None and not default.exists():
        log.warning("no crop calibration at %s: using the identity crop", default)
        return CropSpec()
    path = path or default
    if not path.is_file():
        raise FileNotFoundError(f"crop calibration not found: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: cannot read crop calibration ({err})") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err.msg} at line {err.lineno}, column {err.colno})") from None
    problem = crop_problem(data)
    if problem:
        raise ValueError(f"{path}: not a crop calibration ({problem})")
    try:
        return CropSpec.from_dict(data)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: not a crop calibration ({err})") from None


def crop_problem(data: object) -> str | None:
    """What is wrong with a parsed crop calibration, or None. CropSpec takes any value, and a string scale
    would only fail when the card is written, after the whole conversion."""
    if not isinstance(data, dict):
        return f"a JSON object is needed, got {type(data).__name__}"
    for key in ("scale", "dx", "dy"):
        value = data.get(key, 0.0)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{key} must be a number, got {value!r}"
    if data.get("scale", 1.0) <= 0:
        return f"scale must be positive, got {data['scale']!r}"
    if not isinstance(data.get("detector", ""), str):
        return f"detector must be a name, got {data['detector']!r}"
    return None


def recorded_views(keras_path: Path) -> TestTimeViews | None:
    """The test-time views `emotions-train adjust` fitted RUN/adjusted.keras's offsets for (RUN/adjust.json's
    flip_tta and zoom_views), or None for any other model."""
    record = keras_path.parent / "adjust.json"
    if keras_path.name != "adjusted.keras" or not record.is_file():
        return None
    try:
        adjust = json.loads(record.read_text())
        return TestTimeViews(bool(adjust["flip_tta"]), tuple(adjust.get("zoom_views") or ()))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{record}: no readable test-time views (flip_tta, zoom_views): {err}") from None


def choose_views(keras_path: Path, mirror: bool | None = None, zooms: tuple[float, ...] | None = None
                 ) -> TestTimeViews:
    """The views to record in the file: those asked for (None: not asked), else those adjust.json records.
    Offsets are fitted to the average over particular views, so asking for other ones is refused."""
    recorded = recorded_views(keras_path)
    base = TestTimeViews() if recorded is None else recorded
    chosen = TestTimeViews(base.mirror if mirror is None else mirror, base.zooms if zooms is None else zooms)
    if recorded is not None and (chosen.mirror, set(chosen.zooms)) != (recorded.mirror, set(recorded.zooms)):
        raise ValueError(
            f"{keras_path.parent / 'adjust.json'} records the views its offsets were fitted for "
            f"({recorded.describe()}) but --flip-average/--zoom-views ask for {chosen.describe()}: leave the "
            "flags out to use the recorded views, or run `emotions-train adjust` again with the views to ship")
    if recorded is not None:
        log.info("test-time views, as %s records for its offsets: %s", keras_path.parent / "adjust.json",
                 chosen.describe())
    return chosen


def needed_splits(mode: str, verify_model: bool) -> tuple[str, ...]:
    """Dataset splits a conversion reads: train to calibrate int8; both to verify (train for the leak mask)."""
    if verify_model:
        return ("train", "validation")
    return ("train",) if mode == "int8" else ()


def check_dataset(root: Path, splits: tuple[str, ...]) -> None:
    """The training loader's own layout check, before anything slow (DatasetError naming the folder)."""
    from train.data import list_split

    for split in splits:
        list_split(root, split)


def side_files(model: Path) -> list[Path]:
    """What a conversion writes for MODEL: its card files (convert/card.py), and the model itself last, so that
    while files are moved into place the model never stands beside an older conversion's card."""
    return [*card_files(model), model]


def check_out(out: Path) -> None:
    """An output path the model and its side files can all be written to, without overwriting each other."""
    if out.is_dir():
        raise ValueError(f"-o {out} is a folder: give the .tflite file to write")
    if len(set(side_files(out))) < len(side_files(out)):
        raise ValueError(f"-o {out}: its card would overwrite it; name the model file *.tflite")


def rejected_dir(out: Path) -> Path:
    """Where a file that failed verification is left, with its card: a folder, so no *.tflite glob beside the
    output picks it up and its card's relative image link still works."""
    return out.with_name(f"{out.stem}.rejected")


@contextmanager
def staging(out: Path) -> Iterator[Path]:
    """A temporary folder beside OUT (same file system, so moving out of it is an atomic rename), removed
    with whatever is left in it however the conversion ends."""
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".staging", dir=out.parent))
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def move_files(staged_model: Path, dest_model: Path) -> None:
    """Move the staged model and whichever side files it has onto DEST_MODEL's names (replacing them); a side file
    it has not (a --no-verify conversion writes no card) is removed, since it would describe an older file."""
    dest_model.parent.mkdir(parents=True, exist_ok=True)
    for src, dest in zip(side_files(staged_model), side_files(dest_model), strict=True):
        if src.exists():
            os.replace(src, dest)
        elif dest.exists():
            dest.unlink()


def training_facts(keras_path: Path) -> dict:
    """What the run folder beside the model says about its training (empty when there is none)."""
    run = keras_path.parent
    facts: dict = {"run_id": run.name}
    config_file, state_file = run / "config.json", run / "state.json"
    if config_file.exists():
        config = json.loads(config_file.read_text())
        facts.update(
            preset=config["preset"]["name"], description=config["preset"]["description"],
            train_images=config.get("train_images"), holdout_images=config.get("holdout_images"),
            machine=f"{config['machine'].get('cpus')} CPUs, TF {config['machine'].get('tensorflow')}",
        )
        if config.get("teachers"):
            facts["teachers"] = [_source_run(run, t).name for t in config["teachers"]]
        if config.get("members"):  # `emotions-train merge`: the members' own records
            facts["members"] = [training_facts((run / m).resolve() / "best.keras") for m in config["members"]]
    if state_file.exists():
        state = json.loads(state_file.read_text())
        facts.update(epochs=state["epoch"], best_epoch=state["best_epoch"], train_hours=state["train_seconds"] / 3600)
    facts["recipe_hours"] = _recipe_hours(run)
    adjust_file = run / "adjust.json"
    if keras_path.name == "adjusted.keras" and adjust_file.exists():  # made by `emotions-train adjust`
        adjust = json.loads(adjust_file.read_text())
        facts["adjustment"] = {k: adjust[k] for k in ("mode", "objective", "offsets", "holdout_before",
                                                      "holdout_after") if k in adjust}
        source = _copied_from(run, adjust)
        if source:
            facts["adjustment"]["fitted_in"] = _fitted_in(source)
    return facts


def _copied_from(run: Path, adjust: dict) -> Path | None:
    """The run whose holdout RUN's offsets were fitted on, when `adjust --offsets-from` copied them (a refit)."""
    return _source_run(run, adjust["offsets_from"]) if adjust.get("offsets_from") else None


def _fitted_in(source: Path) -> dict:
    """Where copied offsets were fitted: that run's name and, if its record is there, what they did on its holdout."""
    fitted: dict = {"run_id": source.resolve().name}
    try:
        record = json.loads((source / "adjust.json").read_text())
    except (OSError, ValueError):
        return fitted
    fitted.update({k: record[k] for k in ("mode", "objective", "holdout_before", "holdout_after") if k in record})
    return fitted


def _recipe_hours(run: Path, seen: set | None = None) -> float:
    """Training hours of RUN and of every run it was made from (merge members, distillation teachers, the run its
    offsets were copied from), each once."""
    seen = set() if seen is None else seen
    run = run.resolve()
    if run in seen or not (run / "config.json").exists():
        return 0.0
    seen.add(run)
    config = json.loads((run / "config.json").read_text())
    state_file = run / "state.json"
    hours = json.loads(state_file.read_text())["train_seconds"] / 3600 if state_file.exists() else 0.0
    sources = [_source_run(run, source) for source in [*config.get("members", []), *config.get("teachers", [])]]
    adjust_file = run / "adjust.json"
    if adjust_file.exists() and (copied_from := _copied_from(run, json.loads(adjust_file.read_text()))):
        sources.append(copied_from)
    return hours + sum(_recipe_hours(source, seen) for source in sources)


def _source_run(run: Path, source: str) -> Path:
    """The run folder of a teacher or member that RUN's config records relative to it (a folder or its .keras)."""
    path = run / source
    return path.parent if path.suffix == ".keras" else path


def bench_in_subprocess(model: Path, runs: int) -> dict:
    """`emotions-convert bench` in a fresh process: latency and peak RSS as the device sees them,
    without TensorFlow (loaded here for conversion) inflating the memory figure."""
    import subprocess

    done = subprocess.run([sys.executable, "-m", "convert.cli", "bench", str(model), "--json", "--runs", str(runs)],
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise ValueError(f"benchmark of {model} failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def convert_model(
    keras_path: Path, root: Path, out: Path, *, mode: str = "int8", calibration_count: int = 700,
    crop_file: Path | None = None, name: str = "emotion", version: str = "1", cache_dir=None,
    verify_model: bool = True, bench_runs: int = 1000, views: TestTimeViews | None = None, allow_drop: bool = False,
) -> dict:
    """`views`: the test-time views the file recommends to the exhibit (default: those adjust.json records for an
    adjusted.keras, else one plain pass); the file is verified and benchmarked with them, and once more the other
    way (plain, or mirror-averaged if plain). OUT and its side files are replaced only when verification passes
    (or `allow_drop`); a file that lost too much is left in rejected_dir(OUT) and info["rejected"] says so."""
    if mode not in MODES:
        raise ValueError(f"unknown quantization {mode!r}; choose one of {', '.join(MODES)}")
    # Everything that can be checked cheaply is, before the minutes of converting and verifying.
    check_out(out)
    check_keras_file(keras_path)
    crop = load_crop(crop_file)
    views = choose_views(keras_path) if views is None else views
    facts = training_facts(keras_path)
    check_dataset(root, needed_splits(mode, verify_model))
    from train.keras_file import load_keras_file  # imports TensorFlow (seconds): after the checks above

    model = load_keras_file(keras_path, compile=False)
    in_shape = model.input_shape
    if len(in_shape) != 4 or in_shape[1] != in_shape[2] or in_shape[3] != 1:
        raise ValueError(f"{keras_path}: expected a square grayscale input, got {in_shape}")
    if model.output_shape[-1] != len(EMOTIONS):
        raise ValueError(f"{keras_path}: {model.output_shape[-1]} outputs, expected {len(EMOTIONS)}")
    tflite = quantize(model, mode, root, calibration_count, cache_dir)
    spec = ModelSpec(
        input_size=int(in_shape[1]), channels=1, crop=crop, name=name, version=version,
        run_id=facts.get("run_id", ""), quantization=mode, extra=views.to_extra(),
    )
    from convert.metadata import embed_spec

    info: dict = {"training": facts, "command": "emotions-convert " + " ".join(shlex.quote(a) for a in sys.argv[1:])}
    with staging(out) as stage:
        staged = stage / out.name
        staged.write_bytes(embed_spec(tflite, spec))
        dest = out
        if verify_model:
            info.update(_measure(staged, tflite, spec, keras_path, root, cache_dir, views, bench_runs))
            if not info["accuracy_ok"] and not allow_drop:
                dest = rejected_dir(out) / out.name
                info["rejected"] = str(dest)
            _write_card(staged, dest, info)
        move_files(staged, dest)
    if dest == out and rejected_dir(out).is_dir():  # an earlier rejection is history once OUT is replaced
        shutil.rmtree(rejected_dir(out))
    if dest != out:
        log.info("rejected: %s left in %s", out.name, dest.parent)
    else:
        log.info("wrote %s (%.0f KB)", out, out.stat().st_size / 1024)
    return info


def quantize(model, mode: str, root: Path, calibration_count: int, cache_dir=None) -> bytes:
    """The TFLite bytes of MODEL; int8 is calibrated on a stratified sample of training faces."""
    from convert.quantize import stratified_sample, to_tflite

    if mode != "int8":  # float16, dynamic and float32 keep float activations: nothing to calibrate
        log.info("converting to %s (no calibration: only int8 needs it)", mode)
        return to_tflite(model, mode)
    from train.data import load_split

    train = load_split(root, "train", size=model.input_shape[1], cache_dir=cache_dir)
    picks = stratified_sample(train.labels, calibration_count)
    log.info("calibrating int8 on %d training faces (%d per class)", len(picks), len(picks) // len(EMOTIONS))
    return to_tflite(model, mode, train.images[picks])


def _measure(staged: Path, tflite: bytes, spec: ModelSpec, keras_path: Path, root: Path, cache_dir,
             views: TestTimeViews, bench_runs: int) -> dict:
    """Verify the staged file on its views and the other way, embed its metrics, benchmark it."""
    from convert.metadata import embed_spec
    from convert.verify import verify

    result, ok = verify(staged, root, keras_path, cache_dir, flip=views.mirror, zooms=views.zooms)
    other_views = TestTimeViews() if views.count > 1 else TestTimeViews(mirror=True)
    other, _ = verify(staged, root, None, cache_dir, flip=other_views.mirror, zooms=other_views.zooms)
    t = result["tflite"]
    spec = replace(spec, metrics={
        "validation_accuracy": round(t["validation"]["accuracy"], 4),
        "validation_macro_f1": round(t["validation"]["macro_f1"], 4),
        "private_test_accuracy": round(t["private_test"]["accuracy"], 4),
        "validation_dedup_accuracy": round(t["validation_dedup"]["accuracy"], 4),
        "keras_validation_accuracy": round(result["keras"]["validation"]["accuracy"], 4),
    })
    staged.write_bytes(embed_spec(tflite, spec))
    other_label = "one plain pass per face" if other_views.count == 1 else other_views.describe()
    return {"verify": result, "other_mode": other["tflite"], "other_mode_views": other_label,
            "bench": bench_in_subprocess(staged, bench_runs), "accuracy_ok": ok,
            "spec": asdict(read_spec(staged))}  # as the edge will see it, weights hash included


def _write_card(staged: Path, dest: Path, info: dict) -> None:
    """The confusion matrix and card beside the staged file, naming the file where it will be moved (DEST)."""
    from convert.card import write_card
    from train.plots import plot_confusion

    info["verify"]["model"] = info["bench"]["model"] = str(dest)
    validation = info["verify"]["tflite"]["validation"]
    plot_confusion(validation["confusion_matrix"], card_files(staged)[2],
                   f"{staged.name} on validation ({validation['accuracy']:.1%})")
    write_card(staged, info, shown_as=dest)
