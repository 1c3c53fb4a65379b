"""`emotions classify`: the emotion of every face in image files or folders."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from edge.camera import IMAGE_EXTENSIONS
from edge.commands._common import USER_ERRORS, add_model_arguments, fail, load_classifier

HELP = "classify the faces in image files or folders (recursively)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="image files or folders")
    parser.add_argument("--json", action="store_true", help="one JSON object per image")
    parser.add_argument("--whole-image", action="store_true", help="each image is one face crop: no detection")
    add_model_arguments(parser)


def expand(paths: list[Path]) -> list[Path]:
    """Files as given (any extension: a bad one is reported, not skipped); folders → their images."""
    out = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS))
        else:
            out.append(path)
    return out


def read_gray(path: Path) -> np.ndarray:
    if not path.exists():
        raise OSError(f"no such file: {path}")
    data = np.fromfile(str(path), dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if data.size else None
    if img is None:
        raise ValueError("cannot decode image (not an image, or corrupt)")
    return img


def classify_image(gray: np.ndarray, classifier, detector, crop, whole_image: bool) -> list[dict]:
    labels = classifier.labels
    if whole_image:
        h, w = gray.shape
        s = classifier.input_size
        crop_img = cv2.resize(gray, (s, s), interpolation=cv2.INTER_AREA if min(h, w) > s else cv2.INTER_LINEAR)
        boxes, probs = [(0, 0, w, h)], classifier.predict(crop_img)
    else:
        from edge.pipeline import process

        faces, _ = process(gray, detector, classifier, crop, max_faces=50)
        faces = sorted(faces, key=lambda f: f.box[2] * f.box[3], reverse=True)  # largest first
        boxes, probs = [f.box for f in faces], [f.scores for f in faces]
    out = []
    for box, p in zip(boxes, probs):
        top = int(np.argmax(p))
        out.append(
            {
                "box": [int(v) for v in box],
                "emotion": labels[top],
                "confidence": round(float(p[top]), 4),
                "scores": {name: round(float(v), 4) for name, v in zip(labels, p)},
            }
        )
    return out


def main(args: argparse.Namespace) -> int:
    try:
        classifier = load_classifier(args)
        detector = None
        if not args.whole_image:
            from edge.detect import make_detector

            detector = make_detector(args.detector)
    except (*USER_ERRORS, ValueError) as err:  # ValueError: a bad --zoom-views
        return fail("classify", err)
    from edge.crop import resolve_crop

    crop = classifier.spec.crop if detector is None else resolve_crop(classifier.spec.crop, detector.name)
    failed = 0
    files = expand(args.paths)
    if not files:
        return fail("classify", ValueError("no images found in the given paths"), 1)
    if not args.json:
        print(f"{'path':50} {'faces':>5}  {'emotion':9} {'conf':>5}  box")
    for path in files:
        record: dict = {"path": str(path), "faces": [], "error": None}
        try:
            record["faces"] = classify_image(read_gray(path), classifier, detector, crop, args.whole_image)
        except (OSError, ValueError) as err:
            record["error"] = str(err).splitlines()[0]
            failed += 1
        if args.json:
            print(json.dumps(record), flush=True)
        elif record["error"]:
            print(f"{str(path):50} {'-':>5}  error: {record['error']}")
        elif record["faces"]:
            main_face = record["faces"][0]
            print(
                f"{str(path):50} {len(record['faces']):>5}  {main_face['emotion']:9} {main_face['confidence']:5.2f}"
                f"  {main_face['box']}"
            )
        else:
            print(f"{str(path):50} {0:>5}  (no face)")
    if failed and not args.json:
        print(f"{failed} of {len(files)} images could not be read", file=sys.stderr)
    return 1 if failed else 0
