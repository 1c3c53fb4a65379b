"""`emotions run`: the full-screen exhibit. One main loop owns time; scenes are small classes.

ExhibitApp is also what the kiosk supervisor, the screenshot renderer, the benchmark and the
tests drive (`step(dt)` runs exactly one loop iteration).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pygame

from edge.config import ExhibitConfig
from edge.types import Decision, VisionSource
from edge.ui.i18n import CONTENT_DIR, LANGUAGES, Content, ContentError, check_content
from edge.ui.input import GpioButton, translate
from edge.ui.music import TRACK_FOR, MusicPlayer
from edge.ui.scenes.base import Scene, live_view
from edge.ui.widgets import FontError, Fonts, Layout, TextCache

log = logging.getLogger(__name__)

HELP = "run the full-screen exhibit (camera, recognition, characters, activities)"

MAX_DT = 0.25  # a stalled frame (e.g. SD card hiccup) must not make timers jump


def scene_classes() -> dict[str, type[Scene]]:
    from edge.ui.activities.breathing import BreathingScene
    from edge.ui.activities.calm import CalmScene
    from edge.ui.activities.dance import DanceScene
    from edge.ui.activities.mentor import MentorScene
    from edge.ui.activities.rorschach import RorschachScene
    from edge.ui.activities.support import SupportScene
    from edge.ui.scenes.flow import Attract, Chooser, Closing, Recognizing, Result

    classes: list[type[Scene]] = [Attract, Recognizing, Result, Chooser, Closing, DanceScene, SupportScene,
                                  BreathingScene, MentorScene, RorschachScene, CalmScene]
    return {cls.name: cls for cls in classes}


class ExhibitApp:
    def __init__(self, config: ExhibitConfig, vision: VisionSource, *, screen_size: tuple[int, int] | None = None,
                 headless: bool = False, clock: Callable[[], float] = time.monotonic,
                 heartbeat: Callable[[], None] | None = None,
                 on_decision: Callable[[Decision], None] | None = None):
        self.config = config
        self.vision = vision
        self.clock = clock
        self.heartbeat = heartbeat
        self.on_decision = on_decision
        self.headless = headless
        pygame.init()
        if headless:
            self.screen = pygame.Surface(screen_size or (800, 480))
        else:
            flags = pygame.FULLSCREEN if config.fullscreen else 0
            size = screen_size or ((0, 0) if config.fullscreen else (800, 480))
            self.screen = pygame.display.set_mode(size, flags)
            pygame.display.set_caption("Emotions in Action")
            if config.fullscreen:
                pygame.mouse.set_visible(False)  # a touchscreen kiosk shows no pointer
        self.layout = Layout(self.screen.get_size())
        self.fonts = Fonts()
        self.text_cache = TextCache(self.fonts)
        overrides = {lang: {"ui.attract.privacy": text} for lang, text in config.privacy_notice.items() if text}
        content_root = config.content_path or CONTENT_DIR
        check_content(content_root)  # refuse to start rather than stop mid-visit on a missing text
        self.content = Content(config.language, root=content_root, overrides=overrides)
        self.music = MusicPlayer(config.music_volume)
        self.classes = scene_classes()
        self.high_scores: dict[str, int] = {}  # date → the day's best dance score (memory only, nothing personal)
        self.exit_code: int | None = None
        self.stopped_by_signal = ""
        self.pending: list[pygame.event.Event] = []
        self.last_activity = clock()
        self.failures = 0
        self._rng = np.random.default_rng()  # fresh blots and choreography every visit
        self.scene: Scene = self.classes["attract"](self)
        self._enter(self.scene)

    # --- scene management
    @property
    def state_name(self) -> str:
        return self.scene.name

    def go(self, name: str, **kwargs: Any) -> None:
        """Switch scene (a failing constructor returns to Attract)."""
        try:
            scene = self.classes[name](self, **kwargs)
        except Exception:  # noqa: BLE001 - any scene bug must bring the visitor home, not crash the exhibit
            log.exception("scene %s failed to start; back to attract", name)
            scene = self.classes["attract"](self)
        self.scene = scene
        self._enter(scene)

    def _enter(self, scene: Scene) -> None:
        self._guard(scene.enter)
        track = scene.music
        self.music.play(TRACK_FOR.get(track, track) if track else None)

    def _guard(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
            self.failures = 0
        except (ContentError, FontError):
            raise  # broken data files are a configuration error, reported by main()
        except Exception:  # noqa: BLE001 - a scene failure logs and returns to Attract instead of crashing
            log.exception("scene %s failed; back to attract", self.scene.name)
            self.failures += 1
            if self.failures > 5:
                raise
            self.scene = self.classes["attract"](self)
            self._enter(self.scene)

    def toggle_language(self) -> None:
        self.content.toggle()

    def set_language(self, lang: str) -> None:
        if lang in LANGUAGES:
            self.content.lang = lang

    def decision_made(self, decision: Decision) -> None:
        if self.on_decision is not None:
            try:
                self.on_decision(decision)
            except Exception:  # noqa: BLE001 - statistics must never break the visitor's experience
                log.exception("on_decision callback failed")

    def new_seed(self) -> int:
        return int(self._rng.integers(0, 2**31 - 1))

    def high_score(self) -> int:
        return self.high_scores.get(time.strftime("%Y-%m-%d"), 0)

    def record_score(self, score: int) -> bool:
        """Keep the day's high score; True when `score` is a new record."""
        day = time.strftime("%Y-%m-%d")
        if score > self.high_scores.get(day, 0):
            self.high_scores = {day: score}
            return True
        return False

    # --- input
    def inject(self, event: pygame.event.Event) -> None:
        """Queue an event for the next step (tests, the GPIO thread, the kiosk)."""
        self.pending.append(event)

    def tap_button(self, action: str) -> bool:
        """Tap the on-screen button with this action (tests and scripted demos); False when absent."""
        for button in self.scene.buttons:
            if button.action == action:
                self.inject(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=button.rect.center))
                return True
        return False

    def _events(self) -> list[pygame.event.Event]:
        events, self.pending = self.pending, []
        if pygame.display.get_init() and not self.headless:
            events += pygame.event.get()
        return events

    def _handle(self, event: pygame.event.Event) -> None:
        if event.type == pygame.QUIT:
            self.exit_code = 0
            return
        action = translate(event)
        if action is None:
            return
        self.last_activity = self.clock()
        if action.kind == "quit":
            self.exit_code = 0
            return
        if action.kind == "language":
            self.toggle_language()
            return
        self._guard(self.scene.handle, action)

    # --- the loop
    def step(self, dt: float) -> None:
        """One iteration: input, idle check, update, draw."""
        dt = max(0.0, min(MAX_DT, dt))
        for event in self._events():
            self._handle(event)
            if self.exit_code is not None:
                return
        now = self.clock()
        _, result = live_view(self.vision)  # a lost camera's last face is nobody in front of it
        if result is not None and result.face_count:
            self.last_activity = now  # a visitor in front of the camera is not idle
        if self.scene.name != "attract" and now - self.last_activity > self.config.idle_timeout_s:
            log.info("idle for %.0f s in %s; back to attract", now - self.last_activity, self.scene.name)
            self.last_activity = now
            self.go("attract")
        self._guard(self.scene.update, dt)
        self.render()

    def render(self) -> pygame.Surface:
        self._guard(self.scene.draw, self.screen)
        if not self.headless:
            pygame.display.flip()
        return self.screen

    def run(self, max_seconds: float | None = None) -> int:
        """The main loop at the configured FPS cap; returns the exit code (0 after the staff combination)."""
        self.vision.start()
        gpio = GpioButton() if not self.headless else None
        # `systemctl stop` sends SIGTERM: finish the frame, stop camera and music, exit 0 (not killed mid-draw).
        previous_sigterm = None
        if threading.current_thread() is threading.main_thread():
            previous_sigterm = signal.signal(signal.SIGTERM, self._on_sigterm)
        start = last = self.clock()
        budget = 1.0 / max(1, self.config.fps_cap)
        try:
            while self.exit_code is None:
                now = self.clock()
                self.step(now - last)
                last = now
                if self.heartbeat is not None:
                    self.heartbeat()
                if max_seconds is not None and self.clock() - start >= max_seconds:
                    break
                spent = time.monotonic() - now if self.clock is time.monotonic else 0.0
                if spent < budget:
                    time.sleep(budget - spent)  # the FPS cap leaves the CPU to the vision pipeline
        finally:
            if previous_sigterm is not None:
                signal.signal(signal.SIGTERM, previous_sigterm)
            self.vision.stop()
            self.music.stop()
            if gpio is not None:
                gpio.close()
        return self.exit_code or 0

    def _on_sigterm(self, _signum: int, _frame: object) -> None:
        log.info("SIGTERM: stopping")
        self.stopped_by_signal = "SIGTERM"  # how the run ended, for `emotions soak`'s verdict
        self.exit_code = 0


