"""Fit the detector-box → classifier-crop transform (CropSpec scale, dx, dy) from data.

The classifier learned FER2013's framing. We recreate that framing with a known answer: a real
validation face (48×48) is upscaled 3–6× and placed on a real photo without faces (skimage.data),
so the square it occupies *is* the FER crop. The detector's box on that scene, compared with the
square, gives one sample of (side / max(w, h), centre offset / box size); the medians over 1,500
faces are the calibration (medians: a few bad boxes must not drag the fit). When the detector also
finds keypoints, the centre is fitted from them instead (a linear map, `CropSpec.keypoint_centre`):
eyes, nose and mouth say where the face is better than the box edges do.

Also here: `evaluate_pipeline` (classify-only vs full-pipeline accuracy and face-found rate on the
same composed scenes) and `build_demo` (the bundled no-camera demo video, assets/demo/).
Needs scikit-image (dev extra) for the background photos; never imported by `edge`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from edge.crop import resolve_crop
from edge.detect import DETECTORS, DetectorError, make_detector
from edge.labels import EMOTIONS
from edge.modelfile import CropSpec, ModelFileError

log = logging.getLogger(__name__)

HELP = "fit the detector box → model crop transform on composed FER faces (writes crop_calibration.json)"
REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "assets" / "models" / "crop_calibration.json"
# skimage.data photos with no face in them (astronaut, camera and chelsea have one)
BACKGROUNDS = ("coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "brick", "grass", "gravel", "moon")
FRAME = (640, 480)


def default_data() -> Path:
    return Path(os.environ.get("EMOTIONS_DATA") or REPO.parent / "shared" / "datasets" / "face-expression")


def backgrounds() -> list[np.ndarray]:
    """The background photos as RGB uint8."""
    import skimage.data

    out = []
    for name in BACKGROUNDS:
        img = getattr(skimage.data, name)()
        out.append(cv2.cvtColor(img, cv2.COLOR_GRAY2RGB) if img.ndim == 2 else img[:, :, :3])
    return out


def validation_files(root: Path) -> list[tuple[Path, int]]:
    """(path, label) of every validation image, listed as training lists them (train.data.list_split: every
    class folder present, any image suffix in any case); DatasetError, one line, for a broken layout."""
    from train.data import list_split

    return list_split(root, "validation")


def validation_faces(root: Path, count: int, seed: int = 0) -> list[tuple[Path, int]]:
    """`count` validation images drawn at random (fixed seed) from all classes: (path, label)."""
    items = validation_files(root)
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(items), size=min(count, len(items)), replace=False)
    return [items[i] for i in picked]


@dataclass(frozen=True)
class Scene:
    rgb: np.ndarray
    gray: np.ndarray
    crop: tuple[float, float, float]  # true FER crop: centre x, centre y, side


def compose(face: np.ndarray, background: np.ndarray, rng: np.random.Generator, side: int | None = None,
            centre: tuple[float, float] | None = None, size: tuple[int, int] = FRAME) -> Scene:
    """Place a 48×48 face, upscaled to `side` px, on a random view of `background`.

    The face square itself is pasted unchanged (it is the ground truth the classifier is scored
    on); a thin band around it continues its edge pixels and fades into the background, so the
    detector does not key on a hard square edge.
    """
    w, h = size
    bh, bw = background.shape[:2]
    zoom = max(w / bw, h / bh) * rng.uniform(1.0, 1.4)
    bg = cv2.resize(background, (int(np.ceil(bw * zoom)), int(np.ceil(bh * zoom))), interpolation=cv2.INTER_AREA)
    oy, ox = rng.integers(0, bg.shape[0] - h + 1), rng.integers(0, bg.shape[1] - w + 1)
    frame = bg[oy : oy + h, ox : ox + w].astype(np.float32)
    side = int(side or rng.integers(144, 289))
    if centre is None:
        centre = (w / 2 + rng.uniform(-0.25, 0.25) * (w - side), h / 2 + rng.uniform(-0.25, 0.25) * (h - side))
    x0, y0 = int(round(centre[0] - side / 2)), int(round(centre[1] - side / 2))
    band = max(2, round(side * 0.06))
    big = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
    big = cv2.copyMakeBorder(big, band, band, band, band, cv2.BORDER_REPLICATE).astype(np.float32)
    full = side + 2 * band
    ramp = np.clip(np.minimum(np.arange(full), np.arange(full)[::-1]) / band, 0, 1)
    alpha = np.minimum.outer(ramp, ramp)[..., None]
    x0, y0 = x0 - band, y0 - band
    x1, y1 = min(w, max(0, x0 + full)), min(h, max(0, y0 + full))
    xs, ys = slice(min(x1, max(0, x0)), x1), slice(min(y1, max(0, y0)), y1)
    fx, fy = slice(xs.start - x0, xs.stop - x0), slice(ys.start - y0, ys.stop - y0)
    region = frame[ys, xs]
    frame[ys, xs] = region * (1 - alpha[fy, fx]) + big[fy, fx, None] * alpha[fy, fx]
    rgb = np.clip(frame + 0.5, 0, 255).astype(np.uint8)
    return Scene(rgb, cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (x0 + full / 2, y0 + full / 2, float(side)))


def scenes(root: Path, count: int, seed: int = 0):
    """(scene, label, original 48×48 face) for `count` validation faces; unreadable images are left out and
    counted in one warning at the end."""
    rng = np.random.default_rng(seed + 1)
    bgs = backgrounds()
    picked = validation_faces(root, count, seed)
    unreadable = []
    for path, label in picked:
        face = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if face is None:
            unreadable.append(path)
            continue
        face = cv2.resize(face, (48, 48)) if face.shape != (48, 48) else face
        yield compose(face, bgs[int(rng.integers(len(bgs)))], rng), label, face
    if unreadable:
        log.warning("skipped %d unreadable image(s) of %d picked from %s (first: %s)", len(unreadable), len(picked),
                    root / "validation", unreadable[0])


def _hit(box, crop) -> bool:
    """The detection's centre lies inside the true face square."""
    x, y, w, h = box
    cx, cy, side = crop
    return abs(x + w / 2 - cx) < side / 2 and abs(y + h / 2 - cy) < side / 2


