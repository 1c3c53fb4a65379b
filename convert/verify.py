"""Prove a converted model's accuracy on the validation split (and PrivateTest alone)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from train.metrics import evaluation_report, headline

log = logging.getLogger(__name__)

MAX_DROP_POINTS = 1.0


def tflite_probs(model_path: Path, images: np.ndarray, flip: bool | None = None, runtime: str | None = None
                 ) -> np.ndarray:
    from edge.classify import Classifier, ClassifierOptions

    clf = Classifier(ClassifierOptions(model=model_path, threads=2, flip_average=flip, runtime=runtime))
    return clf.predict(images)


def verify(model_path: Path, root: Path, keras_path: Path | None = None, cache_dir=None, flip: bool | None = None,
           peer: bool = False, out: Path | None = None) -> tuple[dict, bool]:
    """Metrics of the .tflite (and the Keras model / the fer peer); ok=False when int8 lost > 1 pt."""
    from train.fit import validation_arrays

    val, private, leaked = validation_arrays(root, cache_dir)
    from edge.modelfile import read_spec

    if flip is None:  # the inference mode the model file recommends, as the exhibit runs it
        flip = bool(read_spec(model_path).extra.get("flip_average", False))
    result: dict = {"model": str(model_path), "flip_average": flip}
    result["tflite"] = evaluation_report(val.labels, tflite_probs(model_path, val.images, flip), private, leaked)
    log.info("tflite: %s", headline(result["tflite"]))
    ok = True
    if keras_path:
        import keras

        from train.evaluate import predict

        keras_model = keras.models.load_model(keras_path)
        result["keras"] = evaluation_report(val.labels, predict(keras_model, val.images, flip), private, leaked)
        drop = (result["keras"]["validation"]["accuracy"] - result["tflite"]["validation"]["accuracy"]) * 100
        result["accuracy_drop_points"] = drop
        ok = drop <= MAX_DROP_POINTS
        log.info("keras:  %s", headline(result["keras"]))
        log.info("tflite vs keras: %+.2f points %s", -drop, "(ok)" if ok else f"(more than {MAX_DROP_POINTS} lost)")
    if peer:
        from edge.peer import PeerClassifier

        result["peer"] = evaluation_report(val.labels, PeerClassifier().predict(val.images), private, leaked)
        log.info("peer (fer mini-Xception): %s", headline(result["peer"]))
    if out:
        out.write_text(json.dumps(result, indent=2))
    return result, ok