# --- the `emotions run` command -------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", default=None, help="camera or video: auto, picamera2, 0, /dev/video0, a file")
    parser.add_argument("--windowed", action="store_true", help="run in an 800×480 window instead of full-screen")
    parser.add_argument("--lang", choices=LANGUAGES, default=None, help="start language (default: the config's)")
    parser.add_argument("--config", type=Path, default=None, help="exhibit configuration TOML file")
    parser.add_argument("--content-dir", type=Path, default=None, metavar="DIR",
                        help="folder with the pl/ and en/ text files (default: the config's content_dir, else the "
                        "bundled texts)")
    parser.add_argument("--screenshots", type=Path, default=None, metavar="DIR",
                        help="render every scene and activity step to PNG files in DIR and exit (no camera needed)")


def _load_config(args: argparse.Namespace) -> ExhibitConfig:
    from edge.config import load_config, resolve_config_path

    config = load_config(resolve_config_path(args.config))  # --config, $EMOTIONS_CONFIG, /etc/emotions/...
    changes: dict[str, Any] = {}
    if args.lang:
        changes["language"] = args.lang
    if args.windowed:
        changes["fullscreen"] = False
    if args.source:
        changes["source"] = args.source
    if getattr(args, "content_dir", None):
        changes["content_dir"] = str(args.content_dir)
    return dataclasses.replace(config, **changes) if changes else config


