"""`emotions soak`: run the full exhibit headless on a looping video and watch it for leaks and slow-downs.

Prints RSS, FPS and error counts every minute (or every --report-every seconds) and one summary line.
Pass criteria (the issue's goal for 60 minutes): at least one camera/video frame processed, 0 errors, RSS growth
< 5 % after warm-up, and the FPS of the last interval within 20 % of the first. A soak stopped before its time
(SIGTERM, Ctrl-C) is reported as incomplete, not judged on memory or speed. Exit code 0 = pass, 1 = fail,
2 = could not start, 3 = stopped early (incomplete).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from edge.argtypes import number
from edge.memory import rss_bytes

HELP = "run the exhibit headless on a looping video; report RSS, FPS and errors every minute"

MAX_RSS_GROWTH = 0.05
MIN_FPS_RATIO = 0.8  # last interval vs. first interval
EXIT_INCOMPLETE = 3


class ErrorCounter(logging.Handler):
    """Counts ERROR and CRITICAL records from anywhere in the program (scene crashes are logged and recovered)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.count = 0
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        self.last = f"{record.name}: {record.getMessage()}"[:200]


class SoakMonitor:
    """Fed one `tick()` per frame of the main loop; prints a line per interval and judges at the end."""

    def __init__(self, seconds: float, report_every: float, out: TextIO, clock: Callable[[], float] = time.monotonic,
                 rss: Callable[[], int] = rss_bytes):
        self.seconds, self.report_every, self.out = seconds, report_every, out
        self.clock, self.rss = clock, rss
        self.errors = ErrorCounter()
        self.start = clock()
        # Model load, fonts, text caches and allocator pools fill while the scripted visitor wanders
        # through the scenes (a first 60-min run levelled off at ~12 min); they plateau, a leak does not.
        # Growth is judged from the end of this warm-up: the first quarter of the run, at most 15 min.
        self.warmup = min(900.0, seconds * 0.25)
        self.baseline_rss: int | None = None
        self.first_rss = rss()
        self.frames = 0
        self.decisions = 0
        self.presses: Callable[[], int] = lambda: 0  # button presses by a ScriptedVisitor, if any
        self._interval_start, self._interval_frames = self.start, 0
        self.fps_history: list[float] = []
        self.rss_history: list[int] = []

    def tick(self) -> None:
        self.frames += 1
        self._interval_frames += 1
        now = self.clock()
        if self.baseline_rss is None and now - self.start >= self.warmup:
            self.baseline_rss = self.rss()
        if now - self._interval_start >= self.report_every:
            self._report(now)

    def decision(self, _decision: object) -> None:
        self.decisions += 1

    def _report(self, now: float) -> None:
        fps = self._interval_frames / max(now - self._interval_start, 1e-6)
        rss = self.rss()
        self.fps_history.append(fps)
        self.rss_history.append(rss)
        self._interval_start, self._interval_frames = now, 0
        print(f"soak {(now - self.start) / 60:6.1f} min: RSS {rss / 2**20:7.1f} MB, FPS {fps:5.1f}, "
              f"errors {self.errors.count}, presses {self.presses()}, decisions {self.decisions}",
              file=self.out, flush=True)

    def finish(self, exit_code: int, processed: int | None = None, source_error: str = "",
               stopped_by: str = "") -> tuple[int, str]:
        """(exit code, summary line). `processed` = camera/video frames the pipeline classified (None = unknown);
        `stopped_by` names a signal that ended the run (also inferred from a run shorter than planned)."""
        now = self.clock()
        if self._interval_frames and now - self._interval_start >= self.report_every / 2:
            self._report(now)  # a last partial interval, unless too short to mean anything
        final = self.rss()
        base = self.baseline_rss or self.first_rss
        growth = (final - base) / base
        early = bool(stopped_by) or now - self.start < self.seconds
        problems = []
        if exit_code != 0:
            problems.append(f"app exited with {exit_code}")
        if self.errors.count:
            problems.append(f"{self.errors.count} errors (last: {self.errors.last})")
        if processed == 0:  # the UI loop alone proves nothing: the pipeline must have classified frames
            problems.append("no camera/video frame was processed" + (f" ({source_error})" if source_error else ""))
        if not early and growth >= MAX_RSS_GROWTH:
            problems.append(f"RSS grew {growth:+.1%} (limit {MAX_RSS_GROWTH:.0%})")
        if self.frames == 0:
            problems.append("no frame ran")
        fps = self.fps_history
        if not early and len(fps) >= 2 and fps[0] > 0 and fps[-1] < MIN_FPS_RATIO * fps[0]:
            problems.append(f"FPS fell from {fps[0]:.1f} to {fps[-1]:.1f}")
        mean_fps = self.frames / max(now - self.start, 1e-6)
        fps_range = f" (min {min(fps):.1f}, max {max(fps):.1f})" if fps else ""
        minutes = (now - self.start) / 60
        if problems:
            verdict, code = "FAIL: " + "; ".join(problems), 1
        elif early:
            by = f" by {stopped_by}" if stopped_by else ""
            verdict = (f"INCOMPLETE: stopped{by} after {minutes:.1f} of {self.seconds / 60:.1f} min; "
                       "memory and speed not judged")
            code = EXIT_INCOMPLETE
        else:
            verdict, code = "PASS", 0
        processed_text = "" if processed is None else f", {processed} camera frames processed"
        if self.baseline_rss is None:
            rss_text = (f"RSS {self.first_rss / 2**20:.1f} at start → {final / 2**20:.1f} MB "
                        f"(the {self.warmup:.0f} s warm-up did not end)")
        else:
            rss_text = (f"RSS {self.first_rss / 2**20:.1f} at start, {base / 2**20:.1f} after {self.warmup:.0f} s "
                        f"warm-up → {final / 2**20:.1f} MB ({growth:+.1%})")
        line = (f"soak summary: {minutes:.1f} min, {self.frames} frames, FPS {mean_fps:.1f}{fps_range}, "
                f"{rss_text}, errors {self.errors.count}, "
                f"presses {self.presses()}, decisions {self.decisions}{processed_text} — {verdict}")
        return code, line


