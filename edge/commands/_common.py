"""Argument and loading helpers shared by classify / watch / bench: every failure is one line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edge.argtypes import add_zoom_views, integer
from edge.camera import CameraError, SourceError
from edge.detect import DETECTORS, DetectorError
from edge.modelfile import ModelFileError
from edge.runtime import RuntimeUnavailable

# Failures that deserve a one-line message instead of a traceback.
USER_ERRORS = (ModelFileError, RuntimeUnavailable, DetectorError, SourceError, CameraError, OSError)


def add_model_arguments(parser: argparse.ArgumentParser, detector: bool = True) -> None:
    parser.add_argument("--model", type=Path, default=None, help="emotion .tflite (default: the shipped model)")
    parser.add_argument("--threads", type=integer(1, 8), default=1, help="TFLite threads, 1..8 (default 1)")
    parser.add_argument("--flip", action=argparse.BooleanOptionalAction, default=None,
                        help="add the mirrored crop to the test-time views (default: as the model file recommends)")
    add_zoom_views(parser, "add the crop zoomed by these comma-separated factors (e.g. 1.1,1.25; and mirrored, "
                   "with --flip) to the test-time views; 'none' or no value = no zoomed views (default: as the "
                   "model file recommends)")
    if detector:
        parser.add_argument("--detector", default="auto", choices=["auto", *DETECTORS], help="face detector")


def add_stream_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the video pipeline (watch, bench): what neighbouring frames may share."""
    parser.add_argument("--detect-every", type=integer(1), default=2, metavar="N",
                        help="while a face is tracked, run the detector on every N-th frame (default 2; 1 = all)")
    parser.add_argument("--views", choices=["cycle", "average", "plain"], default="cycle",
                        help="test-time views on a stream: one per frame in turn, averaged by the smoothing (cycle, "
                        "default), all of them every frame (average), or the plain crop only (plain)")


def pipeline_options(args: argparse.Namespace):
    from edge.pipeline import PipelineOptions

    if args.detect_every < 1:
        raise ValueError(f"--detect-every must be ≥ 1, got {args.detect_every}")
    return PipelineOptions(detect_every=args.detect_every, views=args.views)


def load_classifier(args: argparse.Namespace):
    from edge.classify import DEFAULT_MODEL, Classifier, ClassifierOptions

    options = ClassifierOptions(model=args.model or DEFAULT_MODEL, threads=args.threads, flip_average=args.flip,
                                zoom_views=None if args.zoom_views is None else tuple(args.zoom_views))
    try:
        return Classifier(options)
    except ValueError as err:  # the views' own check, said as the option the user typed
        raise ValueError(f"--zoom-views: {err}") from None


def fail(command: str, err: BaseException, code: int = 2) -> int:
    message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    print(f"emotions {command}: error: {message}", file=sys.stderr)
    return code
