"""Evaluate a Keras model on the validation split and write metrics.json + confusion.png."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from train.metrics import evaluation_report, headline
from train.plots import plot_confusion

log = logging.getLogger(__name__)


def predict(model, images: np.ndarray, flip: bool = False, zooms: tuple[float, ...] = (), batch_size: int = 256,
            chunk_batches: int = 64, progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Class probabilities for (N, H, W) uint8 images, averaged over the test-time views (edge/views.py): the
    mirrored image with `flip`, and the image zoomed by each of `zooms` (mirrored too with `flip`).
    Images go through in chunks of `chunk_batches` batches, so memory stays bounded for the 620,000-image view
    stacks of a teacher pass (converted whole, 5.7 GB of float32 a view, the process reached 17 GB); whole
    batches per chunk keep the answers the same as one call's. `progress(done, total)` is called after each
    chunk, so a pass that takes an hour can say how far it is."""
    from edge.views import TestTimeViews

    views = TestTimeViews(flip, tuple(zooms))
    chunk = batch_size * chunk_batches
    answers = []
    for start in range(0, len(images), chunk):
        part = images[start:start + chunk]
        answers.append(sum(model.predict(views.view(part, i)[..., None].astype(np.float32), batch_size=batch_size,
                                         verbose=0) for i in range(views.count)) / views.count)
        if progress is not None:
            progress(start + len(part), len(images))
    return np.concatenate(answers)


class Ensemble:
    """Several models answering as one: the mean of their probabilities (what a distillation teacher is)."""

    def __init__(self, models: list):
        if not models:
            raise ValueError("an ensemble needs at least one model")
        self.models = models
        self.name = "ensemble(" + ", ".join(getattr(m, "name", "model") for m in models) + ")"

    def predict(self, x, batch_size: int = 256, verbose: int = 0) -> np.ndarray:
        return sum(m.predict(x, batch_size=batch_size, verbose=verbose) for m in self.models) / len(self.models)


def evaluate_model(model, root: Path, out_dir: Path, *, cache_dir=None, flip_tta=True, extra=None) -> dict:
    from train.fit import validation_arrays

    val, private, leaked = validation_arrays(root, cache_dir)
    report = {"model": getattr(model, "name", "model"), **(extra or {})}
    report["plain"] = evaluation_report(val.labels, predict(model, val.images), private, leaked)
    if flip_tta:
        report["flip_tta"] = evaluation_report(val.labels, predict(model, val.images, flip=True), private, leaked)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(report, indent=2))
    plot_confusion(report["plain"]["validation"]["confusion_matrix"], out_dir / "confusion.png",
                   f"validation ({headline_short(report['plain'])})")
    log.info("plain:    %s", headline(report["plain"]))
    if flip_tta:
        log.info("flip TTA: %s", headline(report["flip_tta"]))
    return report


def headline_short(report: dict) -> str:
    return f"acc {report['validation']['accuracy']:.1%}, macro-F1 {report['validation']['macro_f1']:.3f}"
