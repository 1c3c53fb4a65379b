"""Test-time augmentation beyond the mirror, measured on the holdout (never validation): does averaging a
model's answers over shifted, zoomed or rotated copies of each face buy accuracy worth its passes?

    python scripts/holdout_tta.py MODEL.tflite --run runs/student48-views-xlong-s11

The holdout is the one `--run`'s config.json records. Use a model whose offsets were not fitted on that
holdout (a run's own conversion, not an `adjust`ed one), or the plain pass is flattered.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edge.classify import Classifier  # noqa: E402
from edge.views import TestTimeViews  # noqa: E402
from train.data import load_split, recorded_holdout, resolve_root, stratified_holdout  # noqa: E402


def warp(image: np.ndarray, dx: float = 0, dy: float = 0, scale: float = 1, angle: float = 0) -> np.ndarray:
    """One geometric variant of a square face, edges continued outward (no black borders the model never saw)."""
    size = image.shape[0]
    centre = (size - 1) / 2
    matrix = cv2.getRotationMatrix2D((centre, centre), angle, scale)
    matrix[:, 2] += (dx, dy)
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


VARIANTS = {  # name: warp arguments; every set below also averages each variant with its mirror
    "shift 1 px": [{"dx": 1}, {"dx": -1}, {"dy": 1}, {"dy": -1}],
    "shift 2 px": [{"dx": 2}, {"dx": -2}, {"dy": 2}, {"dy": -2}],
    "zoom ±5 %": [{"scale": 0.95}, {"scale": 1.05}],
    "zoom ±10 %": [{"scale": 0.9}, {"scale": 1.1}],
    "rotate ±5°": [{"angle": -5}, {"angle": 5}],
    # zoom-in sets (the shipped views are mirror + 1.1)
    **{f"zoom {' and '.join(map(str, zooms))}": [{"scale": z} for z in zooms]
       for zooms in ((1.05,), (1.1,), (1.15,), (1.2,), (1.1, 1.2), (1.05, 1.15), (1.1, 1.15), (0.95, 1.1))},
}


def score(probs: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Accuracy and mean negative log-likelihood of the true class."""
    nll = -np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, 1)).mean()
    return float((probs.argmax(1) == labels).mean()), float(nll)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--run", type=Path, required=True, help="run folder whose holdout to use")
    parser.add_argument("--data", help="dataset root (default $EMOTIONS_DATA)")
    args = parser.parse_args()
    config = json.loads((args.run / "config.json").read_text())
    train = load_split(resolve_root(args.data), "train")
    mask = stratified_holdout(train.labels, *recorded_holdout(config))
    faces, labels = train.images[mask], train.labels[mask]
    classifier = Classifier(model=args.model)

    def answers(kwargs: dict) -> np.ndarray:
        return classifier.predict(np.stack([warp(face, **kwargs) for face in faces]), TestTimeViews(mirror=True))

    plain = classifier.predict(faces, TestTimeViews())
    mirrored = answers({})
    print(f"{len(labels)} holdout images, {args.model}; accuracy, mean negative log-likelihood, passes per face")
    print("{:.2%}  {:.4f}   1  plain".format(*score(plain, labels)))
    print("{:.2%}  {:.4f}   2  + mirror".format(*score(mirrored, labels)))
    for name, variants in VARIANTS.items():
        probs = (mirrored + sum(answers(kwargs) for kwargs in variants)) / (1 + len(variants))
        print("{:.2%}  {:.4f}  {:2d}  + mirror, {}".format(*score(probs, labels), 2 + 2 * len(variants), name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