class ScriptedVisitor:
    """Presses a visible button every `every` seconds: "recognize" on Attract, otherwise a random one (seeded).

    Without it a soak only exercises the Attract screen; with it, an hour covers hundreds of decisions,
    results, activities and their music, as a day of visitors would.
    """

    def __init__(self, app, every: float, seed: int = 0, clock: Callable[[], float] = time.monotonic):
        self.app, self.every, self.clock = app, every, clock
        self.rng = random.Random(seed)
        self.last = clock()
        self.presses = 0

    def tick(self) -> None:
        now = self.clock()
        if now - self.last < self.every:
            return
        self.last = now
        actions = [button.action for button in self.app.scene.buttons]
        if not actions:
            return
        action = "recognize" if "recognize" in actions else self.rng.choice(actions)
        if self.app.tap_button(action):
            self.presses += 1


def _make_vision(config):
    """The exhibit's own pipeline on a looping source played at its frame rate, as visitors would see it."""
    from edge.ui.app import make_vision

    return make_vision(config, loop=True, pace=True)


def _make_app(config, vision, monitor: SoakMonitor, visitor_every: float = 0.0):
    from edge.ui.app import ExhibitApp

    visitor: ScriptedVisitor | None = None

    def beat() -> None:
        monitor.tick()
        if visitor is not None:
            visitor.tick()

    app = ExhibitApp(config, vision, headless=True, heartbeat=beat, on_decision=monitor.decision)
    if visitor_every > 0:
        visitor = ScriptedVisitor(app, visitor_every)
        monitor.presses = lambda: visitor.presses
    return app