def make_vision(config: ExhibitConfig, loop: bool = False, pace: bool = False) -> VisionSource:
    """The real pipeline for `config` (lazy imports: OpenCV, the camera and the model runtime).
    A bundled or given video loops when `loop`; `pace` plays it at its own frame rate."""
    from edge.camera.sources import parse_source
    from edge.classify import DEFAULT_MODEL, Classifier, ClassifierOptions
    from edge.pipeline import Pipeline

    classifier = Classifier(ClassifierOptions(model=config.model_path or DEFAULT_MODEL, threads=config.threads))
    return Pipeline(parse_source(config.source, loop=loop, pace=pace), classifier, detector=config.detector)


HEADLESS_DRIVERS = ("dummy", "offscreen")  # SDL falls back to offscreen when there is no display at all


def source_label(vision: VisionSource) -> str:
    """What the status line calls the source: "demo video" / "video ok" / "camera lost"... (a video is not a camera)."""
    from edge.camera.sources import DEMO_VIDEO, ImageFolder, VideoFile

    source, state = getattr(vision, "source", None), vision.state.value
    if isinstance(source, VideoFile) and source.path == DEMO_VIDEO:
        return "demo video" if state == "ok" else f"demo video {state}"
    if isinstance(source, (VideoFile, ImageFolder)):
        return f"video {state}"
    return f"camera {state}"


def _with_status_log(beat: Callable[[], None], get_app: Callable[[], ExhibitApp], vision: VisionSource,
                     every_s: float = 10.0) -> Callable[[], None]:
    """Heartbeat wrapper that logs scene, camera state, faces and the smoothed expression every `every_s`
    (only labels and numbers: nothing about the image)."""
    from edge.labels import EMOTIONS

    state = {"since": time.monotonic(), "frames": 0}

    def tick() -> None:
        beat()
        state["frames"] += 1
        now = time.monotonic()
        if now - state["since"] < every_s:
            return
        _, result = live_view(vision)
        seen = "no face"
        if result is not None and result.smoothed is not None:
            top = int(result.smoothed.argmax())
            seen = f"{result.face_count} face(s), looks {EMOTIONS[top]} {result.smoothed[top]:.2f}"
        log.info("headless: scene %s, %s, %s, %.0f FPS", get_app().state_name, source_label(vision), seen,
                 state["frames"] / (now - state["since"]))
        state.update(since=now, frames=0)

    return tick


def main(args: argparse.Namespace) -> int:
    try:
        config = _load_config(args)
        if args.screenshots is not None:
            from edge.ui.screenshots import render_all

            os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
            count = render_all(args.screenshots, config)
            print(f"wrote {count} screenshots to {args.screenshots}")
            return 0
        try:
            vision = make_vision(config, loop=True, pace=True)
        except ImportError as err:
            print(f"emotions run: error: the vision pipeline is not available ({err})", file=sys.stderr)
            return 2
        from edge.kiosk import watchdog

        on_decision = None
        if config.statistics:
            from edge.kiosk.stats import StatsRecorder

            on_decision = StatsRecorder(config.statistics_path).on_decision
        beat = watchdog.default().loop_callback()
        app = ExhibitApp(config, vision, heartbeat=beat, on_decision=on_decision)
        driver = pygame.display.get_driver() if pygame.display.get_init() else "none"
        if driver in HEADLESS_DRIVERS:  # no screen to look at: say what the exhibit sees
            log.info("no display (SDL video driver %s): status every 10 s on stderr", driver)
            app.heartbeat = _with_status_log(beat, lambda: app, vision)
        try:
            return app.run()
        finally:
            watchdog.stopping()
    except (ContentError, FontError, RuntimeError, OSError, pygame.error) as err:
        print(f"emotions run: error: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # noqa: BLE001 - e.g. edge.config.ConfigError: one line, no traceback
        if type(err).__name__.endswith("Error") and type(err).__module__.startswith("edge"):
            print(f"emotions run: error: {err}", file=sys.stderr)
            return 2
        raise
