"""UI frame-time benchmark: the exhibit's loop iteration (input, update, draw) while the vision source
runs, at a given resolution. `emotions bench --ui` calls bench_ui()."""

from __future__ import annotations

import dataclasses
import logging
import os
import time

import numpy as np

from edge.config import ExhibitConfig

log = logging.getLogger(__name__)

SCENES: tuple[tuple[str, dict], ...] = (("attract", {}), ("dance", {}), ("breathing", {}), ("rorschach", {}))


def bench_ui(source: str | None = None, seconds: float = 5.0, size: tuple[int, int] = (1280, 720),
             scenes: tuple[tuple[str, dict], ...] = SCENES, config: ExhibitConfig | None = None,
             vision=None) -> dict[str, dict[str, float]]:
    """Median and p95 of one loop iteration per scene, in ms; prints one line per scene.

    With `source` (e.g. a video file) the real pipeline runs alongside, as in the exhibit; without
    it a still photo stands in for the camera (the draw cost is the same, inference cost is absent).
    """
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    from edge.ui.app import ExhibitApp

    config = dataclasses.replace(config or ExhibitConfig(), fullscreen=False, music_volume=0.0,
                                 idle_timeout_s=1e9)
    if vision is None and source is not None:
        from edge.ui.app import make_vision  # lazy: only when benchmarking with the real pipeline

        config = dataclasses.replace(config, source=source)
        vision = make_vision(config, loop=True)  # a video loops so the pipeline keeps working for the whole run
    if vision is None:
        from edge.ui.stills import StillVision

        vision = StillVision()
    app = ExhibitApp(config, vision, screen_size=size, headless=True)
    vision.start()
    out: dict[str, dict[str, float]] = {}
    try:
        for name, kwargs in scenes:
            app.go(name, **kwargs)
            if name in ("dance", "breathing"):
                app.scene.on_button("start")  # measure the live part, not the intro card
            times: list[float] = []
            end = time.monotonic() + seconds
            last = time.monotonic()
            while time.monotonic() < end or len(times) < 2:  # a very short run still measures a frame
                t0 = time.monotonic()
                app.step(t0 - last)
                last = t0
                times.append((time.monotonic() - t0) * 1000)
                if app.state_name != name:  # e.g. a timed stage ended: restart the scene
                    app.go(name, **kwargs)
            arr = np.array(times[max(1, len(times) // 20):])  # drop warm-up (caches, first blits)
            out[name] = {"median_ms": float(np.median(arr)), "p95_ms": float(np.percentile(arr, 95)),
                         "frames": float(len(times))}
            print(f"ui {size[0]}x{size[1]} {name:10s} frame time median {out[name]['median_ms']:.1f} ms, "
                  f"p95 {out[name]['p95_ms']:.1f} ms ({len(times)} frames, "
                  f"{1000 / max(out[name]['median_ms'], 1e-6):.0f} FPS possible)")
    finally:
        vision.stop()
    return out
