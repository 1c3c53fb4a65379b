"""Prove a converted model's accuracy on the validation split (and PrivateTest alone)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from train.metrics import evaluation_report, headline

log = logging.getLogger(__name__)

MAX_DROP_POINTS = 1.0


def verify(model_path: Path, root: Path, keras_path: Path | None = None, cache_dir=None, flip: bool | None = None,
           peer: bool = False, out: Path | None = None, zooms: tuple[float, ...] | None = None) -> tuple[dict, bool]:
    """Metrics of the .tflite (and the Keras model / the fer peer) on the test-time views `flip` and `zooms`
    (None: as the model file recommends, as the exhibit runs it); ok=False when the .tflite lost > 1 pt."""
    from edge.classify import Classifier, ClassifierOptions

    # Both models are read before the dataset (seconds): a damaged file or a wrong path fails at once.
    # The classifier resolves the views (the file's, unless flip or zooms say otherwise); Keras gets the same ones.
    classifier = Classifier(ClassifierOptions(model=model_path, threads=2, flip_average=flip, zoom_views=zooms))
    keras_model = None
    if keras_path:
        from train.keras_file import load_keras_file

        keras_model = load_keras_file(keras_path, compile=False)
    from train.fit import validation_arrays

    val, private, leaked = validation_arrays(root, cache_dir)
    views = classifier.views
    result: dict = {"model": str(model_path), "flip_average": views.mirror, "zoom_views": list(views.zooms),
                    "views": views.describe()}
    result["tflite"] = evaluation_report(val.labels, classifier.predict(val.images), private, leaked)
    log.info("test-time views: %s", views.describe())
    log.info("tflite: %s", headline(result["tflite"]))
    ok = True
    if keras_model is not None:
        from train.evaluate import predict

        result["keras"] = evaluation_report(val.labels, predict(keras_model, val.images, views.mirror, views.zooms),
                                            private, leaked)
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