def fit_keypoint_centre(features: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Least-squares map (features → centre offsets), refitted once without the samples whose
    residual exceeds 3× the median (a box on the wrong part of the face must not tilt the fit)."""
    coef = np.linalg.lstsq(features, offsets, rcond=None)[0]
    residual = np.linalg.norm(offsets - features @ coef, axis=1)
    inliers = residual <= 3 * np.median(residual)
    return np.linalg.lstsq(features[inliers], offsets[inliers], rcond=None)[0]


def _median_abs_dev(values: np.ndarray) -> list[float]:
    return [round(float(v), 4) for v in np.median(np.abs(values - np.median(values, axis=0)), axis=0)]


def fit(detector_name: str, root: Path, count: int = 1500, seed: int = 0) -> dict:
    """Calibrate one detector; returns the CropSpec fields plus fit statistics."""
    detector = make_detector(detector_name)
    samples, kp_features, kp_offsets, seen = [], [], [], 0
    for scene, _, _ in scenes(root, count, seed):
        seen += 1
        found = detector.detect(scene.gray)
        if not found or not _hit(found[0].box, scene.crop):
            continue
        (x, y, w, h), keypoints = found[0].box, found[0].keypoints
        cx, cy, side = scene.crop
        samples.append((side / max(w, h), (cx - (x + w / 2)) / w, (cy - (y + h / 2)) / h))
        features = CropSpec.keypoint_features(found[0].box, keypoints)
        if features:  # offsets in units of the box side, as CropSpec.apply
            kp_features.append(features)
            kp_offsets.append(((cx - (x + w / 2)) / max(w, h), (cy - (y + h / 2)) / max(w, h)))
    if not samples:
        raise RuntimeError(f"{detector.name} found no face in {seen} composed scenes")
    arr = np.array(samples)
    scale, dx, dy = np.median(arr, axis=0)
    spread = np.percentile(arr, 75, axis=0) - np.percentile(arr, 25, axis=0)
    out = {
        "scale": round(float(scale), 4),
        "dx": round(float(dx), 4),
        "dy": round(float(dy), 4),
        "detector": detector.name,
        "fit": {
            "faces": seen,
            "found": len(samples),
            "found_rate": round(len(samples) / seen, 4),
            "iqr_scale_dx_dy": [round(float(v), 4) for v in spread],
            "seed": seed,
        },
    }
    if len(kp_features) >= 50:
        features, offsets = np.array(kp_features), np.array(kp_offsets)
        coef = fit_keypoint_centre(features, offsets)
        box_only = offsets - np.median(offsets, axis=0)
        out["keypoint_centre"] = [[round(float(a), 5), round(float(b), 5)] for a, b in coef]
        # how far the true centre lies from the predicted one, in box sides (x, y)
        out["fit"]["centre_mad_box"] = _median_abs_dev(box_only)
        out["fit"]["centre_mad_keypoints"] = _median_abs_dev(offsets - features @ coef)
    return out


def evaluate_pipeline(classifier, root: Path | None = None, count: int = 500, detector: str = "auto",
                      crop: CropSpec | None = None, seed: int = 1) -> dict:
    """Classify-only accuracy (the original 48×48 faces) vs full-pipeline accuracy (detect → crop →
    classify on the composed scenes; a missed face counts as wrong) and the face-found rate. Also the
    accuracy on the true face square cut from each scene: equal to classify-only when composing
    itself costs nothing, so the gap is the pipeline's own."""
    from edge.crop import crop_square
    from edge.pipeline import process

    root = root or default_data()
    det = make_detector(detector)
    crop = crop or resolve_crop(classifier.spec.crop, det.name)
    n = found = right_classify = right_true_crop = right_pipeline = 0
    for scene, label, face in scenes(root, count, seed):
        n += 1
        right_classify += int(np.argmax(classifier.predict(face)[0]) == label)
        true_crop = crop_square(scene.gray, *scene.crop, classifier.input_size)
        right_true_crop += int(np.argmax(classifier.predict(true_crop)[0]) == label)
        faces, _ = process(scene.gray, det, classifier, crop, max_faces=1)
        if faces and _hit(faces[0].box, scene.crop):
            found += 1
            right_pipeline += int(np.argmax(faces[0].scores) == label)
    return {
        "images": n,
        "detector": det.name,
        "crop": asdict(crop),
        "face_found_rate": round(found / max(1, n), 4),
        "classify_only_accuracy": round(right_classify / max(1, n), 4),
        "true_crop_accuracy": round(right_true_crop / max(1, n), 4),
        "pipeline_accuracy": round(right_pipeline / max(1, n), 4),
        "pipeline_accuracy_on_found": round(right_pipeline / max(1, found), 4),
        "gap_points": round(100 * (right_classify - right_pipeline) / max(1, n), 2),
    }


def build_demo(root: Path, out_dir: Path, seconds_per_face: float = 2.0, fps: int = 10) -> Path:
    """The bundled no-camera source: a handful of real FER faces, one per emotion, on a photo,
    drifting slightly like a visitor, with a short no-face gap. Writes out_dir/demo.mp4 (< 1 MB)."""
    rng = np.random.default_rng(7)
    background = backgrounds()[0]  # coffee
    order = ("happy", "surprise", "neutral", "sad", "angry", "fear")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "demo.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, FRAME)
    if not writer.isOpened():
        raise RuntimeError("OpenCV cannot write mp4v video here")
    used = []
    empty = compose(np.zeros((48, 48), np.uint8), background, np.random.default_rng(0), side=1, centre=(-10, -10))
    detector = make_detector("auto")
    listed = validation_files(root)
    for k, emotion in enumerate(order):
        start = np.array([FRAME[0] / 2 + rng.uniform(-60, 60), FRAME[1] / 2 + rng.uniform(-30, 30)])
        step = rng.uniform(-2, 2, size=2)
        # The first validation face (sorted order) that the default detector finds in every frame
        # of its shot: the demo should show the pipeline working, not the detector's misses.
        label = EMOTIONS.index(emotion)
        for face_path in [p for p, k in listed if k == label][:20]:
            face = cv2.imread(str(face_path), cv2.IMREAD_GRAYSCALE)
            if face is None:
                continue
            shot = [
                compose(face, background, np.random.default_rng(100 + k), side=int(200 + 12 * np.sin(i / 4)),
                        centre=tuple(start + i * step))
                for i in range(int(seconds_per_face * fps))
            ]
            if all(detector.detect(scene.gray) for scene in shot):
                break
        used.append(f"validation/{emotion}/{face_path.name}")
        for scene in shot:
            writer.write(cv2.cvtColor(scene.rgb, cv2.COLOR_RGB2BGR))
        if k == 2:  # a visitor steps away: one second of no face
            for _ in range(fps):
                writer.write(cv2.cvtColor(empty.rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    (out_dir / "PROVENANCE.md").write_text(
        "# demo.mp4\n\nBuilt by `convert/calibrate_crop.py: build_demo()` (`--demo-out assets/demo`).\n\n"
        "- Faces: six 48×48 images from the FER2013 validation split (research data, Goodfellow et al. 2013, "
        "ICML 2013 Challenges in Representation Learning), upscaled; kept to a handful of frames for the "
        "no-camera demo only (for each emotion the first file, in sorted order, that the default detector "
        "finds in every frame of its shot):\n"
        + "".join(f"  - `{u}`\n" for u in used)
        + "- Background: `skimage.data.coffee()` (scikit-image sample data, courtesy of Pikolo Espresso Bar, "
        "photo by Rachel Michetti, CC0 per scikit-image's data README).\n"
        f"- {len(order)} faces × {seconds_per_face:g} s at {fps} fps, 640×480, mp4v, with a 1 s no-face gap.\n",
        encoding="utf-8",
    )
    return path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=None,
                        help="dataset root with validation/<emotion>/*.jpg (default $EMOTIONS_DATA or "
                        "../shared/datasets/face-expression)")
    parser.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT, help=f"output JSON (default {DEFAULT_OUT})")
    parser.add_argument("--detector", default="auto", choices=["auto", "all", *DETECTORS],
                        help="detector to calibrate; 'all' fits every one (the first listed is the default)")
    parser.add_argument("--count", type=int, default=1500,
                        help="composed faces to fit or evaluate on (default 1500; 7178 = all of validation)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--evaluate", type=Path, metavar="MODEL",
                        help="instead: report classify-only vs pipeline accuracy of MODEL on composed scenes")
    parser.add_argument("--demo-out", type=Path, metavar="DIR", help="instead: build the bundled demo video in DIR")


def main(args: argparse.Namespace) -> int:
    """Raises DatasetError / ModelFileError (bad input: emotions-convert prints them as one line, exit 2)."""
    root = args.data or default_data()
    validation_files(root)  # the layout the fit relies on (all seven classes), checked before anything slow
    try:
        if args.demo_out:
            print(build_demo(root, args.demo_out))
            return 0
        if args.evaluate:
            from edge.classify import Classifier, ClassifierOptions

            classifier = Classifier(ClassifierOptions(model=args.evaluate))
            det = "auto" if args.detector == "all" else args.detector
            print(json.dumps(evaluate_pipeline(classifier, root, args.count, det)))
            return 0
        names = list(DETECTORS) if args.detector == "all" else [make_detector(args.detector).name]
        fits = {name: fit(name, root, args.count, args.seed) for name in names}
    except (DetectorError, RuntimeError, FileNotFoundError) as err:
        print(f"calibrate-crop: error: {err}", file=sys.stderr)
        return 1
    main_fit = fits[names[0]]
    out = {**{k: v for k, v in main_fit.items() if k in CropSpec.__dataclass_fields__}, "fit": main_fit["fit"],
           "per_detector": fits}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    for name, f in fits.items():
        print(f"{name}: scale={f['scale']} dx={f['dx']} dy={f['dy']} found {f['fit']['found']}/{f['fit']['faces']}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    from train.data import DatasetError

    _parser = argparse.ArgumentParser(prog="calibrate-crop", description=HELP)
    add_arguments(_parser)
    try:
        sys.exit(main(_parser.parse_args()))
    except (DatasetError, ModelFileError) as _err:
        print(f"calibrate-crop: error: {_err}", file=sys.stderr)
        sys.exit(2)
