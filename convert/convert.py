"""The conversion command: Keras → TFLite with metadata, verified, benchmarked, with a model card."""

from __future__ import annotations

import json
import logging
import shlex
import sys
from dataclasses import asdict, replace
from pathlib import Path

from edge.labels import EMOTIONS
from edge.modelfile import CropSpec, ModelSpec, read_spec
from edge.views import TestTimeViews

log = logging.getLogger(__name__)

DEFAULT_CROP = Path(__file__).resolve().parent.parent / "assets" / "models" / "crop_calibration.json"


def load_crop(path: Path | None) -> CropSpec:
    path = path or DEFAULT_CROP
    if not path.exists():
        log.warning("no crop calibration at %s: using the identity crop", path)
        return CropSpec()
    data = json.loads(path.read_text())
    return CropSpec.from_dict(data)


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
    verify_model: bool = True, bench_runs: int = 1000, views: TestTimeViews | None = None,
) -> dict:
    """`views`: the test-time views the file recommends to the exhibit (default: one plain pass); the file is
    verified and benchmarked with them, and once more the other way (plain, or mirror-averaged if plain)."""
    import keras

    from convert.metadata import embed_spec
    from convert.quantize import stratified_sample, to_tflite
    from train.data import load_split

    views = views or TestTimeViews()

    if not keras_path.exists():
        raise FileNotFoundError(f"model not found: {keras_path}")
    model = keras.models.load_model(keras_path)
    in_shape = model.input_shape
    if in_shape[1] != in_shape[2] or in_shape[3] != 1:
        raise ValueError(f"{keras_path}: expected a square grayscale input, got {in_shape}")
    if model.output_shape[-1] != len(EMOTIONS):
        raise ValueError(f"{keras_path}: {model.output_shape[-1]} outputs, expected {len(EMOTIONS)}")
    train = load_split(root, "train", size=in_shape[1], cache_dir=cache_dir)
    picks = stratified_sample(train.labels, calibration_count)
    log.info("calibrating %s on %d training faces (%d per class)", mode, len(picks), len(picks) // len(EMOTIONS))
    tflite = to_tflite(model, mode, train.images[picks])
    facts = training_facts(keras_path)
    spec = ModelSpec(
        input_size=int(in_shape[1]), channels=1, crop=load_crop(crop_file), name=name, version=version,
        run_id=facts.get("run_id", ""), quantization=mode, extra=views.to_extra(),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(embed_spec(tflite, spec))
    info: dict = {"training": facts, "command": "emotions-convert " + " ".join(shlex.quote(a) for a in sys.argv[1:])}
    if verify_model:
        from convert.card import write_card
        from convert.verify import verify
        from train.plots import plot_confusion

        result, ok = verify(out, root, keras_path, cache_dir, flip=views.mirror, zooms=views.zooms)
        other_views = TestTimeViews() if views.count > 1 else TestTimeViews(mirror=True)
        other, _ = verify(out, root, None, cache_dir, flip=other_views.mirror, zooms=other_views.zooms)
        t = result["tflite"]
        spec = replace(spec, metrics={
            "validation_accuracy": round(t["validation"]["accuracy"], 4),
            "validation_macro_f1": round(t["validation"]["macro_f1"], 4),
            "private_test_accuracy": round(t["private_test"]["accuracy"], 4),
            "validation_dedup_accuracy": round(t["validation_dedup"]["accuracy"], 4),
            "keras_validation_accuracy": round(result["keras"]["validation"]["accuracy"], 4),
        })
        out.write_bytes(embed_spec(tflite, spec))
        other_label = "one plain pass per face" if other_views.count == 1 else other_views.describe()
        info.update(verify=result, other_mode=other["tflite"], other_mode_views=other_label,
                    bench=bench_in_subprocess(out, bench_runs),
                    accuracy_ok=ok)
        info["spec"] = asdict(read_spec(out))  # as the edge will see it, weights hash included
        plot_confusion(t["validation"]["confusion_matrix"], out.with_name(f"{out.stem}-confusion.png"),
                       f"{out.name} on validation ({t['validation']['accuracy']:.1%})")
        write_card(out, info)
    log.info("wrote %s (%.0f KB)", out, out.stat().st_size / 1024)
    return info