def run_soak(config, seconds: float, report_every: float = 60.0, out: TextIO = sys.stdout,
             make_vision: Callable = _make_vision, make_app: Callable = _make_app, visitor_every: float = 0.0) -> int:
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # headless: no screen, no sound card needed
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    monitor = SoakMonitor(seconds, report_every, out)
    root = logging.getLogger()
    root.addHandler(monitor.errors)
    vision = None
    stopped_by = ""
    try:
        vision = make_vision(config)
        app = make_app(config, vision, monitor, visitor_every)
        visitor = f", a visitor presses a button every {visitor_every:g} s" if visitor_every > 0 else ""
        print(f"soak: {seconds / 60:.1f} min on {config.source}, report every {report_every:.0f} s{visitor}",
              file=out, flush=True)
        try:
            code = int(app.run(max_seconds=seconds) or 0)
            # Set by the app's SIGTERM handler only: a staff quit key also ends the run early, but not by signal.
            stopped_by = getattr(app, "stopped_by_signal", "")
            if not stopped_by and getattr(app, "exit_code", None) is not None:
                stopped_by = "a quit key"
        except KeyboardInterrupt:  # Ctrl-C: still say what was measured
            code, stopped_by = 0, "SIGINT"
    finally:
        root.removeHandler(monitor.errors)
        if vision is not None and hasattr(vision, "stop"):
            try:
                vision.stop()
            except Exception:  # noqa: BLE001 - stopping twice or after a failure must not hide the summary
                logging.getLogger(__name__).debug("vision.stop() failed", exc_info=True)
    processed = getattr(vision, "frames_processed", None)  # a real pipeline counts what it classified
    code, line = monitor.finish(code, processed, getattr(vision, "last_error", "") or "", stopped_by)
    print(line, file=out, flush=True)
    return code


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", required=True, help="a video file (looped) or image folder to play")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=number(0.0, lo_open=True), default=60.0, help="how long to run (default 60)")
    length.add_argument("--seconds", type=number(0.0, lo_open=True),
                        help="how long to run, in seconds (for quick checks)")
    parser.add_argument("--config", type=Path, help="exhibit config (default: built-in defaults)")
    parser.add_argument("--model", help="model file instead of the config's")
    parser.add_argument("--report-every", type=number(0.0, lo_open=True), default=60.0,
                        help="seconds between report lines (default 60)")
    parser.add_argument("--visitor-every", type=number(0.0), default=5.0, metavar="SECONDS",
                        help="a scripted visitor presses a button this often (default 5; 0 = nobody, Attract only)")


def main(args: argparse.Namespace) -> int:
    from edge.config import ConfigError, load_config

    seconds = args.seconds if args.seconds is not None else args.minutes * 60
    if seconds <= 0:
        print("emotions soak: error: --minutes/--seconds must be positive", file=sys.stderr)
        return 2
    if args.source != "demo" and not Path(args.source).exists():  # "demo" = the bundled video
        print(f"emotions soak: error: --source {args.source}: no such file or folder", file=sys.stderr)
        return 2
    try:
        config = load_config(args.config)
    except ConfigError as err:
        print(f"emotions soak: error: {err}", file=sys.stderr)
        return 2
    changes = {"source": args.source, "fullscreen": False}
    if args.model:
        changes["model"] = args.model
    config = dataclasses.replace(config, **changes)
    try:
        return run_soak(config, seconds, args.report_every, visitor_every=args.visitor_every)
    except ImportError as err:
        print(f"emotions soak: error: the exhibit is not complete on this installation ({err})", file=sys.stderr)
        return 2
    except Exception as err:  # noqa: BLE001 - a start-up failure (model, camera) is one line, details in the log
        logging.getLogger(__name__).debug("soak failed to start", exc_info=True)
        print(f"emotions soak: error: could not start: {type(err).__name__}: {err}", file=sys.stderr)
        return 2
