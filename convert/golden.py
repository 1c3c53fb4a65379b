"""Golden outputs of the shipped model on ~20 real validation faces, for the regression test.

Regenerate after shipping a new model:
    python -m convert.golden --data ../shared/datasets/face-expression
(-o elsewhere.json writes a copy to compare instead of replacing tests/golden/emotion_golden.json.)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from edge.classify import DEFAULT_MODEL, Classifier, ClassifierOptions
from edge.labels import EMOTIONS

GOLDEN_FILE = Path(__file__).resolve().parent.parent / "tests" / "golden" / "emotion_golden.json"


def pick_images(root: Path, per_class: int = 3) -> list[Path]:
    """The first few PrivateTest files of each class, a fixed, documented choice (DatasetError, one line, when
    the validation split is missing or incomplete)."""
    from train.data import list_split

    listed = list_split(root, "validation")
    files: list[Path] = []
    for label, emotion in enumerate(EMOTIONS):
        names = [p for p, k in listed if k == label and p.name.startswith("PrivateTest")]
        if not names:
            raise ValueError(f"no PrivateTest images in {root / 'validation' / emotion}")
        files += names[:per_class]
    return files


def load_gray(path: Path) -> np.ndarray:
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ValueError(f"unreadable image: {path}")
    return image


def generate(root: Path, model: Path = DEFAULT_MODEL, out: Path = GOLDEN_FILE) -> dict:
    files = pick_images(root)  # before loading the model: a wrong --data is told at once
    clf = Classifier(ClassifierOptions(model=model))
    entries = []
    for path in files:
        scores = clf.predict(load_gray(path))[0]
        entries.append({"file": f"validation/{path.parent.name}/{path.name}", "top1": EMOTIONS[int(scores.argmax())],
                        "scores": [round(float(s), 5) for s in scores]})
    golden = {"model_weights_sha256": clf.spec.weights_sha256, "runtime": clf.runtime.name, "images": entries}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(golden, indent=1))
    return golden


def main(argv: list[str] | None = None) -> int:
    from edge.modelfile import ModelFileError
    from train.data import DatasetError, resolve_root

    parser = argparse.ArgumentParser(prog="convert.golden", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, type=Path, help="dataset root with validation/<emotion>/")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="default: the shipped model")
    parser.add_argument("-o", "--out", type=Path, default=GOLDEN_FILE,
                        help="where to write (default: tests/golden/emotion_golden.json, the file the test reads)")
    args = parser.parse_args(argv)
    try:
        golden = generate(resolve_root(args.data), args.model, args.out)
    except (DatasetError, ModelFileError, ValueError, OSError) as err:
        print(f"convert.golden: error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {args.out} ({len(golden['images'])} images)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
