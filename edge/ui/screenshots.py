"""`emotions run --screenshots DIR`: every scene and activity step, in both languages, at 800×480
and 1920×1080, written as PNG files. Needs no camera and no pipeline (a still photo is the preview)."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pygame

from edge.config import ExhibitConfig
from edge.types import Decision
from edge.ui.i18n import LANGUAGES
from edge.ui.stills import StillVision

log = logging.getLogger(__name__)

SIZES: tuple[tuple[int, int], ...] = ((800, 480), (1920, 1080))

# (scene, constructor arguments, file label): the whole visitor flow and every activity.
PLAN: tuple[tuple[str, dict, str], ...] = (
    ("attract", {}, "attract"),
    ("recognizing", {}, "recognizing"),
    ("result", {"decision": Decision("happy", 0.82, {}, "", 12)}, "result-sure"),
    ("result", {"decision": Decision("angry", 0.64, {}, "", 12)}, "result-angry"),
    ("result", {"decision": Decision(None, 0.31, {}, "low confidence", 12)}, "result-not-sure"),
    ("chooser", {}, "chooser"),
    ("dance", {"emotion": "happy"}, "joy-dance"),
    ("support", {"emotion": "sad"}, "sadness-support"),
    ("breathing", {"emotion": "angry"}, "anger-breathing"),
    ("mentor", {"emotion": "fear"}, "fear-mentor"),
    ("rorschach", {"emotion": "disgust", "seed": 7}, "disgust-rorschach"),
    ("calm", {"emotion": "neutral"}, "neutral-calm"),
    ("calm", {"emotion": "surprise"}, "surprise-calm"),
    ("closing", {"emotion": "happy"}, "closing"),
)


def iter_states(app) -> Iterator[str]:
    """Drive `app` through every scene step; yields a label after each state has been drawn."""
    for scene, kwargs, label in PLAN:
        app.go(scene, **kwargs)
        for step in app.scene.screenshot_steps():
            app.scene.update(0.0)  # let time-driven state settle exactly as in the loop
            app.render()
            yield f"{label}-{step}"


def render_all(out: Path, config: ExhibitConfig | None = None, sizes=SIZES, languages=LANGUAGES) -> int:
    from edge.ui.app import ExhibitApp

    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    out.mkdir(parents=True, exist_ok=True)
    config = dataclasses.replace(config or ExhibitConfig(), fullscreen=False, music_volume=0.0)
    count = 0
    for size in sizes:
        for lang in languages:
            vision = StillVision()
            vision.start()
            app = ExhibitApp(dataclasses.replace(config, language=lang), vision, screen_size=size, headless=True)
            for label in iter_states(app):
                pygame.image.save(app.screen, str(out / f"{size[0]}x{size[1]}-{lang}-{label}.png"))
                count += 1
    return count
