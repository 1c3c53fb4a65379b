"""`emotions watch`: the vision pipeline without the UI, printing decisions and FPS."""

from __future__ import annotations

import argparse
import json
import time

from edge.argtypes import number
from edge.camera import CameraError
from edge.commands._common import (
    USER_ERRORS,
    add_model_arguments,
    add_stream_arguments,
    fail,
    load_classifier,
    pipeline_options,
)
from edge.types import CameraState

HELP = "run the camera pipeline headless and print decisions and FPS"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", default="auto", help="auto | picamera2 | demo | 0 | /dev/videoN | video | folder")
    parser.add_argument("--json", action="store_true", help="one JSON object per report")
    parser.add_argument("--every", type=number(0.1), default=1.5,
                        help="seconds between reports = decision window (≥ 0.1, default 1.5)")
    parser.add_argument("--seconds", type=number(0.0), default=0,
                        help="stop after this long (0 = until the source ends)")
    parser.add_argument("--loop", action="store_true", help="repeat a video or image folder")
    add_model_arguments(parser)
    add_stream_arguments(parser)


def main(args: argparse.Namespace) -> int:
    from edge.camera import parse_source
    from edge.pipeline import Pipeline

    try:
        classifier = load_classifier(args)
        source = parse_source(args.source, loop=args.loop, pace=True)
        pipeline = Pipeline(source, classifier, detector=args.detector, options=pipeline_options(args))
    except (*USER_ERRORS, ValueError) as err:
        return fail("watch", err)
    start = time.monotonic()
    last_captured = last_processed = 0
    last_t = start
    with pipeline:
        # Like bench: a source that never delivers a first frame is an error now, not a report loop forever.
        state = pipeline.wait_started()
        if pipeline.frames_captured == 0 and state in (CameraState.LOST, CameraState.STARTING):
            return fail("watch", CameraError(pipeline.last_error or f"source {args.source} gave no frame in time"))
        while True:
            time.sleep(args.every)
            now = time.monotonic()
            decision = pipeline.decide(args.every)
            _, result = pipeline.latest()
            dt = max(1e-6, now - last_t)
            fps = (pipeline.frames_captured - last_captured) / dt
            ifps = (pipeline.frames_processed - last_processed) / dt
            last_captured, last_processed, last_t = pipeline.frames_captured, pipeline.frames_processed, now
            report = {
                "t": round(now - start, 2),
                "state": pipeline.state.value,
                "fps": round(fps, 1),
                "inference_fps": round(ifps, 1),
                "faces": result.face_count if result else 0,
                "emotion": decision.emotion,
                "confidence": round(decision.confidence, 3),
                "reason": decision.reason,
            }
            if pipeline.state == CameraState.LOST:
                report["error"] = pipeline.last_error
            if args.json:
                print(json.dumps(report), flush=True)
            else:
                answer = f"not sure ({decision.reason})"
                if decision.sure:
                    answer = f"{decision.emotion} {decision.confidence:.2f}"
                extra = f"  [{pipeline.last_error}]" if pipeline.state == CameraState.LOST else ""
                print(
                    f"{report['t']:7.1f}s  {report['state']:8} {fps:5.1f} fps  inference {ifps:5.1f}/s  "
                    f"faces {report['faces']}  {answer}{extra}",
                    flush=True,
                )
            if pipeline.finished or (args.seconds and now - start >= args.seconds):
                break
    return 0
