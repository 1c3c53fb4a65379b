"""`emotions-train merge`: several trained runs as one model that the exhibit runs in a single pass.

Every run ends in Dense(features → 7) + softmax. The mean of the members' logits is therefore one Dense
layer over their concatenated features (kernels stacked and divided by n, biases averaged), and the merged
model ends in a Dense + softmax like any run: `emotions-train adjust` folds class offsets into it,
`emotions-convert` turns it into one int8 file, and its cost is the members' costs added (res48 + student48:
1.1 + 0.7 ms, under the 2 ms that res48 with flip averaging misses). Averaging logits is the geometric mean
of the members' probabilities; on the shared holdout it scores like the arithmetic mean that `evaluate`
reports for ensembles.

The merged folder is a run folder for `adjust`, `compare` and `emotions-convert`: config.json carries the
members' common holdout, so offsets are fitted on images none of them trained on (or, when a member was
refitted on all of train, no holdout: its offsets are then copied from the recipe's merge).
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def merge_models(models: list):
    """One Keras model whose softmax is over the mean of the MODELS' logits (same input, Dense + softmax ends)."""
    import keras

    if len(models) < 2:
        raise ValueError("merging needs at least two models")
    shape = models[0].input_shape[1:]
    kernels, biases, features = [], [], []
    face = keras.Input(shape, name="face")
    for i, model in enumerate(models):
        last = model.layers[-1]
        activation = getattr(last, "activation", None)
        if not isinstance(last, keras.layers.Dense) or getattr(activation, "__name__", "") != "softmax":
            raise ValueError(f"{model.name}: the last layer is {type(last).__name__}, not a Dense + softmax")
        if model.input_shape[1:] != shape:
            raise ValueError(f"{model.name}: input {model.input_shape[1:]}, the first member's is {shape}")
        kernel, bias = last.get_weights()
        kernels.append(kernel)
        biases.append(bias)
        # nested under its own name: the members' layer names repeat (all res48s have a "stem_conv0")
        features.append(keras.Model(model.inputs, last.input, name=f"member{i}_{model.name}")(face))
    if len({b.shape for b in biases}) != 1:
        raise ValueError("the members disagree on the number of classes")
    scores = keras.layers.Dense(len(biases[0]), activation="softmax", name="scores")
    merged = keras.Model(face, scores(keras.layers.Concatenate(name="features")(features)), name="merged")
    scores.set_weights([np.concatenate(kernels) / len(models), np.mean(biases, axis=0)])
    return merged


def shared_holdout(runs: list[Path]) -> tuple[list[dict], dict]:
    """The config.json of each of RUNS (run folders with best.keras) and the holdout they share (fraction, seed,
    split sizes), after checking that there is one and it can be rebuilt: a model made from them, or a choice
    among them, is then judged on images none of them trained on."""
    configs = _run_configs(runs)
    return configs, _common_holdout(configs)


def _common_holdout(configs: list[dict]) -> dict:
    from train.data import recorded_holdout

    # What the runs must agree on for their shared holdout to be clean for all of them. The dataset's path
    # is not one of them (runs trained on two machines record two paths); its split sizes are.
    shared = [dict(zip(("holdout", "holdout_seed"), recorded_holdout(c)), train_images=c.get("train_images"),
                   holdout_images=c.get("holdout_images")) for c in configs]
    for key in shared[0]:
        values = {str(s[key]) for s in shared}
        if len(values) > 1:
            raise ValueError(f"the runs disagree on {key} ({', '.join(sorted(values))}): one of them trained on "
                             "images the others hold out, so no holdout is clean for all of them")
    return shared[0]


def _run_configs(runs: list[Path]) -> list[dict]:
    configs = []
    for run in runs:
        if not (run / "config.json").is_file() or not (run / "best.keras").is_file():
            raise FileNotFoundError(f"not a run folder with best.keras: {run}")
        config = json.loads((run / "config.json").read_text())
        if config.get("limit"):
            raise ValueError(f"{run} was a --limit smoke run; its holdout cannot be rebuilt exactly")
        configs.append(config)
    return configs


def merged_holdout(runs: list[Path]) -> tuple[list[dict], dict]:
    """Like shared_holdout, but a member refitted on all of train (holdout 0) makes the merge a refit too: it
    records no holdout, so nothing can be fitted or chosen on one, and `adjust` must copy its offsets."""
    configs = _run_configs(runs)
    refits = [run.name for run, config in zip(runs, configs) if config.get("holdout") == 0]
    if not refits:
        return configs, _common_holdout(configs)
    log.info("%s trained on all of train: the merge has no holdout (adjust it with --offsets-from)",
             ", ".join(refits))
    return configs, {"holdout": 0.0, "holdout_seed": None,
                     "train_images": max(c.get("train_images") or 0 for c in configs), "holdout_images": 0}


def merge_runs(runs: list[Path], out: Path, data: str | None = None, cache_dir: Path | None = None) -> Path:
    """Merge RUNS' best.keras into OUT/best.keras with a run record; report the merged model plain
    (one pass: the budget it is made for) on validation."""
    import keras

    from train.data import resolve_root
    from train.evaluate import evaluate_model
    from train.fit import inference_model, machine_info

    if out.exists():
        raise ValueError(f"{out} exists already: choose another --name")
    configs, holdout = merged_holdout(runs)
    root = resolve_root(data or configs[0]["data"])
    merged = inference_model(merge_models([keras.models.load_model(r / "best.keras", compile=False) for r in runs]))
    out.mkdir(parents=True)
    merged.save(out / "best.keras")
    names = [r.name for r in runs]
    record = {
        "preset": {"name": "merged", "description": "logit average of " + " + ".join(names) + " in one model "
                   "(emotions-train merge)", "flip_tta": False},
        "members": [os.path.relpath(r, out) for r in runs],
        "data": str(root),
        **holdout,
        "seed": configs[0]["seed"],
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
    }
    (out / "config.json").write_text(json.dumps(record, indent=2))
    log.info("merged %s into %s (%d parameters)", ", ".join(names), out, merged.count_params())
    evaluate_model(merged, root, out, cache_dir=cache_dir, flip_tta=False, extra={"members": names})
    return out
