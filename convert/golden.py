"""Golden outputs of the shipped model on ~20 real validation faces, for the regression test.

Regenerate after shipping a new model:
    python -m convert.golden --data ../shared/datasets/face-expression
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from edge.classify import DEFAULT_MODEL, Classifier, ClassifierOptions
from edge.labels import EMOTIONS

GOLDEN_FILE = Path(__file__).resolve().parent.parent / "tests" / "golden" / "emotion_golden.json"


def pick_images(root: Path, per_class: int = 3) -> list[Path]:
    """The first few PrivateTest files of each class, a fixed, documented choice."""
    files = []
    for emotion in EMOTIONS:
        names = sorted(p for p in (root / "validation" / emotion).iterdir() if p.name.startswith("PrivateTest"))
        files += names[:per_class]
    return files


def load_gray(path: Path) -> np.ndarray:
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ValueError(f"unreadable image: {path}")
    return image


def generate(root: Path, model: Path = DEFAULT_MODEL, out: Path = GOLDEN_FILE) -> dict:
    clf = Classifier(ClassifierOptions(model=model))
    entries = []
    for path in pick_images(root):
        scores = clf.predict(load_gray(path))[0]
        entries.append({"file": f"validation/{path.parent.name}/{path.name}", "top1": EMOTIONS[int(scores.argmax())],
                        "scores": [round(float(s), 5) for s in scores]})
    golden = {"model_weights_sha256": clf.spec.weights_sha256, "runtime": clf.runtime.name, "images": entries}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(golden, indent=1))
    return golden


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    args = parser.parse_args()
    golden = generate(args.data, args.model)
    print(f"wrote {GOLDEN_FILE} ({len(golden['images'])} images)")


if __name__ == "__main__":
    main()
